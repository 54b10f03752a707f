"""The autoencoder network as pure functions of a parameter pytree.

Parameters are a dict::

    {"encoder": [(W, b), ...],   # hidden layers, then the code layer
     "decoder": [(W, b), ...],   # hidden layers, then the output layer
     "linear": (S, T)}           # optional linear path: code += x @ S,
                                 # reconstruction += code @ T

The encoder's hidden layers use ``spec.activation``, its last layer
``spec.code_activation``; the decoder's hidden layers use ``spec.activation``
and its output layer is linear. The optional linear path lets training start
from a PCA solution (``S = V_k``, ``T = V_k^T``, last nonlinear layers zero)
and add a nonlinear correction to it. The trainer holds some weights
transposed (see :func:`training_layout`).

Everything here works on ``jax.numpy`` and on plain NumPy arrays alike (pass
``xp=numpy``), so the estimator's NumPy inference and the jitted kernels share
one definition of the forward pass.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .backend import BackendJit


class NetworkSpec(NamedTuple):
    """The static (hashable) description of a network's nonlinearities."""

    activation: str
    code_activation: str


def _sigmoid(z, xp):
    if xp is np:
        # NumPy has no expit without SciPy; this form never overflows.
        return np.exp(-np.logaddexp(0.0, -z)).astype(z.dtype, copy=False)
    return jax.nn.sigmoid(z)


def activate(name, z, xp=jnp):
    """Apply the activation function ``name`` elementwise."""
    if name == "identity":
        return z
    if name == "tanh":
        return xp.tanh(z)
    if name == "relu":
        return xp.maximum(z, 0)
    if name == "sigmoid":
        return _sigmoid(z, xp)
    if name == "silu":
        return z * _sigmoid(z, xp)
    raise ValueError(f"unknown activation {name!r}")


def activation_derivative(name, z, h):
    """Derivative of activation ``name`` at pre-activation ``z``.

    ``h`` is the activation's output, from which sigmoid and tanh derivatives
    are cheapest to compute.
    """
    if name == "identity":
        return jnp.ones_like(z)
    if name == "tanh":
        return 1.0 - h * h
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "sigmoid":
        return h * (1.0 - h)
    if name == "silu":
        s = jax.nn.sigmoid(z)
        return s * (1.0 + z * (1.0 - s))
    raise ValueError(f"unknown activation {name!r}")


ACTIVATIONS = ("identity", "tanh", "relu", "sigmoid", "silu")


@jax.tree_util.register_pytree_node_class
class Transposed:
    """A weight matrix ``W`` held as its transpose, ``stored = W.T``.

    :func:`matmul` multiplies by it without forming ``W``, so the gradient
    with respect to ``stored`` is a single matrix product in that layout
    (see :func:`training_layout`). A pytree node with ``stored`` as its only
    leaf: ``ravel_pytree`` and ``jax.tree.map`` see the stored array.
    """

    def __init__(self, stored):
        self.stored = stored

    def tree_flatten(self):
        return (self.stored,), None

    @classmethod
    def tree_unflatten(cls, _, children):
        return cls(*children)


#: A weight matrix is held transposed for training when it has at least
#: this many times as many rows as columns (see :func:`training_layout`).
TALL_RATIO = 2


def training_layout(params):
    """``params`` with every weight matrix that has at least ``TALL_RATIO``
    times as many rows as columns (a layer that narrows the data that much)
    held :class:`Transposed`.

    A weight's gradient is the product ``h^T g`` of the layer's inputs and
    output gradients, contracted over the rows. XLA's CPU matrix products of
    that kind run slower when the result is tall than when it is wide: over
    the 1,536 padded rows of a digits fit, the (32, 16) result took 48 us
    and the (16, 32) one 21 us; over 256 iris rows the (32, 4) result took
    5.8 us and the (4, 32) one 2.4 us (2-core CPU). Near-square results
    gain little or lose (a (100, 64) result took 1.2-1.3 times as long as
    its transpose), hence the ratio. Held transposed, a tall weight's
    gradient comes out wide. Measured on that CPU, both layouts in one
    process and taking turns, over three runs of
    ``benchmarks/step_cost.py --layouts``: an L-BFGS iteration takes 4-10%
    less time on the curve (k=1), 4-9% on iris (k=1), 12% on the digits
    (k=2) and 5-6% on the digits (k=10), whose code layer is wider; Adam
    trains 4-11% more rows per second on the network of throughput.py.
    """

    def held(a):
        tall_matrix = a.ndim == 2 and a.shape[0] >= TALL_RATIO * a.shape[1]
        return Transposed(a.T) if tall_matrix else a

    return jax.tree.map(held, params)


