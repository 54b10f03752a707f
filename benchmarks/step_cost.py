"""Where the time of one L-BFGS iteration goes, for default fits.

A default full-batch fit costs (iterations) x (time per iteration). This
script splits the time per iteration, measured on the fits of
``defaults.py`` once their programs are compiled:

- "iteration": a default fit's time per iteration. It is the difference
  between a 300- and a 100-iteration fit, divided by 200, so setup and
  transfers cancel. Stopping is switched off so both run their full count.
- "optax": optax's L-BFGS with its line search alone, at the trainer's
  parameter count, on a quadratic objective that costs next to nothing:
  the two-loop recursion and the line search's bookkeeping.
- "network": what remains: the network's forward and backward passes on
  the padded batch (more than one pass when the line search backtracks).
  With early stopping the held-out rows sit in the batch's padding, so the
  same passes also give their error.
- "NumPy products": NumPy's time for the matrix products of one forward and
  backward pass on the same padded rows, without any elementwise work: a
  floor that this machine's BLAS sets for the network's part; "network x"
  is the network's part as a multiple of it.

With ``--kernels`` it also splits a digits (k=10) iteration by the kind of
compiled kernel, from a profiler trace of a fit: matrix products,
reductions, elementwise fusions and copies, each split into the kernels
that run once per stored curvature pair (optax's two-loop recursion, at
least ``LBFGS_MEMORY`` calls per iteration) and the rest (the network's
passes, the line search, the stopping rule). The profiler adds a little
time to every kernel, so the shares are more telling than the sum.

With ``--layouts`` it also times the trainer with its weights in the
training layout (the default, see ``network.training_layout``) against the
plain layout, both in one process and taking turns, on a few L-BFGS rows and
on Adam at the network and batch size of ``throughput.py``.

    python benchmarks/step_cost.py
    python benchmarks/step_cost.py --kernels
    python benchmarks/step_cost.py --layouts
"""

import argparse
import collections
import gzip
import json
import re
import tempfile
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from defaults import load
from skae import AutoencoderTransformer
from skae._kernels import network, train
from throughput import adam_settings, curved_data

ROWS = [("curve", 1), ("digits", 10), ("iris", 2)]
LAYOUT_ROWS = [("curve", 1), ("digits", 10), ("digits", 2), ("iris", 1)]
SHORT, LONG = 100, 300
REPEATS = 5
#: Rounds of the layout comparison; each times both layouts.
TURNS = 4
#: The weight layouts to compare, as the pair of functions ``train`` calls
#: to enter and leave its layout.
LAYOUTS = {
    "training": (network.training_layout, network.plain_layout),
    "plain": (lambda params: params, lambda params: params),
}


def seconds_per_iteration(X, k, estimator=AutoencoderTransformer):
    """Warm time per iteration of a default fit that runs every iteration."""
    def fit_seconds(max_iter):
        model = estimator(k, max_iter=max_iter, n_iter_no_change=max_iter, random_state=0)
        start = time.perf_counter()
        model.fit(X)
        assert model.n_iter_ == max_iter
        return time.perf_counter() - start

    fit_seconds(SHORT)  # compile
    short = min(fit_seconds(SHORT) for _ in range(REPEATS))
    long = min(fit_seconds(LONG) for _ in range(REPEATS))
    return (long - short) / (LONG - SHORT)


def trained_network(model, n_features):
    """The parameters ``model``'s trainer updates (code layer at its padded
    width, linear path included), as NumPy arrays."""
    width = train.padded_code_width(model.n_components)
    pca_start = np.zeros((width, n_features), dtype=np.float32)
    return network.init_params(np.random.default_rng(0), n_features, width,
                               model._hidden_sizes, model._spec, pca_start)


def weight_shapes(params):
    """(fan_in, fan_out) of every weight matrix, the linear path's two last."""
    layers = (*params["encoder"], *params["decoder"])
    return [W.shape for W, _ in layers] + [a.shape for a in params["linear"]]


