"""Behaviour of the estimators as scikit-learn transformers: API, errors,
determinism, pickling and compile-cache reuse."""

import os
import pickle
import warnings

import jax
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, ContractiveAE, DenoisingAE, SparseAE
from skae import _base
from skae._kernels import train
from skae.datasets import make_curve

FAST = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
ALL = [
    AutoencoderTransformer(**FAST),
    SparseAE(**FAST),
    ContractiveAE(**FAST, contraction=0.3),
    DenoisingAE(**FAST, noise_level=0.2),
]
ids = [type(est).__name__ for est in ALL]


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture
def X():
    return np.random.RandomState(0).normal(size=(60, 5))


@pytest.mark.parametrize("est", ALL, ids=ids)
def test_methods_shapes_and_dtypes(est, X):
    est = clone(est).fit(X)
    for dtype in (np.float64, np.float32):
        codes = est.transform(X.astype(dtype))
        assert codes.shape == (60, 2) and codes.dtype == dtype
        recon = est.inverse_transform(codes)
        assert recon.shape == (60, 5) and recon.dtype == dtype
    assert_allclose(est.fit_transform(X), est.transform(X))
    scores = est.score_samples(X)
    assert scores.shape == (60,) and np.all(scores <= 0)
    assert est.score(X) == pytest.approx(scores.mean())
    assert est.n_features_in_ == 5
    assert 1 <= est.n_iter_ <= 20 and len(est.loss_curve_) == est.n_iter_
    assert est.loss_ == est.loss_curve_[-1] and est.best_loss_ == min(est.loss_curve_)
    assert all(isinstance(a, np.ndarray) for a in (*est.coefs_, *est.intercepts_))
    prefix = type(est).__name__.lower()
    assert_array_equal(est.get_feature_names_out(), [f"{prefix}0", f"{prefix}1"])


def test_score_samples_ranks_outliers():
    rng = np.random.RandomState(0)
    z = rng.normal(size=(300, 1))
    X = np.hstack([z, 2 * z, -z]) + 0.01 * rng.normal(size=(300, 3))
    est = AutoencoderTransformer(1, **FAST).fit(X)
    outlier = np.array([[1.0, -2.0, 1.0]])
    assert est.score_samples(outlier)[0] < np.min(est.score_samples(X))


@pytest.mark.parametrize("est", ALL, ids=ids)
def test_same_seed_same_result_through_clone_and_pickle(est, X):
    first = clone(est).fit(X)
    second = clone(est).fit(X)
    assert_array_equal(first.transform(X), second.transform(X))
    restored = pickle.loads(pickle.dumps(first))
    assert_array_equal(first.transform(X), restored.transform(X))
    assert_array_equal(first.inverse_transform(first.transform(X)),
                       restored.inverse_transform(restored.transform(X)))


def test_other_seed_other_result(X):
    a = AutoencoderTransformer(**{**FAST, "random_state": 0}).fit(X)
    b = AutoencoderTransformer(**{**FAST, "random_state": 1}).fit(X)
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])


@pytest.mark.parametrize("est", ALL, ids=ids)
def test_fitted_state_is_plain_numpy(est, X):
    est = clone(est).fit(X)
    payload = pickle.dumps(est)
    assert b"jax" not in payload
    for value in vars(est).values():
        arrays = value if isinstance(value, list) else [value]
        for a in arrays:
            assert not type(a).__module__.startswith("jax")


def test_set_output_pandas(X):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    est = AutoencoderTransformer(**FAST).set_output(transform="pandas").fit(df)
    out = est.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["autoencodertransformer0", "autoencodertransformer1"]
    assert_array_equal(est.feature_names_in_, df.columns)


def test_early_stopping_records_validation_loss_and_keeps_best(X):
    est = AutoencoderTransformer(**{**FAST, "max_iter": 40}, early_stopping=True,
                                 validation_fraction=0.2, solver="adam").fit(X)
    assert len(est.validation_scores_) == est.n_iter_
    assert np.all(np.isfinite(est.validation_scores_))
    assert est.best_validation_loss_ <= min(est.validation_scores_)


