"""Putting a trained model to work outside lstmkit's own commands.

    layer.py   `lstmkit.LSTM` as ONNX computes it: ONNX's LSTM operator, or a Scan for layer norm and projection
    onnx.py    a network (`Graph`) to an ONNX file, and ONNX Runtime checked against PyTorch
    run.py     `lstmkit export`: a run directory to an ONNX file and the JSON of what predicting needs

`layer.py` and `onnx.py` sit beside `train/` (they know networks, not jobs); each job's estimator says what its
network's graph is (`export_graph`), and `run.py` reaches the jobs through the registry.
"""

from .._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {".run": ("export_run",)})
