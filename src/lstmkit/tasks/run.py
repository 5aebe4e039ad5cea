"""One training run of any job into its run directory (SPEC §5).

Every job goes the same way: stage the directory, record the settings, fit (checkpointing every epoch),
then save the weights and what predicting needs, `history.csv`, `metrics.json` and `report.html`, and put
them in place only when all of it succeeded. A job supplies what differs as a `Job`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from ..errors import DataError, LstmkitError
from ..fileio import atomic_write_text
from ..rundir import begin_run, finish_run, read_json, versions, write_json

SETTINGS_THAT_MAY_CHANGE_ON_RESUME = {"max_time", "device"}


@dataclass(frozen=True)
class Job:
    task: str  # "forecast", "classify", "lm", "anomaly": written to config.json and metrics.json
    metrics: Callable  # (estimator) -> metrics.json's content
    write_report: Callable  # (estimator, metrics, path, out) -> None
    resolved: Callable  # (estimator) -> the defaults fit resolved (season, vocabulary size, ...)
    load: Callable  # (directory) -> estimator


def train_run(job: Job, estimator, data, out, *, resume: bool = False, reporter=None) -> dict:
    """Fit `estimator` on `data` into run directory `out`; returns metrics.json's content."""
    out = Path(out)
    staging = begin_run(out, resume)
    settings = {**estimator.get_params(), "data": str(data)}
    if resume:
        _check_same_settings(read_json(staging, "config.json")["settings"], settings, out)
    write_json(staging / "config.json", {"task": job.task, "settings": settings, "versions": versions()})
    try:
        estimator.fit(data, checkpoint=staging / "checkpoint.pt", resume=resume, reporter=reporter)
    except LstmkitError:
        if not resume:  # bad input or a diverged run: nothing worth resuming, and nothing of the user's
            shutil.rmtree(staging, ignore_errors=True)
        raise

    estimator.save(staging)
    config = {"task": job.task, "settings": settings, "resolved": job.resolved(estimator), "versions": versions()}
    write_json(staging / "config.json", config)
    atomic_write_text(staging / "history.csv", pd.DataFrame(estimator.history_).to_csv(index=False))
    metrics = job.metrics(estimator)
    write_json(staging / "metrics.json", metrics)
    job.write_report(estimator, metrics, staging / "report.html", out)
    finish_run(out)
    return metrics


def run_task(directory) -> str:
    """The job a finished run directory belongs to."""
    return read_json(directory, "config.json").get("task", "")


def load_run(directory, job: Job):
    """The estimator of a finished run directory of `job`, with a clear error for any other."""
    task = run_task(directory)
    if task != job.task:
        raise DataError(f"{directory}: is a {task or 'unknown'} run, not a {job.task} run")
    return job.load(directory)


def _check_same_settings(saved: dict, now: dict, out: Path) -> None:
    for name, value in saved.items():
        if name in SETTINGS_THAT_MAY_CHANGE_ON_RESUME:
            continue
        current = now.get(name)
        if _normal(current) != _normal(value):
            raise DataError(f"{out}: the interrupted run used {name}={value!r}, this command {name}={current!r}; "
                            "resume with the same settings")  # fmt: skip


def _normal(value):
    return list(value) if isinstance(value, tuple) else value
