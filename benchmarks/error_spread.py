"""How the held-out error of a default fit is spread over the held-out rows.

A held-out MSE is a mean over rows. On the curve most rows are
reconstructed almost exactly and a few rows carry most of the error: they
lie on two short stretches of the curve whose codes run into each other
(the user guide's "Training longer" says why). This script shows, for each
fit of ``defaults.py`` (same data, same 80/20 split), the held-out MSE
against PCA's, the median row's error, the share of the total error carried
by the worst 1% of held-out rows, and for the curve where along its latent
number ``z`` (from -5 to 5) the rows with errors above 100 times the median
lie.

    python benchmarks/error_spread.py
    python benchmarks/error_spread.py --only curve --seeds 5
    python benchmarks/error_spread.py --only curve --max-iter 2000 --n-iter-no-change 2000
    python benchmarks/error_spread.py --only curve --n-components 3
"""

import argparse
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from defaults import ROWS, load
from skae import AutoencoderTransformer
from skae.datasets import make_curve

#: The worst rows' share is taken over this fraction of the held-out rows.
WORST_FRACTION = 0.01
#: Rows whose error exceeds this multiple of the median row's are "outliers".
OUTLIER_FACTOR = 100.0


def row_errors(model, X):
    reconstruction = model.inverse_transform(model.transform(X))
    return np.mean((X - reconstruction) ** 2, axis=1)


def curve_latent():
    """The latent ``z`` of each row of ``load("curve")`` (the same call to
    ``make_curve``), whose second column is ``z**3`` before standardising."""
    return np.cbrt(make_curve(10_000, random_state=0)[:, 1])


def stretches(z, gap=0.1):
    """Sorted values ``z`` as ``[(start, end, count), ...]`` of runs whose
    neighbours lie closer than ``gap``."""
    z = np.sort(z)
    breaks = np.flatnonzero(np.diff(z) > gap) + 1
    return [(run[0], run[-1], len(run)) for run in np.split(z, breaks) if len(run)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="random_state 0..seeds-1")
    parser.add_argument("--only", default="", help="run rows whose data name contains this")
    parser.add_argument("--max-iter", type=int, default=None)
    parser.add_argument("--n-iter-no-change", type=int, default=None)
    parser.add_argument("--n-components", type=int, default=None,
                        help="fit this many components instead of each row's")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    settings = {name: value for name, value in (("max_iter", args.max_iter),
                                                ("n_iter_no_change", args.n_iter_no_change))
                if value is not None}

    print(f"{'data':14s} {'k':>2s} {'seed':>4s} {'MSE':>9s} {'/PCA':>7s} {'median row':>10s} "
          f"{'worst 1%':>8s} {'outliers':>8s} {'iters':>5s}  outliers' z (from, to, rows)")
    rows = [(name, args.n_components or k) for name, k in ROWS if args.only in name]
    for name, k in dict.fromkeys(rows):
        X = load(name)
        X_train, X_test, _, test_rows = train_test_split(
            X, np.arange(len(X)), test_size=0.2, random_state=0
        )
        pca = float(np.mean(row_errors(PCA(k).fit(X_train), X_test)))
        test_latent = curve_latent()[test_rows] if name == "curve" else None
        for seed in range(args.seeds):
            model = AutoencoderTransformer(k, random_state=seed, **settings).fit(X_train)
            errors = row_errors(model, X_test)
            worst = np.sort(errors)[::-1][: max(1, round(WORST_FRACTION * len(errors)))]
            median = float(np.median(errors))
            outliers = errors > OUTLIER_FACTOR * median
            where = ""
            if test_latent is not None:
                where = ", ".join(f"({lo:.2f}, {hi:.2f}, {n})"
                                  for lo, hi, n in stretches(test_latent[outliers]))
            print(f"{name:14s} {k:2d} {seed:4d} {errors.mean():9.3g} {errors.mean() / pca:7.3g} "
                  f"{median:10.3g} {worst.sum() / errors.sum():8.2f} {outliers.sum():8d} "
                  f"{model.n_iter_:5d}  {where}",
                  flush=True)


if __name__ == "__main__":
    main()
