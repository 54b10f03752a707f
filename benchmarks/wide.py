"""Default full-batch fits on wide data: time per L-BFGS step, fit time, quality.

Synthetic rows driven by a 5-D latent through a random ``tanh`` map, plus
noise of standard deviation 0.3, at 500, 2,000 and 5,000 features; 80% of
the rows train ``AutoencoderTransformer(n_components=5)`` with default
settings, 20% measure the held-out MSE (PCA's alongside). "step ms" is the
compiled time per L-BFGS iteration (as in ``step_cost.py``), "fit s" a whole
warm fit of ``random_state`` 0 and 1.

Wide inputs make L-BFGS's curvature memory large (20 pairs of vectors as
long as the parameter count); beyond ``train.LBFGS_MEMORY_MAX_PARAMS``
parameters the trainer keeps 10. ``--wide-memory 20`` runs the same table
with 20 pairs there, for comparison.

    python benchmarks/wide.py
    python benchmarks/wide.py --wide-memory 20
"""

import argparse
import time
import warnings

import numpy as np
from jax.flatten_util import ravel_pytree
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from defaults import heldout_mse
from skae import AutoencoderTransformer
from skae._kernels import train
from step_cost import seconds_per_iteration, trained_network

SHAPES = [(1875, 500), (1875, 2000), (1250, 5000)]  # rows before the 80/20 split
LATENT = 5


def wide_data(n_samples, n_features, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n_samples, LATENT))
    signal = np.tanh(z @ rng.normal(size=(LATENT, n_features)) / 2)
    return (signal + 0.3 * rng.normal(size=(n_samples, n_features))).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wide-memory", type=int, default=train.LBFGS_WIDE_MEMORY,
                        help="L-BFGS pairs kept beyond LBFGS_MEMORY_MAX_PARAMS parameters")
    args = parser.parse_args()
    train.LBFGS_WIDE_MEMORY = args.wide_memory  # before anything is compiled
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"{'rows x features':>16s} {'params':>7s} {'pairs':>5s} {'step ms':>7s} "
          f"{'PCA MSE':>8s} {'seed':>4s} {'MSE':>8s} {'iters':>5s} {'fit s':>6s}")
    for n_samples, n_features in SHAPES:
        X_train, X_test = train_test_split(wide_data(n_samples, n_features), test_size=0.2,
                                           random_state=0)
        step = seconds_per_iteration(X_train, LATENT)
        pca = heldout_mse(PCA(LATENT).fit(X_train), X_test)
        for seed in (0, 1):
            start = time.perf_counter()
            model = AutoencoderTransformer(LATENT, random_state=seed).fit(X_train)
            seconds = time.perf_counter() - start
            n_params = ravel_pytree(trained_network(model, n_features))[0].size
            print(f"{f'{len(X_train)} x {n_features}':>16s} {n_params:7d} "
                  f"{train.lbfgs_memory(n_params):5d} {step * 1e3:7.1f} {pca:8.4f} {seed:4d} "
                  f"{heldout_mse(model, X_test):8.5f} {model.n_iter_:5d} {seconds:6.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
