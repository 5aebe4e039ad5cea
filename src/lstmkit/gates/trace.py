"""What the gates of a trained model did at every step of one input: `trace(model, data)`.

The trace is the model's own computation for prediction, not a copy of it: the job's network runs on the
input in eval mode exactly as `predict` runs it, a hook on its LSTM records what the LSTM was called with
(after the embedding, the scaling and the window normalisation the network does), and the LSTM is called
once more with those same arguments and `return_trace=True`. So whatever the network does before its
LSTM, the trace sees the same input.

How each job reads the input is the job's own: its estimator's `gate_input(data, max_steps)` (see
`lstmkit.tasks.gate_input`). In short: a language model reads the text from a zero state as it reads a
prompt; a text classifier its first `max_len` tokens; a numeric classifier the first sequence of a file; a
forecaster or anomaly detector the whole series (up to `max_steps`) as ONE window, normalised over the steps
shown, so the gates show how the LSTM runs over a long stretch rather than one short window.

`max_steps` caps the input BEFORE the model reads it (a bidirectional or normalising model reads only the
steps shown); `Trace.total_steps` keeps how long the input was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch

from ..errors import ConfigError
from ..settings import check_whole
from ..nn.kernels.reference import LAYERNORM_EPS
from ..tasks import job_of
from ..tasks.gate_input import DEFAULT_WINDOW
from ..tasks.run import load_run
from .properties import series_properties, text_properties

GATES = ("i", "f", "g", "o", "c", "h")  # input, forget, candidate, output gate; cell state; output h


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
    lstm: str = "lstm"  # which LSTM of the network this is ("encoder" or "decoder" for sequence to sequence)
    attention: Optional[np.ndarray] = None  # (T, S): a decoder's attention over the source at each step
    source_tokens: list = field(default_factory=list)  # the source tokens `attention` is over

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
        """The simple properties of the input a unit may follow, each (T,) (see `gates.properties`)."""
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


def trace(model, data, *, max_steps: Optional[int] = None, part: Optional[str] = None,
          target: Optional[str] = None) -> Trace:
    """Run a trained model over one input and return what its gates did at every step.

    model: a fitted estimator of any job (`LanguageModel`, `SequenceClassifier`, `Forecaster`,
        `AnomalyDetector`), or the path of a run directory.
    data: for a text model, the text (a str) or a `pathlib.Path` to a text file; for a series model, a CSV
        path (str or Path, read as training read it), a `Series`, a DataFrame holding the model's columns,
        or an array (N,) or (N, F) in the model's column order, or None for a forecaster (the last `lookback`
        steps its run keeps, which its next forecast reads); for a numeric classifier, a file the
        classifier reads (its first sequence is traced) or one array (T,) or (T, F).
    max_steps: read at most this many steps (tokens or series steps) from the start.
    part: which LSTM of a network that has several (`model.lstm_parts`: a sequence-to-sequence model's
        "decoder", its default, which writes the model's own output for the source text, with its attention
        over the source; or "encoder", which reads the source).
    target: a sequence-to-sequence model's decoder reads this text (the reference of a pair) as training
        reads it, instead of writing its own output.
    """
    model = _fitted(model, max_steps)
    parts = getattr(model, "lstm_parts", ())
    if part is not None and not parts:
        raise ConfigError(f"`part` chooses the LSTM of a sequence-to-sequence model; this {model.describe()} has one")
    if target is not None and not parts:
        raise ConfigError(f"`target` is the output a sequence-to-sequence model's decoder reads; this {model.describe()} "
                          "reads only its input")  # fmt: skip
    if part is not None and part not in parts:
        raise ConfigError(f"`part` must be {' or '.join(parts)}, got {part!r}")
    if target is not None and part == "encoder":
        raise ConfigError("`target` is what the decoder reads; the encoder reads only the source (leave out `part`, "
                          "or make it decoder)")  # fmt: skip
    read = model.gate_input(data, max_steps, part, target) if parts else model.gate_input(data, max_steps)
    job = job_of(model)
    return Trace(job.name, read.kind, _run(model.model_, read.lstm, *read.args), read.tokens, read.text, read.offsets,
                 read.values, read.columns, read.total_steps, read.window, read.notes, read.lstm, read.attention,
                 read.source_tokens)  # fmt: skip


def trace_parts(model, data, *, max_steps: Optional[int] = None, target: Optional[str] = None) -> list[Trace]:
    """`trace` of every LSTM of the model for one input, in the order the input flows through them: one for
    most jobs; a sequence-to-sequence model's encoder reading the source, then its decoder writing the
    output (or reading `target`) with its attention over the source. `gates.write_page` shows them on one
    page."""
    model = _fitted(model, max_steps)
    parts = getattr(model, "lstm_parts", ())
    if not parts:
        return [trace(model, data, max_steps=max_steps, target=target)]
    order = sorted(parts, key=lambda p: p != "encoder")  # the encoder first: it reads before the decoder writes
    return [trace(model, data, max_steps=max_steps, part=p, target=target if p != "encoder" else None) for p in order]


def _fitted(model, max_steps: Optional[int]):
    """The fitted estimator to trace (a run directory is loaded), after checking `max_steps`."""
    if isinstance(model, (str, Path)):
        model = load_run(model)
    if max_steps is not None:
        check_whole("max_steps", max_steps)
    job_of(model)
    if not hasattr(model, "model_"):
        raise ConfigError(f"this {type(model).__name__} is not fitted; fit it, or load a run directory")
    return model


# ---------------------------------------------------------------------------------------------------------
# Running the network and recording its LSTM


@torch.no_grad()
def _run(net: torch.nn.Module, name: str, *args) -> list:
    """Call `net(*args)` in eval mode, recording the calls of its LSTM `net.<name>`, then make those calls
    again with the trace (a decoder that runs a step at a time is called once a step: its steps are joined).
    Returns gates[layer][direction] = {name: (T, H) float32} of the one sequence in the batch."""
    lstm = getattr(net, name)
    calls = []

    def record(module, call_args, call_kwargs):
        calls.append((call_args, call_kwargs))

    net.eval()
    handle = lstm.register_forward_pre_hook(record, with_kwargs=True)
    try:
        net(*args)
    finally:
        handle.remove()
    traced = [lstm(*call_args, **call_kwargs, return_trace=True)[2] for call_args, call_kwargs in calls]
    layers = [[_joined([t[layer][direction] for t in traced]) for direction in range(len(traced[0][layer]))]
              for layer in range(len(traced[0]))]  # fmt: skip
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


def _joined(steps: list):
    """One layer and direction's `GateTrace`s of consecutive calls, joined along time (T, B, H)."""
    return steps[0] if len(steps) == 1 else type(steps[0])(*(torch.cat(parts, dim=0) for parts in zip(*steps)))
