"""The settings every job's estimator shares, declared once.

Each job declares its estimator's settings as a dataclass that extends `SharedSettings` (its
`settings.py`): the constructor then only stores its arguments under their own names (scikit-learn's
contract), `Estimator.get_params` reads them back, `Estimator.check_settings` checks them against their
declarations, and the command line builds every `train` command's options from the same fields. A job gives
a shared setting its own default with `shared(name, default)`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional

from ..nn import VARIANTS
from ..settings import redeclared, setting
from ..train.config import field_of


def _train(name: str) -> Any:
    """A training setting as `TrainConfig` declares it."""
    return redeclared(field_of(name))


@dataclass(kw_only=True, eq=False)
class SharedSettings:
    """The model, data and training settings of every job (keyword-only, after the job's own first one)."""

    hidden: int = setting(64, "LSTM hidden size H.", whole=True, min=1)
    layers: int = setting(1, "Stacked LSTM layers.", whole=True, min=1)
    variant: str = setting("vanilla", "LSTM variant.", choices=VARIANTS)
    dropout: float = setting(0.0, "Dropout between LSTM layers.", min=0, below=1)
    bidirectional: bool = setting(False, "Also read each window backwards.")
    epochs: int = _train("epochs")
    batch_size: int = _train("batch_size")
    lr: float = _train("lr")
    optimizer: str = _train("optimizer")
    patience: int = _train("patience")
    max_time: Optional[float] = _train("max_time")
    checkpoint_every: float = _train("checkpoint_every")
    threads: Optional[int] = _train("threads")
    seed: int = _train("seed")
    device: str = _train("device")
    precision: str = _train("precision")
    val_frac: float = setting(0.15, "Fraction of the data for validation.", min=0, below=1)
    test_frac: float = setting(0.15, "Fraction of the data for the test part (the end of a series).", min=0, below=1)


SHARED = frozenset(f.name for f in dataclasses.fields(SharedSettings))
TRAINING = ("epochs", "batch_size", "lr", "optimizer", "patience", "max_time", "checkpoint_every", "threads", "seed",
            "device", "precision")  # fmt: skip


def time_format_setting() -> Any:
    """`time_format`, the data setting of every job that reads a time column (`time_col`), declared once."""
    return setting(None, "Format of the time column's dates in strftime codes, e.g. %d/%m/%Y, or several "
                         "separated by ; for mixed formats (default: that of the first date).")  # fmt: skip


def time_col_setting() -> Any:
    """`time_col`, the data setting of the jobs that read a series' time column, declared once."""
    return setting(None, "Time column (dates or integers such as years), or the columns a time is split over: a "
                         "year's, then its quarter's or month's, e.g. year,quarter.")  # fmt: skip


def columns_given(columns: Any) -> Any:
    """`id_col` or `time_col` as the settings keep them: several columns given as a list (Darts' `group_cols`;
    a year's and its quarter's) as one comma-separated string, as the command line gives them; anything else
    as it is."""
    if isinstance(columns, (list, tuple)):
        return ",".join(str(name).strip() for name in columns)
    return columns


def shared(name: str, default: Any = dataclasses.MISSING, **changes: Any) -> Any:
    """The shared setting `name` with a job's own default (and, in `changes`, its own help text)."""
    field = next(f for f in dataclasses.fields(SharedSettings) if f.name == name)
    return redeclared(field, default, **changes)
