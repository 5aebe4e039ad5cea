"""What a forecasting run writes beside the model (SPEC §5): metrics.json, the verdict against the naive
baselines, and report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from ...baselines import beats_baseline, decimals_apart, ties
from ...fileio import atomic_write_text
from . import JOB
from .estimator import Forecaster
from .scoring import PANEL_METRICS, fold_metrics, t_degrees, too_few_to_rank
from .settings import SHRINK_WINDOWS


def run_metrics(forecaster: Forecaster, scored: Optional[dict] = None) -> dict:
    """metrics.json: the model's test metrics, the baselines' on the same windows, and the verdict: on MASE, or
    on RMSSE where the forecaster judged the data intermittent (`judged_on`)."""
    own_test = scored is None  # the test part of the training data (a backtest's origins), not new data
    scored = forecaster.evaluate() if scored is None else scored
    test, baselines = scored["test"], scored["baselines"]
    judged_on = "rmsse" if forecaster.intermittent_ else "mase"
    metrics = {
        "task": JOB.name, "test": test, "baselines": baselines,
        "beats_baselines": beats_baseline(test, baselines, metric=judged_on), "judged_on": judged_on,
        "season": forecaster.season_, "horizon": forecaster.horizon, "lookback": forecaster.lookback_,
        "base": forecaster.base_, "ensemble": forecaster.ensemble, "reads_ets": forecaster.reads_ets_,  # per member
        "interval": forecaster.interval if forecaster.conformal_ is not None else None,
        "coverage": scored.get("coverage"), "test_windows": scored["windows"],
        "interval_windows": getattr(forecaster, "calibrated_on_", None),  # the validation windows it was calibrated on
        "best_epoch": forecaster.best_epoch_, "stop_reason": getattr(forecaster, "stop_reason_", None),
        "refit_epochs": getattr(forecaster, "refit_epochs_", None),
        "correction_kept": getattr(forecaster, "shrunk_", 1.0), "train_windows": getattr(forecaster, "train_windows_", None),
        "notes": scored["notes"][:3],
    }  # fmt: skip
    if forecaster.many_:
        metrics["series"] = len(forecaster.ids_)
        metrics["static_features"] = forecaster.static_features_  # covariates scaled over the series
    if own_test and forecaster.backtest:
        metrics["folds"] = fold_metrics(forecaster, forecaster.test_)
    return metrics


def shrink_note(forecaster: Forecaster) -> str:
    """What `shrink` did: the share of its trained correction the network kept, and why."""
    return (f"The network learned its correction of the ETS forecast from {forecaster.train_windows_} training "
            f"windows and keeps {forecaster.shrunk_:.0%} of it (shrink auto: n / (n + {SHRINK_WINDOWS}) for n windows): "
            f"a correction learned from few windows of one series forecasts worse than its start more often than "
            f"better. --shrink no keeps all of it.")


def verdict(metrics: dict) -> tuple[str, bool]:
    """One plain sentence on whether the model beat every baseline on MASE (on RMSSE for intermittent demand:
    `judged_on`). A score within the tie tolerance of a baseline's (`baselines.ties`) is a tie, and the
    sentence says so: a tie is never a win. The scores carry as many decimals as tell the model's apart from
    each baseline's it does not tie (`decimals_apart`): three, or more where the model is that close."""
    beats, metric = metrics["beats_baselines"], metrics.get("judged_on", "mase")  # runs saved before: MASE
    model, on = metrics["test"].get(metric), metric.upper()
    if model is None or any(won is None for won in beats.values()):
        return f"{on} is undefined for this series (its training part is constant); compare RMSE instead.", False
    baseline = {name: metrics["baselines"][name][metric] for name in beats}
    d = decimals_apart(model, baseline.values())
    scores = ", ".join(f"{JOB.baseline_name(name)} {value:.{d}f}" for name, value in baseline.items())
    tied = [name for name, won in beats.items() if not won and ties(model, baseline[name])]
    lost = [name for name, won in beats.items() if not won and name not in tied]
    if not lost and not tied:
        return f"The model beats every baseline on {on} ({model:.{d}f} against {scores}).", True
    outcome = [f"does NOT beat the {_baselines(lost)}"] if lost else []
    outcome += [f"ties the {_baselines(tied)}"] if tied else []
    return (f"The model {' and '.join(outcome)} on {on} ({model:.{d}f} against {scores}): "
            "a simpler forecast is as good here.", False)  # fmt: skip


def _baselines(names: list[str]) -> str:
    """["naive", "seasonal_naive"] -> "naive and seasonal naive baselines"."""
    return " and ".join(JOB.baseline_name(name) for name in names) + (" baselines" if len(names) > 1 else " baseline")


def interval_text(metrics: dict) -> str:
    """What the report says of the interval: its coverage on the test part, and what it was calibrated on,
    with how the width was set where the validation windows are too few to rank."""
    windows = metrics.get("interval_windows")
    on = "the validation part" if windows is None else f"the validation part's {windows} window{'s' if windows != 1 else ''}"
    text = f"{metrics['interval']:.0%} conformal interval (calibrated on {on}): {metrics['coverage']:.1%} of the test values fell inside it."
    if windows is not None and too_few_to_rank(windows, metrics["interval"]):
        df = t_degrees(windows)
        text += (f" {windows} window{'s are' if windows != 1 else ' is'} too few to rank the errors for a {metrics['interval']:.0%} "
                 f"interval, so Student's t with {df} degree{'s' if df != 1 else ''} of freedom widens it: wide, as so "
                 "little evidence is.")  # fmt: skip
    return text


