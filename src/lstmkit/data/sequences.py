"""Labelled sequences for classification, read from a file and checked before training starts.

    data = read_sequences("reviews.csv", text_col="review", label_col="sentiment")   # text mode
    data = read_sequences("ecg.csv")              # wide numeric CSV: one row a sequence, label column "label"
    data = read_sequences("X.npz")                # X (N, T, F) or (N, T), y (N,)
    data = read_sequences("GunPoint_TRAIN.ts")    # the UCR/UEA format, uni- or multivariate
    check_classes(data)                           # at least two classes, before training

The format follows the extension: `.csv` (text when `text_col` is given, else wide numeric), `.npz`, `.ts`.
Every problem is a `DataError` of one line naming the file, the row, line or array element, and what was
expected. Rows of a CSV are line numbers (header = row 1), as in `lstmkit.data.series`; lines of a `.ts`
file are line numbers too; elements of an `.npz` are numpy indices (`X[3, 17]`).

Unequal lengths: a sequence ends at its last value. Empty trailing cells of a wide CSV, trailing NaN steps of
an `.npz` and trailing '?' of a `.ts` file mark a shorter sequence; a missing value before the end is an error.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import DataError
from .series import MISSING_TOKENS, find_column, parse_numbers, read_csv_table, read_text_file

FORMATS = (".csv", ".npz", ".ts")
_SHOWN_LABELS = 10


@dataclass
class LabelledSequences:
    """N sequences with their class labels (None when the file has none, as for `predict`).

    Text mode: each sequence is the row's text (str); tokenising is the classifier's business.
    Numeric mode: each sequence is a float32 array (T_i, F), T_i >= 1, F the same for all.
    """

    sequences: list  # (N,) of str, or of np.ndarray (T_i, F) float32
    labels: Optional[list[str]]  # (N,) class names as text, or None
    path: str  # the file, or a description of where the sequences came from
    kind: str  # "text" | "numeric"
    label_name: str = ""  # how messages name the labels: "column 'label'", "y"; "" for a .ts file
    declared_labels: Optional[list[str]] = field(default=None, repr=False)  # a .ts file's @classLabel list

    def __len__(self) -> int:
        return len(self.sequences)

    def __str__(self) -> str:
        return self.path

    @property
    def n_features(self) -> Optional[int]:
        """F of numeric sequences; None for text."""
        return None if self.kind == "text" else int(self.sequences[0].shape[1])

    @property
    def lengths(self) -> np.ndarray:
        """(N,) steps of each numeric sequence, characters of each text."""
        return np.array([len(s) for s in self.sequences], dtype=np.int64)

    def subset(self, index: Sequence[int]) -> "LabelledSequences":
        """The sequences at `index` (and their labels), in that order."""
        labels = None if self.labels is None else [self.labels[i] for i in index]
        return replace(self, sequences=[self.sequences[i] for i in index], labels=labels)


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
        raise DataError(f"{path}: --text-col needs a CSV file; {suffix} files hold numeric sequences")
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


def check_classes(data: LabelledSequences) -> list[str]:
    """The classes of labelled data, in `class_order`; a DataError when there is only one."""
    if data.labels is None:
        raise DataError(f"{data.path}: has no class labels; training and evaluating need labelled data")
    classes = class_order(data.labels)
    if len(classes) < 2:
        what = f"{data.label_name} has" if data.label_name else "has"
        raise DataError(f"{data.path}: {what} a single class ('{classes[0]}'); classification needs at least two")
    return classes


def class_order(labels) -> list[str]:
    """The distinct labels, sorted as numbers when every one is a number ('2' before '10'), else as text."""
    distinct = sorted(set(labels))
    try:
        return sorted(distinct, key=lambda label: (float(label), label))
    except ValueError:
        return distinct


def quote_labels(labels: Sequence[str]) -> str:
    """'a', 'b', 'c' — at most ten, then how many more."""
    shown = ", ".join(f"'{label}'" for label in labels[:_SHOWN_LABELS])
    more = len(labels) - _SHOWN_LABELS
    return shown + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------------------------------
# CSV: a text column, or one numeric sequence a row


def read_text_csv(path, text_col: str, *, label_col: str = "label", labelled: bool = True) -> LabelledSequences:
    """A CSV with a text column and a label column; each row one text."""
    table, rows = read_csv_table(path)
    columns = list(table.columns)
    text_col = find_column(columns, text_col, path)
    label_col = _label_column(columns, label_col, path, labelled)
    if label_col == text_col:
        raise DataError(f"{path}: the text column '{text_col}' cannot also be the label column; choose another --label-col")
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
                        "(or give --text-col for a text column)")  # fmt: skip
    values = np.column_stack([parse_numbers(table[c], rows, c, path) for c in steps])  # (R, C)
    infinite = np.isinf(values)
    if infinite.any():
        r, c = np.argwhere(infinite)[0]
        raise DataError(f"{path}: column '{steps[c]}' has an infinite value at row {rows[r]}")
    lengths, gap = _trailing_lengths(~np.isnan(values))  # (R,), (R,) first missing step inside, or -1
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


def _trailing_lengths(present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """present (N, T) bool, a step having a value -> lengths (N,): one past the last present step; and
    gaps (N,): the first absent step before that length, or -1 where there is none."""
    T = present.shape[1]
    any_present = present.any(axis=1)
    lengths = np.where(any_present, T - np.argmax(present[:, ::-1], axis=1), 0)
    inside = np.arange(T)[None, :] < lengths[:, None]  # (N, T)
    holes = inside & ~present
    gaps = np.where(holes.any(axis=1), np.argmax(holes, axis=1), -1)
    return lengths, gaps


# ---------------------------------------------------------------------------------------------------------
# .npz: X (N, T, F) or (N, T), y (N,)


def read_npz(path, *, labelled: bool = True) -> LabelledSequences:
    """Arrays X (N, T, F) or (N, T) and y (N,) saved with `numpy.savez`. Trailing all-NaN steps of a
    sequence make it shorter, so unequal lengths fit one padded array."""
    _check_binary_file(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:
        raise DataError(f"{path}: cannot be read as an .npz archive ({type(error).__name__}); "
                        "save it with numpy.savez(path, X=X, y=y)") from None  # fmt: skip
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: holds one array, not an .npz archive; save it with numpy.savez(path, X=X, y=y)")
    with archive:
        names = list(archive.files)
        found = ", ".join(names) if names else "no arrays"
        expected = "expected X (N, T, F) or (N, T) and y (N,)"
        if "X" not in names:
            raise DataError(f"{path}: has no array 'X'; {expected}, found {found}")
        if labelled and "y" not in names:
            raise DataError(f"{path}: has no array 'y' (the class labels); {expected}, found {found}")
        X = _npz_array(archive, "X", path)
        y = _npz_array(archive, "y", path) if "y" in names else None
    X = _check_X(X, path)
    sequences = _npz_sequences(X, path)
    labels = None
    if y is not None:
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise DataError(f"{path}: y has shape {y.shape}; expected one label a sequence, shape (N,)")
        if len(y) != len(X):
            raise DataError(f"{path}: X has {len(X)} sequences but y has {len(y)} labels")
        labels = _npz_labels(y, path)
    return LabelledSequences(sequences, labels, str(path), "numeric", "y")


def _check_binary_file(path) -> None:
    p = Path(path)
    if not p.exists():
        raise DataError(f"{path}: no such file")
    if p.is_dir():
        raise DataError(f"{path}: is a directory, expected an .npz file")
    if p.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty, expected an .npz archive holding X and y")


def _npz_array(archive, name: str, path) -> np.ndarray:
    try:
        return archive[name]
    except ValueError:  # object arrays need pickle, which a data file must not run
        raise DataError(f"{path}: {name} holds Python objects; save it as a numeric or string array") from None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{path}: array {name} is unreadable or truncated ({type(error).__name__})") from None


def _check_X(X: np.ndarray, path) -> np.ndarray:
    if not (X.dtype == bool or np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
        raise DataError(f"{path}: X holds {X.dtype} values; expected real numbers")
    if X.ndim == 2:
        X = X[:, :, None]  # (N, T) -> (N, T, 1)
    if X.ndim != 3 or 0 in X.shape:
        raise DataError(f"{path}: X has shape {X.shape}; expected (N, T, F) or (N, T) with N, T, F >= 1")
    X = X.astype(np.float64)
    if np.isinf(X).any():
        i, t, _ = np.argwhere(np.isinf(X))[0]
        raise DataError(f"{path}: X[{i}, {t}] holds an infinite value")
    return X


def _npz_sequences(X: np.ndarray, path) -> list[np.ndarray]:
    """X (N, T, F) with trailing all-NaN steps -> N arrays (T_i, F) float32."""
    nan = np.isnan(X)  # (N, T, F)
    partial = nan.any(axis=2) & ~nan.all(axis=2)  # (N, T): some features missing, not all
    if partial.any():
        i, t = np.argwhere(partial)[0]
        raise DataError(f"{path}: X[{i}, {t}] holds NaN in some features but not all; "
                        "a step is either all values or all NaN (past the end of a shorter sequence)")  # fmt: skip
    lengths, gaps = _trailing_lengths(~nan.all(axis=2))
    if (lengths == 0).any():
        raise DataError(f"{path}: X[{int(np.argmin(lengths))}] holds no values (every step is NaN)")
    if (gaps >= 0).any():
        i = int(np.argmax(gaps >= 0))
        raise DataError(f"{path}: X[{i}, {gaps[i]}] is NaN before the end of sequence {i} (its last value is at "
                        f"step {lengths[i] - 1}); only trailing steps may be NaN (a shorter sequence)")  # fmt: skip
    return [X[i, : lengths[i]].astype(np.float32) for i in range(len(X))]


def _npz_labels(y: np.ndarray, path) -> list[str]:
    if np.issubdtype(y.dtype, np.floating):
        if np.isnan(y).any():
            raise DataError(f"{path}: y[{int(np.argmax(np.isnan(y)))}] is NaN; every sequence needs its class")
        if np.all(y == np.round(y)):
            y = y.astype(np.int64)  # 1.0 -> '1'
    elif not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool or y.dtype.kind in "US"):
        raise DataError(f"{path}: y holds {y.dtype} values; expected class labels as integers or strings")
    labels = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in y.tolist()]
    empty = [i for i, label in enumerate(labels) if not label.strip()]
    if empty:
        raise DataError(f"{path}: y[{empty[0]}] is an empty label; every sequence needs its class")
    return [label.strip() for label in labels]


# ---------------------------------------------------------------------------------------------------------
# .ts: the UCR/UEA time-series classification archive's format

_BOOLEAN_HEADERS = {"@timestamps", "@missing", "@univariate", "@equallength", "@targetlabel"}
_INTEGER_HEADERS = {"@serieslength", "@dimensions", "@dimension"}
_HEADERS = _BOOLEAN_HEADERS | _INTEGER_HEADERS | {"@problemname", "@classlabel", "@data"}


@dataclass
class _TsHeader:
    flags: dict = field(default_factory=dict)  # "@univariate" -> True ...
    numbers: dict = field(default_factory=dict)  # "@serieslength" -> 150 ...
    class_labels: Optional[list[str]] = None  # @classLabel true <labels>
    has_class_line: bool = False


def read_ts(path, *, labelled: bool = True) -> LabelledSequences:
    """A `.ts` file (sktime / UCR / UEA): header lines (@problemName, @timeStamps, @missing, @univariate,
    @equalLength, @seriesLength, @classLabel true <labels>), then @data, then one series a line: its
    dimensions separated by ':', each a comma-separated list of values ('?' = missing), the class label last.
    Lines starting with '#' are comments. Time-stamped series (@timeStamps true) are not supported."""
    text = _ts_text(path)
    header, sequences, labels = _TsHeader(), [], []
    first_dims, in_data = None, False
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = _ts_header_line(line, number, header, path)
            if in_data:
                has_labels = _ts_check_header(header, path, labelled)
            continue
        dims, label = _ts_split(line, number, has_labels, header, path)
        if first_dims is None:
            first_dims = len(dims)
            _ts_check_dimensions(first_dims, number, header, path)
        elif len(dims) != first_dims:
            raise DataError(f"{path}: line {number} has {len(dims)} dimensions, the first data line had {first_dims}")
        sequences.append(_ts_series(dims, number, path))
        labels.append(label)
    if not in_data:
        raise DataError(f"{path}: has no @data line; a .ts file has its header (@problemName, @classLabel, ...), "
                        "then @data, then one series a line")  # fmt: skip
    if not sequences:
        raise DataError(f"{path}: has a header but no series after @data")
    return LabelledSequences(sequences, labels if has_labels else None, str(path), "numeric", "",
                             declared_labels=header.class_labels)  # fmt: skip


def _ts_text(path) -> str:
    """read_text_file's checks, said of a .ts file rather than a CSV file."""
    try:
        return read_text_file(path)
    except DataError as error:
        message = str(error).replace("a CSV text file", "a .ts text file").replace("a CSV file", "a .ts file")
        message = message.replace("expected a header row and data rows", "expected @-header lines and series after @data")
        raise DataError(message) from None