def test_lbfgs_validation_in_the_batch_matches_a_separate_validation_pass(monkeypatch):
    # Full-batch L-BFGS reads the validation error off the line search's own
    # forward pass; a separate pass over the held-out rows gives the same
    # figures. The two runs differ only in float summation order (the
    # in-batch one optimises one more, inert, entry), so their trajectories
    # agree closely over the first iterations.
    X = np.random.RandomState(0).normal(size=(300, 6))
    X[:, 1] = np.sin(2 * X[:, 0])
    params = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=15, random_state=0)
    configs = []
    original_train = train.train

    def spy(config, *args, **kwargs):
        configs.append(config)
        return original_train(config, *args, **kwargs)

    monkeypatch.setattr(train, "train", spy)
    in_batch = AutoencoderTransformer(**params).fit(X)
    monkeypatch.setattr(train, "validates_in_batch", lambda *args: False)
    separate = AutoencoderTransformer(**params).fit(X)
    assert [c.validation_in_batch for c in configs] == [True, False]
    assert in_batch.validation_scores_ is not None
    assert_allclose(in_batch.validation_scores_, separate.validation_scores_, rtol=1e-3)
    assert in_batch.best_validation_loss_ == pytest.approx(separate.best_validation_loss_,
                                                           rel=1e-3)
    assert_allclose(in_batch.transform(X), separate.transform(X), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("n_rows, n_features", [(200, 30), (30, 200)], ids=["tall", "wide"])
def test_principal_axes_are_pcas_components(n_rows, n_features):
    # Tall data decompose the features' covariance, wide data the rows'
    # inner products; both give PCA's leading axes, up to sign.
    from sklearn.decomposition import PCA

    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_rows, 6)) @ rng.normal(size=(6, n_features))
    X += 0.01 * rng.normal(size=X.shape)
    axes = _base.principal_axes((X - X.mean(0)).astype(np.float32), 4)
    assert axes.shape == (4, n_features) and axes.dtype == np.float32
    components = PCA(4).fit(X).components_
    assert_allclose(np.abs(np.sum(axes * components, axis=1)), 1.0, atol=1e-5)


def test_principal_axes_stop_at_the_directions_with_variance():
    # 8 centred rows span at most 7 directions, whatever is asked for.
    X = np.random.RandomState(0).normal(size=(8, 50))
    axes = _base.principal_axes((X - X.mean(0)).astype(np.float32), 20)
    assert axes.shape == (7, 50)
    assert_allclose(axes @ axes.T, np.eye(7), atol=1e-5)


