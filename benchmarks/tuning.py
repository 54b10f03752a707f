"""What a small cross-validated search over ``alpha`` gains over the default.

``alpha``, the weight penalty, is the setting on which the reference data
sets disagree: the digits images generalise better with a stronger penalty
than the default's, the low-noise curve fits closer with a weaker one, and
iris does best at the default. For each row of ``defaults.py`` (same data,
same 80/20 split) this script runs ``GridSearchCV`` over ``alpha`` in
``ALPHAS`` (3 folds, scored by the estimator's own ``score``, minus the
reconstruction MSE), which refits the chosen ``alpha`` on all training rows,
and prints its held-out MSE beside the default fit's and PCA's.

Every ``alpha`` shares one compiled program (it is a traced value, not part
of the program), so the search's time is that of its fits: 10 of them for 3
values and 3 folds. The programs for the folds' and the refit's row counts
are compiled before the timer starts, so "search s" is warm; compiling adds
about 1 to 1.5 s per row on a 2-core CPU. ``--seeds`` repeats each row with
``random_state`` 0..seeds-1 and shows the worst ratio to PCA.

    python benchmarks/tuning.py
    python benchmarks/tuning.py --only digits --seeds 3
"""

import argparse
import time
import warnings

from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from defaults import ROWS, heldout_mse, load
from skae import AutoencoderTransformer

#: A decade either side of the default ``alpha``.
ALPHAS = [0.01, 0.1, 1.0]
FOLDS = 3


def search(k, seed, X_train):
    """The fitted ``GridSearchCV`` over ``ALPHAS`` and its time in seconds."""
    grid = GridSearchCV(AutoencoderTransformer(k, random_state=seed), {"alpha": ALPHAS}, cv=FOLDS)
    start = time.perf_counter()
    grid.fit(X_train)
    return grid, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help="random_state 0..seeds-1")
    parser.add_argument("--only", default="", help="run rows whose data name contains this")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"{'data':14s} {'k':>2s} {'seed':>4s} {'PCA MSE':>9s} {'default':>9s} "
          f"{'searched':>9s} {'alpha':>6s} {'/default':>8s} {'/PCA':>6s} {'search s':>8s}")
    for name, k in ROWS:
        if args.only not in name:
            continue
        X_train, X_test = train_test_split(load(name), test_size=0.2, random_state=0)
        pca = heldout_mse(PCA(k).fit(X_train), X_test)
        # Compile the folds' program; the default fit below compiles the refit's.
        AutoencoderTransformer(k, max_iter=1).fit(X_train[: len(X_train) * (FOLDS - 1) // FOLDS])
        worst = 0.0
        for seed in range(args.seeds):
            default = heldout_mse(AutoencoderTransformer(k, random_state=seed).fit(X_train), X_test)
            grid, seconds = search(k, seed, X_train)
            searched = heldout_mse(grid.best_estimator_, X_test)
            worst = max(worst, searched / pca)
            print(f"{name:14s} {k:2d} {seed:4d} {pca:9.3g} {default:9.3g} {searched:9.3g} "
                  f"{grid.best_params_['alpha']:6g} {searched / default:8.3f} "
                  f"{searched / pca:6.3g} {seconds:8.2f}", flush=True)
        if args.seeds > 1:
            print(f"{'':14s} {'':2s} worst searched / PCA over {args.seeds} seeds: {worst:.3g}")


if __name__ == "__main__":
    main()
