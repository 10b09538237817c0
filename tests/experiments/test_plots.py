"""Benchmark figures: the performance-profile plot writes a PNG and refuses NaN runs."""

import math

import numpy as np
import pytest

from sparft.experiments import plots


def test_performance_profiles_write_a_png(tmp_path):
    rng = np.random.default_rng(0)
    scores = {
        "uniform": rng.uniform(0.2, 0.5, size=16),
        "sparft": rng.uniform(0.3, 0.6, size=16),
        "presets": rng.uniform(0.2, 0.6, size=(8, 3)),  # runs x tasks
    }
    path = plots.performance_profiles(scores, tmp_path / "profiles.png", n_resamples=200)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    explicit = plots.performance_profiles(
        {"a": [0.1, 0.5, 0.9]}, tmp_path / "explicit.png", taus=np.linspace(0, 1, 11), n_resamples=50
    )
    assert explicit.is_file()


def test_performance_profiles_refuse_nan_runs(tmp_path):
    with pytest.raises(ValueError, match="1 of 3 runs are NaN"):
        plots.performance_profiles({"a": [0.1, math.nan, 0.9]}, tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()
