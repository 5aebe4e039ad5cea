"""A CSV file read as a table of text cells with the line number of each data row; text cells to numbers.

    table, rows = read_csv_table("airline.csv")            # str cells, stripped; rows (R,) line numbers
    name = find_column(list(table.columns), "passengers", "airline.csv")   # 'Passengers', or a DataError
    x = parse_numbers(table[name], rows, name, "airline.csv")             # (R,) float64, NaN where missing

A *row* is the file's line number, counting the header as row 1, so the first data row is row 2 (what a text
editor or a spreadsheet shows; blank lines count too). Cells are read as text first, so a value pandas would
silently turn into something else ("1,234", "abc") is reported instead.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import itertools
import json
import os
import re
import warnings
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import DataError

# Cells that mean "no value" (compared lower-case, after stripping spaces): what R, Excel and pandas write.
# pandas' own, and FRED's '.' (its CSVs mark a day without an observation so: a holiday of a daily yield)
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "-nan", "null", "none", "#n/a", "<na>", "."})
SEPARATORS = (",", ";", "\t", "|")
PARQUET = ".parquet"  # a table of typed columns (pandas' and Arrow's), read with pandas (`read_csv_table`)
JSON = (".jsonl", ".ndjson", ".json")  # JSON Lines, an object a row, or a JSON list of objects (`read_csv_table`)
TYPED = (PARQUET, *JSON)  # tables whose cells are typed values, written as the text a CSV would hold
WORKBOOKS = (".xlsx", ".xlsm")  # Excel's, whose first sheet with values is read as a CSV (`_workbook_text`)
TABLES = (".csv", ".tsv", *WORKBOOKS, *TYPED)  # the files read as a table with a header row (`read_csv_table`)
_SHOWN_COLUMNS = 20


_CSV_ROWS = "a header row and data rows"  # what a CSV file holds, in `read_text_file`'s words


def read_text_file(path: Union[str, Path], kind: str = "CSV", holds: str = _CSV_ROWS) -> str:
    """The text of a file that should be UTF-8 text (a BOM is allowed), or a DataError saying why it is not,
    in words of what the file should be: a `kind` file ("CSV", ".ts", "text") that `holds` something. UTF-16
    with its byte-order mark (Excel's "Unicode Text") is read too. A gzip,
    bzip2 or xz file, or a zip archive of one file, is read decompressed (`COMPRESSED`), as pandas reads
    them; rows are then counted in the decompressed text."""
    raw = _file_bytes(path, kind)
    if _is_workbook(raw):
        raise DataError(f"{path}: is an {_OFFICE[0]}; {_OFFICE[1]}")
    if raw.startswith(_PARQUET_MAGIC):  # a table whose column of texts needs naming, or a file misnamed
        raise DataError(f"{path}: is a Parquet file, a table; this reads {'a text file' if holds == 'text' else holds}"
                        + ("" if format_suffix(path) == PARQUET else f" (a table's name ends in {PARQUET})"))
    return _decoded(raw, path, kind, holds)


def _file_bytes(path, kind: str) -> bytes:
    """The bytes of the file at `path`, decompressed (`_decompressed`), or a DataError saying why there are
    none, in words of the `kind` of file expected."""
    if not isinstance(path, (str, os.PathLike)):
        raise DataError(f"expected the path of {_what(kind)}, got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise DataError(f"{path}: no such file")
    if p.is_dir():
        raise DataError(f"{path}: is a directory, expected {_article(kind)} {kind} file")
    try:
        return _decompressed(p.read_bytes(), path)
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None


def _article(kind: str) -> str:
    return "an" if kind[0].lower() in "aeiou" else "a"


def _what(kind: str) -> str:
    return f"{_article(kind)} {kind} file" if kind == "text" else f"{_article(kind)} {kind} text file"


def _decoded(raw: bytes, path, kind: str, holds: str) -> str:
    """A file's bytes as UTF-8 (or UTF-16 with its BOM) text, or a DataError (`read_text_file`)."""
    what = _what(kind)
    if not raw.strip():
        raise DataError(f"{path}: the file is empty, expected {holds}")
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))  # Excel's "Unicode Text", for one
    if b"\x00" in raw and not utf16:  # UTF-16 text also holds NULs
        raise DataError(f"{path}: looks like a binary file, expected {what}")
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        text = raw.decode("utf-16") if utf16 else raw[bom:].decode("utf-8")  # "utf-16" reads the BOM's byte order
    except UnicodeDecodeError as error:
        if utf16:
            raise DataError(f"{path}: starts as UTF-16 text but cannot be read as such (position {error.start}); "
                            "save it as UTF-8") from None  # fmt: skip
        at = bom + error.start
        row = raw[:at].count(b"\n") + 1
        hint = ""
        try:  # Windows' "ANSI" code page, in which Excel saves a CSV there: one command converts it
            line = raw[raw.rfind(b"\n", 0, at) + 1 : raw.find(b"\n", at) % (len(raw) + 1)].decode("cp1252").strip()
            hint = (f" (read as Windows-1252, as Excel saves CSV files on Windows, row {row} is '{line[:60]}': if that "
                    f"is right, `iconv -f cp1252 -t utf-8 {Path(path).name} > utf8-{Path(path).name}` converts it)")
        except UnicodeDecodeError:
            pass
        raise DataError(
            f"{path}: cannot be read as UTF-8 text (byte 0x{raw[at]:02x} at position {at}, row {row}); "
            f"save it as UTF-8{hint}"
        ) from None
    if not text.strip():
        raise DataError(f"{path}: the file is empty, expected {holds}")
    return text


