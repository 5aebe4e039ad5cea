"""The split of a series by time into training, validation and test parts; whether a series is long enough.

    train, val, test = split_by_time(len(series), val_frac=0.15, test_frac=0.15)
    check_length(len(series), lookback, horizon, val_frac=0.15, test_frac=0.15, path=series.path)

How windows are assigned to parts: a window belongs to the part that holds its *targets* (its first target
step and every later one, see `lstmkit.data.windows`); its inputs may reach back into the previous part.
That is not leakage: the inputs are the past, which a forecaster deployed at that time would have seen.
"""

from __future__ import annotations

import math

from ..errors import ConfigError, DataError
from .windows import check_window_sizes


def split_by_time(n: int, val_frac: float = 0.15, test_frac: float = 0.15) -> tuple[slice, slice, slice]:
    """(train, val, test) slices of range(n), in time order: train the beginning, test the end, validation
    just before the test part. Part sizes are round(n * frac) (halves up) for val and test; train gets the rest.

    A window belongs to the part holding its targets: `make_windows(values, L, H, start=val.start,
    stop=val.stop)` gives the validation windows; their inputs may reach back into the training part."""
    _check_fraction("val_frac", val_frac)
    _check_fraction("test_frac", test_frac)
    if val_frac + test_frac >= 1:
        raise ConfigError(
            f"`val_frac` + `test_frac` must be below 1 to leave rows for training, got {val_frac} + {test_frac}"
        )
    n_test = int(n * test_frac + 0.5)
    n_val = int(n * val_frac + 0.5)
    train_stop = max(0, n - n_val - n_test)
    val_stop = max(train_stop, n - n_test)
    return slice(0, train_stop), slice(train_stop, val_stop), slice(val_stop, n)


def _check_fraction(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConfigError(f"`{name}` must be a number in [0, 1), got {value!r}")


def _parts_hold_windows(n: int, lookback: int, horizon: int, val_frac: float, test_frac: float) -> bool:
    train, val, test = split_by_time(n, val_frac, test_frac)
    return (
        train.stop >= lookback + horizon
        and (val_frac == 0 or val.stop - val.start >= horizon)
        and (test_frac == 0 or test.stop - test.start >= horizon)
    )


def min_series_length(lookback: int, horizon: int, val_frac: float = 0.15, test_frac: float = 0.15) -> int:
    """The fewest rows for which every part has at least one window: training at least lookback + horizon
    rows, validation and test (when their fraction is not 0) at least horizon rows each."""
    check_window_sizes(lookback, horizon)
    # Lower bounds from the rounding in split_by_time (each part is off n * frac by at most 0.5), minus one
    # for floating point; the loop then finds the exact answer in a step or two.
    bounds = [lookback + horizon, math.ceil((lookback + horizon - 1) / (1 - val_frac - test_frac)) - 1]
    bounds += [math.ceil((horizon - 0.5) / f) - 1 for f in (val_frac, test_frac) if f > 0]
    n = max(bounds)
    while not _parts_hold_windows(n, lookback, horizon, val_frac, test_frac):
        n += 1
    return n


def check_length(
    n_rows: int, lookback: int, horizon: int, *, val_frac: float = 0.15, test_frac: float = 0.15, path="the series"
) -> None:
    """A DataError unless `n_rows` rows split by `split_by_time` leave at least one window in every part."""
    _check_fraction("val_frac", val_frac)
    _check_fraction("test_frac", test_frac)
    check_window_sizes(lookback, horizon)
    if _parts_hold_windows(n_rows, lookback, horizon, val_frac, test_frac):
        return
    needed = min_series_length(lookback, horizon, val_frac, test_frac)
    others = [name for name, frac in (("validation", val_frac), ("test", test_frac)) if frac > 0]
    parts = ""
    if others:
        each = " each" if len(others) == 2 else ""
        parts = f" and the {' and '.join(others)} part{'s' if len(others) == 2 else ''} at least {horizon} rows{each}"
    raise DataError(
        f"{path}: has {n_rows} rows, too few for `lookback` {lookback} + `horizon` {horizon}; the training part needs "
        f"at least {lookback + horizon} rows{parts}, so at least {needed} rows with `val_frac` {val_frac} and "
        f"`test_frac` {test_frac}; use a shorter `lookback` or `horizon`, or more data"
    )
