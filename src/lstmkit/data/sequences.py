"""Labelled sequences for classification read from a file, and checked before training starts.

    data = read_sequences("reviews.csv", text_col="review", label_col="sentiment")   # text mode
    data = read_sequences("ecg.csv")              # wide numeric CSV: one row a sequence, label column "label"
    data = read_sequences("imu.csv", id_col="recording", time_col="t")   # long CSV: one row a step, its channels
    data = read_sequences("X.npz")                # X (N, T, F) or (N, T), y (N,)         (`lstmkit.data.npz`)
    data = read_sequences("GunPoint_TRAIN.ts")    # the UCR/UEA format, uni- or multivariate  (`lstmkit.data.ts`)
    data = read_sequences("GunPoint_TRAIN.tsv")   # the UCR archive's own: no header, the label first on each line
    check_classes(data)                           # at least two classes, before training

The format follows the extension: `.csv` (text when `text_col` is given, long numeric when `id_col` is, else
wide numeric), `.npz`, `.ts`; `.tsv` and `.txt` are read as the UCR archive writes them (no header, each line
a class label then the values, separated by tabs, commas or spaces) where the first line has no header, else a
`.tsv` as a `.csv` separated by tabs.
Every problem is a `DataError` of one line naming the file, the row, line or array element, and what was
expected. Rows of a CSV are line numbers (header = row 1), as in `lstmkit.data.csv_table`; lines of a `.ts`
file are line numbers too; elements of an `.npz` are numpy indices (`X[3, 17]`). What `LabelledSequences`
holds, and how unequal lengths are marked, is in `lstmkit.data.labelled_sequences`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import DataError
from .csv_table import (MISSING_TOKENS, TABLES, TYPED, WORKBOOKS, and_list, counts_rows, distinct, find_column, format_suffix,
                        header_is_data, holds_texts, list_columns, named_row_ids, parse_numbers, read_csv_table,
                        read_text_file, read_typed_frame, table_of_frame, typed_table)
from .arff import read_arff
from .labelled_sequences import LabelledSequences, trailing_lengths
from .npz import read_npz
from .panel import id_columns, panel_from_table
from .series import LARGEST, feature_list
from .timeaxis import time_columns
from .ts import read_ts

FORMATS = (".csv", ".tsv", *WORKBOOKS, *TYPED, ".txt", ".npz", ".ts", ".arff")
ARCHIVE = (".tsv", ".txt")  # the UCR archive's formats: 2018's tabs, and the spaces of timeseriesclassification.com


# ---------------------------------------------------------------------------------------------------------
# The entry point


def read_sequences(
    path: Union[str, Path], *, text_col: Optional[str] = None, label_col: str = "label", labelled: bool = True,
    id_col: Optional[str] = None, time_col: Optional[str] = None, time_format: Optional[str] = None,
    columns: Union[str, Sequence[str], None] = None,
) -> LabelledSequences:  # fmt: skip
    """Read and check a classification data file; the format follows the extension.

    text_col: the CSV column holding the texts (text mode); None reads numeric sequences.
    label_col: the CSV column holding the class labels (not used by .npz and .ts files).
    labelled: the labels must be there (training, evaluating); False reads them when present (predicting).
    id_col, time_col, time_format, columns: a long-format CSV (`read_long_csv`).
    A folder is read as texts or recordings, a file each, a subfolder a class (`read_folder`).
    """
    if not isinstance(path, pd.DataFrame) and Path(path).is_dir():
        return read_folder(path, labelled=labelled, columns=columns)
    suffix = ".csv" if isinstance(path, pd.DataFrame) else format_suffix(path)  # a DataFrame is read as its CSV
    if suffix not in FORMATS:
        raise DataError(_format_message(path, suffix))
    for name, value in (("text_col", text_col), ("id_col", id_col)):
        if value is not None and suffix not in TABLES:
            raise DataError(f"{path}: `{name}` needs a CSV file; {suffix} files hold numeric sequences, one each")
    if suffix in ARCHIVE and text_col is None and id_col is None:
        lines = read_text_file(path, suffix[1:].upper(), "one sequence a line").splitlines()
        if not _has_header(lines):
            return read_ucr_tsv(path, lines)
        if suffix == ".txt":
            raise DataError(f"{path}: has a header; a .txt file is read as the UCR archive writes it (each line a class "
                            "label, then the values); save a table as .csv")  # fmt: skip
    if id_col is not None:
        return read_long_csv(path, id_col, time_col=time_col, time_format=time_format, columns=columns,
                             label_col=label_col, labelled=labelled)  # fmt: skip
    if suffix == ".npz":
        return read_npz(path, labelled=labelled)
    if suffix == ".ts":
        return read_ts(path, labelled=labelled)
    if suffix == ".arff":
        return read_arff(path, labelled=labelled)
    if text_col is not None:
        return read_text_csv(path, text_col, label_col=label_col, labelled=labelled)
    if suffix in TYPED:  # read once: a sequence a row in lists, or a table of a CSV's cells
        frame, rows = read_typed_frame(path)
        nested, steps = list_columns(frame, rows, path)
        if nested:
            return read_lists(frame, rows, nested, steps, path, label_col=label_col, labelled=labelled)
        return read_wide_csv(path, label_col=label_col, labelled=labelled, cells=typed_table(frame, rows, path))
    return read_wide_csv(path, label_col=label_col, labelled=labelled)


def read_folder(path, *, labelled: bool = True, columns: Union[str, Sequence[str], None] = None) -> LabelledSequences:
    """Sequences in a folder, a file each: each subfolder a class named as it is, its files (hidden ones left)
    that class's sequences; files beside the subfolders are left out. A folder of files alone holds sequences
    without labels (to predict). Each sequence's id is its file's path within the folder.

    Text files are texts, as Keras' `text_dataset_from_directory` and scikit-learn's `load_files` read them
    (IMDB's and 20 Newsgroups' layout). Where every file is a CSV, each is a recording: a row a step, its
    numeric columns the channels (`columns` chooses them; by default those of the first file, but a column
    that counts the rows), named alike in every file."""
    folder = Path(path)
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        files = _files(folder)
        if labelled or not files:
            raise DataError(f"{path}: is a folder without subfolders; a folder of sequences holds a subfolder for each "
                            "class, its files that class's texts or recordings (pos/1.txt, neg/2.txt)")  # fmt: skip
        labels, ids = None, [f.name for f in files]
    else:
        pairs = [(f, subfolder.name) for subfolder in classes for f in _files(subfolder)]
        if not pairs:
            raise DataError(f"{path}: its subfolders ({', '.join(p.name for p in classes[:5])}) hold no files; each "
                            "holds a class's texts or recordings, a file each")  # fmt: skip
        files, labels = [f for f, _ in pairs], [label for _, label in pairs]
        ids = [f"{label}/{f.name}" for f, label in pairs]
    if all(format_suffix(f) == ".csv" for f in files):
        sequences, channels = _recordings(files, columns)
        return LabelledSequences(sequences, labels, str(path), "numeric", "the subfolders", ids=ids, id_name="file",
                                 channels=channels)  # fmt: skip
    texts = [read_text_file(f, "text", "a text").strip() for f in files]
    return LabelledSequences(texts, labels, str(path), "text", "the subfolders", ids=ids, id_name="file")


def _recordings(files: list[Path], columns) -> tuple[list[np.ndarray], list[str]]:
    """Each CSV file as a recording (T, F) float32 of its channels, and the channels' names."""
    first, _ = read_csv_table(files[0])
    if columns is not None:
        channels = [find_column(list(first.columns), name, files[0]) for name in feature_list(columns, "channel")]
    else:
        channels = [c for c in first.columns if _has_a_number(first[c]) and not counts_rows(first[c])]
    if not channels:
        raise DataError(f"{files[0]}: has no numeric column; each file of a folder of recordings holds a row a step, "
                        "its numeric columns the channels")  # fmt: skip
    sequences = []
    for f in files:
        table, rows = read_csv_table(f)
        names = [find_column(list(table.columns), name, f) for name in channels]
        values = np.column_stack([parse_numbers(table[c], rows, c, f) for c in names])
        bad = ~np.isfinite(values)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise DataError(f"{f}: column '{names[c]}' has no finite value at row {rows[r]}; every step of a recording "
                            "needs a value in each channel")  # fmt: skip
        sequences.append(values.astype(np.float32))
    return sequences, channels


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _format_message(path, suffix: str) -> str:
    shown = f"'{suffix}' files" if suffix else "files without an extension"
    return (f"{path}: {shown} are not read by lstmkit classify; use .csv, .xlsx, .parquet or .jsonl (a text column or "
            "one numeric sequence a row), .tsv or .txt (the UCR archive's), .npz (arrays X and y), .ts or .arff (UCR/UEA)")  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# The UCR archive's .tsv: no header, each line a class label then the values


