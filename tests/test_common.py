"""scikit-learn's own estimator checks, over every public estimator."""

import inspect
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_get_feature_names_out_error,
    check_global_output_transform_pandas,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

import skae

# Small, fast instances; each variant's own term is switched on so its code runs.
FAST = dict(hidden_layer_sizes=(8,), max_iter=5, batch_size=16)
INSTANCES = [
    skae.AutoencoderTransformer(**FAST),
    skae.SparseAE(**FAST, sparsity_weight=1.0),
    skae.ContractiveAE(**FAST, contraction=0.5),
    skae.DenoisingAE(**FAST, noise_level=0.2),
    skae.DenoisingAE(**FAST, noise="masking", noise_level=0.2),
    skae.DenoisingAE(**FAST, noise="salt_pepper", noise_level=0.2),
]

# Checks expected to fail, by estimator name, each with its reason. Empty on purpose.
EXPECTED_FAILED = {}

# An expected failure that passes should fail the run; scikit-learn 1.6, the
# oldest supported, has no such option.
STRICT = ({"xfail_strict": True}
          if "xfail_strict" in inspect.signature(parametrize_with_checks).parameters else {})

EXTRA_CHECKS = [
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_global_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    check_get_feature_names_out_error,
    check_dataframe_column_names_consistency,
]


def listed(marker):
    """A ``pytest.mark.parametrize`` marker with its parameter sets in a list.

    scikit-learn 1.6's ``parametrize_with_checks`` hands pytest a generator,
    which pytest 9 deprecates for removal in pytest 10
    (``PytestRemovedIn10Warning``); later releases pass a list already.
    """
    names, values, *rest = marker.args
    return pytest.mark.parametrize(names, list(values), *rest, **marker.kwargs)


@listed(parametrize_with_checks(
    INSTANCES,
    expected_failed_checks=lambda est: EXPECTED_FAILED.get(type(est).__name__, {}),
    **STRICT,
))
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.parametrize("estimator", INSTANCES, ids=lambda est: type(est).__name__)
@pytest.mark.parametrize("check", EXTRA_CHECKS, ids=lambda check: check.__name__)
def test_checks_not_run_by_default(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(type(estimator).__name__, estimator)
