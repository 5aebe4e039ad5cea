"""What an anomaly run writes beside the model (SPEC §5): metrics.json, the verdict against the rolling
z-score rule, and report.html with the flagged steps."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from ...baselines import beats_baseline
from ...data import split_by_time
from . import JOB
from .estimator import MIN_THRESHOLD_STEPS, AnomalyDetector



def run_metrics(detector: AnomalyDetector, scored: Optional[dict] = None) -> dict:
    """metrics.json: the flags' metrics on the test part (or `scored`, an `evaluate` result) beside the
    rolling z-score rule's on the same steps, the thresholds, and how many steps were flagged."""
    summary = detector.evaluate() if scored is None else scored
    labelled = bool(summary["test"])
    return {
        "task": JOB.name, "labelled": labelled, "test": summary["test"], "baselines": summary["baselines"],
        "beats_baselines": beats_baseline(summary["test"], summary["baselines"], metric="f1") if labelled else {},
        "threshold": detector.threshold_, "baseline_thresholds": {"rolling_zscore": detector.baseline_threshold_},
        "threshold_rule": _threshold_rule(detector), "flagged": summary["flagged"],
        "flagged_frac": summary["flagged_frac"], "baseline_flagged": summary.get("baseline_flagged", {}),
        "steps": summary["steps"], "anomalies": summary["anomalies"],
        "lookback": detector.lookback_, "columns": detector.columns_, "best_epoch": detector.best_epoch_,
        "stop_reason": getattr(detector, "stop_reason_", None),
        "notes": list(detector.series_.notes[:3]) if hasattr(detector, "series_") else [],  # how the data was read
        "anomalies_before_test": _anomalies_before_test(detector) if scored is None else None,
    }  # fmt: skip


def _anomalies_before_test(detector: AnomalyDetector) -> Optional[dict]:
    """Where a fit's labelled anomalies lie when its test part holds none (an archive's series often has its
    anomaly mid-way, inside the default training part): how many steps, the first's and the last's (their
    times where the series has them), and the `test_frac` (two decimals) whose test part starts at the first,
    with the run's `val_frac` before it; None for that fraction where the training part would then be too
    short for the lookback or the validation part for choosing a threshold. None when there is nothing to say."""
    labels, steps = getattr(detector, "labels_", None), detector.test_["steps_index"]
    if labels is None or not labels.any() or labels[steps].any():
        return None
    where, n = np.flatnonzero(labels), len(labels)
    first, last = int(where[0]), int(where[-1])
    test_frac = math.ceil(100 * (n - first) / n) / 100
    fits = False
    if test_frac + detector.val_frac < 1:
        train, val, test = split_by_time(n, detector.val_frac, test_frac)
        fits = (test.start <= first and train.stop > detector.lookback_
                and val.stop - max(val.start, detector.lookback_) >= MIN_THRESHOLD_STEPS)  # fmt: skip
    time = detector.series_.time
    first_time, last_time = (None, None) if time is None else (str(time[first]), str(time[last]))
    return {"steps": int(len(where)), "first": first, "last": last, "first_time": first_time, "last_time": last_time,
            "test_frac": test_frac if fits else None}  # fmt: skip


def _put_them(before: Optional[dict]) -> str:
    """The verdict's advice where the test part holds no labelled anomaly, up to "score" (a labelled file ...):
    where the data's labelled anomalies lie and the `--test-frac` that scores them (`_anomalies_before_test`)."""
    if before is None:
        return "Put labelled anomalies in the test part (--test-frac) or score"
    timed = before["first_time"] is not None
    first, last = (before["first_time"], before["last_time"]) if timed else (before["first"], before["last"])
    where = f"at {first}" if first == last else f"from {first} to {last}"
    count = f"{before['steps']} step{'s' if before['steps'] != 1 else ''}"
    counted = "" if timed else ", counting steps from 0"
    text = (f"The data's labelled anomalies ({count} {where}{counted}) all come before the test part, where the "
            "detector took them for normal or chose its threshold on them")  # fmt: skip
    if before["test_frac"] is not None:
        return f"{text}: --test-frac {before['test_frac']:g} puts them in the test part, or score"
    return f"{text}, too early to leave a training part before them: score"


def _threshold_rule(detector: AnomalyDetector) -> str:
    if detector.threshold is not None:
        return "given"
    if detector.contamination is not None:
        return f"{1 - detector.contamination:g} quantile of the validation scores"
    return "median + 4 * 1.4826 * MAD of the validation scores"