_PADDING = {"nan", ""}  # what the UCR archive writes after a shorter sequence's last value


def _has_header(lines: list[str]) -> bool:
    """Whether a tab-separated file's first line is a header: a cell after the first that is no number,
    or the step numbers 0, 1, 2, ... (or 1, 2, 3, ...) of a wide table's columns, at least 5 of them."""
    first = next((line for line in lines if line.strip()), "")
    cells = [cell.strip() for cell in first.split(_separator(first))[1:]]
    if any(not _is_number(cell) for cell in cells if cell.lower() not in _PADDING):
        return True
    steps = [float(cell) for cell in cells] if all(cell.isdigit() for cell in cells) else []
    return len(steps) >= 5 and steps in (list(range(len(steps))), list(range(1, len(steps) + 1)))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _separator(line: str) -> Optional[str]:
    """The 2018 archive's tabs, the 2015 archive's commas, or None: runs of spaces (timeseriesclassification.com's
    .txt files, '  1.0000000e+00  -6.4788544e-01 ...')."""
    return "\t" if "\t" in line else "," if "," in line else None


def _class_name(label: str) -> str:
    """A class label as the archive means it: '1.0000000e+00' (timeseriesclassification.com's .txt) is class '1'."""
    try:
        number = float(label)
    except ValueError:
        return label
    return str(int(number)) if number.is_integer() and "e" in label.lower() else label


