"""The command line's options, built from the settings' declarations (`lstmkit.settings`) rather than
written again: one `train` command per job, each option with the setting's help, bounds and choices.

A setting becomes `--name-with-dashes`. Lists (`listed`) are written comma-separated ("a,b", "0.1,0.9"),
choices become a choice of words, a `switch` is a bare flag, and a bool a flag that turns it on.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from .errors import ConfigError
from .settings import Option, declared, option_of


def flag(name: str) -> str:
    """The command line's flag for a setting or argument: --name-with-dashes."""
    return "--" + name.replace("_", "-")


def choice(name: str, values) -> type[Enum]:
    """A str Enum of `values`, which typer shows and checks as a choice."""
    return Enum(name, {str(v): str(v) for v in values}, type=str)


@dataclasses.dataclass(frozen=True)
class CliOption:
    """One setting as the command line takes it."""

    field: dataclasses.Field
    annotation: Any  # the typer annotation: Annotated[type, typer.Option(...)]
    default: Any  # the command line's default (inspect.Parameter.empty: required)

    @property
    def name(self) -> str:
        return self.field.name

    def value(self, given: Any) -> Any:
        """The setting's value from what the command line parsed."""
        option = option_of(self.field)
        if isinstance(given, Enum):
            return given.value
        if option.switch is not None:
            return option.switch if given else self.field.default
        if option.listed is not None:
            return _listed(given, option.listed, self.name, self.field.default)
        if isinstance(given, Path):
            return str(given)
        return given


def cli_options(settings: type) -> list[CliOption]:
    """The command-line options of a settings dataclass: those declared with `cli=True`, in order."""
    hints = typing.get_type_hints(settings)
    return [_cli_option(field, hints[field.name]) for field in declared(settings) if option_of(field).cli]


def _cli_option(field: dataclasses.Field, hint: Any) -> CliOption:
    option: Option = option_of(field)
    default = field.default
    kind, extra = _base_type(hint), {}
    if option.choices is not None and option.switch is None:
        kind = choice(field.name, option.choices)
        default = None if default is None else kind(str(default))
    if option.listed is not None:
        kind, default = str, ",".join(str(v) for v in (default or ()))
    names = ()
    if option.switch is not None:  # a bare flag; off: the setting's default
        kind, default = bool, False
    if kind is bool:
        # off by default: a bare flag; on, or resolved by the data (None): the flag and its --no- form
        names = (flag(field.name) if default is False else f"{flag(field.name)}/--no-{flag(field.name)[2:]}",)
    if option.min is not None:
        extra["min"] = option.min
    if option.max is not None:
        extra["max"] = option.max
    if default is None:
        kind = Optional[kind]
    if default is dataclasses.MISSING:
        default = inspect.Parameter.empty
    return CliOption(field, Annotated[kind, typer.Option(*names, help=option.help, **extra)], default)


def _base_type(hint: Any) -> type:
    """int, float, str, bool or Path: what the command line parses for a setting's type."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if not args:
        return hint
    if Path in args:
        return Path
    return _base_type(args[0]) if len(args) == 1 else str


def _listed(text: str, kind: type, name: str, default: Any) -> Any:
    """'a, b' -> ['a', 'b'] (or floats); empty text -> the setting's default."""
    items = [item.strip() for item in str(text).split(",") if item.strip()]
    if not items:
        return default
    if kind is str:
        return items
    try:
        return [kind(item) for item in items]
    except ValueError:
        raise ConfigError(f"`{name}` must be comma-separated numbers such as 0.1,0.5,0.9, got {text!r}") from None


def command(function: Callable, parameters: list[inspect.Parameter], doc: str) -> Callable:
    """`function(**values)` with the signature typer reads its options from."""

    def run(**values):
        return function(**values)

    run.__signature__ = inspect.Signature(parameters)
    run.__doc__ = doc
    return run


def parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
