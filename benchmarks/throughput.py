"""Training and inference throughput on big data, against same-process baselines.

* Training: 200,000 x 100 rows with a 5-D curved latent, network
  100-64-32-5-32-64-100, Adam with batch 256. Rows per second per epoch for
  skae (compiled, warm; the marginal cost of an epoch, and a whole 10-epoch
  fit with its fixed setup) and MLPRegressor (one epoch of ``partial_fit``),
  and the arithmetic limit implied by this machine's float32 matmul speed.
* Inference: ``transform`` of 1,000,000 x 100 rows against a plain NumPy
  forward pass with the same weights, and the latency of a one-row
  ``transform``.

    python benchmarks/throughput.py            # full sizes
    python benchmarks/throughput.py --quick    # 10x smaller, for a smoke test
    python benchmarks/throughput.py --batch-size 1024   # training at another batch size
"""

import argparse
import time
import warnings

import jax
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from skae import AutoencoderTransformer

HIDDEN = (64, 32)
LATENT = 5
FEATURES = 100


def curved_data(n_samples, seed=0):
    """Rows driven by a 5-D latent through a fixed random nonlinear map."""
    rng = np.random.RandomState(seed)
    z = rng.normal(size=(n_samples, LATENT))
    A, B = rng.normal(size=(LATENT, FEATURES)), rng.normal(size=(LATENT, FEATURES))
    X = np.tanh(z @ A / 2) + 0.1 * (z @ B) ** 2 / LATENT
    return ((X - X.mean(0)) / X.std(0)).astype(np.float32)


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_gflops(batch=256):
    """float32 matmul speed at the network's shapes (forward + backward)."""
    rng = np.random.RandomState(0)
    x = rng.normal(size=(batch * 64, FEATURES)).astype(np.float32)
    W = rng.normal(size=(FEATURES, 64)).astype(np.float32)
    seconds = best_of(lambda: x @ W, repeat=5)
    return 2 * x.shape[0] * FEATURES * 64 / seconds / 1e9


def flops_per_row():
    sizes = (FEATURES, *HIDDEN, LATENT, *reversed(HIDDEN), FEATURES)
    forward = sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 3 * forward  # forward, and a backward pass of about twice the work


def adam_settings(batch_size):
    """The estimator's settings for the training benchmark."""
    return dict(n_components=LATENT, hidden_layer_sizes=HIDDEN, activation="relu",
                solver="adam", batch_size=batch_size, early_stopping=False, tol=0.0,
                random_state=0)


def training(n_samples, batch_size=256):
    X = curved_data(n_samples)
    warnings.simplefilter("ignore", ConvergenceWarning)
    settings = adam_settings(batch_size)
    AutoencoderTransformer(max_iter=1, **settings).fit(X)  # compile

    def fit_seconds(epochs):
        return best_of(lambda: AutoencoderTransformer(max_iter=epochs, **settings).fit(X),
                       repeat=3)

    # An epoch's cost is the difference between fits of different lengths;
    # the rest of a fit (scaling, the PCA start, moving data) is fixed.
    short, long = 2, 10
    short_seconds, long_seconds = fit_seconds(short), fit_seconds(long)
    epoch_seconds = (long_seconds - short_seconds) / (long - short)
    setup_seconds = short_seconds - short * epoch_seconds
    mlp = MLPRegressor(hidden_layer_sizes=(*HIDDEN, LATENT, *reversed(HIDDEN)),
                       batch_size=batch_size, random_state=0)
    mlp_seconds = best_of(lambda: mlp.partial_fit(X, X), repeat=1)
    limit = matmul_gflops() * 1e9 / flops_per_row()
    skae_rate = n_samples / epoch_seconds
    print(f"\nTraining, {n_samples:,} x {FEATURES}, net {FEATURES}-64-32-5-32-64-{FEATURES}, "
          f"Adam, batch {batch_size}")
    print(f"{'':34s} {'rows/s per epoch':>17s} {'ratio to skae':>14s}")
    for name, rate in [("skae AutoencoderTransformer", skae_rate),
                       (f"skae, {long}-epoch fit incl. setup", long * n_samples / long_seconds),
                       ("MLPRegressor (partial_fit)", n_samples / mlp_seconds),
                       ("arithmetic limit (numpy matmul)", limit)]:
        print(f"{name:34s} {rate:17,.0f} {rate / skae_rate:14.2f}")
    print(f"skae fixed cost per fit (scaling, PCA start, transfers): {setup_seconds:.2f} s")


def inference(n_samples):
    X_train = curved_data(20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = AutoencoderTransformer(LATENT, hidden_layer_sizes=HIDDEN, max_iter=5,
                                     random_state=0).fit(X_train)
    X = curved_data(n_samples, seed=1)
    weights = [(W, b) for W, b in zip(est.coefs_, est.intercepts_)][: len(HIDDEN) + 1]
    S = est.linear_coefs_[0]

    def numpy_forward():
        xs = (X - est.mean_.astype(np.float32)) / np.float32(est.scale_)
        h = xs
        for i, (W, b) in enumerate(weights):
            h = h @ W + b
            if i < len(weights) - 1:
                h = np.tanh(h)
        return h + xs @ S

    np.testing.assert_allclose(est.transform(X[:1000]), numpy_forward()[:1000], rtol=1e-4,
                               atol=1e-5)
    skae_seconds = best_of(lambda: est.transform(X))
    numpy_seconds = best_of(numpy_forward)
    est._encode(X[:10], use_jit=True)  # compile the block program
    jit_seconds = best_of(lambda: est._encode(X, use_jit=True))
    row = X[:1]
    est.transform(row)
    repeats = 2000
    start = time.perf_counter()
    for _ in range(repeats):
        est.transform(row)
    single = (time.perf_counter() - start) / repeats
    print(f"\nInference, transform of {n_samples:,} x {FEATURES} (float32)")
    print(f"{'':28s} {'rows/s':>14s} {'ratio to NumPy':>15s}")
    print(f"{'skae transform':28s} {n_samples / skae_seconds:14,.0f} "
          f"{numpy_seconds / skae_seconds:15.2f}")
    print(f"{'plain NumPy forward pass':28s} {n_samples / numpy_seconds:14,.0f} {1.0:15.2f}")
    print(f"{'jitted encoder (blocks)':28s} {n_samples / jit_seconds:14,.0f} "
          f"{numpy_seconds / jit_seconds:15.2f}")
    print(f"transform uses the {'jitted' if est._use_jit_inference(X) else 'NumPy'} path "
          f"on this {jax.default_backend().upper()} backend")
    print(f"one-row transform: {single * 1e6:.0f} µs")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller data")
    parser.add_argument("--batch-size", type=int, default=256, help="Adam's batch size")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    training(200_000 // scale, args.batch_size)
    inference(1_000_000 // scale)


if __name__ == "__main__":
    main()