def read_ucr_tsv(path, lines: list[str]) -> LabelledSequences:
    """The UCR archive's format (the 2018 archive's .tsv, its commas of 2015, the spaces of the .txt files
    timeseriesclassification.com serves): no header, each line one univariate sequence, its class label first
    (`_class_name`), then its values; NaN (or nothing) after a sequence's last value makes a shorter one.
    `lines`: the file's lines. Lines in messages are counted from 1."""
    sequences, labels = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        label, *cells = [cell.strip() for cell in line.split(_separator(line))]
        if label.lower() in MISSING_TOKENS:
            raise DataError(f"{path}: line {number} has no class label in its first field; each line is a label, then the values")
        values = np.full(len(cells), np.nan)
        for k, cell in enumerate(cells):
            if cell.lower() not in _PADDING:
                try:
                    values[k] = float(cell)
                except ValueError:
                    raise DataError(f"{path}: line {number}, value {k + 1}: '{cell}' is not a number; each line is a "
                                    "class label, then the values") from None  # fmt: skip
        too_large = np.abs(values) > LARGEST  # infinite, or beyond float32's range (NaN compares False)
        if too_large.any():
            k = int(np.argmax(too_large))
            raise DataError(f"{path}: line {number}, value {k + 1}: '{cells[k]}' is infinite or too large for float32")
        lengths, gap = trailing_lengths(~np.isnan(values[None, :]))
        if lengths[0] == 0:
            raise DataError(f"{path}: line {number} has a label but no values; every line needs a sequence")
        if gap[0] >= 0:
            raise DataError(f"{path}: line {number}, value {gap[0] + 1} is missing before the end of its sequence; only "
                            "trailing values may be missing (a shorter sequence); fill it in, e.g. by interpolation")  # fmt: skip
        sequences.append(values[: lengths[0], None].astype(np.float32))
        labels.append(_class_name(label))
    if not sequences:
        raise DataError(f"{path}: has no sequences; the UCR archive's format is one a line, a class label then the values")
    return LabelledSequences(sequences, labels, str(path), "numeric", "")


# ---------------------------------------------------------------------------------------------------------
# CSV: a text column, or one numeric sequence a row


def _cells(data) -> tuple[pd.DataFrame, np.ndarray, object]:
    """(table, rows, where): a CSV file's text cells and row numbers, or a pandas DataFrame's (its rows'
    positions), and how messages name it."""
    if isinstance(data, pd.DataFrame):
        table, rows = table_of_frame(data)
        return table, rows, "the DataFrame"
    table, rows = read_csv_table(data)
    return table, rows, data