def test_fit_ends_with_the_exact_output_layer_unless_validation_prefers_the_trained_one():
    # Without held-out rows the output layer is the closed-form best one for
    # the trained rest of the network, on every (scaled) row; a denoiser's
    # is left as trained. With held-out rows, on linear data where training
    # keeps the PCA start, the exact layer's L2 shrinkage would add error,
    # so the validation rows keep the start's.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 6))
    X[:, 1] = np.sin(2 * X[:, 0])
    settings = {"n_components": 2, "hidden_layer_sizes": (8,), "max_iter": 5,
                "random_state": 0, "early_stopping": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = AutoencoderTransformer(**settings).fit(X)
        denoiser = DenoisingAE(**settings, solver="lbfgs").fit(X)

    def exact_output_layer(est):
        x = ((X - est.mean_) / est.scale_).astype(np.float32)
        exact = train.with_exact_output_layer(est._spec, est._network_params(np.float32), x,
                                              np.ones(len(x)), est.alpha)
        return exact["decoder"][-1][0], exact["linear"][1]

    W_out, T = exact_output_layer(plain)
    assert_allclose(plain.coefs_[-1], W_out, rtol=1e-4, atol=1e-6)
    assert_allclose(plain.linear_coefs_[1], T, rtol=1e-4, atol=1e-6)
    assert not np.allclose(denoiser.coefs_[-1], exact_output_layer(denoiser)[0], atol=1e-3)

    line = np.outer(rng.normal(size=400), rng.normal(size=6))
    held_out = AutoencoderTransformer(1, random_state=0).fit(line)
    assert held_out.validation_scores_ is not None
    assert not held_out.coefs_[-1].any()  # the start's nonlinear output layer: zero
    assert held_out.best_validation_loss_ < 1e-10


@pytest.mark.parametrize("n_components, n_start", [(1, 1), (2, 1), (3, 2), (4, 2)])
def test_lbfgs_starts_from_half_the_principal_axes_and_must_beat_all_of_them(n_components,
                                                                               n_start):
    X = np.random.RandomState(0).normal(size=(200, 6)).astype(np.float32)
    axes = _base.principal_axes(X - X.mean(0), n_components)
    est = AutoencoderTransformer(n_components, solver="lbfgs")
    start, fallback = est._init_params(X - X.mean(0), np.random.RandomState(0))
    S, T = start["linear"]
    assert_allclose(np.abs(S[:, :n_start].T @ axes[:n_start].T), np.eye(n_start), atol=1e-5)
    assert not S[:, n_start:].any() and not T[n_start:].any()
    if n_start == n_components:
        assert fallback is None
    else:
        assert_allclose(fallback["linear"][0], axes.T, atol=1e-6)
        for a, b in zip(jax.tree.leaves(fallback["encoder"]), jax.tree.leaves(start["encoder"])):
            assert_array_equal(a, b)
    # Adam and a denoiser start from every axis, with nothing to beat.
    for other in (AutoencoderTransformer(n_components, solver="adam"),
                  DenoisingAE(n_components, solver="lbfgs")):
        start, fallback = other._init_params(X - X.mean(0), np.random.RandomState(0))
        assert fallback is None
        assert_allclose(np.abs(start["linear"][0].T @ axes.T), np.eye(n_components), atol=1e-5)


def test_early_stopping_never_ends_worse_than_the_pca_start():
    # Pure noise: nothing generalises, so the PCA starting point should be
    # kept (or something at least as good on the validation rows).
    rng = np.random.RandomState(0)
    X_train, X_test = rng.normal(size=(400, 10)), rng.normal(size=(400, 10))
    est = AutoencoderTransformer(5, random_state=0).fit(X_train)  # "auto": 40 validation rows
    assert est.validation_scores_ is not None
    from sklearn.decomposition import PCA

    pca = PCA(5).fit(X_train)
    pca_mse = np.mean((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2)
    assert -est.score(X_test) <= 1.05 * pca_mse


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_early_stopping_keeps_the_start_when_every_step_is_worse(solver):
    # An L2 term this strong pulls every weight, the PCA path's too, towards
    # zero, so each step reconstructs the validation rows worse than the PCA
    # start. L-BFGS measures the start's validation error in its first
    # iteration, Adam in a separate pass; both must keep the start, whose
    # last encoder and decoder layers are exactly zero.
    X = np.random.RandomState(0).normal(size=(300, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = AutoencoderTransformer(2, hidden_layer_sizes=(8,), solver=solver, alpha=1e4,
                                     max_iter=20, early_stopping=True, random_state=0).fit(X)
    assert est.n_iter_ == 20
    assert est.best_validation_loss_ < min(est.validation_scores_)
    code_layer, output_layer = est.coefs_[1], est.coefs_[-1]
    assert not code_layer.any() and not output_layer.any()


def test_early_stopping_auto_needs_twenty_validation_rows():
    small = AutoencoderTransformer(**FAST).fit(np.random.rand(190, 3))
    large = AutoencoderTransformer(**FAST).fit(np.random.rand(200, 3))
    assert small.validation_scores_ is None and small.best_validation_loss_ is None
    assert large.validation_scores_ is not None


def test_data_smaller_than_a_batch_still_trains():
    X = np.random.RandomState(0).normal(size=(5, 3))
    est = AutoencoderTransformer(1, hidden_layer_sizes=(4,), solver="adam", batch_size=64,
                                 max_iter=5, random_state=0).fit(X)
    assert est.n_iter_ == 5
    assert not np.allclose(est.coefs_[0], AutoencoderTransformer(
        1, hidden_layer_sizes=(4,), solver="adam", batch_size=64, max_iter=1,
        random_state=0).fit(X).coefs_[0])


def test_warm_start_continues(X):
    est = AutoencoderTransformer(**{**FAST, "max_iter": 5}, warm_start=True).fit(X)
    loss_before = est.loss_
    est.fit(X)
    assert est.loss_curve_[0] <= loss_before * 1.01


def test_warm_start_keeps_training_a_well_trained_network():
    # A warm start begins with an empty curvature memory, so L-BFGS steps
    # along the raw gradient, and near a trained network's minimum only very
    # short steps lower the loss. A line search that gives up too soon left
    # this loss unchanged to the last digit, step after step.
    X = StandardScaler().fit_transform(make_curve(1000, random_state=0))
    est = AutoencoderTransformer(1, random_state=0, max_iter=300).fit(X)
    est.set_params(warm_start=True, max_iter=20).fit(X)
    assert est.n_iter_ == 20
    assert est.loss_curve_[-1] < 0.998 * est.loss_curve_[0]


def test_every_lbfgs_iteration_takes_a_step(X):
    # warm_start with max_iter=1 is a hand-made training loop: each call steps.
    est = AutoencoderTransformer(**{**FAST, "max_iter": 1}, solver="lbfgs", warm_start=True)
    losses = [est.fit(X).loss_ for _ in range(3)]
    assert losses[0] > losses[1] > losses[2]


@pytest.mark.parametrize("est", ALL, ids=ids)
def test_a_fit_past_the_parameter_limit_trains_with_the_smaller_memory(est):
    # The trainer builds its L-BFGS state in one program and steps it in
    # another: both must size the memory alike, for every variant's
    # parameters (ContractiveAE trains at its exact code width, the others
    # pad it; DenoisingAE redraws its noise every step).
    X = np.random.RandomState(0).normal(size=(40, 1000)).astype(np.float32)
    est = clone(est).set_params(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=3)
    est.fit(X)
    layers = zip(est.coefs_, est.intercepts_, strict=True)
    n_params = sum(W.size + b.size for W, b in layers)
    n_params += sum(a.size for a in est.linear_coefs_ or ())
    assert train.lbfgs_memory(n_params) == train.LBFGS_WIDE_MEMORY
    assert est.n_iter_ == 3
    assert np.all(np.isfinite(est.loss_curve_))


@pytest.mark.parametrize("change", [{"n_components": 3}, {"hidden_layer_sizes": (6,)},
                                    {"n_features": 4}], ids=["width", "hidden", "features"])
def test_warm_start_with_another_architecture_says_so(X, change):
    est = AutoencoderTransformer(**{**FAST, "max_iter": 2}, warm_start=True).fit(X)
    n_features = change.pop("n_features", X.shape[1])
    est.set_params(**change)
    with pytest.raises(ValueError, match="warm_start=True continues from the previous fit"):
        est.fit(X[:, :n_features])
    est.set_params(warm_start=False).fit(X[:, :n_features])  # starting afresh works


def test_verbose_prints_progress(X, capsys):
    AutoencoderTransformer(**{**FAST, "max_iter": 3}, verbose=True).fit(X)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Iteration 3, loss = " in out
    assert "validation" not in out
    AutoencoderTransformer(**{**FAST, "max_iter": 60}, verbose=True, early_stopping=True,
                           tol=0.0).fit(np.random.RandomState(0).rand(40, 5))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 60  # across two chunks of the compiled loop
    assert lines[-1].startswith("Iteration 60, loss = ") and "validation MSE = " in lines[-1]


def test_convergence_warning_when_max_iter_is_hit(X):
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        AutoencoderTransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)


def test_fitting_and_transforming_leave_global_jax_settings_alone():
    before = dict(jax.config.values), os.environ.get("XLA_FLAGS")
    X = np.random.RandomState(0).normal(size=(5000, 5))
    for est in ALL:
        fitted = clone(est).fit(X[:200])
        fitted.inverse_transform(fitted.transform(X.astype(np.float32)))  # jitted path
        fitted.transform(X)  # NumPy path
    assert (dict(jax.config.values), os.environ.get("XLA_FLAGS")) == before


def global_setting(name, value):
    """JAX's setting ``name`` switched to ``value`` (for the duration), as a
    user might have set it for their own work."""
    if name == "enable_x64" and not hasattr(jax, "enable_x64"):  # jax before 0.5
        from jax.experimental import enable_x64

        return enable_x64(value)
    return getattr(jax, name)(value)


USER_SETTINGS = [
    ("enable_x64", True),
    ("numpy_dtype_promotion", "strict"),
    ("numpy_rank_promotion", "raise"),
    ("debug_nans", True),
    ("debug_infs", True),
    ("default_prng_impl", "rbg"),
    ("threefry_partitionable", False),
    ("transfer_guard", "disallow"),
    ("disable_jit", True),
]
# Settings that JAX's cache of compiled programs does not tell apart: the
# test clears the cache before fitting under them, so the programs are
# traced anew under the setting, as in a fresh process.
NOT_IN_THE_CACHE_KEY = {"default_prng_impl"}


@pytest.mark.parametrize("name, value", USER_SETTINGS, ids=[name for name, _ in USER_SETTINGS])
def test_global_jax_settings_change_no_result(name, value, X):
    # Both solvers, and random corruption (which draws noise).
    estimators = [clone(ALL[0]), clone(ALL[3]).set_params(solver="adam")]
    X_big = np.random.RandomState(1).normal(size=(5000, 5)).astype(np.float32)  # jitted path
    for est in estimators:
        expected = clone(est).fit(X)
        if name in NOT_IN_THE_CACHE_KEY:
            jax.clear_caches()
        with global_setting(name, value):
            fitted = clone(est).fit(X)
            codes, codes_big = fitted.transform(X), fitted.transform(X_big)
            reconstruction_big = fitted.inverse_transform(codes_big)
        assert_array_equal(codes, expected.transform(X))
        assert codes_big.dtype == reconstruction_big.dtype == np.float32
        assert_array_equal(codes_big, expected.transform(X_big))
        assert_array_equal(reconstruction_big, expected.inverse_transform(codes_big))


# --- bad input ---------------------------------------------------------------

def test_unfitted_use_raises():
    est = AutoencoderTransformer()
    for method in (est.transform, est.inverse_transform, est.score_samples, est.score):
        with pytest.raises(NotFittedError):
            method(np.zeros((3, 2)))
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0], [1.0, 1.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [1.0, 1.0]]), ValueError, "infinity"),
        (np.zeros((0, 3)), ValueError, "0 sample"),
        (np.arange(5.0), ValueError, "Reshape your data"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert|string"),
        (np.array([[1 + 1j, 2], [3, 4]]), ValueError, "Complex data not supported"),
        (sp.csr_matrix(np.eye(4)), TypeError, "Sparse data"),
    ],
    ids=["nan", "inf", "empty", "1d", "strings", "complex", "sparse"],
)
def test_bad_input_at_fit(bad, error, match):
    with pytest.raises(error, match=match):
        AutoencoderTransformer(1, **FAST).fit(bad)


