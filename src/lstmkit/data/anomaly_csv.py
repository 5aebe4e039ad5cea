"""A series for anomaly detection read from a CSV file: its value columns and, optionally, a 0/1 label column.

    series, labels = read_anomaly_csv("machine.csv", time_col="timestamp", label_col="anomaly")   # or a DataFrame
    series.values      # (N, F) float32: the value columns, the first as the series' target
    labels             # (N,) int64, 1 = anomaly, in the series' time order; None without a label column

Every check of `read_series_csv` applies; a label that is missing or not 0/1 is a `DataError` naming its row.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .csv_table import find_column, headerless, one_series_in_lists, parse_numbers, read_csv_table, value_columns
from .panel import FRAMES, frame_table
from .series import Series, series_from_table
from .timeaxis import index_time_column, time_columns

LABEL_LIKE = frozenset({"anomaly", "anomalies", "is_anomaly", "label", "labels", "outlier", "is_outlier"})


def read_anomaly_csv(
    path: Union[str, Path],
    *,
    columns: Union[str, Sequence[str], None] = None,
    time_col: Optional[str] = None,
    time_format: Optional[str] = None,
    label_col: Optional[str] = None,
    fill: Optional[str] = None,
    labels_required: bool = True,
) -> tuple[Series, Optional[np.ndarray]]:
    """(series, labels): the value columns as a `Series` (`values` (N, F), the first column as its target),
    and the label column as (N,) int64 0/1 in the series' time order, or None.

    `columns` defaults to every numeric column other than the time and label columns. Every check of
    `read_series_csv` applies; a label that is missing or not 0/1 is a DataError naming its row. With
    labels_required False, a label column the file lacks is no error (scoring unlabelled data).

    A file without a header line (its first line holds values, as the UCR anomaly archive writes a value a
    line) is read as such, where every column asked for is one it has so (`csv_table.headerless`), with a
    note: its first line is data, its column is `value` (several: `column1`, `column2`, ...)."""
    unnamed = None
    if isinstance(path, FRAMES):  # a DataFrame, a Series or a 1-D array: rows are its positions
        table, rows, time_col = frame_table(path, time_col)
        path = "the DataFrame"
    else:
        table, rows = read_csv_table(path)
        one_series_in_lists(table, path, panels=False)
        read = headerless(table, rows)
        asked = _asked(columns, time_col, label_col if labels_required else None)
        if read is not None and set(asked) <= set(read[0].columns):
            table, rows, unnamed = read
    table, time_col = time_columns(table, time_col, path)
    table, time_col, note = index_time_column(table, rows, time_col)  # a pandas index of times, unnamed: not a value column
    names = list(table.columns)
    label = None
    if label_col is not None and (labels_required or str(label_col).strip() in names):
        label = find_column(names, label_col, path)
    if label is not None and label == time_col:
        raise DataError(f"the label column '{label}' cannot also be the time column; choose another `time_col`")
    chosen, unread = _value_columns(table, columns, time_col, label, path)
    labels = None if label is None else _check_labels(table[label], rows, label, path)
    features = [*chosen[1:], *([label] if label is not None else [])]
    series = series_from_table(table, rows, path, chosen[0], time_col=time_col, time_format=time_format,
                               features=features, fill=fill, ids=False)  # fmt: skip
    notes = [text for text in (unnamed, note, unread) if text is not None]
    if notes:
        series = dataclasses.replace(series, notes=[*notes, *series.notes])
    if label is not None:  # the label rode along as the last feature, to be sorted by time with the values
        labels = series.covariates[:, -1].astype(np.int64)
        series = dataclasses.replace(series, covariates=series.covariates[:, :-1], feature_names=series.feature_names[:-1])
    return series, labels


def _asked(columns, time_col, label_col) -> list[str]:
    """The names of the columns asked for (`columns`, `time_col`, `label_col`)."""
    asked = [label_col, time_col, *(columns.split(",") if isinstance(columns, str) else (columns or []))]
    return [str(name).strip() for name in asked if name is not None and str(name).strip()]


def _value_columns(table: pd.DataFrame, columns, time_col, label, path) -> tuple[list[str], Optional[str]]:
    """(chosen, note): the value columns, `columns` or by default every numeric one (`value_columns`); the note
    on the columns the default left out (`_unread_columns`), None where `columns` chose them."""
    names = list(table.columns)
    if columns is not None and not isinstance(columns, str) and len(columns) == 0:
        columns = None
    if columns is None:  # a first column of the rows' ids or numbers (pandas' index), or a counter, is no value
        chosen, row_ids = value_columns(table, (time_col, label))
        if not chosen:
            raise DataError(f"{path}: has no numeric column to score besides the time and label columns; "
                            f"columns: {', '.join(names)}")  # fmt: skip
        if label is None:
            _refuse_unnamed_labels(table, chosen, path)
        return chosen, _unread_columns(table, chosen, (time_col, label, row_ids))
    wanted = [c.strip() for c in columns.split(",")] if isinstance(columns, str) else [str(c).strip() for c in columns]
    chosen = [find_column(names, name, path) for name in wanted if name]
    for i, name in enumerate(chosen):
        if name in chosen[:i]:
            raise DataError(f"the column '{name}' is given twice in `columns`")
        if name == time_col:
            raise DataError(f"the time column '{name}' cannot also be a value column; remove it from `columns`")
        if name == label:
            raise DataError(f"the label column '{name}' cannot also be a value column; remove it from `columns`")
    if not chosen:
        raise DataError("`columns` names no column")
    return chosen, None


def _unread_columns(table: pd.DataFrame, chosen: list[str], skipped: tuple) -> Optional[str]:
    """The note on the columns left out of the default value columns besides the `skipped` ones (the time,
    label and row-id columns): text, a count of the rows; which columns are watched, and that `columns` chooses
    them. None where every other column is read."""
    left = [str(name) for name in table.columns if name not in (*skipped, *chosen)]
    if not left:
        return None
    return (f"watching {len(chosen)} column{'s' if len(chosen) > 1 else ''} ({', '.join(chosen[:10])}"
            f"{', ...' if len(chosen) > 10 else ''}); left out, as not numbers or a count of the rows: "
            f"{', '.join(left[:10])}{', ...' if len(left) > 10 else ''} (--columns chooses)")


def _refuse_unnamed_labels(table: pd.DataFrame, chosen: list[str], path) -> None:
    """A 0/1 column called 'anomaly' or 'label' among the default value columns is almost surely the labels:
    training on it would hand the model the answers."""
    for name in chosen:
        if name.lower() in LABEL_LIKE and table[name].isin(["0", "1"]).all():
            raise ConfigError(f"{path}: the column '{name}' holds only 0 and 1; name it as the label column "
                              f"(`label_col` '{name}'), or list the value columns with `columns`")  # fmt: skip


def _check_labels(cells: pd.Series, rows: np.ndarray, name: str, path) -> np.ndarray:
    numbers = parse_numbers(cells, rows, name, path)
    missing = np.isnan(numbers)
    if missing.any():
        row = rows[int(np.argmax(missing))]
        raise DataError(f"{path}: column '{name}' has no label at row {row}; labels must be 0 (normal) or 1 (anomaly)")
    bad = ~np.isin(numbers, (0.0, 1.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{path}: column '{name}' has the label '{cells.iloc[i]}' at row {rows[i]}; "
                        "labels must be 0 (normal) or 1 (anomaly)")  # fmt: skip
    return numbers.astype(np.int64)
