"""The jobs lstmkit trains models for, and `JOBS`, the one table of them.

Each job is a package here (`forecast/`, `classify/`, `lm/`, `anomaly/`, `seq2seq/`) whose `JOB` says everything that
differs between jobs (see `job.py`). The command line, the inspector and evaluate/predict loop over `JOBS`;
adding a job is one new package and one entry in the tuple below.
"""

from __future__ import annotations

from ..errors import ConfigError
from . import anomaly, classify, forecast, lm, seq2seq
from .job import Demo, Job, JobParts

JOBS: dict[str, Job] = {job.name: job for job in (forecast.JOB, classify.JOB, lm.JOB, anomaly.JOB, seq2seq.JOB)}

__all__ = ["JOBS", "Job", "JobParts", "Demo", "job_named", "job_of", "demos"]


def job_named(name: str, where: str = "the name") -> Job:
    """The job called `name`; a ConfigError naming the known ones otherwise (`where`: what named it)."""
    if name not in JOBS:
        raise ConfigError(f"{where} names an unknown task {name!r}; lstmkit knows {', '.join(JOBS)}")
    return JOBS[name]


def job_of(estimator) -> Job:
    """The job of a fitted or unfitted estimator: the job of its own class, else of the class it extends."""
    for job in JOBS.values():
        if type(estimator) is job.estimator:
            return job
    for job in JOBS.values():
        if isinstance(estimator, job.estimator):
            return job
    raise ConfigError(f"expected a fitted lstmkit estimator or a run directory, got {type(estimator).__name__}")


def demos() -> dict[str, tuple[Job, Demo]]:
    """Every demo of every job, by name."""
    return {demo.name: (job, demo) for job in JOBS.values() for demo in job.demos}