def test_wrong_width_at_transform_and_inverse_transform(X):
    est = AutoencoderTransformer(**FAST).fit(X)
    message = "X has 4 features, but AutoencoderTransformer is expecting 5"
    with pytest.raises(ValueError, match=message):
        est.transform(X[:, :4])
    with pytest.raises(ValueError, match="X has 3 features.*expecting 2 features"):
        est.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        est.transform(np.full((2, 5), np.nan))


@pytest.mark.parametrize(
    "codes, match",
    [
        (np.array([[1.0, np.nan]]), "Input X contains NaN"),
        (np.zeros((0, 2)), "0 sample.*required by AutoencoderTransformer"),
        (np.ones(2), "Reshape your data"),
    ],
    ids=["nan", "empty", "1d"],
)
def test_bad_codes_at_inverse_transform(X, codes, match):
    est = AutoencoderTransformer(**FAST).fit(X)
    with pytest.raises(ValueError, match=match):
        est.inverse_transform(codes)


def test_n_components_larger_than_features():
    with pytest.raises(ValueError, match="n_components=6 must be at most n_features=5"):
        AutoencoderTransformer(6, **FAST).fit(np.random.rand(20, 5))
    # Overcomplete codes are SparseAE's business and allowed there.
    codes = SparseAE(6, **FAST).fit(np.random.rand(20, 5)).transform(np.random.rand(3, 5))
    assert codes.shape == (3, 6)


