"""Many series in one table, in long format (as neuralforecast and Darts read them): one row per series and
time step, a column naming the series.

    panel = read_panel_csv("tourism.csv", "visitors", id_col="region", time_col="month")
    panel.ids[0], panel.series[0].target        # 'A1', (N_0,) float64
    panel = panel_from_frame(frame, "visitors", id_col="region", time_col="month")   # a pandas DataFrame
    panel = read_panel_csv("favorita.csv", "sales", id_col="store_nbr,family", time_col="date")   # ids '1/BEAUTY'

A wide table, each of several target columns a series (Darts reads several columns so), is read as a long one:

    panel = wide_panel("stocks.csv", ["IBM", "AAPL"], time_col="Date")   # ids 'IBM', 'AAPL'; values in 'value'

Each series is checked as `read_series_csv` checks one file, and every message names the series
("tourism.csv, series 'A1': column 'month' has the time 1990-01-01 twice (rows 14 and 15)"). Series keep
the order of their first row in the table. Several id columns (Darts' `group_cols`) name each series by
their values joined with '/' (`ID_JOIN`); `split_ids` gives a frame of those ids its columns back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd

from ..errors import DataError
from .csv_table import (MISSING_TOKENS, file_notes, find_column, join_columns, parse_numbers, read_csv_table, spread_column,
                        table_of_frame)
from .series import Series, check_finite, feature_list, series_from_table
from .timeaxis import check_unique_times, format_time, parse_time, time_columns, time_order, times_across
from .tsf import TSF_TIME, read_tsf_table


@dataclass
class Panel:
    """Series read from one table, with the id of each, in the order of their first row."""

    series: list[Series]
    ids: list[str]
    id_col: str
    path: str = ""
    categories: dict[str, list[str]] = field(default_factory=dict)  # a text static covariate's values (`one_hot`)

    def __len__(self) -> int:
        return len(self.series)


def read_panel_csv(path: Union[str, Path], target: str, *, id_col: str, **options) -> Panel:
    """Read a long-format CSV: `id_col` says which series a row belongs to; `options` are those of
    `read_series_csv` (time_col, time_format, features, fill), applied to each series."""
    table, rows = read_csv_table(path)
    return panel_from_table(table, rows, str(path), target, id_col=id_col, **options)


def read_tsf_panel(path: Union[str, Path], target: str, *, id_col: Optional[str] = None, **options) -> Panel:
    """Read a `.tsf` file (the Monash forecasting archive's: `lstmkit.data.tsf`), its values named `target`;
    `id_col` names the attribute that names each series (`series_name`; None: the file holds one series).
    `options` are `read_series_csv`'s; the times come from the file, so `time_col` is left out or 'time'."""
    table, rows, info = read_tsf_table(path, target)
    if options.get("time_col") not in (None, TSF_TIME):
        raise DataError(f"{path}: a .tsf file's times come from its series' start_timestamp and its @frequency (or "
                        f"number its steps), in a column '{TSF_TIME}'; leave `time_col` out")  # fmt: skip
    options["time_col"] = TSF_TIME
    what = f"{info.frequency} from each series' {info.start}" if info.start else "its steps numbered from 1"
    note = (f"a .tsf file (the Monash archive's format): {info.series} series of '{str(target).strip()}', {what}"
            + (f"; its @horizon is {info.horizon} steps" if info.horizon else ""))
    if id_col is not None:
        panel = panel_from_table(table, rows, str(path), target, id_col=id_col, **options)
    elif info.series > 1:
        raise DataError(f"{path}: holds {info.series} series; give the attribute that names each as `id_col`"
                        + (f" ({info.id_col})" if info.id_col else ""))  # fmt: skip
    else:
        one = table.drop(columns=list(info.attributes), errors="ignore")
        panel = Panel([series_from_table(one, rows, str(path), target, **options)], [""], "", str(path))
    panel.series[0].notes.insert(0, note)
    return panel


WIDE_ID, WIDE_VALUE = "series", "value"  # the columns a wide table's target columns are read into


def wide_panel(data, targets: list[str], **options) -> Panel:
    """A wide table (a CSV path or a DataFrame), each of the columns `targets` a series of its own, read as a long
    one: the series' ids are the columns' names, their values in a column `WIDE_VALUE`, and the other columns
    (the time, the features) are shared by every series. `options` are `read_series_csv`'s."""
    if isinstance(data, FRAMES):
        table, rows, time_col = frame_table(data, options.get("time_col"))
        options, path = {**options, "time_col": time_col}, "the DataFrame"
    else:
        (table, rows), path = read_csv_table(data), str(data)
    names = [find_column(list(table.columns), name, path) for name in targets]
    for taken in (WIDE_ID, WIDE_VALUE):
        if taken in table.columns and taken not in names:
            raise DataError(f"{path}: has a column '{taken}', the name its target columns' series are read into "
                            f"(their ids in '{WIDE_ID}', their values in '{WIDE_VALUE}'); rename it")  # fmt: skip
    others = [name for name in table.columns if name not in names]
    long = pd.concat([table[others].assign(**{WIDE_ID: name, WIDE_VALUE: table[name]}) for name in names], ignore_index=True)
    return panel_from_table(long, np.tile(rows, len(names)), path, WIDE_VALUE, id_col=WIDE_ID, **options)


def panel_from_frame(frame: pd.DataFrame, target: str, *, id_col: Optional[str] = None, **options) -> Panel:
    """A long-format pandas DataFrame as a `Panel` (one series when id_col is None); rows in messages are
    the DataFrame's positions, counted from 0."""
    table, rows, time_col = frame_table(frame, options.get("time_col"))
    options = {**options, "time_col": time_col}
    if id_col is None:
        series = series_from_table(table, rows, "the DataFrame", target, **options)
        return Panel([series], [""], "", "the DataFrame")
    return panel_from_table(table, rows, "the DataFrame", target, id_col=id_col, **options)


FRAMES = (pd.DataFrame, pd.Series, np.ndarray)  # the in-memory data `frame_table` reads


def numbers_as_array(data):
    """A list or tuple of numbers as the 1-D array (N,) it is read as; anything else as it is."""
    if isinstance(data, (list, tuple)) and data and all(isinstance(v, (int, float, np.number)) for v in data):
        return np.asarray(data, dtype=np.float64)
    return data


def frame_table(frame, time_col: Optional[str] = None,
                name: str = "value") -> tuple[pd.DataFrame, np.ndarray, Optional[str]]:  # fmt: skip
    """(table, rows, time_col): a pandas DataFrame as the text cells (R, C) and row positions (R,) a CSV reader
    gives; a Series or a 1-D array as a one-column frame (named as the Series is, else `name`). Without
    `time_col`, a frame indexed by dates or periods (as pandas users keep a series, and Darts'
    `from_dataframe` reads it) has its index as the time column, named as the index is ("time" unnamed). A
    MultiIndex (a panel indexed by id and time, as `set_index(["store", "date"])` makes one, or sktime's
    panels) has its named levels as columns, and where `time_col` is not given, its one level of dates as the
    time column. A 2-D array (N, F), as scikit-learn's detectors take one, is a frame of columns x0, x1, ..."""
    if isinstance(frame, np.ndarray) and frame.ndim == 1:
        frame = pd.Series(frame)
    if isinstance(frame, np.ndarray) and frame.ndim == 2:
        frame = pd.DataFrame(frame, columns=[f"x{k}" for k in range(frame.shape[1])])
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(name=name if frame.name is None else frame.name)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise DataError("the DataFrame has no rows")
    if isinstance(frame.index, pd.MultiIndex):  # a panel indexed by (id, time), as pandas users and sktime keep one
        levels = [name for name in frame.index.names if name is not None and name not in frame.columns]
        dates = [name for name in levels if isinstance(frame.index.get_level_values(name), (pd.DatetimeIndex, pd.PeriodIndex))]
        frame = frame.reset_index(level=levels) if levels else frame  # the named levels as columns, in their order
        if time_col is None and len(dates) == 1:  # its one level of dates is the time column, as a DatetimeIndex is
            time_col = str(dates[0])
    index, named = frame.index, str(frame.index.name or "time")
    if time_col is None and isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)) and named not in frame.columns:
        time_col = named
        times = index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index
        frame = frame.set_axis(pd.RangeIndex(len(frame))).assign(**{time_col: times})
    table, rows = table_of_frame(frame)
    return table, rows, time_col


