"""Reconstruction quality against PCA on the reference data sets (held-out rows)."""

import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae.datasets import make_curve, make_linear, make_noise


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def heldout_mse(model, X_test):
    return np.mean((X_test - model.inverse_transform(model.transform(X_test))) ** 2)


def split(X):
    return train_test_split(X, test_size=0.2, random_state=0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_iris_no_worse_than_pca(iris_split, k):
    X_train, X_test = iris_split
    pca = heldout_mse(PCA(k).fit(X_train), X_test)
    ae = heldout_mse(AutoencoderTransformer(k, random_state=0).fit(X_train), X_test)
    assert ae <= 1.05 * pca
    if k == 2:
        assert ae <= pca


def test_iris_one_component_beats_mlpregressor_on_the_median_seed(iris_split):
    # Curved enough for the nonlinear part to pay: at least as good as
    # MLPRegressor (lbfgs) fitted X -> X, the best alternative measured
    # (0.079). Judged on the median of five seeds: single seeds spread from
    # 0.068 to 0.091, and which of them lands high moves with float32
    # rounding (seed 0 gave 0.0719 with jax 0.10 and 0.0829 with jax 0.4.36);
    # the median was 0.0719 and 0.0739.
    X_train, X_test = iris_split
    errors = [heldout_mse(AutoencoderTransformer(1, random_state=seed).fit(X_train), X_test)
              for seed in range(5)]
    assert np.median(errors) <= 0.079


def test_curve_one_component_beats_pca_and_a_hand_written_loop():
    # The reference set at full size: on 3,000 rows the default fit's
    # held-out MSE varies around 0.0055 from seed to seed (median of seeds
    # 10-39), so one seed's figure there would pass or fail by chance; on
    # 10,000 rows each of seeds 0-9 stays below 0.0045.
    X_train, X_test = split(StandardScaler().fit_transform(make_curve(10_000, random_state=0)))
    pca = heldout_mse(PCA(1).fit(X_train), X_test)
    ae = heldout_mse(AutoencoderTransformer(1, random_state=0).fit(X_train), X_test)
    assert ae <= 0.1 * pca
    # A Keras loop (3 x 100 ReLU, Adam, early stopping) reaches 0.0057.
    assert ae <= 0.0057


def test_curve_two_components_undo_the_crossing_of_the_pca_projection():
    # Projected on two principal axes, the curve crosses itself. Training
    # from one axis, with the second code unit free, undoes that on most
    # seeds (held-out MSE 7e-6 to 4e-5 on 6 of seeds 0-9, 3.7e-4 to 7.4e-4
    # on the others); from both axes, 2 of 10 seeds got below 1e-4 and seeds
    # 0-2 stayed at 2.4e-4 to 4.7e-4. The best of three must reach the
    # hand-written PyTorch loop's 6e-5, and none may be worse than 1% of
    # PCA's error.
    X_train, X_test = split(StandardScaler().fit_transform(make_curve(10_000, random_state=0)))
    pca = heldout_mse(PCA(2).fit(X_train), X_test)
    errors = [heldout_mse(AutoencoderTransformer(2, random_state=seed).fit(X_train), X_test)
              for seed in range(3)]
    assert min(errors) <= 6e-5
    assert max(errors) <= 0.01 * pca


@pytest.mark.parametrize("offset, k", [(False, 1), (True, 2)], ids=["linear", "linear+offset"])
@pytest.mark.parametrize("scaled", [True, False], ids=["standardized", "raw"])
def test_linear_sets_are_reconstructed_exactly(offset, k, scaled):
    X = make_linear(offset=offset, random_state=0)
    if scaled:
        X = StandardScaler().fit_transform(X)
    X_train, X_test = split(X)
    est = AutoencoderTransformer(k, random_state=0).fit(X_train)
    recon = est.inverse_transform(est.transform(X_test))
    assert np.all(np.isfinite(recon))
    relative_error = np.sum((X_test - recon) ** 2) / np.sum(X_test**2)
    assert relative_error < 1e-4


@pytest.mark.parametrize("seed", [0, 2])
def test_lbfgs_does_not_stall_without_the_pca_start(seed):
    # ContractiveAE (sigmoid code, no PCA path) with more code units than
    # the data's 2 dimensions: with these seeds L-BFGS's line search once
    # found no decrease and training stopped at MSE 0.88 or 0.69 with a
    # constant loss. Resetting the curvature memory lets it converge.
    from skae import ContractiveAE

    X_train, X_test = split(StandardScaler().fit_transform(make_linear(offset=True,
                                                                       random_state=0)))
    est = ContractiveAE(3, random_state=seed).fit(X_train)
    assert heldout_mse(est, X_test) < 0.01
    assert est.loss_curve_[-1] < 0.1 * est.loss_curve_[0]


@pytest.mark.parametrize("k, seed", [(2, 6), (5, 3)])
def test_incompressible_noise_stays_at_pca(k, seed):
    # Nothing nonlinear to learn: early stopping must keep the PCA start (or
    # a model no worse on held-out rows). The seeds are the worst of 0-9
    # (1.023x and 1.017x PCA); trained to the end, the network fits the
    # noise and reaches 1.2x (k=2) and 2.0x (k=5).
    X_train, X_test = split(make_noise(random_state=0))
    pca = heldout_mse(PCA(k).fit(X_train), X_test)
    ae = heldout_mse(AutoencoderTransformer(k, random_state=seed).fit(X_train), X_test)
    assert ae <= 1.05 * pca


def flat_plus_noise(n_features, n_samples=150, seed=1):
    """``min(5, n_features // 2)``-dimensional Gaussian structure mapped
    linearly to ``n_features`` columns, plus N(0, 0.5^2) noise: nothing
    nonlinear to learn. Returns the rows and the structure's rank."""
    rng = np.random.default_rng(seed)
    rank = min(5, n_features // 2)
    latent = rng.normal(size=(n_samples, rank))
    mixing = rng.normal(size=(rank, n_features)) / np.sqrt(rank)
    return latent @ mixing + 0.5 * rng.normal(size=(n_samples, n_features)), rank


def curved_plus_noise(n_features, n_samples=150, seed=1):
    """A 2-D latent ``z ~ U(-2, 2)`` through ``[z, sin 2z, z^2]`` mapped
    linearly to ``n_features`` columns, plus N(0, 0.1^2) noise. Returns the
    rows and the latent dimension, 2."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(-2, 2, size=(n_samples, 2))
    features = np.column_stack([z, np.sin(2 * z), z**2])
    mixing = rng.normal(size=(features.shape[1], n_features)) / np.sqrt(features.shape[1])
    return features @ mixing + 0.1 * rng.normal(size=(n_samples, n_features)), 2


@pytest.mark.parametrize("n_features", [20, 100])
def test_small_wide_flat_data_is_judged_on_held_out_rows(n_features):
    # 150 rows leave 12 validation rows, too few on their own; 12 rows of
    # 20 or more features hold enough values to judge a fit. Without them
    # the network fits the noise: 2.0x (20 features) and 1.3x (100) PCA.
    X, k = flat_plus_noise(n_features)
    X_train, X_test = split(X)
    pca = heldout_mse(PCA(k).fit(X_train), X_test)
    ae = AutoencoderTransformer(k, random_state=0).fit(X_train)
    assert ae.validation_scores_ is not None
    assert heldout_mse(ae, X_test) <= 1.05 * pca  # measured 1.03 and 1.01


def test_small_wide_curved_data_still_beats_pca():
    # The held-out rows cost curved data some of its gain (seeds 0-4:
    # 0.32-0.63x PCA, against 0.14-0.32x trained on every row), not all.
    X, k = curved_plus_noise(20)
    X_train, X_test = split(X)
    pca = heldout_mse(PCA(k).fit(X_train), X_test)
    assert heldout_mse(AutoencoderTransformer(k, random_state=0).fit(X_train), X_test) <= 0.7 * pca


def test_small_narrow_data_trains_on_every_row(iris_split):
    # 12 validation rows of 4 features judge too noisily: on iris they cost
    # more than they save (k=2: 0.94x PCA on every row, up to 1.13x held out).
    X_train, _ = iris_split
    fitted = AutoencoderTransformer(2, max_iter=5, random_state=0).fit(X_train)
    assert fitted.validation_scores_ is None


def test_unscaled_linear_set_no_worse_than_twice_pca():
    X_train, X_test = split(make_linear(offset=True, random_state=0))
    pca = heldout_mse(PCA(1).fit(X_train), X_test)
    ae = heldout_mse(AutoencoderTransformer(1, random_state=0).fit(X_train), X_test)
    assert np.isfinite(ae) and ae <= 2 * pca


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "silu", "tanh"])
def test_every_nonlinear_activation_leaves_the_pca_start(iris_split, activation):
    # Iris with one component is curved enough for each of them to pay
    # (0.27-0.31x PCA; sigmoid 0.49-0.67x over five seeds). Sigmoid hidden
    # layers started with scikit-learn's smaller logistic bound stayed at
    # exactly PCA's error.
    X_train, X_test = iris_split
    pca = heldout_mse(PCA(1).fit(X_train), X_test)
    ae = heldout_mse(AutoencoderTransformer(1, activation=activation, random_state=0)
                     .fit(X_train), X_test)
    assert ae <= 0.75 * pca


@pytest.mark.parametrize("k", [1, 2, 3])
def test_identity_activation_matches_pca(iris_split, k):
    X_train, X_test = iris_split
    pca = heldout_mse(PCA(k).fit(X_train), X_test)
    ae = heldout_mse(AutoencoderTransformer(k, activation="identity", random_state=0)
                     .fit(X_train), X_test)
    assert ae == pytest.approx(pca, rel=0.02)


def test_grid_search_in_a_classifier_pipeline_matches_pca():
    from joblib import parallel_config
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)

    def search(reducer, name):
        pipe = Pipeline([("scale", StandardScaler()), (name, reducer),
                         ("clf", LogisticRegression(max_iter=1000))])
        # Threads share the compiled trainer (the user guide's advice);
        # worker processes would each compile their own.
        with parallel_config(backend="threading"):
            return GridSearchCV(pipe, {f"{name}__n_components": [1, 2, 3]}, cv=5,
                                n_jobs=2).fit(X, y)

    ae = search(AutoencoderTransformer(random_state=0), "ae")
    pca = search(PCA(), "pca")
    assert ae.best_score_ >= pca.best_score_ - 0.02
    assert ae.best_estimator_.predict(X).shape == (150,)


def test_grid_search_without_y_uses_score(iris_split):
    X_train, _ = iris_split
    search = GridSearchCV(AutoencoderTransformer(hidden_layer_sizes=(16,), max_iter=50,
                                                 random_state=0),
                          {"n_components": [1, 2, 3]}, cv=3).fit(X_train)
    # Reconstruction always prefers the widest bottleneck, as the docs warn.
    assert search.best_params_ == {"n_components": 3}
    assert np.all(np.diff(search.cv_results_["mean_test_score"]) > 0)
