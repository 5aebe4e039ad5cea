"""The LSTM-FCN family of sequence classifiers: padding never changes a sequence's logits, the inspector sees
the LSTM branch, ensembles average their members, and the small-data recipe (cosine schedule, weight
averaging, augmentation) does what it says."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lstmkit.data import LabelledSequences
from lstmkit.errors import ConfigError
from lstmkit.gates import trace
from lstmkit.tasks.classify.estimator import (SHIFT_GAIN, TAIL_RATIO, SequenceClassifier, augmented, heavy_tailed, shift_gain,
                                               slice_views, spread_scale)
from lstmkit.tasks.classify.net import (FCN_SCALES, ClassifierNet, EnsembleNet, FCNBranch, MaskedBatchNorm1d, MaskedNorm, Moments,
                                         first_block_maxima, segments, step_mask)
from lstmkit.train import TrainConfig, fit
from lstmkit.train.precision import native_bf16
from lstmkit.train.progress import Reporter

FCN_ARCHS = ["lstm-fcn", "alstm-fcn"]
SCRIPT = Path(sys.executable).parent / "lstmkit"


def _shapes(n: int, seed: int, channels: int = 1, lengths=(20, 41)) -> LabelledSequences:
    """Noisy sequences of unequal length holding one bump, one dip or one step at a random place (3 classes);
    with several channels the shape is in channel 0 and the others are noise."""
    rng = np.random.default_rng(seed)
    sequences, labels = [], []
    for i in range(n):
        T = int(rng.integers(*lengths))
        x = rng.normal(0, 0.2, (T, channels)).astype(np.float32)
        at = int(rng.integers(3, T - 8))
        label = ("bump", "dip", "step")[i % 3]
        x[at : at + 5, 0] += {"bump": 2.0, "dip": -2.0}.get(label, 0.0)
        if label == "step":
            x[at:, 0] += 1.5
        sequences.append(x)
        labels.append(label)
    return LabelledSequences(sequences, labels, f"shapes({n}, {seed})", "numeric")


def _net(arch: str, channels: int, segment: int, fcn_stride: int = 1, fcn_scales=(1, 4), pool: str = "max") -> ClassifierNet:
    torch.manual_seed(0)
    return ClassifierNet(3, n_features=channels, hidden=8, arch=arch, segment=segment, fcn_stride=fcn_stride,
                         fcn_scales=fcn_scales, first_block_pool=pool)  # fmt: skip


def _batch(sequences: list[torch.Tensor], steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, steps, F) zero-padded, and the lengths."""
    x = torch.zeros(len(sequences), steps, sequences[0].shape[1])
    for k, s in enumerate(sequences):
        x[k, : len(s)] = s
    return x, torch.tensor([len(s) for s in sequences])


# ---- lengths and padding ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pool", ["max", "means"])
@pytest.mark.parametrize("arch", ["lstm", *FCN_ARCHS])
@pytest.mark.parametrize("channels, segment, fcn_stride, fcn_scales",
                         [(1, 1, 1, (1, 4)), (1, 4, 1, (1, 3)), (3, 3, 1, (1, 4)), (2, 2, 4, (1, 4)), (2, 1, 1, (1,))])  # fmt: skip
def test_padding_does_not_change_a_sequence_s_logits_in_eval_mode(arch, channels, segment, fcn_stride, fcn_scales, pool):
    net = _net(arch, channels, segment, fcn_stride, fcn_scales, pool).eval()
    torch.manual_seed(1)
    short, long = torch.randn(9, channels), torch.randn(30, channels)
    alone = net(*_batch([short], 9))
    padded = net(*_batch([short, long], 37))  # padded to 37 steps, past the longest too
    torch.testing.assert_close(padded[0], alone[0], rtol=0, atol=1e-5)


@pytest.mark.parametrize("arch", FCN_ARCHS)
def test_padding_does_not_change_the_batch_norm_statistics_while_training(arch):
    net = _net(arch, 2, 2, fcn_stride=2).train()  # dropout 0: training mode differs from eval only by batch statistics
    torch.manual_seed(1)
    sequences = [torch.randn(9, 2), torch.randn(14, 2)]
    tight, loose = net(*_batch(sequences, 14)), net(*_batch(sequences, 40))
    torch.testing.assert_close(loose, tight, rtol=0, atol=1e-5)
    bn = net.fcn.norms[0]
    assert bn.num_batches_tracked.item() == 2


def test_segments_hold_consecutive_steps_of_every_feature():
    x = torch.arange(2 * 7 * 2, dtype=torch.float32).reshape(2, 7, 2)  # (B, T, F)
    seg, lengths = segments(x, torch.tensor([7, 4]), 3)
    assert seg.shape == (2, 3, 6) and lengths.tolist() == [3, 2]
    torch.testing.assert_close(seg[0, 1], x[0, 3:6].reshape(-1))
    assert seg[0, 2, 2:].abs().sum() == 0  # the last segment zero-filled past the end


@pytest.mark.parametrize("arch", FCN_ARCHS)
def test_fcn_archs_learn_unequal_length_shapes(arch):
    model = SequenceClassifier(arch=arch, hidden=8, epochs=20, lr=1e-2, val_frac=0.1, test_frac=0.25)
    model.fit(_shapes(120, 0, channels=2))
    assert model.arch_ == arch and model.schedule_ == "cosine" and model.segment_ == 1
    assert model.metrics_["accuracy"] >= 0.95
    assert model.evaluate(_shapes(60, 1, channels=2))["test"]["accuracy"] >= 0.9