COMPRESSED = (".gz", ".bz2", ".xz", ".zip")  # what `read_text_file` decompresses, known by their first bytes
_OFFICE = ("Excel workbook", "save the sheet as a CSV file (UTF-8) and give that")


def format_suffix(path: Union[str, Path]) -> str:
    """The extension that names a file's format, lower-case, past a compression's: '.csv' for sales.CSV.gz,
    '' for none."""
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def _decompressed(raw: bytes, path) -> bytes:
    """The bytes of a gzip, bzip2 or xz file, or of a zip archive's one file, decompressed; other bytes, and
    an Excel workbook's (a zip archive of its parts, `_is_workbook`), as they are. A zip archive of several
    files, a damaged archive and an Excel workbook of before 2007 get a DataError saying so."""
    import bz2
    import gzip
    import lzma
    import zipfile

    try:
        if raw.startswith(b"\x1f\x8b"):
            return gzip.decompress(raw)
        if re.match(rb"BZh[1-9]1AY&SY", raw):
            return bz2.decompress(raw)
        if raw.startswith(b"\xfd7zXZ\x00"):
            return lzma.decompress(raw)
        if raw.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/") and not n.startswith("__MACOSX/")]
                if _workbook_parts(names):
                    return raw
                if len(names) != 1:
                    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
                    raise DataError(f"{path}: is a zip archive of {len(names)} files ({shown}); unzip it and give one of them")
                return archive.read(names[0])
    except DataError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, lzma.LZMAError, RuntimeError) as error:
        raise DataError(f"{path}: is a damaged compressed file and cannot be decompressed ({error})") from None
    if raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # the format of Excel before 2007 (and of Word's .doc)
        raise DataError(f"{path}: looks like an {_OFFICE[0]} (or another Office file); {_OFFICE[1]}")
    return raw


_PARQUET_MAGIC = b"PAR1"  # the first (and last) four bytes of a Parquet file


def _workbook_parts(names: list[str]) -> bool:
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def _is_workbook(raw: bytes) -> bool:
    """Whether `raw` is an Excel workbook (.xlsx, .xlsm: a zip archive of XML parts under xl/)."""
    import zipfile

    if not raw.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return _workbook_parts(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _workbook_text(raw: bytes, path) -> tuple[str, list[str]]:
    """(text, notes): the first sheet with values of an Excel workbook as the text of a CSV file, a line a row
    of the sheet from its first (so a row's number is the sheet's), each without the empty cells after its
    last value, and a note naming the sheet where others hold values too. Rows of one value each above the
    first row of several (a title, a source, with or without blank rows between) are notes: left blank, with a
    note saying so. Cells hold what Excel last computed (a formula's value); dates are ISO 8601."""
    try:
        import openpyxl
    except ImportError:
        raise DataError(f"{path}: is an {_OFFICE[0]}; reading one needs openpyxl (pip install openpyxl), or "
                        f"{_OFFICE[1]}") from None  # fmt: skip
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheets = [(sheet.title, [[_sheet_cell(value) for value in row] for row in sheet.iter_rows(min_row=1, values_only=True)])
                  for sheet in book.worksheets]  # fmt: skip
        book.close()
    except Exception as error:  # openpyxl raises KeyError, ValueError, TypeError... on a damaged workbook
        raise DataError(f"{path}: is a damaged {_OFFICE[0]} and cannot be read ({error})") from None
    filled = [(title, rows) for title, rows in sheets if any(any(row) for row in rows)]
    if not filled:
        raise DataError(f"{path}: is an {_OFFICE[0]} with no values in any sheet")
    title, rows = filled[0]
    notes = []
    if len(filled) > 1:
        others = and_list(f"'{other}'" for other, _ in filled[1:4]) + (" and more" if len(filled) > 4 else "")
        notes.append(f"sheet '{title}' read, the first of {len(filled)} with values (also {others}): save another as "
                     "a CSV file to read it")  # fmt: skip
    widths = [sum(bool(cell) for cell in row) for row in rows]
    header = next((k for k, width in enumerate(widths) if width > 1), 0)
    above = [next(cell for cell in row if cell) for row in rows[:header] if any(row)]  # a title a row, or none
    if above:  # a title above the table, as a sheet has one: rows of notes, left blank
        notes.append(_notes_above(header, above))
        rows = [[] for _ in range(header)] + rows[header:]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:  # without the empty cells after its last value, as a title is written alone on its line
        while row and not row[-1]:
            row.pop()
        if row:
            writer.writerow(row)
        else:  # a row of empty cells: a blank line, as in a CSV
            out.write("\n")
    return out.getvalue(), notes


def _sheet_cell(value) -> str:
    """A cell's value as a CSV's text: '' for none, dates (at midnight: the day alone) and times in ISO 8601."""
    import datetime

    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value).strip()


