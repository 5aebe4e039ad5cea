"""Pairs of texts for sequence to sequence: a source and its target (a translation, a summary, a reply).

    pairs = read_pairs("fra.tsv")                          # source<TAB>target, one pair a line (Tatoeba, Anki)
    pairs = read_pairs("data.csv", source_col="en", target_col="fr")
    pairs = read_pairs("messages.po")                      # a gettext catalog: msgid -> msgstr
    pairs = read_pairs("/usr/share/locale/fr/LC_MESSAGES") # every .mo catalog of a folder, in sorted order

A file is read by its extension: `.csv`, Parquet and JSON through the table reader, `.po` and `.mo` as gettext
catalogs (a `.mo` through the standard library's `gettext`), anything else as tab-separated lines. A JSON file
of conversations (`{"messages": [{"role": "user", "content": ...}, {"role": "assistant", ...}]}` a line, as
chat models are fine-tuned on, or ShareGPT's `{"conversations": [{"from": "human", "value": ...}, ...]}`)
gives a pair for each reply: the user's message before it, and the reply. Every problem is one
DataError naming the file and the line. In a catalog, untranslated and fuzzy entries are left out (a fuzzy
translation is a guess that a translator has not checked), and so is the header entry; plural forms give
their first form.
"""

from __future__ import annotations

import ast
import gettext
import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import pandas as pd

from ..errors import DataError
from .csv_table import (JSON, TYPED, WORKBOOKS, find_column, format_suffix, read_csv_table, read_json_records, read_text_file,
                        typed_table)

_SHOWN = 10  # columns a message lists
MIN_PAIRS = 10  # fewer pairs than this cannot be split into training, validation and test parts
CATALOGS = (".po", ".mo")


@dataclass
class Pairs:
    """Source and target texts, one pair per index, and where they came from."""

    sources: list[str]
    targets: list[str]
    path: str  # the file or folder as given, for messages

    def __post_init__(self):
        if len(self.sources) != len(self.targets):
            raise DataError(f"{self.path}: {len(self.sources)} sources but {len(self.targets)} targets")

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, index: Sequence[int]) -> "Pairs":
        return Pairs([self.sources[i] for i in index], [self.targets[i] for i in index], self.path)


def read_pairs(path: Union[str, Path], *, source_col: Optional[str] = None, target_col: Optional[str] = None,
               min_pairs: int = MIN_PAIRS) -> Pairs:  # fmt: skip
    """The pairs of a TSV, CSV, .po or .mo file, or of every .po and .mo catalog in a folder (sorted by
    name); at least `min_pairs` of them, or a DataError saying how many there are."""
    p = Path(path)
    if p.is_dir():
        pairs = _read_folder(p)
    elif format_suffix(p) in (".csv", *WORKBOOKS, *TYPED):
        pairs = _read_csv(p, source_col, target_col)
    elif source_col is not None or target_col is not None:
        raise DataError(f"{path}: `source_col` and `target_col` name CSV columns; this is not a .csv file")
    elif p.suffix.lower() == ".mo":
        pairs = _read_mo(p)
    elif format_suffix(p) == ".po":
        pairs = _read_po(p)
    else:
        pairs = _read_tsv(p)
    if len(pairs) < min_pairs:
        raise DataError(f"{path}: holds {len(pairs)} pair{'s' if len(pairs) != 1 else ''}; "
                        f"training needs at least {min_pairs}")  # fmt: skip
    return pairs


def _read_tsv(path: Path) -> Pairs:
    """source<TAB>target a line; a third column and more (Tatoeba's attribution) are ignored."""
    text = read_text_file(path, "TSV", "lines of source<TAB>target")
    sources, targets = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DataError(f"{path}: line {number} has no tab; each line must be source<TAB>target")
        source, target = line.split("\t")[:2]
        sources.append(_text(source, path, f"line {number}", "source"))
        targets.append(_text(target, path, f"line {number}", "target"))
    return Pairs(sources, targets, str(path))