def test_numeric_default_is_an_fcn_arch_and_text_keeps_the_plain_lstm():
    from lstmkit.tasks.classify.settings import ARCHS, NUMERIC_ARCH

    assert NUMERIC_ARCH in ARCHS
    model = SequenceClassifier(hidden=4, epochs=1, schedule="plateau").fit(_shapes(30, 0))
    assert model.arch_ == NUMERIC_ARCH
    texts = LabelledSequences(["good film", "bad film"] * 10, ["pos", "neg"] * 10, "texts", "text")
    text_model = SequenceClassifier(hidden=4, epochs=1, min_freq=1).fit(texts)
    assert text_model.arch_ == "lstm" and text_model.schedule_ == "plateau" and text_model.model_.fcn is None


def test_long_series_are_read_by_the_lstm_branch_in_segments():
    model = SequenceClassifier(arch="lstm-fcn", hidden=4, epochs=1, schedule="plateau").fit(_shapes(30, 0, lengths=(195, 200)))
    assert model.segment_ == 2  # ceil(195..199 / 128)
    assert model.model_.lstm.input_size == 2
    assert model.fcn_stride_ == 1  # up to 256 steps the FCN branch reads every one


def window_max(h: torch.Tensor, lengths: torch.Tensor, mask, size: int):
    """The pooling `first_block_maxima` stands for, written out: (B, C, T) of a ReLU -> the maximum over the
    real steps of each window of `size` steps (zero for a window past a sequence's end), the lengths in
    windows and their mask (None stays None)."""
    steps = -(-h.size(2) // size)
    h = h if mask is None else h * mask[:, None, :].to(h.dtype)
    h = torch.nn.functional.pad(h, (0, steps * size - h.size(2))).reshape(h.size(0), h.size(1), steps, size).amax(dim=3)
    lengths = torch.div(lengths + size - 1, size, rounding_mode="floor")
    return h, lengths, None if mask is None else step_mask(lengths, steps, "cpu")


def every_step(branch: FCNBranch, h: torch.Tensor, mask) -> torch.Tensor:
    """The first block of `branch` (convolution, batch norm, ReLU) at every step of h (B, F, T), as
    `first_block_maxima` stands for it before pooling."""
    return torch.relu(branch.norms[0](branch.convs[0](torch.nn.functional.pad(h, branch.pads[0])), mask))


def test_the_reference_window_max_takes_the_maximum_of_each_window_over_its_real_steps_only():
    h = torch.tensor([[[1.0, 5.0, 2.0, 0.5, 3.0, 0.0, 7.0]], [[4.0, 0.0, 0.2, 9.0, 9.0, 9.0, 9.0]]])  # (2, 1, 7), a ReLU's
    lengths = torch.tensor([7, 3])
    pooled, windows, mask = window_max(h, lengths, step_mask(lengths, 7, "cpu"), 3)
    assert windows.tolist() == [3, 1] and mask.tolist() == [[True] * 3, [True, False, False]]
    torch.testing.assert_close(pooled[0, 0], torch.tensor([5.0, 3.0, 7.0]))  # the last window holds one step
    torch.testing.assert_close(pooled[1, 0], torch.tensor([4.0, 0.0, 0.0]))  # the 9s lie past the end: never read
    full, windows, mask = window_max(h[:1], lengths[:1], None, 3)
    assert mask is None and windows.tolist() == [3]
    torch.testing.assert_close(full, pooled[:1])


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("squeeze_excite", [False, True])
def test_first_block_maxima_equal_the_window_maxima_of_the_normalised_block_values_gradients_and_statistics(masked, squeeze_excite):
    torch.manual_seed(0)
    fast = FCNBranch(2, squeeze_excite=squeeze_excite, pool=5).double()
    with torch.no_grad():
        fast.norms[0].weight.uniform_(-1, 1), fast.norms[0].bias.normal_()  # channels of either sign
    slow = copy.deepcopy(fast)
    lengths = torch.tensor([53, 30, 17, 53]) if masked else torch.full((4,), 53)
    x = torch.randn(4, 53, 2, dtype=torch.float64) * step_mask(lengths, 53, "cpu")[:, :, None]

    def normalised_then_pooled(branch, h, mask):  # every step through the block, then window_max
        h = every_step(branch, h, mask)
        h = h if isinstance(branch.excite[0], torch.nn.Identity) else branch.excite[0](h, mask)
        return window_max(h, lengths, mask, 5)

    for training in (True, False):
        fast.train(training), slow.train(training)
        mask = step_mask(lengths, 53, "cpu") if masked else None
        h_fast, h_slow = (x.transpose(1, 2).clone().requires_grad_() for _ in range(2))
        got, got_lengths, got_mask = first_block_maxima(fast.convs[0], fast.pads[0], fast.norms[0], fast.excite[0], h_fast, lengths, mask, 5)
        expected, windows, window_mask = normalised_then_pooled(slow, h_slow, mask)
        assert got_lengths.tolist() == windows.tolist() == ([11, 6, 4, 11] if masked else [11] * 4)
        assert (got_mask is None) == (window_mask is None) == (not masked)
        real = torch.ones_like(got, dtype=torch.bool) if window_mask is None else window_mask[:, None, :].expand_as(got)
        torch.testing.assert_close(got[real], expected[real])  # windows past an end: masked by whatever reads them
        grad = torch.randn_like(got) * real
        (got * grad).sum().backward(), (expected * grad).sum().backward()
        torch.testing.assert_close(h_fast.grad, h_slow.grad)
        for a, b in zip(fast.parameters(), slow.parameters()):
            torch.testing.assert_close(a.grad, b.grad)
        torch.testing.assert_close(fast.norms[0].running_mean, slow.norms[0].running_mean)
        torch.testing.assert_close(fast.norms[0].running_var, slow.norms[0].running_var)
        fast.zero_grad(), slow.zero_grad()
    assert int(fast.norms[0].num_batches_tracked) == 1


def test_first_block_maxima_of_series_shorter_than_one_window():
    branch = FCNBranch(1, squeeze_excite=False, pool=12).eval()
    x, lengths = torch.randn(2, 1, 3), torch.tensor([3, 1])
    x[1, :, 1:] = 0
    pooled, windows, mask = first_block_maxima(branch.convs[0], branch.pads[0], branch.norms[0], branch.excite[0], x,
                                               lengths, step_mask(lengths, 3, "cpu"), 12)  # fmt: skip
    assert pooled.shape == (2, 64, 1) and windows.tolist() == [1, 1] and mask.all()
    with torch.no_grad():
        every = every_step(branch, x, None)
    torch.testing.assert_close(pooled[:, :, 0], torch.stack([every[0].amax(dim=1), every[1, :, 0]]))


def test_moments_gradient_matches_finite_differences():
    torch.manual_seed(0)
    x = torch.randn(3, 2, 9, dtype=torch.float64, requires_grad=True)
    m = step_mask(torch.tensor([9, 4, 6]), 9, "cpu")[:, None, :].double()
    assert torch.autograd.gradcheck(lambda x: Moments.apply(x, m, torch.float64)[:2], (x,))
    assert torch.autograd.gradcheck(lambda x: Moments.apply(x, None, torch.float64)[:2], (x,))
    mean, var, n = Moments.apply(x, m, torch.float64)
    real = x.transpose(0, 1)[m.transpose(0, 1).expand(2, 3, 9) > 0].view(2, -1)  # (C, real steps)
    torch.testing.assert_close(mean, real.mean(dim=1)), torch.testing.assert_close(var, real.var(dim=1, unbiased=False))
    assert int(n) == 19


def test_series_longer_than_256_steps_reach_the_fcn_branch_as_the_maxima_of_its_first_block(tmp_path):
    model = SequenceClassifier(arch="lstm-fcn", hidden=4, epochs=1, schedule="plateau").fit(_shapes(30, 0, lengths=(520, 530)))
    assert model.fcn_stride_ == 3  # ceil(520..529 / 256)
    assert model.first_block_pool_ == "max" and model.model_.fcn.pool == 3 and model.model_.coarse[0].pool == 12
    seen = {}
    for name, branch in (("fine", model.model_.fcn), ("coarse", model.model_.coarse[0])):
        branch.register_forward_hook(lambda module, inputs, output, name=name: seen.update({name: inputs[0]}))
        second = branch.convs[1]  # the second block's conv
        second.register_forward_hook(lambda module, inputs, output, name=name: seen.update({name + " 2": inputs[0]}))
    x = torch.randn(2, 30, 1)
    model.model_.eval()(x, torch.tensor([30, 21]))
    torch.testing.assert_close(seen["fine"], x)  # every branch reads every step of the series
    torch.testing.assert_close(seen["coarse"], x)
    for name, pool, branch in (("fine", 3, model.model_.fcn), ("coarse", 12, model.model_.coarse[0])):
        with torch.no_grad():  # the first block (convolution, batch norm, ReLU) at every step of sequence 0
            first = every_step(branch, x[:1].transpose(1, 2), None)[0]
        left, right = model.model_.fcn.pads[1]
        second = seen[name + " 2"][0, :, left : -right or None]  # (C, ceil(30 / pool)): what the second conv read
        assert second.shape[1] == -(-30 // pool)
        expected = torch.nn.functional.pad(first, (0, (-30) % pool), value=float("-inf")).view(first.size(0), -1, pool).amax(dim=2)
        torch.testing.assert_close(second, expected)
    model.save(tmp_path / "run")
    loaded = SequenceClassifier.load(tmp_path / "run")
    assert loaded.fcn_stride_ == 3 and loaded.first_block_pool_ == "max" and loaded.model_.coarse[0].pool == 12


def test_a_run_saved_when_the_fcn_branch_read_window_means_loads_and_predicts_as_it_did(tmp_path, monkeypatch):
    data = _shapes(30, 0, lengths=(520, 530))
    monkeypatch.setattr("lstmkit.tasks.classify.net.FIRST_BLOCK_POOL", "means")
    old = SequenceClassifier(arch="lstm-fcn", hidden=4, epochs=1, schedule="plateau").fit(data)
    monkeypatch.undo()
    seen = []
    old.model_.fcn.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    x = torch.randn(2, 10, 1)
    old.model_.eval()(x, torch.tensor([10, 7]))
    assert seen[0].shape == (2, 4, 1)  # ceil(10 / 3) windows
    torch.testing.assert_close(seen[0][0, :3, 0], x[0, :9, 0].view(3, 3).mean(dim=1))
    old.save(tmp_path / "old")
    state_file = tmp_path / "old" / SequenceClassifier.state_file
    state = json.loads(state_file.read_text())
    assert state.pop("first_block_pool") == "means"
    state_file.write_text(json.dumps(state))  # as runs saved before "max" existed
    loaded = SequenceClassifier.load(tmp_path / "old")
    assert loaded.first_block_pool_ == "means" and loaded.model_.fcn.pool == 1
    np.testing.assert_allclose(loaded.predict_proba(data.sequences[:3]), old.predict_proba(data.sequences[:3]), atol=1e-6)


def test_the_fcn_branch_reads_each_time_scale_with_its_own_convolutions_and_the_scales_are_saved(tmp_path, monkeypatch):
    data = _shapes(30, 0, lengths=(520, 530))
    model = SequenceClassifier(arch="lstm-fcn", hidden=4, epochs=1, schedule="plateau").fit(data)
    assert model.fcn_scales_ == list(FCN_SCALES) == [1, 4]
    assert model.model_.fcn is not model.model_.coarse[0] and len(model.model_.coarse) == 1
    x = torch.randn(2, 30, 1)
    logits = model.model_.eval()(x, torch.tensor([30, 21]))
    assert model.model_.head.in_features == model.hidden + 2 * model.model_.fcn.out_features
    model.save(tmp_path / "run")
    loaded = SequenceClassifier.load(tmp_path / "run")
    assert loaded.fcn_scales_ == [1, 4]
    torch.testing.assert_close(loaded.model_.eval()(x, torch.tensor([30, 21])), logits)
    assert SequenceClassifier(arch="lstm", hidden=4, epochs=1).fit(data).fcn_scales_ == [1]
    monkeypatch.setattr("lstmkit.tasks.classify.net.FCN_SCALES", (1,))  # a run saved before time scales existed
    old = SequenceClassifier(arch="lstm-fcn", hidden=4, epochs=1, schedule="plateau").fit(data)
    assert len(old.model_.coarse) == 0
    old.save(tmp_path / "old")
    state_file = tmp_path / "old" / SequenceClassifier.state_file
    state = json.loads(state_file.read_text())
    del state["fcn_scales"]
    state_file.write_text(json.dumps(state))
    monkeypatch.undo()
    np.testing.assert_allclose(SequenceClassifier.load(tmp_path / "old").predict_proba(data.sequences[:3]),
                               old.predict_proba(data.sequences[:3]), atol=1e-6)  # fmt: skip


# ---- the inspector ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", FCN_ARCHS)
def test_gate_trace_shows_the_lstm_branch_of_the_fcn_archs(arch):
    model = SequenceClassifier(arch=arch, hidden=5, epochs=1, schedule="plateau").fit(_shapes(30, 0, lengths=(195, 200)))
    series = np.sin(np.arange(130) / 5.0)
    found = trace(model, series)
    gates = found.gates[0][0]
    assert gates["f"].shape == (65, 5)  # ceil(130 / 2) segments, 5 units
    assert found.values.shape == (65, 1) and found.values[0, 0] == pytest.approx(series[:2].mean())
    x = model._encode(model._in_memory([series]))[0][None]  # (1, 130, 1) scaled as in training
    seg, lengths = segments(x, torch.tensor([130]), 2)
    with torch.no_grad():
        _, _, layers = model.model_.lstm(seg, lengths=lengths, return_trace=True)
    np.testing.assert_allclose(gates["f"], layers[0][0].f[:, 0].numpy(), atol=1e-6)


# ---- ensembles -------------------------------------------------------------------------------------------


def test_ensemble_averages_its_members_probabilities(tmp_path):
    data = _shapes(45, 0)
    model = SequenceClassifier(arch="lstm-fcn", ensemble=2, hidden=4, epochs=2, schedule="plateau").fit(data)
    assert isinstance(model.model_, EnsembleNet) and len(model.model_.members) == 2
    assert [row["member"] for row in model.history_] == [0, 0, 1, 1]  # history.csv: every member's epochs
    encoded = model._encode(data)
    x, lengths = _batch(encoded[:5], max(len(s) for s in encoded[:5]))
    with torch.no_grad():
        each = [torch.softmax(m(x, lengths), dim=-1) for m in model.model_.members]
    assert not torch.allclose(each[0], each[1])  # other seeds, other members
    np.testing.assert_allclose(model.predict_proba(data.subset(range(5))), ((each[0] + each[1]) / 2).numpy(), atol=1e-6)
    model.save(tmp_path)
    np.testing.assert_allclose(SequenceClassifier.load(tmp_path).predict_proba(data), model.predict_proba(data), atol=1e-6)


# ---- the recipe ------------------------------------------------------------------------------------------


class _Weights(Reporter):
    """Keeps a copy of the model's weights at the end of every epoch."""

    def __init__(self, model):
        super().__init__()
        self.model, self.seen = model, []

    def epoch(self, row: dict) -> None:
        self.seen.append(copy.deepcopy(self.model.state_dict()))


def test_weight_averaging_leaves_the_mean_of_the_last_epochs_weights():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    x, y = torch.randn(64, 3), torch.randn(64, 1)
    reporter = _Weights(model)
    fit(model, lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1]), (x, y), None,
        TrainConfig(epochs=6, batch_size=16, lr=0.05, schedule="cosine", patience=100), reporter=reporter,
        average_from=4)  # fmt: skip
    expected = torch.stack([w["weight"] for w in reporter.seen[3:]]).mean(dim=0)
    torch.testing.assert_close(model.weight.data, expected)
    assert not torch.allclose(model.weight.data, reporter.seen[-1]["weight"])


