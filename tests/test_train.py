"""The shared training loop: repeatable, resumable, stops for the right reasons, says why it failed."""

import math

import pytest
import torch
from torch import nn

from lstmkit.errors import DataError, TrainingError
from lstmkit.train import TrainConfig, evaluate_loss, fit
from lstmkit.fileio import atomic_write
from lstmkit.train.progress import Reporter

TIMINGS = ("seconds", "windows_per_s")


class Regressor(nn.Module):
    """A small LSTM regressor, with dropout so the random state matters."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        from lstmkit import LSTM

        self.lstm = LSTM(2, 8, batch_first=True, recurrent_dropout=0.2)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1]).squeeze(-1)


def mse(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


def _data(n=96, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, 2, generator=g)
    y = x[:, :, 0].sum(1) - x[:, -1, 1]
    return (x[:64], y[:64]), (x[64:], y[64:])


def _losses(result):
    return [{k: v for k, v in row.items() if k not in TIMINGS} for row in result.history]


def _config(**kwargs):
    return TrainConfig(**{"epochs": 6, "batch_size": 16, "lr": 1e-2, "patience": 100, "min_steps": 0, **kwargs})


def test_same_seed_repeats_the_run_exactly():
    train, val = _data()
    first, second = Regressor(), Regressor()
    a = fit(first, mse, train, val, _config())
    b = fit(second, mse, train, val, _config())
    assert _losses(a) == _losses(b)
    assert all(torch.equal(p, q) for p, q in zip(first.state_dict().values(), second.state_dict().values()))


def test_other_seed_changes_the_run():
    train, val = _data()
    assert _losses(fit(Regressor(), mse, train, val, _config())) != _losses(fit(Regressor(), mse, train, val, _config(seed=1)))


class Interrupt(Reporter):
    def __init__(self, after):
        self.after = after

    def epoch(self, row):
        if row["epoch"] == self.after:
            raise KeyboardInterrupt


def test_resumed_run_ends_like_an_uninterrupted_one(tmp_path):
    train, val = _data()
    whole = Regressor()
    expected = fit(whole, mse, train, val, _config(), checkpoint=tmp_path / "a.pt")

    interrupted = Regressor()
    with pytest.raises(KeyboardInterrupt):
        fit(interrupted, mse, train, val, _config(), checkpoint=tmp_path / "b.pt", reporter=Interrupt(after=3))
    resumed = Regressor()  # a fresh process would rebuild the model from scratch
    got = fit(resumed, mse, train, val, _config(), checkpoint=tmp_path / "b.pt", resume=True)

    assert _losses(got) == _losses(expected) and got.best_epoch == expected.best_epoch
    assert all(torch.equal(p, q) for p, q in zip(whole.state_dict().values(), resumed.state_dict().values()))


def test_early_stopping_restores_the_best_weights():
    train, val = _data()
    model = Regressor()
    result = fit(model, mse, train, val, _config(epochs=40, lr=0.05, patience=2))
    assert result.stop_reason == "early stopping" and len(result.history) < 40
    assert result.history[-1]["epoch"] == result.best_epoch + 2
    assert evaluate_loss(model, mse, val, _config(), torch.device("cpu")) == pytest.approx(result.best_val_loss, rel=1e-6)


def test_early_stopping_waits_for_the_minimum_number_of_steps():
    train, val = _data()  # 64 windows: 4 steps an epoch
    result = fit(Regressor(), mse, train, val, _config(epochs=40, lr=0.05, patience=2, min_steps=60))
    assert len(result.history) >= 15


def test_time_budget_stops_the_run():
    train, val = _data()
    result = fit(Regressor(), mse, train, val, _config(epochs=50, max_time=1e-6))
    assert result.stop_reason == "time budget" and len(result.history) == 1


@pytest.mark.parametrize("optimizer, lr", [("adam", 1e-2), ("adamw", 1e-2), ("sgd", 0.1), ("rmsprop", 1e-2)])
def test_every_optimizer_lowers_the_loss(optimizer, lr):
    train, val = _data()
    model = Regressor()
    before = evaluate_loss(model, mse, val, _config(), torch.device("cpu"))
    result = fit(model, mse, train, val, _config(optimizer=optimizer, epochs=8, lr=lr))
    assert result.best_val_loss < 0.5 * before


def test_nan_in_the_data_is_named_as_the_cause():
    (x, y), val = _data()
    x = x.clone()
    x[5, 2, 0] = math.nan
    with pytest.raises(TrainingError, match=r"because the data holds NaN or infinite values; clean the input"):
        fit(Regressor(), mse, (x, y), val, _config())


def test_divergence_names_the_learning_rate():
    train, val = _data()
    with pytest.raises(TrainingError, match=r"the learning rate 1e\+30 is too high; try lr 1e\+29"):
        fit(Regressor(), mse, train, val, _config(lr=1e30, clip_norm=None, optimizer="sgd"))


def test_a_failed_checkpoint_write_leaves_the_old_one_intact(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"old")

    def fail(f):
        f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(path, fail)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_a_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"not a checkpoint")
    train, val = _data()
    with pytest.raises(DataError, match="the checkpoint cannot be read .*; delete it to train from the start"):
        fit(Regressor(), mse, train, val, _config(), checkpoint=path, resume=True)
