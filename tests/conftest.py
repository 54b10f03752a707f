import os

# The test suite checks CPU results (bit-identical refits); keep JAX there
# even where an accelerator is present.
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="session")
def iris_split():
    """Standardized iris, 80/20 train/test split."""
    X = StandardScaler().fit_transform(load_iris().data)
    return train_test_split(X, test_size=0.2, random_state=0)


@pytest.fixture(scope="session")
def digits_split():
    """Digits with pixels scaled to [0, 1], 80/20 train/test split."""
    X = load_digits().data / 16.0
    return train_test_split(X, test_size=0.2, random_state=0)


def make_curve(n_samples, random_state=0):
    """The 1-D manifold in 4-D: X = [Z^2, Z^3, sin Z, exp Z], Z ~ U(-5, 5)."""
    z = np.random.RandomState(random_state).uniform(-5, 5, n_samples)
    return np.column_stack([z**2, z**3, np.sin(z), np.exp(z)])


def make_linear(n_samples=1000, offset=False, random_state=0):
    """Columns x, 2x, ..., 10x of x = round(U(0, 1) * 200); optionally plus
    one independent round(U * 200) added to every column."""
    rng = np.random.RandomState(random_state)
    x = np.round(rng.uniform(size=n_samples) * 200)
    X = np.outer(x, np.arange(1, 11))
    if offset:
        X = X + np.round(rng.uniform(size=n_samples) * 200)[:, None]
    return X
