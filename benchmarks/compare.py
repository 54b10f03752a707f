"""PCA against autoencoders on the reference data sets.

Fits every method on 80% of each data set and prints the reconstruction MSE
on the held-out 20%, with fit times; writes a Markdown report to
``--out`` (default ``benchmarks/results``).

    python benchmarks/compare.py          # quick mode, a few minutes
    python benchmarks/compare.py --full   # every data set, size and method
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits, load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae.datasets import make_curve

SEED = 0


def data_sets(full):
    """(name, X, n_components to try), standardized or in [0, 1]."""
    iris = StandardScaler().fit_transform(load_iris().data)
    curve = StandardScaler().fit_transform(make_curve(10_000 if full else 4_000, random_state=SEED))
    yield "iris", iris, (1, 2, 3)
    yield "curve", curve, (1, 2)


def heldout_mse(model, X_test):
    return float(np.mean((X_test - model.inverse_transform(model.transform(X_test))) ** 2))


def methods(k):
    yield "PCA", lambda: PCA(n_components=k)
    yield "AutoencoderTransformer", lambda: AutoencoderTransformer(n_components=k, random_state=SEED)


def run(full):
    rows = []
    for name, X, ks in data_sets(full):
        X_train, X_test = train_test_split(X, test_size=0.2, random_state=SEED)
        for k in ks:
            for method, make in methods(k):
                start = time.perf_counter()
                model = make().fit(X_train)
                seconds = time.perf_counter() - start
                rows.append((name, k, method, heldout_mse(model, X_test), seconds))
                print(f"{name:8s} k={k} {method:24s} test MSE {rows[-1][3]:.4g}  fit {seconds:.2f} s",
                      flush=True)
    return rows


def markdown(rows):
    lines = ["| data | k | method | held-out MSE | MSE / PCA | fit time (s) |",
             "|---|---|---|---|---|---|"]
    pca = {(r[0], r[1]): r[3] for r in rows if r[2] == "PCA"}
    for name, k, method, mse, seconds in rows:
        ratio = mse / pca[name, k] if pca[name, k] > 0 else float("nan")
        lines.append(f"| {name} | {k} | {method} | {mse:.4g} | {ratio:.3g} | {seconds:.2f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="all data sets at full size")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    rows = run(args.full)
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown(rows)
    (args.out / "results.md").write_text(table)
    print("\n" + table)
    print(f"Report written to {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
