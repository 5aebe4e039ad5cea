"""Forecasting: the next `horizon` steps of one series or of many (long format), beside the naive,
seasonal naive, Naive2, ETS and Theta forecasts.

    estimator.py  `Forecaster`: read, split by time, decompose, window, train (ensembles, backtests), predict,
                  save, load
    net.py        `ForecastNet`: an LSTM correcting a statistical forecast, every horizon step at once
    scoring.py    the model and the baselines on the same windows, per series and aggregated; conformal widths
    timing.py     steps on a time axis
    report.py     metrics.json, the verdict against the baselines, report.html
    demo.py       `lstmkit demo forecast`: the monthly airline passengers; `forecast-many`: 427 Tourism series
"""

from __future__ import annotations

import importlib

from ..job import Demo, Job, JobParts
from .space import SPACE
from .settings import ForecastSettings


def _parts() -> JobParts:
    from . import demo, estimator, report

    return JobParts.of(estimator.Forecaster, report, {"forecast": demo.demo, "forecast-many": demo.demo_many}, serving=lambda: importlib.import_module(".serving", __name__))


def _warm_up() -> None:
    """A helper process that imports statsforecast for the baselines, then matplotlib for the report, while
    the command imports torch and trains."""
    from ... import helper
    from ...report.drawing import PRELOAD as FIGURES
    from ...statistical import PRELOAD as BASELINES

    helper.start([BASELINES, FIGURES])


JOB = Job(
    name="forecast",
    summary="Train a forecaster on a CSV series (or many, with --id-col) and score it beside naive, ETS and Theta.",
    settings=ForecastSettings,
    data_help="CSV (or Excel, Parquet, JSON) file with the series (long format with --id-col: one row per series and "
              "step), or a .tsf file.",
    # the tables' columns; metrics.json also holds "mse", which ranks as "rmse" does, in the target's squared units
    metrics=("rmse", "mae", "mape", "smape", "mase", "rmsse", "owa"),
    baselines={"naive": "naive", "seasonal_naive": "seasonal naive", "naive2": "Naive2", "ets": "ETS", "theta": "Theta", "arimax": "ARIMAX",
               "croston": "Croston SBA"},
    load_parts=_parts,
    demos=(Demo("forecast", "Monthly airline passengers 1949-1960, forecast 12 months ahead",
                "One short series is where an LSTM has least to learn from; many series are where it learns: "
                "`lstmkit demo forecast-many` trains one model on 427 real quarterly series (after installing the "
                "data extra: pip install -e \".[data]\")."),
           Demo("forecast-many", "The Tourism competition's 427 quarterly series, one model for all, 8 quarters ahead")),
    predict_needs_data=False,
    tunes_at_origins=True,
    predicted_in="forecaster.json",
    space=SPACE,
    warm_up=_warm_up,
)
