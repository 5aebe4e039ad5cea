"""Labelled sequences for classification: the sequences with their class labels, and the checks on the classes.

    data = read_sequences("ecg.csv")    # a LabelledSequences, from a .csv, .npz or .ts file (`lstmkit.data.sequences`)
    classes = check_classes(data)       # the classes in `class_order`; at least two, before training

Unequal lengths: a sequence ends at its last value. Empty trailing cells of a wide CSV, trailing NaN steps of
an `.npz` and trailing '?' of a `.ts` file mark a shorter sequence; a missing value before the end is an error
(`trailing_lengths` finds both).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

import numpy as np

from ..errors import DataError

_SHOWN_LABELS = 10


@dataclass
class LabelledSequences:
    """N sequences with their class labels (None when the file has none, as for `predict`).

    Text mode: each sequence is the row's text (str); tokenising is the classifier's business.
    Numeric mode: each sequence is a float32 array (T_i, F), T_i >= 1, F the same for all.
    """

    sequences: list  # (N,) of str, or of np.ndarray (T_i, F) float32
    labels: Optional[list[str]]  # (N,) class names as text, or None
    path: str  # the file, or a description of where the sequences came from
    kind: str  # "text" | "numeric"
    label_name: str = ""  # how messages name the labels: "column 'label'", "y"; "" for a .ts file
    declared_labels: Optional[list[str]] = field(default=None, repr=False)  # a .ts file's @classLabel list
    ids: Optional[list[str]] = None  # (N,) each sequence's id: a long-format CSV's, or a wide or text CSV's id column's
    id_name: Optional[str] = None  # the column of a wide or text CSV that `ids` come from
    channels: Optional[list[str]] = None  # (F,) the names of a long-format CSV's channel columns; None for others
    # an .npz archive's published split (X_train... X_test): its test arrays, the sequences being its training ones
    test_part: Optional["LabelledSequences"] = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.sequences)

    def __str__(self) -> str:
        return self.path

    @property
    def n_features(self) -> Optional[int]:
        """F of numeric sequences; None for text."""
        return None if self.kind == "text" else int(self.sequences[0].shape[1])

    @property
    def lengths(self) -> np.ndarray:
        """(N,) steps of each numeric sequence, characters of each text."""
        return np.array([len(s) for s in self.sequences], dtype=np.int64)

    def subset(self, index: Sequence[int]) -> "LabelledSequences":
        """The sequences at `index` (and their labels), in that order."""
        labels = None if self.labels is None else [self.labels[i] for i in index]
        ids = None if self.ids is None else [self.ids[i] for i in index]
        return replace(self, sequences=[self.sequences[i] for i in index], labels=labels, ids=ids, test_part=None)


def check_classes(data: LabelledSequences) -> list[str]:
    """The classes of labelled data, in `class_order`; a DataError when there is only one."""
    if data.labels is None:
        raise DataError(f"{data.path}: has no class labels; training and evaluating need labelled data")
    classes = class_order(data.labels)
    if len(classes) < 2:
        what = f"{data.label_name} has" if data.label_name else "has"
        raise DataError(f"{data.path}: {what} a single class ('{classes[0]}'); classification needs at least two")
    return classes


def class_order(labels) -> list[str]:
    """The distinct labels, sorted as numbers when every one is a number ('2' before '10'), else as text."""
    distinct = sorted(set(labels))
    try:
        return sorted(distinct, key=lambda label: (float(label), label))
    except ValueError:
        return distinct


def quote_labels(labels: Sequence[str]) -> str:
    """'a', 'b', 'c' — at most ten, then how many more."""
    shown = ", ".join(f"'{label}'" for label in labels[:_SHOWN_LABELS])
    more = len(labels) - _SHOWN_LABELS
    return shown + (f" and {more} more" if more > 0 else "")


def trailing_lengths(present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """present (N, T) bool, a step having a value -> lengths (N,): one past the last present step; and
    gaps (N,): the first absent step before that length, or -1 where there is none."""
    T = present.shape[1]
    any_present = present.any(axis=1)
    lengths = np.where(any_present, T - np.argmax(present[:, ::-1], axis=1), 0)
    inside = np.arange(T)[None, :] < lengths[:, None]  # (N, T)
    holes = inside & ~present
    gaps = np.where(holes.any(axis=1), np.argmax(holes, axis=1), -1)
    return lengths, gaps
