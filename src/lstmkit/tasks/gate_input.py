"""What the gate inspector needs from a job: how its estimator reads one input (`GateInput`).

Each estimator's `gate_input(data, max_steps)` reads the input as it reads data for prediction and returns
the arguments its network is called with, and what the inspector shows beside the gates: tokens and text
for text models, values and columns for series. `lstmkit.gates.trace` runs the network on them and records
its LSTM. The helpers below are the pieces the text models and the series models share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch

from ..data import Series, read_text_file
from ..data.text import WORD
from ..errors import DataError

DEFAULT_WINDOW = 8  # the level and slope window of a series without a seasonal period


@dataclass
class GateInput:
    args: tuple  # what the job's network is called with: one sequence, batch of 1
    kind: str  # "text" or "series"
    tokens: list = field(default_factory=list)  # text: the token each step read
    text: str = ""  # text: what the tokens were cut from, as the model read it
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # text: where each token starts
    values: Optional[np.ndarray] = None  # series: (T, F) float64 in the data's own units
    columns: list = field(default_factory=list)  # series: the name of each column of `values`
    total_steps: int = 0  # steps of the input before any cap
    window: int = DEFAULT_WINDOW  # series: the level and slope window, in steps
    notes: list = field(default_factory=list)  # how the input was read, for the page
    lstm: str = "lstm"  # the attribute of the job's network that is the LSTM traced (seq2seq: "encoder", "decoder")
    attention: Optional[np.ndarray] = None  # seq2seq's decoder: (T, S) the weights over the source at each step
    source_tokens: list = field(default_factory=list)  # seq2seq's decoder: the source tokens the attention is over


# ---------------------------------------------------------------------------------------------------------
# Text


def read_text(data) -> str:
    """The text to inspect: a str as it is, or the contents of a `pathlib.Path` to a text file."""
    if isinstance(data, Path):
        if data.is_dir():
            raise DataError(f"{data}: is a directory; give one text file to inspect")
        text = read_text_file(data, "text", "text")
    elif isinstance(data, str):
        text = data
    else:
        raise DataError(f"this model reads text: give a str, or a pathlib.Path to a text file, got {type(data).__name__}")
    text = text.replace("\r\n", "\n")
    if not text.strip():
        raise DataError(f"{data}: holds no text to inspect" if isinstance(data, Path)
                        else "the text to inspect is empty; give some text")  # fmt: skip
    return text


def tokens_with_offsets(text: str, level: str) -> tuple[list[str], np.ndarray]:
    """The tokens of `text` as `data.text.tokenize` cuts them, and where each starts."""
    if level == "char":
        return list(text), np.arange(len(text), dtype=np.int64)
    found = list(WORD.finditer(text))
    if not found:
        raise DataError("the text to inspect holds no words; give some text")
    return [m.group() for m in found], np.array([m.start() for m in found], dtype=np.int64)


def capped(n: int, max_steps: Optional[int], notes: list, what: str) -> int:
    """How many of n steps are shown; a note when the cap cuts some."""
    shown = n if max_steps is None else min(n, max_steps)
    if shown < n:
        notes.append(f"Showing the first {shown} of {n} {what}: the model read only these.")
    return shown


def text_upto(text: str, offsets: np.ndarray, tokens: list, shown: int) -> str:
    """The text up to the end of the last token shown."""
    return text[: int(offsets[shown - 1]) + len(tokens[shown - 1])] if shown else ""


# ---------------------------------------------------------------------------------------------------------
# Series


def series_values(data, columns: list) -> np.ndarray:
    """(N, F) float64 in the model's column order, from a `Series`, a DataFrame or an array."""
    if isinstance(data, Series):
        values = data.values.astype(np.float64)
    elif isinstance(data, pd.DataFrame):
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise DataError(f"the DataFrame has no column {missing[0]!r}; the model reads {', '.join(map(repr, columns))}")
        try:
            values = data[columns].to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"the DataFrame's columns {', '.join(map(repr, columns))} must be numeric") from None
    else:
        try:
            values = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"expected a CSV path, a DataFrame or a numeric array for this series model, "
                            f"got {type(data).__name__}") from None  # fmt: skip
        values = values[:, None] if values.ndim == 1 else values
    if values.ndim != 2 or values.shape[1] != len(columns) or len(values) == 0:
        raise DataError(f"expected values of shape (N, {len(columns)}) with N >= 1 (columns "
                        f"{', '.join(map(repr, columns))}), got shape {values.shape}")  # fmt: skip
    if not np.isfinite(values).all():
        raise DataError("the series holds missing or infinite values; fill or remove them first")
    return values


def series_gate_input(estimator, what: str, values: np.ndarray, columns: list, max_steps: Optional[int]) -> GateInput:
    """A forecaster's or anomaly detector's input: the series as ONE window, scaled with the training scaler;
    the network normalises it over the steps shown in its own forward, and its LSTM reads it from a zero state."""
    notes = [f"The {what} reads windows of {estimator.lookback_} steps, each normalised by its own mean and spread; "
             f"here it read the series as one window, scaled as in training and normalised over the steps shown, "
             "from a zero state."]  # fmt: skip
    shown = capped(len(values), max_steps, notes, "steps")
    scaled = estimator.scaler_.transform(values[:shown]).astype(np.float32)  # (T, F)
    season = getattr(estimator, "season_", None) or 1
    window = min(int(season) if season > 1 else DEFAULT_WINDOW, max(1, shown))
    return GateInput((torch.from_numpy(scaled)[None],), "series", values=values[:shown].astype(np.float64),
                     columns=columns, total_steps=len(values), window=window, notes=notes)  # fmt: skip
