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
    ``D_L W_L^T ... D_1 W_1^T`` is multiplied out exactly as an explicit
    (rows, n_components, width) tensor, starting from the code side: the
    code is the narrowest layer, so that order does the least arithmetic.
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
    jac_t = None  # d code / d (this layer's input), transposed: (rows, code, width)
    for (W, _, _), d in zip(reversed(layers), reversed(derivatives)):
        scaled = d[:, :, None] if jac_t is None else jac_t * d[:, None, :]
        jac_t = scaled * W.T[None] if jac_t is None else matmul(scaled, W.T)
    if linear is not None:
        jac_t = jac_t + linear[0].T[None]
    return jnp.sum(jac_t * jac_t, axis=(1, 2))


def contractive(spec, params, x, code, mask, args):
    """``contraction * mean_rows ||J_e(x)||_F^2`` (Rifai et al., 2011)."""
    per_row = encoder_jacobian_frobenius_sq(spec, params, x)
    return args["contraction"] * masked_mean(per_row, mask)
