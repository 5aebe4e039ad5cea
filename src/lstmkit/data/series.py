"""A time series read from a CSV file and checked before training starts.

    series = read_series_csv("airline.csv", "Passengers", time_col="Month")
    series.values                      # (N, 1 + C) float32: the target in column 0, then the C covariates
    series.freq, series.gaps           # 'MS', []: the step of the time axis and the steps missing from it

Every problem with the file is a `DataError` with one line that names the file, the column and the row (the
file's line number, header = row 1, see `lstmkit.data.csv_table`). The split by time is in
`lstmkit.data.split`, the scaler in `lstmkit.data.scaler`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Optional, Union

import numpy as np
import pandas as pd

from ..errors import DataError
from .csv_table import (file_notes, find_column, headerless, one_series_in_lists, parse_numbers, read_csv_table,
                        unnamed_columns, value_columns)
from .fill import FILL_CHOICES, fill_missing
from .timeaxis import (check_unique_times, index_time_column, infer_freq_and_gaps, months_of_years, parse_time,
                       time_columns, time_order, times_across, written_format)


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
    start: int = 0  # the step number of the first row within the whole series (a saved tail's is > 0)
    time_format: Optional[str] = None  # how the time column's cells are written (`written_format`); None: ISO
    notes: list[str] = field(default_factory=list)  # how the data was read where the file lays it out otherwise

    def __len__(self) -> int:
        return len(self.target)

    def head(self, n: int) -> "Series":
        """The series' first n rows (the data as it stood at an earlier origin)."""
        return replace(self, target=self.target[:n], covariates=self.covariates[:n],
                       time=None if self.time is None else self.time[:n])  # fmt: skip

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
# Missing and infinite values


LARGEST = float(np.finfo(np.float32).max)  # larger values would overflow the float32 tensors training uses


def check_finite(numbers: dict[str, np.ndarray], rows: np.ndarray, path, fill: Optional[str],
                 needed: Optional[str] = None) -> None:  # fmt: skip
    """Infinite values and values beyond float32's range first (always an error, --fill cannot help), then empty
    columns, then missing values (an error unless a fill was chosen). `needed`: for values no fill may stand
    in for (a forecast's known-future values, the steps of a sequence to classify), why each one is needed; a
    missing value is then the first error, naming its row and that reason."""
    if needed is not None:
        for name, x in numbers.items():
            missing = np.isnan(x)
            if missing.any():
                raise DataError(f"{path}: column '{name}' has no value at row {rows[int(np.argmax(missing))]}; {needed}")
    for name, x in numbers.items():
        infinite = np.isinf(x)
        if infinite.any():
            raise DataError(f"{path}: column '{name}' has an infinite value at row {rows[int(np.argmax(infinite))]}")
        huge = np.abs(np.nan_to_num(x)) > LARGEST
        if huge.any():
            i = int(np.argmax(huge))
            raise DataError(f"{path}: column '{name}' has the value {x[i]:g} at row {rows[i]}, beyond the {LARGEST:.1e} "
                            "that training in float32 can hold; rescale the column (e.g. divide it by a power of ten)")  # fmt: skip
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
        return f"1 missing value (at row {first_row}); fill it with `fill`={choices} or remove that row"
    return f"{count} missing values (first at row {first_row}); fill them with `fill`={choices} or remove those rows"


# ---------------------------------------------------------------------------------------------------------
# The reader


def read_series_csv(
    path: Union[str, Path],
    target: str,
    *,
    time_col: Optional[str] = None,
    time_format: Optional[str] = None,
    features: Union[str, Iterable[str]] = (),
    fill: Optional[str] = None,
) -> Series:
    """Read and check a time series CSV: a target column, optional covariate columns (`features`, a list or a
    comma-separated string) and an optional time column (dates in any format pandas parses, or in
    `time_format`'s strftime codes; or integers).

    Checks, each a one-line DataError naming the file, column and row (row = line number, header = row 1):
    file missing / a directory / empty / not UTF-8 / binary; header but no data rows; a column not there
    (with the closest name); an unparsable or duplicated time, or dates whose day and month could be swapped; a non-numeric cell; an infinite value; missing
    values unless `fill` is one of ffill, bfill, interpolate, zero. Rows are sorted by time (stably); missing
    time steps are listed in `Series.gaps`, not an error."""
    table, rows = read_csv_table(path)
    return series_from_table(table, rows, path, target, time_col=time_col, time_format=time_format, features=features,
                             fill=fill)  # fmt: skip