def test_too_small_validation_set():
    with pytest.raises(ValueError, match="leaves 1 validation and 9 training rows.*larger"):
        AutoencoderTransformer(**FAST, early_stopping=True, validation_fraction=0.1).fit(
            np.random.rand(10, 3))


def test_validation_set_leaving_no_training_rows():
    with pytest.raises(ValueError, match="leaves 10 validation and 0 training rows.*smaller"):
        AutoencoderTransformer(**FAST, early_stopping=True, validation_fraction=0.99).fit(
            np.random.rand(10, 3))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes"),
        ({"activation": "swish"}, "activation"),
        ({"solver": "sgd"}, "solver"),
        ({"n_components": 0}, "n_components"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(**{**FAST, **params}).fit(np.random.rand(20, 5))


def test_constant_columns_work():
    X = np.random.RandomState(0).normal(size=(50, 4))
    X[:, 1] = 7.0
    est = AutoencoderTransformer(**FAST).fit(X)
    recon = est.inverse_transform(est.transform(X))
    assert np.all(np.isfinite(recon))
    assert_allclose(recon[:, 1], 7.0, atol=1e-6)
    all_constant = AutoencoderTransformer(**FAST).fit(np.full((10, 3), 2.0))
    codes = all_constant.transform(np.full((2, 3), 2.0))
    assert_allclose(all_constant.inverse_transform(codes), 2.0)


@pytest.mark.parametrize("est", ALL, ids=ids)
def test_the_size_of_the_values_changes_nothing_across_float64s_range(est):
    # Values beyond float32's range train as well: only the centred and
    # scaled data reach float32. A gaussian noise level is in the units of X.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 4)) @ rng.normal(size=(4, 4))
    reference = clone(est).fit(X)
    expected = reference.inverse_transform(reference.transform(X))
    for size in (1e-300, 1e-20, 1e20, 1e300):
        scaled = clone(est)
        if isinstance(est, DenoisingAE):
            scaled.set_params(noise_level=est.noise_level * size)
        scaled.fit(X * size)
        reconstruction = scaled.inverse_transform(scaled.transform(X * size)) / size
        assert_allclose(reconstruction, expected, rtol=0, atol=1e-5 * np.abs(X).max())


def test_adam_trains_with_and_without_shuffling():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    settings = dict(hidden_layer_sizes=(8,), solver="adam", batch_size=32, max_iter=10,
                    early_stopping=False, random_state=0)
    in_order = AutoencoderTransformer(shuffle=False, **settings).fit(X)
    shuffled = AutoencoderTransformer(shuffle=True, **settings).fit(X)
    for est in (in_order, shuffled):
        assert est.loss_curve_[-1] < est.loss_curve_[0]
    # Same start, different minibatches: the weights part ways.
    assert not np.allclose(in_order.coefs_[0], shuffled.coefs_[0])
    again = AutoencoderTransformer(shuffle=False, **settings).fit(X)
    np.testing.assert_array_equal(again.transform(X), in_order.transform(X))


def test_divergence_is_reported():
    X = np.random.RandomState(0).normal(size=(64, 4))
    with pytest.raises(ValueError, match="Training diverged"):
        AutoencoderTransformer(hidden_layer_sizes=(8,), solver="adam", activation="relu",
                               learning_rate_init=1e12, max_iter=50, random_state=0).fit(X)


# --- compilation reuse -------------------------------------------------------

def compiled_programs():
    return train.train_chunk._cache_size()


def test_refits_on_similar_sizes_and_new_hyperparameters_reuse_the_trainer():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(320, 6))
    base = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0, solver="adam")
    AutoencoderTransformer(**base).fit(X)
    before = compiled_programs()
    # CV-fold-like sizes (one padding bucket), and grids over traced
    # hyperparameters.
    for n in (290, 300, 310, 319):
        AutoencoderTransformer(**base).fit(X[:n])
    for alpha in (0.0, 0.1, 1.0):
        AutoencoderTransformer(**base, alpha=alpha).fit(X)
    for lr in (1e-2, 1e-4):
        AutoencoderTransformer(**base, learning_rate_init=lr).fit(X)
    AutoencoderTransformer(**{**base, "max_iter": 17}).fit(X)
    assert compiled_programs() == before


