"""What each regularised variant does, measured on held-out digits.

Prints the figures that ``tests/test_variants.py`` asserts: SparseAE's mean
code activation against its target, ContractiveAE's encoder Jacobian norm and
reconstruction against the same network without the penalty, and
DenoisingAE's error on corrupted rows against the plain autoencoder and PCA,
and with L-BFGS or early stopping against the default (Adam, no early
stopping).

    python benchmarks/variants.py
"""

import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer, ContractiveAE, DenoisingAE, SparseAE

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from test_variants import corrupted, mean_jacobian_norm, reconstruction_mse  # noqa: E402


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X = load_digits().data / 16.0
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)

    sparse = SparseAE(128, random_state=0).fit(X_train)
    dense = SparseAE(128, sparsity_weight=0.0, random_state=0).fit(X_train)
    codes, dense_codes = sparse.transform(X_test), dense.transform(X_test)
    print(f"SparseAE k=128: mean activation {codes.mean():.4f} (target 0.05), "
          f"{np.mean(codes > 0.5):.2%} of activations above 0.5; without the penalty "
          f"{dense_codes.mean():.3f} and {np.mean(dense_codes > 0.5):.2%}")

    settings = dict(hidden_layer_sizes=(), alpha=0.0, max_iter=300, random_state=0)
    plain = ContractiveAE(16, contraction=0.0, **settings).fit(X_train)
    contractive = ContractiveAE(16, contraction=0.1, **settings).fit(X_train)
    j_plain, j_cae = mean_jacobian_norm(plain, X_test), mean_jacobian_norm(contractive, X_test)
    m_plain = reconstruction_mse(plain, X_test, X_test)
    m_cae = reconstruction_mse(contractive, X_test, X_test)
    print(f"ContractiveAE k=16: mean ||J||_F {j_cae:.3f} against {j_plain:.3f} without the "
          f"penalty (ratio {j_cae / j_plain:.2f}); MSE {m_cae:.4f} against {m_plain:.4f} "
          f"(ratio {m_cae / m_plain:.2f})")

    autoencoder = AutoencoderTransformer(32, random_state=0).fit(X_train)
    pca = PCA(32).fit(X_train)
    for noise in ("gaussian", "masking"):
        X_noisy = corrupted(X_test, noise)
        dae = DenoisingAE(32, noise=noise, noise_level=0.3, random_state=0).fit(X_train)
        dae_lbfgs = DenoisingAE(32, noise=noise, noise_level=0.3, solver="lbfgs",
                                random_state=0).fit(X_train)
        dae_stopped = DenoisingAE(32, noise=noise, noise_level=0.3, early_stopping=True,
                                  random_state=0).fit(X_train)
        m_dae, m_lbfgs, m_stopped = (reconstruction_mse(m, X_noisy, X_test)
                                     for m in (dae, dae_lbfgs, dae_stopped))
        print(f"DenoisingAE k=32, {noise} 0.3: MSE to the clean rows {m_dae:.4f} "
              f"(solver='lbfgs': {m_lbfgs:.4f}, ratio {m_lbfgs / m_dae:.2f}; "
              f"early_stopping=True: {m_stopped:.4f} after {dae_stopped.n_iter_} iterations); "
              f"AutoencoderTransformer {reconstruction_mse(autoencoder, X_noisy, X_test):.4f}; "
              f"PCA(32) {reconstruction_mse(pca, X_noisy, X_test):.4f}; noisy input "
              f"{np.mean((X_noisy - X_test) ** 2):.4f}")


if __name__ == "__main__":
    main()
