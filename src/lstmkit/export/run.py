"""`lstmkit export DIR --format onnx`: a run directory's network to an ONNX file, checked with ONNX Runtime,
and beside it a JSON of what predicting needs (`SIDECAR`)."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
from pathlib import Path
from typing import Optional

from .._version import __version__
from ..errors import ConfigError
from ..fileio import atomic_write_text, file_to_write

FORMATS = ("onnx",)
PACKAGES = ("onnx", "onnxruntime", "onnxscript")  # the `onnx` extra
SIDECAR = ".json"  # model.onnx -> model.onnx.json


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR)


def export_run(run_dir, out=None, format: str = "onnx") -> dict:
    """Export the network of the run in `run_dir` to `out` (default: `run_dir`/model.onnx) and write its
    sidecar JSON beside it; returns the sidecar's content. The model is checked with ONNX Runtime against
    PyTorch before anything is written, so a failed export leaves what was there."""
    if format not in FORMATS:
        raise ConfigError(f"`format` must be one of {', '.join(FORMATS)}, got {format!r}")
    missing = [name for name in PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"exporting to ONNX needs {', '.join(missing)}: pip install 'lstmkit[onnx]'")
    from ..tasks.run import run_job
    from .onnx import OPSET, TOLERANCE, check, session, to_onnx

    run_dir = Path(run_dir)
    job = run_job(run_dir)
    estimator = job.estimator.load(run_dir)
    out = file_to_write(run_dir / "model.onnx" if out is None else Path(out), "model.onnx")
    graphs = estimator.export_graph()  # one Graph, or a dict of them by part (seq2seq: encoder, decoder)
    parts = graphs if isinstance(graphs, dict) else {None: graphs}
    files = {part: out if part is None else part_file(out, part) for part in parts}
    staged = {part: path.with_name(f".{path.name}.{os.getpid()}.staged") for part, path in files.items()}
    try:
        described, worst = {}, 0.0
        for part, graph in parts.items():
            to_onnx(graph, staged[part])
            runner = session(staged[part])
            worst = max(worst, check(graph, staged[part], runner=runner))
            described[part] = {"file": files[part].name, "inputs": [_described(i) for i in runner.get_inputs()],
                               "outputs": [_described(o) for o in runner.get_outputs()]}  # fmt: skip
        signature = described[None] if None in described else {"parts": described}
        sidecar = {
            "lstmkit": __version__, "job": job.name, "run": str(run_dir), "format": "onnx", "opset": OPSET, **signature,
            "reads": inspect.cleandoc(type(estimator).export_graph.__doc__ or ""),
            "checked": {"against": "PyTorch", "with": f"onnxruntime {_version('onnxruntime')}",
                        "largest_relative_difference": worst, "tolerance": TOLERANCE},
            "model": json.loads(json.dumps({"params": estimator.get_params(), **estimator._state()}, default=str)),
        }  # fmt: skip
        atomic_write_text(sidecar_of(out), json.dumps(sidecar, indent=1))
        for part in parts:
            os.replace(staged[part], files[part])
    finally:
        for path in staged.values():
            path.unlink(missing_ok=True)
    return sidecar


def part_file(out: Path, part: str) -> Path:
    """Where one part of a model of several graphs goes: model.onnx -> model.encoder.onnx."""
    return out.with_name(f"{out.stem}.{part}{out.suffix}")


def _described(value) -> dict:
    """An ONNX Runtime input or output: its name, element type and shape (dynamic axes by name)."""
    return {"name": value.name, "type": value.type, "shape": list(value.shape)}


def _version(package: str) -> Optional[str]:
    from importlib.metadata import version

    return version(package)
