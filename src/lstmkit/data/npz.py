"""Labelled sequences from an `.npz` archive: arrays X (N, T, F) or (N, T) and y (N,), saved with `numpy.savez`;
or a published split, X_train, y_train, X_test and y_test (x_train... too: Keras' datasets and tslearn's
cached UCR sets are saved so).

    data = read_npz("X.npz")                  # a LabelledSequences; `read_sequences` calls it for .npz files
    data = read_npz("Trace.npz")              # X_train and y_train, with X_test and y_test as `data.test_part`

Problems are `DataError`s naming the array element as a numpy index (`X[3, 17]`). Trailing all-NaN steps of
a sequence make it shorter, so unequal lengths fit one padded array; a NaN step before the end is an error.
"""

from __future__ import annotations

import dataclasses
import warnings
import zipfile
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import DataError
from .labelled_sequences import LabelledSequences, trailing_lengths


def read_npz(path, *, labelled: bool = True) -> LabelledSequences:
    """Arrays X (N, T, F) or (N, T) and y (N,) saved with `numpy.savez`. Trailing all-NaN steps of a
    sequence make it shorter, so unequal lengths fit one padded array. An archive of a published split
    (X_train, y_train, X_test, y_test; their names in any case) gives its training arrays, with its test
    arrays as `test_part`."""
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
        by_lower = {name.lower(): name for name in names}
        if "X" not in names and "x_train" in by_lower and "x_test" in by_lower:
            train, test = (_arrays(archive, by_lower[f"x_{part}"], by_lower.get(f"y_{part}"), path, labelled)
                           for part in ("train", "test"))  # fmt: skip
            return dataclasses.replace(train, test_part=test)
        found = ", ".join(names) if names else "no arrays"
        expected = "expected X (N, T, F) or (N, T) and y (N,), or X_train, y_train, X_test and y_test"
        if "X" not in names:
            raise DataError(f"{path}: has no array 'X'; {expected}, found {found}")
        return _arrays(archive, "X", "y" if "y" in names else None, path, labelled, expected)


def _arrays(archive, x: str, y: Optional[str], path, labelled: bool, expected: str = "") -> LabelledSequences:
    """The sequences of the archive's array named `x` with the labels of the one named `y` (None: none)."""
    if labelled and y is None:
        wanted = "y" if x == "X" else x[0].lower().replace("x", "y") + x[1:]
        raise DataError(f"{path}: has no array '{wanted}' (the class labels{'' if x == 'X' else ' of ' + x})"
                        f"{'; ' + expected if expected else ''}, found {', '.join(archive.files)}")  # fmt: skip
    X = _check_X(_npz_array(archive, x, path), path, x)
    sequences = _npz_sequences(X, path, x)
    if y is None:
        return LabelledSequences(sequences, None, str(path), "numeric", "y")
    labels = _npz_array(archive, y, path)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DataError(f"{path}: {y} has shape {labels.shape}; expected one label a sequence, shape (N,)")
    if len(labels) != len(X):
        raise DataError(f"{path}: {x} has {len(X)} sequences but {y} has {len(labels)} labels")
    return LabelledSequences(sequences, _npz_labels(labels, path, y), str(path), "numeric", y)


def nested(X) -> bool:
    """Whether X is sktime's nested DataFrame: a row a sequence, a column a channel, each cell a whole series
    (a pandas Series or an array), as `sktime.datasets.load_UCR_UEA_dataset` gives them."""
    import pandas as pd

    return (isinstance(X, pd.DataFrame) and X.size > 0
            and all(isinstance(cell, (pd.Series, np.ndarray, list)) for cell in X.iloc[:, 0]))  # fmt: skip


def _nested_sequences(X, what: str) -> list[np.ndarray]:
    """The sequences (T_i, F) of sktime's nested DataFrame (`nested`)."""
    sequences = []
    for i, row in enumerate(X.itertuples(index=False)):
        channels = [np.asarray(cell, dtype=np.float64).ravel() for cell in row]
        lengths = {len(channel) for channel in channels}
        if len(lengths) > 1:
            raise DataError(f"{what}: sequence {i}'s channels have {sorted(lengths)} steps; each needs the same")
        sequences.append(_one_sequence(np.column_stack(channels), i, what))
    return sequences