def _read_csv(path: Path, source_col: Optional[str], target_col: Optional[str]) -> Pairs:
    """The pairs of a CSV's columns `source_col` and `target_col` (by default 'source' and 'target'; a table of
    two columns named otherwise, `en,fr`, is read in their order, as a TSV's lines are). A JSON file, with
    neither column named, is read once: its conversations' pairs where its rows hold them (`_conversations`),
    else the table of its rows."""
    if format_suffix(path) in JSON and source_col is None and target_col is None:
        records, rows = read_json_records(path)
        chats = _conversations(records, rows, path)
        if chats is not None:
            return chats
        table, rows = typed_table(pd.json_normalize(records), rows, path)
    else:
        table, rows = read_csv_table(path)
    columns = list(table.columns)
    if source_col is None and target_col is None and len(columns) == 2 and not {"source", "target"} & set(columns):
        source_col, target_col = columns
    for given, default, flag in ((source_col, "source", "source_col"), (target_col, "target", "target_col")):
        if given is None and default not in columns:  # Alpaca's instruction,input,output; CNN/DailyMail's article,highlights
            shown = ", ".join(f"'{name}'" for name in columns[:_SHOWN])
            raise DataError(f"{path}: has no column '{default}'; name the column of the {default}s with `{flag}` "
                            f"(its columns: {shown}{', ...' if len(columns) > _SHOWN else ''})")  # fmt: skip
    source_col = find_column(columns, source_col or "source", path)
    target_col = find_column(columns, target_col or "target", path)
    sources, targets = [], []
    for source, target, row in zip(table[source_col], table[target_col], rows):
        sources.append(_text(source, path, f"row {row}", f"column '{source_col}'"))
        targets.append(_text(target, path, f"row {row}", f"column '{target_col}'"))
    return Pairs(sources, targets, str(path))


_TURNS = {"messages": ("role", "content"), "conversations": ("from", "value")}  # OpenAI's chat format; ShareGPT's
_SPEAKERS = {"user": "user", "human": "user", "assistant": "reply", "gpt": "reply", "bot": "reply", "model": "reply"}


def _conversations(records: list[dict], rows, path: Path) -> Optional[Pairs]:
    """The pairs of a JSON file's rows of conversations (`records`, numbered `rows`), a pair for each reply (the
    user's message right before it, and the reply; a system message and a reply with no message before it are
    left out), or None where the rows hold no conversation."""
    key = next((key for key in _TURNS if isinstance(records[0].get(key), list)), None)
    if key is None:
        return None
    speaker, said = _TURNS[key]
    sources, targets = [], []
    for record, row in zip(records, rows):
        turns, asked = record.get(key), None
        if not isinstance(turns, list) or not all(isinstance(turn, dict) for turn in turns):
            raise DataError(f"{path}: row {row}: '{key}' holds no list of turns ({{\"{speaker}\": ..., \"{said}\": ...}})")
        for turn in turns:
            who, text = _SPEAKERS.get(str(turn.get(speaker, "")).lower()), _content(turn.get(said))
            if who == "user":
                asked = text
            elif who == "reply" and asked and text:
                sources.append(asked)
                targets.append(text)
                asked = None
    if not sources:
        raise DataError(f"{path}: holds conversations ('{key}'), but no user's message followed by a reply")
    return Pairs(sources, targets, str(path))


def _content(value) -> str:
    """A turn's text: a string, or the text parts of a list of parts ({"type": "text", "text": ...})."""
    if isinstance(value, list):
        value = " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in value)
    return "" if value is None else str(value).strip()


def texts_as_pairs(sources, targets, what: str = "the given texts") -> Pairs:
    """Pairs from two lists of texts in memory, a source and its target at each index (`fit(sources,
    targets)`, as scikit-learn takes X and y); an empty text or a list of another length is a DataError."""
    sources, targets = ([texts] if isinstance(texts, str) else list(texts) for texts in (sources, targets))
    if len(sources) != len(targets):
        raise DataError(f"{what}: {len(sources)} sources but {len(targets)} targets; give one target a source")
    return Pairs([_text(s, what, f"pair {i}", "source") for i, s in enumerate(sources)],
                 [_text(t, what, f"pair {i}", "target") for i, t in enumerate(targets)], what)  # fmt: skip


def source_texts(sources, what: str = "the given texts") -> list[str]:
    """Sources to translate, in memory (a list, a pandas Series, an array); an empty or missing one is a
    DataError naming it."""
    return [_text(s, what, f"source {i}", "text") for i, s in enumerate([sources] if isinstance(sources, str) else list(sources))]


def _text(value, path: Path, where: str, what: str) -> str:
    text = "" if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else str(value).strip()  # NaN: none
    if not text:
        raise DataError(f"{path}: {where}: the {what} is empty")
    return text


def _read_mo(path: Path) -> Pairs:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    for reading in (bytes, _ascii_header):  # as it is; only where that fails, with an ASCII header
        try:
            catalog = gettext.GNUTranslations(io.BytesIO(reading(raw)))._catalog  # msgid -> msgstr; (msgid, n) -> form n
            return _catalog_pairs(catalog, path)
        except Exception:  # gettext raises OSError, struct.error, UnicodeDecodeError, IndexError... on a bad file
            continue
    raise DataError(f"{path}: is not a gettext .mo catalog")