def read_csv_table(path: Union[str, Path]) -> tuple[pd.DataFrame, np.ndarray]:
    """The data rows of a CSV file as text cells, stripped of surrounding spaces, with their row numbers.

    Returns (table, rows): table has one str column per header name (names stripped too), rows (R,) int64
    holds each data row's line number in the file (header = row 1). Blank lines are dropped. The separator
    is the one of `,` `;` tab `|` that the header line holds most often (`,` when it holds none). Lines above
    the header that start with `#` are comments (a source note, as R's read.table skips them); the last of
    them is the header where the first line below holds values and as many fields (numpy's `savetxt` writes
    its header so: `# Month,Passengers`). Lines of notes above the table, ended by a blank line, are not read
    (`_table_below_notes`); a note left on the table (`file_notes`) says so.

    An Excel workbook's first sheet with values is read as the CSV its rows would make (`_workbook_text`,
    with openpyxl). A Parquet file (`PARQUET`, known by its first bytes, compressed too) is read with pandas,
    and a JSON file (`JSON`, known by its name) with Python's json, and their cells written as the text a CSV
    would hold (`table_of_frame`); a Parquet file's rows are numbered as a DataFrame's, from 0, a JSON Lines
    file's by their lines."""
    raw = _file_bytes(path, "CSV")
    typed = _typed_frame(raw, path)
    if typed is not None:
        return typed_table(*typed, path)
    text, notes = _workbook_text(raw, path) if _is_workbook(raw) else (_decoded(raw, path, "CSV", _CSV_ROWS), [])
    lines = text.splitlines(keepends=True)
    leading_blank = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), None)
    if leading_blank is None:
        raise DataError(f"{path}: has only comment lines (starting with #), expected a header row and data rows")
    separator = _sniff(lines, leading_blank)
    commented = [i for i in range(leading_blank) if lines[i].strip()]
    if commented and _commented_header(lines[commented[-1]], lines[leading_blank], separator):
        leading_blank = commented[-1]
        named = separator != WHITESPACE and lines[leading_blank].lstrip().startswith("#" + separator)  # '#,Name,...'
        if not named:  # else '#' names a column
            lines[leading_blank] = lines[leading_blank].lstrip().removeprefix("#").lstrip()
    start = _table_below_notes(lines, leading_blank)
    if start is not None:
        above = [line.strip() for line in lines[leading_blank:start] if line.strip()]
        notes.append(_notes_above(start, above))
        leading_blank, separator = start, _sniff(lines, start)
    _check_no_title(path, lines, leading_blank, separator)
    if separator == WHITESPACE and _fields(_line_below(lines, leading_blank), separator) > _fields(lines[leading_blank], separator):
        lines[leading_blank] = '"" ' + lines[leading_blank]  # R's write.table: a row name first on each row, unnamed
    body = "".join(lines[leading_blank:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)  # trailing separators on every data row
        try:
            table = pd.read_csv(
                io.StringIO(body), sep=r"\s+" if separator == WHITESPACE else separator, dtype=str, na_filter=False,
                skip_blank_lines=False, index_col=False,
            )
        except pd.errors.ParserError as error:
            raise DataError(_parser_message(path, error, leading_blank)) from None
    table.columns = [str(name).strip() for name in table.columns]
    twice = table.columns[table.columns.duplicated()]
    if len(twice):
        raise DataError(f"{path}: the header has the column name '{twice[0]}' twice")
    table = table.apply(lambda column: column.str.strip())
    table = _eurostat(table, notes)
    if separator != ",":  # a spreadsheet's export in a locale that writes 3,5: its numbers with a decimal point
        table = table.apply(_decimal_points)
    table, rows = _filled_rows(table, np.arange(len(table), dtype=np.int64) + 2 + leading_blank, notes, path)
    table.attrs["header_row"] = leading_blank + 1  # its line number, where it turns out to be data (`headerless`)
    return table, rows


def _notes_above(start: int, above: list[str]) -> str:
    """The note for lines of notes above a table that starts at line `start` (from 0)."""
    return (f"the table starts at row {start + 1}, below {len(above)} line{'s' if len(above) > 1 else ''} of notes "
            f"(the first: '{above[0][:60]}'), which are not read")


def _filled_rows(table: pd.DataFrame, rows: np.ndarray, notes: list[str], path) -> tuple[pd.DataFrame, np.ndarray]:
    """The table and its row numbers without the rows of empty cells, with `notes` on it, or a DataError where
    no row is left."""
    filled = (table != "").any(axis=1).to_numpy()
    table, rows = table[filled].reset_index(drop=True), rows[filled]
    if len(table) == 0:
        raise DataError(f"{path}: has a header but no data rows")
    table.attrs["notes"] = notes  # how the file was read, for the readers that report it (`file_notes`)
    return table, rows


def read_typed_frame(path) -> Optional[tuple[pd.DataFrame, np.ndarray]]:
    """(frame, rows): a Parquet or JSON file's rows as pandas reads them, typed, lists in cells kept, with
    their row numbers (`read_csv_table` reads the same rows as text); None for a file of any other format."""
    return _typed_frame(_file_bytes(path, "CSV"), path)


def _typed_frame(raw: bytes, path) -> Optional[tuple[pd.DataFrame, np.ndarray]]:
    if raw.startswith(_PARQUET_MAGIC):
        frame = _parquet_frame(raw, path)
        return frame, np.arange(len(frame), dtype=np.int64)
    if format_suffix(path) in JSON:
        records, rows = _json_records(_decoded(raw, path, "JSON", _JSON_ROWS), path)
        return pd.json_normalize(records), rows
    return None


def _parquet_frame(raw: bytes, path) -> pd.DataFrame:
    """A Parquet file's rows (`read_csv_table`). An index pandas kept in the file (`to_parquet` writes one
    that is not a plain row count) is a column, named as it is ('time' for unnamed dates)."""
    try:
        frame = pd.read_parquet(io.BytesIO(raw))
    except ImportError:
        raise DataError(f"{path}: is a Parquet file, which pandas reads with pyarrow: pip install pyarrow") from None
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError, its IO errors OSErrors
        raise DataError(f"{path}: is a damaged Parquet file and cannot be read ({str(error).splitlines()[0]})") from None
    index = frame.index
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)) and index.name is None:
        frame = frame.rename_axis("time")
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)) or any(name is not None for name in index.names):
        frame = frame.reset_index()
    if len(frame) == 0:
        raise DataError(f"{path}: has columns but no rows")
    return frame