def test_averaged_weights_report_their_own_validation_loss():
    """A tuning trial is worth the weights the run keeps: with averaging, `Reporter.final` hears their loss."""

    class Final(Reporter):
        heard = []

        def final(self, val_loss: float) -> None:
            self.heard.append(val_loss)

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    x, y = torch.randn(64, 3), torch.randn(64, 1)
    xv, yv = torch.randn(32, 3), torch.randn(32, 1)
    loss = lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1])  # noqa: E731
    config = TrainConfig(epochs=6, batch_size=16, lr=0.05, schedule="cosine", patience=100)
    result = fit(model, loss, (x, y), (xv, yv), config, reporter=Final(), average_from=4)
    with torch.no_grad():
        own = torch.nn.functional.mse_loss(model(xv), yv).item()
    assert Final.heard == [pytest.approx(own, rel=1e-6)] and own != pytest.approx(result.best_val_loss)
    fit(torch.nn.Linear(3, 1), loss, (x, y), (xv, yv), config, reporter=Final())  # no averaging: the best epoch's
    assert len(Final.heard) == 1


def test_weight_averaging_recomputes_batch_norm_statistics_for_the_averaged_weights():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1))
    x, y = torch.randn(64, 3), torch.randn(64, 1)
    fit(model, lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1]), (x, y), None,
        TrainConfig(epochs=6, batch_size=64, lr=0.05, schedule="cosine", patience=100), average_from=3)  # fmt: skip
    with torch.no_grad():
        hidden = model[0](x)  # what the batch-norm layer reads with the averaged weights: one batch, all data
    norm = model[1]
    torch.testing.assert_close(norm.running_mean, hidden.mean(dim=0))
    torch.testing.assert_close(norm.running_var, hidden.var(dim=0))  # unbiased, as BatchNorm keeps it
    assert norm.momentum == 0.1 and not model.training


