"""A network to an ONNX file: `to_onnx` runs PyTorch's dynamo exporter on the network with its LSTM layers
written as ONNX computes them (`layer.onnx_ready`), with dynamic batch and sequence axes, and `check`
compares ONNX Runtime's outputs with PyTorch's."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import ConfigError
from ..fileio import atomic_write
from .layer import onnx_ready, translations

OPSET = 18
# ONNX Runtime against PyTorch, fp32: the largest absolute difference in an output, relative to max(1, the largest
# |value| of that output for the same sequence; `check`). Not to each value's own size: a logit that comes out
# small from large terms that cancel carries their rounding, which ONNX Runtime's order of summing differs in.
# Measured so, an LSTM-FCN classifier's logits (up to 25 on random inputs) differed by at most 5.5e-6 over 40
# seeds; value by value they differed by up to 1.3e-5, and 2 of the 40 seeds failed the export.
TOLERANCE = 1e-5
CHECK_SEED = 0  # the check's random inputs: an export that passes, passes again


@dataclass
class Graph:
    """What one ONNX file computes: `module(*inputs)` in eval mode, with named inputs and outputs.

    inputs: name -> an example tensor (in the order `module.forward` takes them); dynamic: name -> {axis:
    dimension name}, one name for the same size across inputs ("batch", "time"); sample: (batch, steps) ->
    inputs of that shape, for the checks (random but valid: token ids in the vocabulary, lengths in range)."""

    module: nn.Module
    inputs: dict[str, Tensor]
    outputs: list[str]
    dynamic: dict[str, dict[int, str]]
    sample: Callable[[int, int], dict[str, Tensor]]
    min_steps: dict[str, int] = field(default_factory=dict)  # dimension name -> its least size (the time axis of a forecaster: a season)


def to_onnx(graph: Graph, path: Path) -> None:
    """Export `graph` to `path` (written whole or not at all)."""
    module = onnx_ready(graph.module.eval())
    dims = {}
    for axes in graph.dynamic.values():
        for name in axes.values():
            dims.setdefault(name, torch.export.Dim(name, min=graph.min_steps.get(name, 1), max=1 << 20))
    shapes = tuple({axis: dims[name] for axis, name in graph.dynamic.get(key, {}).items()} or None for key in graph.inputs)
    with _quiet():
        try:
            program = torch.onnx.export(module, tuple(graph.inputs.values()), dynamo=True, dynamic_shapes=shapes,
                                        input_names=list(graph.inputs), output_names=graph.outputs,
                                        custom_translation_table=translations(), opset_version=OPSET,
                                        external_data=False, verbose=False)  # fmt: skip
        except Exception as error:  # the exporter's own errors carry pages of trace: one line of it is enough
            raise ConfigError(f"cannot export this network to ONNX: {_first_line(error)}") from error
    model = program.model_proto.SerializeToString()
    atomic_write(path, lambda f: f.write(model))


def _first_line(error: BaseException) -> str:
    """The first line of the error that started it all (the exporter wraps it in errors of its own)."""
    while error.__cause__ is not None:
        error = error.__cause__
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines()
    return text[0] if text else type(error).__name__


@contextlib.contextmanager
def _quiet():
    """The exporter's progress lines, its warnings and its logger's notes kept off the user's terminal."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def session(path: Path, threads: int = 0):
    """An ONNX Runtime session of `path` on the CPU, running a call on `threads` threads (0: one per core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def check(graph: Graph, path: Path, shapes=((1, 1), (3, 5), (4, 17)), runner=None) -> float:
    """ONNX Runtime's outputs against PyTorch's on random inputs of each (batch, steps) shape, drawn from
    CHECK_SEED: the largest difference, relative to max(1, the largest |value| PyTorch gives that output for the
    same sequence; for the same layer, in h_n and c_n, whose first axis is the layers'). Raises when it exceeds
    TOLERANCE. `runner`: the caller's session of `path`, if it has one."""
    runner = runner or session(path)
    worst = 0.0
    with torch.random.fork_rng(devices=[]):  # the caller's random state as it was
        torch.manual_seed(CHECK_SEED)
        samples = [graph.sample(batch, steps) for batch, steps in shapes]
    for (batch, steps), inputs in zip(shapes, samples):
        with torch.no_grad():
            expected = graph.module.eval()(*inputs.values())
        expected = [expected] if isinstance(expected, Tensor) else list(_flat(expected))
        try:
            got = runner.run(graph.outputs, {name: t.numpy() for name, t in inputs.items()})
        except Exception as error:  # onnxruntime's own error types
            raise ConfigError(f"ONNX Runtime cannot run the exported model on {batch} sequence(s) of {steps} "
                              f"step(s): {_first_line(error)}") from None  # fmt: skip
        for name, want, have in zip(graph.outputs, expected, got):
            want = want.detach().float().numpy()
            if want.shape != have.shape:
                raise ConfigError(f"the ONNX model's output {name!r} has shape {have.shape}, PyTorch's {want.shape}")
            if want.size:
                rows = len(want) if want.ndim else 1  # a sequence of the batch each (a layer of h_n and c_n)
                scale = np.maximum(1, np.abs(want).reshape(rows, -1).max(axis=1))
                worst = max(worst, float(np.max(np.abs(have - want).reshape(rows, -1).max(axis=1) / scale)))
    if not worst <= TOLERANCE:
        raise ConfigError(f"the ONNX model differs from PyTorch's by {worst:.2g} (relative), above {TOLERANCE:g}")
    return worst


def _flat(values):
    for value in values:
        if isinstance(value, Tensor):
            yield value
        else:
            yield from _flat(value)


class OrtNet:
    """An ONNX Runtime session that takes the place of a network in an estimator (`lstmkit serve --backend
    onnx`): called with tensors in the order of `inputs`, it returns the `outputs` as tensors (one, or a
    tuple). `eval()` is there because estimators call it."""

    def __init__(self, runner, inputs: list[str], outputs: list[str]):
        self.runner, self.inputs, self.outputs = runner, inputs, outputs

    def eval(self) -> "OrtNet":
        return self

    def __call__(self, *tensors: Tensor):
        feeds = {name: t.detach().cpu().numpy() for name, t in zip(self.inputs, tensors)}
        results = [torch.from_numpy(r) for r in self.runner.run(self.outputs, feeds)]
        return results[0] if len(results) == 1 else tuple(results)


def onnx_session_of(module_graph: Graph, folder: Path, threads: int = 0):
    """`module_graph` exported into `folder`, checked against PyTorch, and opened in ONNX Runtime (a call on
    `threads` threads, 0: one per core)."""
    path = Path(folder) / "model.onnx"
    to_onnx(module_graph, path)
    runner = session(path, threads)
    check(module_graph, path, runner=runner)
    return runner