def typed_table(frame: pd.DataFrame, rows: np.ndarray, path) -> tuple[pd.DataFrame, np.ndarray]:
    """A frame of typed cells read from a Parquet or JSON file, with its rows' numbers, as `read_csv_table`'s
    text cells. Columns holding a list a row (a series a row, as Chronos' and GluonTS' data sets are written)
    are read as a long table (`_exploded`), rows its steps' positions, and the table's `attrs["lists"]` says
    how many rows held them and which other column names each row (None for none), for a reader of one
    series to ask for it (`one_series_in_lists`); a column of records is a DataError naming it."""
    nested, steps = list_columns(frame, rows, path)
    if not nested:
        return _filled_rows(table_of_frame(frame)[0], rows, [], path)
    long, note = _exploded(frame, nested, steps, rows, path)
    table, rows = _filled_rows(*table_of_frame(long), [note], path)
    scalars = [name for name in frame.columns if not frame[name].map(lambda cell: isinstance(cell, _LISTS)).any()]
    named = next((name for name in scalars if frame[name].is_unique), None)
    table.attrs["lists"] = (len(frame), named)
    return table, rows


def one_series_in_lists(table: pd.DataFrame, path, panels: bool = True) -> None:
    """A DataError where a table read from lists (`typed_table`) held more than one row's series: read as one
    series, they would be run together. `panels`: the reader takes an `id_col` to read them apart."""
    held, named = table.attrs.get("lists", (1, None))
    if held > 1 and panels:
        hint = f" ('{named}' holds a different value on each row)" if named else ""
        raise DataError(f"{path}: holds a series a row in lists, {held} rows: give the column that names each row's "
                        f"series as `id_col`{hint}")  # fmt: skip
    if held > 1:
        raise DataError(f"{path}: holds a series a row in lists, {held} rows; this reads one series: give a file "
                        "of one row")  # fmt: skip


_JSON_ROWS = "a row a line, or a list of rows"  # what a JSON table holds, in `read_text_file`'s words


def read_json_records(path) -> tuple[list[dict], np.ndarray]:
    """(records, rows): the objects of a JSON file that holds a table (`_json_records`) and their row numbers."""
    return _json_records(read_text_file(path, "JSON", _JSON_ROWS), path)