ID_JOIN = "/"  # between the values of several id columns in a series' id


def id_columns(table: pd.DataFrame, id_col: str, path) -> tuple[pd.DataFrame, str]:
    """The table with its id column, and the column's name. `id_col` names one column, or several separated by
    commas, whose values are joined with `ID_JOIN` into one column named `id_col` that takes their place (a
    value with '/' in any but the last is a DataError: the id could not be split back)."""
    if str(id_col).strip() in table.columns or "," not in str(id_col):
        return table, find_column(list(table.columns), id_col, path)
    names = [find_column(list(table.columns), name, path) for name in feature_list(id_col, "id")]
    for name in names[:-1]:
        joined = table[name].str.contains(ID_JOIN, regex=False).to_numpy()
        if joined.any():
            raise DataError(f"{path}: column '{name}' has '{table[name].iloc[int(np.argmax(joined))]}', with a "
                            f"'{ID_JOIN}', which joins the values of the id columns; only the last may hold one")  # fmt: skip
    return join_columns(table, names, ID_JOIN)


def split_ids(frame: pd.DataFrame, id_col: str) -> pd.DataFrame:
    """`frame` with a column of ids joined from several id columns (`id_columns`) split back into those
    columns, in its place; a frame with one id column as it is."""
    if id_col not in frame.columns or "," not in id_col:
        return frame
    names = feature_list(id_col, "id")
    parts = frame[id_col].astype(str).str.split(ID_JOIN, n=len(names) - 1, expand=True)
    return spread_column(frame, id_col, {name: parts[k] for k, name in enumerate(names)})


