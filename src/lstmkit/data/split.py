"""The split of a series by time into training, validation and test parts; whether a series is long enough.

    train, val, test = split_by_time(len(series), val_frac=0.15, test_frac=0.15)
    lookback = default_lookback(wanted=24, n_train=train.stop, horizon=horizon)
    check_length(len(series), lookback, horizon, val_frac=0.15, test_frac=0.15, path=series.path)

Long enough means long enough for a model worth reporting, not merely for one window: the training part
must hold MIN_TRAIN_WINDOWS windows (see `check_length`), and a default lookback is never shortened below
MIN_DEFAULT_LOOKBACK to squeeze a short series in (see `default_lookback`).

How windows are assigned to parts: a window belongs to the part that holds its *targets* (its first target
step and every later one, see `lstmkit.data.windows`); its inputs may reach back into the previous part.
That is not leakage: the inputs are the past, which a forecaster deployed at that time would have seen.
"""

from __future__ import annotations

import math

from ..errors import ConfigError, DataError
from .windows import check_window_sizes

# Ten windows, one step apart: fewer, and the network has almost nothing to fit while the validation loss
# and the test score measure noise; the run would report a model where there is none.
MIN_TRAIN_WINDOWS = 10
# A default lookback is shortened to fit a short training part, but not below this: an LSTM that reads one
# or two steps is not modelling a sequence. A shorter lookback is still accepted when it is asked for.
MIN_DEFAULT_LOOKBACK = 8


def split_by_time(n: int, val_frac: float = 0.15, test_frac: float = 0.15, at_least: int = 0) -> tuple[slice, slice, slice]:
    """(train, val, test) slices of range(n), in time order: train the beginning, test the end, validation
    just before the test part. Part sizes are round(n * frac) (halves up) for val and test, but at least
    `at_least` rows where the fraction is not 0 (the forecaster's: a horizon, one window); train gets the rest.

    A window belongs to the part holding its targets: `make_windows(values, L, H, start=val.start,
    stop=val.stop)` gives the validation windows; their inputs may reach back into the training part."""
    _check_fraction("val_frac", val_frac)
    _check_fraction("test_frac", test_frac)
    if val_frac + test_frac >= 1:
        raise ConfigError(
            f"`val_frac` + `test_frac` must be below 1 to leave rows for training, got {val_frac} + {test_frac}"
        )
    n_test, n_val = part_rows(n, test_frac, at_least), part_rows(n, val_frac, at_least)
    train_stop = max(0, n - n_val - n_test)
    val_stop = max(train_stop, n - n_test)
    return slice(0, train_stop), slice(train_stop, val_stop), slice(val_stop, n)


def part_rows(n: int, frac: float, at_least: int = 0) -> int:
    """The rows of a validation or test part of `frac` of n rows: round(n * frac), halves up, but at least
    `at_least` where `frac` is not 0."""
    return max(int(n * frac + 0.5), at_least if frac > 0 else 0)


