"""benchmarks/serve_load.py's in-process costs: both backends time the same network (their outputs agree),
and `batch_costs` gives a cost per sequence, alone and batched, for each backend and length asked."""

import math

import pytest
import torch

from conftest import load_benchmark

pytest.importorskip("onnxruntime")


def test_batch_costs_time_one_network_on_both_backends(tmp_path):
    bench = load_benchmark("serve_load")
    run = bench.train_run(tmp_path, "lstm", 8)
    estimator, nets = bench.networks(run, threads=1)
    x, lengths = torch.randn(5, 20, estimator.inputs_), torch.tensor([20, 17, 20, 3, 9])
    with torch.no_grad():
        expected = nets["torch"](x, lengths)
    torch.testing.assert_close(nets["onnx"](x, lengths), expected, rtol=1e-5, atol=1e-5)
    threads = torch.get_num_threads()
    try:
        costs = bench.batch_costs(run, lengths=(20, 40), batch=4)
    finally:
        torch.set_num_threads(threads)  # batch_costs measures on one thread
    assert [(c["backend"], c["steps"]) for c in costs] == [("torch", 20), ("onnx", 20), ("torch", 40), ("onnx", 40)]
    assert all(0 < c[key] < math.inf for c in costs for key in ("alone_ms", "batched_ms"))