def optax_seconds_per_iteration(n_params):
    """optax L-BFGS (the trainer's settings) per step, on a quadratic whose
    curvatures spread over four decades, so that it is still descending at
    the end of the run (checked) rather than idling at a minimum."""
    optimizer = train._lbfgs(n_params)
    curvature = jnp.logspace(-4, 0, n_params, dtype=jnp.float32)

    def value_fn(p):
        return 0.5 * jnp.vdot(p, curvature * p)

    @jax.jit
    def run(params):
        def step(_, carry):
            params, state = carry
            value, grad = jax.value_and_grad(value_fn)(params)
            updates, state = optimizer.update(grad, state, params, value=value, grad=grad,
                                              value_fn=value_fn)
            return optax.apply_updates(params, updates), state
        return jax.lax.fori_loop(0, LONG, step, (params, optimizer.init(params)))

    params = jnp.ones(n_params, dtype=jnp.float32)
    final, _ = jax.block_until_ready(run(params))
    assert 0 < float(value_fn(final)) < float(value_fn(params))
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        jax.block_until_ready(run(params))
        best = min(best, time.perf_counter() - start)
    return best / LONG


def numpy_products_seconds(n_rows, shapes):
    """NumPy's time for one forward and backward pass's matrix products."""
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=shape).astype(np.float32) for shape in shapes]
    inputs = [rng.normal(size=(n_rows, fan_in)).astype(np.float32) for fan_in, _ in shapes]
    grads = [rng.normal(size=(n_rows, fan_out)).astype(np.float32) for _, fan_out in shapes]
    takes_data = {0, len(shapes) - 2}  # the first layer and the linear path's S

    def products():
        for i, (W, x, g) in enumerate(zip(weights, inputs, grads)):
            x @ W          # forward
            x.T @ g        # weight gradient
            if i not in takes_data:
                g @ W.T    # gradient to the layer's input

    products()
    best = float("inf")
    for _ in range(50):
        start = time.perf_counter()
        products()
        best = min(best, time.perf_counter() - start)
    return best


def best_of_turns(measure):
    """``measure()`` under each layout, taking turns ``TURNS`` times after
    one untimed call each (compiling); the best figure of each layout."""
    times = {name: [] for name in LAYOUTS}
    for turn in range(TURNS + 1):
        for name, (to_training, to_plain) in LAYOUTS.items():
            train.training_layout, train.plain_layout = to_training, to_plain
            seconds = measure()
            if turn:
                times[name].append(seconds)
    train.training_layout, train.plain_layout = LAYOUTS["training"]
    return {name: min(values) for name, values in times.items()}


def compare_layouts():
    print("\nWeights in the training layout against the plain layout, in turns")
    print(f"{'fit':22s} {'training':>9s} {'plain':>9s} {'ratio':>6s}")
    for name, k in LAYOUT_ROWS:
        X, _ = train_test_split(load(name), test_size=0.2, random_state=0)
        best = best_of_turns(lambda: seconds_per_iteration(X, k))
        print(f"{name + ', ' + str(k):22s} {best['training'] * 1e3:6.3f} ms "
              f"{best['plain'] * 1e3:6.3f} ms {best['training'] / best['plain']:6.3f}",
              flush=True)
    X = curved_data(200_000)

    def seconds_per_epoch():
        def fit_seconds(epochs):
            start = time.perf_counter()
            AutoencoderTransformer(max_iter=epochs, **adam_settings(256)).fit(X)
            return time.perf_counter() - start
        return (fit_seconds(6) - fit_seconds(2)) / 4

    best = best_of_turns(seconds_per_epoch)
    training, plain = (len(X) / best[name] / 1e3 for name in ("training", "plain"))
    print(f"{'Adam, throughput.py':22s} {training:5.0f}k/s {plain:5.0f}k/s "
          f"{plain / training:6.3f}   (rows per second)")


#: Kinds of compiled kernel, by the name XLA gives them (its numbering
#: stripped), tried in order; YNNPACK fusions are reductions under the
#: trainer's compiler options (see ``backend.CPU_COMPILER_OPTIONS``).
KERNEL_KINDS = [
    ("matrix products", re.compile(r"^dot(_general)?$")),
    ("reductions", re.compile(r"reduce|^ynn_fusion$")),
    ("copies", re.compile(r"^copy$")),
    ("elementwise", re.compile(r"fusion$|^wrapped_|^concatenate$|^dynamic-update-slice$|^pad$")),
]


