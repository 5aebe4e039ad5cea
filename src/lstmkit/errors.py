"""The errors lstmkit raises for bad input.

Every error a user can cause derives from `LstmkitError`; the command line turns these into one line and
exit code 2. Each also derives from the built-in exception a Python user would expect (`ValueError`), so
`except ValueError` keeps working around lstmkit calls.

A message names a setting or argument between backticks ("`lookback` must be at least 1, got 0"). Python
shows the bare name ("lookback must be ..."), and the command line shows its flag instead ("--lookback must
be ..."), through `for_command_line`: the library speaks of parameters, the command line of flags.
"""

from __future__ import annotations

import re
from typing import Callable

_NAMED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


class LstmkitError(Exception):
    """Base of every error caused by what the user passed in."""

    def __str__(self) -> str:
        return _NAMED.sub(r"\1", super().__str__())

    def for_command_line(self, flag: Callable[[str], str]) -> str:
        """The message with each named parameter shown as `flag(name)` (e.g. --lookback)."""
        return _NAMED.sub(lambda match: flag(match.group(1)), super().__str__())


class ShapeError(LstmkitError, ValueError):
    """A tensor reached a layer with a shape or dtype it cannot take."""


class ConfigError(LstmkitError, ValueError):
    """A constructor argument or option is out of range or contradicts another."""


class DataError(LstmkitError, ValueError):
    """A data file or array cannot be used as it is."""


class TrainingError(LstmkitError, RuntimeError):
    """Training cannot go on: a non-finite loss, or a checkpoint that does not fit the run."""


class WriteError(LstmkitError, OSError):
    """A file or folder cannot be written where the user asked for it (read-only, not a folder, a directory)."""


class PeerLost(TrainingError):
    """Another process of a distributed run stopped; this one stops too, leaving the last checkpoint."""


class ReportedElsewhere(LstmkitError):
    """An error of a distributed run's process other than rank 0, which rank 0 reports: the command line
    prints nothing for it."""


class RendezvousError(ConfigError):
    """A process cannot join its distributed run (a port in use, an unreachable rendezvous): each process
    reports its own."""


class FieldError(DataError):
    """A request to `lstmkit serve` that its schema lets through but the model cannot take: `field` names the
    part of the request (`sequences.3`), as the service's 4xx answer shows it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