def _json_records(text: str, path) -> tuple[list[dict], np.ndarray]:
    """A JSON file's rows, objects, and their numbers: JSON Lines (an object a line, as pandas'
    `to_json(lines=True)` and Hugging Face datasets write them; rows are line numbers), or a list of objects
    (rows are positions from 0), alone or the one list in an object (`{"data": [...]}`). `read_csv_table`
    reads them as a table, an object within a row flattened into columns named by its path
    ('translation.en'), as pandas' `json_normalize` does."""
    data = None
    if format_suffix(path) == ".json":  # a whole document, or the lines Hugging Face's `to_json` writes
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            first = next(line for line in text.splitlines() if line.strip())
            if not first.lstrip().startswith("{") or error.msg != "Extra data":
                raise DataError(f"{path}: is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    if data is None or (isinstance(data, dict) and not any(isinstance(value, list) for value in data.values())):
        records, rows = [], []  # JSON Lines: an object a line (one line of one object is the same either way)
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise DataError(f"{path}: line {number} is not valid JSON ({error.msg} at column {error.colno})") from None
                rows.append(number)
    else:
        lists = {key: value for key, value in data.items() if isinstance(value, list)} if isinstance(data, dict) else {"": data}
        if len(lists) > 1:
            raise DataError(f"{path}: holds {len(lists)} lists ({and_list(repr(key) for key in lists)}); a table is one "
                            "of them, in a file of its own")  # fmt: skip
        records = next(iter(lists.values()))
        rows = list(range(len(records)))
    if not records or not all(isinstance(record, dict) for record in records):
        at = "" if not records else f" (row {rows[next(k for k, r in enumerate(records) if not isinstance(r, dict))]})"
        raise DataError(f"{path}: holds no table{at}; a table in JSON is an object a row: a line each "
                        '({"text": "...", "label": "..."}, JSON Lines) or a list of them')  # fmt: skip
    return records, np.asarray(rows, dtype=np.int64)


def _exploded(frame: pd.DataFrame, nested: list[str], steps: np.ndarray, rows: np.ndarray, path) -> tuple[pd.DataFrame, str]:
    """(frame, note): a frame whose columns `nested` hold a list (or array) a row, `steps` (R,) items long
    (`list_columns`), made a long table, a row a step: the lists of a row side by side, each of its other
    cells repeated beside them (pandas' `explode`), and a note saying so. The lists must hold values, not
    records (`rows`: the frame's row numbers, for messages)."""
    frame = frame.set_axis(pd.RangeIndex(len(frame)))
    long = frame[steps > 0].explode(nested)  # the index: each step's row in the frame
    for name in nested:
        records = long[name].map(lambda cell: isinstance(cell, dict)).to_numpy()
        if records.any():
            raise DataError(f"{path}: column '{name}' holds lists of records (row {rows[long.index[int(np.argmax(records))]]}); "
                            "lstmkit reads one value a cell")  # fmt: skip
    long = long.reset_index(drop=True)
    for name in nested:  # the values come out as objects: as a column of numbers, dates or texts they print as such
        long[name] = pd.Series(list(long[name]), dtype=None if long[name].notna().any() else object)
    quoted = and_list(f"'{name}'" for name in nested)
    note = (f"each row holds a series, its lists ({quoted}) a value a step: {len(frame)} rows read as {len(long)} "
            "steps, the other cells repeated on each")
    return long, note


_LISTS = (list, tuple, np.ndarray)  # what a Parquet list column's cells come out as


def list_columns(frame: pd.DataFrame, rows: np.ndarray, path) -> tuple[list[str], np.ndarray]:
    """(names, steps): the columns of a typed frame that hold a row's steps in a list (or array), as long as
    each other in every row, and each row's number of steps (R,). A column of lists never that long holds
    something of each series as a whole (the Hugging Face hub's Monash sets: `feat_static_cat` [0] beside a
    `target` of 1,000 values) and is none of them; one that is as long in some rows only is a DataError naming
    the row, and so is a column of records (objects) (`rows`: the frame's row numbers, for messages)."""
    nested = []
    for name in frame.columns[frame.dtypes == object]:
        records = frame[name].map(lambda cell: isinstance(cell, dict)).to_numpy()
        if records.any():
            raise DataError(f"{path}: column '{name}' holds records (row {rows[int(np.argmax(records))]}); lstmkit "
                            "reads one value a cell")  # fmt: skip
        if frame[name].map(lambda cell: isinstance(cell, _LISTS)).any():
            nested.append(name)
    if not nested:
        return [], np.ones(len(frame), dtype=np.int64)
    lengths = pd.DataFrame({name: frame[name].map(lambda cell: len(cell) if isinstance(cell, _LISTS) else 1)
                            for name in nested})  # fmt: skip
    steps = lengths.max(axis=1)
    full = lengths.eq(steps, axis=0)  # (R, C): the column's list holds the row's steps
    uneven = (full.any() & ~full.all()).to_numpy()  # as long as the steps in some rows only
    if uneven.any():
        row = int(np.argmax(~full.iloc[:, int(np.argmax(uneven))].to_numpy()))
        counts = ", ".join(f"'{name}' {lengths[name].iloc[row]}" for name in nested)
        raise DataError(f"{path}: row {rows[row]} holds lists of different lengths ({counts}); a row's lists are a "
                        "series' steps side by side, as long as each other")  # fmt: skip
    return [name for name in nested if full[name].all()], steps.to_numpy()


def table_of_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """A DataFrame as the text cells (R, C) and row numbers (R,) a CSV reader gives: its rows' positions."""
    table = pd.DataFrame({str(name): _frame_cells(frame[name]) for name in frame.columns})
    return table, np.arange(len(frame), dtype=np.int64)


def _frame_cells(column: pd.Series) -> pd.Series:
    """A column as the stripped text cells a CSV reader would give ('' where missing); times with a time zone
    keep their UTC offset (a local time an autumn's clock change repeats is two times)."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        text = column.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    elif pd.api.types.is_datetime64_any_dtype(column):
        text = column.dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "", regex=False)
    else:
        text = column.astype(str)
    return text.where(column.notna(), "").str.strip().reset_index(drop=True)


_EUROSTAT_HEADER = re.compile(r"(?i)([^\\]+)\\(?:time_period|time)")  # 'freq,unit,geo\TIME_PERIOD', older 'geo\time'
_EUROSTAT_FLAGGED = re.compile(r"^([+-]?[\d.]+(?:[eE][+-]?\d+)?)\s*[a-z]+$")  # '5.2 p': provisional; 'e' estimated...


def _eurostat(table: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """A table in Eurostat's TSV layout (the first column's name lists the dimensions its cells join with commas,
    then '\\TIME_PERIOD'; a period a column after it) with each dimension in a column of its own, ':' (with or
    without a flag: ': c' confidential) a missing value and the flag after a value left ('5.2 p' is 5.2), and
    a note saying so; any other table as it is."""
    found = _EUROSTAT_HEADER.fullmatch(table.columns[0]) if len(table.columns) > 1 else None
    if found is None:
        return table
    dimensions = [name.strip() for name in found.group(1).split(",")]
    parts = table.iloc[:, 0].str.split(",", n=len(dimensions) - 1, expand=True)
    if parts.shape[1] != len(dimensions) or parts.isna().any().any():
        return table
    cells = table.iloc[:, 1:].apply(lambda column: column.str.replace(r"^:.*", "", regex=True)
                                    .str.replace(_EUROSTAT_FLAGGED, r"\1", regex=True))  # fmt: skip
    notes.append(f"Eurostat's layout: the first column's {len(dimensions)} dimension{'s' if len(dimensions) > 1 else ''} ({', '.join(dimensions)}) "
                 "read as columns of their own, ':' as no value, and the flags after values (p, e, b...) not read")  # fmt: skip
    return pd.concat([parts.set_axis(dimensions, axis=1), cells], axis=1)


def file_notes(table: pd.DataFrame) -> list[str]:
    """The notes `read_csv_table` left on a table on how it read the file, taken off it (so the parts of the
    table made after say none)."""
    return table.attrs.pop("notes", [])


# A number as a spreadsheet writes it where the decimal mark is a comma (1.234,5 or 3,25), and one that could as
# well be 1234 written with a thousands separator (1,234)
_DECIMAL_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*),\d+(?:[eE][+-]?\d+)?|[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")


def _decimal_points(cells: pd.Series) -> pd.Series:
    """A column whose every cell is a number with a decimal comma (a file separated by ';' or tabs, as
    spreadsheets in most of Europe export it: 3,25 and 1.234,5), or a whole number, with at least one
    comma: the same numbers with a decimal point (3.25, 1234.5). Any other column is returned as it is, and
    so is one whose commas could as well separate thousands (1,234 and nothing else)."""
    given = cells[~cells.str.lower().isin(MISSING_TOKENS)]
    commas = given[given.str.contains(",", regex=False)]
    if commas.empty or not given.str.fullmatch(_DECIMAL_COMMA).all() or commas.str.fullmatch(_THOUSANDS).all():
        return cells
    return cells.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)  # "n/a" and the like stay


def _sniff_separator(header: str) -> str:
    counts = [header.count(separator) for separator in SEPARATORS]
    return SEPARATORS[int(np.argmax(counts))] if max(counts) > 0 else ","


WHITESPACE = " "  # the separator of columns lined up by spaces: R's write.table, numpy's savetxt, JMulTi's .dat


def _filled(lines: list[str]):
    return (line for line in lines if line.strip())


def _line_below(lines: list[str], k: int) -> str:
    return next(_filled(lines[k + 1 :]), "")


def _sniff(lines: list[str], header: int) -> str:
    """The separator of the table whose header is lines[header]: the one of `SEPARATORS` the header holds most
    often; where it holds none, `WHITESPACE` if the header and the lines below it (the first `_SNIFFED`) all
    split on spaces into more than one field, as many (or one more below: R's write.table writes a row name
    first, unnamed); else ','."""
    if any(separator in lines[header] for separator in SEPARATORS):
        return _sniff_separator(lines[header])
    names = _fields(lines[header], WHITESPACE)
    below = {_fields(line, WHITESPACE) for line in itertools.islice(_filled(lines[header + 1 :]), _SNIFFED)}
    return WHITESPACE if names > 1 and len(below) == 1 and below <= {names, names + 1} else ","


_SNIFFED = 5  # lines below a header `_sniff` reads


_PREAMBLE_LINES = 10  # a one-field "header" and a wider row within this many lines: a title above the table


def _commented_header(comment: str, first: str, separator: str) -> bool:
    """Whether a line starting with '#' names the columns of the first line below it: as many fields, and that
    line holds a value (a number or a date) where a header would hold names. numpy's `savetxt` writes its
    header so ('# Month,Passengers'), and some tables name their first column '#' ('#,Name,Type 1', a row
    number: Kaggle's Pokémon table)."""
    names, cells = _split(comment.lstrip().removeprefix("#").lstrip(), separator), _split(first.strip(), separator)
    return len(names) == len(cells) > 1 and any(re.fullmatch(_VALUE_LIKE, cell.strip()) for cell in cells)


_NOTES_ABOVE = 40  # lines `_table_below_notes` looks through for a table below lines of notes


def _split(line: str, separator: str) -> list[str]:
    """A line's fields, as the CSV reader splits them (quotes kept together); `WHITESPACE`: on runs of spaces."""
    if separator == WHITESPACE:
        return next(csv.reader([line.strip()], delimiter=" ", skipinitialspace=True), [""])
    return next(csv.reader([line], delimiter=separator), [""])


def _fields(line: str, separator: str) -> int:
    return len(_split(line, separator))


def _table_below_notes(lines: list[str], first: int) -> Optional[int]:
    """The line a table starts at below lines of notes that a blank line ends, as statistics offices export a
    series (the BLS: 'Series Id: LNS14000000Q', 'Seasonally Adjusted', ..., a blank line, then the table): the
    first line after a blank line with more fields than any line from `first` down to it, above lines (the
    next two, where there are) as wide as it, or one field less (a separator after the header's last name),
    and wider than those above; None where there is none (a table's header is as wide as any line of it)."""
    for k in range(first + 1, min(len(lines) - 1, first + _NOTES_ABOVE)):
        if lines[k - 1].strip() or not lines[k].strip():
            continue
        separator = _sniff_separator(lines[k])
        widest = max(_fields(line, separator) for line in lines[first:k] if line.strip())
        names = _fields(lines[k], separator)
        below = [_fields(line, separator) for line in itertools.islice(_filled(lines[k + 1 :]), 2)]
        if names > widest and below and all(count in (names - 1, names) and count > widest for count in below):
            return k
    return None


def _check_no_title(path, lines: list[str], header: int, separator: str) -> None:
    """A DataError where the header line holds one field and a line below it within `_PREAMBLE_LINES` holds
    several: a title or a source note above the table, as statistics offices export one."""
    if _fields(lines[header], separator) > 1:
        return
    for k in range(header + 1, min(len(lines), header + 1 + _PREAMBLE_LINES)):
        if _fields(lines[k], separator) > 1:
            raise DataError(f"{path}: row {k + 1} has {_fields(lines[k], separator)} fields but the header (row {header + 1}) has 1; if the "
                            f"lines above row {k + 1} are a title or notes, remove them: the header must be the first line")  # fmt: skip


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


_VALUE_LIKE = r"[+-]?[\d.,:/ eETZ+-]*\d[\d.,:/ eETZ+-]*"  # a number or a date, as data rows hold them


def header_is_data(columns: Sequence[str]) -> bool:
    """Whether a header's names are values ('1949-01', '112'; pandas renames a repeated '0.5' to '0.5.1'): the
    first row of a file without a header. Step numbers (0, 1, 2, ... or 1, 2, 3, ...) name a wide table's columns."""
    names = [re.sub(r"(\.\d*)\.\d+$", r"\1", str(column).strip()) for column in columns]
    if names in ([str(k) for k in range(len(names))], [str(k + 1) for k in range(len(names))]):
        return False
    return all(re.fullmatch(_VALUE_LIKE, name) for name in names)


def headerless(table: pd.DataFrame, rows: np.ndarray) -> Optional[tuple[pd.DataFrame, np.ndarray, str]]:
    """A table whose header line holds values only (`header_is_data`: a file without one, such as the UCR
    anomaly archive's, a value a line), read as such: (table, rows, note), that line its first data row and
    the columns named `value` (one) or `column1`, `column2`, ... (several). None where the header names
    columns, or holds a value twice (pandas renamed the repeat, so that line's cells are not all known)."""
    names = [str(name) for name in table.columns]
    renamed = any(name.rsplit(".", 1)[0] in names for name in names if "." in name)  # '0.5', '0.5.1'
    if not header_is_data(names) or renamed:
        return None
    columns = ["value"] if len(names) == 1 else [f"column{k + 1}" for k in range(len(names))]
    first = pd.DataFrame([names], columns=columns)
    read = pd.concat([first, table.set_axis(columns, axis=1)], ignore_index=True)
    read.attrs = {key: value for key, value in table.attrs.items() if key != "header_row"}
    row = int(table.attrs.get("header_row", rows[0] - 1))
    note = f"the first line holds values, not column names: read as row {row}, into {unnamed_columns(columns)}"
    return read, np.concatenate([[row], rows]).astype(np.int64), note


def unnamed_columns(columns: Sequence[str]) -> str:
    """`headerless`' column names in words: "the column 'value'", "the columns column1 and column2", ..."""
    if len(columns) == 1:
        return f"the column '{columns[0]}'"
    return f"the columns {columns[0]} {'and' if len(columns) == 2 else 'to'} {columns[-1]}"


_ID_NAME = re.compile(r"(?i)id|index|idx|key|unnamed: 0|.*[_ ]id")  # a first column's name that says it names the rows


def distinct(cells: pd.Series) -> bool:
    """Whether a column holds a different, non-empty value on each row (two rows at least): the rows' ids."""
    return len(cells) > 1 and cells.is_unique and not cells.str.lower().isin(MISSING_TOKENS).any()


def named_row_ids(table: pd.DataFrame, skipped: tuple = ()) -> Optional[str]:
    """The first column of `table` (unless `skipped`), where it is named as the rows' id ('id', 'index',
    '..._id', or unnamed: pandas' index, R's row names) and holds a different value on each row: no value to
    read, even where it is numbered. None otherwise."""
    first = table.columns[0] if len(table.columns) else None
    if first is None or first in skipped or not _ID_NAME.fullmatch(first) or not distinct(table[first]):
        return None
    return first


def holds_texts(cells: pd.Series) -> bool:
    """Whether a column's cells are texts: words with spaces between, two spaces or more in the median cell."""
    return bool(cells.str.count(" ").median() >= 2)


def and_list(items) -> str:
    """Items as a sentence lists them: 'a', 'a and b', 'a, b and c'."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def looks_numeric(cells: pd.Series) -> bool:
    """At least half of the non-empty cells are numbers: a numeric column with a typo is still a value column
    (and its bad cell is then reported), a column of dates or names is not."""
    present = cells[~cells.str.lower().isin(MISSING_TOKENS)]
    return len(present) > 0 and pd.to_numeric(present, errors="coerce").notna().mean() >= 0.5


def value_columns(table: pd.DataFrame, skipped=()) -> tuple[list[str], Optional[str]]:
    """(columns, row_ids): the columns of `table` that hold measured values, in their order: numbers
    (`looks_numeric`), none of `skipped` (the time, label, id or covariate columns), nor a first column of the
    rows' ids (`named_row_ids`: `row_ids`, None where there is none), nor a count of the rows (`counts_rows`)."""
    skipped = tuple(skipped)
    row_ids = named_row_ids(table, skipped=skipped)
    columns = [name for name in table.columns if name not in skipped and name != row_ids and looks_numeric(table[name])
               and not counts_rows(table[name])]  # fmt: skip
    return columns, row_ids


def counts_rows(cells: pd.Series) -> bool:
    """Whether a column counts the rows: whole numbers rising by the same step on every row, 3 rows at least
    (an observation or step number, the years of a yearly table): no measured value, and one a predictor
    would forecast without error."""
    steps = np.diff(pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64))
    return len(steps) >= 2 and steps[0] >= 1 and steps[0] == round(steps[0]) and bool((steps == steps[0]).all())