def read_text_csv(path, text_col: str, *, label_col: str = "label", labelled: bool = True) -> LabelledSequences:
    """A CSV with a text column and a label column; each row one text."""
    return _texts_of_table(*_cells(path), text_col, label_col, labelled)


_FEWEST_STEPS = 3  # a wide CSV of fewer numeric columns beside a column of texts is a text CSV read without `text_col`


def _texts_of_table(table: pd.DataFrame, rows: np.ndarray, path, text_col: str, label_col: str,
                    labelled: bool) -> LabelledSequences:  # fmt: skip
    columns = list(table.columns)
    text_col = find_column(columns, text_col, path)
    label_col = _label_column(table, label_col, path, labelled, skipped=(text_col,))
    if label_col == text_col:
        raise DataError(f"{path}: the text column '{text_col}' cannot also be the label column; choose another `label_col`")
    texts = table[text_col]
    empty = (texts == "").to_numpy()
    if empty.any():
        row = rows[int(np.argmax(empty))]
        raise DataError(f"{path}: column '{text_col}' is empty at row {row}; every row needs a text (or remove the row)")
    labels = None if label_col is None else _labels(table[label_col], rows, label_col, path)
    id_name = next((c for c in columns if c not in (text_col, label_col) and distinct(table[c])), None)
    return LabelledSequences(list(texts), labels, str(path), "text", f"column '{label_col}'" if label_col else "",
                             ids=None if id_name is None else list(table[id_name]), id_name=id_name)  # fmt: skip


def read_wide_csv(path, *, label_col: str = "label", labelled: bool = True,
                  cells: Optional[tuple[pd.DataFrame, np.ndarray]] = None) -> LabelledSequences:  # fmt: skip
    """A wide CSV: each row one univariate sequence, the numeric columns its steps in order (F = 1).

    Columns that hold no number at all (an id, a name) are left out, and so is a first column named as an id
    ('id', 'index', '..._id', or unnamed: pandas' index) that holds a different value on each row; the first
    of these that does is the rows' id, which `predict` writes beside each label. Empty trailing cells make a
    shorter sequence; an empty cell before a row's last value is an error. `cells`: the file's table and row
    numbers, already read (`read_csv_table`)."""
    table, rows, path = _cells(path) if cells is None else (*cells, path)
    unnamed = [name for name in table.columns if name.startswith("Unnamed: ") and (table[name] == "").all()]
    table = table.drop(columns=unnamed)  # columns of no value, unnamed: separators after each row's last (',,,')
    columns = list(table.columns)
    label_col = _label_column(table, label_col, path, labelled)
    named_id = named_row_ids(table, skipped=(label_col,))
    steps = [c for c in columns if c not in (label_col, named_id) and _has_a_number(table[c])]
    id_name = named_id or next((c for c in columns if c not in (label_col, *steps) and distinct(table[c])), None)
    if not steps:
        others = [c for c in columns if c != label_col]
        texts = [c for c in others if holds_texts(table[c])]
        if len(others) == 1 or (len(texts) == 1 and set(others) <= {texts[0], id_name}):
            # one column of texts beside the labels (and the rows' ids, as GLUE's 'idx'): a text CSV
            return _texts_of_table(table, rows, path, texts[0] if len(others) > 1 else others[0], label_col, labelled)
        raise DataError(f"{path}: has no numeric columns; expected one sequence a row, its steps in numeric columns "
                        f"(or give `text_col` for a text column: one of {', '.join(others[:10])})")  # fmt: skip
    texts = [c for c in columns if c not in (label_col, *steps) and holds_texts(table[c])]
    if texts and len(steps) < _FEWEST_STEPS:  # 'text,likes,label': the texts left out, a 'sequence' of one step read
        quoted = and_list(f"'{step}'" for step in steps)
        raise DataError(f"{path}: column '{texts[0]}' holds texts, which a wide CSV leaves out, and its numeric columns "
                        f"({quoted}) would be sequences of {len(steps)} step{'s' if len(steps) > 1 else ''}; "
                        f"give `text_col` {texts[0]} to classify the texts")  # fmt: skip
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
    return LabelledSequences(sequences, labels, str(path), "numeric", f"column '{label_col}'" if label_col else "",
                             ids=None if id_name is None else list(table[id_name]), id_name=id_name)  # fmt: skip


