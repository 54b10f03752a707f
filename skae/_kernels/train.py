"""The compiled training program.

One jitted call, :func:`train_chunk`, runs up to ``TrainConfig.chunk`` epochs
entirely inside XLA: shuffling, minibatching (``lax.fori_loop`` over the
batches that hold real rows), optimizer updates, the validation loss and the
stopping rule (``lax.while_loop``). Python only sees chunk boundaries, and
at the end solves the output layer in closed form and picks the model the
fit ends with (:func:`finish`).

What is static (part of the compiled program's identity) is the architecture,
the solver, the penalty and corruption functions and the padded shapes; every
float hyperparameter is traced, so grids over ``alpha``, learning rates or a
variant's weight reuse one program. Row counts are padded to buckets (see
:func:`batch_layout`) and the real rows are marked by a mask, so data sets of
similar size share a program too; likewise the code layer is padded to
:func:`padded_code_width` masked units, unless the objective's cost grows
with the code width (see :func:`train`).

Full-batch L-BFGS with early stopping on a deterministic objective monitors
its validation rows inside the training batch (see
``TrainConfig.validation_in_batch``).
"""

from functools import partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from .backend import BackendJit
from .network import (
    NetworkSpec,
    code_width,
    decode,
    decoder_hidden,
    encode,
    plain_layout,
    training_layout,
    weight_sum_of_squares,
    with_code_width,
)
from .noise import is_random
from .penalties import masked_mean


class TrainConfig(NamedTuple):
    """Everything static about a training program (hashable).

    ``validation_in_batch``: the validation rows sit in the padding of the
    full training batch (``data["x_val"]`` is ``data["x_train"]``, the rows
    told apart by ``mask_train`` and ``mask_val``), and their error comes out
    of the line search's own forward pass through a probe parameter (see
    :func:`report`) instead of a separate forward pass per iteration. The
    padding rows were computed anyway, so monitoring costs next to nothing:
    a digits iteration runs 11% faster and its program compiles 0.1 s
    faster. Only for full-batch L-BFGS on an objective that draws no noise
    (see :func:`validates_in_batch`).
    """

    spec: NetworkSpec
    solver: str
    batch_size: int
    shuffle: bool
    early_stopping: bool
    penalty: Callable
    corruption: Callable
    chunk: int = 50
    validation_in_batch: bool = False


def validates_in_batch(solver, early_stopping, corruption):
    """Whether the training program monitors its validation rows inside the
    training batch (``TrainConfig.validation_in_batch``).

    Minibatches (Adam) hold varying rows, and a corrupting objective must
    judge its validation rows on one fixed corrupted copy, not on each
    step's draw; both evaluate the validation rows separately.
    """
    return early_stopping and solver == "lbfgs" and not is_random(corruption)


class TrainState(NamedTuple):
    """Carried between chunks; lives on the device.

    Parameters are carried as one flat vector: the optimizer then updates a
    single array instead of one per layer, which makes the compiled program
    several times smaller (L-BFGS's two-loop recursion and line search
    repeat every operation once per array otherwise). With
    ``validation_in_batch`` its last entry is the probe (see :func:`report`).
    """

    params: jax.Array
    opt_state: tuple
    best_params: jax.Array
    best_score: jax.Array
    no_improvement: jax.Array
    epoch: jax.Array
    stopped: jax.Array
    diverged: jax.Array


#: Smallest padded row count. Small data sets all share one program (the
#: full-batch cost of 256 rows is negligible), and so do the CV folds and the
#: final refit of a search on them, whose row counts differ by a quarter.
MIN_PADDED_ROWS = 256

#: Smallest padded code width: a search over n_components from 1 to 4 uses
#: one program, 5 to 8 another, and so on.
MIN_CODE_WIDTH = 4


def next_power_of_two(n):
    return 1 << max(int(n) - 1, 0).bit_length()


def padded_rows(n_samples):
    """The row count ``n_samples`` rows are padded to, at least
    ``MIN_PADDED_ROWS``: the smallest power of two, or three quarters of one,
    that holds them (256, 384, 512, 768, 1024, 1536, ...).

    Full-batch L-BFGS computes on every padded row; the three-quarter steps
    cut the padding from up to half the rows to up to a quarter (a digits fit
    pads 1437 rows to 1536 instead of 2048 and runs 20% faster), for twice
    as many buckets.
    """
    power = next_power_of_two(max(n_samples, MIN_PADDED_ROWS))
    three_quarters = 3 * power // 4
    if MIN_PADDED_ROWS <= three_quarters and n_samples <= three_quarters:
        return three_quarters
    return power