def panel_from_table(table: pd.DataFrame, rows: np.ndarray, path: str, target: str, *, id_col: str,
                     noun: str = "series", **options) -> Panel:  # fmt: skip
    """Split a table of text cells (R, C) with row numbers (R,) by its id column (or columns: `id_columns`)
    into checked series; messages name each as the `noun` ("series 'A1'", or a classifier's "sequence 'r07'").
    `categories` among the options (a forecaster's: None while training, then the values training saw) reads
    a text covariate with one value a series as 0/1 columns (`one_hot`); without it, text is refused.
    `statics` ({column: {id: cell}}, a fitted forecaster's static covariates) fills such a column where the
    table leaves it out, each series with its own value; a series it has none for is an error naming it."""
    read_as = file_notes(table)
    table, id_col = id_columns(table, id_col, path)
    if options.get("time_col") is not None and str(options["time_col"]).strip() == id_col:
        raise DataError(f"{path}: the id column '{id_col}' cannot also be the time column")
    table, rows, options["time_col"], note = times_across(table, rows, target, id_col, options.get("time_col"), path)
    table, options["time_col"] = time_columns(table, options.get("time_col"), path)  # once, not for each series
    if str(target).strip() == id_col:
        raise DataError(f"{path}: the id column '{id_col}' cannot also be the target")
    ids = table[id_col]
    empty = ids.str.lower().isin(MISSING_TOKENS).to_numpy()
    if empty.any():
        raise DataError(f"{path}: column '{id_col}' has no series id at row {rows[int(np.argmax(empty))]}")
    statics, given = options.pop("statics", None) or {}, {str(c).strip() for c in table.columns}
    for name in options.get("features", ()):
        if name in statics and str(name).strip() not in given:  # a static covariate left out: each series' own
            unknown = next((i for i in ids.unique() if i not in statics[name]), None)
            if unknown is not None:
                raise DataError(f"{path}, {noun} '{unknown}': no column '{name}', and training, which read it as static "
                                f"(one value a {noun}), had no {noun} '{unknown}' to take it from")  # fmt: skip
            table[name] = ids.map(statics[name])
    groups = ids.groupby(ids, sort=False).indices  # id -> positions, in order of first appearance
    if len(groups) == len(table) and len(table) > 1:
        raise DataError(
            f"{path}: column '{id_col}' has a different value on each of its {len(table)} rows, so every {noun} "
            f"would have one row; `id_col` names the column that says which {noun} a row belongs to"
        )
    categories = {}
    if "categories" in options:  # a forecaster's: text static covariates read as 0/1 columns (`one_hot`)
        table, options["features"], categories = one_hot(table, ids, options.get("features", ()), options.pop("categories"),
                                                         f"{path}, {noun}")  # fmt: skip
    others = [name for name in table.columns if name != id_col]
    series, names = [], []
    for name, positions in groups.items():
        part = table.iloc[positions][others].reset_index(drop=True)
        series.append(series_from_table(part, rows[positions], f"{path}, {noun} '{name}'", target, id_col=id_col, **options))
        names.append(str(name))
    series[0].notes[:0] = read_as + ([note] if note else [])  # how the whole table was read: said once
    return Panel(series, names, id_col, path, categories)


