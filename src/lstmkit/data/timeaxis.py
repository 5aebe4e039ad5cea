"""The time column of a series: its cells read as dates or integers, checked for repeated times; the
frequency and the gaps of the sorted time axis; and the format its cells are written in.

    time = parse_time(table["Month"], rows, "Month", path)    # DatetimeIndex, or an integer Index (years)
    time = parse_time(table["Day"], rows, "Day", path, "%d/%m/%Y")   # in a given format (--time-format)
    check_unique_times(time, rows, "Month", path)              # a DataError naming the rows of a repeated time
    freq, gaps = infer_freq_and_gaps(time.sort_values())       # 'MS', ["3 missing steps between ... and ..."]
    written = written_format(table["Month"], time)              # '%b %Y' for 'Jan 1949': later times written alike
    format_time(time[-1], written)                              # 'May 1949'
    table, key = time_columns(table, "year,quarter", path)     # a time split over columns, as one column 'year,quarter'
    frame = split_time_columns(frame, key, "%Y,%q")             # and back in its columns, in a frame of forecasts

Tables laid out otherwise are read into a series' rows: `months_of_years` (a year a row, a month a column),
`times_across` (a series a row, a time a column), `index_time_column` (an unnamed first column of times:
pandas' index).
"""

from __future__ import annotations

import calendar
import functools
import itertools
import re
import warnings
from typing import Optional

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from ..errors import DataError
from .csv_table import MISSING_TOKENS, and_list, distinct, find_column, join_columns, parse_numbers, spread_column

_INTEGER = r"[+-]?\d+"
_WHOLE_DECIMAL = r"\.0*"  # '1871.0': a year written by a tool that stores numbers as floats (pandas, R, Excel)
_WHOLE = _INTEGER + f"(?:{_WHOLE_DECIMAL})?"  # an integer, or one written as a whole decimal
FORMATS_SEPARATOR = ";"  # between the formats of a `time_format` for a column of mixed formats
# quarters as R's tsibble and many spreadsheets write them ('1970 Q1', 'Q1 1970'), which pandas reads only as
# '1970Q1' or '1970-Q1'
_QUARTER_YEAR_FIRST = r"(?i)\s*(\d{4})\s+(Q[1-4])\s*"
_QUARTER_FIRST = r"(?i)\s*(Q[1-4])[\s/-]+(\d{4})\s*"
_ISO_WEEK = r"(?i)\s*(\d{4})-?W(\d{2})\s*"  # ISO 8601's weeks, as Eurostat writes them ('2018-W01', '2018W01')
_MONTH_CODE = r"(?i)\s*(\d{4})-?M(\d{1,2})\s*"  # months as Eurostat, the IMF and Stata write them ('2020M01', '1949m1')
# a time split over columns (`time_columns`), their cells joined by ',': a year, its quarter ('1959,1', '1959,Q1')
# or month ('1959,12', '1959,Dec'), and the month's day ('2020,1,31')
_JOINED = r"(?i)\s*(\d{4})\s*,\s*(q?\d{1,2}|[a-z]{3,9})\s*(?:,\s*(\d{1,2})\s*)?"
JOIN = ","  # between the cells of a time split over columns, and their names


def parse_time(cells: pd.Series, rows: np.ndarray, name: str, path, time_format: Optional[str] = None) -> pd.Index:
    """(R,) time axis from text cells: an integer Index when every cell is an integer (years, step numbers;
    '1871.0' reads as 1871), else a DatetimeIndex, in `time_format` (strftime codes) when given, else in the format of the first cell.

    A cell that cannot be read is a DataError with its row. So is a column whose dates could be read two ways,
    day and month swapped: formats mixed so that a cell reads as either date ('1949-01-01' then '02/01/1949'),
    or one format whose every date fits both orders ('02/01/1949', '03/01/1949', ...). Either would silently
    reorder the series; the message names the rows and asks for `time_format`."""
    empty = (cells == "").to_numpy()
    if empty.any():
        row = rows[int(np.argmax(empty))]
        raise DataError(f"{path}: column '{name}' has no time at row {row} (empty cell); fill it in or remove that row")
    if time_format is not None:
        return _parse_with_format(cells, rows, name, path, time_format)
    whole = cells.str.fullmatch(_WHOLE).to_numpy()
    compact = _compact_dates(cells)
    if compact is not None:
        return pd.DatetimeIndex(compact, name=name)
    if whole.all():
        try:
            return pd.Index(cells.str.replace(_WHOLE_DECIMAL + "$", "", regex=True).astype(np.int64).to_numpy(), name=name)
        except (OverflowError, ValueError):
            pass  # too large for int64: try them as dates
    elif cells.str.fullmatch(_INTEGER + r"(?:\.\d*)?").all():  # numbers, not all whole: a fraction
        i = int(np.argmax(~whole))
        raise DataError(f"{path}: column '{name}' cannot be read as time at row {rows[i]} (value '{cells.iloc[i]}'): "
                        "a number of time steps must be whole (e.g. years)")  # fmt: skip
    coded = _joined_periods(cells, rows, name, path)
    coded = _coded_periods(cells, rows, name, path) if coded is None else coded
    parsed = coded if coded is not None else _dates(_quarters_as_pandas_reads_them(cells, rows, name, path), rows, name, path)
    unparsed = parsed.isna().to_numpy()
    if unparsed.any():
        i = int(np.argmax(unparsed))
        raise DataError(
            f"{path}: column '{name}' cannot be read as time at row {rows[i]} (value '{cells.iloc[i]}'); "
            f"expected dates (e.g. 1949-01) or integers (e.g. years){_totals(cells.iloc[i])}"
        )
    return pd.DatetimeIndex(parsed, name=name)