def test_recomputed_batch_norm_statistics_do_not_follow_the_order_of_the_data():
    """A training file sorted by class: batches taken in its order would each hold one class, and the mean of
    their variances would miss the spread between the classes, which every training batch held."""
    from lstmkit.train.batches import TensorBatches
    from lstmkit.train.loop import refresh_batch_norm

    torch.manual_seed(0)
    x = torch.cat([torch.randn(64, 2) - 3, torch.randn(64, 2) + 3])  # class 0, then class 1: variance about 10
    model = torch.nn.BatchNorm1d(2)
    refresh_batch_norm(model, lambda m, b: m(b[0]).sum(), TensorBatches((x,), 16, True), TrainConfig(seed=3), "cpu")
    torch.testing.assert_close(model.running_mean, x.mean(dim=0), atol=0.3, rtol=0)
    torch.testing.assert_close(model.running_var, x.var(dim=0), rtol=0.15, atol=0)
    assert not model.training and model.momentum == 0.1


def test_masked_batch_norm_matches_autograd_through_the_masked_statistics():
    torch.manual_seed(0)
    x = torch.randn(5, 4, 23, dtype=torch.float64, requires_grad=True)
    mask = step_mask(torch.tensor([23, 7, 12, 1, 20]), 23, "cpu")
    norm = MaskedBatchNorm1d(4).double()
    with torch.no_grad():
        norm.weight.uniform_(-1.5, 1.5), norm.bias.normal_()
    m = mask[:, None, :].double()

    def by_autograd(x, weight, bias):  # the statistics of the real steps; every step normalised by them
        n = m.sum()
        mean = (x * m).sum(dim=(0, 2)) / n
        var = (((x - mean[None, :, None]) * m) ** 2).sum(dim=(0, 2)) / n
        return (x - mean[None, :, None]) * (weight / torch.sqrt(var + norm.eps))[None, :, None] + bias[None, :, None]

    params = (x, norm.weight, norm.bias)
    grad = torch.randn(5, 4, 23, dtype=torch.float64)  # nonzero on the padding too
    expected = torch.autograd.grad((by_autograd(*params) * grad).sum(), params)
    got = torch.autograd.grad((norm(x, mask) * grad).sum(), params)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(norm(x, mask), by_autograd(*params))
    assert torch.autograd.gradcheck(lambda *p: MaskedNorm.apply(*p, m, norm.eps)[0], params)
    unbiased = ((x - (x * m).sum(dim=(0, 2), keepdim=True) / m.sum()) ** 2 * m).sum(dim=(0, 2)) / (m.sum() - 1)
    torch.testing.assert_close(norm.running_var, 0.9**2 + (1 - 0.9**2) * unbiased.detach())  # two batches seen
    assert int(norm.num_batches_tracked) == 2


