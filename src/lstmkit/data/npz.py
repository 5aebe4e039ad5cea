"""Labelled sequences from an `.npz` archive: arrays X (N, T, F) or (N, T) and y (N,), saved with `numpy.savez`.

    data = read_npz("X.npz")                  # a LabelledSequences; `read_sequences` calls it for .npz files

Problems are `DataError`s naming the array element as a numpy index (`X[3, 17]`). Trailing all-NaN steps of
a sequence make it shorter, so unequal lengths fit one padded array; a NaN step before the end is an error.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import DataError
from .labelled_sequences import LabelledSequences, trailing_lengths


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
    lengths, gaps = trailing_lengths(~nan.all(axis=2))
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
