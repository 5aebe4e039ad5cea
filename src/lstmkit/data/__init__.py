"""Readers and validators for the data files, the split by time, scaling, and windows.

Data flows one way: files -> `lstmkit.data` -> the tasks. Every problem with a file is a
`lstmkit.errors.DataError` with one line naming the file, the column and the row.
"""

from .anomaly_csv import read_anomaly_csv
from .series import (
    FILL_CHOICES,
    Scaler,
    Series,
    check_length,
    fill_missing,
    find_column,
    infer_freq_and_gaps,
    min_series_length,
    read_csv_table,
    read_series_csv,
    read_text_file,
    split_by_time,
)
from .text import LEVELS, PAD, UNK, Vocabulary, detokenize, tokenize
from .windows import count_windows, make_windows, target_range, window_targets_index

__all__ = [
    "LEVELS",
    "PAD",
    "UNK",
    "Vocabulary",
    "detokenize",
    "tokenize",
    "FILL_CHOICES",
    "Scaler",
    "Series",
    "check_length",
    "count_windows",
    "fill_missing",
    "find_column",
    "infer_freq_and_gaps",
    "make_windows",
    "min_series_length",
    "read_anomaly_csv",
    "read_csv_table",
    "read_series_csv",
    "read_text_file",
    "split_by_time",
    "target_range",
    "window_targets_index",
]