def padded_code_width(n_components):
    """The code width training runs at: a power of two, at least
    ``MIN_CODE_WIDTH``. Units beyond ``n_components`` are masked."""
    return next_power_of_two(max(n_components, MIN_CODE_WIDTH))


def batch_layout(n_samples, batch_size):
    """Padded ``(batch_size, n_batches)`` for ``n_samples`` rows.

    The number of batches is a power of two and a single batch is padded by
    :func:`padded_rows`, so the number of distinct compiled programs grows
    with the log of the data size, not with every new ``n_samples``. Batches
    that hold only padding are skipped inside the program, so padding costs
    no updates.
    """
    batch = min(int(batch_size), padded_rows(n_samples))
    n_batches = next_power_of_two(-(-n_samples // batch))
    return batch, n_batches


def pad_rows(x, n_rows):
    """``x`` as float32 with zero rows appended up to ``n_rows``, and its mask."""
    padded = np.zeros((n_rows, x.shape[1]), dtype=np.float32)
    padded[: len(x)] = x
    mask = np.zeros(n_rows, dtype=np.float32)
    mask[: len(x)] = 1.0
    return padded, mask


#: Curvature pairs L-BFGS keeps. optax's default of 10 leaves our problems
#: (a few thousand weights, curved reconstruction surfaces) short of memory:
#: 20 reaches lower held-out MSE on curve, iris and digits in as many or
#: fewer steps, each no measurably slower (benchmarks/defaults.py).
LBFGS_MEMORY = 20
#: Beyond this many parameters (inputs wider than about 550 features with the
#: default layers) L-BFGS keeps optax's 10 pairs. The two-loop recursion
#: streams the whole memory twice per step, and once it outgrows the CPU's
#: caches that traffic rivals the network's own cost. At 5,000 features
#: (408,000 parameters) a step took 79 ms with 20 pairs and 54 ms with 10,
#: at the same held-out MSE; at 2,000 features 30 and 26 ms, and the fits
#: stopped sooner (7 s instead of 13-17 s) at a held-out MSE 0.5% higher
#: (benchmarks/wide.py).
LBFGS_MEMORY_MAX_PARAMS = 50_000
LBFGS_WIDE_MEMORY = 10


def lbfgs_memory(n_params):
    """Curvature pairs L-BFGS keeps for ``n_params`` parameters."""
    return LBFGS_MEMORY if n_params <= LBFGS_MEMORY_MAX_PARAMS else LBFGS_WIDE_MEMORY


#: Times the backtracking line search may shrink its step in one L-BFGS
#: step. Its first guess is 1.5 times the last accepted step size (at most
#: 1), and each failed trial multiplies it by 0.8. A fresh curvature memory
#: (a new fit, a warm start, or the reset after a failed step) steps along
#: the raw gradient, and near a trained network's minimum only far shorter
#: steps lower the loss. After 15 shrinks, 0.035 of the first guess, the
#: search failed, the memory was reset, and the next search failed alike,
#: forever: a warm-started fit on 1,000 to 8,000 rows of the curve kept its
#: loss to the last digit until the stopping rule ended it. 40 shrinks reach
#: 1.3e-4 of the first guess. The extra trials run only where the first 16
#: find no decrease, so default fits take the same steps except at those
#: rare failures.
LINE_SEARCH_MAX_SHRINKS = 40


def _adam(learning_rate):
    return optax.chain(optax.scale_by_adam(), optax.scale_by_learning_rate(learning_rate))


def _lbfgs(n_params):
    """optax's L-BFGS for a (static) count of ``n_params`` parameters."""
    # Backtracking (Armijo) rather than the default zoom line search: a
    # smaller program that compiles about a second faster and steps faster,
    # at the same final loss on our problems.
    # store_grad: the line search keeps the loss and gradient at the point it
    # accepts, so the next step starts without recomputing them.
    return optax.lbfgs(
        memory_size=lbfgs_memory(n_params),
        linesearch=optax.scale_by_backtracking_linesearch(
            max_backtracking_steps=LINE_SEARCH_MAX_SHRINKS, store_grad=True
        )
    )


def masked_mse(reconstruction, x, mask):
    """Mean squared error over the real (``mask`` 1) rows."""
    return masked_mean(jnp.mean((reconstruction - x) ** 2, axis=1), mask)


@jax.custom_jvp
def report(probe, value):
    """Zero, whose derivative along ``probe`` is ``value``.

    Added to a loss, it changes nothing, but the loss's gradient then
    carries ``value`` in ``probe``'s entry. The L-BFGS line search evaluates
    the loss and gradient at the point it accepts and keeps only those two;
    this lets the same forward pass also hand out the validation error.
    The trainer clears that entry before the optimizer sees the gradient,
    so the probe never moves and L-BFGS never sees it.
    """
    return jnp.zeros_like(value)


@report.defjvp
def _report_jvp(primals, tangents):
    _, value = primals
    probe_tangent, _ = tangents
    return jnp.zeros_like(value), probe_tangent * jax.lax.stop_gradient(value)


def split_probe(config, flat):
    """``flat`` (parameters, or a gradient) as the network's part and the
    probe's entry, the last one (``None`` without ``validation_in_batch``)."""
    if config.validation_in_batch:
        return flat[:-1], flat[-1]
    return flat, None


def objective(config, params, x, mask, key, hyper, code_mask=None, monitor=None):
    """Training loss of one batch: masked reconstruction MSE of the clean
    ``x`` from its corrupted version, plus the variant's penalty and L2
    (``alpha / (2 n_train) * sum of squared weights``, as in MLPRegressor).
    ``params`` may hold weights :class:`~.network.Transposed`.

    ``code_mask`` (1 for code units in use, 0 for padding units; see
    :func:`train`) zeroes padding units, so they pass no gradient and stay
    zero; penalties get it as ``args["code_mask"]``.

    ``monitor``, a pair ``(probe, mask_val)``, reports the reconstruction
    MSE of the rows ``mask_val`` marks (rows outside ``mask``) in the
    gradient's ``probe`` entry, without changing the loss (see
    :func:`report`).
    """
    x_in = config.corruption(key, x, hyper["corruption"])
    code = encode(config.spec, params, x_in)
    penalty_args = hyper["penalty"]
    if code_mask is not None:
        code = code * code_mask
        penalty_args = {**penalty_args, "code_mask": code_mask}
    reconstruction = decode(config.spec, params, code)
    mse = masked_mse(reconstruction, x, mask)
    # Penalties are written for plain matrices (the contractive one uses
    # columns and Gram matrices of W); handing them the held layout instead
    # made ContractiveAE no faster (benchmarks/contractive.py).
    penalty = config.penalty(config.spec, plain_layout(params), x_in, code, mask, penalty_args)
    l2 = 0.5 * hyper["alpha"] * weight_sum_of_squares(params) / hyper["n_train"]
    loss = mse + penalty + l2
    if monitor is not None:
        probe, mask_val = monitor
        loss = loss + report(probe, masked_mse(reconstruction, x, mask_val))
    return loss


#: ``fold_in`` data of the validation rows' corruption; training epochs fold
#: in their number, which never reaches it.
VALIDATION_DRAW = np.uint32(2**32 - 1)


def validation_inputs(config, data, hyper, seed):
    """What the network is given of the validation rows: the rows, or for a
    corrupting objective one fixed corrupted copy of them (drawn from
    ``seed``), so that the monitored error is the held-out value of what
    training optimises.

    A denoiser reconstructs clean rows worse than the PCA solution it starts
    from, so monitoring clean reconstruction would keep that start and stop
    training.
    """
    if not is_random(config.corruption):
        return data["x_val"]
    key = jax.random.fold_in(jax.random.key(seed), VALIDATION_DRAW)
    return config.corruption(key, data["x_val"], hyper["corruption"])


def validation_mse(config, params, x_val_in, data):
    """Masked mean squared error of reconstructing the validation rows from
    ``x_val_in`` (no penalty)."""
    code = encode(config.spec, params, x_val_in) * data["code_mask"]
    reconstruction = decode(config.spec, params, code)
    return masked_mse(reconstruction, data["x_val"], data["mask_val"])


#: Rounds of the shuffle's mixing function; with fewer, small permutations
#: measurably favour some positions (see the uniformity test).
PERMUTATION_ROUNDS = 8

#: The shuffle mixes at least this many bits, even for a handful of rows:
#: the mixing function is too regular on domains of a few bits.
MIN_PERMUTATION_BITS = 6


def permutation_keys(key):
    """Random keys that choose one pseudo-random permutation (see
    :func:`permuted`)."""
    return jax.random.bits(key, (PERMUTATION_ROUNDS, 3), jnp.uint32)


def permuted(keys, n, positions):
    """Where ``positions`` go under the pseudo-random permutation of
    ``range(n)`` chosen by ``keys``; positions ``>= n`` (padding) stay put.

    Each minibatch computes its own shuffled rows, so an epoch needs no sort
    (sorting 200,000 keys took a tenth of an epoch on CPU). The permutation
    mixes ``b`` bits, ``2**b >= n``: every round adds a key, multiplies by an
    odd key and xor-shifts right by a random amount, each a bijection modulo
    ``2**b``. Values that land at or beyond ``n`` are mixed again until they
    fall inside ("cycle walking"), which keeps the map a bijection of
    ``range(n)``; beyond ``MIN_PERMUTATION_BITS``, ``2**b < 2 n``, so fewer
    than half of the values need mixing again.
    """
    n = n.astype(jnp.uint32)
    bits = jnp.maximum(32 - jax.lax.clz(jnp.maximum(n - 1, 1)), MIN_PERMUTATION_BITS)
    low_bits = (jnp.uint32(1) << bits) - 1

    def mix(x):
        for add, multiply, shift in keys:
            x = ((x + add) * (multiply | 1)) & low_bits
            x = x ^ (x >> (1 + shift % (bits - 1)))
        return x

    positions = positions.astype(jnp.uint32)
    real = positions < n

    def outside(y):
        return real & (y >= n)

    y = jax.lax.while_loop(
        lambda y: jnp.any(outside(y)),
        lambda y: jnp.where(outside(y), mix(y), y),
        mix(positions & low_bits),
    )
    return jnp.where(real, y, positions).astype(jnp.int32)


def _adam_epoch(config, loss_fn, params, opt_state, data, hyper, key):
    """One pass over shuffled minibatches; returns the mean batch loss (and
    no validation errors: see ``TrainConfig.validation_in_batch``).

    Real rows come first in ``x_train``; the loop runs over the batches that
    hold real rows only, so bucket padding costs no steps and never moves
    Adam's moments.
    """
    x, mask = data["x_train"], data["mask_train"]
    order_key, noise_key = jax.random.split(key)
    n_real = jnp.sum(mask).astype(jnp.int32)
    keys = permutation_keys(order_key) if config.shuffle else None
    optimizer = _adam(hyper["learning_rate"])
    loss_and_grad = jax.value_and_grad(loss_fn)

    def step(index, carry):
        params, opt_state, total = carry
        rows = index * config.batch_size + jnp.arange(config.batch_size)
        if config.shuffle:
            rows = permuted(keys, n_real, rows)
        xb, mb = x[rows], mask[rows]
        loss, grads = loss_and_grad(params, xb, mb, jax.random.fold_in(noise_key, index), hyper)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, total + loss * jnp.sum(mb)

    n_live = (n_real + config.batch_size - 1) // config.batch_size
    params, opt_state, total = jax.lax.fori_loop(
        0, n_live, step, (params, opt_state, jnp.zeros((), jnp.float32))
    )
    return params, opt_state, total / jnp.sum(mask), None, None


def _lbfgs_iteration(config, loss_fn, params, opt_state, data, hyper, key):
    """One full-batch L-BFGS step with a backtracking line search; returns
    the loss at the new parameters and, with ``validation_in_batch``, their
    validation error and that of the parameters the step started from (else
    ``None`` for both).

    The loss and gradient at ``params`` are read from ``opt_state``, where
    the line search stored them at the point it accepted. The program then
    evaluates the network's gradient in one place only, the line search,
    and compiles about 0.25 s faster than with a separate evaluation of the
    starting point. A fresh state holds an infinite loss and a zero
    gradient, from which the line search accepts the starting point itself:
    the first iteration runs the update twice, once to evaluate the start
    and once to step.

    With ``validation_in_batch`` the stored gradient's last entry is the
    validation error at the stored point (see :func:`report`). It is read
    there and cleared in what the optimizer is given. The evaluation of a
    fresh state's starting point thus measures its validation error too,
    which the training loop needs, as the first candidate for the best
    parameters, and otherwise would compute in a separate pass.

    When the line search finds no decrease, the step is undone and the
    curvature memory is reset, so the next step starts again from the
    gradient: with its memory, L-BFGS would retry the same direction forever
    (the loss then stays exactly constant until the stopping rule ends
    training far from a minimum). The step must be undone, not just ended,
    because it may have gone uphill: optax stores curvature pairs with
    ``s'y < 0`` too, whose direction can point uphill, and the backtracking
    (Armijo) condition then admits a higher loss (on the digits, started
    from one principal axis, the loss went from 0.85 to 5e8 in two steps).
    Trial points whose loss is NaN or infinite count as no decrease.

    A corrupting objective (a denoiser) draws fresh noise every iteration,
    so the stored loss and gradient belong to the previous draw; the step
    then starts from the loss and gradient under this iteration's draw,
    which the line search's trial points are compared against. Comparing
    across draws accepted and rejected steps by the noise: on the digits it
    denoised to 1.22x (gaussian) and 1.45x (masking) Adam's error, now 1.05x
    and 1.13x (benchmarks/variants.py).
    """
    loss_fn = partial(loss_fn, x=data["x_train"], mask=data["mask_train"], key=key, hyper=hyper)
    optimizer = _lbfgs(params.size)

    def without_probe(grad):
        return grad.at[-1].set(0.0) if config.validation_in_batch else grad

    if is_random(config.corruption):
        value, grad = jax.value_and_grad(loss_fn)(params)
        opt_state = optax.tree.set(opt_state, value=value, grad=grad)

    def update(carry):
        params, opt_state, _, start_score = carry
        value, grad = optax.tree.get(opt_state, "value"), optax.tree.get(opt_state, "grad")
        step_grad = without_probe(grad)
        updates, opt_state = optimizer.update(
            step_grad, opt_state, params, value=value, grad=step_grad, value_fn=loss_fn
        )
        new_value, new_grad = optax.tree.get(opt_state, "value"), optax.tree.get(opt_state, "grad")
        evaluated_only = ~jnp.isfinite(value)
        # An evaluation's zero-gradient "step" carries no curvature either:
        # it, too, hands a fresh memory to the next step.
        stalled = ~(new_value < value) | evaluated_only
        moved = new_value < value  # an evaluation's start: below the fresh state's inf
        params = jnp.where(moved, optax.apply_updates(params, updates), params)
        value, grad = jnp.where(moved, new_value, value), jnp.where(moved, new_grad, grad)
        # A branch, not an elementwise select: a select would rewrite the
        # whole curvature memory (memory size x parameters, twice) on every
        # step to reset it on the rare stalled one (digits: 1% to 5% of a
        # step on a 2-core CPU, more when memory bandwidth is contended).
        opt_state = jax.lax.cond(
            stalled,
            lambda: optax.tree.set(optimizer.init(params), value=value, grad=grad),
            lambda: opt_state,
        )
        if config.validation_in_batch:
            # An evaluation accepts the starting point itself, so the probe
            # it stored is the start's validation error.
            start_score = jnp.where(evaluated_only, split_probe(config, new_grad)[1], start_score)
        # Step again after an evaluation, unless the start's loss is not
        # finite (training then stops as diverged).
        return params, opt_state, evaluated_only & moved, start_score

    _, start_score = split_probe(config, optax.tree.get(opt_state, "grad"))
    params, opt_state, _, start_score = jax.lax.while_loop(
        lambda carry: carry[2], update, (params, opt_state, jnp.asarray(True), start_score)
    )
    _, score = split_probe(config, optax.tree.get(opt_state, "grad"))
    return params, opt_state, optax.tree.get(opt_state, "value"), score, start_score


def _init_state(config, params, data, hyper, seed):
    """Fresh optimizer state and stopping bookkeeping for ``params``.

    With early stopping the starting parameters are the first candidate for
    the best model: training can only replace them by something better on
    the validation rows. With ``validation_in_batch`` their validation error
    is left to the first iteration, which measures it anyway (see
    :func:`_lbfgs_iteration`): computing it here took a separate forward
    pass, whose compilation made this program 0.07 s slower to build (a
    digits fit, 2-core CPU; the training program grows by about 0.03 s).
    """
    flat, _ = ravel_pytree(params)
    if config.validation_in_batch:
        flat = jnp.append(flat, jnp.zeros((), flat.dtype))  # the probe
    # Adam's state does not depend on its step size.
    optimizer = _adam(1.0) if config.solver == "adam" else _lbfgs(flat.size)
    opt_state = optimizer.init(flat)
    if config.early_stopping and not config.validation_in_batch:
        x_val_in = validation_inputs(config, data, hyper, seed)
        best_score = validation_mse(config, params, x_val_in, data)
    else:
        best_score = jnp.asarray(jnp.finfo(jnp.float32).max)
    state = TrainState(
        params=flat,
        opt_state=opt_state,
        best_params=flat,
        best_score=best_score,
        no_improvement=jnp.asarray(0, dtype=jnp.int32),
        epoch=jnp.asarray(0, dtype=jnp.int32),
        stopped=jnp.asarray(False),
        diverged=jnp.asarray(False),
    )
    # Some optimizer states start with weak-typed scalars that the first
    # update makes strong; strong types from the start keep the chunk program
    # to a single compilation.
    return jax.tree.map(lambda a: jax.lax.convert_element_type(a, a.dtype), state)


def _train_chunk(config, state, data, hyper, seed, n_epochs, template):
    """Run up to ``n_epochs`` (at most ``config.chunk``) epochs.

    Stops early, inside the program, when the monitored loss (validation MSE
    with early stopping, else the training loss) has not improved by
    ``tol`` times its best value for more than ``n_iter_no_change`` epochs,
    or when the loss stops being finite. Returns the new state and per-epoch
    training losses and validation MSEs (NaN where no epoch ran).
    ``template`` is a parameter pytree of the right shapes, in the training
    layout (see :func:`train`), from which the flat vector in ``state`` is
    unpacked.
    """
    epoch_step = _adam_epoch if config.solver == "adam" else _lbfgs_iteration
    _, unravel = ravel_pytree(template)

    def network_params(flat):
        return unravel(split_probe(config, flat)[0])

    def loss_fn(flat, x, mask, key, hyper):
        weights, probe = split_probe(config, flat)
        monitor = None if probe is None else (probe, data["mask_val"])
        return objective(config, unravel(weights), x, mask, key, hyper, data["code_mask"],
                         monitor)

    base_key = jax.random.key(seed)
    separate_validation = config.early_stopping and not config.validation_in_batch
    x_val_in = validation_inputs(config, data, hyper, seed) if separate_validation else None

    def keep_going(carry):
        state, i, _, _ = carry
        return (i < n_epochs) & ~state.stopped

    def run_epoch(carry):
        state, i, losses, val_scores = carry
        key = jax.random.fold_in(base_key, state.epoch)
        params, opt_state, loss, score, start_score = epoch_step(
            config, loss_fn, state.params, state.opt_state, data, hyper, key
        )
        best_score = state.best_score
        if config.validation_in_batch:
            best_score = jnp.where(state.epoch == 0, start_score, best_score)
        if separate_validation:
            score = validation_mse(config, network_params(params), x_val_in, data)
        if config.early_stopping:
            val_scores = val_scores.at[i].set(score)
        else:
            score = loss
        finite = jnp.isfinite(loss) & jnp.isfinite(score)
        significant = score < best_score - hyper["tol"] * jnp.abs(best_score)
        no_improvement = jnp.where(significant, 0, state.no_improvement + 1)
        improved = score < best_score
        best_params = state.best_params
        if config.early_stopping:
            best_params = jnp.where(improved, params, state.best_params)
        state = TrainState(
            params=params,
            opt_state=opt_state,
            best_params=best_params,
            best_score=jnp.where(improved, score, best_score),
            no_improvement=no_improvement,
            epoch=state.epoch + 1,
            stopped=(no_improvement > hyper["n_iter_no_change"]) | ~finite,
            diverged=~finite,
        )
        return state, i + 1, losses.at[i].set(loss), val_scores

    nan_buffer = jnp.full(config.chunk, jnp.nan, dtype=jnp.float32)
    state, _, losses, val_scores = jax.lax.while_loop(
        keep_going, run_epoch, (state, jnp.asarray(0), nan_buffer, nan_buffer)
    )
    return state, losses, val_scores


init_state = BackendJit(_init_state, static_argnames=("config",))
train_chunk = BackendJit(_train_chunk, static_argnames=("config",))


class TrainResult(NamedTuple):
    params: dict
    loss_curve: np.ndarray
    validation_curve: np.ndarray
    best_validation_loss: float
    converged: bool
    diverged: bool


def unravel_numpy(flat, template):
    """Unpack a flat vector into NumPy arrays shaped like ``template``."""
    leaves, treedef = jax.tree.flatten(template)
    sizes = [leaf.size for leaf in leaves]
    pieces = np.split(np.array(flat, dtype=np.float32), np.cumsum(sizes)[:-1])
    return jax.tree.unflatten(treedef, [p.reshape(leaf.shape) for p, leaf in zip(pieces, leaves)])


#: Rows per block of the NumPy passes over the data after training.
FINISH_BLOCK_ROWS = 4096


def marked_row_blocks(x, mask):
    """The rows of ``x`` that ``mask`` marks (1), block by block, so that no
    temporary is data-sized."""
    for start in range(0, len(x), FINISH_BLOCK_ROWS):
        rows = slice(start, start + FINISH_BLOCK_ROWS)
        yield x[rows][mask[rows] > 0]


def with_exact_output_layer(spec, params, x, mask, alpha):
    """NumPy ``params`` (plain layout, exact code width) with the output
    layer replaced by the best one for the rest of the network.

    The output layer, the decoder's last layer with the linear path's
    decoding matrix ``T``, enters the training objective only through the
    reconstruction and the L2 term: penalties act on the encoder and the
    code. Given the rest of the network, its best value is a ridge
    regression of the rows ``mask`` marks on the decoder's last hidden
    activations and the code, solved here in closed form (float64).
    Training ends before that part has converged, most of all where it
    runs to ``max_iter``: on the curve with one component (700 L-BFGS
    iterations) the exact layer lowers the held-out MSE by about 15%, and
    after 10 or 30 Adam epochs on 200,000 x 100 rows (benchmarks/
    throughput.py's data) by 4.5%, for 0.3 s, about the time of one epoch.

    With ``F`` those activations, the code and a column of ones, the
    objective ``mean((F W - x)**2) + alpha / (2 n) * |W|**2`` (the L2 term
    over the weights, not the bias row; means over the ``n`` rows and ``d``
    features) is least at ``(F'F + alpha * d / 2) W = F'x``.
    """
    n_features = x.shape[1]
    linear = params.get("linear")
    gram, moments = 0.0, 0.0
    for block in marked_row_blocks(x, mask):
        code = encode(spec, params, block, xp=np)
        columns = [decoder_hidden(spec, params, code, xp=np)]
        if linear is not None:
            columns.append(code)
        columns.append(np.ones((len(code), 1), dtype=code.dtype))
        features = np.concatenate(columns, axis=1).astype(np.float64)
        gram = gram + features.T @ features
        moments = moments + features.T @ block.astype(np.float64)
    ridge = np.full(len(gram), 0.5 * alpha * n_features)
    ridge[-1] = 0.0  # the bias row
    # lstsq, not solve: without L2, dead or duplicate units make the system
    # singular, and the least-norm solution is then the one to keep.
    weights = np.linalg.lstsq(gram + np.diag(ridge), moments, rcond=None)[0]
    weights = weights.astype(np.float32)
    n_hidden = params["decoder"][-1][0].shape[0]
    result = {**params, "decoder": [*params["decoder"][:-1], (weights[:n_hidden], weights[-1])]}
    if linear is not None:
        result["linear"] = (linear[0], weights[n_hidden:-1])
    return result


def row_errors(spec, params, x, mask):
    """NumPy reconstruction MSE of each row ``mask`` marks (``params`` in the
    plain layout, exact code width), in float64."""
    errors = [np.zeros(0)]
    for block in marked_row_blocks(x, mask):
        reconstruction = decode(spec, params, encode(spec, params, block, xp=np), xp=np)
        errors.append(np.mean((reconstruction - block).astype(np.float64) ** 2, axis=1))
    return np.concatenate(errors)


def reconstruction_mse(spec, params, x, mask):
    """NumPy reconstruction MSE of the rows ``mask`` marks."""
    errors = row_errors(spec, params, x, mask)
    return float(np.mean(errors)) if errors.size else 0.0


def training_objective(spec, params, x, mask, alpha):
    """NumPy value of the objective without a penalty (reconstruction MSE
    plus L2, as in :func:`objective`) over the rows ``mask`` marks."""
    squares = float(weight_sum_of_squares(params, xp=np))
    return reconstruction_mse(spec, params, x, mask) + 0.5 * alpha * squares / np.sum(mask)


#: With held-out rows, the trained network replaces the fallback only if its
#: validation error is lower by at least this many standard errors of the
#: mean difference of the rows' errors: the one-standard-error rule, which
#: prefers the simpler model unless the other is better beyond the noise of
#: the comparison. On flat data with 12 validation rows (120 training
#: rows of 6 to 100 features, benchmarks/small_data.py) the plain rule,
#: lower at all, kept networks up to 1.09x PCA's held-out error, this one
#: up to 1.05x. It cannot remove the bias of the network's validation
#: error, on which its epoch was chosen: on pure noise with 9 components of
#: 10 (1,000 rows), one seed of 10 kept a network 31% better on the 80
#: validation rows and 12% worse on held-out rows. Two standard errors were
#: too strict for small curved data: with 12 validation rows (150 x 10)
#: networks with 0.4-0.6x PCA's held-out error were 1 to 2 standard errors
#: better, and PCA was kept.
FALLBACK_MARGIN = 1.0


def clearly_better(errors, fallback_errors):
    """Whether rows' ``errors`` are lower than ``fallback_errors`` on the
    same rows by ``FALLBACK_MARGIN`` standard errors of the mean difference."""
    difference = errors - fallback_errors
    standard_error = np.std(difference, ddof=1) / np.sqrt(len(difference))
    return bool(np.mean(difference) < -FALLBACK_MARGIN * standard_error)


def finish(config, params, data, alpha, best_score, fallback=None):
    """The model a fit ends with, and its validation error: the trained
    ``params``, the same with the exact output layer
    (:func:`with_exact_output_layer`), or ``fallback``.

    With early stopping the validation rows decide: the better of the
    trained and the exact layer, if it is clearly better than ``fallback``
    (:func:`clearly_better`), else ``fallback``. Without, the exact layer
    replaces the trained one (it lowers the training objective by
    construction) and competes with ``fallback`` on the training objective,
    which must then have no penalty. All scores are computed in NumPy, so
    that the two backends' rounding cannot decide.

    ``fallback`` is the model training must beat: the PCA network, where
    training started from only part of it (see :func:`train`).

    The exact layer minimises the training objective, L2 term included,
    which shrinks the weights: where training stayed at a PCA solution,
    that shrinkage alone adds error (on the linear data sets, 3e-6 of the
    variance where PCA's is 1e-15), and the validation rows then keep the
    trained layer.
    """
    spec = config.spec
    exact = with_exact_output_layer(spec, params, data["x_train"], data["mask_train"], alpha)
    if not config.early_stopping:
        if fallback is None:
            return exact, best_score
        objectives = [training_objective(spec, candidate, data["x_train"], data["mask_train"],
                                         alpha) for candidate in (exact, fallback)]
        return (exact if objectives[0] <= objectives[1] else fallback), best_score

    def validation_errors(candidate):
        return row_errors(spec, candidate, data["x_val"], data["mask_val"])

    trained_errors, exact_errors = validation_errors(params), validation_errors(exact)
    if np.mean(exact_errors) < np.mean(trained_errors):
        params, trained_errors = exact, exact_errors
    if fallback is not None:
        fallback_errors = validation_errors(fallback)
        if not clearly_better(trained_errors, fallback_errors):
            params, trained_errors = fallback, fallback_errors
    return params, float(np.mean(trained_errors))


def train(config, params, data, hyper, seed, max_iter, on_chunk=None, pad_code=True,
          fallback=None):
    """Train ``params`` for at most ``max_iter`` epochs; return NumPy results.

    ``fallback`` (NumPy parameters in the plain layout, or ``None``) is a
    model the result must beat: where the start is only part of the PCA
    solution, the PCA network itself (see :func:`finish`).

    ``on_chunk(losses, validation_losses)`` is called after every chunk with
    that chunk's per-epoch figures (for progress reports).

    With ``pad_code`` the code layer is padded to :func:`padded_code_width`
    masked units for training, so nearby ``n_components`` share one compiled
    program, and cropped back in the result. Without it, training runs at
    the exact width: for objectives whose cost grows with the code width
    (the contractive penalty), the faster steps outweigh a compilation per
    ``n_components``.

    The trainer holds the weights in :func:`network.training_layout`, in
    which their gradients are faster products; the result is in the plain
    layout again, with its output layer solved in closed form where that
    helps, or ``fallback`` where that is better (see :func:`finish`).
    """
    n_components = code_width(params)
    width = padded_code_width(n_components) if pad_code else n_components
    params = training_layout(with_code_width(params, width))
    data = {**data, "code_mask": np.arange(width) < n_components}
    # Cast in NumPy, then transfer: converting on the device would compile a
    # small program per array shape, a noticeable part of a first fit.
    as_float32 = partial(np.asarray, dtype=np.float32)
    host_data, alpha = data, float(hyper["alpha"])  # for finish
    data, hyper, template = jax.device_put(
        ({name: as_float32(value) for name, value in data.items()},
         jax.tree.map(as_float32, hyper),
         jax.tree.map(as_float32, params))
    )
    seed = jax.device_put(np.uint32(seed))
    state = init_state(config, template, data, hyper, seed)
    losses, val_scores = [], []
    done = 0
    while done < max_iter:
        n_epochs = min(config.chunk, max_iter - done)
        state, chunk_losses, chunk_vals = train_chunk(
            config, state, data, hyper, seed, n_epochs, template
        )
        # Explicit fetches (which transfer guards allow), all in one.
        epoch, stopped, chunk_losses, chunk_vals = jax.device_get(
            (state.epoch, state.stopped, chunk_losses, chunk_vals)
        )
        n_run = int(epoch) - done
        done += n_run
        losses.append(chunk_losses[:n_run])
        val_scores.append(chunk_vals[:n_run])
        if on_chunk is not None:
            on_chunk(losses[-1], val_scores[-1])
        if stopped:
            break
    # Fetched before slicing: slicing the device array would compile a small
    # program per slice, 0.06 s of a first fit.
    kept, best_score, diverged = jax.device_get((
        state.best_params if config.early_stopping else state.params,
        state.best_score, state.diverged,
    ))
    best, _ = split_probe(config, kept)
    best = with_code_width(plain_layout(unravel_numpy(best, params)), n_components)
    best_score = float(best_score) if config.early_stopping else float("nan")
    finite = not diverged and all(np.all(np.isfinite(a)) for a in jax.tree.leaves(best))
    # A denoiser's output layer maps corrupted inputs' activations to clean
    # rows, an expectation over the noise with no closed form.
    if finite and not is_random(config.corruption):
        best, best_score = finish(config, best, host_data, alpha, best_score, fallback)
    return TrainResult(
        params=best,
        loss_curve=np.concatenate(losses),
        validation_curve=np.concatenate(val_scores),
        best_validation_loss=best_score,
        converged=bool(stopped) and not bool(diverged),
        diverged=bool(diverged),
    )
