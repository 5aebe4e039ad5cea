"""The study: Optuna's storage (an SQLite file in the tuning directory, or --storage), the trials each worker
runs, and how one trial trains.

A trial is one `fit` of the job's estimator with the drawn settings over the job's defaults and the user's
options, reading the validation part only (`fit(..., score_test=False)`: the test part stays held out of
training exactly as in a normal run, and is never scored). Each epoch's validation loss, which `train.fit`
computes anyway, goes to the trial through a `Reporter`; the pruner may end the trial there. The trial's
value is the validation loss of the weights `train.fit` keeps: the lowest epoch's, or, where the recipe
averages weights (the classifier's cosine recipe), the averaged weights' own.

The study holds at most `trials` trials that ran or run (complete, pruned, failed, running): a worker takes
its next trial under a file lock only while fewer exist, so K workers and a resumed command together end
with exactly `trials`. A trial that raises (divergence, out of memory, a combination the estimator refuses)
is failed with its reason in the user attribute `fail_reason`, and the study goes on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..errors import ConfigError, TrainingError
from ..fileio import locked
from ..train.progress import Reporter
from .space import fit_at_origin

STUDY_FILE = "study.db"
LOCK_FILE = "study.lock"
PRUNERS = ("median", "hyperband", "none")
SQLITE_TIMEOUT_S = 60  # several worker processes write one SQLite file: wait for its lock rather than fail
INTERRUPTED = "interrupted: the tuning process ended while this trial ran"
HEARTBEAT_S = 10  # a running trial's process stamps the time on it this often (user attr "heartbeat")
GRACE_S = 60  # a running trial of another machine with no heartbeat for this long is failed as interrupted
# a running trial with no owner this old is failed as interrupted: a command names itself the moment it asks for a
# trial, both under the study's lock, so only a command killed between the two leaves one
OWNERLESS_S = 1.0


@dataclass
class TuneSpec:
    """Everything a worker needs to run trials, as JSON values (a worker is a fresh interpreter)."""

    job: str
    data: str
    out: str
    settings: dict  # every setting of the default run: the job's defaults with the user's options
    space: dict  # setting -> entry (`space.py`)
    trials: int  # the study's total
    storage: str  # an SQLAlchemy URL
    pruner: str = "median"
    seed: int = 0
    deadline: Optional[float] = None  # time.time() after which no trial starts
    worker: int = 0  # seeds the worker's sampler apart from the others'
    announce: bool = False  # a worker process prints one line per finished trial on stderr
    origins: int = 1  # a forecast trial's fits, at origins a horizon apart (`--origins`): its value is their mean

    @property
    def study_name(self) -> str:
        return f"lstmkit-{self.job}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def default_storage(out) -> str:
    return f"sqlite:///{Path(out).resolve() / STUDY_FILE}"


def open_storage(url: str):
    """Optuna's RDB storage at `url`; one ConfigError line when it cannot be opened or reached."""
    import optuna

    engine = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine)
    except Exception as error:  # sqlalchemy's ArgumentError / OperationalError, a missing driver module, ...
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise ConfigError(f"`storage` {url!r} cannot be opened ({type(error).__name__}: "
                          f"{reason[0] if reason else 'no reason given'})") from None  # fmt: skip


def make_sampler(spec: TuneSpec, done: int = 0):
    """TPE seeded from `seed`, apart per worker and per number of trials `done` before it starts: a resumed
    study then draws new settings rather than those its first command drew."""
    import optuna

    return optuna.samplers.TPESampler(seed=(spec.seed + spec.worker + 7919 * done) % 2**32)


def make_pruner(name: str, epochs: int):
    """Median (after 3 complete trials, from the 3rd epoch), Hyperband over the epochs, or none."""
    import optuna

    if not isinstance(name, str):  # an Optuna pruner given in Python
        return name
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 3))
    return optuna.pruners.NopPruner()


def load_study(spec: TuneSpec, storage=None, pruner=None, create: bool = False):
    import optuna

    storage = storage or open_storage(spec.storage)
    pruner = make_pruner(pruner if pruner is not None else spec.pruner, int(spec.settings.get("epochs") or 1))
    if create:
        return optuna.create_study(study_name=spec.study_name, storage=storage, sampler=make_sampler(spec),
                                   pruner=pruner, direction="minimize", load_if_exists=True)  # fmt: skip
    return optuna.load_study(study_name=spec.study_name, storage=storage, sampler=make_sampler(spec), pruner=pruner)


