"""The gallery examples run, so the documentation cannot go stale."""

import runpy
import warnings
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

EXAMPLES = sorted((Path(__file__).parents[1] / "docs" / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path, monkeypatch):
    import matplotlib.pyplot as plt
    from sklearn.exceptions import ConvergenceWarning

    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        runpy.run_path(str(path), run_name="__main__")
    plt.close("all")


def test_there_are_examples():
    assert len(EXAMPLES) >= 3
