"""Readers and validators for the data files, the split by time, scaling, and windows.

Data flows one way: files -> `lstmkit.data` -> the tasks. Every problem with a file is a
`lstmkit.errors.DataError` with one line naming the file, the column and the row. Import from here; the
modules hold one concern each:

    csv_table            a CSV file as a table of text cells, with row numbers; cells to numbers
    timeaxis             a time column parsed, checked for repeats; its frequency and gaps
    series               `Series` and `read_series_csv`: a target, covariates and a time axis
    anomaly_csv          `read_anomaly_csv`: value columns and a 0/1 label column
    split                the split by time, and the shortest series every part can hold a window of
    scaler               `Scaler`: standardisation with the statistics of the training part
    windows              sliding windows over a series, as views
    labelled_sequences   `LabelledSequences` and the checks on their classes
    sequences            `read_sequences`: a classification file by its extension; text and wide CSV
    npz, ts              the .npz and UCR/UEA .ts readers
    text, corpus         tokenisers, the vocabulary, and a text corpus for language modelling
"""

from .anomaly_csv import read_anomaly_csv
from .corpus import EOD, Corpus, CorpusSplit, join_tokens, read_corpus, split_corpus, tokenize_documents, unit
from .csv_table import MISSING_TOKENS, find_column, parse_numbers, read_csv_table, read_text_file
from .labelled_sequences import LabelledSequences, check_classes, class_order, quote_labels
from .scaler import Scaler
from .sequences import read_sequences
from .series import FILL_CHOICES, Series, fill_missing, read_series_csv
from .split import check_length, default_lookback, min_series_length, split_by_time
from .text import LEVELS, PAD, UNK, WORD, Vocabulary, check_level, detokenize, tokenize
from .timeaxis import infer_freq_and_gaps
from .windows import count_windows, make_windows, target_range, window_targets_index

__all__ = [
    # reading a CSV file
    "MISSING_TOKENS",
    "find_column",
    "parse_numbers",
    "read_csv_table",
    "read_text_file",
    # time series
    "FILL_CHOICES",
    "Series",
    "fill_missing",
    "infer_freq_and_gaps",
    "read_series_csv",
    # labelled series for anomaly detection
    "read_anomaly_csv",
    # the split, the scaler, windows
    "Scaler",
    "check_length",
    "count_windows",
    "default_lookback",
    "make_windows",
    "min_series_length",
    "split_by_time",
    "target_range",
    "window_targets_index",
    # labelled sequences for classification
    "LabelledSequences",
    "check_classes",
    "class_order",
    "quote_labels",
    "read_sequences",
    # text and corpora
    "EOD",
    "LEVELS",
    "PAD",
    "UNK",
    "WORD",
    "Corpus",
    "CorpusSplit",
    "Vocabulary",
    "check_level",
    "detokenize",
    "join_tokens",
    "read_corpus",
    "split_corpus",
    "tokenize",
    "tokenize_documents",
    "unit",
]
