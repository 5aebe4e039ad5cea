"""A time series read from a CSV file and checked before training starts; its split by time; its scaler.

    series = read_series_csv("airline.csv", "Passengers", time_col="Month")
    series.values                      # (N, 1 + C) float32: the target in column 0, then the C covariates
    train, val, test = split_by_time(len(series), val_frac=0.15, test_frac=0.15)
    check_length(len(series), lookback, horizon, val_frac=0.15, test_frac=0.15, path=series.path)
    scaler = Scaler().fit(series.values[train])

Every problem with the file is a `DataError` with one line that names the file, the column and the row.
A *row* is the file's line number, counting the header as row 1, so the first data row is row 2 (what a text
editor or a spreadsheet shows; blank lines count too). Cells are read as text first, so a value pandas would
silently turn into something else ("1,234", "abc") is reported instead.

How windows are assigned to parts: a window belongs to the part that holds its *targets* (its first target
step and every later one, see `lstmkit.data.windows`); its inputs may reach back into the previous part.
That is not leakage: the inputs are the past, which a forecaster deployed at that time would have seen.
"""

from __future__ import annotations

import codecs
import difflib
import io
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np
import pandas as pd
import torch

from ..errors import ConfigError, DataError, ShapeError
from .windows import check_window_sizes

FILL_CHOICES = ("ffill", "bfill", "interpolate", "zero")
# Cells that mean "no value" (compared lower-case, after stripping spaces): what R, Excel and pandas write.
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "-nan", "null", "none", "#n/a", "<na>"})
SEPARATORS = (",", ";", "\t", "|")
_INTEGER = r"[+-]?\d+"
_SHOWN_COLUMNS = 20


@dataclass
class Series:
    """One time series: a target column, optional covariate columns, and optionally its time axis."""

    target: np.ndarray  # (N,) float64
    covariates: np.ndarray  # (N, C) float64; C = len(feature_names), may be 0
    target_name: str
    feature_names: list[str]
    time: Optional[pd.Index] = None  # (N,) DatetimeIndex or integer Index, sorted; None without a time column
    freq: Optional[str] = None  # pandas offset alias ('MS', 'YS-JAN', 'D') or an integer step ('1'); None if irregular
    gaps: list[str] = field(default_factory=list)  # "3 missing steps between 1950-03-01 and 1950-07-01"
    path: str = ""

    def __len__(self) -> int:
        return len(self.target)

    @property
    def column_names(self) -> list[str]:
        """The names of the columns of `values`: the target, then the covariates."""
        return [self.target_name, *self.feature_names]

    @property
    def values(self) -> np.ndarray:
        """(N, 1 + C) float32, the target in column 0 then the covariates: what the models read.
        A new array at each call; keep it when windows are to be views of it."""
        return np.column_stack([self.target, self.covariates]).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------
# Reading a CSV file as a table of text cells