def test_search_over_small_n_components_compiles_one_trainer():
    # A GridSearchCV over n_components {1, 2, 3} on iris-sized data: folds
    # of 120 rows and the refit on 150 share a row bucket, and the code layer
    # is padded to one width, so every fit after the first reuses its
    # program.
    from sklearn.model_selection import GridSearchCV

    X = np.random.RandomState(0).normal(size=(150, 4))
    search = GridSearchCV(AutoencoderTransformer(hidden_layer_sizes=(8,), max_iter=5,
                                                 random_state=0),
                          {"n_components": [1, 2, 3]}, cv=5)
    search.fit(X[:100])  # compile whatever this shape needs
    before = compiled_programs()
    search.fit(X)
    assert compiled_programs() == before
    assert search.best_estimator_.coefs_[1].shape == (8, search.best_params_["n_components"])


@pytest.mark.parametrize("est", ALL, ids=ids)
def test_threaded_search_gives_the_sequential_results(est):
    # joblib's threading backend runs the fits in threads of one process,
    # concurrently and on shared compiled programs (the documented way to
    # parallelise a search); every fit must come out as it does alone.
    from joblib import parallel_config
    from sklearn.model_selection import GridSearchCV

    X = np.random.RandomState(0).normal(size=(150, 4))

    def search(n_jobs):
        return GridSearchCV(clone(est), {"n_components": [1, 2, 3]}, cv=5,
                            n_jobs=n_jobs).fit(X)

    sequential = search(n_jobs=None)
    with parallel_config(backend="threading"):
        threaded = search(n_jobs=4)
    for fold in range(5):
        key = f"split{fold}_test_score"
        assert_array_equal(threaded.cv_results_[key], sequential.cv_results_[key])
    assert_array_equal(threaded.best_estimator_.transform(X),
                       sequential.best_estimator_.transform(X))


