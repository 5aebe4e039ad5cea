"""The errors lstmkit raises for bad input.

Every error a user can cause derives from `LstmkitError`; the command line turns these into one line and
exit code 2. Each also derives from the built-in exception a Python user would expect (`ValueError`), so
`except ValueError` keeps working around lstmkit calls.
"""


class LstmkitError(Exception):
    """Base of every error caused by what the user passed in."""


class ShapeError(LstmkitError, ValueError):
    """A tensor reached a layer with a shape or dtype it cannot take."""


class ConfigError(LstmkitError, ValueError):
    """A constructor argument or option is out of range or contradicts another."""


class DataError(LstmkitError, ValueError):
    """A data file or array cannot be used as it is."""


class TrainingError(LstmkitError, RuntimeError):
    """Training cannot go on: a non-finite loss, or a checkpoint that does not fit the run."""
