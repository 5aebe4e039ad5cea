"""Search spaces: a job's default (`Job.space`, written beside the job in `tasks/<job>/space.py`), with a
small JSON file's entries over it, checked once against the job's settings before any trial runs.

An entry names one setting of the job and how to draw it, in Optuna's terms:

    {"hidden": {"type": "int", "low": 16, "high": 128, "log": true},
     "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": true},
     "variant": {"type": "categorical", "choices": ["vanilla", "peephole"]}}

`step` (int, float) draws on a grid. Every value an entry can draw must be one the setting allows (its
declared bounds and choices), so a space never proposes what a run would refuse.
"""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path
from typing import Any, Mapping, Optional

from ..errors import ConfigError
from ..settings import _problem, declared, option_of

TYPES = ("int", "float", "categorical")
# settings of how a run is executed, not of the model it learns: no search changes them
NOT_SEARCHED = frozenset({"seed", "device", "precision", "threads", "checkpoint_every", "max_time", "epochs", "patience"})
_KEYS = {"int": {"type", "low", "high", "log", "step"}, "float": {"type", "low", "high", "log", "step"},
         "categorical": {"type", "choices"}}  # fmt: skip


def read_space_file(path) -> dict:
    """The entries of a --space JSON file: one object of objects; a ConfigError naming the file otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: the space file does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: the space file cannot be read ({type(error).__name__})") from None
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
        raise ConfigError(f'{path}: must be one JSON object of settings, each an object such as '
                          '{"hidden": {"type": "int", "low": 16, "high": 128}}')  # fmt: skip
    return entries


def search_space(job, given: Optional[Mapping[str, Mapping]] = None, where: str = "the space",
                 fixed: Optional[Mapping[str, str]] = None) -> dict:
    """The job's default space with `given`'s entries over it (a file's or a dict's), each checked against
    the job's settings; `where` names the source in messages. `fixed` ({setting: why}, what the run's other
    settings hold fixed: `Estimator.fixed_settings`) leaves the default's entries out and refuses given ones."""
    fields = {f.name: f for f in declared(job.settings)}
    fixed = fixed or {}
    space = {name: dict(entry) for name, entry in job.space.items() if name not in fixed}
    for name, entry in (given or {}).items():
        if name not in fields:
            known = sorted(n for n in fields if n not in NOT_SEARCHED)
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"the settings it can search are {', '.join(known)}"
            raise ConfigError(f"{where}: '{name}' is not a setting of {job.name}; {hint}")
        if name in NOT_SEARCHED:
            raise ConfigError(f"{where}: '{name}' is not searched: it sets how a run executes, not the model; "
                              f"give it as an option instead")  # fmt: skip
        if name in fixed:
            raise ConfigError(f"{where}: '{name}' is not searched here: {fixed[name]}")
        space[name] = dict(entry)
    for name, entry in space.items():
        check_entry(name, entry, fields[name], where)
    return space


def check_entry(name: str, entry: Mapping, field, where: str) -> None:
    """One entry: a known type, its keys, a range that is neither empty nor inverted, every value allowed."""
    kind = entry.get("type")
    if kind not in TYPES:
        raise ConfigError(f"{where}: '{name}' has type {kind!r}; the types are int, float and categorical")
    unknown = sorted(set(entry) - _KEYS[kind])
    if unknown:
        raise ConfigError(f"{where}: '{name}' ({kind}) has unknown key '{unknown[0]}'; it takes "
                          f"{', '.join(sorted(_KEYS[kind] - {'type'}))}")  # fmt: skip
    option = option_of(field)
    if kind == "categorical":
        choices = entry.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{where}: '{name}' needs a non-empty list of choices")
        for value in choices:
            problem = _problem(option, value)
            if problem and not (value is None and field.default is None):
                raise ConfigError(f"{where}: '{name}' choice {value!r} is not allowed; it must be {problem}")
        return
    low, high = entry.get("low"), entry.get("high")
    number = (int,) if kind == "int" else (int, float)
    for key, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, number) or not math.isfinite(value):
            raise ConfigError(f"{where}: '{name}' needs '{key}' as {'a whole' if kind == 'int' else 'a finite'} number, got {value!r}")
    if low >= high:
        raise ConfigError(f"{where}: '{name}' has an {'empty' if low == high else 'inverted'} range: low {low} "
                          f"must be below high {high}")  # fmt: skip
    if entry.get("log") and low <= 0:
        raise ConfigError(f"{where}: '{name}' is log-scaled, so 'low' must be above 0, got {low}")
    step = entry.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, number) or step <= 0 or entry.get("log")):
        raise ConfigError(f"{where}: '{name}' needs 'step' as a number above 0 and no 'log', got {step!r}")
    if kind == "float" and option.whole:
        raise ConfigError(f"{where}: '{name}' is a whole number; give it type int")
    for value in (low, high):
        problem = _problem(option, value)
        if problem:
            raise ConfigError(f"{where}: '{name}' range [{low}, {high}] goes outside what it allows: it must be {problem}")