def join_columns(table: pd.DataFrame, names: list[str], separator: str) -> tuple[pd.DataFrame, str]:
    """The table with the cells of its columns `names` joined by `separator` into one column, named by their
    names joined by ',', in their place ('' where any of them is missing); and that name. Several id columns
    (a store and a product family) or time columns (a year and its quarter) are read so."""
    cells = table[names]
    empty = cells.apply(lambda column: column.str.lower().isin(MISSING_TOKENS)).any(axis=1)
    joined = cells[names[0]].str.cat([cells[name] for name in names[1:]], sep=separator)
    key = ",".join(names)
    return table.drop(columns=names).assign(**{key: joined.where(~empty, "")}), key


def spread_column(frame: pd.DataFrame, name: str, columns: dict) -> pd.DataFrame:
    """`frame` with its column `name` replaced, in its place, by `columns` (name -> values): a joined column
    (`join_columns`) given back as the columns it came from."""
    at = list(frame.columns).index(name)
    frame = frame.drop(columns=name)
    for k, (column, values) in enumerate(columns.items()):
        frame.insert(at + k, column, values)
    return frame


def find_column(columns: Sequence[str], name: str, path: Union[str, Path]) -> str:
    """`name` as it is spelled in `columns`, or a DataError suggesting the closest name (ignoring case)."""
    name = str(name).strip()
    if name in columns:
        return name
    by_lower = {column.lower(): column for column in reversed(list(columns))}  # the first spelling wins
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    shown = ", ".join(columns[:_SHOWN_COLUMNS]) + (", ..." if len(columns) > _SHOWN_COLUMNS else "")
    if header_is_data(columns):
        raise DataError(f"{path}: no column '{name}': its first line holds values ({shown}), not column names; "
                        "add a header line naming the columns")  # fmt: skip
    if close:
        raise DataError(f"{path}: no column '{name}'; did you mean '{by_lower[close[0]]}'? Columns: {shown}")
    raise DataError(f"{path}: no column '{name}'. Columns: {shown}")


