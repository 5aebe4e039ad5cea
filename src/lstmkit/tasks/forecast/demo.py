"""`lstmkit demo forecast`: the monthly airline passengers 1949-1960 (shipped with lstmkit), 12 months ahead."""

from __future__ import annotations

from ...data.shipped import airline_csv
from ...rundir import clear_interrupted_demo
from ..run import train_run
from .estimator import Forecaster


def demo(out, seed: int = 0, reporter=None) -> dict:
    """Train the demo forecaster into run directory `out`; returns metrics.json's content."""
    clear_interrupted_demo(out)
    return train_run(Forecaster("passengers", time_col="month", horizon=12, seed=seed), airline_csv(), out, reporter=reporter)
