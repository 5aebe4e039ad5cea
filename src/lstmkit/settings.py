"""Settings declared once: a default, what the setting means, and the values it may take.

A settings dataclass declares each field with `setting(default, help, ...)`. From that one declaration
`check_settings` checks a value before anything runs (one line naming the setting), and the command line
builds its options (flag, help, bounds, choices) without repeating any of it. The estimators' settings
(`lstmkit.tasks.settings`) and the training loop's (`lstmkit.train.config`) are declared this way.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

OPTION = "lstmkit.option"  # the key of a field's metadata that holds its `Option`


@dataclass(frozen=True)
class Option:
    """What a setting means and which values it takes. Bounds are inclusive (`min`, `max`) or exclusive
    (`above`, `below`); None is allowed for a setting declared Optional or whose default is None."""

    help: str
    min: Optional[float] = None
    max: Optional[float] = None
    above: Optional[float] = None
    below: Optional[float] = None
    choices: Optional[tuple] = None
    whole: bool = False  # an integer (a bool is not one)
    cli: bool = True  # offered by the command line, as --name-with-dashes
    listed: Optional[type] = None  # a sequence of str or float, written comma-separated on the command line
    switch: Any = None  # on the command line a bare flag that sets this value (off: the default)


def setting(default: Any = dataclasses.MISSING, help: str = "", **option: Any) -> Any:
    """A dataclass field with its `Option`; no default makes the setting required."""
    return dataclasses.field(default=default, metadata={OPTION: Option(help, **option)})


def redeclared(field: dataclasses.Field, default: Any = dataclasses.MISSING, **changes: Any) -> Any:
    """`field` again with another default (and other `Option` fields, e.g. help), for a dataclass that
    declares a setting of another one with its own default."""
    option = dataclasses.replace(option_of(field), **changes)
    return dataclasses.field(default=field.default if default is dataclasses.MISSING else default,
                             metadata={OPTION: option})  # fmt: skip


def option_of(field: dataclasses.Field) -> Option:
    return field.metadata[OPTION]


def declared(settings) -> list[dataclasses.Field]:
    """The fields of a settings dataclass (or instance) declared with `setting`, in order."""
    return [f for f in dataclasses.fields(settings) if OPTION in f.metadata]


def or_list(items: Sequence) -> str:
    """'a, b or c'."""
    words = [str(item) for item in items]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def check_settings(settings) -> None:
    """A ConfigError naming the first setting whose value its `Option` does not allow."""
    from .errors import ConfigError

    for field in declared(settings):
        value = getattr(settings, field.name)
        problem = _problem(option_of(field), value)
        if problem and not (value is None and _takes_none(field)):
            raise ConfigError(f"`{field.name}` must be {problem}, got {value!r}")


def check_whole(name: str, value: Any, least: int = 1) -> int:
    """`value` when it is a whole number of at least `least` (a bool is not one); else a ConfigError naming
    the argument `name`."""
    from .errors import ConfigError

    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"`{name}` must be a whole number of at least {least}, got {value!r}")
    return value


def check_temperature(temperature: Any) -> float:
    """A sampling temperature: a finite number above 0; else a ConfigError."""
    from .errors import ConfigError

    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not (0 < temperature < math.inf):
        raise ConfigError(f"`temperature` must be a finite number above 0, got {temperature}")
    return temperature


def _takes_none(field: dataclasses.Field) -> bool:
    """Whether None is a value of the setting: its default is None, or it is declared Optional."""
    return field.default is None or str(field.type).startswith(("Optional[", "typing.Optional["))


def _problem(option: Option, value: Any) -> str:
    """What `value` should have been, or '' when it is allowed."""
    if option.choices is not None:
        return "" if value in option.choices else or_list(option.choices)
    bounded = any(b is not None for b in (option.min, option.max, option.above, option.below))
    if not (option.whole or bounded):
        return ""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if option.whole:
        number = number and isinstance(value, int)
    if not number or (isinstance(value, float) and math.isnan(value)) or not _within(option, value):
        return _wanted(option)
    return ""


def _within(option: Option, value: float) -> bool:
    return ((option.min is None or value >= option.min) and (option.max is None or value <= option.max)
            and (option.above is None or value > option.above) and (option.below is None or value < option.below))  # fmt: skip


def _wanted(option: Option) -> str:
    """'a whole number of at least 1', 'a number in [0, 1)', 'above 0', ..."""
    what = "a whole number" if option.whole else "a number"
    low, high = _first(option.min, option.above), _first(option.max, option.below)
    if high == math.inf:  # `below=math.inf`: any finite number
        what, high = what.replace("a ", "a finite ", 1), None
    if low is not None and high is not None:
        left, right = ("[" if option.min is not None else "("), ("]" if option.max is not None else ")")
        return f"{what} in {left}{_show(low)}, {_show(high)}{right}"
    if option.min is not None:
        return f"{what} of at least {_show(option.min)}"
    if option.above is not None:
        return f"{what} above {_show(option.above)}"
    if high is not None:
        return f"{what} {'at most' if option.max is not None else 'below'} {_show(high)}"
    return what


def _first(*values):
    return next((v for v in values if v is not None), None)


def _show(number: float) -> str:
    return str(number) if isinstance(number, int) else f"{number:g}"  # a large int bound in full