def read_text_file(path: Union[str, Path]) -> str:
    """The text of a file that should be UTF-8 text (a BOM is allowed), or a DataError saying why it is not."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{path}: no such file")
    if p.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV file")
    try:
        raw = p.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not raw.strip():
        raise DataError(f"{path}: the file is empty, expected a header row and data rows")
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in raw and not utf16:  # UTF-16 text also holds NULs: let it get the encoding message
        raise DataError(f"{path}: looks like a binary file, expected a CSV text file")
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        text = raw[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        at = bom + error.start
        row = raw[:at].count(b"\n") + 1
        raise DataError(
            f"{path}: cannot be read as UTF-8 text (byte 0x{raw[at]:02x} at position {at}, row {row}); "
            "save it as UTF-8"
        ) from None
    if not text.strip():
        raise DataError(f"{path}: the file is empty, expected a header row and data rows")
    return text


def read_csv_table(path: Union[str, Path]) -> tuple[pd.DataFrame, np.ndarray]:
    """The data rows of a CSV file as text cells, stripped of surrounding spaces, with their row numbers.

    Returns (table, rows): table has one str column per header name (names stripped too), rows (R,) int64
    holds each data row's line number in the file (header = row 1). Blank lines are dropped. The separator
    is the one of `,` `;` tab `|` that the header line holds most often (`,` when it holds none)."""
    text = read_text_file(path)
    lines = text.splitlines(keepends=True)
    leading_blank = next(i for i, line in enumerate(lines) if line.strip())  # text.strip() is not empty
    body = "".join(lines[leading_blank:])
    separator = _sniff_separator(lines[leading_blank])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)  # trailing separators on every data row
        try:
            table = pd.read_csv(
                io.StringIO(body), sep=separator, dtype=str, na_filter=False, skip_blank_lines=False, index_col=False
            )
        except pd.errors.ParserError as error:
            raise DataError(_parser_message(path, error, leading_blank)) from None
    table.columns = [str(name).strip() for name in table.columns]
    twice = table.columns[table.columns.duplicated()]
    if len(twice):
        raise DataError(f"{path}: the header has the column name '{twice[0]}' twice")
    table = table.apply(lambda column: column.str.strip())
    rows = np.arange(len(table), dtype=np.int64) + 2 + leading_blank
    filled = (table != "").any(axis=1).to_numpy()
    table, rows = table[filled].reset_index(drop=True), rows[filled]
    if len(table) == 0:
        raise DataError(f"{path}: has a header but no data rows")
    return table, rows


def _sniff_separator(header: str) -> str:
    counts = [header.count(separator) for separator in SEPARATORS]
    return SEPARATORS[int(np.argmax(counts))] if max(counts) > 0 else ","


def _parser_message(path, error: Exception, line_offset: int) -> str:
    text = str(error).strip()
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found:
        expected, line, saw = (int(g) for g in found.groups())
        return (
            f"{path}: row {line + line_offset} has {saw} fields but the header has {expected}; "
            "remove the extra separator or put quotes around values that contain it"
        )
    found = re.search(r"EOF inside string starting at row (\d+)", text)
    if found:  # pandas counts lines from 0 here
        row = int(found.group(1)) + 1 + line_offset
        return f"{path}: row {row} opens a quote that is never closed; close it or remove the quote character"
    first_line = text.splitlines()[0] if text else type(error).__name__
    return f"{path}: cannot be read as CSV ({first_line})"


def find_column(columns: Sequence[str], name: str, path: Union[str, Path]) -> str:
    """`name` as it is spelled in `columns`, or a DataError suggesting the closest name (ignoring case)."""
    name = str(name).strip()
    if name in columns:
        return name
    by_lower = {column.lower(): column for column in reversed(list(columns))}  # the first spelling wins
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    shown = ", ".join(columns[:_SHOWN_COLUMNS]) + (", ..." if len(columns) > _SHOWN_COLUMNS else "")
    if close:
        raise DataError(f"{path}: no column '{name}'; did you mean '{by_lower[close[0]]}'? Columns: {shown}")
    raise DataError(f"{path}: no column '{name}'. Columns: {shown}")


# ---------------------------------------------------------------------------------------------------------
# Cells to numbers and times


def parse_numbers(cells: pd.Series, rows: np.ndarray, name: str, path) -> np.ndarray:
    """(R,) float64 from text cells: empty / NA cells become NaN; anything else that is not a number (thousands
    separators included) is a DataError naming the first such cell."""
    numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    missing = cells.str.lower().isin(MISSING_TOKENS).to_numpy()
    not_numbers = np.isnan(numbers) & ~missing
    if not_numbers.any():
        i = int(np.argmax(not_numbers))
        value = cells.iloc[i]
        hint = ""
        if re.fullmatch(r"[+-]?[\d.,]*\d[\d.,]*", value) and "," in value:
            hint = "; write numbers without thousands separators and with a dot as the decimal mark"
        raise DataError(f"{path}: column '{name}' has a non-numeric value '{value}' at row {rows[i]}{hint}")
    return numbers


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


def _check_unique_times(time: pd.Index, rows: np.ndarray, name: str, path) -> None:
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


# ---------------------------------------------------------------------------------------------------------
# Missing and infinite values


def _check_finite(numbers: dict[str, np.ndarray], rows: np.ndarray, path, fill: Optional[str]) -> None:
    """Infinite values first (always an error, --fill cannot help), then empty columns, then missing values
    (an error unless a fill was chosen)."""
    for name, x in numbers.items():
        infinite = np.isinf(x)
        if infinite.any():
            raise DataError(f"{path}: column '{name}' has an infinite value at row {rows[int(np.argmax(infinite))]}")
    for name, x in numbers.items():
        if np.isnan(x).all():
            raise DataError(f"{path}: column '{name}' has no values (all {len(x)} cells are empty)")
    if fill is not None:
        return
    for name, x in numbers.items():
        missing = np.isnan(x)
        if missing.any():
            raise DataError(f"{path}: column '{name}' has {_missing_values(int(missing.sum()), rows[missing][0])}")


def _missing_values(count: int, first_row: int) -> str:
    choices = "|".join(FILL_CHOICES)
    if count == 1:
        return f"1 missing value (at row {first_row}); fill it with --fill {choices} or remove that row"
    return f"{count} missing values (first at row {first_row}); fill them with --fill {choices} or remove those rows"


def fill_missing(x: np.ndarray, how: str) -> np.ndarray:
    """(N,) -> (N,) with no NaN left (given at least one value): ffill / bfill (then the other way for the
    ends), interpolate (linear in the row position; the ends take the nearest value), or zero."""
    s = pd.Series(x)
    if how == "ffill":
        s = s.ffill().bfill()
    elif how == "bfill":
        s = s.bfill().ffill()
    elif how == "interpolate":
        s = s.interpolate(method="linear", limit_direction="both")
    else:
        s = s.fillna(0.0)
    return s.to_numpy(dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------
# The reader


def read_series_csv(
    path: Union[str, Path],
    target: str,
    *,
    time_col: Optional[str] = None,
    features: Union[str, Iterable[str]] = (),
    fill: Optional[str] = None,
) -> Series:
    """Read and check a time series CSV: a target column, optional covariate columns (`features`, a list or a
    comma-separated string) and an optional time column (dates in any format pandas parses, or integers).

    Checks, each a one-line DataError naming the file, column and row (row = line number, header = row 1):
    file missing / a directory / empty / not UTF-8 / binary; header but no data rows; a column not there
    (with the closest name); an unparsable or duplicated time; a non-numeric cell; an infinite value; missing
    values unless `fill` is one of ffill, bfill, interpolate, zero. Rows are sorted by time (stably); missing
    time steps are listed in `Series.gaps`, not an error."""
    fill = _check_fill(fill)
    features = _feature_list(features)
    _check_roles(target, time_col, features)
    table, rows = read_csv_table(path)
    columns = list(table.columns)
    target = find_column(columns, target, path)
    time_col = None if time_col is None else find_column(columns, time_col, path)
    features = [find_column(columns, name, path) for name in features]

    time = None
    if time_col is not None:
        time = parse_time(table[time_col], rows, time_col, path)
        _check_unique_times(time, rows, time_col, path)
    numbers = {name: parse_numbers(table[name], rows, name, path) for name in [target, *features]}
    _check_finite(numbers, rows, path, fill)

    if time is not None:
        order = np.argsort(time.asi8 if isinstance(time, pd.DatetimeIndex) else time.to_numpy(), kind="stable")
        time = time[order]
        numbers = {name: x[order] for name, x in numbers.items()}
    if fill is not None:
        numbers = {name: fill_missing(x, fill) for name, x in numbers.items()}
    freq, gaps = infer_freq_and_gaps(time)
    covariates = np.column_stack([numbers[name] for name in features]) if features else np.empty((len(rows), 0))
    return Series(numbers[target], covariates, target, features, time, freq, gaps, str(path))


def _check_fill(fill: Optional[str]) -> Optional[str]:
    if fill is None or fill in FILL_CHOICES:
        return fill
    raise DataError(f"unknown fill {fill!r}; choose one of {', '.join(FILL_CHOICES)}")


def _feature_list(features: Union[str, Iterable[str], None]) -> list[str]:
    if features is None:
        return []
    if isinstance(features, str):
        features = features.split(",")
    names = [str(name).strip() for name in features if str(name).strip()]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise DataError(f"the feature column '{name}' is given twice")
    return names


def _check_roles(target: str, time_col: Optional[str], features: list[str]) -> None:
    target = str(target).strip()
    if time_col is not None and str(time_col).strip() == target:
        raise DataError(f"the target column '{target}' cannot also be the time column; choose another --time-col")
    if target in features:
        raise DataError(f"the target column '{target}' cannot also be a feature; remove it from --features")
    time_col = None if time_col is None else str(time_col).strip()
    if time_col is not None and time_col in features:
        raise DataError(f"the time column '{time_col}' cannot also be a feature; remove it from --features")


# ---------------------------------------------------------------------------------------------------------
# Splitting by time, and whether the series is long enough


def split_by_time(n: int, val_frac: float = 0.15, test_frac: float = 0.15) -> tuple[slice, slice, slice]:
    """(train, val, test) slices of range(n), in time order: train the beginning, test the end, validation
    just before the test part. Part sizes are round(n * frac) (halves up) for val and test; train gets the rest.

    A window belongs to the part holding its targets: `make_windows(values, L, H, start=val.start,
    stop=val.stop)` gives the validation windows; their inputs may reach back into the training part."""
    _check_fraction("val_frac", val_frac)
    _check_fraction("test_frac", test_frac)
    if val_frac + test_frac >= 1:
        raise ConfigError(
            f"val_frac + test_frac must be below 1 to leave rows for training, got {val_frac} + {test_frac}"
        )
    n_test = int(n * test_frac + 0.5)
    n_val = int(n * val_frac + 0.5)
    train_stop = max(0, n - n_val - n_test)
    val_stop = max(train_stop, n - n_test)
    return slice(0, train_stop), slice(train_stop, val_stop), slice(val_stop, n)


def _check_fraction(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConfigError(f"{name} must be a number in [0, 1), got {value!r}")


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
        f"{path}: has {n_rows} rows, too few for lookback {lookback} + horizon {horizon}; the training part needs "
        f"at least {lookback + horizon} rows{parts}, so at least {needed} rows with val_frac {val_frac} and "
        f"test_frac {test_frac}; use a shorter --lookback or --horizon, or more data"
    )


# ---------------------------------------------------------------------------------------------------------
# Scaling with the statistics of the training part only


Array = Union[np.ndarray, torch.Tensor]


@dataclass
class Scaler:
    """Per-column standardisation, (x - mean_) / scale_, with statistics of the rows passed to `fit` — the
    training part only, so nothing of the validation or test part leaks into training.

    Constant columns get scale_ 1 (no division by zero). Works on numpy arrays and torch tensors of shape
    (..., F), keeping their dtype (and device)."""

    target_col: int = 0  # the column `inverse_transform_target` undoes
    mean_: Optional[np.ndarray] = None  # (F,) float64
    scale_: Optional[np.ndarray] = None  # (F,) float64, the population standard deviation (ddof 0)

    def fit(self, rows: Array) -> "Scaler":
        """rows (N_train, F) -> self."""
        x = rows.detach().cpu().double().numpy() if torch.is_tensor(rows) else np.asarray(rows, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ShapeError(f"Scaler.fit expected rows of shape (N, F) with N >= 1, got shape {tuple(x.shape)}")
        if not np.isfinite(x).all():
            raise DataError("cannot fit the scaler: the training rows hold NaN or infinite values")
        mean, std = x.mean(axis=0), x.std(axis=0)  # (F,), (F,)
        constant = std <= 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
        self.mean_, self.scale_ = mean, np.where(constant, 1.0, std)
        return self

    def transform(self, values: Array) -> Array:
        """(..., F) -> (..., F) standardised."""
        mean, scale = self._stats(values)
        return (values - mean) / scale

    def inverse_transform(self, values: Array) -> Array:
        """(..., F) standardised -> (..., F) in the data's units."""
        mean, scale = self._stats(values)
        return values * scale + mean

    def inverse_transform_target(self, y: Array) -> Array:
        """Target values of any shape, e.g. (W, H) forecasts, standardised -> the data's units."""
        self._check_fitted()
        mean, scale = self.mean_[self.target_col], self.scale_[self.target_col]
        return y * _like(np.float64(scale), y) + _like(np.float64(mean), y)

    def to_dict(self) -> dict:
        """JSON-serialisable: {"mean": [...], "scale": [...], "target_col": 0}."""
        self._check_fitted()
        return {"mean": self.mean_.tolist(), "scale": self.scale_.tolist(), "target_col": self.target_col}

    @classmethod
    def from_dict(cls, data: dict) -> "Scaler":
        try:
            mean = np.asarray(data["mean"], dtype=np.float64)
            scale = np.asarray(data["scale"], dtype=np.float64)
            target_col = int(data.get("target_col", 0))
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"the saved scaler is not valid ({type(error).__name__}: {error})") from None
        if mean.ndim != 1 or mean.shape != scale.shape or not (0 <= target_col < len(mean)):
            raise DataError("the saved scaler is not valid (mean and scale must be lists of the same length)")
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise DataError("the saved scaler is not valid (mean and scale must be finite, scale positive)")
        return cls(target_col=target_col, mean_=mean, scale_=scale)

    def _check_fitted(self) -> None:
        if self.mean_ is None or self.scale_ is None:
            raise ConfigError("the Scaler is not fitted; call fit(train_rows) first")

    def _stats(self, values: Array) -> tuple[Array, Array]:
        self._check_fitted()
        if values.shape[-1] != len(self.mean_):
            raise ShapeError(
                f"the Scaler was fitted on {len(self.mean_)} columns, got values of shape {tuple(values.shape)}"
            )
        return _like(self.mean_, values), _like(self.scale_, values)


def _like(stat: np.ndarray, values: Array) -> Array:
    """stat in the array type, dtype and device of values (float64 for non-float numpy input)."""
    if torch.is_tensor(values):
        return torch.as_tensor(stat, dtype=values.dtype, device=values.device)
    values = np.asarray(values)
    dtype = values.dtype if np.issubdtype(values.dtype, np.floating) else np.float64
    return np.asarray(stat, dtype=dtype)