def test_contractive_trains_at_its_exact_code_width():
    # The Jacobian penalty's cost grows with the code width, so unlike the
    # others ContractiveAE is not padded: each n_components has its program.
    X = np.random.RandomState(0).normal(size=(100, 6))
    ContractiveAE(**FAST, n_components=3).fit(X)
    before = compiled_programs()
    ContractiveAE(**FAST, n_components=3).fit(X[:90])
    assert compiled_programs() == before
    assert ContractiveAE(**FAST, n_components=2).fit(X).transform(X).shape == (100, 2)
    assert compiled_programs() == before + 1
    AutoencoderTransformer(**FAST, n_components=3).fit(X)
    before = compiled_programs()
    AutoencoderTransformer(**FAST, n_components=2).fit(X)
    assert compiled_programs() == before


@pytest.mark.parametrize(
    "make, grid",
    [
        (lambda v: SparseAE(**FAST, sparsity_weight=v), (0.0, 1.0, 5.0)),
        (lambda v: ContractiveAE(**FAST, contraction=v), (0.0, 0.1, 1.0)),
        (lambda v: DenoisingAE(**FAST, noise_level=v), (0.0, 0.1, 0.5)),
    ],
    ids=["sparsity_weight", "contraction", "noise_level"],
)
def test_grid_over_a_variant_weight_reuses_the_trainer(make, grid):
    X = np.random.RandomState(0).normal(size=(100, 5))
    make(grid[0]).fit(X)
    before = compiled_programs()
    for value in grid[1:]:
        make(value).fit(X)
    assert compiled_programs() == before


def test_transform_of_many_sizes_compiles_at_most_one_program():
    from skae._kernels import network

    est = AutoencoderTransformer(**FAST).fit(np.random.rand(40, 5))
    trainers, encoders = compiled_programs(), network.encode_block._cache_size()
    sizes = list(range(1, 41)) + [4096, 5000, 8191, 9000, 20_000, 33_333, 4097, 6000, 7000, 12_345]
    for n in sizes:  # small ones take the NumPy path, large float32 ones the jitted path
        assert est.transform(np.random.rand(n, 5).astype(np.float32)).shape == (n, 2)
    assert compiled_programs() == trainers
    assert network.encode_block._cache_size() <= encoders + 1


@pytest.mark.parametrize("est", ALL, ids=ids)
def test_jitted_and_numpy_inference_agree(est):
    X = np.random.RandomState(0).normal(size=(5000, 5)).astype(np.float32)
    est = clone(est).fit(X[:300])
    codes_np, codes_jit = est._encode(X, use_jit=False), est._encode(X, use_jit=True)
    assert codes_jit.dtype == np.float32 and codes_jit.shape == codes_np.shape
    np.testing.assert_allclose(codes_jit, codes_np, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(est._decode(codes_np, use_jit=True),
                               est._decode(codes_np, use_jit=False), rtol=1e-5, atol=1e-5)
    # The measured choice: jitted for float32 from one block (4096 rows) up,
    # NumPy for smaller inputs and for float64.
    assert est._use_jit_inference(X)
    assert not est._use_jit_inference(X[:4000])
    assert not est._use_jit_inference(X.astype(np.float64))
    np.testing.assert_allclose(est.transform(X), codes_np, rtol=1e-5, atol=1e-5)
