"""A text corpus for language modelling: one file or a folder of files, read, tokenised, split by position
and encoded with a vocabulary built on the training part only.

    corpus = read_corpus("books/", "word")                 # every text file under books/, in sorted order
    split = split_corpus(corpus, val_frac=0.1, test_frac=0.1, min_freq=2)
    split.ids[split.train]                                 # (N_train,) int64 token ids of the training part

Documents are concatenated into one token stream. At character level they are separated by a blank line
("\\n\\n"); at word level, where the tokeniser drops white space, by the `EOD` token. The split is
contiguous and never shuffled: training text first, then validation, then test, so no test sentence is
also a training sentence and the metrics measure text the model has not seen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import DataError
from .csv_table import (TABLES, find_column, format_suffix, holds_texts, looks_numeric, read_csv_table, read_text_file,
                        table_of_frame)
from .split import split_by_time
from .text import Vocabulary, check_level, detokenize, tokenize

EOD = "<eod>"  # word level: the end of one document and the start of the next
DOCUMENT_BREAK = "\n\n"  # character level: documents are separated by one blank line


@dataclass
class Corpus:
    """The token stream of every document, in reading order."""

    tokens: list[str]
    level: str  # "char" | "word"
    source: str  # the file or folder as given
    files: list[str] = field(default_factory=list)  # the documents read, in order
    skipped: list[str] = field(default_factory=list)  # files in a folder left out: binary, empty, not UTF-8

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass
class CorpusSplit:
    """A corpus encoded with the vocabulary of its training part, and the three contiguous parts."""

    vocab: Vocabulary
    ids: np.ndarray  # (N,) int64, the whole corpus; tokens outside the vocabulary are vocab.unk_id
    train: slice
    val: slice
    test: slice


TEXT_FILE = ("text", "text")  # read_text_file's words for a file of plain text


def read_corpus(path: Union[str, Path, Sequence[str]], level: str, *, lowercase: bool = False,
                text_col: Optional[str] = None) -> Corpus:  # fmt: skip
    """Read a text file, or every text file under a folder, or a list of texts (each a document), into one
    token stream; or, from a CSV file (`TABLES`) or a pandas DataFrame, the texts of its column `text_col`, a
    row a document (by default the table's one column of texts, `column_of_texts`); a pandas Series of texts,
    a row a document.

    A file given directly must be UTF-8 text and not empty (`read_text_file`'s messages otherwise). In a
    folder every file is tried in sorted path order, recursively; hidden files and folders (a name starting
    with ".") are left out, and so is any file that is binary, empty or not UTF-8. Windows line ends
    become "\\n"."""
    check_level(level)
    if isinstance(path, pd.Series):  # a column of texts, as a DataFrame holds them: a row a document
        path = path.to_frame(name=path.name if path.name is not None else "text")
        text_col = path.columns[0]
    if isinstance(path, pd.DataFrame):  # read as its CSV would be
        documents = [text.replace("\r\n", "\n").rstrip("\n") for text in column_of_texts(path, text_col)]
        return Corpus(tokenize_documents(documents, level, lowercase=lowercase), level, "the DataFrame", [], [])
    if text_col is not None and not (isinstance(path, (str, os.PathLike)) and format_suffix(path) in TABLES):
        raise DataError(f"`text_col` names a column of a CSV file (a row a document); {_named(path)} is none")
    if isinstance(path, (list, tuple)) and path and all(isinstance(text, str) for text in path):
        documents = [text.replace("\r\n", "\n").rstrip("\n") for text in path]  # texts in memory, one document each
        if not any(document.strip() for document in documents):
            raise DataError("the given texts are all empty")
        return Corpus(tokenize_documents(documents, level, lowercase=lowercase), level, "the given texts", [], [])
    root = Path(path) if isinstance(path, (str, os.PathLike)) else None
    if root is None:  # read_text_file says what it expected
        read_text_file(path, *TEXT_FILE)
    if root.is_dir():
        texts, files, skipped = [], [], []
        for file in _files_under(root):
            try:
                texts.append(read_text_file(file, *TEXT_FILE))
                files.append(str(file))
            except DataError:
                skipped.append(str(file))
        if not texts:
            raise DataError(f"{path}: no text files found")
    elif format_suffix(root) in TABLES:
        texts, files, skipped = column_of_texts(path, text_col), [str(path)], []
    else:
        texts, files, skipped = [read_text_file(path, *TEXT_FILE)], [str(path)], []
    documents = [text.replace("\r\n", "\n").rstrip("\n") for text in texts]
    return Corpus(tokenize_documents(documents, level, lowercase=lowercase), level, str(path), files, skipped)


def _named(path) -> str:
    return "the given texts" if isinstance(path, (list, tuple)) else str(path)


def column_of_texts(path, text_col: Optional[str]) -> list[str]:
    """The texts of a CSV file's (or a DataFrame's) column `text_col`, a row each (empty cells left out);
    without `text_col`, of the one column whose cells are texts (`holds_texts`), or where none holds sentences
    (short messages, names), of the one column of words (`_holds_words`); else a DataError asking for it."""
    table, _ = table_of_frame(path) if isinstance(path, pd.DataFrame) else read_csv_table(path)
    path = "the DataFrame" if isinstance(path, pd.DataFrame) else path
    columns = list(table.columns)
    if text_col is None:
        texts = [name for name in columns if holds_texts(table[name])] or [
            name for name in columns if _holds_words(table[name])]  # fmt: skip
        if len(texts) != 1:
            which = f"one of {', '.join(texts[:10])}" if texts else f"its columns: {', '.join(columns[:10])}"
            raise DataError(f"{path}: is a table; give `text_col`, the column of its texts, a row a document ({which})")
        text_col = texts[0]
    name = find_column(columns, text_col, path)
    documents = [cell for cell in table[name] if cell.strip()]
    if not documents:
        raise DataError(f"{path}: column '{name}' holds no text")
    return documents


def _holds_words(cells: pd.Series) -> bool:
    """Whether a column's cells are words, if not sentences: not numbers, and most cells hold two letters in a
    row (not dates, codes such as 'A1', or ids)."""
    return not looks_numeric(cells) and bool(cells.str.contains(r"[^\W\d_]{2}").mean() >= 0.5)


def _files_under(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )  # fmt: skip


def tokenize_documents(documents: Sequence[str], level: str, *, lowercase: bool = False) -> list[str]:
    """Documents into one token stream, separated by a blank line (char) or the EOD token (word)."""
    if level == "char":
        return tokenize(DOCUMENT_BREAK.join(documents), "char", lowercase=lowercase)
    tokens: list[str] = []
    for number, document in enumerate(documents):
        if number:
            tokens.append(EOD)
        tokens += tokenize(document, "word", lowercase=lowercase)
    return tokens


def join_tokens(tokens: Sequence[str], level: str) -> str:
    """Tokens back into text, the EOD token as a blank line: the inverse of `tokenize_documents`, up to
    the white space the word tokeniser dropped."""
    if level == "char":
        return "".join(tokens)
    documents, current = [], []
    for token in tokens:
        if token == EOD:
            documents.append(current)
            current = []
        else:
            current.append(token)
    return DOCUMENT_BREAK.join(detokenize(document, "word") for document in documents + [current])


def split_corpus(
    corpus: Corpus,
    *,
    val_frac: float = 0.1,
    test_frac: float = 0.1,
    min_freq: int = 1,
    max_vocab: Optional[int] = None,
) -> CorpusSplit:
    """Split by position (train, then validation, then test), build the vocabulary from the training part
    (tokens seen fewer than `min_freq` times there, or beyond the `max_vocab` most frequent, become
    <unk>), and encode the whole corpus with it."""
    train, val, test = split_by_time(len(corpus), val_frac, test_frac)
    if train.stop == 0:
        raise DataError(f"{corpus.source}: holds {len(corpus)} {unit(corpus.level)}, too few to leave a training part")
    vocab = Vocabulary.build([corpus.tokens[train]], min_freq=min_freq, max_size=max_vocab)
    if len(vocab) <= 2:
        raise DataError(
            f"{corpus.source}: no {unit(corpus.level, 1)} occurs at least {min_freq} times in the training part "
            f"({train.stop} {unit(corpus.level)}); lower `min_freq` or use a larger corpus"
        )
    ids = np.fromiter((vocab.index.get(t, vocab.unk_id) for t in corpus.tokens), dtype=np.int64, count=len(corpus))
    return CorpusSplit(vocab, ids, train, val, test)


def unit(level: str, n: int = 2) -> str:
    """What one token is called at this level: "characters" or "words" (singular when n == 1)."""
    name = "character" if level == "char" else "word"
    return name if n == 1 else name + "s"
