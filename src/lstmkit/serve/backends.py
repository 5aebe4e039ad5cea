"""`lstmkit serve --backend onnx`: the estimator's network exported at start, checked against PyTorch, and
replaced by ONNX Runtime; the estimator's own reading of requests and shaping of answers stay."""

from __future__ import annotations

import tempfile

from ..errors import ConfigError


def use_onnx(estimator, serving) -> None:
    if getattr(serving, "onnx", None) is None:
        raise ConfigError(f"a {estimator.noun} cannot be served on ONNX Runtime yet; use --backend torch")
    from ..export.onnx import OrtNet, onnx_session_of

    graph = estimator.export_graph()
    with tempfile.TemporaryDirectory(prefix="lstmkit-serve-") as folder:
        runner = onnx_session_of(graph, folder)  # the session holds the model in memory; the file can go
    serving.onnx(estimator, OrtNet(runner, list(graph.inputs), list(graph.outputs)))
