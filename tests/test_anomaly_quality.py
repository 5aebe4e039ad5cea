"""benchmarks/anomaly_quality.py: its simple detectors score what they say on series with a known answer, every
method is scored on the same test steps, and its lstmkit row is what the detector's own run reports. No quality
or timing is asserted beyond that."""

import numpy as np
import pytest
from conftest import load_benchmark


def _spiky(n: int = 400, at: int = 300) -> np.ndarray:
    t = np.arange(n)
    values = np.sin(2 * np.pi * t / 25) + np.random.default_rng(0).normal(0, 0.05, n)
    values[at] += 3
    return values[:, None]  # (N, 1)


def test_the_naive_detector_scores_a_spike_highest_and_nothing_inside_the_lookback():
    bench = load_benchmark("anomaly_quality")
    scores = bench.naive_scores(_spiky(), 30, slice(200, 280))
    assert np.isnan(scores[:30]).all() and np.isfinite(scores[30:]).all()
    assert int(np.argmax(scores[30:])) + 30 in (300, 301)  # the jump up into the spike, or back down from it


def test_isolation_forest_scores_every_step_after_the_lookback_and_the_spike_above_the_rest():
    bench = load_benchmark("anomaly_quality")
    scores = bench.forest_scores(_spiky(), 10, slice(0, 200), seed=0)
    assert np.isnan(scores[:10]).all() and np.isfinite(scores[10:]).all()
    assert scores[301] > np.quantile(scores[10:], 0.95)  # a window holding the spike's jumps is isolated early
    assert np.array_equal(scores, bench.forest_scores(_spiky(), 10, slice(0, 200), seed=0), equal_nan=True)  # a fixed seed


def test_scored_counts_false_flags_and_reads_only_the_given_steps():
    bench = load_benchmark("anomaly_quality")
    labels = np.array([0, 0, 1, 0, 1, 0])
    scores = np.array([9.0, 0.1, 5.0, 4.0, 0.2, 0.3])  # step 0 lies outside the scored steps
    row = bench.scored(labels, scores, 1.0, np.arange(1, 6))
    assert row["false_flags"] == 1 and row["precision"] == 0.5 and row["recall"] == 0.5
    assert row["average_precision"] == 0.75 and row["roc_auc"] == pytest.approx(2 / 3)


def test_the_lstmkit_row_is_the_detector_runs_own_test_metrics():
    bench = load_benchmark("anomaly_quality")
    path, settings = bench.series_specs(["demo0"])["demo0"]
    results = bench.run_series(path, {**settings, "epochs": 3}, seed=5)  # the demo's own seed, 0, holds
    from lstmkit import AnomalyDetector

    own = AnomalyDetector(epochs=3, **settings).fit(path).metrics_
    assert settings["seed"] == 0
    assert {k: results["lstmkit"][k] for k in own} == own
    assert set(results) == {*bench.METHODS, "_"} and results["_"]["anomalies"] == 20  # the demo's events, all in test
    assert "| demo0 (77, 20) |" in bench.table({"demo0": results})
