"""`lstmkit export --format onnx`: every variant of the layer maps to ONNX (its own LSTM operator, or a Scan)
and ONNX Runtime computes what PyTorch computes; each job's exported network answers what the job's Python
`predict` answers, for any batch size and sequence length; and a failed export leaves what was there."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lstmkit import LSTM
from lstmkit.cli import main
from lstmkit.errors import ConfigError
from lstmkit.export import run as export_run_module
from lstmkit.export.layer import OnnxLSTM, op_layer
from lstmkit.export.onnx import TOLERANCE, Graph, check, session, to_onnx
from lstmkit.tasks.classify.estimator import slice_views
from lstmkit.tasks.run import load_run

sys.path.insert(0, str(Path(__file__).parent))
from conftest import randomize_  # noqa: E402
from test_classify_archs import _shapes  # noqa: E402

VARIANTS = {
    "vanilla": {}, "peephole": {"peephole": True}, "cifg": {"cifg": True},
    "cifg+peephole": {"cifg": True, "peephole": True}, "layernorm": {"layernorm": True}, "projection": {"proj_size": 3},
}  # fmt: skip


class LayerOutputs(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x, lengths):
        output, (h, c) = self.layer(x, lengths=lengths)
        return output, h, c


def _layer(flags: dict) -> LSTM:
    return randomize_(LSTM(3, 5, 2, batch_first=True, bidirectional=True, **flags)).eval()


def _sample(batch: int, steps: int) -> dict:
    lengths = torch.randint(1, steps + 1, (batch,))
    lengths[-1] = steps
    return {"x": torch.randn(batch, steps, 3), "lengths": lengths}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_onnx_layer_computes_what_the_layer_computes(variant):
    """In PyTorch (no ONNX Runtime): the weights in ONNX's layout and gate order, ONNX's coupled gate and
    peepholes, and the Scan's step give the layer's outputs and final states, with and without lengths."""
    layer = _layer(VARIANTS[variant])
    onnx_layer = OnnxLSTM(layer).eval()
    x = torch.randn(4, 7, 3)
    for lengths in (torch.tensor([7, 5, 1, 3]), None):
        with torch.no_grad():
            want, (want_h, want_c) = layer(x, lengths=lengths)
            got, (got_h, got_c) = onnx_layer(x, lengths=lengths)
        for a, b in ((want, got), (want_h, got_h), (want_c, got_c)):
            assert a.shape == b.shape
            torch.testing.assert_close(b, a, atol=2e-6, rtol=0)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_onnx_runtime_matches_pytorch_for_every_variant(variant, tmp_path):
    """Two layers, both directions, lengths: ONNX Runtime within 1e-5 of PyTorch on batches of 1 to 4 sequences
    of 1 to 17 steps, from one export (dynamic batch and time). Vanilla, peephole and cifg layers are ONNX's own
    LSTM node; layer norm and projection, a Scan."""
    import onnx

    layer = _layer(VARIANTS[variant])
    graph = Graph(LayerOutputs(layer), _sample(3, 6), ["output", "h_n", "c_n"],
                  {"x": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}, _sample)  # fmt: skip
    path = tmp_path / "layer.onnx"
    to_onnx(graph, path)
    ops = {node.op_type for node in onnx.load(path).graph.node}
    assert ("LSTM" in ops) == op_layer(layer.specs[0]) and ("Scan" in ops) != op_layer(layer.specs[0])
    assert check(graph, path, shapes=((1, 1), (2, 3), (4, 17))) <= TOLERANCE
    runner = session(path)
    x = torch.randn(2, 9, 3)
    outputs = runner.run(None, {"x": x.numpy(), "lengths": np.array([9, 4])})
    assert outputs[0].shape == (2, 9, 2 * layer.output_size) and np.all(outputs[0][1, 4:] == 0)  # zero past the end


def test_check_fails_when_onnx_runtime_disagrees(tmp_path):
    """`check` is not a formality: a graph whose PyTorch module changed after the export is refused."""
    layer = _layer({})
    graph = Graph(LayerOutputs(layer), _sample(3, 6), ["output", "h_n", "c_n"],
                  {"x": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}, _sample)  # fmt: skip
    to_onnx(graph, tmp_path / "layer.onnx")
    with torch.no_grad():
        layer.weight_hh_l0.add_(1e-3)
    with pytest.raises(ConfigError, match="differs from PyTorch"):
        check(graph, tmp_path / "layer.onnx")


class Offsets(nn.Module):
    """Each sequence's outputs: `offsets` (2,), whatever the sequence (x read, so the graph has an input)."""

    def __init__(self, offsets):
        super().__init__()
        self.offsets = nn.Parameter(torch.tensor(offsets))

    def forward(self, x):
        return x[:, :1, 0] * 0 + self.offsets  # (B, 2)