# ---------------------------------------------------------------------------------------------------------
# Cells to numbers


# a number with a currency sign before it or a percent sign after it, as spreadsheets export formatted cells
_WITH_UNIT = re.compile(r"^([+-]?)([$€£¥]?)\s*([+-]?(?:\d[\d,]*)?\.?\d+(?:[eE][+-]?\d+)?)\s*(%?)$")


def _without_units(cells: pd.Series) -> pd.Series:
    """A column whose every value carries the same currency sign before it ($, €, £, ¥) or percent sign after
    it ('$1,234.50', '-$5', '5.2%'), as spreadsheets export formatted cells: the numbers without it, a
    percentage in percent ('5.2%' is 5.2, as the cell shows it); any other column as it is."""
    first = next((cell for cell in cells.to_numpy()[:8] if cell.lower() not in MISSING_TOKENS), None)
    if first is not None and not re.search(r"[$€£¥%]", first):  # a sign on every value: on the first one given
        return cells
    given = ~cells.str.lower().isin(MISSING_TOKENS)
    if not given.any() or not re.search(r"[$€£¥%]", cells[given].iloc[0]):
        return cells
    parts = cells[given].str.extract(_WITH_UNIT)
    units = parts[1] + parts[3]
    if parts[2].isna().any() or units.nunique() != 1 or not units.iloc[0]:
        return cells
    signs = (parts[0] + parts[2].str[:1]).str.count("-") % 2  # '-$5' and '$-5' are both -5
    numbers = parts[2].str.lstrip("+-")
    if units.iloc[0] != "%" and numbers.str.fullmatch(r"\d{1,3}(?:,\d{3})*(?:\.\d*)?|\d*\.?\d+").all():  # '$1,234': after a currency sign, thousands
        numbers = numbers.str.replace(",", "", regex=False)
    numbers = numbers.where(signs == 0, "-" + numbers)
    return cells.where(~given, numbers.reindex(cells.index))