def series_from_table(
    table: pd.DataFrame,
    rows: np.ndarray,
    path,
    target: str,
    *,
    time_col: Optional[str] = None,
    time_format: Optional[str] = None,
    features: Union[str, Iterable[str]] = (),
    fill: Optional[str] = None,
    needed: Optional[str] = None,
    id_col: Optional[str] = None,
    ids: bool = True,
) -> Series:
    """`read_series_csv` on a table already read: text cells (R, C) and their row numbers (R,); `path`
    names the data in messages ("sales.csv", "sales.csv, series 'A'"); `needed`: as `check_finite`'s;
    `id_col`: the column a panel's series were told apart by (`panel_from_table`), for messages; `ids`
    False: the reader takes no id column (`check_unique_times`)."""
    fill = _check_fill(fill)
    features = feature_list(features)
    check_roles(target, time_col, features)
    if id_col is None:
        one_series_in_lists(table, path)
    read_as = file_notes(table)
    table, rows, time_col, note = months_of_years(table, rows, target, time_col, path)
    if id_col is None and note is None:
        table, rows, time_col, note = times_across(table, rows, target, None, time_col, path)
    if id_col is None and note is None:
        table, time_col, note = index_time_column(table, rows, time_col)
    unnamed = None
    if id_col is None and time_col is None and str(target).strip() not in table.columns:
        table, rows, unnamed = _without_header(table, rows, path, target, features)
    target = find_column(list(table.columns), target, path)
    table, time_col = time_columns(table, time_col, path)
    columns = list(table.columns)
    features = [find_column(columns, name, path) for name in features]

    time = written = None
    if time_col is not None:
        time = parse_time(table[time_col], rows, time_col, path, time_format)
        check_unique_times(time, rows, time_col, path, table, read=(target, *features), id_col=id_col, ids=ids)
        written = written_format(table[time_col], time, time_format)
    numbers = {name: parse_numbers(table[name], rows, name, path) for name in [target, *features]}
    check_finite(numbers, rows, path, fill, needed)

    if time is not None:
        order = time_order(time)
        time = time[order]
        numbers = {name: x[order] for name, x in numbers.items()}
    if fill is not None:
        numbers = {name: fill_missing(x, fill) for name, x in numbers.items()}
    freq, gaps = infer_freq_and_gaps(time)
    if time is None and id_col is None:
        note = note or _unread_time_column(table, rows, path, (target, *features))
    covariates = np.column_stack([numbers[name] for name in features]) if features else np.empty((len(rows), 0))
    return Series(numbers[target], covariates, target, features, time, freq, gaps, str(path), time_format=written,
                  notes=read_as + [text for text in (unnamed, note) if text])  # fmt: skip


_LAID_OUT = "value"  # the name a series laid out across a table's columns takes (`target_column`)


def target_column(table: pd.DataFrame, rows: np.ndarray, path, skipped: Iterable[str] = (), *,
                  time_col: Optional[str] = None, id_col: Optional[str] = None) -> tuple[str, Optional[str]]:  # fmt: skip
    """(name, note): the column to forecast where none is named, as Darts' `TimeSeries.from_csv` reads the
    columns beside the time column: the table's one numeric column besides `skipped` (the time, id and
    covariate columns), a first column of the rows' ids and a column that counts the rows (`value_columns`, as
    the anomaly detector's value columns). A file without a header line has its columns
    named as `_without_header` reads them (`value`, or `column1`, ...). A table of a month or a time a column
    (`months_of_years`, `times_across`) is read as one series named 'value', its own note saying how. Several
    numeric columns, or none, is a DataError naming them: which is the target is the user's to say."""
    laid_out = _LAID_OUT not in table.columns and (
        months_of_years(table, rows, _LAID_OUT, time_col, path)[3] is not None
        or times_across(table, rows, _LAID_OUT, id_col, time_col, path)[3] is not None)  # fmt: skip
    if laid_out:
        return _LAID_OUT, None
    read = headerless(table, rows)
    if read is not None:
        table = read[0]
    names = [str(name) for name in table.columns]
    numeric, _ = value_columns(table, [str(name).strip() for name in skipped])
    if len(numeric) == 1:
        return numeric[0], (f"the target is '{numeric[0]}', the one numeric column besides the time, id and "
                            f"covariate columns (--target chooses another)")  # fmt: skip
    if numeric:
        raise DataError(f"{path}: give `target`, the column to forecast: it has {len(numeric)} numeric columns "
                        f"({', '.join(numeric)}); several, comma-separated, forecast each")  # fmt: skip
    raise DataError(f"{path}: has no numeric column to forecast besides the time column; columns: {', '.join(names)}")


