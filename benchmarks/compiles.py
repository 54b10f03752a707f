"""How many programs JAX compiles for typical scikit-learn workloads.

* A GridSearchCV over 3 ``n_components`` x 3 ``alpha`` x 5 folds on the iris
  pipeline (46 fits): trainer programs compiled.
* 50 ``transform`` calls of 50 different row counts: new trainer and encoder
  programs.
* The same iris grid over ``n_components`` timed for skae (cold, then with
  the trainers compiled) and for MLPRegressor fitted X -> X.
* That grid with ``n_jobs=2``, each in a fresh process: skae under joblib's
  default backend (loky: worker processes, each compiling its own trainer)
  and under its threading backend (threads of one process, sharing its
  compiled programs), and MLPRegressor under loky; the first search, then
  the same search again.

    python benchmarks/compiles.py
"""

import json
import subprocess
import sys
import time
import warnings

import numpy as np
from joblib import parallel_config
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from compare import MLPAutoencoder
from skae import AutoencoderTransformer
from skae._kernels import network, train


def pipeline(reducer):
    return Pipeline([("scale", StandardScaler()), ("ae", reducer),
                     ("clf", LogisticRegression(max_iter=1000))])


def timed_search(reducer, grid, X, y, n_jobs=None):
    start = time.perf_counter()
    search = GridSearchCV(pipeline(reducer), grid, cv=5, n_jobs=n_jobs).fit(X, y)
    return time.perf_counter() - start, search.best_score_


GRID = {"ae__n_components": [1, 2, 3]}
REDUCERS = {"skae": lambda: AutoencoderTransformer(random_state=0),
            "MLPRegressor": lambda: MLPAutoencoder(2)}


def parallel_searches(reducer, backend):
    """Times of two ``n_jobs=2`` searches in a row, in this (fresh) process."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_iris(return_X_y=True)
    times = []
    with parallel_config(backend=backend):
        for _ in range(2):
            seconds, accuracy = timed_search(REDUCERS[reducer](), GRID, X, y, n_jobs=2)
            times.append(seconds)
    print(json.dumps({"times": times, "accuracy": accuracy}))


def fresh_process_parallel_searches(reducer, backend):
    output = subprocess.run(
        [sys.executable, __file__, "--parallel", reducer, backend],
        capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(output.splitlines()[-1])


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_iris(return_X_y=True)
    programs = train.train_chunk._cache_size

    seconds, accuracy = timed_search(AutoencoderTransformer(random_state=0), GRID, X, y)
    print(f"GridSearchCV n_components 1-3, cv=5 (16 fits), skae cold: {seconds:6.2f} s, "
          f"accuracy {accuracy:.3f}, {programs()} trainer programs compiled")
    seconds, accuracy = timed_search(AutoencoderTransformer(random_state=0), GRID, X, y)
    print(f"the same search again, trainers compiled:          {seconds:6.2f} s, "
          f"accuracy {accuracy:.3f}")
    seconds, accuracy = timed_search(MLPAutoencoder(2), GRID, X, y)
    print(f"the same search with MLPRegressor (lbfgs):         {seconds:6.2f} s, "
          f"accuracy {accuracy:.3f}")

    print("The same search with n_jobs=2, from a fresh process: first search, then again")
    for reducer, backend in [("skae", "loky"), ("skae", "threading"), ("MLPRegressor", "loky")]:
        result = fresh_process_parallel_searches(reducer, backend)
        first, again = result["times"]
        print(f"  {reducer:12} {backend:9}  {first:6.2f} s, {again:6.2f} s, "
              f"accuracy {result['accuracy']:.3f}")

    before = programs()
    timed_search(AutoencoderTransformer(random_state=0),
                 {**GRID, "ae__alpha": [0.01, 0.1, 1.0]}, X, y)
    print(f"3 n_components x 3 alpha x 5 folds + refit (46 fits): {programs() - before} "
          "new trainer programs")

    est = AutoencoderTransformer(2, random_state=0).fit(StandardScaler().fit_transform(X))
    trainers, encoders = train.train_chunk._cache_size(), network.encode_block._cache_size()
    for n in range(1, 51):
        est.transform(np.random.rand(n * 300, 4).astype(np.float32))
    print(f"50 transforms of 300..15,000 rows: {train.train_chunk._cache_size() - trainers} new "
          f"trainer programs, {network.encode_block._cache_size() - encoders} new encoder programs")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--parallel"]:
        parallel_searches(sys.argv[2], sys.argv[3])
    else:
        main()
