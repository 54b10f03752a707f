"""How the jitted programs compile and run: compiler options per platform,
and the JAX settings they are written for.

Every compiled program (training and the blocked forward passes) goes
through :class:`BackendJit`, which passes the options in
``COMPILER_OPTIONS`` for the platform the program runs on to that program
alone, and traces and runs it with the JAX settings it is written for
(32-bit types, standard type promotion, ...; see :func:`library_settings`),
whatever the caller set globally. JAX's global configuration is never
touched.
"""

import contextlib
from functools import partial

import jax
import numpy as np

#: Compiler options on CPU, passed per program, never set globally.
#:
#: - LLVM -O1 instead of XLA's default for the generated elementwise and
#:   fused kernels (matrix products call precompiled libraries either way).
#:   On small data, where compiling dominates a fit, the trainers compile
#:   about 30% faster and run no slower (benchmarks/defaults.py).
#: - Only reductions are fused into YNNPACK calls; elementwise work around
#:   the matrix products stays in XLA's own kernels. The default fits give
#:   the same results, and on a 2-core CPU Adam trains about 13% more rows
#:   per second (benchmarks/throughput.py) and an L-BFGS iteration on the
#:   digits runs about 10% faster (benchmarks/step_cost.py).
#: - The jitted forward passes of ``transform`` and ``inverse_transform``
#:   compile with the same options: on the throughput.py network a block of
#:   4096 rows encodes in 0.66 ms instead of 0.86 ms, and decodes in 0.60 ms
#:   instead of 0.73 ms.
CPU_COMPILER_OPTIONS = {
    "xla_backend_optimization_level": 1,
    "xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_REDUCE",
}

#: Compiler options on GPUs. XLA's autotuner times candidate kernels for
#: each matrix product while compiling and may pick different ones in
#: different processes; their rounding differs, and full-batch L-BFGS
#: amplifies that into a different fit for the same ``random_state`` (on an
#: H100, the curve's held-out MSE came out 0.0032 in one process and 0.0021
#: in another). Without autotuning XLA picks the kernels by its heuristics,
#: the same in every process. Measured on an H100: refits then agree across
#: processes, first fits compile faster (about 4.2 s against 4.9 s for the
#: curve) and Adam trains as fast (0.96M-1.14M rows/s against 1.03M-1.08M).
#: ``xla_gpu_deterministic_ops`` also gives agreeing refits, but costs Adam
#: about 20% of its rows/s.
GPU_COMPILER_OPTIONS = {"xla_gpu_autotune_level": 0}

COMPILER_OPTIONS = {"cpu": CPU_COMPILER_OPTIONS, "gpu": GPU_COMPILER_OPTIONS}

#: Options that older jaxlib releases do not know; where one is refused,
#: the program is compiled without them.
OPTIONAL_COMPILER_OPTIONS = ("xla_cpu_experimental_ynn_fusion_type",)


def current_platform():
    """The platform that computations on uncommitted arrays run on: that of
    ``jax.default_device`` where the caller set one, else the default
    backend's (``"cpu"``, ``"gpu"``, ...).

    ``jax.default_backend()`` alone ignores ``jax.default_device``: inside
    ``with jax.default_device(jax.devices("cpu")[0])`` on a GPU machine it
    still says ``"gpu"``, and the CPU programs would be compiled with the
    GPU's options instead of their own.
    """
    device = jax.config.jax_default_device
    if device is None:
        return jax.default_backend()
    if isinstance(device, str):  # a platform name such as "cpu" or "cuda"
        return jax.devices(device)[0].platform
    return device.platform


