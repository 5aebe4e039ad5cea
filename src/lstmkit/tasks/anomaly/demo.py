"""`lstmkit demo anomaly`: the yearly sunspot numbers (shipped with lstmkit) with labelled anomalies
injected into their last quarter."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ...data import part_rows
from ...data.shipped import sunspots_csv
from ...fileio import atomic_write_text
from ...rundir import clear_interrupted_demo
from ..run import train_run
from .estimator import AnomalyDetector

DEMO_TEST_FRAC = 0.25  # the last quarter holds the injected anomalies, and is the test part
DEMO_EVENTS = ("spike", "spike", "spike", "level_shift", "flat_line", "noise_burst")
EVENT_STEPS = {"spike": 1, "level_shift": 6, "flat_line": 6, "noise_burst": 5}
EVENT_GAP = 3  # normal steps at least between two events, and before the first


def inject_anomalies(values: np.ndarray, start: int, stop: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A copy of values (N,) with DEMO_EVENTS at random places in [start, stop), and their 0/1 labels (N,).

    Sizes are in units of the standard deviation of the step-to-step changes before `start`: spikes of
    4-6, level shifts of 3-4 (for 6 steps), a flat line (the sensor repeats its last value for 6 steps) and
    a burst of noise with standard deviation 2.5 (5 steps)."""
    x, labels = np.array(values, dtype=np.float64), np.zeros(len(values), dtype=np.int64)
    scale = np.std(np.diff(x[:start]))
    events = list(DEMO_EVENTS)
    rng.shuffle(events)
    room = stop - start - sum(EVENT_STEPS[e] for e in events) - EVENT_GAP * len(events)
    if room < 0:
        raise ValueError(f"[{start}, {stop}) is too short for the demo's anomalies")
    gaps = np.diff(np.sort(rng.integers(0, room + 1, len(events))), prepend=0)  # (E,) extra room before each
    t = start
    for event, gap in zip(events, gaps):
        t += EVENT_GAP + int(gap)
        steps = slice(t, t + EVENT_STEPS[event])
        if event == "spike":
            x[steps] += rng.choice([-1, 1]) * rng.uniform(4, 6) * scale
        elif event == "level_shift":
            x[steps] += rng.choice([-1, 1]) * rng.uniform(3, 4) * scale
        elif event == "flat_line":
            x[steps] = x[t - 1]
        else:
            x[steps] += rng.normal(0, 2.5 * scale, EVENT_STEPS[event])
        labels[steps] = 1
        t = steps.stop
    return x, labels


def demo_anomaly_data(seed: int = 0) -> Path:
    """The yearly sunspot numbers 1700-2008 that ship with lstmkit, with labelled anomalies injected into the
    last quarter (deterministic by seed), as a CSV with the columns year, sunspots, anomaly (0/1) in the
    temporary folder; returns its path."""
    frame = pd.read_csv(sunspots_csv())
    n = len(frame)
    start = n - part_rows(n, DEMO_TEST_FRAC)  # the test part of split_by_time
    values, labels = inject_anomalies(frame["sunspots"].to_numpy(), start, n, np.random.default_rng(seed))
    frame["sunspots"], frame["anomaly"] = values.round(1), labels
    path = Path(tempfile.gettempdir()) / "lstmkit-demo" / f"sunspots_anomalies_seed{seed}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, frame.to_csv(index=False))
    return path


def demo_detector(seed: int = 0) -> AnomalyDetector:
    return AnomalyDetector(time_col="year", label_col="anomaly", test_frac=DEMO_TEST_FRAC, seed=seed)


def demo(out, seed: int = 0, reporter=None) -> dict:
    """Train the demo detector into run directory `out`; returns metrics.json's content."""
    clear_interrupted_demo(out)
    return train_run(demo_detector(seed), demo_anomaly_data(seed), out, reporter=reporter)