def _check_fraction(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConfigError(f"`{name}` must be a number in [0, 1), got {value!r}")


def _parts_hold_windows(n: int, lookback: int, horizon: int, val_frac: float, test_frac: float, train_windows: int,
                        at_least: int = 0) -> bool:  # fmt: skip
    train, val, test = split_by_time(n, val_frac, test_frac, at_least)
    return (
        train.stop >= lookback + horizon + train_windows - 1
        and (val_frac == 0 or val.stop - val.start >= horizon)
        and (test_frac == 0 or test.stop - test.start >= horizon)
    )


def default_lookback(wanted: int, n_train: int, horizon: int) -> int:
    """`wanted`, shortened where a training part of `n_train` rows would otherwise hold fewer than
    MIN_TRAIN_WINDOWS windows, but never below MIN_DEFAULT_LOOKBACK (nor above `wanted`). A series too short
    even for that is then refused by `check_length`, which says how many rows it needs."""
    room = n_train - horizon - (MIN_TRAIN_WINDOWS - 1)  # the longest lookback leaving MIN_TRAIN_WINDOWS windows
    return min(wanted, max(MIN_DEFAULT_LOOKBACK, room))


def min_series_length(
    lookback: int, horizon: int, val_frac: float = 0.15, test_frac: float = 0.15, *, train_windows: int = MIN_TRAIN_WINDOWS,
    at_least: int = 0,
) -> int:
    """The fewest rows from which on `check_length` accepts every length: the training part at least
    lookback + horizon + train_windows - 1 rows (`train_windows` windows, one step apart), validation and
    test (when their fraction is not 0) at least horizon rows each (one window), on the parts of
    `split_by_time(n, val_frac, test_frac, at_least)`."""
    check_window_sizes(lookback, horizon)
    train_rows = lookback + horizon + train_windows - 1

    def holds(n: int) -> bool:
        return _parts_hold_windows(n, lookback, horizon, val_frac, test_frac, train_windows, at_least)

    # Every length from `surely` on holds: validation and test are each at most max(n * frac + 0.5, at_least)
    # rows, so the training part is at least n * (1 - val_frac - test_frac) - 1 - 2 * at_least rows; and each
    # is at least horizon rows once n * frac >= horizon - 0.5. One more row can cost the training part one
    # (validation and test both rounding up at once), so lengths that hold and fail may alternate below it:
    # the answer is one above the longest that fails, looked for from `surely` down.
    surely = math.ceil((train_rows + 1 + 2 * at_least) / (1 - val_frac - test_frac)) + 1
    surely = max([surely] + [math.ceil((horizon - 0.5) / f) + 1 for f in (val_frac, test_frac) if f > 0 and at_least < horizon])
    n = surely
    while n > 1 and holds(n - 1):
        n -= 1
    return n


def check_length(
    n_rows: int,
    lookback: int,
    horizon: int,
    *,
    val_frac: float = 0.15,
    test_frac: float = 0.15,
    path="the series",
    train_windows: int = MIN_TRAIN_WINDOWS,
    lookback_given: bool = True,
    backtest: int = 0,
) -> None:
    """A DataError unless a series of `n_rows` rows is long enough for a model worth reporting.

    The rule, on the forecaster's parts, `split_by_time(n, val_frac, test_frac, at_least=horizon)`: the
    training part holds at least `train_windows` (MIN_TRAIN_WINDOWS = 10) windows of lookback + horizon
    rows, one step apart, so at least lookback + horizon + 9 rows; the validation and test parts (when their
    fraction is not 0) at least one window each, horizon rows, which the split gives them where their
    fraction of the rows is fewer (a 108-month series and a horizon of 18: 72, 18 and 18 rows, where 0.15 of
    the rows would be 16). With the default fractions (0.15, 0.15) that is 26 rows for
    lookback 8 and horizon 1, 48 for lookback 24 and horizon 1. The message says how many rows the given
    lookback, horizon, val_frac and test_frac need (`min_series_length`), and with lookback_given False that the
    lookback is a default (already at its shortest), not the user's. With `backtest` K, the last K * horizon of
    the `n_rows` rows are its test part (`test_frac` is not used) and the rule is on the rows before them."""
    _check_fraction("val_frac", val_frac)
    _check_fraction("test_frac", test_frac)
    check_window_sizes(lookback, horizon)
    held = backtest * horizon
    test_frac = 0 if backtest else test_frac
    if _parts_hold_windows(n_rows - held, lookback, horizon, val_frac, test_frac, train_windows, at_least=horizon):
        return
    needed = min_series_length(lookback, horizon, val_frac, test_frac, train_windows=train_windows, at_least=horizon) + held
    others = [name for name, frac in (("validation", val_frac), ("test", test_frac)) if frac > 0]
    parts = ""
    if others:
        each = " each" if len(others) == 2 else ""
        rows = _rows(horizon)
        parts = f" and the {' and '.join(others)} part{'s' if len(others) == 2 else ''} at least {rows}{each}"
    window = _rows(lookback + horizon)
    windows = f"{train_windows} windows of {window}, one step apart" if train_windows > 1 else f"one window of {window}"
    settings = f"`lookback` {lookback} + `horizon` {horizon}" if lookback_given else (
        f"`horizon` {horizon} after the default `lookback` {lookback} (its shortest)")
    rest = f" ({n_rows - held} before the `backtest`'s {held})" if held else ""
    fractions = f"`backtest` {backtest}" if backtest else f"`test_frac` {test_frac}"
    raise DataError(
        f"{path}: has {n_rows} rows{rest}, too few for {settings}; the training part needs "
        f"at least {_rows(lookback + horizon + train_windows - 1)} ({windows}){parts}, so at least {needed} rows with "
        f"`val_frac` {val_frac} and {fractions}; use a shorter `lookback` or `horizon`, or more data"
    )


def _rows(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"
