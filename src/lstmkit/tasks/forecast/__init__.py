"""Forecasting: the next `horizon` steps of a series from a CSV, beside the naive baselines.

    estimator.py  `Forecaster`: read, split by time, scale, window, train, score, predict, save, load
    net.py        `ForecastNet`: the LSTM encoder and a head that emits every horizon step at once
    report.py     metrics.json, the verdict against the baselines, report.html
    demo.py       `lstmkit demo forecast`: the monthly airline passengers
"""

from __future__ import annotations

from ..job import Demo, Job, JobParts
from .settings import ForecastSettings


def _parts() -> JobParts:
    from . import demo, estimator, report

    return JobParts.of(estimator.Forecaster, report, {"forecast": demo.demo})


JOB = Job(
    name="forecast",
    summary="Train a forecaster on a CSV series and score it beside the naive baselines.",
    settings=ForecastSettings,
    data_help="CSV file with the series.",
    metrics=("mse", "rmse", "mae", "mape", "smape", "mase"),
    load_parts=_parts,
    demos=(Demo("forecast", "Monthly airline passengers 1949-1960, forecast 12 months ahead"),),
    predict_needs_data=False,
)