_TOTALS = re.compile(r"(?i).*\b(?:total|totals|subtotal|sum|grand total)\b.*")  # a spreadsheet's 'Total', '2019 Total'


def _totals(cell: str) -> str:
    """A hint for a time cell that names a row of totals (a spreadsheet's export often ends with one)."""
    return "; that row looks like a total of the rows above: remove it" if _TOTALS.fullmatch(cell) else ""


def time_columns(table: pd.DataFrame, time_col: Optional[str], path) -> tuple[pd.DataFrame, Optional[str]]:
    """The table with its time column, and the column's name (None without one). `time_col` names one column,
    or several separated by commas where the time is split over them, as statistics offices and statsmodels'
    datasets write it: a year and its quarter or month (`year,quarter`), and the month's day. Their cells are
    joined with `JOIN` into one column named `time_col` in their place, which `parse_time` reads and
    `split_time_columns` writes back as the columns it came from."""
    if time_col is None:
        return table, None
    if str(time_col).strip() in table.columns or JOIN not in str(time_col):
        return table, find_column(list(table.columns), time_col, path)
    names = [find_column(list(table.columns), name, path) for name in str(time_col).split(JOIN) if name.strip()]
    if not 2 <= len(names) <= 3 or len(set(names)) < len(names):
        raise DataError(f"`time_col` gives the columns {JOIN.join(names)}; a time split over columns is given as a "
                        "year's, then its quarter's or month's (and the month's day's), e.g. year,quarter")  # fmt: skip
    return join_columns(table, names, JOIN)


def index_time_column(table: pd.DataFrame, rows: np.ndarray, time_col: Optional[str]):
    """(table, time_col, note): where no `time_col` is given and the first column is unnamed, as pandas' `to_csv`
    writes a series' index (',Passengers'), and holds dates, or whole numbers other than row numbers (years),
    that column renamed 'time' (where no other is), as the time column, and a note saying so; else the table
    and `time_col` as they are, and no note."""
    first = table.columns[0] if len(table.columns) else None
    if time_col is not None or first is None or not re.fullmatch(r"(?:Unnamed: 0)?", first):
        return table, time_col, None
    try:
        time = parse_time(table[first], rows, first, "")
    except DataError:
        return table, None, None
    steps = time.to_numpy()
    if not isinstance(time, pd.DatetimeIndex) and any(np.array_equal(steps, np.arange(len(steps)) + k) for k in (0, 1)):
        return table, None, None  # row numbers (pandas' default index, R's row names)
    name = "time" if "time" not in table.columns else first
    note = (f"the first column, unnamed (as pandas' to_csv writes an index), holds the times "
            f"({table[first].iloc[0]} to {table[first].iloc[-1]}): read as the time column, '{name}'")  # fmt: skip
    return table.rename(columns={first: name}), name, note


_MONTH_NUMBERS = {name.lower(): k for k in range(1, 13) for name in (calendar.month_abbr[k], calendar.month_name[k])}