def test_masked_batch_norm_trains_under_bf16_autocast():
    norm = MaskedBatchNorm1d(3)
    x = torch.randn(2, 3, 7, requires_grad=True)
    mask = step_mask(torch.tensor([7, 4]), 7, "cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = norm(x.to(torch.bfloat16), mask)
    y.float().sum().backward()
    assert y.dtype == torch.bfloat16 and norm.running_mean.dtype == torch.float32
    assert x.grad.dtype == torch.float32 and norm.weight.grad.dtype == torch.float32
    assert torch.isfinite(x.grad).all() and torch.isfinite(norm.weight.grad).all()
    model = SequenceClassifier(arch="lstm-fcn", hidden=4, epochs=1, schedule="plateau", precision="bf16", test_frac=0.2)
    if not native_bf16(torch.device("cpu")):  # bf16 is refused where it would only run slower (an AVX2-only CPU)
        with pytest.raises(ConfigError, match="bf16 needs native bf16 hardware"):
            model.fit(_shapes(30, 0, channels=2))
        return
    assert np.isfinite(model.fit(_shapes(30, 0, channels=2)).predict_proba(_shapes(6, 1, channels=2))).all()


def test_masked_batch_norm_keeps_a_cumulative_mean_without_momentum():
    norm = MaskedBatchNorm1d(2, momentum=None)
    x = torch.randn(2, 2, 5)
    mask = torch.ones(2, 5, dtype=torch.bool)
    norm(x, mask)
    norm(x + 2, mask)
    torch.testing.assert_close(norm.running_mean, x.mean(dim=(0, 2)) + 1)


def test_the_cosine_recipe_trains_a_small_set_for_enough_steps():
    model = SequenceClassifier(arch="lstm-fcn", hidden=4, batch_size=16, test_frac=0.2).fit(_shapes(30, 0))
    assert len(model.history_) == 250  # 500 steps of two batches each, not 100 epochs; no early stopping
    lrs = [row["lr"] for row in model.history_]
    assert lrs[0] == pytest.approx(3e-3) and lrs[-1] < 1e-5


@pytest.mark.parametrize("given, epochs", [(None, 22), (100, 100), (3, 3)])
def test_the_cosine_recipe_bounds_its_steps_where_epochs_is_left_to_it(given, epochs):
    model = SequenceClassifier(arch="lstm-fcn", epochs=given)
    model.arch_, model.kind_, model.schedule_ = "lstm-fcn", "numeric", "cosine"
    config = model._recipe(model.train_config(), _shapes(1000, 0))  # 32 batches of 32 an epoch
    # left to it: 100 epochs would be 3200 steps; at most 700 (22 epochs). Given: as given, even 96 steps
    assert config.epochs == epochs and config.schedule == "cosine" and config.patience > epochs


def test_augmentation_perturbs_the_real_steps_and_keeps_the_padding_zero():
    torch.manual_seed(0)
    x, lengths = _batch([torch.ones(5, 2), torch.ones(3, 2)], 5)
    scaled, same = augmented(x, lengths, "scaling")
    assert torch.all(scaled[1, 3:] == 0) and torch.equal(same, lengths)
    assert torch.allclose(scaled[:, 0], scaled[:, 1]) and not torch.allclose(scaled, x)  # one factor a channel
    jittered, _ = augmented(x, lengths, "jitter")
    assert torch.all(jittered[1, 3:] == 0) and (jittered[1, :3] != 1).all()
    assert (jittered - x).abs().max() < 0.2


def test_window_slicing_keeps_a_random_nine_tenths_of_each_sequence_moved_to_its_start():
    torch.manual_seed(0)
    ramp = torch.arange(1.0, 21.0)[:, None]  # (20, 1): values 1..20
    x, lengths = _batch([ramp, ramp[:10]], 20)
    starts = set()
    for _ in range(50):
        sliced, kept = augmented(x, lengths, "slicing")
        assert kept.tolist() == [18, 9] and sliced.shape == (2, 18, 1)
        for row, n, length in zip(sliced[:, :, 0], kept.tolist(), lengths.tolist()):
            first = int(row[0])
            assert torch.equal(row[:n], torch.arange(first, first + n, dtype=row.dtype))  # one window, in order
            assert first + n - 1 <= length and torch.all(row[n:] == 0)  # within the sequence; padding zero
        starts.add(int(sliced[0, 0, 0]))
    assert starts == {1, 2, 3}  # every window of 18 in 20 steps is drawn


def test_time_warping_reads_each_sequence_at_a_varying_speed_from_its_first_step_to_its_last():
    torch.manual_seed(0)
    ramp = torch.arange(1.0, 41.0)[:, None]  # (40, 1): values 1..40, so a value is the place it was read from
    x, lengths = _batch([ramp, ramp[:25]], 40)
    for _ in range(20):
        warped, same = augmented(x, lengths, "warping")
        assert warped.shape == x.shape and torch.equal(same, lengths)
        for row, length in zip(warped[:, :, 0], lengths.tolist()):
            assert row[0] == 1 and row[length - 1] == pytest.approx(length)  # the ends stay in place
            assert torch.all(row[1:length] > row[: length - 1])  # read forwards, at a speed above zero
            assert torch.all(row[length:] == 0)  # the padding stays zero
        moved = (warped[0, :, 0] - ramp[:, 0]).abs()
        assert 0.3 < moved.max() < 10  # warped, by a few steps at most
    assert not torch.allclose(augmented(x, lengths, "warping")[0], augmented(x, lengths, "warping")[0])


def test_a_classifier_trains_with_every_augmentation_joined():
    model = SequenceClassifier(augment="jitter+scaling+slicing+warping", schedule="plateau", epochs=3, seed=0)
    model.fit(_shapes(60, 0))
    assert model.augment_ == "jitter+scaling+slicing+warping" and all(np.isfinite(epoch["train_loss"]) for epoch in model.history_)


def _events(n: int, anywhere: bool, seed: int = 0, channels: int = 1) -> LabelledSequences:
    """A bump or a dip (2 classes) in noise, 60 to 80 steps: at step 20 of every sequence, or `anywhere`;
    with several channels the others are constant."""
    rng = np.random.default_rng(seed)
    sequences, labels = [], []
    for i in range(n):
        x = np.zeros((int(rng.integers(60, 81)), channels))
        x[:, 0] = rng.normal(0, 0.1, len(x))
        at = int(rng.integers(0, len(x) - 10)) if anywhere else 20
        x[at : at + 8, 0] += np.hanning(8) * (1 if i % 2 else -1)
        sequences.append(x)
        labels.append(("dip", "bump")[i % 2])
    return LabelledSequences(sequences, labels, f"events({n}, {anywhere})", "numeric")


def test_shift_gain_tells_series_aligned_in_time_from_series_that_start_anywhere():
    aligned, anywhere = _events(40, anywhere=False), _events(40, anywhere=True)
    assert shift_gain(aligned.sequences, aligned.labels) < SHIFT_GAIN / 5  # shifting a pair only misaligns it
    assert shift_gain(anywhere.sequences, anywhere.labels) > 4 * SHIFT_GAIN
    several = _events(40, anywhere=True, channels=3)  # two constant channels: counted, as zeros
    assert shift_gain(several.sequences, several.labels) > SHIFT_GAIN
    assert shift_gain(anywhere.sequences, anywhere.labels) == shift_gain(anywhere.sequences, anywhere.labels)  # a fixed seed
    assert shift_gain([np.ones(5), np.zeros(9)], ["a", "b"]) == 0.0  # no class has a pair


@pytest.mark.parametrize("anywhere, arch, augment, resolved", [
    (True, "lstm-fcn", "auto", "slicing"), (False, "lstm-fcn", "auto", None), (True, "lstm", "auto", None),
    (True, "lstm-fcn", "none", None), (True, "lstm-fcn", None, None), (False, "lstm-fcn", "jitter", "jitter")])  # fmt: skip
def test_augment_auto_slices_the_fcn_archs_series_where_they_are_not_aligned(anywhere, arch, augment, resolved):
    model = SequenceClassifier(arch=arch, augment=augment, epochs=1, seed=0).fit(_events(40, anywhere))
    assert model.augment_ == resolved
    assert SequenceClassifier().augment == "auto"


def test_slice_views_are_the_whole_and_nine_tenths_windows_from_the_first_step_to_the_last():
    ramp = torch.arange(1.0, 41.0)[:, None]  # (40, 1)
    views = slice_views(ramp, 3)
    assert [(int(v[0]), len(v)) for v in views] == [(1, 40), (1, 36), (3, 36), (5, 36)]  # starts 0, 2, 4 of 0..4
    assert all(torch.equal(v[:, 0], torch.arange(v[0, 0], v[0, 0] + len(v))) for v in views)  # each a window, in order
    assert [int(v[0]) for v in slice_views(ramp, 5)] == [1, 1, 2, 3, 4, 5]  # starts 0, 1, 2, 3, 4
    assert [len(v) for v in slice_views(ramp[:5], 3)] == [5, 5]  # 5 steps keep all 5: one slice, the whole again


def _softmax(model, views) -> np.ndarray:
    x, lengths = _batch(views, max(len(v) for v in views))
    with torch.no_grad():
        return torch.softmax(model.model_.eval()(x, lengths).double(), dim=-1).numpy()


@pytest.mark.parametrize("augment, views", [("slicing", 3), ("jitter+slicing", 2), ("slicing", 0), ("jitter", 3), ("none", 3)])
def test_a_model_trained_on_slices_predicts_the_mean_over_the_whole_and_its_slices(augment, views):
    data = _events(24, anywhere=True)
    model = SequenceClassifier(augment=augment, slice_views=views, epochs=2, seed=0).fit(data)
    encoded = model._encode(data)
    sliced = "slicing" in augment and views > 0
    expected = np.stack([_softmax(model, slice_views(x, views) if sliced else [x]).mean(axis=0) for x in encoded])
    np.testing.assert_allclose(model._proba(encoded), expected, atol=1e-6)
    whole = np.concatenate([_softmax(model, [x]) for x in encoded])
    assert sliced == (np.abs(model.predict_proba(data.sequences) - whole).max() > 1e-4)  # the views change it
    said = f"Trained on slices, it predicts from this whole sequence and {views} windows of 90% of it"
    assert sliced == any(note.startswith(said) for note in model.gate_input(data.sequences[0]).notes)  # the inspector says so
    assert SequenceClassifier().slice_views == 0  # offered, not the default: the whole alone


def test_slice_views_set_on_a_fitted_model_change_its_predictions_from_then_on():
    data = _events(24, anywhere=True)
    model = SequenceClassifier(augment="slicing", epochs=2, seed=0).fit(data)
    encoded = model._encode(data)
    whole = model.predict_proba(data.sequences)
    model.set_params(slice_views=3)  # test-time augmentation after the fact, as fastai's tta follows a fit
    expected = np.stack([_softmax(model, slice_views(x, 3)).mean(axis=0) for x in encoded])
    np.testing.assert_allclose(model.predict_proba(data.sequences), expected, atol=1e-6)
    assert np.abs(expected - whole).max() > 1e-4


def test_augment_auto_leaves_texts_as_they_are():
    texts = LabelledSequences(["good film", "bad film", "a good one", "a bad one"] * 5, ["pos", "neg"] * 10, "texts", "text")
    assert SequenceClassifier(epochs=1, pretrain=0, seed=0).fit(texts).augment_ is None


# ---- bad settings ----------------------------------------------------------------------------------------


def test_an_unknown_arch_is_one_clear_error():
    with pytest.raises(ConfigError, match=r"^`?arch`? must be lstm, lstm-fcn or alstm-fcn, got 'fcn'$"):
        SequenceClassifier(arch="fcn").fit(_shapes(30, 0))
    with pytest.raises(ConfigError, match=r"`?ensemble`? must be a whole number of at least 1, got 0"):
        SequenceClassifier(ensemble=0).fit(_shapes(30, 0))


def test_an_unknown_arch_on_the_command_line_is_one_line_and_exit_code_2(tmp_path):
    result = subprocess.run([str(SCRIPT), "train", "classify", "--data", "x.ts", "--arch", "fcn", "--out", tmp_path],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "--arch" in result.stderr and "lstm-fcn" in result.stderr


def test_scale_sequence_gives_each_sequences_shape_and_its_magnitude_apart(tmp_path):
    data = _shapes(30, 0)
    model = SequenceClassifier(scale="sequence", hidden=4, epochs=1, schedule="plateau").fit(data)
    x = np.stack([np.linspace(0, 1, 20), np.full(20, 7.0)], axis=1)  # (T, 2): a ramp, a constant channel
    own = model._own_scale(x)  # (T, 6): two z-normalised channels, then mean/spread and log spread of each
    assert own.shape == (20, 6) and model.inputs_ == 3 * data.n_features
    np.testing.assert_allclose(own[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(own[:, :2].std(axis=0), [1, 0], atol=1e-12)
    spread = np.linspace(0, 1, 20).std()
    np.testing.assert_allclose(own[0, 2:], [0.5 / spread, 7.0, np.log(spread), 0.0])
    assert np.all(own[1:, 2:] == own[0, 2:])  # constant over the steps
    same_shape = model._own_scale(100 * x + 5)
    np.testing.assert_allclose(same_shape[:, :2], own[:, :2], atol=1e-9)
    np.testing.assert_allclose(same_shape[0, 4:], own[0, 4:] + [np.log(100), 0])
    model.save(tmp_path / "run")
    loaded = SequenceClassifier.load(tmp_path / "run")
    assert loaded.scale_ == "sequence"
    np.testing.assert_allclose(loaded.predict_proba([x[:, :1]]), model.predict_proba([x[:, :1]]), atol=1e-6)


def test_squash_auto_marks_only_the_heavy_tailed_channels():
    rng = np.random.default_rng(0)
    normal = rng.normal(size=(20000, 1))
    spiky = rng.normal(0, 0.1, (20000, 1))
    spiky[rng.random(20000) < 0.01] += 12.0  # rare spikes far out in the tails, as a power meter's
    mostly_one_value = np.where(rng.random((20000, 1)) < 0.9, 0.0, rng.normal(size=(20000, 1)))  # no IQR
    marks = heavy_tailed(np.concatenate([normal, spiky, np.zeros((20000, 1)), mostly_one_value], axis=1))
    assert marks.tolist() == [False, True, False, False]
    # the rule's edge: the 99.9% quantile TAIL_RATIO interquartile ranges from the median, on either side
    def with_tail(reach):  # interquartile range 1, median 0; 0.2% of the values `reach` IQRs out
        return np.concatenate([np.linspace(-1, 1, 9980), np.full(20, reach)])[:, None]

    beyond, within = with_tail(1.05 * TAIL_RATIO), with_tail(0.95 * TAIL_RATIO)
    assert heavy_tailed(beyond).tolist() == [True] == heavy_tailed(-beyond).tolist()
    assert heavy_tailed(within).tolist() == [False] == heavy_tailed(-within).tolist()


def test_squash_reads_the_scaled_values_through_asinh_in_the_marked_channels_and_is_saved(tmp_path):
    data = _shapes(30, 0, channels=2)
    for sequence in data.sequences[::4]:
        sequence[::7, 1] += 40.0  # rare spikes in channel 1 only
    model = SequenceClassifier(hidden=4, epochs=1, schedule="plateau").fit(data)
    assert model.squash_ == [False, True]
    x = data.sequences[0]
    scaled = model.scaler_.transform(x)
    encoded = model._encode(data.subset([0]))[0].numpy()
    np.testing.assert_allclose(encoded[:, 0], scaled[:, 0], rtol=1e-6)
    np.testing.assert_allclose(encoded[:, 1], np.arcsinh(scaled[:, 1]), rtol=1e-6)
    assert SequenceClassifier(hidden=4, epochs=1, schedule="plateau", squash="none").fit(data).squash_ == [False, False]
    assert SequenceClassifier(hidden=4, epochs=1, schedule="plateau", squash="asinh").fit(data).squash_ == [True, True]
    model.save(tmp_path / "run")
    loaded = SequenceClassifier.load(tmp_path / "run")
    assert loaded.squash_ == [False, True]
    np.testing.assert_allclose(loaded.predict_proba(data.sequences[:3]), model.predict_proba(data.sequences[:3]),
                               atol=1e-6)  # fmt: skip
    state_file = tmp_path / "run" / SequenceClassifier.state_file  # a run saved before squashing existed
    state = json.loads(state_file.read_text())
    del state["squash"]
    state_file.write_text(json.dumps(state))
    assert SequenceClassifier.load(tmp_path / "run").squash_ == [False, False]


def test_scale_auto_z_normalises_each_sequence_only_where_spreads_differ_by_orders_of_magnitude():
    rng = np.random.default_rng(0)
    alike = [rng.normal(size=(30, 2)) * rng.uniform(0.5, 2) for _ in range(40)]
    assert spread_scale(alike) == "dataset"
    apart = [rng.normal(size=(30, 2)) * 10.0 ** rng.uniform(-3, 2) for _ in range(40)]  # spreads over 5 decades
    assert spread_scale(apart) == "sequence"
    unit = [(x - x.mean(0)) / x.std(0) for x in (rng.normal(size=(30, 2)) for _ in range(40))]  # spreads exactly 1
    counts = [x * 10.0**e for x, e in zip(unit, np.linspace(-1.5, 1.5, 40))]  # 90th/10th percentile ~230: death counts
    assert spread_scale(counts) == "sequence"
    tenfold = [x * 10.0**e for x, e in zip(unit, np.linspace(-0.6, 0.6, 40))]  # ~9: activities recorded alike
    assert spread_scale(tenfold) == "dataset"
    constant = alike + [np.zeros((30, 2))] * 3  # a few constant sequences are no reason
    assert spread_scale(constant) == "dataset"
    data = _shapes(30, 0)
    assert SequenceClassifier(hidden=4, epochs=1, schedule="plateau").fit(data).scale_ == "dataset"


