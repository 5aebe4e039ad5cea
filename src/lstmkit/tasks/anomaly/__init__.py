"""Anomaly detection: a score for every step of a series, and the steps flagged above a threshold, beside
the rolling z-score rule.

    estimator.py  `AnomalyDetector`: read, split by time, scale, train the one-step predictor, score every
                  step (winsorising flagged ones), choose the threshold on validation scores, save, load
    net.py        `NextStepNet`: the LSTM that predicts the next step of every column
    report.py     metrics.json, the verdict against the z-score rule, report.html
    demo.py       `lstmkit demo anomaly`: yearly sunspots with labelled anomalies injected
How the detector was chosen and measured: docs/anomaly-detector.md.
"""

from __future__ import annotations

import importlib

from ..job import Demo, Job, JobParts
from .space import SPACE
from .settings import AnomalySettings


def _parts() -> JobParts:
    from . import demo, estimator, report

    return JobParts.of(estimator.AnomalyDetector, report, {"anomaly": demo.demo}, serving=lambda: importlib.import_module(".serving", __name__))


JOB = Job(
    name="anomaly",
    summary="Train an LSTM predictor whose error scores every step, and flag the steps above a threshold.",
    settings=AnomalySettings,
    data_help="CSV (or Excel, Parquet, JSON) file with one or more numeric columns.",
    metrics=("precision", "recall", "f1", "roc_auc"),
    baselines={"rolling_zscore": "rolling z-score"},
    load_parts=_parts,
    demos=(Demo("anomaly", "Yearly sunspots 1700-2008 with injected, labelled anomalies in the last quarter"),),
    space=SPACE,
)
