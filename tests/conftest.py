import os

# The quality tests' thresholds were set on CPU results, and a GPU's differ
# in the last digits; keep JAX on the CPU unless JAX_PLATFORMS says otherwise
# (the suite also passes with JAX_PLATFORMS=cuda).
os.environ.setdefault("JAX_PLATFORMS", "cpu")

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
