"""The time column of a series: its cells read as dates or integers, checked for repeated times; and the
frequency and the gaps of the sorted time axis.

    time = parse_time(table["Month"], rows, "Month", path)    # DatetimeIndex, or an integer Index (years)
    check_unique_times(time, rows, "Month", path)              # a DataError naming the rows of a repeated time
    freq, gaps = infer_freq_and_gaps(time.sort_values())       # 'MS', ["3 missing steps between ... and ..."]
"""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
import pandas as pd

from ..errors import DataError

_INTEGER = r"[+-]?\d+"


def parse_time(cells: pd.Series, rows: np.ndarray, name: str, path) -> pd.Index:
    """(R,) time axis from text cells: an integer Index when every cell is an integer (years, step numbers),
    else a DatetimeIndex in any format pandas can parse. A cell that is neither is a DataError with its row."""
    empty = (cells == "").to_numpy()
    if empty.any():
        row = rows[int(np.argmax(empty))]
        raise DataError(f"{path}: column '{name}' has no time at row {row} (empty cell); fill it in or remove that row")
    if cells.str.fullmatch(_INTEGER).all():
        try:
            return pd.Index(cells.astype(np.int64).to_numpy(), name=name)
        except (OverflowError, ValueError):
            pass  # too large for int64: try them as dates
    parsed = _to_datetime(cells)
    unparsed = parsed.isna().to_numpy()
    if unparsed.any():
        i = int(np.argmax(unparsed))
        raise DataError(
            f"{path}: column '{name}' cannot be read as time at row {rows[i]} (value '{cells.iloc[i]}'); "
            "expected dates (e.g. 1949-01) or integers (e.g. years)"
        )
    return pd.DatetimeIndex(parsed, name=name)


def _to_datetime(cells: pd.Series) -> pd.Series:
    """Dates in the format inferred from the first cell; cell by cell (`format="mixed"`) only if that fails."""
    parsed = _to_datetime_with(cells, None)
    if parsed.isna().any():
        mixed = _to_datetime_with(cells, "mixed")
        if mixed.isna().sum() < parsed.isna().sum():
            parsed = mixed
    return parsed


def _to_datetime_with(cells: pd.Series, format: Optional[str]) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format", dateutil fallbacks
        for utc in (False, True):  # utc=True only for mixed time zones
            try:
                return pd.to_datetime(cells, errors="coerce", format=format, utc=utc)
            except (ValueError, TypeError, OverflowError):
                continue
    return pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")


def format_time(t) -> str:
    """A time as a user writes it: 1950-01-01 for midnight, 1950-01-01 06:00:00 otherwise, 1700 for integers."""
    if isinstance(t, pd.Timestamp):
        return t.strftime("%Y-%m-%d") if t == t.normalize() and t.tz is None else str(t)
    return str(t)


def check_unique_times(time: pd.Index, rows: np.ndarray, name: str, path) -> None:
    duplicated = time.duplicated(keep=False)
    if not duplicated.any():
        return
    first = time[int(np.argmax(duplicated))]
    where = rows[np.flatnonzero(time == first)]
    times = "twice" if len(where) == 2 else f"{len(where)} times"
    raise DataError(f"{path}: column '{name}' has the time {format_time(first)} {times} (rows {_and_list(where)})")


def _and_list(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------------------------------------
# Frequency and gaps of a sorted time axis


def infer_freq_and_gaps(time: Optional[pd.Index]) -> tuple[Optional[str], list[str]]:
    """(freq, gaps) of a sorted time axis without duplicates.

    freq is a pandas offset alias ('MS', 'YS-JAN', 'D') for dates or the step ('1', '5') for integers, found
    even when some steps are missing (the most common step); gaps describes each run of missing steps.
    (None, []) when there is no time axis or no regular step explains every time."""
    if time is None or len(time) < 2:
        return None, []
    if isinstance(time, pd.DatetimeIndex):
        return _datetime_freq_and_gaps(time)
    return _integer_freq_and_gaps(time.to_numpy(dtype=np.int64))


def _integer_freq_and_gaps(time: np.ndarray) -> tuple[Optional[str], list[str]]:
    steps = np.diff(time)  # (N - 1,) all > 0
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    if 2 * counts.max() < len(steps) or np.any(steps % step):  # most steps must be that step
        return None, []
    missing = steps // step - 1
    return str(step), _describe_gaps(missing, time)


def _datetime_freq_and_gaps(time: pd.DatetimeIndex) -> tuple[Optional[str], list[str]]:
    freq = _infer_freq(time)
    if freq is not None:
        return freq, []
    freq = _most_common_local_freq(time) or _most_common_step(time)
    if freq is None:
        return None, []
    try:
        step = (time[0] + pd.tseries.frequencies.to_offset(freq)) - time[0]
        if (time[-1] - time[0]) / step > 10 * len(time) + 1000:  # a step far finer than the data: not its grid
            return None, []
        grid = pd.date_range(time[0], time[-1], freq=freq)
    except (ValueError, TypeError, OverflowError, ZeroDivisionError):
        return None, []
    positions = grid.get_indexer(time)  # (N,) -1 where a time is off the grid
    if (positions < 0).any():
        return None, []
    return freq, _describe_gaps(np.diff(positions) - 1, time)


def _infer_freq(time: pd.Index) -> Optional[str]:
    if len(time) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces infer_freq will return an offset
        try:
            freq = pd.infer_freq(time)
        except (ValueError, TypeError):
            return None
    return getattr(freq, "freqstr", freq)


def _most_common_local_freq(time: pd.DatetimeIndex, samples: int = 200) -> Optional[str]:
    """The frequency most three-point stretches agree on: the series' step even when gaps break infer_freq."""
    starts = np.unique(np.linspace(0, len(time) - 3, num=min(samples, max(len(time) - 2, 0))).astype(int))
    found = [f for f in (_infer_freq(time[i : i + 3]) for i in starts) if f is not None]
    if not found:
        return None
    names, counts = np.unique(found, return_counts=True)
    return str(names[np.argmax(counts)])


def _most_common_step(time: pd.DatetimeIndex) -> Optional[str]:
    """The mode of the differences as a fixed offset ('h', '15min', '7D') when at least half of the
    differences are that step: for short series with gaps, where three-point stretches are too few."""
    steps, counts = np.unique(np.diff(time.asi8), return_counts=True)
    if 2 * counts.max() < len(time) - 1:
        return None
    step = pd.Timedelta(int(steps[np.argmax(counts)]), unit=time.unit)
    if step % pd.Timedelta(days=1) == pd.Timedelta(0):  # pandas writes whole days as '24h'
        days = step // pd.Timedelta(days=1)
        return "D" if days == 1 else f"{days}D"
    try:
        return pd.tseries.frequencies.to_offset(step).freqstr
    except ValueError:
        return None


def _describe_gaps(missing: np.ndarray, time) -> list[str]:
    """missing (N - 1,): how many steps are missing between time[i] and time[i + 1]."""
    return [
        f"{k} missing step{'s' if k > 1 else ''} between {format_time(time[i])} and {format_time(time[i + 1])}"
        for i, k in enumerate(missing.tolist())
        if k > 0
    ]