#: JAX settings the programs are written for, pinned around every call
#: (see :func:`library_settings`), with what a caller's global setting did
#: to them when it was not:
#:
#: - 64-bit types: Python scalars inside turn float64, and optax's line
#:   search fails on the float32 loss ("cotangent type does not match
#:   function output"); Adam's results change in the last digits.
#: - strict dtype promotion, or rank promotion "raise": an error at the
#:   first mixed or broadcast operation (an int32 count times a float32
#:   loss, a bias added to a batch).
#: - NaN or inf checks: an error on the training program's own NaN-filled
#:   buffers and infinite starting loss; divergence is reported by the
#:   estimator instead.
#: - the random number generator's implementation and its partitionable
#:   mode: other noise and shuffling for the same ``random_state``.
#: - transfer guards that disallow implicit transfers: an error on the
#:   arguments handed to a program, or on fetching its result (see
#:   ``BackendJit``'s ``fetch``; ``train.train`` fetches explicitly, which
#:   guards allow). JAX reports an unset guard as ``None``, which allows
#:   them.
#: - JIT disabled: every operation run one by one, a fit many times slower
#:   and with other rounding.
PINNED_SETTINGS = {
    "numpy_dtype_promotion": "standard",
    "numpy_rank_promotion": "allow",
    "debug_nans": False,
    "debug_infs": False,
    "default_prng_impl": "threefry2x32",
    "threefry_partitionable": True,
    "transfer_guard_host_to_device": "allow",
    "transfer_guard_device_to_device": "allow",
    "transfer_guard_device_to_host": "allow",
    "disable_jit": False,
}


def library_settings():
    """A context in which JAX traces and runs with 32-bit types and the
    ``PINNED_SETTINGS``, whatever the caller set globally; each is a scoped
    JAX context manager, so the caller's settings are back on exit.

    The same ``random_state`` then gives the same fit under any of these
    settings, and none of them breaks a fit. Only the settings that differ
    are entered: entering all of them cost about 30 us per call, 5% of a
    ``transform`` block of 4096 rows.
    """
    stack = contextlib.ExitStack()
    if jax.config.jax_enable_x64:
        if hasattr(jax, "enable_x64"):
            stack.enter_context(jax.enable_x64(False))
        else:  # jax releases before 0.5
            from jax.experimental import disable_x64

            stack.enter_context(disable_x64())
    for name, value in PINNED_SETTINGS.items():
        current = getattr(jax.config, f"jax_{name}")
        current = getattr(current, "value", current)  # newer releases report enums
        if current is not None and current != value:
            stack.enter_context(getattr(jax, name)(value))
    return stack


class BackendJit:
    """``jax.jit`` of ``fn`` that compiles with the ``COMPILER_OPTIONS`` of
    the platform it runs on (see :func:`current_platform`; none for a
    platform not listed there), within :func:`library_settings`.

    With ``fetch`` a call returns its result as NumPy arrays instead of
    device arrays, fetched within the settings.
    """

    def __init__(self, fn, static_argnames, fetch=False):
        self._jit = partial(jax.jit, fn, static_argnames=static_argnames)
        self._fetch = fetch
        self._by_platform = {}
        self.__doc__ = fn.__doc__

    def __call__(self, *args, **kwargs):
        with library_settings():
            result = self._call(*args, **kwargs)
            # np.asarray, not jax.device_get: 1.5 us against 16 us a block.
            return jax.tree.map(np.asarray, result) if self._fetch else result

    def _call(self, *args, **kwargs):
        platform = current_platform()
        options = COMPILER_OPTIONS.get(platform, {})
        if platform not in self._by_platform:
            self._by_platform[platform] = self._jit(compiler_options=options)
        try:
            return self._by_platform[platform](*args, **kwargs)
        except jax.errors.JaxRuntimeError as error:
            if not any(name in str(error) for name in OPTIONAL_COMPILER_OPTIONS):
                raise
        # Refused before compiling anything: retry without the optional ones.
        self._by_platform[platform] = self._jit(compiler_options={
            name: value for name, value in options.items()
            if name not in OPTIONAL_COMPILER_OPTIONS
        })
        return self._by_platform[platform](*args, **kwargs)

    def _cache_size(self):
        """How many programs have been compiled (for tests and benchmarks)."""
        return sum(jitted._cache_size() for jitted in self._by_platform.values())