def arrays_as_sequences(X, y=None, what: str = "the arrays") -> LabelledSequences:
    """Sequences held in memory, as scikit-learn's and Keras' `fit(X, y)` take them, labelled by `y` (N,) where
    given: texts (a list of str); an array (N, T) or (N, T, F), whose trailing all-NaN steps end a shorter
    sequence as in an .npz archive; a list of arrays (T_i,) or (T_i, F); sktime's nested DataFrame (a row a
    sequence, a column a channel, a cell a series: `nested`); or a DataFrame of numbers, (N, T) as an array.
    `what` names them in messages."""
    import pandas as pd

    if nested(X):
        X = _nested_sequences(X, what)
    elif isinstance(X, pd.DataFrame) and X.size and all(dtype.kind in "biuf" for dtype in X.dtypes):
        X = X.to_numpy(dtype=np.float64)  # a row a sequence, a column a step
    if isinstance(X, np.ndarray) and X.ndim in (2, 3) and X.dtype.kind in "biuf":
        if X.ndim == 3 and X.shape[1] < X.shape[2]:  # fewer steps than features: likely channels first
            warnings.warn(f"{what}: X of shape {X.shape} is read as {X.shape[1]} steps of {X.shape[2]} features each, "
                          f"(N, T, F) as Keras and tslearn hold sequences; aeon and sktime hold (N, channels, T): pass "
                          f"X.transpose(0, 2, 1) if these are {X.shape[1]} channels of {X.shape[2]} steps", stacklevel=3)  # fmt: skip
        sequences, kind = _npz_sequences(_check_X(X, what), what), "numeric"
    else:
        items = [X] if isinstance(X, str) else list(X)
        texts = [isinstance(item, str) for item in items]
        if any(texts) and not all(texts):  # texts with a gap: a missing cell of a column of texts (None, NaN)
            i = texts.index(False)
            raise DataError(f"{what}: text {i} is missing ({items[i]!r}); every sequence needs a text")
        if items and all(texts):
            empty = [i for i, item in enumerate(items) if not item.strip()]
            if empty:
                raise DataError(f"{what}: text {empty[0]} is empty; every sequence needs a text")
            sequences, kind = [item.strip() for item in items], "text"
        else:
            sequences, kind = [_one_sequence(item, i, what) for i, item in enumerate(items)], "numeric"
    if not sequences:
        raise DataError(f"{what}: holds no sequence")
    labels = None
    if y is not None:
        y = np.asarray(y)
        y = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
        if y.ndim != 1 or len(y) != len(sequences):
            raise DataError(f"{what}: {len(sequences)} sequences but y has shape {y.shape}; expected one label a sequence")
        labels = _npz_labels(y, what)
    return LabelledSequences(sequences, labels, what, kind, "y")


def _one_sequence(item, i: int, what: str) -> np.ndarray:
    try:
        array = np.asarray(item, dtype=np.float32)
    except (TypeError, ValueError):
        raise DataError(f"{what}: sequence {i} is no array of numbers (a {type(item).__name__})") from None
    array = array[:, None] if array.ndim == 1 else array  # (T,) -> (T, 1)
    if array.ndim != 2 or len(array) == 0:
        raise DataError(f"{what}: sequence {i} has shape {array.shape}; expected (T, F) or (T,) with T >= 1")
    if not np.isfinite(array).all():
        raise DataError(f"{what}: sequence {i} holds NaN or infinite values; expected finite numbers")
    return array


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


def _check_X(X: np.ndarray, path, name: str = "X") -> np.ndarray:
    if not (X.dtype == bool or np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
        raise DataError(f"{path}: {name} holds {X.dtype} values; expected real numbers")
    if X.ndim == 2:
        X = X[:, :, None]  # (N, T) -> (N, T, 1)
    if X.ndim != 3 or 0 in X.shape:
        raise DataError(f"{path}: {name} has shape {X.shape}; expected (N, T, F) or (N, T) with N, T, F >= 1")
    X = X.astype(np.float64)
    if np.isinf(X).any():
        i, t, _ = np.argwhere(np.isinf(X))[0]
        raise DataError(f"{path}: {name}[{i}, {t}] holds an infinite value")
    return X


def _npz_sequences(X: np.ndarray, path, name: str = "X") -> list[np.ndarray]:
    """X (N, T, F) with trailing all-NaN steps -> N arrays (T_i, F) float32; `name`: the array's, for messages."""
    nan = np.isnan(X)  # (N, T, F)
    partial = nan.any(axis=2) & ~nan.all(axis=2)  # (N, T): some features missing, not all
    if partial.any():
        i, t = np.argwhere(partial)[0]
        raise DataError(f"{path}: {name}[{i}, {t}] holds NaN in some features but not all; "
                        "a step is either all values or all NaN (past the end of a shorter sequence)")  # fmt: skip
    lengths, gaps = trailing_lengths(~nan.all(axis=2))
    if (lengths == 0).any():
        raise DataError(f"{path}: {name}[{int(np.argmin(lengths))}] holds no values (every step is NaN)")
    if (gaps >= 0).any():
        i = int(np.argmax(gaps >= 0))
        raise DataError(f"{path}: {name}[{i}, {gaps[i]}] is NaN before the end of sequence {i} (its last value is at "
                        f"step {lengths[i] - 1}); only trailing steps may be NaN (a shorter sequence)")  # fmt: skip
    return [X[i, : lengths[i]].astype(np.float32) for i in range(len(X))]


def _npz_labels(y: np.ndarray, path, name: str = "y") -> list[str]:
    if y.dtype == object:  # Python objects: a pandas Series of strings (df["label"]) gives them
        kinds = [isinstance(v, (str, bytes, bool, int, np.integer, np.bool_)) for v in y.tolist()]
        if not all(kinds):
            i = kinds.index(False)
            raise DataError(f"{path}: {name}[{i}] is {y[i]!r}; every sequence needs its class, an integer or a string")
    elif np.issubdtype(y.dtype, np.floating):
        if np.isnan(y).any():
            raise DataError(f"{path}: {name}[{int(np.argmax(np.isnan(y)))}] is NaN; every sequence needs its class")
        if np.all(y == np.round(y)):
            y = y.astype(np.int64)  # 1.0 -> '1'
    elif not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool or y.dtype.kind in "US"):
        raise DataError(f"{path}: {name} holds {y.dtype} values; expected class labels as integers or strings")
    labels = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in y.tolist()]
    empty = [i for i, label in enumerate(labels) if not label.strip()]
    if empty:
        raise DataError(f"{path}: {name}[{empty[0]}] is an empty label; every sequence needs its class")
    return [label.strip() for label in labels]