def _ts_header_line(line: str, number: int, header: _TsHeader, path) -> bool:
    """Read one header line into `header`; True when it is @data."""
    if not line.startswith("@"):
        raise DataError(f"{path}: line {number} is not a header line ('@...') and comes before @data")
    key, *values = line.split()
    name = key.lower()
    if name not in _HEADERS:
        raise DataError(f"{path}: line {number}: unknown header '{key}'")
    if name == "@data":
        return True
    if name == "@problemname":
        return False
    if not values:
        raise DataError(f"{path}: line {number}: {key} has no value")
    if name in _INTEGER_HEADERS:
        if len(values) != 1 or not values[0].isdigit():
            raise DataError(f"{path}: line {number}: {key} expects a whole number, got '{' '.join(values)}'")
        header.numbers[name] = int(values[0])
        return False
    flag = values[0].lower()
    if flag not in ("true", "false"):
        raise DataError(f"{path}: line {number}: {key} expects true or false, got '{values[0]}'")
    if name == "@classlabel":
        header.has_class_line = True
        if flag == "true":
            if len(values) < 2:
                raise DataError(f"{path}: line {number}: @classLabel true must list the class labels after it")
            header.class_labels = values[1:]
        return False
    if len(values) != 1:
        raise DataError(f"{path}: line {number}: {key} expects true or false, got '{' '.join(values)}'")
    header.flags[name] = flag == "true"
    return False


