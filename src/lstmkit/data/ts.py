"""Labelled sequences from a `.ts` file, the format of the UCR/UEA time-series classification archive.

    data = read_ts("GunPoint_TRAIN.ts")       # a LabelledSequences; `read_sequences` calls it for .ts files

Problems are `DataError`s naming the line (its line number in the file) and, in a data line, the dimension
and the value. Trailing '?' of a series make it shorter; a '?' before the end is an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..errors import DataError
from .csv_table import read_text_file
from .labelled_sequences import LabelledSequences

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
    Lines starting with "#" or "%" (as ARFF writes them) are comments. Time-stamped series (@timeStamps
    true) are not supported."""
    text = _ts_text(path)
    header, sequences, labels = _TsHeader(), [], []
    first_dims, in_data, equal_length = None, False, None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(("#", "%")):
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
        equal_length = _ts_check_equal_length(dims, number, header, equal_length, path)
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
    return read_text_file(path, ".ts", "@-header lines and series after @data")


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


def _ts_check_equal_length(dims: list[str], number: int, header: _TsHeader, length: Optional[int], path) -> Optional[int]:
    """With @equalLength true, every series holds the values (missing ones written '?') of @seriesLength, else
    of the first series; returns that length (None when the header makes no such promise)."""
    if not header.flags.get("@equallength"):
        return None
    written = len(dims[0].split(","))
    if length is None:
        length = header.numbers.get("@serieslength", written)
    if written != length:
        source = f"@seriesLength {length}" if "@serieslength" in header.numbers else f"the first series holds {length}"
        raise DataError(f"{path}: line {number} holds {written} values, but the header says @equalLength true ({source}); "
                        "pad the series with '?' or set @equalLength false")  # fmt: skip
    return length


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