def verdict(metrics: dict) -> tuple[str, bool]:
    """One plain sentence: does the LSTM beat the rolling z-score rule on F1?"""
    if not metrics["labelled"]:
        return (f"No labels, so nothing to score the flags against: {metrics['flagged']} of {metrics['steps']} "
                f"test steps flagged ({100 * metrics['flagged_frac']:.1f} %) above the threshold "
                f"{metrics['threshold']:.3g}. Give a label column to compare with the z-score rule.", False)  # fmt: skip
    if metrics.get("anomalies") == 0:  # every F1 is 0: nothing to find, so it cannot tell the detectors apart
        flagged, baseline_flagged = metrics["flagged"], metrics.get("baseline_flagged", {}).get("rolling_zscore", "–")
        return (f"The {metrics['steps']} scored steps hold no labelled anomaly, so F1 cannot compare the detectors: "
                f"the LSTM flagged {flagged} of them and the rolling z-score rule {baseline_flagged} (any flag there is a "
                f"false one). {_put_them(metrics.get('anomalies_before_test'))} a labelled file with "
                "`lstmkit evaluate RUN --data FILE`.", False)  # fmt: skip
    f1, baseline = metrics["test"]["f1"], metrics["baselines"]["rolling_zscore"]["f1"]
    if metrics["beats_baselines"]["rolling_zscore"]:
        return f"The LSTM detector beats the rolling z-score rule on F1 ({f1:.3f} against {baseline:.3f}).", True
    return (f"The LSTM detector does NOT beat the rolling z-score rule on F1 ({f1:.3f} against {baseline:.3f}): "
            "the simple rule is as good here.", False)  # fmt: skip


def summary_rows(metrics: dict) -> dict[str, dict]:
    """{row name: metrics} for a table of the LSTM beside each baseline."""
    return JOB.summary_rows(metrics)


def write_report(detector: AnomalyDetector, metrics: dict, path: Path, out: Path) -> None:
    from ...report.html import Report  # no matplotlib: the figures are drawn in a helper where there is one

    series, summary = detector.series_, detector.test_
    report = Report(f"Anomalies in {', '.join(detector.columns_)}",
                    f"{out} · lookback {detector.lookback_} · threshold {detector.threshold_:.4g}")  # fmt: skip
    text, good = verdict(metrics)
    if metrics["labelled"]:
        report.add_verdict(text, good)
        heading = f"Test part ({metrics['steps']} steps, {metrics['anomalies']} labelled anomalies)"
        report.add_metrics_table(heading, summary_rows(metrics), JOB.metrics)
    else:
        report.add_text("Flagged steps", text)

    x = np.arange(len(series)) if series.time is None else np.asarray(series.time)
    steps = summary["steps_index"]
    figure = {"x": x, "values": series.values, "scores": detector.scores_, "flags": detector.flags_,
              "threshold": detector.threshold_, "labels": detector.labels_, "test_start": steps[0] if len(steps) else None}  # fmt: skip
    report.add_drawing("Scores and flagged steps", "series_with_anomalies", figure, alt="the series with flagged steps, and the anomaly score")
    if metrics["labelled"] and metrics["test"]["roc_auc"] is not None:
        labels = detector.labels_[steps]
        curves = {"LSTM": (*roc_curve(labels, detector.scores_[steps])[:2], metrics["test"]["roc_auc"]),
                  "rolling z-score": (*roc_curve(labels, detector.baseline_scores_[steps])[:2],
                                      metrics["baselines"]["rolling_zscore"]["roc_auc"])}  # fmt: skip
        report.add_drawing("ROC curves on the test part", "roc_curve_figure", {"curves": curves}, alt="ROC curves of both detectors")
    report.add_drawing("Loss curves", "loss_curves", {"history": pd.DataFrame(detector.history_)}, alt="training and validation loss")
    report.add_text("How steps are scored", [
        "Each step's score is how far the LSTM's one-step prediction from the previous "
        f"{detector.lookback_} steps misses it, in robust standard deviations of the validation errors "
        "(root mean square over the columns). The first lookback steps have no score.",
        f"Threshold {detector.threshold_:.4g}: {metrics['threshold_rule']}. The rolling z-score rule scores "
        f"|x - mean| / std over the previous {detector.lookback_} steps; its threshold "
        f"{detector.baseline_threshold_:.4g} comes from its own validation scores by the same rule.",
    ])  # fmt: skip
    if series.notes:
        report.add_text("How the data was read", series.notes[:20])
    if series.gaps:
        report.add_text("Gaps in the time column", series.gaps[:20])
    report.add_table("Settings", ["setting", "value"], [(k, v) for k, v in detector.get_params().items()])
    report.write(path)


def resolved(detector: AnomalyDetector) -> dict:
    """The defaults fit resolved, for config.json."""
    return {"columns": detector.columns_, "lookback": detector.lookback_, "season": detector.season_,
            "threshold": detector.threshold_, "baseline_threshold": detector.baseline_threshold_}  # fmt: skip
