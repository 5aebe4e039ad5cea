"""Labelled sequences from a Weka `.arff` file, as the UCR/UEA archive (timeseriesclassification.com) writes
each set beside its `.ts` and `.txt` files; read with scipy's ARFF reader.

    data = read_arff("GunPoint_TRAIN.arff")      # a LabelledSequences; `read_sequences` calls it for .arff files

Univariate sets: each numeric attribute a step, the nominal attribute (the last one: `target`) the class.
Multivariate sets: a relational attribute whose rows are the channels, each of its numeric attributes a step.
'?' after a sequence's last value makes a shorter one (unequal lengths); before it, it is an error.
"""

from __future__ import annotations

import io

import numpy as np

from ..errors import DataError
from .csv_table import read_text_file
from .labelled_sequences import LabelledSequences, trailing_lengths
from .series import LARGEST


def read_arff(path, *, labelled: bool = True) -> LabelledSequences:
    """The sequences and class labels of an `.arff` file (see the module's docstring); `labelled` False reads
    the labels where the file has them (predicting)."""
    from scipy.io import arff

    text = read_text_file(path, "ARFF", "@relation and @attribute lines, then @data and a sequence a line")
    try:
        data, meta = arff.loadarff(io.StringIO(text))
    except (ValueError, NotImplementedError, IndexError, TypeError, StopIteration) as error:  # scipy's ParseArffError is a ValueError
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "no @relation, @attribute and @data lines"
        raise DataError(f"{path}: cannot be read as ARFF ({reason})") from None
    kinds = dict(zip(meta.names(), meta.types()))
    nominal = [name for name, kind in kinds.items() if kind == "nominal"]
    relational = [name for name, kind in kinds.items() if kind == "relational"]
    label = nominal[-1] if nominal else None
    if label is None and labelled:
        raise DataError(f"{path}: has no nominal attribute to hold the class labels (@attribute target {{a,b}}); "
                        f"its attributes are {', '.join(list(kinds)[:6])}{', ...' if len(kinds) > 6 else ''}")  # fmt: skip
    if not len(data):
        raise DataError(f"{path}: has no sequences after @data")
    if relational:  # (R,) each an array of channels, each a record of steps
        grids = [np.array([list(channel) for channel in row], dtype=np.float64).T for row in data[relational[0]]]
    else:
        steps = [name for name, kind in kinds.items() if kind == "numeric"]
        if not steps:
            raise DataError(f"{path}: has no numeric attribute; each numeric attribute is a step of the sequences")
        values = np.column_stack([data[name].astype(np.float64) for name in steps])  # (R, T)
        grids = [row[:, None] for row in values]
    sequences = [_sequence(grid, k, path) for k, grid in enumerate(grids)]
    labels = None
    if label is not None:
        labels = [value.decode() if isinstance(value, bytes) else str(value) for value in data[label]]
        if "?" in labels and labelled:
            raise DataError(f"{path}: sequence {labels.index('?') + 1} has no class label ('?' in '{label}')")
    return LabelledSequences(sequences, labels, str(path), "numeric", f"attribute '{label}'" if label else "")


def _sequence(grid: np.ndarray, k: int, path) -> np.ndarray:
    """One sequence (T, C) float32 from its steps by channels, '?' (NaN) past its end cut off."""
    if grid.ndim != 2 or grid.shape[0] == 0:
        raise DataError(f"{path}: sequence {k + 1} has no values")
    lengths, gaps = trailing_lengths(~np.isnan(grid).any(axis=1)[None, :])
    if lengths[0] == 0:
        raise DataError(f"{path}: sequence {k + 1} has no values; every sequence needs at least one step")
    if gaps[0] >= 0:
        raise DataError(f"{path}: sequence {k + 1}, step {gaps[0] + 1} is missing ('?') before the end of the sequence; "
                        "only trailing steps may be missing (a shorter sequence)")  # fmt: skip
    if (np.abs(grid[: lengths[0]]) > LARGEST).any():
        raise DataError(f"{path}: sequence {k + 1} has a value that is infinite or too large for float32")
    return grid[: lengths[0]].astype(np.float32)