def plain_layout(params):
    """``params`` with every :class:`Transposed` weight turned back into the
    matrix it holds (the inverse of :func:`training_layout`)."""
    return jax.tree.map(lambda a: a.stored.T if isinstance(a, Transposed) else a, params,
                        is_leaf=lambda a: isinstance(a, Transposed))


def matmul(a, b, xp=jnp):
    """``a @ b`` (``b`` may be :class:`Transposed`), in full float32
    precision also on GPUs.

    XLA's default precision lets GPUs with tensor cores round float32
    operands to TensorFloat-32, a 10-bit mantissa: on an H100 a product's
    relative error was 3e-4, against 1e-7 in float32. That breaks the
    NumPy and jitted forward passes' agreement, and full-batch L-BFGS, whose
    line search compares losses that differ in far smaller digits, then
    ends at worse minima. On CPUs the products are float32 either way.
    """
    if isinstance(b, Transposed):
        if xp is np:
            return a @ b.stored.T
        # Contract over the stored matrix's second axis. Forming W = stored.T
        # instead would not do: XLA folds that transpose into the product
        # that computes the gradient, which then comes out as W's again.
        return jax.lax.dot_general(a, b.stored, (((a.ndim - 1,), (1,)), ((), ())),
                                   precision=jax.lax.Precision.HIGHEST)
    if xp is np:
        return a @ b
    return jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST)


def encoder_layers(spec, params):
    """Yield ``(W, b, activation_name)`` for each encoder layer."""
    layers = params["encoder"]
    for i, (W, b) in enumerate(layers):
        last = i == len(layers) - 1
        yield W, b, spec.code_activation if last else spec.activation


def encode(spec, params, x, xp=jnp):
    """Map inputs ``x`` of shape (n, n_features) to codes (n, n_components)."""
    h = x
    for W, b, name in encoder_layers(spec, params):
        h = activate(name, matmul(h, W, xp) + b, xp)
    linear = params.get("linear")
    return h if linear is None else h + matmul(x, linear[0], xp)


def decoder_hidden(spec, params, code, xp=jnp):
    """The decoder's last hidden activations for ``code``: what its output
    layer maps, with the linear path's ``code @ T``, to the reconstruction."""
    g = code
    for W, b in params["decoder"][:-1]:
        g = activate(spec.activation, matmul(g, W, xp) + b, xp)
    return g


def decode(spec, params, code, xp=jnp):
    """Map codes of shape (n, n_components) back to input space."""
    W, b = params["decoder"][-1]
    reconstruction = matmul(decoder_hidden(spec, params, code, xp), W, xp) + b
    linear = params.get("linear")
    return reconstruction if linear is None else reconstruction + matmul(code, linear[1], xp)