def _offsets_after_export(offsets: list, changed: float, tmp_path) -> float:
    """`check` of a graph exported with `offsets`, whose PyTorch module's second offset then moves by `changed`."""
    module = Offsets(offsets)
    sample = lambda batch, steps: {"x": torch.randn(batch, steps, 1)}  # noqa: E731
    graph = Graph(module, sample(2, 3), ["y"], {"x": {0: "batch", 1: "time"}}, sample)
    to_onnx(graph, tmp_path / "offsets.onnx")
    with torch.no_grad():
        module.offsets[1] += changed
    return check(graph, tmp_path / "offsets.onnx")


def test_check_measures_a_difference_against_the_largest_value_of_the_sequences_output(tmp_path):
    """A rounding-sized difference in a small value beside a large one passes (a logit that large terms cancel
    into carries their rounding); the same difference where the sequence's values are small is refused."""
    assert _offsets_after_export([5e3, 0.5], 2e-5, tmp_path) == pytest.approx(2e-5 / 5e3, rel=1e-2)
    with pytest.raises(ConfigError, match=r"differs from PyTorch's by 2e-05 \(relative\), above 1e-05"):
        _offsets_after_export([1.0, 0.5], 2e-5, tmp_path)


def test_check_draws_the_same_inputs_every_time_and_leaves_the_callers_random_state(tmp_path):
    layer = _layer({})
    graph = Graph(LayerOutputs(layer), _sample(3, 6), ["output", "h_n", "c_n"],
                  {"x": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}, _sample)  # fmt: skip
    to_onnx(graph, tmp_path / "layer.onnx")
    torch.manual_seed(5)
    state = torch.get_rng_state()
    first = check(graph, tmp_path / "layer.onnx")
    assert torch.equal(torch.get_rng_state(), state)
    assert check(graph, tmp_path / "layer.onnx") == first


# ---- each job's network, through the command line -----------------------------------------------------