def read_lists(frame: pd.DataFrame, rows: np.ndarray, nested: list[str], steps: np.ndarray, path, *,
               label_col: str = "label", labelled: bool = True) -> LabelledSequences:  # fmt: skip
    """A typed table (Parquet or JSON, `read_typed_frame`) that holds a sequence a row in lists, as the
    Hugging Face hub's copies of the UCR/UEA archive and sktime's nested frames do: the columns of lists
    (`nested`, each row `steps` long: `list_columns`) are its channels, side by side, the other columns its
    label and id, as a wide CSV's."""
    table, _ = table_of_frame(frame.drop(columns=nested))
    label_col = _label_column(table, label_col, path, labelled)
    others = [name for name in table.columns if name != label_col]
    id_name = named_row_ids(table, skipped=(label_col,)) or next((c for c in others if distinct(table[c])), None)
    sequences = []
    for k in range(len(frame)):
        if steps[k] == 0:
            raise DataError(f"{path}: row {rows[k]} has no values; every row needs a sequence")
        channels = []
        for name in nested:
            try:
                channels.append(np.asarray(frame[name].iloc[k], dtype=np.float64).reshape(-1))
            except (TypeError, ValueError):
                raise DataError(f"{path}: row {rows[k]}: column '{name}' holds a value that is no number "
                                f"('{str(frame[name].iloc[k])[:40]}')") from None  # fmt: skip
        values = np.column_stack(channels)  # (T, F)
        bad = ~np.isfinite(values)
        if bad.any():
            t, c = np.argwhere(bad)[0]
            raise DataError(f"{path}: row {rows[k]}: column '{nested[c]}' has a missing or infinite value at step "
                            f"{t + 1}; every step of a sequence needs a value")  # fmt: skip
        sequences.append(values.astype(np.float32))
    labels = None if label_col is None else _labels(table[label_col], rows, label_col, path)
    return LabelledSequences(sequences, labels, str(path), "numeric", f"column '{label_col}'" if label_col else "",
                             ids=None if id_name is None else list(table[id_name]), id_name=id_name)  # fmt: skip


def read_long_csv(path, id_col: str, *, time_col: Optional[str] = None, time_format: Optional[str] = None,
                  columns: Union[str, Sequence[str], None] = None, label_col: str = "label",
                  labelled: bool = True) -> LabelledSequences:  # fmt: skip
    """A long-format CSV (as sktime's long format, tsfresh's `column_id`): one row a step, `id_col` naming the
    sequence the row belongs to, `columns` its channels (F of them; by default every numeric column but the
    id, time and label columns), in that order.

    Sequences keep the order of their first row and may differ in length; their steps follow `time_col`
    (dates or integers, read as the forecaster reads a time column) or, without one, the file's order. A
    sequence's label is the one on each of its rows. Each sequence is checked as the forecaster checks a
    series (a missing value, a repeated time), and every message names it."""
    table, rows, path = _cells(path)
    table, id_col = id_columns(table, id_col, path)
    table, time_col = time_columns(table, time_col, path)
    names = list(table.columns)
    label_col = _label_column(table, label_col, path, labelled, skipped=(id_col, time_col))
    if label_col in (id_col, time_col):
        role = "id" if label_col == id_col else "time"
        raise DataError(f"{path}: the label column '{label_col}' cannot also be the {role} column; choose another `label_col`")
    if columns is not None:
        channels = [find_column(names, name, path) for name in feature_list(columns, "channel")]
        for column, role in ((id_col, "id"), (time_col, "time"), (label_col, "label")):
            if column in channels:
                raise DataError(f"{path}: the {role} column '{column}' cannot also be a channel; leave it out of `columns`")
    else:  # a first column of row numbers (pandas' index) is no channel
        row_ids = named_row_ids(table, skipped=(id_col, time_col, label_col))
        channels = [c for c in names if c not in (id_col, time_col, label_col, row_ids) and _has_a_number(table[c])]
    if not channels:
        raise DataError(f"{path}: has no numeric column besides the id, time and label columns; in long format "
                        "each numeric column is a channel of the sequences")  # fmt: skip
    kept = [id_col, *([time_col] if time_col else []), *channels]
    # a step without a value: no fill is offered, as the forecaster offers one, since a class has no use for it
    panel = panel_from_table(table[kept], rows, str(path), channels[0], id_col=id_col, noun="sequence",
                             time_col=time_col, time_format=time_format, features=channels[1:],
                             needed="every step of a sequence needs a value in each channel")  # fmt: skip
    labels = None
    if label_col is not None:
        labels = []
        for name, positions in table[id_col].groupby(table[id_col], sort=False).indices.items():  # as the panel's
            cells = _labels(table[label_col].iloc[positions], rows[positions], label_col, path)
            other = [k for k, label in enumerate(cells) if label != cells[0]]
            if other:
                k = other[0]
                raise DataError(f"{path}: sequence '{name}' has the label '{cells[0]}' at row {rows[positions[0]]} and "
                                f"'{cells[k]}' at row {rows[positions[k]]}; a sequence has one class, on each of its rows")  # fmt: skip
            labels.append(cells[0])
    return LabelledSequences([s.values for s in panel.series], labels, str(path), "numeric",
                             f"column '{label_col}'" if label_col else "", ids=panel.ids, channels=channels)  # fmt: skip