def _ascii_header(raw: bytes) -> bytes:
    """`raw` with every non-ASCII byte of its header entry (msgid "") made "?", each byte in its place.

    The standard library decodes the header as UTF-8 before it reads the header's own `charset=`, so a
    catalog in ISO-8859-1 whose header names its translator "Jäger" cannot be read at all; with that name
    made "J?ger" it is read in its declared charset. The header itself is no pair, so nothing is lost."""
    try:
        order = {0x950412DE: "<", 0xDE120495: ">"}[int.from_bytes(raw[:4], "little")]
        count, originals, translations = struct.unpack(order + "3I", raw[8:20])
        for k in range(count):
            length, _ = struct.unpack(order + "2I", raw[originals + 8 * k: originals + 8 * k + 8])
            if length == 0:  # the header entry
                size, start = struct.unpack(order + "2I", raw[translations + 8 * k: translations + 8 * k + 8])
                header = bytes(b if b < 128 else 0x3F for b in raw[start:start + size])
                return raw[:start] + header + raw[start + size:]
    except (KeyError, struct.error, ValueError):
        pass
    return raw


def _catalog_pairs(catalog: dict, path: Path) -> Pairs:
    """Pairs of a catalog's entries: plain ones, and the first form of plural ones, in msgid order."""
    entries = {}
    for key, msgstr in catalog.items():
        msgid, form = (key, 0) if isinstance(key, str) else key
        if form == 0 and msgid and isinstance(msgstr, str) and msgstr.strip() and msgid.strip():
            entries[msgid.split("\x00")[0]] = msgstr  # a plural key's msgid is "singular\x00plural"
    keys = sorted(entries)
    return Pairs([k.strip() for k in keys], [entries[k].strip() for k in keys], str(path))


def _read_po(path: Path) -> Pairs:
    """A .po catalog: msgctxt, msgid, msgid_plural and msgstr / msgstr[n] with continuation lines."""
    text = read_text_file(path, ".po", "msgid and msgstr entries")
    catalog: dict = {}
    entry: dict = {}
    field, fuzzy = None, False

    def finish():
        nonlocal entry, fuzzy
        msgid = entry.get("msgid")
        msgstr = entry.get("msgstr", entry.get("msgstr[0]"))
        if msgid and msgstr and not fuzzy:
            catalog[msgid] = msgstr
        entry, fuzzy = {}, False

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):  # a comment opens the next entry; "#, fuzzy" flags it
            if any(k.startswith("msgstr") for k in entry):
                finish()
            fuzzy = fuzzy or (line.startswith("#,") and "fuzzy" in line)
            field = None
            continue
        if line.startswith('"'):
            if field is None:
                raise DataError(f"{path}: line {number}: a quoted string outside an entry")
            entry[field] += _po_string(line, path, number)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword not in ("msgctxt", "msgid", "msgid_plural", "msgstr") and not keyword.startswith("msgstr["):
            raise DataError(f"{path}: line {number}: expected msgid, msgstr or a comment, got {line[:40]!r}")
        if keyword in ("msgctxt", "msgid") and any(k.startswith("msgstr") for k in entry):
            finish()
        field = keyword
        entry[field] = _po_string(rest.strip(), path, number)
    finish()
    return _catalog_pairs(catalog, path)


def _po_string(quoted: str, path: Path, number: int) -> str:
    if len(quoted) < 2 or not (quoted.startswith('"') and quoted.endswith('"')):
        raise DataError(f"{path}: line {number}: expected a quoted string, got {quoted[:40]!r}")
    try:
        return ast.literal_eval(quoted)  # the C escapes a .po file uses are Python's
    except (ValueError, SyntaxError):
        raise DataError(f"{path}: line {number}: the string {quoted[:40]!r} is not valid") from None


def _read_folder(folder: Path) -> Pairs:
    files = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in CATALOGS)
    if not files:
        raise DataError(f"{folder}: is a directory with no .po or .mo catalogs; give a TSV, CSV or catalog file")
    sources, targets, seen = [], [], set()
    for file in files:
        pairs = _read_mo(file) if file.suffix.lower() == ".mo" else _read_po(file)
        for source, target in zip(pairs.sources, pairs.targets):
            if source not in seen:  # the first catalog's translation of a message shared by several
                seen.add(source)
                sources.append(source)
                targets.append(target)
    return Pairs(sources, targets, str(folder))