def _export(run: Path, out: Path, capsys) -> dict:
    capsys.readouterr()
    assert main(["export", str(run), "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model"] == str(out) and printed["files"] and all(Path(f).exists() for f in printed["files"])
    sidecar = json.loads(Path(printed["sidecar"]).read_text())
    assert sidecar["checked"]["largest_relative_difference"] <= TOLERANCE
    return sidecar


def test_exported_forecaster_forecasts_what_predict_forecasts(tiny_runs, tmp_path, capsys):
    """The ONNX forecaster, fed the windows the forecaster builds from the sidecar's state, gives
    `lstmkit predict`'s forecasts; its history may be longer than the lookback."""
    sidecar = _export(tiny_runs["forecast"], tmp_path / "f.onnx", capsys)
    assert sidecar["job"] == "forecast" and sidecar["model"]["lookback"] == 24 and sidecar["inputs"][0]["shape"] == ["batch", "time", 1]
    forecaster = load_run(tiny_runs["forecast"])
    series = forecaster.panel_.series[0]
    x, seasonal = forecaster._inputs(0, series, np.array([len(series)]), forecaster.lookback_, forecaster._phase(0, series))
    onnx_forecast = session(tmp_path / "f.onnx").run(None, {"x": x.astype(np.float32), "seasonal": seasonal.astype(np.float32)})[0]
    np.testing.assert_allclose(onnx_forecast[0, :, 0], forecaster.predict()["sales"].to_numpy(), rtol=1e-5)
    longer, seasonal = forecaster._inputs(0, series, np.array([len(series)]) , 40, forecaster._phase(0, series))
    assert session(tmp_path / "f.onnx").run(None, {"x": longer.astype(np.float32), "seasonal": seasonal.astype(np.float32)})[0].shape == (1, 3, 1)


def test_exported_forecaster_of_intermittent_demand_forecasts_what_predict_forecasts(tmp_path, capsys):
    """A forecaster of intermittent demand (its windows in units of their whole mean, a window without a sale
    at ETS's level, nothing below zero) exports as it forecasts, from the run loaded back as from the fitted one."""
    import pandas as pd

    rng = np.random.default_rng(4)
    sales = np.where(rng.random(300) < 0.25, rng.integers(1, 4, 300), 0)
    sales[-14:] = 0  # the last two weeks without a sale
    pd.DataFrame({"day": pd.date_range("2024-01-01", periods=300, freq="D").strftime("%Y-%m-%d"), "sales": sales}).to_csv(
        tmp_path / "item.csv", index=False)
    assert main([str(a) for a in ["train", "forecast", "--data", tmp_path / "item.csv", "--target", "sales", "--time-col", "day",
                                  "--horizon", "5", "--lookback", "14", "--hidden", "8", "--epochs", "3", "--quiet",
                                  "--out", tmp_path / "run"]]) == 0  # fmt: skip
    _export(tmp_path / "run", tmp_path / "f.onnx", capsys)
    forecaster = load_run(tmp_path / "run")
    assert forecaster.intermittent_ and all(net.intermittent for net in forecaster.members_)
    series = forecaster.panel_.series[0]
    x, seasonal = forecaster._inputs(0, series, np.array([len(series)]), forecaster.lookback_, forecaster._phase(0, series))
    x = np.repeat(x, 3, axis=0)  # the last window, without a sale; and two with sales, one of them big
    x[1, [3, 9], 0], x[2, [5, 12, 13], 0] = [2.0, 1.0], [1.0, 3.0, 40.0]
    seasonal = np.repeat(seasonal, 3, axis=0)
    onnx_forecast = session(tmp_path / "f.onnx").run(None, {"x": x.astype(np.float32), "seasonal": seasonal.astype(np.float32)})[0]
    with torch.no_grad():  # the mean of its members: one series keeps the early-stopped network beside the refit one
        torch_forecast = np.mean([net.eval()(torch.from_numpy(x).float(), torch.from_numpy(seasonal).float()).numpy()
                                  for net in forecaster.members_], axis=0)  # fmt: skip
    np.testing.assert_allclose(onnx_forecast, torch_forecast, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(onnx_forecast[0, :, 0], forecaster.predict()["sales"].to_numpy(), rtol=1e-5)
    assert (onnx_forecast >= 0).all() and (onnx_forecast[0, :, 0] > 0).all()  # two weeks without a sale: ETS's rate, not 0


def test_exported_text_classifier_gives_predict_proba(tiny_runs, tmp_path, capsys):
    sidecar = _export(tiny_runs["classify"], tmp_path / "c.onnx", capsys)
    assert sidecar["model"]["classes"] == ["neg", "pos"] and sidecar["model"]["vocab"]["tokens"][:2] == ["<pad>", "<unk>"]
    classifier = load_run(tiny_runs["classify"])
    texts = ["a good film", "that awful film", "bad", "this great great film unseen"]
    encoded = [classifier.vocab_.encode(classifier._tokens(t)) for t in texts]
    ids = np.zeros((len(texts), max(map(len, encoded))), dtype=np.int64)
    for k, e in enumerate(encoded):
        ids[k, : len(e)] = e
    proba = session(tmp_path / "c.onnx").run(["probabilities"], {"x": ids, "lengths": np.array([len(e) for e in encoded])})[0]
    encoded_texts = classifier._encode(classifier._read(texts, labelled=False))
    np.testing.assert_allclose(proba, classifier._network_proba(encoded_texts), atol=1e-6)  # the network alone
    mix = sidecar["model"]["tfidf_mix"]  # a model that mixes TF-IDF in: the sidecar's powers give predict_proba
    assert mix is not None
    product = proba ** mix[0] * classifier.text_baseline_.proba(texts) ** mix[1]
    np.testing.assert_allclose(product / product.sum(axis=1, keepdims=True), classifier.predict_proba(texts), atol=1e-6)


def test_exported_language_model_carries_its_state(tiny_runs, tmp_path, capsys):
    """Reading a text in two pieces, the second from the first's state, gives the logits of reading it whole;
    and those are the PyTorch model's."""
    _export(tiny_runs["lm"], tmp_path / "lm.onnx", capsys)
    model = load_run(tiny_runs["lm"]).model_
    runner = session(tmp_path / "lm.onnx")
    ids = torch.randint(0, model.decoder.out_features, (2, 12))
    zeros = np.zeros((2, 2, 16), dtype=np.float32)
    whole = runner.run(None, {"ids": ids.numpy(), "h0": zeros, "c0": zeros})
    first = runner.run(None, {"ids": ids[:, :5].numpy(), "h0": zeros, "c0": zeros})
    second = runner.run(None, {"ids": ids[:, 5:].numpy(), "h0": first[1], "c0": first[2]})
    np.testing.assert_allclose(np.concatenate([first[0], second[0]], axis=1), whole[0], atol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(whole[0], model(ids)[0].numpy(), atol=1e-5)


def test_exported_anomaly_detector_predicts_the_next_step(tiny_runs, tmp_path, capsys):
    sidecar = _export(tiny_runs["anomaly"], tmp_path / "a.onnx", capsys)
    detector = load_run(tiny_runs["anomaly"])
    assert sidecar["model"]["scaler"] == detector.scaler_.to_dict() and sidecar["model"]["lookback"] == detector.lookback_
    windows = torch.randn(5, detector.lookback_, 1)
    got = session(tmp_path / "a.onnx").run(None, {"x": windows.numpy()})[0]
    np.testing.assert_allclose(got, detector._predict_windows(windows), atol=1e-5)


def _npz(path: Path, data) -> Path:
    """Sequences of unequal lengths as an .npz archive, NaN past each sequence's end."""
    X = np.full((len(data.sequences), max(len(s) for s in data.sequences), 1), np.nan, dtype=np.float32)
    for k, s in enumerate(data.sequences):
        X[k, : len(s)] = s
    np.savez(path, X=X, y=np.asarray(data.labels))
    return path


def test_lstm_fcn_ensemble_with_unequal_lengths_exports(tmp_path, capsys):
    """The numeric classifier's default network (LSTM-FCN: convolutions at two time scales, masked batch norm,
    segments), two members averaged, a layer-norm LSTM branch: ONNX Runtime gives predict_proba's
    probabilities for sequences of unequal lengths padded into one batch."""
    # up to 139 steps: the LSTM branch reads segments of 2 steps
    train, test = _npz(tmp_path / "train.npz", _shapes(30, 0, lengths=(70, 140))), _npz(tmp_path / "test.npz", _shapes(6, 1))
    # one epoch (the plateau schedule: the small-data recipe's cosine trains thousands of steps whatever
    # --epochs says), so the probabilities compared are far from 0 and 1
    assert main(["train", "classify", "--data", str(train), "--test", str(test), "--hidden", "8", "--epochs", "1",
                 "--schedule", "plateau", "--ensemble", "2", "--variant", "layernorm", "--slice-views", "3", "--quiet",
                 "--out", str(tmp_path / "run")]) == 0  # fmt: skip
    sidecar = _export(tmp_path / "run", tmp_path / "run" / "model.onnx", capsys)
    assert sidecar["model"]["arch"] == "lstm-fcn" and sidecar["model"]["segment"] == 2
    assert sidecar["inputs"][0]["shape"] == ["batch", "time", 1]
    classifier = load_run(tmp_path / "run")
    new = _shapes(5, 2, lengths=(10, 200))
    # trained on window slices (augment "auto", these shapes lying anywhere) with --slice-views 3, predict_proba averages
    # the graph's probabilities over each sequence's views, as the sidecar says: the whole and 3 windows (slice_views)
    assert sidecar["model"]["augment"] == "slicing" and sidecar["model"]["params"]["slice_views"] == 3
    assert "slice_views" in sidecar["reads"]
    views = [slice_views(e, sidecar["model"]["params"]["slice_views"]) for e in classifier._encode(new)]
    flat = [view for group in views for view in group]
    x = np.zeros((len(flat), max(len(e) for e in flat), 1), dtype=np.float32)
    for k, e in enumerate(flat):
        x[k, : len(e)] = e.numpy()
    runner = session(tmp_path / "run" / "model.onnx")
    proba = runner.run(["probabilities"], {"x": x, "lengths": np.array([len(e) for e in flat])})[0]
    proba = np.stack([part.mean(axis=0) for part in np.split(proba, np.cumsum([len(g) for g in views])[:-1])])
    expected = classifier.predict_proba(new)
    assert 0.05 < expected.max() < 0.95  # not saturated: the comparison has something to compare
    np.testing.assert_allclose(proba, expected, atol=1e-5)


# ---- errors -----------------------------------------------------------------------------------------------


def test_exported_seq2seq_decodes_what_translate_decodes(tiny_runs, tmp_path, capsys):
    """Two graphs, the encoder and one decoder step (copy attention included: its output is V + S wide), written
    beside each other; beam search and greedy decoding run on ONNX Runtime give `translate`'s outputs."""
    from lstmkit.export.onnx import OrtNet
    from lstmkit.tasks.seq2seq.net import OnnxSeq2Seq

    out = tmp_path / "pairs.onnx"
    sidecar = _export(tiny_runs["seq2seq"], out, capsys)
    assert sorted(sidecar["parts"]) == ["decoder", "encoder"] and not out.exists()
    files = {part: tmp_path / graph["file"] for part, graph in sidecar["parts"].items()}
    assert files == {"encoder": tmp_path / "pairs.encoder.onnx", "decoder": tmp_path / "pairs.decoder.onnx"}
    seq2seq = load_run(tiny_runs["seq2seq"])
    assert seq2seq.model_.copies and "copy_ids" in [i["name"] for i in sidecar["parts"]["decoder"]["inputs"]]
    sources = ["red green blue", "stone river cloud green", "blue"]
    expected = {beam: seq2seq.translate(sources, beam=beam) for beam in (1, 2)}
    nets = {part: OrtNet(session(path), [i["name"] for i in sidecar["parts"][part]["inputs"]],
                         [o["name"] for o in sidecar["parts"][part]["outputs"]]) for part, path in files.items()}  # fmt: skip
    seq2seq.model_ = OnnxSeq2Seq(nets["encoder"], nets["decoder"], True, seq2seq.model_.target_vocab)
    assert {beam: seq2seq.translate(sources, beam=beam) for beam in (1, 2)} == expected


def test_a_failed_check_writes_nothing(tiny_runs, tmp_path, monkeypatch, capsys):
    out = tmp_path / "model.onnx"
    out.write_bytes(b"the user's file")

    def disagree(graph, path, shapes=None, runner=None):
        raise ConfigError("the ONNX model differs from PyTorch's by 0.5 (relative), above 1e-05")

    monkeypatch.setattr("lstmkit.export.onnx.check", disagree)
    capsys.readouterr()
    assert main(["export", str(tiny_runs["anomaly"]), "--out", str(out)]) == 2
    assert "differs from PyTorch" in capsys.readouterr().err
    assert out.read_bytes() == b"the user's file" and list(tmp_path.iterdir()) == [out]


def test_export_errors_are_one_line(tiny_runs, tmp_path, monkeypatch, capsys):
    capsys.readouterr()
    assert main(["export", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["export", str(tiny_runs["anomaly"]), "--format", "tflite"]) == 2
    assert "tflite" in capsys.readouterr().err
    monkeypatch.setattr(export_run_module, "PACKAGES", ("onnx", "an_onnx_package_not_installed"))
    assert main(["export", str(tiny_runs["anomaly"]), "--out", str(tmp_path / "m.onnx")]) == 2
    assert capsys.readouterr().err == ("lstmkit: error: exporting to ONNX needs an_onnx_package_not_installed: "
                                       "pip install 'lstmkit[onnx]'\n")  # fmt: skip