def months_of_years(table: pd.DataFrame, rows: np.ndarray, target: str, time_col: Optional[str], path):
    """(table, rows, time_col, note): a table of a year a row and a month a column (NOAA's, BLS's and statsmodels'
    elnino: `YEAR,JAN,...,DEC`, other columns such as an annual mean left), read for a `target` that names
    none of its columns, as one monthly series: a row a month, the time in a column 'month' (`time_col`, if
    given, names the years' column), the values in one named `target`, cells after the last value and
    before the first left out (this year's months to come), and a note saying so. Each row keeps its line's
    number. Any other table comes back as it is, with no note."""
    months = [next((c for c in table.columns if _MONTH_NUMBERS.get(c.lower()) == k), None) for k in range(1, 13)]
    if str(target).strip() in table.columns or None in months:
        return table, rows, time_col, None
    years = next((c for c in table.columns if c not in months and table[c].str.fullmatch(r"\d{4}").all()), None)
    if years is None:
        return table, rows, time_col, None
    if time_col is not None and str(time_col).strip() != years:
        raise DataError(f"{path}: has a year a row and a month a column, read as one monthly series of '{target}'; its "
                        f"time is in the years' column '{years}' and the months', not '{time_col}': leave `time_col` out")  # fmt: skip
    cells = table[months].to_numpy().ravel()  # year by year, month by month
    given = np.flatnonzero(~pd.Series(cells).str.lower().isin(MISSING_TOKENS).to_numpy())
    kept = slice(given[0], given[-1] + 1) if len(given) else slice(0, 0)
    month = pd.Series(np.repeat(table[years].to_numpy(), 12)) + "-" + pd.Series(np.tile([f"{k:02d}" for k in range(1, 13)], len(table)))
    name = "month" if str(target).strip() != "month" else "time"
    melted = pd.DataFrame({name: month.to_numpy()[kept], str(target).strip(): cells[kept]})
    note = (f"a year a row and a month a column ('{years}', then {months[0]} to {months[-1]}): read as one monthly "
            f"series of {len(melted)} months, '{melted.columns[1]}'")  # fmt: skip
    return melted, np.repeat(rows, 12)[kept], name, note


_YEAR_IN_NAME = re.compile(r"(?<!\d)[12]\d{3}(?!\d)")
_FEWEST_TIMES = 3  # columns named by times that `times_across` reads as a time a column


def _times_named(columns, steps: bool) -> dict[str, str]:
    """The columns named by times ('1960', '2020M01', '2020-Q1', 'Jan 2020', '2020-01-31'), in time order, each
    with its name as its time, where at least `_FEWEST_TIMES` are and their names read as one time axis; else,
    where `steps` (an id column names each row), those named by the consecutive numbers of steps after one
    prefix ('V2', 'V3', ..., as the M4 competition's files; '1', '2', ...), each with its number as its time;
    else {}."""
    names = [name for name in columns if len(name) <= 20 and _YEAR_IN_NAME.search(name)]
    if len(names) >= _FEWEST_TIMES:
        try:
            times = parse_time(pd.Series(names), np.arange(len(names)), "", "")
            if times.is_unique:
                return {names[k]: names[k] for k in time_order(times)}
        except DataError:
            pass
    numbered: dict = {}
    for name in columns if steps else ():
        found = re.fullmatch(r"(\D*?)(\d+)", name)
        if found:
            numbered.setdefault(found.group(1), []).append((int(found.group(2)), name))
    named = sorted(max(numbered.values(), key=len, default=[]))
    if len(named) < _FEWEST_TIMES or named[-1][0] - named[0][0] != len(named) - 1:
        return {}
    return {name: str(number) for number, name in named}


def times_across(table: pd.DataFrame, rows: np.ndarray, target: str, id_col: Optional[str], time_col: Optional[str],
                 path):  # fmt: skip
    """(table, rows, time_col, note): a table of a series a row and a time a column (the World Bank's exports,
    `Country Name,Country Code,...,1960,1961,...`, Eurostat's TSV files and the IMF's World Economic Outlook
    tables; the M4 competition's, a step a column, `V1,V2,V3,...`: `_times_named`), read for a `target` that
    names none of its columns, as a long table: a row per series and time, the id in `id_col` (None: the
    table's one row is the series), the times (the columns' names) in a column 'time', the values in one named
    `target`. A row's cells before its first value and after its last are left out (years before a series
    starts, or not yet published; the M4 competition's shorter series), and so is a row with no value; other
    columns (a code, the indicator's name) are not read. Each row keeps its line's number, and the note says
    how the table was read. Any other table comes back as it is, with no note."""
    target = str(target).strip()
    if target in table.columns:
        return table, rows, time_col, None
    one_each = id_col is not None and distinct(table[id_col])  # a row per series, named
    times = _times_named([name for name in table.columns if name != id_col], steps=one_each)
    if not times:
        return table, rows, time_col, None
    names = list(times)
    across = f"a series a row and a time a column ({names[0]} to {names[-1]})"
    if time_col is not None:
        raise DataError(f"{path}: has {across}, read as series of '{target}'; its times are the columns' names, not a "
                        f"column '{time_col}': leave `time_col` out")  # fmt: skip
    others = [name for name in table.columns if name not in names and name != id_col]
    if id_col is None and len(table) > 1:
        named = next((name for name in others if distinct(table[name])), None)
        hint = f" ('{named}' holds a different name on each row)" if named else ""
        raise DataError(f"{path}: has {across}, {len(table)} rows: give the column that names each row's series as "
                        f"`id_col`{hint}")  # fmt: skip
    for column in names:
        parse_numbers(table[column], rows, column, path)  # a cell that is no number, named by its own column
    cells = table[names]
    given = (~cells.apply(lambda column: column.str.lower().isin(MISSING_TOKENS))).to_numpy()  # (R, T)
    steps = np.arange(len(names))
    first = np.where(given.any(axis=1), given.argmax(axis=1), len(names))
    last = len(names) - 1 - given[:, ::-1].argmax(axis=1)
    kept = (steps[None, :] >= first[:, None]) & (steps[None, :] <= last[:, None])
    r, t = np.nonzero(kept)  # series by series, in time order
    time_name = "time" if "time" not in (id_col, target) else "period"
    long = pd.DataFrame({time_name: np.asarray(list(times.values()))[t], target: cells.to_numpy()[r, t]})
    if id_col is not None:
        long.insert(0, id_col, table[id_col].to_numpy()[r])
    empty = int((first == len(names)).sum())
    skipped = [column for column in others if not table[column].eq("").all()]  # not one of no value (a trailing ',')
    unread = ", ".join(map(repr, skipped[:4])) + " and others" if len(skipped) > 4 else skipped and and_list(map(repr, skipped))
    note = (f"{across}: read as {len(np.unique(r))} series of '{target}' over the times the columns name"
            + (f", {unread} not read" if skipped else "")
            + (f"; {empty} row{'s' if empty > 1 else ''} with no value left out (first: row "
               f"{rows[int(np.argmax(first == len(names)))]})" if empty else ""))  # fmt: skip
    return long, rows[r], time_name, note