def prepare_study(spec: TuneSpec, storage, default: dict, pruner=None):
    """Create or load the study; a fresh one gets the default settings as its first trial, and trials an
    earlier command left running (it was killed) are failed as interrupted, so they count as run."""
    with locked(Path(spec.out) / LOCK_FILE):
        study = load_study(spec, storage, pruner, create=True)
        if not study.get_trials(deepcopy=False):
            study.enqueue_trial(default, user_attrs={"default": sorted(default)})
        fail_interrupted(study, storage)
    return study


def fail_interrupted(study, storage) -> None:
    """Fail as interrupted the running trials whose process is gone: on this machine, a process id that no
    longer runs; elsewhere, no heartbeat for GRACE_S seconds; no owner at all, OWNERLESS_S after it started.
    Trials that other commands or workers are running now are left alone, so several commands can share a
    study."""
    import optuna
    from optuna.trial import TrialState

    here, now = socket.gethostname(), time.time()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        host, pid = trial.user_attrs.get("owner", [None, None])
        beat = trial.user_attrs.get("heartbeat", trial.datetime_start.timestamp())
        if host is None:  # its command died between asking for it and naming itself, which follow at once
            gone = now - trial.datetime_start.timestamp() > OWNERLESS_S
        else:
            gone = not _alive(pid) if host == here else now - beat > GRACE_S
        if gone:
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):  # it ended meanwhile after all
                storage.set_trial_user_attr(trial._trial_id, "fail_reason", INTERRUPTED)
                storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def _alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def counts(study) -> dict:
    """Trials by state: complete, pruned, fail, running, waiting."""
    found = {"complete": 0, "pruned": 0, "fail": 0, "running": 0, "waiting": 0}
    for trial in study.get_trials(deepcopy=False):
        found[trial.state.name.lower()] += 1
    return found


def run_trials(spec: TuneSpec, pruner=None, storage=None, announce=None) -> None:
    """Run trials of the study until it holds `spec.trials` or the deadline passes (the worker's loop);
    `announce(line)` hears how each ended."""
    from ..tasks import job_named

    job = job_named(spec.job)
    storage = storage or open_storage(spec.storage)
    study = load_study(spec, storage, pruner)
    study.sampler = make_sampler(spec, len(study.get_trials(deepcopy=False)))
    if announce is None and spec.announce:
        announce = _to_stderr
    while spec.deadline is None or time.time() < spec.deadline:
        with locked(Path(spec.out) / LOCK_FILE):
            fail_interrupted(study, storage)
            taken = counts(study)
            if taken["complete"] + taken["pruned"] + taken["fail"] + taken["running"] >= spec.trials:
                return
            trial = study.ask()
            storage.set_trial_user_attr(trial._trial_id, "owner", [socket.gethostname(), os.getpid()])
        with _heartbeat(storage, trial):
            ended = run_trial(study, trial, spec, job)
        if announce is not None:
            announce(describe(ended))


def describe(trial) -> str:
    """One line on a finished trial: its number, state, value or reason, and time."""
    state = trial.state.name.lower()
    if state == "complete":
        what = f"val loss {trial.value:.5g}"
    else:  # a failed trial has no value to format
        what = {"fail": trial.user_attrs.get("fail_reason", ""), "pruned": f"at step {trial.last_step}"}.get(state, "")
    return f"trial {trial.number} {state}: {what} ({trial.user_attrs.get('seconds', 0):.1f} s) {trial.params}"


def _to_stderr(line: str) -> None:
    print(f"lstmkit: {line}", file=sys.stderr, flush=True)


