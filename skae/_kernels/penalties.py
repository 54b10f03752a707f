"""Regularisation terms added to the reconstruction loss.

Every penalty has the signature ``penalty(spec, params, x, code, mask, args)``:
``x`` is the (possibly corrupted) encoder input of one minibatch, ``code`` the
encoder output on it, ``mask`` marks the real (non-padding) rows with 1 and
``args`` is a dict of traced hyperparameters. Padding rows must not count, so
every batch statistic is a masked mean; during training ``args["code_mask"]``
marks the code units in use (padding units have zero weights and a zero
code).
"""

import jax.numpy as jnp

from .network import activate, activation_derivative, encoder_layers, matmul


def masked_mean(values, mask):
    """Mean of ``values`` over the rows where ``mask`` is 1."""
    mask = mask.reshape(mask.shape + (1,) * (values.ndim - 1))
    return jnp.sum(values * mask, axis=0) / jnp.maximum(jnp.sum(mask), 1.0)


def no_penalty(spec, params, x, code, mask, args):
    """The plain autoencoder: no extra term."""
    return jnp.zeros((), dtype=x.dtype)


def kl_divergence(rho, q):
    """``KL(rho || q)`` between Bernoulli distributions, elementwise."""
    return rho * jnp.log(rho / q) + (1.0 - rho) * jnp.log((1.0 - rho) / (1.0 - q))


def kl_sparsity(spec, params, x, code, mask, args):
    """``weight * sum_j KL(target || rho_hat_j)`` with ``rho_hat_j`` the mean
    activation of code unit j over the real rows of the batch.

    The mean is clipped away from 0 and 1 so a saturated unit gives a large
    but finite penalty instead of ``inf``.
    """
    eps = 1e-6
    rho_hat = jnp.clip(masked_mean(code, mask), eps, 1.0 - eps)
    divergence = kl_divergence(args["sparsity_target"], rho_hat)
    units = args.get("code_mask", 1.0)  # padding code units do not count
    return args["sparsity_weight"] * jnp.sum(units * divergence)


def encoder_jacobian_frobenius_sq(spec, params, x):
    """Per-row squared Frobenius norm of the encoder's Jacobian ``d code / d x``.

    Closed form, no autodiff. For a single layer ``h = s(x W + b)`` this is
    ``sum_j s'(z_j)^2 sum_i W_ij^2``, one pass over the weights. For deeper
    encoders (or with the linear path) the transposed Jacobian
    ``D_L W_L^T ... D_1 W_1^T`` is multiplied out as an explicit
    (rows, n_components, width) tensor, starting from the code side: the
    code is the narrowest layer, so that order does the least arithmetic.
    The last factor, ``W_1^T``, is left to :func:`_frobenius_sq_through`.
    """
    layers = list(encoder_layers(spec, params))
    linear = params.get("linear")
    if len(layers) == 1 and linear is None:
        W, b, name = layers[0]
        z = matmul(x, W) + b
        d = activation_derivative(name, z, activate(name, z))
        return matmul(d * d, jnp.sum(W * W, axis=0))

    h = x
    derivatives = []
    for W, b, name in layers:
        z = matmul(h, W) + b
        h = activate(name, z)
        derivatives.append(activation_derivative(name, z, h))
    S = None if linear is None else linear[0]
    # d code / d (input of the code layer), transposed: (rows, code, width).
    jac_t = derivatives[-1][:, :, None] * layers[-1][0].T[None]
    if len(layers) == 1:
        # That input is x itself, and there is a linear path (a single
        # layer without one took the one-pass form above).
        return _frobenius_sq_plus_linear(jac_t, S)
    jac_t = jac_t * derivatives[-2][:, None, :]
    # Back to d code / d (pre-activation of the first layer).
    for (W, _, _), d in zip(reversed(layers[1:-1]), reversed(derivatives[:-2])):
        jac_t = rowwise_matmul(jac_t, W.T) * d[:, None, :]
    return _frobenius_sq_through(jac_t, layers[0][0], S)


def rowwise_matmul(t, W):
    """``t @ W`` for ``t`` of shape (rows, code, width), as one 2-D product
    of (rows * code, width) by ``W``.

    XLA's CPU backend runs the 3-D form (two free dimensions on the left)
    far slower: at the digits' shapes, (1536, 10, 32) by (32, 32) with the
    elementwise work around it took 1.4 ms that way and 0.25 ms as one 2-D
    product (2-core CPU).
    """
    rows, code, width = t.shape
    return matmul(t.reshape(rows * code, width), W).reshape(rows, code, W.shape[1])


def _frobenius_sq_plus_linear(jac_t, S=None):
    """Per-row ``||jac_t + S^T||_F^2`` for the transposed Jacobian ``jac_t``
    (rows, code, n_features) and the linear path's ``S`` (n_features, code),
    if any."""
    if S is not None:
        jac_t = jac_t + S.T[None]
    return jnp.sum(jac_t * jac_t, axis=(1, 2))


def _frobenius_sq_through(jac_t, W, S=None):
    """Per-row ``||jac_t W^T + S^T||_F^2`` for ``jac_t`` of shape
    (rows, code, width), ``W`` (n_features, width) and the linear path's
    ``S`` (n_features, code), if any.

    When the input is wider than the first layer (the digits: 64 features,
    32 units), the product ``jac_t W^T`` would be the largest tensor of the
    chain; expanding the square through the Gram matrix ``G = W^T W``
    instead (``||k W^T||^2 = k G k^T`` for every row ``k`` of ``jac_t``)
    keeps every product at the layer's width. On the digits that and
    :func:`rowwise_matmul` each took a quarter off a default
    ContractiveAE iteration, and together halved it
    (benchmarks/contractive.py).
    """
    n_features, width = W.shape
    if n_features <= width:
        return _frobenius_sq_plus_linear(rowwise_matmul(jac_t, W.T), S)
    gram = matmul(W.T, W)
    total = jnp.sum(rowwise_matmul(jac_t, gram) * jac_t, axis=(1, 2))
    if S is not None:
        # ||K W^T + S^T||^2 = K G K^T + 2 <K, (W^T S)^T> + ||S||^2
        cross = matmul(W.T, S)  # (width, code)
        total = total + 2.0 * jnp.sum(jac_t * cross.T[None], axis=(1, 2)) + jnp.sum(S * S)
    return total


def contractive(spec, params, x, code, mask, args):
    """``contraction * mean_rows ||J_e(x)||_F^2`` (Rifai et al., 2011)."""
    per_row = encoder_jacobian_frobenius_sq(spec, params, x)
    return args["contraction"] * masked_mean(per_row, mask)