def _joined_periods(cells: pd.Series, rows: np.ndarray, name: str, path) -> Optional[pd.Series]:
    """Cells of a time split over columns (`time_columns`) as dates: a year and its quarter (1-4, Q1-Q4, read
    as quarters where every number is at most 4 and no day follows) or month (1-12, or its English name), and
    the month's day; None where the first cell is none. A DataError names the first cell out of range."""
    if not re.fullmatch(_JOINED, cells.iloc[0]):
        return None
    _check_written_alike(cells, _JOINED, "a year and its quarter or month", rows, name, path)
    parts = cells.str.extract(_JOINED)
    second, day = parts[1].str.lower(), parts[2]
    quarters = second.str.startswith("q").all() or (second.str.isdigit().all() and day.isna().all()
                                                     and pd.to_numeric(second).max() <= 4)  # fmt: skip
    numbers = pd.to_numeric(second.str.removeprefix("q"), errors="coerce").fillna(second.map(_MONTH_NUMBERS))
    wrong = (numbers.isna() | ~numbers.between(1, 4 if quarters else 12) | (day.isna() != day.isna().iloc[0])).to_numpy()
    if wrong.any():
        i = int(np.argmax(wrong))
        expected = "its quarter (1-4)" if quarters else "its month (1-12 or its name)"
        raise DataError(f"{path}: column '{name}' cannot be read as time at row {rows[i]} (value '{cells.iloc[i]}'); "
                        f"expected a year and {expected}{'' if day.isna().iloc[0] else ', then the day'}")  # fmt: skip
    months = (numbers - 1) * 3 + 1 if quarters else numbers
    dates = parts[0] + "-" + months.astype(int).astype(str) + "-" + day.fillna("1")
    return _to_datetime_with(dates, "%Y-%m-%d")  # NaT for a day past its month's end: the caller names it


def split_time_columns(frame: pd.DataFrame, name: str, written: Optional[str]) -> pd.DataFrame:
    """`frame` with its column `name` of times read from a time split over columns (`time_columns`: the name
    joins theirs) written back, in the format `written` (`written_format`'s), as those columns in its place,
    whole numbers as integers; any other frame as it is."""
    if name not in frame.columns or JOIN not in name or written is None:
        return frame
    parts = pd.Series(format_times(frame[name], written), index=frame.index).str.split(JOIN, expand=True)
    return spread_column(frame, name, {column: parts[k].astype(np.int64) if parts[k].str.isdigit().all() else parts[k]
                                       for k, column in enumerate(name.split(JOIN))})  # fmt: skip


def _compact_dates(cells: pd.Series) -> Optional[pd.Series]:
    """Cells that are all dates written as whole numbers, YYYYMMDD or YYYYMM (years 1800 to 2199; weather
    services and statistics offices write them so), as dates; else None (integers: years, step numbers)."""
    for digits, fmt in ((8, "%Y%m%d"), (6, "%Y%m")):
        pattern = rf"(?:18|19|20|21)\d{{{digits - 2}}}"
        if re.fullmatch(pattern, cells.iloc[0]) and cells.str.fullmatch(pattern).all():  # the first cell, at once
            parsed = _to_datetime_with(cells, fmt)
            if parsed.notna().all():
                return parsed
    return None