def write_report(forecaster: Forecaster, metrics: dict, path: Path, out: Path) -> None:
    from ...report.html import Report  # no matplotlib: the figures are drawn in a helper where there is one

    test = forecaster.test_
    subtitle = f"{out} · horizon {forecaster.horizon} · lookback {forecaster.lookback_} · season {forecaster.season_}"
    if forecaster.many_:
        subtitle += f" · {len(forecaster.ids_)} series"
    report = Report(f"Forecast of {forecaster.target_name_}", subtitle)
    text, good = verdict(metrics)
    report.add_verdict(text, good)
    rows = JOB.summary_rows(metrics)
    if forecaster.many_:
        report.add_metrics_table(f"Test part: the last {forecaster.horizon} steps of {len(forecaster.ids_)} series (means)",
                                 rows, PANEL_METRICS)  # fmt: skip
        atomic_write_text(path.parent / "per_series.csv", test["per_series"].to_csv(index=False))
        report.add_text("Per series", ["sMAPE and MASE of the model and of each baseline, per series: per_series.csv"])
    else:
        report.add_metrics_table(f"Test part ({metrics['test_windows']} windows)", rows, JOB.metrics)
    if metrics.get("correction_kept", 1.0) < 1.0 and forecaster.best_epoch_:  # a correction learned, and shrunk
        report.add_text("How the forecast was made", [shrink_note(forecaster)])
    baseline_notes = list(dict.fromkeys(test.get("notes", [])))  # each once, however many series said it
    if baseline_notes:
        report.add_text("How the baselines were fitted", baseline_notes[:10])
    if metrics.get("coverage") is not None:
        report.add_text("Prediction interval", [interval_text(metrics)])
    j = 0  # the figure shows the first series
    series = forecaster.panel_.series[j]
    rows_of = np.flatnonzero(test.get("series", np.zeros(len(test["first"]), dtype=int)) == j)
    first = test["first"][rows_of]
    chosen = rows_of[np.arange(len(first) - 1, -1, -forecaster.horizon)[::-1]]  # non-overlapping, back from the last
    steps = np.concatenate([np.arange(t, t + forecaster.horizon) for t in test["first"][chosen]])
    x = np.arange(len(series)) if series.time is None else series.time
    forecasts = test["forecasts"][chosen]  # (k, horizon, Q)
    point = forecaster._point(forecasts).ravel()
    interval = {}
    if test.get("interval") is not None:
        interval = {"lower": test["interval"][0][chosen].ravel(), "upper": test["interval"][1][chosen].ravel()}
    elif len(forecaster.quantiles_) >= 2:
        interval = {"lower": forecasts[..., 0].ravel(), "upper": forecasts[..., -1].ravel()}
    baselines = {}
    for name, f in test["baseline_forecasts"].items():  # the forecasts the scores were computed from
        if name in ("seasonal_naive", "ets", "theta") or (name == "naive" and forecaster.season_ == 1):
            baselines[JOB.baseline_name(name)] = f[chosen].ravel()
    before = np.arange(max(0, steps[0] - 3 * max(forecaster.season_, forecaster.lookback_)), steps[0])
    label = f" of series '{forecaster.ids_[j]}'" if forecaster.many_ else ""
    figure = {
        "x": x[steps], "actual": series.target[steps], "predicted": point, "baselines": baselines, "history_x": x[before],
        "history": series.target[before], "title": f"{forecaster.horizon}-step forecasts over the test part{label}", **interval,
    }  # fmt: skip
    report.add_drawing("Forecast against actual", "forecast_vs_actual", figure, alt=f"forecasts and actual values over the test part{label}")
    report.add_drawing("Loss curves", "loss_curves", {"history": pd.DataFrame(forecaster.history_)}, alt="training and validation loss")
    notes = [note for s in forecaster.panel_.series for note in s.notes]
    if forecaster.static_features_:  # none for one series
        notes.insert(0, f"Static covariates, constant within each series and scaled over the series: "
                        f"{', '.join(forecaster.static_features_)}.")  # fmt: skip
    idle = forecaster.idle_features_
    if idle:
        where = "every series' training part, the same in each" if forecaster.many_ else "the training part"
        notes.insert(0, f"Constant over {where}, so the model learns nothing from {'them' if len(idle) > 1 else 'it'}: "
                        f"{', '.join(idle)}.")  # fmt: skip
    if notes:
        report.add_text("How the data was read", notes[:20])
    gaps = [gap for s in forecaster.panel_.series for gap in s.gaps]
    if gaps:
        report.add_text("Gaps in the time column", gaps[:20])
    report.add_table("Settings", ["setting", "value"], [(k, v) for k, v in forecaster.get_params().items()])
    report.write(path)


def resolved(forecaster: Forecaster) -> dict:
    """The defaults fit resolved, for config.json."""
    return {"target": forecaster.target, "season": forecaster.season_, "lookback": forecaster.lookback_,
            "quantiles": forecaster.quantiles_, "base": forecaster.base_}
