"""Labelled sequences for classification read from a file, and checked before training starts.

    data = read_sequences("reviews.csv", text_col="review", label_col="sentiment")   # text mode
    data = read_sequences("ecg.csv")              # wide numeric CSV: one row a sequence, label column "label"
    data = read_sequences("X.npz")                # X (N, T, F) or (N, T), y (N,)         (`lstmkit.data.npz`)
    data = read_sequences("GunPoint_TRAIN.ts")    # the UCR/UEA format, uni- or multivariate  (`lstmkit.data.ts`)
    check_classes(data)                           # at least two classes, before training

The format follows the extension: `.csv` (text when `text_col` is given, else wide numeric), `.npz`, `.ts`.
Every problem is a `DataError` of one line naming the file, the row, line or array element, and what was
expected. Rows of a CSV are line numbers (header = row 1), as in `lstmkit.data.csv_table`; lines of a `.ts`
file are line numbers too; elements of an `.npz` are numpy indices (`X[3, 17]`). What `LabelledSequences`
holds, and how unequal lengths are marked, is in `lstmkit.data.labelled_sequences`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd

from ..errors import DataError
from .csv_table import MISSING_TOKENS, find_column, parse_numbers, read_csv_table
from .labelled_sequences import LabelledSequences, trailing_lengths
from .npz import read_npz
from .ts import read_ts

FORMATS = (".csv", ".npz", ".ts")


# ---------------------------------------------------------------------------------------------------------
# The entry point


def read_sequences(
    path: Union[str, Path], *, text_col: Optional[str] = None, label_col: str = "label", labelled: bool = True
) -> LabelledSequences:
    """Read and check a classification data file; the format follows the extension.

    text_col: the CSV column holding the texts (text mode); None reads numeric sequences.
    label_col: the CSV column holding the class labels (not used by .npz and .ts files).
    labelled: the labels must be there (training, evaluating); False reads them when present (predicting).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(_format_message(path, suffix))
    if text_col is not None and suffix != ".csv":
        raise DataError(f"{path}: `text_col` needs a CSV file; {suffix} files hold numeric sequences")
    if suffix == ".npz":
        return read_npz(path, labelled=labelled)
    if suffix == ".ts":
        return read_ts(path, labelled=labelled)
    if text_col is not None:
        return read_text_csv(path, text_col, label_col=label_col, labelled=labelled)
    return read_wide_csv(path, label_col=label_col, labelled=labelled)


def _format_message(path, suffix: str) -> str:
    hint = ""
    if suffix == ".tsv":
        hint = " (.ts is the UCR/UEA time-series format; save tab-separated values as .csv)"
    elif suffix == ".txt":
        hint = " (save a table as .csv)"
    shown = f"'{suffix}' files" if suffix else "files without an extension"
    return (f"{path}: {shown} are not read by lstmkit classify{hint}; use .csv (a text column or one numeric "
            "sequence a row), .npz (arrays X and y) or .ts (UCR/UEA)")  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# CSV: a text column, or one numeric sequence a row


def read_text_csv(path, text_col: str, *, label_col: str = "label", labelled: bool = True) -> LabelledSequences:
    """A CSV with a text column and a label column; each row one text."""
    table, rows = read_csv_table(path)
    columns = list(table.columns)
    text_col = find_column(columns, text_col, path)
    label_col = _label_column(columns, label_col, path, labelled)
    if label_col == text_col:
        raise DataError(f"{path}: the text column '{text_col}' cannot also be the label column; choose another `label_col`")
    texts = table[text_col]
    empty = (texts == "").to_numpy()
    if empty.any():
        row = rows[int(np.argmax(empty))]
        raise DataError(f"{path}: column '{text_col}' is empty at row {row}; every row needs a text (or remove the row)")
    labels = None if label_col is None else _labels(table[label_col], rows, label_col, path)
    return LabelledSequences(list(texts), labels, str(path), "text", f"column '{label_col}'" if label_col else "")


def read_wide_csv(path, *, label_col: str = "label", labelled: bool = True) -> LabelledSequences:
    """A wide CSV: each row one univariate sequence, the numeric columns its steps in order (F = 1).

    Columns that hold no number at all (an id, a name) are left out. Empty trailing cells make a shorter
    sequence; an empty cell before a row's last value is an error."""
    table, rows = read_csv_table(path)
    columns = list(table.columns)
    label_col = _label_column(columns, label_col, path, labelled)
    steps = [c for c in columns if c != label_col and _has_a_number(table[c])]
    if not steps:
        raise DataError(f"{path}: has no numeric columns; expected one sequence a row, its steps in numeric columns "
                        "(or give `text_col` for a text column)")  # fmt: skip
    values = np.column_stack([parse_numbers(table[c], rows, c, path) for c in steps])  # (R, C)
    infinite = np.isinf(values)
    if infinite.any():
        r, c = np.argwhere(infinite)[0]
        raise DataError(f"{path}: column '{steps[c]}' has an infinite value at row {rows[r]}")
    lengths, gap = trailing_lengths(~np.isnan(values))  # (R,), (R,) first missing step inside, or -1
    if (lengths == 0).any():
        raise DataError(f"{path}: row {rows[int(np.argmin(lengths))]} has no values; every row needs a sequence")
    if (gap >= 0).any():
        r = int(np.argmax(gap >= 0))
        raise DataError(
            f"{path}: row {rows[r]} has an empty cell in column '{steps[gap[r]]}' before the end of its sequence; "
            "only trailing cells may be empty (a shorter sequence)"
        )
    sequences = [values[r, : lengths[r], None].astype(np.float32) for r in range(len(values))]  # each (T_r, 1)
    labels = None if label_col is None else _labels(table[label_col], rows, label_col, path)
    return LabelledSequences(sequences, labels, str(path), "numeric", f"column '{label_col}'" if label_col else "")


def _label_column(columns: list[str], label_col: str, path, labelled: bool) -> Optional[str]:
    """The label column's name as spelled in the file; None when it is absent and labels are optional."""
    if labelled:
        return find_column(columns, label_col, path)
    return label_col if label_col in columns else None


def _labels(cells: pd.Series, rows: np.ndarray, name: str, path) -> list[str]:
    missing = cells.str.lower().isin(MISSING_TOKENS).to_numpy()
    if missing.any():
        row = rows[int(np.argmax(missing))]
        raise DataError(f"{path}: column '{name}' has no label at row {row}; every sequence needs its class")
    return list(cells)


def _has_a_number(cells: pd.Series) -> bool:
    return bool(pd.to_numeric(cells, errors="coerce").notna().any())