# periods written as a year and a coded number, which pandas misreads ('2020-M01' as a second) or not at all:
# (pattern, what it names, the cells as pandas reads them in `format`)
_CODED = ((_ISO_WEEK, "an ISO week", r"\1-W\2-1", "%G-W%V-%u"),  # a week's Monday
          (_MONTH_CODE, "a month", r"\1-\2", "%Y-%m"))  # fmt: skip


def _coded_periods(cells: pd.Series, rows: np.ndarray, name: str, path) -> Optional[pd.Series]:
    """Cells that name ISO weeks ('2018-W01', '2018W01'; each week's Monday) or months ('2020M01', '1949m1') as
    the first one does, as dates; None where the first names neither. A DataError names the first cell that
    is no such period where the first one is."""
    for pattern, what, written, format in _CODED:
        if re.fullmatch(pattern, cells.iloc[0]):
            _check_written_alike(cells, pattern, what, rows, name, path)
            return _to_datetime_with(cells.str.replace(pattern, written, regex=True), format)
    return None


def _check_written_alike(cells: pd.Series, pattern: str, what: str, rows: np.ndarray, name: str, path) -> None:
    """A DataError naming the first cell that does not match `pattern`, which the first cell matches (`what`
    it names: "a quarter")."""
    other = ~cells.str.fullmatch(pattern).to_numpy()
    if other.any():
        i = int(np.argmax(other))
        raise DataError(f"{path}: column '{name}' cannot be read as time at row {rows[i]} (value '{cells.iloc[i]}'); "
                        f"expected {what}, as row {rows[0]} has it ('{cells.iloc[0]}'){_totals(cells.iloc[i])}")  # fmt: skip


def _quarters_as_pandas_reads_them(cells: pd.Series, rows: np.ndarray, name: str, path) -> pd.Series:
    """Cells that name quarters as '1970 Q1' or 'Q1 1970', as the first one does, written '1970-Q1'; other
    cells as they are. A DataError names the first cell that is no quarter where the first one is."""
    for pattern, year, quarter in ((_QUARTER_YEAR_FIRST, 1, 2), (_QUARTER_FIRST, 2, 1)):
        if re.fullmatch(pattern, cells.iloc[0]):
            _check_written_alike(cells, pattern, "a quarter", rows, name, path)
            return cells.str.replace(pattern, lambda m: f"{m.group(year)}-{m.group(quarter).upper()}", regex=True)
    return cells


def _dates(cells: pd.Series, rows: np.ndarray, name: str, path) -> pd.Series:
    """The cells as dates (NaT where a cell is none) in the first cell's format, month first where both fit;
    day first when only that reads every cell; each cell on its own when formats are mixed. A DataError when
    day and month could be swapped."""
    parsed = _to_datetime_with(cells, None)  # the format pandas infers from the first cell, month first
    swapped = _swapped_format(cells.iloc[0])
    if parsed.isna().any() and swapped is not None:  # '12/01/2020' then '13/01/2020': the data says day first
        day_first = _to_datetime_with(cells, swapped)
        parsed = day_first if day_first.notna().all() else parsed
    if parsed.isna().any():  # formats mixed, or cells that are no date at all
        mixed = _mixed_dates(cells, rows, name, path, parsed)
        return mixed if mixed.isna().sum() < parsed.isna().sum() else parsed
    if swapped is not None:
        _check_day_and_month_apart(cells, rows, name, path, parsed, swapped)
    return parsed


def _parse_with_format(cells: pd.Series, rows: np.ndarray, name: str, path, time_format: str) -> pd.DatetimeIndex:
    """Cells in `time_format`: strftime codes, or several formats separated by ';', each cell read with the first
    that fits (for a column of mixed formats)."""
    formats = [f.strip() for f in time_format.split(FORMATS_SEPARATOR) if f.strip()]
    parsed = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    for fmt in formats:
        unread = parsed.isna()
        parsed = parsed.where(~unread, _to_datetime_with(cells[unread], fmt).reindex(cells.index))
    unparsed = parsed.isna().to_numpy()
    if unparsed.any():
        i = int(np.argmax(unparsed))
        raise DataError(f"{path}: column '{name}' has '{cells.iloc[i]}' at row {rows[i]}, which is not in the "
                        f"`time_format` {time_format!r}")  # fmt: skip
    return pd.DatetimeIndex(parsed, name=name)