def one_hot(table: pd.DataFrame, ids: pd.Series, features, known: Optional[dict[str, list[str]]],
            where: str) -> tuple[pd.DataFrame, list[str], dict[str, list[str]]]:  # fmt: skip
    """A text covariate with one value in each series (a store's type, a product's category: a static
    covariate, as Darts' StaticCovariatesTransformer encodes one) becomes a 0/1 column for each of its values,
    named `column=value`, in its place among `features`, as pandas' `get_dummies` would make them. `known`:
    the values of each such column that training saw (a value it did not see is a DataError naming the
    series), None while training. Returns the table, the features read and each such column's values."""
    names, categories = [], {}
    for name in feature_list(features):
        column = str(name).strip()
        cells = table[column] if column in table.columns else None
        if cells is None or _numbers(cells, column) or cells.str.lower().isin(MISSING_TOKENS).any() or (
                known is None and (cells.groupby(ids, sort=False).nunique() > 1).any()):  # fmt: skip
            names.append(name)  # numbers, or text that varies within a series or misses values: read (and refused) as numbers
            continue
        values = sorted(cells.unique()) if known is None else known.get(column)
        if values is None:
            i = next((k for k in range(len(cells)) if not _numbers(cells.iloc[k : k + 1], column)), 0)  # the first text
            raise DataError(f"{where} '{ids.iloc[i]}': column '{column}' holds text ('{cells.iloc[i]}'), which training "
                            "read as numbers")  # fmt: skip
        unseen = ~cells.isin(values).to_numpy()
        if unseen.any():
            i = int(np.argmax(unseen))
            raise DataError(f"{where} '{ids.iloc[i]}': column '{column}' has '{cells.iloc[i]}', which training never saw "
                            f"(it saw {', '.join(values)})")  # fmt: skip
        dummies = {f"{column}={value}": np.where(cells.to_numpy() == value, "1", "0") for value in values}
        table = spread_column(table, column, dummies)
        names += list(dummies)
        categories[column] = list(values)
    return table, names, categories


def _numbers(cells: pd.Series, name: str) -> bool:
    """Whether text cells read as numbers, as `parse_numbers` reads them (1,234.50, 12%, $3)."""
    if pd.to_numeric(cells, errors="coerce").notna().all():  # plain numbers: the usual case, and quick
        return True
    try:
        parse_numbers(cells, np.arange(len(cells)), name, "")
    except DataError:
        return False
    return True


