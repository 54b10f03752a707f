"""The reference data sets the library is measured on.

Small generators so tests, benchmarks and examples all use the same data.
"""

import numpy as np
from sklearn.utils import check_random_state


def make_curve(n_samples=10_000, random_state=None):
    """A 1-D curve in 4-D: ``[z**2, z**3, sin(z), exp(z)]``, ``z ~ U(-5, 5)``.

    One latent number explains every column, but no straight line does:
    PCA with one component cannot reconstruct it, an autoencoder can.

    Parameters
    ----------
    n_samples : int, default=10000
        Number of rows.
    random_state : int, RandomState instance or None, default=None
        Seed of ``z``.

    Returns
    -------
    X : ndarray of shape (n_samples, 4)

    Examples
    --------
    >>> from skae.datasets import make_curve
    >>> make_curve(5, random_state=0).shape
    (5, 4)
    """
    z = check_random_state(random_state).uniform(-5, 5, n_samples)
    return np.column_stack([z**2, z**3, np.sin(z), np.exp(z)])


def make_linear(n_samples=1000, offset=False, random_state=None):
    """Linearly redundant columns ``[x, 2x, ..., 10x]``, ``x = round(200 U)``.

    Compressible to one number. With ``offset=True`` an independent
    ``round(200 U)`` is added to every column, so two numbers are needed.
    Values reach 2000: a test of training on unscaled data.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    offset : bool, default=False
        Whether to add the independent offset.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, 10)

    Examples
    --------
    >>> from skae.datasets import make_linear
    >>> X = make_linear(3, random_state=0)
    >>> bool((X[:, 1] == 2 * X[:, 0]).all())
    True
    """
    rng = check_random_state(random_state)
    x = np.round(rng.uniform(size=n_samples) * 200)
    X = np.outer(x, np.arange(1, 11)).astype(np.float64)
    if offset:
        X += np.round(rng.uniform(size=n_samples) * 200)[:, None]
    return X


def make_noise(n_samples=1000, n_features=10, random_state=None):
    """Incompressible ``N(0, 1)`` noise: no bottleneck narrower than the
    input reconstructs it.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    n_features : int, default=10
        Number of columns.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)

    Examples
    --------
    >>> from skae.datasets import make_noise
    >>> make_noise(4, 3, random_state=0).shape
    (4, 3)
    """
    return check_random_state(random_state).normal(size=(n_samples, n_features))