def _mixed_dates(cells: pd.Series, rows: np.ndarray, name: str, path, first_format: pd.Series) -> pd.Series:
    """Cells of several formats, each read on its own; a DataError when a cell reads one way month first and
    another day first, naming the first row, the first row written otherwise and that cell, and suggesting
    the column's formats, day first and month first."""
    month_first, day_first = (_to_datetime_with(cells, "mixed", dayfirst=d) for d in (False, True))
    differ = (month_first != day_first).to_numpy() & month_first.notna().to_numpy() & day_first.notna().to_numpy()
    if not differ.any():
        return month_first
    i, j = int(np.argmax(differ)), int(np.argmax(first_format.isna().to_numpy()))
    day, month = (FORMATS_SEPARATOR.join(_formats_in(cells, dayfirst)) for dayfirst in (True, False))
    raise DataError(
        f"{path}: column '{name}' mixes date formats (row {rows[0]} '{cells.iloc[0]}', row {rows[j]} '{cells.iloc[j]}') "
        f"and '{cells.iloc[i]}' at row {rows[i]} reads as {format_time(month_first.iloc[i])} or "
        f"{format_time(day_first.iloc[i])}; write every date alike, or give the formats with `time_format`: "
        f"'{day}' (day first) or '{month}' (month first)"
    )


def _formats_in(cells: pd.Series, dayfirst: bool, most: int = 5) -> list[str]:
    """The formats of a column of mixed formats, in order of first appearance, as strftime codes."""
    formats, unread = [], cells
    while len(unread) and len(formats) < most:
        fmt = _format_of(unread.iloc[0], dayfirst)
        if fmt is not None and fmt.startswith("%Y"):  # year first is ISO's order: month, then day
            fmt = _format_of(unread.iloc[0], dayfirst=False)
        if fmt is None:
            break
        formats.append(fmt)
        unread = unread[_to_datetime_with(unread, fmt).isna()]
    return formats


def _swapped_format(cell: str) -> Optional[str]:
    """The format of `cell` (month first where both fit) with day and month swapped; None for a format without
    both, or a year-first one (ISO's order, never swapped)."""
    written = _format_of(cell, dayfirst=False)
    if written is None or written.startswith("%Y") or "%d" not in written or "%m" not in written:
        return None
    return written.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _check_day_and_month_apart(cells: pd.Series, rows: np.ndarray, name: str, path, parsed: pd.Series, swapped: str) -> None:
    """A DataError when the column, read in one format, reads in full with day and month swapped as well
    (`swapped`): it does not say which it is."""
    written = _format_of(cells.iloc[0], dayfirst=False)
    other = _to_datetime_with(cells, swapped)
    differ = (other != parsed).to_numpy()
    if other.isna().any() or not differ.any():
        return
    i = int(np.argmax(differ))
    raise DataError(
        f"{path}: column '{name}' has dates whose day and month cannot be told apart ('{cells.iloc[i]}' at row "
        f"{rows[i]} reads as {format_time(parsed.iloc[i])} or {format_time(other.iloc[i])}); give the format with "
        f"`time_format`, {written} or {swapped}"
    )


