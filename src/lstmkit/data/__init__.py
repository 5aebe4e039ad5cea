"""Readers and validators for the data files, the split by time, scaling, and windows.

Data flows one way: files -> `lstmkit.data` -> the tasks. Every problem with a file is a
`lstmkit.errors.DataError` with one line naming the file, the column and the row. Import from here; the
modules hold one concern each:

    csv_table            a CSV file as a table of text cells, with row numbers; cells to numbers
    timeaxis             a time column parsed, checked for repeats; its frequency and gaps
    series               `Series` and `read_series_csv`: a target, covariates and a time axis
    fill                 the ways to fill missing values (`FILL_CHOICES`), and `fill_missing`
    anomaly_csv          `read_anomaly_csv`: value columns and a 0/1 label column
    split                the split by time, and the shortest series every part can hold a window of
    scaler               `Scaler`: standardisation with the statistics of the training part
    windows              sliding windows over a series, as views
    labelled_sequences   `LabelledSequences` and the checks on their classes
    sequences            `read_sequences`: a classification file by its extension; text and wide CSV
    npz, ts              the .npz and UCR/UEA .ts readers
    text, corpus         tokenisers, the vocabulary, and a text corpus for language modelling

The names below are imported on first use (`lstmkit._lazy`): the settings' choices (`FILL_CHOICES`,
`LEVELS`) need no numpy or pandas.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    ".anomaly_csv": ("read_anomaly_csv",),
    ".corpus": ("EOD", "Corpus", "CorpusSplit", "join_tokens", "read_corpus", "split_corpus", "tokenize_documents", "unit"),
    ".csv_table": ("MISSING_TOKENS", "find_column", "parse_numbers", "read_csv_table", "read_text_file"),
    ".fill": ("FILL_CHOICES", "fill_missing"),
    ".labelled_sequences": ("LabelledSequences", "check_classes", "class_order", "quote_labels"),
    ".scaler": ("Scaler",),
    ".sequences": ("read_sequences",),
    ".series": ("Series", "read_series_csv"),
    ".split": ("check_length", "default_lookback", "min_series_length", "part_rows", "split_by_time"),
    ".text": ("LEVELS", "PAD", "UNK", "WORD", "Vocabulary", "check_level", "detokenize", "tokenize"),
    ".timeaxis": ("infer_freq_and_gaps",),
    ".windows": ("count_windows", "make_windows", "target_range", "window_targets_index"),
}

__all__ = [name for names in _EXPORTS.values() for name in names]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