def check_series_lengths(panel: Panel, needed: int, why: str) -> None:
    """A DataError naming the first series with fewer than `needed` rows (`why` says what needs them), and how
    many others have as few."""
    short = [(name, len(series)) for name, series in zip(panel.ids, panel.series) if len(series) < needed]
    if not short:
        return
    (name, length), others = short[0], [f"'{other}'" for other, _ in short[1:]]
    label = f"series '{name}'" if panel.id_col else "the series"
    more = f"; so have {len(others)} other series ({', '.join(others[:3])}{', ...' if len(others) > 3 else ''})" if others else ""
    raise DataError(f"{panel.path}: {label} has {length} rows, fewer than the {needed} that {why}{more}")



# ---------------------------------------------------------------------------------------------------------
# Known-future covariates: their values after each series' end, for a forecast


@dataclass
class FutureValues:
    """The values of known-future covariates read for a forecast (`read_future_values`): per series id (""
    for one series) the rows' times (None without a time column) and values (R, K), sorted by time."""

    path: str
    names: list[str]
    rows: dict

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def after(self, key: str, series: Series, horizon: int, times: Optional[list]) -> np.ndarray:
        """The values (horizon, K) at the `horizon` steps after `series`' end: with a time axis, the rows at
        those steps' `times` (or, on an irregular axis, the first rows after its last time); without one, the
        first `horizon` rows of the series in the file."""
        time, values = self.rows[key]
        label = f"{self.path}, series '{key}'" if key else self.path
        wanted = f"the values of {', '.join(self.names)} at the {horizon} steps after"
        if time is not None and series.time is not None:
            if times is not None:
                position = time.get_indexer(pd.Index(times))
                if (position < 0).any():
                    raise DataError(f"{label}: has no row for {format_time(times[int(np.argmax(position < 0))])}; the forecast "
                                    f"needs {wanted} the series' last time {format_time(series.time[-1])}, from "
                                    f"{format_time(times[0])} to {format_time(times[-1])}")  # fmt: skip
                return values[position]
            values = values[np.asarray(time > series.time[-1])]
        if len(values) < horizon:
            raise DataError(f"{label}: has {len(values)} rows for the forecast, which needs {wanted} the series' end")
        return values[:horizon]


def read_future_values(data, names: list[str], *, id_col: Optional[str] = None, time_col: Optional[str] = None,
                       time_format: Optional[str] = None) -> FutureValues:  # fmt: skip
    """Read the columns `names` (and `id_col`, `time_col`) of a CSV path or a DataFrame, checked as
    `read_series_csv` checks a series (no missing values: a forecast cannot fill them in)."""
    if isinstance(data, pd.DataFrame):
        table, rows = table_of_frame(data)
        path = "the future DataFrame"
    else:
        table, rows = read_csv_table(data)
        path = str(data)
    columns = list(table.columns)
    names = [find_column(columns, name, path) for name in names]
    groups = {"": np.arange(len(table))}
    if id_col is not None:
        table, id_col = id_columns(table, id_col, path)
        ids = table[id_col]
        groups = {str(name): positions for name, positions in ids.groupby(ids, sort=False).indices.items()}
    table, time_col = time_columns(table, time_col, path)
    found = {}
    for key, positions in groups.items():
        part, where = table.iloc[positions], rows[positions]
        label = f"{path}, series '{key}'" if key else path
        numbers = {name: parse_numbers(part[name].reset_index(drop=True), where, name, label) for name in names}
        check_finite(numbers, where, label, None, needed="a forecast needs every future value of it")
        values = np.column_stack([numbers[name] for name in names])
        time = None
        if time_col is not None:
            time = parse_time(part[time_col].reset_index(drop=True), where, time_col, label, time_format)
            check_unique_times(time, where, time_col, label)
            order = time_order(time)
            time, values = time[order], values[order]
        found[key] = (time, values)
    return FutureValues(path, names, found)