@functools.lru_cache(maxsize=4096)  # the series of a panel mostly start alike: their first cells are guessed once
def _format_of(cell: str, dayfirst: bool = True) -> Optional[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Parsing dates in %d/%m/%Y format when dayfirst=False"
        return guess_datetime_format(cell, dayfirst=dayfirst)


def _to_datetime_with(cells: pd.Series, format: Optional[str], dayfirst: bool = False) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format", dateutil fallbacks
        for utc in (False, True):  # utc=True only for mixed time zones (a summer time's +02:00 and +01:00)
            try:
                parsed = pd.to_datetime(cells, errors="coerce", format=format, utc=utc, dayfirst=dayfirst)
            except (ValueError, TypeError, OverflowError):
                continue
            if pd.api.types.is_datetime64_any_dtype(parsed):  # pandas 2 gives mixed offsets as objects
                return parsed
    return pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")


QUARTER_CODE = "%q"  # in a time column's written format (`written_format`): the quarter's number, 1 to 4
_QUARTER_CELL = r"(?i)\s*(?:\d{4}[\s/-]*Q[1-4]|Q[1-4][\s/-]*\d{4})\s*"  # '1970 Q1', '1970Q1', 'Q1 1970', 'Q1/1970'
# months as spreadsheets and statistics offices write them, which pandas reads but does not guess the format of
_MONTHS_WRITTEN = ["%b %Y", "%B %Y", "%Y %b", "%Y %B", "%b-%Y", "%b-%y", "%Y-%b", "%Y/%m", "%m/%Y", "%m-%Y", "%Y%m"]
_CHECKED = 24  # `written_format` checks the first and the last this many cells


def written_format(cells: pd.Series, time: pd.Index, time_format: Optional[str] = None) -> Optional[str]:
    """The format in which a time column's cells are written (strftime codes, `QUARTER_CODE` for a quarter's
    number: '%b %Y' for 'Jan 1980', '%Y Q%q' for '1980 Q1'), so that times after them can be written alike;
    `time` is the cells read, in their order. None for integers (written as they are) and where no format
    gives the first and the last cells back as written (case aside): `format_time` then writes ISO dates."""
    if not isinstance(time, pd.DatetimeIndex) or len(cells) == 0:
        return None
    first = cells.iloc[0].strip()
    candidates = [f.strip() for f in (time_format or "").split(FORMATS_SEPARATOR) if f.strip()]
    if re.fullmatch(_ISO_WEEK, first):
        candidates.append(re.sub(r"(?i)(\d{4})(-?)(w)\d{2}", r"%G\2\3%V", first))
    month = re.fullmatch(r"(?i)\s*\d{4}(-?m)\d{1,2}\s*", first)
    if month:  # '1949m1' or '1949m01': the cells checked tell; where both fit (October to December), Stata's
        # lower-case m goes unpadded, Eurostat's and the IMF's M padded
        codes = ["%-m", "%m"] if "m" in month.group(1) else ["%m", "%-m"]
        candidates += [f"%Y{month.group(1)}{code}" for code in codes]
    joined = re.fullmatch(_JOINED, first)
    if joined:  # a time split over columns: each column's cells as they were written
        second = joined.group(2)
        codes = ([second[0] + "0" * (len(second) - 2) + QUARTER_CODE] if second[0] in "qQ"  # 'Q1', the BLS's 'Q01'
                 else [QUARTER_CODE, "%m", "%-m"] if second.isdigit() else ["%b", "%B"])  # fmt: skip
        days = [""] if joined.group(3) is None else [JOIN + "%d", JOIN + "%-d"]
        candidates += [f"%Y{JOIN}{code}{day}" for code in codes for day in days]
    if re.fullmatch(_QUARTER_CELL, first):
        candidates.append(re.sub(r"\d{4}", "%Y", re.sub(r"(?i)(q)[1-4]", r"\g<1>" + QUARTER_CODE, first)))
    guessed = [f for f in (_format_of(first, dayfirst=False), _format_of(first, dayfirst=True)) if f is not None]
    unpadded = [f.replace("%m", "%-m").replace("%d", "%-d") for f in guessed]  # '3/1/2020' (glibc's codes)
    utc = re.search(r"(?i)(z|[+-]00:?00)$", first)  # UTC as ISO 8601 writes it ('Z', '+00:00'): strftime's %z writes +0000
    zulu = [f.replace("%z", utc.group(1)) for f in guessed if utc]
    candidates += guessed + unpadded + zulu + _MONTHS_WRITTEN
    checked = np.r_[0 : min(_CHECKED, len(cells)), max(0, len(cells) - _CHECKED) : len(cells)]
    written, times = cells.iloc[checked].str.strip().str.lower().tolist(), time[checked]
    for fmt in dict.fromkeys(candidates):
        try:
            if [text.lower() for text in format_times(times, fmt)] == written:
                return fmt
        except ValueError:  # a code strftime does not know
            continue
    return None


def format_times(times, written: str) -> list[str]:
    """`format_time` of each of `times` (timestamps) in the format `written`, at once where it names no quarter."""
    if QUARTER_CODE in written:
        return [format_time(t, written) for t in times]
    return list(pd.DatetimeIndex(times).strftime(written))


def format_time(t, written: Optional[str] = None) -> str:
    """A time as a user writes it: in the format `written` (`written_format`'s) when given, else 1950-01-01 for
    midnight, 1950-01-01 06:00:00 otherwise, 1700 for integers."""
    if isinstance(t, pd.Timestamp):
        if written is not None:
            return t.strftime(written.replace(QUARTER_CODE, str((t.month - 1) // 3 + 1)))
        return t.strftime("%Y-%m-%d") if t == t.normalize() and t.tz is None else str(t)
    return str(t)


def time_order(time: pd.Index) -> np.ndarray:
    """The positions that sort a time axis, equal times kept in their order."""
    return np.argsort(time.asi8 if isinstance(time, pd.DatetimeIndex) else time.to_numpy(), kind="stable")


def check_unique_times(time: pd.Index, rows: np.ndarray, name: str, path, table: Optional[pd.DataFrame] = None,
                       read: tuple = (), id_col: Optional[str] = None, ids: bool = True) -> None:  # fmt: skip
    """A DataError naming the rows of the first repeated time. Where `table`, the rows the times came from,
    has a column that tells the repeated times apart, the message names it: a column of quarters or months
    beside years (a year in one column, its quarter in the next) to join to them; another to give as the
    series' id (`id_col`: the one the table's series has been told apart by, if any), or, where the reader
    takes no id (`ids` False: the anomaly detector watches one series), to keep one series' rows of. `read`:
    the columns whose values are read (the target, the features), never taken for such a column."""
    duplicated = time.duplicated(keep=False)
    if not duplicated.any():
        return
    first = time[int(np.argmax(duplicated))]
    where = rows[np.flatnonzero(time == first)]
    times = "twice" if len(where) == 2 else f"{len(where)} times"
    hint = "" if table is None else _split_time_hint(time, table, (name, *read)) or _id_hint(time, table, (name, *read), id_col, ids)
    hint = hint or _clock_change_hint(time, first, len(where))
    raise DataError(f"{path}: column '{name}' has the time {format_time(first)} {times} (rows {and_list(where)}){hint}")


def _clock_change_hint(time: pd.Index, repeated, count: int) -> str:
    """'; if these are local times ...' where an hour of the night repeats once on a time axis of hours or
    finer without a time zone: a summer time's end, whose local hour comes twice; else ''."""
    if not isinstance(time, pd.DatetimeIndex) or time.tz is not None or count != 2 or repeated.hour > 3:
        return ""
    steps = np.diff(np.unique(time.asi8))  # between distinct times: a daily axis repeats its midnights too
    if not len(steps) or np.median(steps) > pd.Timedelta(hours=1).value:
        return ""
    return ("; if these are local times where the clocks went back an hour, write each with its UTC offset "
            f"({repeated:%Y-%m-%d %H:%M}+02:00 the first time and +01:00 the second, in Central Europe) or in UTC")


def _split_time_hint(time: pd.Index, table: pd.DataFrame, skipped: tuple) -> str:
    """'; the time seems split over ...' where a column of `table` but the `skipped` ones (the time column
    first) holds quarters (1-4, Q1-Q4) or months (1-12) and no two rows have the same time and the same value of
    it; else ''."""
    name = skipped[0]
    years = not isinstance(time, pd.DatetimeIndex) or ((time.month == 1) & (time.day == 1)).all()
    for column in table.columns if years else ():  # a quarter or month column beside dates is no part of them
        if column in skipped:
            continue
        cells = table[column].astype(str).str.strip().str.upper().str.removeprefix("Q")
        whole = pd.to_numeric(cells, errors="coerce")
        if whole.isna().any() or (whole != whole.round()).any() or not 1 <= whole.min() <= whole.max() <= 12:
            continue
        if pd.DataFrame({"t": time, "c": whole.to_numpy()}).duplicated().any():
            continue
        what = "quarter" if whole.max() <= 4 else "month"
        return f"; the time seems split over '{name}' and the {what} in '{column}': give `time_col` as {name}{JOIN}{column}"
    return ""


_ID_CANDIDATES = 12  # `_id_hint` reads at most this many columns, and their pairs


def _id_hint(time: pd.Index, table: pd.DataFrame, skipped: tuple, id_col: Optional[str], ids: bool = True) -> str:
    """'; the rows with the same time differ in ...' where a column of `table` but the `skipped` ones tells
    every repeated time apart and repeats its values as series' ids do (fewer distinct values than half the
    rows): long-format data read as one series, or with an id column that names only part of each series."""
    candidates = [c for c in table.columns if c not in skipped and table[c].nunique() * 2 <= len(table)][:_ID_CANDIDATES]
    for columns in [[c] for c in candidates] + [list(pair) for pair in itertools.combinations(candidates, 2)]:
        if pd.DataFrame({"t": time, **{c: table[c].to_numpy() for c in columns}}).duplicated().any():
            continue
        named = " and ".join(f"'{c}'" for c in columns)
        if not ids:
            return (f"; the rows with the same time differ in {named}: if {'it says' if len(columns) == 1 else 'they say'}"
                    " which series a row is of, keep one series' rows, or give each series columns of its own (a row"
                    " a time), which are watched together")  # fmt: skip
        if id_col is None and len(columns) == 1:
            return f"; the rows with the same time differ in {named}: if it says which series a row is of, give it as `id_col`"
        given = ",".join(([id_col] if id_col else []) + columns)
        return (f"; the rows with the same time differ in {named}: if {'it names' if len(columns) == 1 else 'they name'} "
                f"series{' too' if id_col else ''}, give `id_col` as {given}")
    return ""


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
    if freq == "D" and _weekdays_only(time):  # trading days: Friday to Monday is one step, a holiday a missing one
        freq = "B"
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


def _weekdays_only(time: pd.DatetimeIndex) -> bool:
    """Whether every time falls on a weekday, over at least two weeks (a business-day axis whose holidays
    break pandas' inference, such as a stock's trading days)."""
    return bool((time.dayofweek < 5).all()) and time[-1] - time[0] >= pd.Timedelta(days=14)


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
