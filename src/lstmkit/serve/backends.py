"""`lstmkit serve --backend onnx`: the estimator's network exported at start, checked against PyTorch, and
replaced by ONNX Runtime; the estimator's own reading of requests and shaping of answers stay."""

from __future__ import annotations

import tempfile

from ..errors import ConfigError


def use_onnx(estimator, serving, threads: int = 0) -> None:
    """The estimator's network replaced by ONNX Runtime sessions, each running a call on `threads` threads
    (0: ONNX Runtime's default, one per core)."""
    if getattr(serving, "onnx", None) is None:
        raise ConfigError(f"a {estimator.noun} cannot be served on ONNX Runtime yet; use --backend torch")
    from ..export.onnx import OrtNet, onnx_session_of

    graphs = estimator.export_graph()  # one Graph, or a dict of them by part (seq2seq: encoder, decoder)
    nets = {}
    for part, graph in (graphs.items() if isinstance(graphs, dict) else [(None, graphs)]):
        with tempfile.TemporaryDirectory(prefix="lstmkit-serve-") as folder:
            runner = onnx_session_of(graph, folder, threads)  # the session holds the model in memory; the file can go
        nets[part] = OrtNet(runner, list(graph.inputs), list(graph.outputs))
    serving.onnx(estimator, nets if isinstance(graphs, dict) else nets[None])