def _ts_check_header(header: _TsHeader, path, labelled: bool) -> bool:
    """At @data: refuse what lstmkit cannot read; True when the data lines end with a class label."""
    if header.flags.get("@timestamps"):
        raise DataError(f"{path}: holds time-stamped series (@timeStamps true), which lstmkit does not read; "
                        "save the values without time stamps")  # fmt: skip
    if header.flags.get("@targetlabel"):
        raise DataError(f"{path}: holds regression targets (@targetLabel true), not class labels; "
                        "lstmkit classify needs labelled data")  # fmt: skip
    has_labels = header.class_labels is not None
    if labelled and not has_labels:
        if header.has_class_line:
            raise DataError(f"{path}: has no class labels (@classLabel false); lstmkit classify needs labelled data")
        raise DataError(f"{path}: has no class labels (no @classLabel line); lstmkit classify needs labelled data")
    return has_labels


def _ts_split(line: str, number: int, has_labels: bool, header: _TsHeader, path) -> tuple[list[str], Optional[str]]:
    """A data line -> its dimensions (text) and its class label (None without labels)."""
    parts = line.split(":")
    if not has_labels:
        return parts, None
    if len(parts) < 2:
        raise DataError(f"{path}: line {number} has no class label; each series ends with ':' and its label")
    label = parts[-1].strip()
    if label not in header.class_labels:
        raise DataError(f"{path}: line {number}: class label '{label}' is not one of the @classLabel labels "
                        f"({', '.join(header.class_labels)})")  # fmt: skip
    return parts[:-1], label


