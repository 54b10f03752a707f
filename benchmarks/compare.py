"""PCA against autoencoders on the reference data sets: tables and figures.

For every data set and bottleneck width ``k`` it fits, on 80% of the rows,
PCA, KernelPCA (rbf, ``fit_inverse_transform=True``), MLPRegressor fitted
X -> X, and the four skae estimators, then reports the reconstruction MSE on
the held-out 20% and the fit time. On iris and digits it also reports the
5-fold accuracy of a LogisticRegression on each method's codes, and runs a
GridSearchCV over ``n_components`` in a StandardScaler -> reducer ->
LogisticRegression pipeline with PCA and with AutoencoderTransformer.

Writes ``results.md`` and PNG figures (if matplotlib is installed) to
``--out`` (default ``benchmarks/results``).

    python benchmarks/compare.py          # quick mode: a few minutes on 2 cores
    python benchmarks/compare.py --full   # all sizes and widths
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits, load_iris
from sklearn.decomposition import PCA, KernelPCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, ContractiveAE, DenoisingAE, SparseAE
from skae.datasets import make_curve, make_linear, make_noise

SEED = 0
VARIANTS = ("SparseAE", "ContractiveAE", "DenoisingAE")


class MLPAutoencoder:
    """MLPRegressor fitted X -> X; its bottleneck code is read off the
    hidden layer of width k, so it can transform like the others."""

    def __init__(self, n_components, hidden=(32, 32)):
        self.n_components = n_components
        self.hidden = hidden

    def fit(self, X, y=None):
        layers = (*self.hidden, self.n_components, *reversed(self.hidden))
        self.mlp_ = MLPRegressor(hidden_layer_sizes=layers, solver="lbfgs", max_iter=500,
                                 random_state=SEED)
        self.mlp_.fit(X, X)
        return self

    def _forward(self, h, layers):
        for i in layers:
            h = h @ self.mlp_.coefs_[i] + self.mlp_.intercepts_[i]
            h = np.maximum(h, 0)  # MLPRegressor's default relu on hidden layers
        return h

    def transform(self, X):
        return self._forward(X, range(len(self.hidden) + 1))

    def inverse_transform(self, codes):
        n_enc = len(self.hidden) + 1
        h = self._forward(codes, range(n_enc, len(self.mlp_.coefs_) - 1))
        return h @ self.mlp_.coefs_[-1] + self.mlp_.intercepts_[-1]

    def get_params(self, deep=True):
        return {"n_components": self.n_components, "hidden": self.hidden}

    def set_params(self, **params):
        for name, value in params.items():
            setattr(self, name, value)
        return self


def methods():
    """(name, factory of a reducer with ``n_components=k``)."""
    return {
        "PCA": lambda k: PCA(k),
        "KernelPCA": lambda k: KernelPCA(k, kernel="rbf", fit_inverse_transform=True,
                                         random_state=SEED),
        "MLPRegressor": lambda k: MLPAutoencoder(k),
        "AutoencoderTransformer": lambda k: AutoencoderTransformer(k, random_state=SEED),
        "SparseAE": lambda k: SparseAE(k, random_state=SEED),
        "ContractiveAE": lambda k: ContractiveAE(k, random_state=SEED),
        "DenoisingAE": lambda k: DenoisingAE(k, random_state=SEED),
    }


def data_sets(full):
    """(name, X, y or None, widths k): standardized, digits in [0, 1].

    In quick mode the three regularised variants run at the first width
    listed (the data set's headline width) only.
    """
    iris = load_iris()
    digits = load_digits()
    standardize = StandardScaler().fit_transform
    yield "iris", standardize(iris.data), iris.target, (2, 1, 3)
    yield ("curve", standardize(make_curve(10_000 if full else 3_000, random_state=SEED)),
           None, (1, 2, 3) if full else (1, 2))
    yield "linear", standardize(make_linear(random_state=SEED)), None, (1, 2) if full else (1,)
    yield ("linear+offset", standardize(make_linear(offset=True, random_state=SEED)), None,
           (2, 1, 3) if full else (2, 1))
    yield "noise", make_noise(random_state=SEED), None, (5, 2, 8) if full else (5,)
    yield ("digits", digits.data / 16.0, digits.target,
           (10, 2, 5, 20, 32) if full else (10, 2))


def heldout_mse(model, X_test):
    return float(np.mean((X_test - model.inverse_transform(model.transform(X_test))) ** 2))


def code_accuracy(make, X, y):
    """5-fold accuracy of a LogisticRegression on the codes."""
    pipe = make_pipeline(make(), LogisticRegression(max_iter=2000))
    return float(np.mean(cross_val_score(pipe, X, y, cv=5)))


def run_reconstruction(full, skip_slow):
    rows, models = [], {}
    for name, X, y, widths in data_sets(full):
        X_train, X_test = train_test_split(X, test_size=0.2, random_state=SEED)
        for k in sorted(widths):
            for method, make in methods().items():
                if skip_slow and method == "MLPRegressor" and len(X_train) > 500:
                    continue
                if skip_slow and method in VARIANTS and k != widths[0]:
                    continue
                if method == "SparseAE" and name not in ("iris", "digits"):
                    continue  # sigmoid codes for classification features, not compression
                start = time.perf_counter()
                model = make(k).fit(X_train)
                seconds = time.perf_counter() - start
                mse = heldout_mse(model, X_test)
                accuracy = None
                if y is not None and k == 2:
                    accuracy = code_accuracy(lambda: make(k), X, y)
                rows.append(dict(data=name, k=k, method=method, mse=mse, seconds=seconds,
                                 accuracy=accuracy))
                models[name, k, method] = model
                print(f"{name:14s} k={k:<2d} {method:22s} MSE {mse:.4g}  fit {seconds:6.2f} s"
                      + (f"  accuracy {accuracy:.3f}" if accuracy is not None else ""),
                      flush=True)
    return rows, models


def run_grid_searches():
    results = []
    for name, loader in [("iris", load_iris), ("digits", load_digits)]:
        X, y = loader(return_X_y=True)
        grid = [1, 2, 3] if name == "iris" else [2, 5, 10]
        reducers = [("PCA", PCA()),
                    ("AutoencoderTransformer", AutoencoderTransformer(random_state=SEED))]
        for label, reducer in reducers:
            pipe = make_pipeline(StandardScaler(), reducer, LogisticRegression(max_iter=2000))
            param = f"{type(reducer).__name__.lower()}__n_components"
            start = time.perf_counter()
            search = GridSearchCV(pipe, {param: grid}, cv=5).fit(X, y)
            seconds = time.perf_counter() - start
            results.append(dict(data=name, method=label, best_k=search.best_params_[param],
                                accuracy=search.best_score_, seconds=seconds,
                                scores=search.cv_results_["mean_test_score"], grid=grid))
            print(f"GridSearchCV {name:7s} {label:22s} best k={results[-1]['best_k']} "
                  f"accuracy {search.best_score_:.3f}  {seconds:.1f} s", flush=True)
    return results


def markdown(rows, searches, wall):
    pca = {(r["data"], r["k"]): r["mse"] for r in rows if r["method"] == "PCA"}
    out = ["# PCA against autoencoders", "",
           "Held-out reconstruction MSE (20% of rows; standardized data, digits in [0, 1]),",
           "its ratio to PCA's (below 1: better than PCA), fit time, and for iris and digits",
           "the 5-fold accuracy of a LogisticRegression on the 2-D codes.", "",
           "| data | k | method | held-out MSE | / PCA | fit (s) | accuracy on codes |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        base = pca[r["data"], r["k"]]
        ratio = f"{r['mse'] / base:.3g}" if base > 1e-12 else "(PCA exact)"
        accuracy = "" if r["accuracy"] is None else f"{r['accuracy']:.3f}"
        out.append(f"| {r['data']} | {r['k']} | {r['method']} | {r['mse']:.4g} | {ratio} "
                   f"| {r['seconds']:.2f} | {accuracy} |")
    out += ["", "## Choosing n_components with GridSearchCV", "",
            "StandardScaler -> reducer -> LogisticRegression, 5-fold CV accuracy.", "",
            "| data | reducer | grid | best k | best accuracy | search time (s) |",
            "|---|---|---|---|---|---|"]
    for s in searches:
        out.append(f"| {s['data']} | {s['method']} | {s['grid']} | {s['best_k']} "
                   f"| {s['accuracy']:.3f} | {s['seconds']:.1f} |")
    out += ["", f"Total wall time: {wall:.0f} s.", ""]
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="all sizes and widths (slow)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    start = time.perf_counter()
    rows, models = run_reconstruction(args.full, skip_slow=not args.full)
    searches = run_grid_searches()
    args.out.mkdir(parents=True, exist_ok=True)
    report = markdown(rows, searches, time.perf_counter() - start)
    (args.out / "results.md").write_text(report)
    print("\n" + report)
    if not args.no_figures:
        try:
            import figures
        except ImportError as error:  # matplotlib is an optional extra
            print(f"Figures skipped ({error}); pip install 'skae[benchmarks]' for them.")
        else:
            for path in figures.draw_all(rows, models, searches, args.out):
                print(f"Figure written to {path}")
    print(f"Report written to {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