def _label_column(table: pd.DataFrame, label_col: str, path, labelled: bool, skipped: tuple = ()) -> Optional[str]:
    """The label column's name as spelled in the file; None when it is absent and labels are optional. A
    header of numbers only, or of texts (a name of five words or more than 40 characters), is the first row of
    a file without one: a DataError says so. Where the labels are needed and no column is named `label_col`,
    the DataError names a column that may hold them (`_likely_labels`; `skipped` are not)."""
    columns = list(table.columns)
    if label_col not in columns and len(columns) > 1 and header_is_data(columns):
        raise DataError(f"{path}: its first line holds values ({', '.join(columns[:3])}, ...), not column names; "
                        f"add a header line, naming the label column '{label_col}' (`label_col`), or, where each line "
                        "is the class label then the values as the UCR archive writes them, save it as .tsv")  # fmt: skip
    if label_col in columns or not labelled:
        return label_col if label_col in columns else None
    texts = [name for name in columns if len(name) > 40 or name.count(" ") >= 4]
    if texts:
        shown = texts[0][:40] + ("..." if len(texts[0]) > 40 else "")
        raise DataError(f"{path}: no column '{label_col}': its first line looks like data ('{shown}' is a text, not "
                        f"a column's name); add a header line naming the columns (the labels' as '{label_col}', or give `label_col`)")  # fmt: skip
    try:
        return find_column(columns, label_col, path)
    except DataError as error:
        likely = _likely_labels(table, (*skipped, label_col))
        if likely is None:
            raise
        values = sorted(table[likely].unique(), key=str)
        shown = ", ".join(values[:4]) + (", ..." if len(values) > 4 else "")
        raise DataError(f"{error}; the labels may be those of '{likely}' ({len(values)} values: {shown}): give "
                        f"`label_col` {likely}") from None  # fmt: skip


_LABEL_NAMES = ("labels", "class", "classes", "category", "target", "sentiment", "y", "intent", "topic", "polarity",
                "class index", "class_index", "type")  # fmt: skip
_MOST_CLASSES = 100  # `_likely_labels` reads a column of more values as no labels


def _likely_labels(table: pd.DataFrame, skipped: tuple) -> Optional[str]:
    """A column that may hold a table's class labels, for a message: one named as labels often are
    (`_LABEL_NAMES`), else the first column of text holding 2 to `_MOST_CLASSES` values, each on at least two
    rows on average (ham and spam; not an id, not a column of texts); None where none does."""
    def labels_like(name: str) -> bool:
        count = table[name][table[name] != ""].nunique()
        return 2 <= count <= min(_MOST_CLASSES, len(table) // 2)

    named = [name for name in table.columns if name.lower() in _LABEL_NAMES and name not in skipped]
    texts = [name for name in table.columns if name not in skipped and not _has_a_number(table[name])]
    return next((name for name in (*named, *texts) if labels_like(name)), None)


def _labels(cells: pd.Series, rows: np.ndarray, name: str, path) -> list[str]:
    missing = cells.str.lower().isin(MISSING_TOKENS).to_numpy()
    if missing.any():
        row = rows[int(np.argmax(missing))]
        raise DataError(f"{path}: column '{name}' has no label at row {row}; every sequence needs its class")
    return list(cells)


def _has_a_number(cells: pd.Series) -> bool:
    return bool(pd.to_numeric(cells, errors="coerce").notna().any())