def _ts_check_dimensions(dims: int, number: int, header: _TsHeader, path) -> None:
    if header.flags.get("@univariate") and dims != 1:
        raise DataError(f"{path}: line {number} has {dims} dimensions, but the header says @univariate true")
    declared = header.numbers.get("@dimensions", header.numbers.get("@dimension"))
    if declared is not None and dims != declared:
        raise DataError(f"{path}: line {number} has {dims} dimensions, but the header says @dimensions {declared}")


def _ts_series(dims: list[str], number: int, path) -> np.ndarray:
    """The dimensions of one data line -> (T, D) float32, trailing missing values cut off."""
    columns = []
    for d, text in enumerate(dims, start=1):
        tokens = [token.strip() for token in text.split(",")]
        if tokens == [""]:
            raise DataError(f"{path}: line {number}, dimension {d} is empty")
        try:
            values = np.array(["nan" if token == "?" else token for token in tokens], dtype=np.float64)  # (T,)
            odd = np.flatnonzero(~np.isfinite(values))  # '?', or a literal nan / inf
            bad = next((int(j) for j in odd if tokens[j] != "?"), None)
        except ValueError:
            bad = next(j for j, token in enumerate(tokens) if not _is_number(token))
        if bad is not None:
            raise DataError(f"{path}: line {number}, dimension {d}: value {bad + 1} '{tokens[bad]}' is not a number "
                            "(missing values are written '?')")  # fmt: skip
        while len(values) and np.isnan(values[-1]):
            values = values[:-1]  # trailing '?': a shorter series
        if not len(values):
            raise DataError(f"{path}: line {number}, dimension {d} holds no values (every one is '?')")
        gap = np.isnan(values)
        if gap.any():
            raise DataError(f"{path}: line {number}, dimension {d}: value {int(np.argmax(gap)) + 1} is missing ('?') "
                            "before the end of the series; only trailing values may be missing")  # fmt: skip
        columns.append(values)
    if len({len(c) for c in columns}) > 1:
        counts = ", ".join(str(len(c)) for c in columns)
        raise DataError(f"{path}: line {number}: its dimensions have different lengths ({counts} values); "
                        "every dimension of a series needs the same number of values")  # fmt: skip
    return np.column_stack(columns).astype(np.float32)  # (T, D)


def _is_number(token: str) -> bool:
    if token == "?":
        return True
    try:
        return math.isfinite(float(token))
    except ValueError:
        return False
