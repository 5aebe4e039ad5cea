"""What a forecasting run writes beside the model (SPEC §5): metrics.json, the verdict against the naive
baselines, and report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from ...baselines import beats_baseline, naive_forecast, seasonal_naive_forecast, ties
from ...report import Report, forecast_vs_actual, loss_curves
from . import JOB
from .estimator import Forecaster


def run_metrics(forecaster: Forecaster, scored: Optional[dict] = None) -> dict:
    """metrics.json: the model's test metrics, the baselines' on the same windows, and the verdict."""
    scored = forecaster.evaluate() if scored is None else scored
    test, baselines = scored["test"], scored["baselines"]
    return {
        "task": JOB.name, "test": test, "baselines": baselines,
        "beats_baselines": beats_baseline(test, baselines, metric="mase"),
        "season": forecaster.season_, "horizon": forecaster.horizon, "lookback": forecaster.lookback_,
        "test_windows": scored["windows"],
        "best_epoch": forecaster.best_epoch_, "stop_reason": getattr(forecaster, "stop_reason_", None),
        "notes": list(forecaster.series_.gaps[:3]),
    }  # fmt: skip


def verdict(metrics: dict) -> tuple[str, bool]:
    """One plain sentence on whether the model beat every baseline on MASE. A MASE within the tie tolerance
    of a baseline's (`baselines.ties`) is a tie, and the sentence says so: a tie is never a win."""
    beats = metrics["beats_baselines"]
    model = metrics["test"].get("mase")
    if model is None or any(won is None for won in beats.values()):
        return "MASE is undefined for this series (its training part is constant); compare RMSE instead.", False
    baseline = {name: metrics["baselines"][name]["mase"] for name in beats}
    scores = ", ".join(f"{name.replace('_', ' ')} {value:.3f}" for name, value in baseline.items())
    tied = [name for name, won in beats.items() if not won and ties(model, baseline[name])]
    lost = [name for name, won in beats.items() if not won and name not in tied]
    if not lost and not tied:
        return f"The model beats every baseline on MASE ({model:.3f} against {scores}).", True
    outcome = [f"does NOT beat the {_baselines(lost)}"] if lost else []
    outcome += [f"ties the {_baselines(tied)}"] if tied else []
    return (f"The model {' and '.join(outcome)} on MASE ({model:.3f} against {scores}): "
            "a simpler forecast is as good here.", False)  # fmt: skip


def _baselines(names: list[str]) -> str:
    """["naive", "seasonal_naive"] -> "naive and seasonal naive baselines"."""
    return " and ".join(name.replace("_", " ") for name in names) + (" baselines" if len(names) > 1 else " baseline")


def write_report(forecaster: Forecaster, metrics: dict, path: Path, out: Path) -> None:
    test = forecaster.test_
    series = forecaster.series_
    report = Report(f"Forecast of {forecaster.target_name_}",
                    f"{out} · horizon {forecaster.horizon} · lookback {forecaster.lookback_} · season {forecaster.season_}")  # fmt: skip
    text, good = verdict(metrics)
    report.add_verdict(text, good)
    rows = {"LSTM": metrics["test"], **{name.replace("_", " "): m for name, m in metrics["baselines"].items()}}
    report.add_metrics_table(f"Test part ({metrics['test_windows']} windows)", rows, JOB.metrics)

    # non-overlapping windows, counted back from the last one, cover the end of the test part with
    # genuine multi-step forecasts
    chosen = np.arange(len(test["first"]) - 1, -1, -forecaster.horizon)[::-1]
    steps = np.concatenate([np.arange(t, t + forecaster.horizon) for t in test["first"][chosen]])
    x = np.arange(len(series)) if series.time is None else series.time
    forecasts = test["forecasts"][chosen]  # (k, horizon, Q)
    point = forecaster._point(forecasts).ravel()
    interval = {}
    if len(forecaster.quantiles_) >= 2:
        interval = {"lower": forecasts[..., 0].ravel(), "upper": forecasts[..., -1].ravel()}
    history = test["history"][chosen]
    baselines = {"naive": naive_forecast(history, forecaster.horizon).ravel()}
    if forecaster.season_ > 1:
        baselines["seasonal naive"] = seasonal_naive_forecast(history, forecaster.horizon, forecaster.season_).ravel()
    before = np.arange(max(0, steps[0] - 3 * max(forecaster.season_, forecaster.lookback_)), steps[0])
    figure = forecast_vs_actual(
        x[steps], series.target[steps], point, baselines=baselines, history_x=x[before], history=series.target[before],
        title=f"{forecaster.horizon}-step forecasts over the test part", **interval,
    )  # fmt: skip
    report.add_figure("Forecast against actual", figure, alt="forecasts and actual values over the test part")
    report.add_figure("Loss curves", loss_curves(pd.DataFrame(forecaster.history_)), alt="training and validation loss")
    if series.gaps:
        report.add_text("Gaps in the time column", series.gaps[:20])
    report.add_table("Settings", ["setting", "value"], [(k, v) for k, v in forecaster.get_params().items()])
    report.write(path)


def resolved(forecaster: Forecaster) -> dict:
    """The defaults fit resolved, for config.json."""
    return {"season": forecaster.season_, "lookback": forecaster.lookback_, "quantiles": forecaster.quantiles_}