def kernel_kind(name):
    """The kind of the kernel an event of a trace names, or ``None`` for
    other events (Python, the runtime, and the kernels' "end:" events)."""
    base = re.sub(r"[.\d]+(\.clone[.\d]*)?$", "", name)
    if not re.fullmatch(r"[a-z][\w\-]*", base):
        return None
    return next((kind for kind, pattern in KERNEL_KINDS if pattern.search(base)), None)


def kernel_profile(X, k, n_iter=200):
    """Microseconds per iteration and calls per iteration of each kind of
    kernel, split into those that run at least ``LBFGS_MEMORY`` times per
    iteration (the two-loop recursion) and the rest."""
    def fit():
        AutoencoderTransformer(k, random_state=0, max_iter=n_iter,
                               n_iter_no_change=n_iter).fit(X)

    fit()  # compile outside the trace
    with tempfile.TemporaryDirectory() as folder:
        with jax.profiler.trace(folder, create_perfetto_trace=True):
            fit()
        trace_file = next(Path(folder).rglob("*.trace.json.gz"))
        events = json.loads(gzip.decompress(trace_file.read_bytes()))
    events = events["traceEvents"] if isinstance(events, dict) else events
    micros, calls = collections.Counter(), collections.Counter()
    for event in events:
        if event.get("ph") == "X" and kernel_kind(event["name"]) is not None:
            micros[event["name"]] += event.get("dur", 0) / n_iter
            calls[event["name"]] += 1 / n_iter
    table = collections.defaultdict(lambda: [0.0, 0.0])
    for name in micros:
        part = "per pair" if calls[name] >= train.LBFGS_MEMORY else "rest"
        table[kernel_kind(name), part][0] += micros[name]
        table[kernel_kind(name), part][1] += calls[name]
    return table


def print_kernel_profile():
    X, _ = train_test_split(load("digits"), test_size=0.2, random_state=0)
    table = kernel_profile(X, 10)
    total = sum(micros for micros, _ in table.values())
    print("\nKernels of a digits (k=10) iteration, from a profiler trace")
    print(f"{'kind':16s} {'two-loop (per pair)':>26s} {'rest':>24s}")
    for kind, _ in KERNEL_KINDS:
        cells = []
        for part in ("per pair", "rest"):
            micros, calls = table.get((kind, part), (0.0, 0.0))
            cells.append(f"{micros:6.0f} us {calls:5.1f} calls {micros / total:4.0%}")
        print(f"{kind:16s} {cells[0]:>26s} {cells[1]:>24s}")
    print(f"{'all':16s} {total:6.0f} us per iteration (profiled)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", action="store_true",
                        help="also split a digits iteration by kind of compiled kernel")
    parser.add_argument("--layouts", action="store_true",
                        help="also compare the training and plain weight layouts")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"{'data, k':12s} {'rows':>5s} {'params':>6s} {'iteration':>9s} "
          f"{'optax':>6s} {'network':>7s} {'NumPy products':>14s} {'network x':>9s}   (ms)")
    for name, k in ROWS:
        X, _ = train_test_split(load(name), test_size=0.2, random_state=0)
        model = AutoencoderTransformer(k, max_iter=1).fit(X)
        rows = train.padded_rows(len(X))  # training and held-out rows share the batch
        params = trained_network(model, X.shape[1])
        shapes = weight_shapes(params)
        n_params = ravel_pytree(params)[0].size
        step = seconds_per_iteration(X, k)
        optimizer = optax_seconds_per_iteration(n_params)
        floor = numpy_products_seconds(rows, shapes)
        print(f"{name + ', ' + str(k):12s} {rows:5d} {n_params:6d} {step * 1e3:9.3f} "
              f"{optimizer * 1e3:6.3f} {(step - optimizer) * 1e3:7.3f} "
              f"{floor * 1e3:14.3f} {(step - optimizer) / floor:9.2f}", flush=True)
    if args.kernels:
        print_kernel_profile()
    if args.layouts:
        compare_layouts()


if __name__ == "__main__":
    main()
