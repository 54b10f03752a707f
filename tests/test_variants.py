"""Each variant does what it exists for, measured on held-out digits."""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer, ContractiveAE, DenoisingAE, SparseAE
from skae._kernels import penalties


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def reconstruction_mse(model, X_in, X_clean):
    return np.mean((X_clean - model.inverse_transform(model.transform(X_in))) ** 2)


def test_sparse_codes_hit_the_target_activation(digits_split):
    X_train, X_test = digits_split
    sparse = SparseAE(128, sparsity_target=0.05, sparsity_weight=3.0, random_state=0).fit(X_train)
    dense = SparseAE(128, sparsity_weight=0.0, random_state=0).fit(X_train)
    codes, dense_codes = sparse.transform(X_test), dense.transform(X_test)
    assert codes.shape == (len(X_test), 128)  # overcomplete: 128 > 64 pixels
    assert abs(codes.mean() - 0.05) < 0.02
    assert np.mean(codes > 0.5) < 0.25 * np.mean(dense_codes > 0.5)
    assert dense_codes.mean() > 0.2


def mean_jacobian_norm(model, X):
    """Mean Frobenius norm of d transform / d X over the rows of X."""
    xs = jnp.asarray((X - model.mean_) / model.scale_, dtype=jnp.float32)
    sq = penalties.encoder_jacobian_frobenius_sq(model._spec, model._network_params(np.float32), xs)
    return float(np.mean(np.sqrt(np.asarray(sq)))) / model.scale_


def test_contraction_halves_the_jacobian_at_little_reconstruction_cost(digits_split):
    X_train, X_test = digits_split
    # alpha=0: the baseline is the unregularised network, so the only
    # difference between the two models is the contractive term.
    settings = dict(hidden_layer_sizes=(), alpha=0.0, max_iter=300, random_state=0)
    plain = ContractiveAE(16, contraction=0.0, **settings).fit(X_train)
    contractive = ContractiveAE(16, contraction=0.1, **settings).fit(X_train)
    assert mean_jacobian_norm(contractive, X_test) <= 0.5 * mean_jacobian_norm(plain, X_test)
    assert reconstruction_mse(contractive, X_test, X_test) <= 1.5 * reconstruction_mse(
        plain, X_test, X_test)


@pytest.mark.parametrize("noise", ["gaussian", "masking"])
def test_denoising_beats_plain_autoencoder_and_pca_on_noisy_rows(digits_split, noise):
    X_train, X_test = digits_split
    rng = np.random.RandomState(1)
    if noise == "gaussian":
        noisy = np.clip(X_test + 0.3 * rng.normal(size=X_test.shape), 0.0, 1.0)
    else:
        noisy = np.where(rng.rand(*X_test.shape) < 0.3, 0.0, X_test)
    denoiser = DenoisingAE(32, noise=noise, noise_level=0.3, random_state=0).fit(X_train)
    plain = AutoencoderTransformer(32, random_state=0).fit(X_train)
    pca = PCA(32).fit(X_train)
    denoised = reconstruction_mse(denoiser, noisy, X_test)
    assert denoised < reconstruction_mse(plain, noisy, X_test)
    assert denoised < reconstruction_mse(pca, noisy, X_test)


def test_denoising_never_corrupts_at_inference(digits_split):
    X_train, X_test = digits_split
    dae = DenoisingAE(8, noise="salt_pepper", noise_level=0.5, max_iter=5,
                      random_state=0).fit(X_train[:200])
    np.testing.assert_array_equal(dae.transform(X_test), dae.transform(X_test))
    assert dae.score(X_test) == dae.score(X_test)


def test_probability_noise_level_above_one_is_rejected():
    with pytest.raises(ValueError, match="noise_level=1.5 is a probability"):
        DenoisingAE(noise="masking", noise_level=1.5).fit(np.random.rand(20, 4))
