"""What the gates of a trained model did at every step of one input: `trace(model, data)`.

The trace is the model's own computation for prediction, not a copy of it: the job's network runs on the
input in eval mode exactly as `predict` runs it, a hook on its LSTM records what the LSTM was called with
(after the embedding, the scaling and the window normalisation the network does), and the LSTM is called
once more with those same arguments and `return_trace=True`. So whatever the network does before its
LSTM, the trace sees the same input.

How each job reads the input:

- language model: the text tokenised as the model tokenises (characters or words, lowercased when the
  model lowercases), read from a zero state as `generate` reads a prompt; unknown tokens are <unk>.
- text classifier: the text tokenised as the classifier tokenises, its first `max_len` tokens.
- numeric classifier: the first sequence of the file (or the array given), scaled as in training.
- forecaster and anomaly detector: these read windows of `lookback` steps, each normalised by its own mean
  and spread. Here the network reads the whole series (up to `max_steps`) as ONE window: scaled with the
  training scaler, then normalised by the mean and spread of the whole stretch, in the network's own
  forward, and the LSTM runs over all of it from a zero state. The gates then show how the LSTM runs over
  a long stretch rather than over one short window; within a lookback of the start the two coincide up to
  the normalisation.

`max_steps` caps the input BEFORE the model reads it (a bidirectional or normalising model reads only the
steps shown); `Trace.total_steps` keeps how long the input was.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd
import torch

from ..data import Series, read_text_file
from ..data.text import WORD
from ..errors import ConfigError, DataError
from ..nn.kernels.reference import LAYERNORM_EPS
from .properties import series_properties, text_properties

GATES = ("i", "f", "g", "o", "c", "h")  # input, forget, candidate, output gate; cell state; output h
JOBS = ("forecast", "classify", "lm", "anomaly")
DEFAULT_WINDOW = 8  # the level and slope window of a series without a seasonal period


@dataclass
class Trace:
    """The gates and cell state of every layer, direction and unit at every step of one input.

    `gates[layer][direction][name]` is a (T, H) float32 array for each name in `GATES`: the input gate i,
    forget gate f, candidate g, output gate o, the cell state c and the unit's output h = o * tanh(c)
    (tanh of the normalised c for a layer-norm LSTM; before any projection). Direction 1 is the backward
    direction of a bidirectional model, its step k still the k-th input step.

    Text jobs fill `tokens` (the token each step read), `text` (what they were cut from, as the model read
    it) and `offsets` (where each token starts in `text`); series jobs fill `values` (T, F) in the data's
    own units and `columns`.
    """

    task: str  # "lm", "classify", "forecast" or "anomaly"
    kind: str  # "text" or "series"
    gates: list  # [layer][direction] -> {name: (T, H) float32}
    tokens: list = field(default_factory=list)
    text: str = ""
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (T,)
    values: Optional[np.ndarray] = None  # (T, F) float64
    columns: list = field(default_factory=list)
    total_steps: int = 0  # steps of the input before any cap
    window: int = DEFAULT_WINDOW  # series: the level and slope window, in steps
    notes: list = field(default_factory=list)  # how the input was read, for the page

    def __len__(self) -> int:
        return int(self.gates[0][0]["c"].shape[0])

    @property
    def num_layers(self) -> int:
        return len(self.gates)

    @property
    def num_directions(self) -> int:
        return len(self.gates[0])

    @property
    def hidden_size(self) -> int:
        return int(self.gates[0][0]["c"].shape[1])

    def gate(self, name: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        """(T, H): one of `GATES` of one layer and direction."""
        return self.gates[layer][direction][name]

    def properties(self) -> dict[str, np.ndarray]:
        """The simple properties of the input a unit may follow, each (T,) (see `inspect.properties`)."""
        if self.kind == "text":
            return text_properties(self.text, self.offsets)
        return series_properties(self.values, self.columns, self.window)

    def to_frame(self) -> pd.DataFrame:
        """A long DataFrame, one row per step, layer, direction, unit and gate: step, token (text) or input
        (series: the first column's value), layer, direction ("forward"/"backward"), unit, gate, value."""
        T, H = len(self), self.hidden_size
        step, unit = np.repeat(np.arange(T), H), np.tile(np.arange(H), T)  # (T*H,)
        shown = (np.asarray(self.tokens, dtype=object) if self.kind == "text" else self.values[:, 0])[step]
        blocks = []
        for layer, directions in enumerate(self.gates):
            for direction, gates in enumerate(directions):
                for name in GATES:
                    blocks.append(pd.DataFrame({
                        "step": step, "token" if self.kind == "text" else "input": shown, "layer": layer,
                        "direction": "backward" if direction else "forward", "unit": unit, "gate": name,
                        "value": gates[name].reshape(-1),
                    }))  # fmt: skip
        frame = pd.concat(blocks, ignore_index=True)
        frame["gate"] = pd.Categorical(frame["gate"], categories=list(GATES))
        return frame


def trace(model, data, *, max_steps: Optional[int] = None) -> Trace:
    """Run a trained model over one input and return what its gates did at every step.

    model: a fitted `LanguageModel`, `SequenceClassifier`, `Forecaster` or `AnomalyDetector`, or the path
        of a run directory.
    data: for a text model, the text (a str) or a `pathlib.Path` to a text file; for a series model, a CSV
        path (str or Path, read as training read it), a `Series`, a DataFrame holding the model's columns,
        or an array (N,) or (N, F) in the model's column order; for a numeric classifier, a file the
        classifier reads (its first sequence is traced) or one array (T,) or (T, F).
    max_steps: read at most this many steps (tokens or series steps) from the start.
    """
    if isinstance(model, (str, Path)):
        model = load_estimator(model)
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
        raise ConfigError(f"--max-steps must be a whole number of at least 1, got {max_steps!r}")
    task = task_of(model)
    if not hasattr(model, "model_"):
        raise ConfigError(f"this {type(model).__name__} is not fitted; fit it, or load a run directory")
    if task == "lm":
        return _trace_lm(model, data, max_steps)
    if task == "classify":
        if model.kind_ == "text":
            return _trace_text_classifier(model, data, max_steps)
        return _trace_numeric_classifier(model, data, max_steps)
    return _trace_series(model, task, data, max_steps)


def load_estimator(directory: Union[str, Path]):
    """The estimator of a finished run directory of any job."""
    from ..tasks.run import load_run, run_task

    task = run_task(directory)
    if task not in JOBS:
        raise ConfigError(f"{directory}: config.json names an unknown task {task!r}")
    module = importlib.import_module(f"lstmkit.tasks.{task}_run")
    return load_run(directory, getattr(module, task.upper()))


def task_of(model) -> str:
    """The job of an estimator: "lm", "classify", "forecast" or "anomaly"."""
    from ..tasks.anomaly import AnomalyDetector
    from ..tasks.classify import SequenceClassifier
    from ..tasks.forecast import Forecaster
    from ..tasks.lm import LanguageModel

    for kind, task in ((LanguageModel, "lm"), (SequenceClassifier, "classify"), (Forecaster, "forecast"),
                       (AnomalyDetector, "anomaly")):  # fmt: skip
        if isinstance(model, kind):
            return task
    raise ConfigError(f"expected a fitted lstmkit estimator or a run directory, got {type(model).__name__}")


def reads_text(model) -> bool:
    """True for a model that reads text (a language model, a text classifier); False for series."""
    task = task_of(model)
    return task == "lm" or (task == "classify" and model.kind_ == "text")


# ---------------------------------------------------------------------------------------------------------
# Running the network and recording its LSTM


@torch.no_grad()
def _run(net: torch.nn.Module, *args) -> list:
    """Call `net(*args)` in eval mode, recording its LSTM's call, then make that call again with the trace.
    Returns gates[layer][direction] = {name: (T, H) float32} of the one sequence in the batch."""
    lstm = net.lstm
    seen = {}

    def record(module, call_args, call_kwargs):
        seen["args"], seen["kwargs"] = call_args, call_kwargs

    net.eval()
    handle = lstm.register_forward_pre_hook(record, with_kwargs=True)
    try:
        net(*args)
    finally:
        handle.remove()
    _, _, layers = lstm(*seen["args"], **seen["kwargs"], return_trace=True)
    gates = []
    for layer, directions in enumerate(layers):
        gates.append([])
        for direction, t in enumerate(directions):
            c_shown = t.c
            if lstm.specs[layer].layernorm:
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                gain, bias = getattr(lstm, "ln_gain_c" + suffix), getattr(lstm, "ln_bias_c" + suffix)
                c_shown = torch.nn.functional.layer_norm(t.c, (t.c.shape[-1],), gain, bias, LAYERNORM_EPS)
            h = t.o * torch.tanh(c_shown)  # (T, B, H)
            named = {"i": t.i, "f": t.f, "g": t.g, "o": t.o, "c": t.c, "h": h}
            gates[-1].append({name: named[name][:, 0].float().cpu().numpy() for name in GATES})  # (T, H)
    return gates


# ---------------------------------------------------------------------------------------------------------
# Text


def _read_text(data) -> str:
    if isinstance(data, Path):
        if data.is_dir():
            raise DataError(f"{data}: is a directory; give one text file to inspect")
        text = read_text_file(data)
    elif isinstance(data, str):
        text = data
    else:
        raise DataError(f"this model reads text: give a str, or a pathlib.Path to a text file, got {type(data).__name__}")
    text = text.replace("\r\n", "\n")
    if not text.strip():
        raise DataError(f"{data}: holds no text to inspect" if isinstance(data, Path)
                        else "the text to inspect is empty; give some text")  # fmt: skip
    return text


def _tokens(text: str, level: str) -> tuple[list[str], np.ndarray]:
    """The tokens of `text` as `data.text.tokenize` cuts them, and where each starts."""
    if level == "char":
        return list(text), np.arange(len(text), dtype=np.int64)
    found = list(WORD.finditer(text))
    if not found:
        raise DataError("the text to inspect holds no words; give some text")
    return [m.group() for m in found], np.array([m.start() for m in found], dtype=np.int64)


def _capped(n: int, max_steps: Optional[int], notes: list, what: str) -> int:
    shown = n if max_steps is None else min(n, max_steps)
    if shown < n:
        notes.append(f"Showing the first {shown} of {n} {what}: the model read only these.")
    return shown


def _trace_lm(model, data, max_steps) -> Trace:
    text = _read_text(data)
    text = text.lower() if model.lowercase else text
    tokens, offsets = _tokens(text, model.level)
    what = "characters" if model.level == "char" else "words"
    notes = [f"The language model read these {what} from a zero state, as it reads a prompt."]
    shown = _capped(len(tokens), max_steps, notes, what)
    ids = model.vocab_.encode(tokens[:shown])
    unknown = sum(i == model.vocab_.unk_id for i in ids)
    if unknown:
        notes.append(f"{unknown} of them are not in the model's vocabulary and were read as <unk>.")
    gates = _run(model.model_, torch.tensor(ids, dtype=torch.long)[None])  # (1, T)
    return Trace("lm", "text", gates, tokens[:shown], _text_upto(text, offsets, tokens, shown), offsets[:shown],
                 total_steps=len(tokens), notes=notes)  # fmt: skip


def _trace_text_classifier(model, data, max_steps) -> Trace:
    text = _read_text(data).strip()  # as the classifier reads a text
    text = text.lower() if model.lowercase else text
    tokens, offsets = _tokens(text, model.level)
    what = "characters" if model.level == "char" else "words"
    notes = [f"The classifier read these {what}."]
    limit = len(tokens) if model.max_len is None else min(len(tokens), model.max_len)
    if limit < len(tokens):
        notes.append(f"The classifier reads the first {model.max_len} of the {len(tokens)} {what} (--max-len).")
    shown = _capped(limit, max_steps, notes, what)
    ids = torch.tensor(model.vocab_.encode(tokens[:shown]), dtype=torch.long)  # (T,)
    gates = _run(model.model_, ids[None], torch.tensor([shown]))
    return Trace("classify", "text", gates, tokens[:shown], _text_upto(text, offsets, tokens, shown), offsets[:shown],
                 total_steps=len(tokens), notes=notes)  # fmt: skip


def _text_upto(text: str, offsets: np.ndarray, tokens: list, shown: int) -> str:
    """The text up to the end of the last token shown."""
    return text[: int(offsets[shown - 1]) + len(tokens[shown - 1])] if shown else ""


# ---------------------------------------------------------------------------------------------------------
# Series


def _trace_numeric_classifier(model, data, max_steps) -> Trace:
    if isinstance(data, (str, Path)):
        sequences = model._read(data, labelled=False)
        where = f"the first of the {len(sequences)} sequences in {data}" if len(sequences) > 1 else f"the sequence in {data}"
    else:
        sequences, where = model._in_memory([data]), "the given sequence"
    first = sequences.subset([0])
    values = np.asarray(first.sequences[0], dtype=np.float64)  # (T, F)
    notes = [f"The classifier read {where}, scaled as in training."]
    shown = _capped(len(values), max_steps, notes, "steps")
    x = model._encode(first)[0][:shown]  # (T, F)
    gates = _run(model.model_, x[None], torch.tensor([shown]))
    columns = [f"x{k}" for k in range(values.shape[1])] if values.shape[1] > 1 else ["x"]
    return Trace("classify", "series", gates, values=values[:shown], columns=columns, total_steps=len(values),
                 window=DEFAULT_WINDOW, notes=notes)  # fmt: skip


def _trace_series(model, task: str, data, max_steps) -> Trace:
    columns = [model.target_name_, *model.feature_names_] if task == "forecast" else list(model.columns_)
    values = _series_values(model, task, data, columns)  # (N, F)
    what = "forecaster" if task == "forecast" else "anomaly detector"
    notes = [f"The {what} reads windows of {model.lookback_} steps, each normalised by its own mean and spread; "
             f"here it read the series as one window, scaled as in training and normalised over the steps shown, "
             "from a zero state."]  # fmt: skip
    shown = _capped(len(values), max_steps, notes, "steps")
    scaled = torch.from_numpy(model.scaler_.transform(values[:shown]).astype(np.float32))  # (T, F)
    gates = _run(model.model_, scaled[None])
    season = getattr(model, "season_", None) or 1
    window = min(int(season) if season > 1 else DEFAULT_WINDOW, max(1, shown))
    return Trace(task, "series", gates, values=values[:shown].astype(np.float64), columns=columns,
                 total_steps=len(values), window=window, notes=notes)  # fmt: skip


def _series_values(model, task: str, data, columns: list) -> np.ndarray:
    """(N, F) float64 in the model's column order, from any form `trace` takes for a series."""
    if isinstance(data, (str, Path)):
        if task == "forecast":
            data = model._read(data)
        else:
            data, _ = model._read(data, model.columns_, labels_required=False)
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
