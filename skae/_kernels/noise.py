"""Input corruptions for denoising autoencoders.

Every corruption has the signature ``corrupt(key, x, args)`` where ``args`` is
a dict of traced values: ``noise_level`` and per-feature arrays ``low``,
``high`` (the training data's range) and ``zero`` (where the value 0 of the
user's data lies, since the network sees internally scaled data).
"""

import jax
import jax.numpy as jnp


def no_corruption(key, x, args):
    """Leave the input as it is."""
    return x


def is_random(corruption):
    """Whether ``corruption`` draws fresh noise, making the training
    objective change from step to step."""
    return corruption is not no_corruption


def gaussian(key, x, args):
    """``x + noise_level * N(0, 1)``, clipped to the training range (the
    classic image recipe clips to the pixel range). ``noise_level`` is in
    the network's units: the estimator converts it from the data's."""
    noisy = x + args["noise_level"] * jax.random.normal(key, x.shape, x.dtype)
    return jnp.clip(noisy, args["low"], args["high"])


def masking(key, x, args):
    """Set each entry to 0 with probability ``noise_level``."""
    dropped = jax.random.bernoulli(key, args["noise_level"], x.shape)
    return jnp.where(dropped, args["zero"], x)


def salt_pepper(key, x, args):
    """Set each entry, with probability ``noise_level``, to its feature's
    minimum or maximum (each with equal chance)."""
    hit_key, side_key = jax.random.split(key)
    hit = jax.random.bernoulli(hit_key, args["noise_level"], x.shape)
    salt = jax.random.bernoulli(side_key, 0.5, x.shape)
    return jnp.where(hit, jnp.where(salt, args["high"], args["low"]), x)


CORRUPTIONS = {"gaussian": gaussian, "masking": masking, "salt_pepper": salt_pepper}