def distributions(space: Mapping[str, Mapping]) -> dict:
    """Each entry as an Optuna distribution."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    made = {}
    for name, entry in space.items():
        if entry["type"] == "categorical":
            made[name] = CategoricalDistribution(list(entry["choices"]))
        elif entry["type"] == "int":
            made[name] = IntDistribution(entry["low"], entry["high"], log=bool(entry.get("log")), step=entry.get("step") or 1)
        else:
            made[name] = FloatDistribution(entry["low"], entry["high"], log=bool(entry.get("log")), step=entry.get("step"))
    return made


def default_params(space: Mapping[str, Mapping], settings: Mapping[str, Any]) -> dict:
    """The default settings' value of each searched setting that its distribution can hold (a default of None,
    resolved from the data, or one outside a narrowed range is not a point of the space: the default trial
    leaves it at its default instead of drawing it)."""
    params = {}
    for name, distribution in distributions(space).items():
        value = settings.get(name)
        try:
            inside = value is not None and distribution._contains(distribution.to_internal_repr(value))
        except (ValueError, TypeError):
            inside = False
        if inside:
            params[name] = value
    return params


class _Started(Exception):
    """The probe's training started: the data passed every check for the settings."""


def _probe():
    """A silent reporter that stops `fit` where training would start (after reading, splitting and checking)."""
    from ..train.progress import Reporter

    class Probe(Reporter):
        def start(self, epochs: int, first_epoch: int = 1) -> None:
            raise _Started

        def note(self, text: str) -> None:
            pass

    return Probe()


def fit_at_origin(estimator, data, earlier: int, **options):
    """`estimator.fit(data, **options)` on the data as they stood `earlier` horizons before their end: the
    forecaster's `fit(earlier=k)`, which the other jobs' fit has not (their trials are fitted at the end alone)."""
    return estimator.fit(data, **options, **({"earlier": earlier} if earlier else {}))


def check_the_data(job, settings: Mapping[str, Any], data, earlier: int = 0) -> None:
    """Run `job` with `settings` on `data` up to its data checks (no training is done), at the origin `earlier`
    horizons before the data's end (a forecaster's): raises the DataError a run would stop with."""
    try:
        fit_at_origin(job.estimator(**settings), data, earlier, reporter=_probe(), score_test=False)
    except _Started:
        pass


def fits_the_data(job, settings: Mapping[str, Any], data, earlier: int = 0) -> bool:
    """Whether a run of `job` with `settings` gets past its data checks on `data` (no training is done)."""
    from ..errors import DataError

    try:
        check_the_data(job, settings, data, earlier)
    except DataError:
        return False
    return True


def fitted_to_data(job, space: Mapping[str, Mapping], settings: Mapping[str, Any], data,
                   earlier: int = 0) -> tuple[dict, dict]:  # fmt: skip
    """The space with each int range whose upper end the data cannot take (a lookback longer than a short
    series allows) lowered to the largest value that passes the job's data checks, found by bisection before
    any trial (TPE learns nothing from failed trials, so it would keep drawing there); and {name: (old high,
    new high)} of what changed. A range that fails even at its lower end is kept: its trials fail with the reason.
    `earlier`: the data checked as at the trials' earliest origin, the shortest they fit."""
    space, lowered = {name: dict(entry) for name, entry in space.items()}, {}
    for name, entry in space.items():
        if entry["type"] != "int" or fits_the_data(job, {**settings, name: entry["high"]}, data, earlier):
            continue
        step = entry.get("step") or 1
        fits = lambda k: fits_the_data(job, {**settings, name: entry["low"] + k * step}, data, earlier)  # noqa: E731
        good, bad = 0, (entry["high"] - entry["low"]) // step  # grid indices: good fits, bad does not
        if not fits(good):
            continue
        while bad - good > 1:
            middle = (good + bad) // 2
            good, bad = (middle, bad) if fits(middle) else (good, middle)
        lowered[name] = (entry["high"], entry["low"] + good * step)
        entry["high"] = lowered[name][1]
    return space, lowered