def run_trial(study, trial, spec: TuneSpec, job, reporter: Optional[Reporter] = None):
    """Train one trial and tell the study how it ended: complete (its value), pruned, or failed (its reason)."""
    import optuna
    from optuna.trial import TrialState

    started = time.perf_counter()
    watcher = TrialReporter(trial, reporter)
    try:
        params = suggest(trial, spec.space, trial.user_attrs.get("default"))
        for earlier in reversed(range(spec.origins)):  # the earliest origin first, the data's end last
            fit_at_origin(job.estimator(**{**spec.settings, **params}), spec.data, earlier, reporter=watcher, score_test=False)
        if not math.isfinite(watcher.best):
            raise TrainingError("training reported no finite validation loss")
    except optuna.TrialPruned:
        trial.set_user_attr("seconds", time.perf_counter() - started)
        return study.tell(trial, state=TrialState.PRUNED)
    except Exception as error:  # the study goes on: a failed trial is a result too
        trial.set_user_attr("fail_reason", _one_line(error))
        trial.set_user_attr("seconds", time.perf_counter() - started)
        return study.tell(trial, state=TrialState.FAIL)
    trial.set_user_attr("seconds", time.perf_counter() - started)
    trial.set_user_attr("epochs", watcher.steps)
    return study.tell(trial, watcher.best)


def suggest(trial, space: dict, fixed: Optional[list] = None) -> dict:
    """The trial's settings drawn from `space`; the default trial (`fixed`: the settings enqueued for it)
    draws only those, leaving the rest at their defaults."""
    drawn = {}
    for name, entry in space.items():
        if fixed is not None and name not in fixed:
            continue
        if entry["type"] == "categorical":
            drawn[name] = trial.suggest_categorical(name, list(entry["choices"]))
        elif entry["type"] == "int":
            drawn[name] = trial.suggest_int(name, entry["low"], entry["high"], log=bool(entry.get("log")),
                                            step=entry.get("step") or 1)  # fmt: skip
        else:
            drawn[name] = trial.suggest_float(name, entry["low"], entry["high"], log=bool(entry.get("log")),
                                              step=entry.get("step"))  # fmt: skip
    return drawn


class TrialReporter(Reporter):
    """Each epoch's validation loss to the trial, as one step; the pruner's verdict ends the trial there.
    Steps count every epoch reported, so ensemble members and a forecaster's origins follow one another.

    The trial is worth the mean, over the fits it made (one, or each ensemble member at each origin), of
    the validation loss of the weights each fit keeps: its best epoch's, or its averaged weights' (the
    classifier's cosine recipe), or a language model's mixture with its n-gram model, which `final` hears."""

    def __init__(self, trial, inner: Optional[Reporter] = None):
        self.trial, self.inner = trial, inner
        self.steps, self.fits = 0, []  # fits: the kept validation loss of each fit, the current one last

    @property
    def best(self) -> float:
        """The trial's value so far (inf before any epoch)."""
        return sum(self.fits) / len(self.fits) if self.fits else math.inf

    def start(self, epochs: int, first_epoch: int = 1) -> None:
        if self.inner is not None:
            self.inner.start(epochs, first_epoch)
        self.fits.append(math.inf)

    def epoch(self, row: dict) -> None:
        import optuna

        if self.inner is not None:
            self.inner.epoch(row)
        self.steps += 1
        value = float(row["val_loss"])
        if not self.fits:  # a fit that did not announce its start
            self.fits.append(math.inf)
        self.fits[-1] = min(self.fits[-1], value)
        self.trial.report(value, self.steps)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {row['epoch']}")

    def final(self, val_loss: float) -> None:
        """Averaged weights (or a mixture) are what this fit keeps: it is worth their validation loss, not its
        best epoch's."""
        if self.inner is not None:
            self.inner.final(val_loss)
        if not self.fits:
            self.fits.append(math.inf)
        self.fits[-1] = float(val_loss)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()

    def phase(self, name: str) -> Reporter:
        """A phase before the model trains (pretraining) is shown, but is no fit of the trial: its losses are
        not the model's, so they neither count towards the trial's value nor reach the pruner."""
        return Reporter() if self.inner is None else self.inner.phase(name)


@contextlib.contextmanager
def _heartbeat(storage, trial):
    """The time stamped on the running trial every HEARTBEAT_S seconds, so commands on other machines sharing
    the storage see it alive."""
    stop = threading.Event()

    def beat():
        while True:
            with contextlib.suppress(Exception):  # the trial ended meanwhile, or the database is busy: next beat
                storage.set_trial_user_attr(trial._trial_id, "heartbeat", time.time())
            if stop.wait(HEARTBEAT_S):
                return

    thread = threading.Thread(target=beat, name="lstmkit-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:500]


def as_spec(values: dict[str, Any]) -> TuneSpec:
    return TuneSpec(**values)