def init_params(rng, n_features, n_components, hidden_layer_sizes, spec, pca_components=None):
    """Initial parameters as float32 NumPy arrays, drawn from NumPy ``rng``.

    Weights are Glorot-uniform, ``U(-b, b)`` with ``b = sqrt(factor /
    (fan_in + fan_out))``: ``factor`` is 6, or 2 for a sigmoid code layer, as
    in scikit-learn's MLP. Hidden sigmoid layers start like tanh layers
    instead: ``sigmoid(z) = (1 + tanh(z / 2)) / 2``, so twice tanh's bound
    (``factor`` 24). With the smaller bound they start nearly linear and
    training does not leave the PCA start (digits, 10 components: 1.00x
    PCA's error, against 0.61x).

    When ``pca_components`` (rows are principal axes, at most
    ``n_components`` of them) is given, the linear path is set to those
    axes, the code units beyond them start unused, and the last encoder and
    decoder layers start at zero, so the initial network reconstructs
    exactly like PCA with that many components.
    """
    enc_sizes = (n_features, *hidden_layer_sizes, n_components)
    dec_sizes = tuple(reversed(enc_sizes))
    hidden_factor = 24.0 if spec.activation == "sigmoid" else 6.0
    code_factor = 2.0 if spec.code_activation == "sigmoid" else 6.0

    def glorot(fan_in, fan_out, factor):
        bound = np.sqrt(factor / (fan_in + fan_out))
        W = rng.uniform(-bound, bound, (fan_in, fan_out))
        b = rng.uniform(-bound, bound, fan_out)
        return W.astype(np.float32), b.astype(np.float32)

    def stack(sizes, factors):
        return [glorot(i, o, f) for i, o, f in zip(sizes[:-1], sizes[1:], factors)]

    n_layers = len(enc_sizes) - 1
    encoder = stack(enc_sizes, [hidden_factor] * (n_layers - 1) + [code_factor])
    decoder = stack(dec_sizes, [hidden_factor] * n_layers)
    params = {"encoder": encoder, "decoder": decoder, "linear": None}
    if pca_components is not None:
        params = with_linear_path(params, pca_components)
        for layers in (params["encoder"], params["decoder"]):
            W, b = layers[-1]
            layers[-1] = (np.zeros_like(W), np.zeros_like(b))
    return params


def with_linear_path(params, pca_components):
    """``params`` with the linear path's encoding matrix ``S`` set to the
    principal axes that are the rows of ``pca_components`` (code units
    beyond them get zero columns), and its decoding matrix to ``S.T``."""
    n_features, n_components = params["encoder"][0][0].shape[0], code_width(params)
    S = np.zeros((n_features, n_components), dtype=np.float32)
    rank = min(len(pca_components), n_components)
    S[:, :rank] = pca_components[:rank].T
    return {**params, "linear": (S, np.ascontiguousarray(S.T))}


def code_width(params):
    """The number of code units of ``params``."""
    return params["encoder"][-1][0].shape[1]


def with_code_width(params, width):
    """NumPy ``params`` with the code layer padded with zero units, or cropped,
    to ``width`` units.

    Padded units have zero weights in and out (and on the linear path), so
    they change nothing; training masks them (see ``train.objective``) so
    they stay zero.
    """
    def resized(a, axis):
        if a.shape[axis] >= width:
            return np.take(a, np.arange(width), axis=axis)
        padding = [(0, 0)] * a.ndim
        padding[axis] = (0, width - a.shape[axis])
        return np.pad(a, padding)

    (W_code, b_code), *later = params["encoder"][::-1]
    (W_first, b_first), *rest = params["decoder"]
    linear = params.get("linear")
    return {
        "encoder": [*reversed(later), (resized(W_code, 1), resized(b_code, 0))],
        "decoder": [(resized(W_first, 0), b_first), *rest],
        "linear": None if linear is None else (resized(linear[0], 1), resized(linear[1], 0)),
    }


def weight_sum_of_squares(params, xp=jnp):
    """Sum of squared weights (not biases), the L2 penalty's raw value."""
    weights = [W for W, _ in (*params["encoder"], *params["decoder"])]
    if params.get("linear") is not None:
        weights.extend(params["linear"])
    total = 0.0
    for W in weights:
        W = W.stored if isinstance(W, Transposed) else W  # the same squares
        total = total + xp.sum(W * W)
    return total


def _encode_block(spec, params, x):
    """Jitted :func:`encode` for one fixed-size block of rows (float32).

    Callers pad their last block to the same size, so a single program
    serves every input size.
    """
    return encode(spec, params, x)


def _decode_block(spec, params, code):
    """Jitted :func:`decode` for one fixed-size block of codes (float32)."""
    return decode(spec, params, code)


encode_block = BackendJit(_encode_block, static_argnames=("spec",), fetch=True)
decode_block = BackendJit(_decode_block, static_argnames=("spec",), fetch=True)