def _without_header(table: pd.DataFrame, rows: np.ndarray, path, target: str, features: list[str]):
    """(table, rows, note): a file whose first line holds values (no header line) read as such, where it has
    `target` (and `features`) so: `value`, or `column1`, `column2`, ... (`csv_table.headerless`); the table as
    it is, and no note, where its header names columns. A file without a header that lacks them is a
    DataError naming the columns it has so."""
    read = headerless(table, rows)
    if read is None:
        return table, rows, None
    columns = list(read[0].columns)
    if {str(name).strip() for name in (target, *features)} <= set(columns):
        return read
    shown = ", ".join(list(table.columns)[:3]) + (", ..." if len(table.columns) > 3 else "")
    raise DataError(f"{path}: no column '{target}': its first line holds values ({shown}), not column names; read without "
                    f"a header line, it has {unnamed_columns(columns)} (`target` {columns[-1]}), or add a header line "
                    "naming the columns")  # fmt: skip


_LOOKED_AT = 200  # rows `_unread_time_column` reads


def _unread_time_column(table: pd.DataFrame, rows: np.ndarray, path, read: tuple) -> Optional[str]:
    """A note naming the first column of `table` but those `read` that holds dates a step apart (a text
    cell first, not a number), for a series read without a time column; None where there is none. Only the
    first `_LOOKED_AT` rows are read."""
    head, rows = table.head(_LOOKED_AT), rows[:_LOOKED_AT]
    for name in head.columns:
        if name in read or re.fullmatch(r"[+-]?[\d.]*(?:[eE][+-]?\d+)?", head[name].iloc[0]):
            continue
        try:
            freq, _ = infer_freq_and_gaps(parse_time(head[name], rows, name, path))
        except DataError:
            continue
        if freq is not None and not freq.isdigit():
            return (f"column '{name}' holds dates ({table[name].iloc[0]} to {table[name].iloc[-1]}), but no time column "
                    "was given, so the steps are numbered and the season is read from the values alone: give it as "
                    f"the time column (--time-col {name}) to put the steps on its calendar")  # fmt: skip
    return None


def _check_fill(fill: Optional[str]) -> Optional[str]:
    if fill is None or fill in FILL_CHOICES:
        return fill
    raise DataError(f"unknown fill {fill!r}; choose one of {', '.join(FILL_CHOICES)}")


def feature_list(features: Union[str, Iterable[str], None], noun: str = "feature") -> list[str]:
    """Column names (a list or a comma-separated string), stripped, blanks left out; one given twice is an
    error naming it as a `noun` column."""
    if features is None:
        return []
    if isinstance(features, str):
        features = features.split(",")
    names = [str(name).strip() for name in features if str(name).strip()]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise DataError(f"the {noun} column '{name}' is given twice")
    return names


def check_roles(target: str, time_col: Optional[str], features: list[str], noun: str = "feature",
                option: str = "features") -> None:  # fmt: skip
    """Neither the target nor the time column may be one of `features` (the setting `option`, whose columns
    are each a `noun`), nor the target the time column."""
    target = str(target).strip()
    if time_col is not None and str(time_col).strip() == target:
        raise DataError(f"the target column '{target}' cannot also be the time column; choose another `time_col`")
    if target in features:
        raise DataError(f"the target column '{target}' cannot also be a {noun}; remove it from `{option}`")
    time_col = None if time_col is None else str(time_col).strip()
    if time_col is not None and time_col in features:
        raise DataError(f"the time column '{time_col}' cannot also be a {noun}; remove it from `{option}`")
