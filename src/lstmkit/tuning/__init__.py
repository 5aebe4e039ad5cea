"""`lstmkit tune`: Optuna's search over a job's settings, one command (or one `lstmkit.tune(...)` call) for
every job in the registry.

    tune(job, data, out, trials=N)
      1. the search space: the job's default (`tasks/<job>/space.py`) with a --space file's entries over it,
         checked against the job's settings (`space.py`);
      2. the study in `out/study.db` (or `storage`): created, or continued up to `trials` in total; a fresh
         study runs the default settings first, so its best is never worse than them on validation;
      3. trials (`study.py`) in this process or in K worker processes sharing the study: TPE draws settings,
         each epoch's validation loss feeds the pruner, a failing trial is recorded with its reason;
      4. the best settings and the default ones trained once more as normal runs into `out/best` and
         `out/default`: the test part is scored there, once each, and never while trials run;
      5. `out/tune.json` and `out/tune.html` (`report.py`): best against default, the history, importances.

Optuna is imported here, inside these functions, never by `import lstmkit` or the command line's start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from ..errors import ConfigError, DataError, TrainingError
from ..fileio import make_folder
from ..settings import check_whole
from .space import check_the_data, default_params, fits_the_data, fitted_to_data, read_space_file, search_space
from .study import PRUNERS, TuneSpec, default_storage, open_storage, prepare_study, run_trials

VAL_FRAC = 0.15  # the validation part trials select on, where a job's settings give none
SUMMARY_FILE, PAGE_FILE = "tune.json", "tune.html"

__all__ = ["tune", "prepare", "run", "PRUNERS", "VAL_FRAC"]


def tune(
    job,
    data: Union[str, Path],
    out: Union[str, Path],
    *,
    trials: int,
    settings: Optional[Mapping[str, Any]] = None,
    space: Union[str, Path, Mapping, None] = None,
    storage: Optional[str] = None,
    workers: int = 1,
    max_time: Optional[float] = None,
    pruner: Any = "median",
    origins: Optional[int] = None,
    reporter=None,
    announce=None,
) -> dict:
    """Tune `job` (a name in `lstmkit.tasks.JOBS`, or its `Job`) on `data` into `out`; returns tune.json's content.

    settings: the job's settings the search starts from (its defaults otherwise), e.g. {"target": "sales"};
    space: a JSON file or a dict of entries over the job's default space; storage: an SQLAlchemy URL (default
    sqlite in out/study.db); workers: processes sharing the study; max_time: seconds after which no trial
    starts; pruner: median, hyperband, none (or an Optuna pruner, in this process only); origins (forecast):
    each trial fitted at K origins a horizon apart, ending where a run's validation part ends, and worth the
    mean of their validation losses; reporter: the final runs' progress; announce: called with one line per
    finished trial."""
    from .report import finish

    started = time.perf_counter()
    job, spec, study = prepare(job, data, out, trials=trials, settings=settings, space=space, storage=storage,
                               workers=workers, max_time=max_time, pruner=pruner, origins=origins, announce=announce)  # fmt: skip
    run(spec, workers, pruner, announce)
    return finish(job, spec, study, reporter=reporter, seconds=time.perf_counter() - started)


def prepare(job, data, out, *, trials: int, settings=None, space=None, storage=None, workers: int = 1,
            max_time=None, pruner: Any = "median", origins: Optional[int] = None, announce=None):  # fmt: skip
    """Everything checked (counts, space, settings, data, storage) and the study opened, before any trial:
    returns (job, spec, study). Int ranges the data cannot take to their upper end are lowered
    (`space.fitted_to_data`), as are origins the series are too short for; `announce` hears each."""
    import optuna

    from ..tasks import job_named

    job = job_named(job) if isinstance(job, str) else job
    _check_counts(trials, workers, max_time, pruner)
    base = job.estimator(**dict(settings or {}))
    base.check_settings()
    origins = _origins(job, origins)
    given, where = (read_space_file(space), str(space)) if isinstance(space, (str, Path)) else (space, "the space")
    space = search_space(job, given, where=where, fixed=base.fixed_settings())
    if getattr(base, "val_frac", None) in (None, 0):  # trials choose on validation, so there must be a part for it
        base.set_params(val_frac=VAL_FRAC)
    base_settings = _jsonable(base.get_params())
    if not Path(data).exists():
        raise DataError(f"{data}: does not exist")
    check_the_data(job, base_settings, data)  # the first trial runs these settings, and the default run after the trials
    out = make_folder(out)
    url = storage or default_storage(out)
    rdb = open_storage(url)
    say = announce or (lambda line: None)
    asked = origins
    while origins > 1 and not fits_the_data(job, base_settings, data, earlier=origins - 1):
        origins -= 1
    if origins < asked:
        say(f"trials fitted at {origins} origin{'s' * (origins > 1)}, not {asked}: the data are too short for the "
            "starting settings at an earlier one")  # fmt: skip
    space, lowered = fitted_to_data(job, space, base_settings, data, earlier=origins - 1)
    for name, (high, fitted) in lowered.items():
        say(f"`{name}` searched up to {fitted}, not {high}: the data allow no more")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = TuneSpec(job=job.name, data=str(data), out=str(out), settings=base_settings, space=space, trials=trials,
                    storage=url, pruner=pruner if isinstance(pruner, str) else type(pruner).__name__, seed=base.seed,
                    deadline=None if max_time is None else time.time() + max_time, origins=origins)  # fmt: skip
    study = prepare_study(spec, rdb, default_params(space, base_settings), None if isinstance(pruner, str) else pruner)
    return job, spec, study


def run(spec: TuneSpec, workers: int = 1, pruner: Any = "median", announce=None) -> None:
    """The trials: in this process, or in `workers` fresh processes sharing the study."""
    if workers == 1:
        run_trials(spec, None if isinstance(pruner, str) else pruner, announce=announce)
    else:
        _run_workers(spec, workers, announce is not None)


def _origins(job, origins: Optional[int]) -> int:
    """The origins each trial is fitted at: one unless given, and more for a forecaster alone."""
    if origins is None:
        return 1
    check_whole("origins", origins)
    if origins > 1 and not job.tunes_at_origins:
        raise ConfigError(f"`origins` is for forecasting: a {job.name} trial is one fit, got {origins}")
    return origins


def _check_counts(trials, workers, max_time, pruner) -> None:
    for name, value in (("trials", trials), ("workers", workers)):
        check_whole(name, value)
    if max_time is not None and not (isinstance(max_time, (int, float)) and max_time > 0):
        raise ConfigError(f"`max_time` must be a number of seconds above 0, got {max_time!r}")
    if isinstance(pruner, str) and pruner not in PRUNERS:
        raise ConfigError(f"`pruner` must be {', '.join(PRUNERS[:-1])} or {PRUNERS[-1]}, got {pruner!r}")
    if not isinstance(pruner, str) and workers > 1:
        raise ConfigError("an Optuna pruner object runs in this process only; with `workers` give its name")


def _run_workers(spec: TuneSpec, workers: int, announce: bool) -> None:
    """K fresh interpreters (`python -m lstmkit.tuning.worker`) share the study; wait for all of them."""
    root = str(Path(__file__).resolve().parents[2])  # the folder lstmkit is imported from: the workers use it too
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    processes = []
    for k in range(workers):
        spec_k = {**spec.to_dict(), "worker": k, "announce": announce}
        processes.append(subprocess.Popen([sys.executable, "-m", "lstmkit.tuning.worker", json.dumps(spec_k)],
                                          env=env, stderr=subprocess.PIPE, text=True))  # fmt: skip
    failures = []
    try:
        for process in processes:
            _, err = process.communicate()
            if announce and err:
                sys.stderr.write(err)
            if process.returncode:
                failures.append(err.strip().splitlines()[-1] if err.strip() else f"exit code {process.returncode}")
    except BaseException:
        for process in processes:
            process.kill()
        raise
    if failures:
        raise TrainingError(f"a tuning worker stopped: {failures[0]}")


def _jsonable(settings: Mapping) -> dict:
    return json.loads(json.dumps(dict(settings), default=str))
