"""Series from a `.tsf` file, the format of the Monash time series forecasting archive (Godahewa et al. 2021:
M4, Tourism, electricity, traffic... as sktime's `load_tsf_to_dataframe` and GluonTS read them).

    table, rows, info = read_tsf_table("tourism_monthly_dataset.tsf", "visitors")
    info.frequency, info.horizon, info.id_col     # 'monthly', 24, 'series_name'

The table is long: a row per series and step, each attribute of the series in a column of its name
(`series_name`, ...), the step's time in a column 'time' (dates from the series' `start_timestamp` a
`@frequency` apart; without one, the step's number from 1), the value in a column named as the target.
Each row keeps the line number of its series' line. Problems are `DataError`s naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from ..errors import DataError
from .csv_table import read_text_file

TSF_TIME = "time"  # the column of the steps' times
_STEPS = {  # @frequency -> the step between two values, as the archive names them
    "yearly": pd.DateOffset(years=1), "quarterly": pd.DateOffset(months=3), "monthly": pd.DateOffset(months=1),
    "weekly": pd.DateOffset(weeks=1), "daily": pd.DateOffset(days=1), "hourly": pd.DateOffset(hours=1),
    "half_hourly": pd.DateOffset(minutes=30), "10_minutes": pd.DateOffset(minutes=10),
    "minutely": pd.DateOffset(minutes=1), "4_seconds": pd.DateOffset(seconds=4),
}  # fmt: skip
_ATTRIBUTE_TYPES = ("string", "numeric", "date")


@dataclass
class TsfInfo:
    """What a `.tsf` file's header says: its attributes (name -> type), `@frequency`, `@horizon`, the
    attribute that names each series (the first string attribute: `series_name`), the one that dates its
    first value (the first date attribute: `start_timestamp`); and how many series it holds."""

    attributes: dict = field(default_factory=dict)
    frequency: Optional[str] = None
    horizon: Optional[int] = None
    id_col: Optional[str] = None
    start: Optional[str] = None
    series: int = 0


def read_tsf_table(path, target: str) -> tuple[pd.DataFrame, np.ndarray, TsfInfo]:
    """(table, rows, info): the series of a `.tsf` file as a long table of text cells (see the module's
    docstring), their line numbers, and what its header says. A missing value ('?') is an empty cell."""
    text = read_text_file(path, "tsf", "header lines (@attribute, @frequency, ...), @data, then a series a line")
    info, columns, rows, in_data = TsfInfo(), {}, [], False
    target = str(target).strip()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = _header_line(line, number, info, path)
            if in_data:
                if not info.attributes:
                    raise DataError(f"{path}: line {number}: @data comes before any @attribute line; a .tsf file names "
                                    "the attributes of its series first (@attribute series_name string)")  # fmt: skip
                taken = set(info.attributes) & {target, TSF_TIME}
                if taken:
                    raise DataError(f"{path}: has an attribute '{taken.pop()}', the name of the column of its values "
                                    f"('{target}') or of their times ('{TSF_TIME}'); give another target")  # fmt: skip
                columns = {name: [] for name in (*info.attributes, TSF_TIME, target)}
            continue
        _data_line(line, number, info, columns, target, path)
        rows.append(number)
    if not in_data:
        raise DataError(f"{path}: has no @data line; expected a .tsf file: header lines (@attribute, @frequency, ...), "
                        "@data, then a series a line")  # fmt: skip
    if not info.series:
        raise DataError(f"{path}: has no series after @data")
    lengths = [len(values) for values in columns[target]]
    table = pd.DataFrame({name: np.concatenate(cells) if name in (TSF_TIME, target) else np.repeat(cells, lengths)
                          for name, cells in columns.items() if name != info.start})  # fmt: skip
    return table, np.repeat(np.asarray(rows, dtype=np.int64), lengths), info


def _header_line(line: str, number: int, info: TsfInfo, path) -> bool:
    """Read one header line into `info`; True at @data."""
    words = line.split()
    key = words[0].lower()
    if key == "@data":
        return True
    if key == "@attribute":
        if len(words) != 3 or words[2].lower() not in _ATTRIBUTE_TYPES:
            raise DataError(f"{path}: line {number}: expected '@attribute NAME TYPE', TYPE one of "
                            f"{', '.join(_ATTRIBUTE_TYPES)}; got '{line}'")  # fmt: skip
        info.attributes[words[1]] = words[2].lower()
        if info.id_col is None and words[2].lower() == "string":
            info.id_col = words[1]
        if info.start is None and words[2].lower() == "date":
            info.start = words[1]
    elif key == "@frequency":
        info.frequency = words[1].lower() if len(words) > 1 else None
        if info.frequency not in _STEPS:
            raise DataError(f"{path}: line {number}: unknown @frequency '{' '.join(words[1:])}'; expected one of "
                            f"{', '.join(_STEPS)}")  # fmt: skip
    elif key == "@horizon":
        if len(words) != 2 or not words[1].isdigit() or int(words[1]) < 1:
            raise DataError(f"{path}: line {number}: @horizon takes a whole number of steps, got '{line}'")
        info.horizon = int(words[1])
    elif key not in ("@relation", "@missing", "@equallength"):
        raise DataError(f"{path}: line {number}: unknown header line '{line[:60]}'; expected @relation, @attribute, "
                        "@frequency, @horizon, @missing, @equallength or @data")  # fmt: skip
    return False


def _data_line(line: str, number: int, info: TsfInfo, columns: dict, target: str, path) -> None:
    """One series: its attributes' values, each followed by ':', then its values separated by ','."""
    parts = line.split(":", len(info.attributes))
    if len(parts) != len(info.attributes) + 1:
        raise DataError(f"{path}: line {number} has {len(parts) - 1} attribute values before its series, the header "
                        f"names {len(info.attributes)} ({', '.join(info.attributes)})")  # fmt: skip
    *attributes, values = parts
    cells = np.asarray([value.strip() for value in values.split(",")], dtype=object)
    cells[cells == "?"] = ""
    if not len(cells) or (cells == "").all():
        raise DataError(f"{path}: line {number} has no value after its attributes")
    for name, value in zip(info.attributes, attributes):
        columns[name].append(value.strip())
        if name == info.start:
            start = pd.to_datetime(value.strip(), format="%Y-%m-%d %H-%M-%S", errors="coerce")
            if pd.isna(start):
                raise DataError(f"{path}: line {number}: {name} '{value.strip()}' is no date written as the archive "
                                "writes them (1979-01-01 00-00-00)")  # fmt: skip
            if info.frequency is None:
                raise DataError(f"{path}: line {number}: a series with a {name} needs the file's @frequency, and "
                                "the header gives none")  # fmt: skip
            times = pd.date_range(start, periods=len(cells), freq=_STEPS[info.frequency])
            columns[TSF_TIME].append(times.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "", regex=False))
    if info.start is None:
        columns[TSF_TIME].append(np.arange(1, len(cells) + 1).astype(str))
    columns[target].append(cells)
    info.series += 1
