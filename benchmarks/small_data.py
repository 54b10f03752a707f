"""Small data (150 rows), flat or curved: the autoencoder against PCA,
trained on every row or judged on held-out rows.

With fewer than 20 validation rows, ``early_stopping="auto"`` holds rows out
only when they hold at least 100 values (rows times features); otherwise
only the L2 term keeps the network from fitting noise. Each row fits, on 80%
of the rows, PCA and ``AutoencoderTransformer`` with ``early_stopping`` False
and True over several seeds, prints the held-out MSE relative to PCA's
(median and worst over the seeds) and which of the two the default uses:

- "flat": ``r``-dimensional Gaussian structure (``r = min(5, d // 2)``)
  mapped linearly to ``d`` features, plus N(0, 0.5^2) noise; ``k = r``.
  Nothing nonlinear to learn, so PCA is the right model.
- "curved": a 2-D latent ``z ~ U(-2, 2)`` through ``[z, sin 2z, z^2]`` and a
  linear map to ``d`` features, plus N(0, 0.1^2) noise; ``k = 2``.
- iris (standardized) for reference.

    python benchmarks/small_data.py
    python benchmarks/small_data.py --seeds 10
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from test_quality import curved_plus_noise, flat_plus_noise, heldout_mse  # noqa: E402

N_SAMPLES = 150
WIDTHS = (6, 10, 20, 40, 100)


def data_sets():
    for kind, make in (("flat", flat_plus_noise), ("curved", curved_plus_noise)):
        for n_features in WIDTHS:
            X, k = make(n_features, N_SAMPLES)
            yield f"{kind}, {n_features} features", X, k
    iris = StandardScaler().fit_transform(load_iris().data)
    for k in (1, 2, 3):
        yield "iris", iris, k


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="skae seeds per row")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)

    print(f"{'':22s} {'':>2s} {'':>8s}   {'every row / PCA':>17s}   {'held out / PCA':>17s}")
    print(f"{'data':22s} {'k':>2s} {'PCA MSE':>8s}   {'median':>8s} {'worst':>8s}   "
          f"{'median':>8s} {'worst':>8s}   default")
    for name, X, k in data_sets():
        X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
        pca = heldout_mse(PCA(k).fit(X_train), X_test)
        ratios = {
            early_stopping: [
                heldout_mse(AutoencoderTransformer(k, early_stopping=early_stopping,
                                                   random_state=seed).fit(X_train), X_test) / pca
                for seed in range(args.seeds)
            ]
            for early_stopping in (False, True)
        }
        default = AutoencoderTransformer(k, max_iter=1).fit(X_train)
        chosen = "every row" if default.validation_scores_ is None else "held out"
        print(f"{name:22s} {k:2d} {pca:8.4f}   {np.median(ratios[False]):8.3f} "
              f"{max(ratios[False]):8.3f}   {np.median(ratios[True]):8.3f} "
              f"{max(ratios[True]):8.3f}   {chosen}", flush=True)


if __name__ == "__main__":
    main()
