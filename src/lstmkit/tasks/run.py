"""One training run of any job into its run directory (SPEC §5).

Every job goes the same way: stage the directory, record the settings, fit (checkpointing by the clock),
then save the weights and what predicting needs, `history.csv`, `metrics.json` and `report.html`, and put
them in place only when all of it succeeded. What differs between jobs comes from their `Job`.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from ..errors import DataError, LstmkitError, PeerLost, ReportedElsewhere, WriteError
from ..fileio import atomic_write_text
from ..rundir import begin_run, finish_run, read_config, versions, write_json
from ..train.progress import Mute, Reporter
from . import job_named, job_of
from .job import Job

SETTINGS_THAT_MAY_CHANGE_ON_RESUME = {"max_time", "device", "checkpoint_every", "threads"}


def train_run(estimator, data, out, *, resume: bool = False, reporter=None) -> dict:
    """Fit `estimator` on `data` into run directory `out`; returns metrics.json's content."""
    import pandas as pd  # here, not above: `predict` and `evaluate` reach a run's job through this module

    from ..train import distributed

    job = job_of(estimator)
    estimator.check_settings()  # bad settings, bf16 without the hardware for it: refused before anything is written
    ctx = distributed.context(estimator.train_config().device)  # under torchrun: join the run
    if not ctx.writes:
        return _follow(estimator, data, ctx)
    out = Path(out)
    made = [folder for folder in (out, *out.parents) if not folder.exists()]  # out and the parents made for it
    reporter = reporter or Reporter()
    try:
        staging, resume = begin_run(out, resume, note=reporter.note)  # resume: from a checkpoint there
        settings = {**estimator.get_params(), "data": str(data)}
        if resume:
            _check_same_settings(_interrupted_settings(staging, out), settings, out)
        write_json(staging / "config.json", {"task": job.name, "settings": settings, "versions": versions()})
    except LstmkitError:
        distributed.object_from_rank_zero(None, ctx)  # the other processes stop too
        raise
    distributed.object_from_rank_zero((str(staging), resume), ctx)
    try:
        estimator.fit(data, checkpoint=staging / "checkpoint.pt", resume=resume, reporter=reporter)
    except LstmkitError as error:
        # bad input or a diverged run: nothing worth resuming, and nothing of the user's; a checkpoint that
        # could not be written (a full disk) leaves what was saved, to resume once there is room
        if not resume and not isinstance(error, (WriteError, PeerLost)):
            shutil.rmtree(staging, ignore_errors=True)
            for folder in made:  # nor the folders made for it, innermost first
                with contextlib.suppress(OSError):
                    folder.rmdir()
        raise

    estimator.save(staging)
    config = {"task": job.name, "settings": settings, "resolved": job.resolved(estimator), "versions": versions()}
    write_json(staging / "config.json", config)
    atomic_write_text(staging / "history.csv", pd.DataFrame(estimator.history_).to_csv(index=False))
    metrics = job.run_metrics(estimator)
    write_json(staging / "metrics.json", metrics)
    job.write_report(estimator, metrics, staging / "report.html", out)
    finish_run(out)
    return metrics


def _follow(estimator, data, ctx) -> dict:
    """A process of a distributed run other than rank 0: train beside rank 0, from the checkpoint it names,
    and write nothing; rank 0 scores the test part and writes the run. Returns {}."""
    from ..train import distributed

    shared = distributed.object_from_rank_zero(None, ctx)
    if shared is None:  # rank 0 refused the run, and said why
        raise ReportedElsewhere(f"rank 0 refused the run; this is rank {ctx.rank}")
    staging, resume = shared
    estimator.fit(data, checkpoint=Path(staging) / "checkpoint.pt", resume=resume, reporter=Mute(), score_test=False)
    return {}


def run_job(directory) -> Job:
    """The job a finished run directory belongs to."""
    return job_named(read_config(directory)["task"], f"{directory}: config.json")


def load_run(directory, job: Job | None = None):
    """The estimator of a finished run directory; with `job`, a clear error for a run of any other job."""
    found = run_job(directory)
    if job is not None and found is not job:
        raise DataError(f"{directory}: is {found.a_name} run, not {job.a_name} run")
    return found.estimator.load(directory)


def _interrupted_settings(staging: Path, out: Path) -> dict:
    try:
        return read_config(staging)["settings"]
    except DataError:  # torn or hand-edited: the run cannot be checked, so it cannot be resumed
        raise DataError(f"{out}: the interrupted run's settings ({staging / 'config.json'}) are unreadable, so it "
                        f"cannot be resumed; delete {staging} to start afresh") from None


def _check_same_settings(saved: dict, now: dict, out: Path) -> None:
    for name, value in saved.items():
        if name in SETTINGS_THAT_MAY_CHANGE_ON_RESUME:
            continue
        current = now.get(name)
        if _normal(current) != _normal(value):
            raise DataError(f"{out}: the interrupted run used {name}={value!r}, this command {name}={current!r}; "
                            "resume with the same settings")  # fmt: skip


def _normal(value):
    """A setting as resuming compares it: a tuple as the list JSON saved, and "none" as None (the classifier's
    `augment` takes both alike, so a run interrupted under its older default, None, resumes with --augment
    none; no setting takes both with different meanings)."""
    return list(value) if isinstance(value, tuple) else None if value == "none" else value