_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")  # 1,234.50: thousands grouped by commas


def parse_numbers(cells: pd.Series, rows: np.ndarray, name: str, path) -> np.ndarray:
    """(R,) float64 from text cells: empty / NA cells become NaN; thousands grouped by commas are read where
    a decimal point beside them says so (1,234.50; 1,234 alone could be 1.234 as most of Europe writes it);
    a column whose every value carries the same currency or percent sign (`_without_units`) is read without it;
    a column of True and False (pandas' booleans, as a DataFrame holds or a CSV it wrote spells them; any
    case) is read as 1 and 0; anything else that is not a number is a DataError naming the first such cell."""
    cells = _without_units(cells)
    numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    lowered = cells.str.lower()
    missing = lowered.isin(MISSING_TOKENS).to_numpy()
    not_numbers = np.isnan(numbers) & ~missing
    truth = lowered.isin(("true", "false")).to_numpy()
    if not_numbers.any() and (truth | missing).all():  # a flag: a holiday, a promotion, a store's kind
        numbers = np.where(missing, np.nan, (lowered == "true").to_numpy(dtype=np.float64))
        not_numbers[:] = False
    grouped = cells[not_numbers]
    if len(grouped) and grouped.str.fullmatch(_GROUPED).all() and grouped.str.contains(".", regex=False).any():
        # thousands separated by commas beside a decimal point, as spreadsheets in English write 1,234.50
        numbers[not_numbers] = pd.to_numeric(grouped.str.replace(",", "", regex=False)).to_numpy(dtype=np.float64)
        not_numbers[:] = False
    if not_numbers.any():
        i = int(np.argmax(not_numbers))
        value = cells.iloc[i]
        hint = ""
        if re.fullmatch(r"[+-]?[\d.,]*\d[\d.,]*", value) and "," in value:
            hint = "; write numbers without thousands separators and with a dot as the decimal mark"
        elif re.fullmatch(r"[<>]\s*[\d.]+", value):  # Google Trends' '<1', a laboratory's '<0.05'
            hint = (f"; '{value}' says only that the value is {'under' if value[0] == '<' else 'over'} a limit: write the "
                    "number to read in its place (half the limit is a common choice)")  # fmt: skip
        raise DataError(f"{path}: column '{name}' has a non-numeric value '{value}' at row {rows[i]}{hint}")
    return numbers
