"""The sequence classifier's settings: its own, then those every job shares (`tasks/settings.py`)."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Optional, Union

from ...data.text import LEVELS
from ...settings import setting
from ..settings import SharedSettings, shared

POOLINGS = ("last", "mean", "max")


@dataclass(eq=False)
class ClassifySettings(SharedSettings):
    # the CSV column holding the texts; None: numeric sequences
    text_col: Optional[str] = setting(None, "Column of texts (text mode); absent: numeric sequences.")
    _: KW_ONLY
    label_col: str = setting("label", "Column of labels (CSV).")
    # a test file (UCR/UEA ship one), kept as text so a run's settings compare equal on resume; None: hold out test_frac
    test: Optional[Union[str, Path]] = setting(
        None, "A labelled test file (UCR/UEA ship one); default: hold out --test-frac.")
    level: str = setting("word", "Text mode: tokens are words or characters.", choices=LEVELS)
    lowercase: bool = setting(True, "Text mode: lowercase the texts first.", cli=False)
    max_len: Optional[int] = setting(400, "Text mode: keep the first N tokens.", whole=True, min=1)
    min_freq: int = setting(2, "Text mode: tokens seen fewer times in training become <unk>.", whole=True, min=1)
    embedding_dim: int = setting(64, "Text mode: the size of the token embeddings.", whole=True, min=1, cli=False)
    pooling: str = setting("max", "How the LSTM's steps become one vector.", choices=POOLINGS)
    class_weights: Optional[str] = setting(None, "Weight classes inversely to their frequency.", choices=("balanced",),
                                           switch="balanced")  # fmt: skip
    batch_size: int = shared("batch_size", help="Sequences per mini-batch.")
    lr: float = shared("lr", 3e-3)

    def __post_init__(self):
        self.test = None if self.test is None else str(self.test)
