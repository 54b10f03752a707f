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

With ``--iris-splits N`` it instead fits iris over N different 80/20
train/test splits (``random_state`` 0..N-1, model seed 0), where which rows
are held out matters more than the model's seed, and compares four ways to
choose a model on the training rows: the default (every row trained on),
``early_stopping=True``, keeping PCA wherever 5-fold cross-validation
prefers it, and ``GridSearchCV`` over ``alpha`` in ``ALPHAS`` (5 folds)
followed by the same comparison with PCA.

    python benchmarks/small_data.py
    python benchmarks/small_data.py --seeds 10
    python benchmarks/small_data.py --iris-splits 20
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from test_quality import curved_plus_noise, flat_plus_noise, heldout_mse  # noqa: E402

N_SAMPLES = 150
WIDTHS = (6, 10, 20, 40, 100)
ALPHAS = [0.1, 0.3, 1.0]
FOLDS = 5


def data_sets():
    for kind, make in (("flat", flat_plus_noise), ("curved", curved_plus_noise)):
        for n_features in WIDTHS:
            X, k = make(n_features, N_SAMPLES)
            yield f"{kind}, {n_features} features", X, k
    iris = StandardScaler().fit_transform(load_iris().data)
    for k in (1, 2, 3):
        yield "iris", iris, k


def pca_score(model, X, y=None):
    # PCA's own score is a log-likelihood; compare it with the autoencoders'
    # score, minus the reconstruction MSE, on the same footing.
    return -heldout_mse(model, X)


def chosen_by_cv(X_train, k):
    """The models each way of choosing on ``X_train`` alone ends with."""
    pca = PCA(k).fit(X_train)
    pca_cv = cross_val_score(PCA(k), X_train, cv=FOLDS, scoring=pca_score).mean()
    default = AutoencoderTransformer(k, random_state=0)
    search = GridSearchCV(default, {"alpha": ALPHAS}, cv=FOLDS).fit(X_train)
    default_cv = cross_val_score(default, X_train, cv=FOLDS).mean()
    return {
        "default": default.fit(X_train),
        "held out": AutoencoderTransformer(k, early_stopping=True, random_state=0).fit(X_train),
        "CV: AE or PCA": default if default_cv > pca_cv else pca,
        "alpha, or PCA": search.best_estimator_ if search.best_score_ > pca_cv else pca,
    }


def iris_over_splits(n_splits):
    iris = StandardScaler().fit_transform(load_iris().data)
    for k in (1, 2, 3):
        ratios = {}
        for split in range(n_splits):
            X_train, X_test = train_test_split(iris, test_size=0.2, random_state=split)
            pca = heldout_mse(PCA(k).fit(X_train), X_test)
            for way, model in chosen_by_cv(X_train, k).items():
                ratios.setdefault(way, []).append(heldout_mse(model, X_test) / pca)
        for way, values in ratios.items():
            print(f"iris, k={k}  {way:14s}  median {np.median(values):6.3f}  "
                  f"worst {max(values):6.3f}  above 1.05x: {sum(v > 1.05 for v in values):2d} "
                  f"of {n_splits}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="skae seeds per row")
    parser.add_argument("--iris-splits", type=int, default=0,
                        help="iris over this many train/test splits instead")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.iris_splits:
        return iris_over_splits(args.iris_splits)

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
