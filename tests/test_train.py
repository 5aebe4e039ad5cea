"""The shared training loop: repeatable, resumable, stops for the right reasons, says why it failed."""

import json
import math

import pytest
import torch
from torch import nn

from lstmkit.errors import ConfigError, DataError, TrainingError
from lstmkit.fileio import atomic_write
from lstmkit.train import TrainConfig, evaluate_loss, fit, member_checkpoint
from lstmkit.train.checkpoint import save_checkpoint
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
        fit(interrupted, mse, train, val, _config(checkpoint_every=0), checkpoint=tmp_path / "b.pt", reporter=Interrupt(after=3))
    assert len(torch.load(tmp_path / "b.pt", weights_only=False)["result"].history) == 3
    resumed = Regressor()  # a fresh process would rebuild the model from scratch
    got = fit(resumed, mse, train, val, _config(), checkpoint=tmp_path / "b.pt", resume=True)

    assert _losses(got) == _losses(expected) and got.best_epoch == expected.best_epoch
    assert all(torch.equal(p, q) for p, q in zip(whole.state_dict().values(), resumed.state_dict().values()))


# ---- checkpoints by the clock: `checkpoint_every` seconds apart, and always at the epoch that ends the run ------


def _saved_epochs(monkeypatch) -> list[int]:
    """The epochs `fit` checkpoints at, as a list that fills while it trains."""
    from lstmkit.train import loop

    saved, save = [], loop.save_checkpoint

    def counting(path, state):
        saved.append(state["result"].history[-1]["epoch"])
        save(path, state)

    monkeypatch.setattr(loop, "save_checkpoint", counting)
    return saved


@pytest.mark.parametrize("every, epochs", [(1000, [6]), (0, [1, 2, 3, 4, 5, 6])])
def test_only_the_last_epoch_checkpoints_until_the_clock_says_one_is_due(monkeypatch, tmp_path, every, epochs):
    saved = _saved_epochs(monkeypatch)
    result = fit(Regressor(), mse, *_data(), _config(checkpoint_every=every), checkpoint=tmp_path / "c.pt")
    assert saved == epochs and result.stop_reason == "max epochs"
    assert torch.load(tmp_path / "c.pt", weights_only=False)["result"].stop_reason == "max epochs"


def test_the_epoch_that_stops_early_checkpoints(monkeypatch, tmp_path):
    saved = _saved_epochs(monkeypatch)
    result = fit(Regressor(), mse, *_data(), _config(epochs=40, lr=0.05, patience=2, checkpoint_every=1000),
                 checkpoint=tmp_path / "c.pt")  # fmt: skip
    assert result.stop_reason == "early stopping" and saved == [len(result.history)] and len(result.history) < 40


class Clock(Reporter):
    """Each epoch takes `seconds` on the loop's clock (`time.monotonic`), whatever it really took."""

    def __init__(self, monkeypatch, seconds):
        import time
        import types

        from lstmkit.train import loop

        self.now, self.seconds = 0.0, seconds
        clock = types.SimpleNamespace(perf_counter=time.perf_counter, monotonic=lambda: self.now)
        monkeypatch.setattr(loop, "time", clock)

    def epoch(self, row):
        self.now += self.seconds


def test_a_checkpoint_is_due_when_checkpoint_every_seconds_have_passed(monkeypatch, tmp_path):
    saved = _saved_epochs(monkeypatch)
    fit(Regressor(), mse, *_data(), _config(epochs=10, checkpoint_every=25), checkpoint=tmp_path / "c.pt",
        reporter=Clock(monkeypatch, seconds=10))  # fmt: skip
    assert saved == [4, 7, 10]  # 30 s after the start, 30 s after that, and the last epoch


class Killed(Reporter):
    """Keeps a copy of the checkpoint of epoch `kept`, then dies at epoch `dies` and puts that copy back: a run
    killed `dies - kept` epochs after its last checkpoint."""

    def __init__(self, path, kept, dies):
        self.path, self.kept, self.dies = path, kept, dies

    def epoch(self, row):
        if row["epoch"] == self.kept:
            self.copy = self.path.read_bytes()
        if row["epoch"] == self.dies:
            self.path.write_bytes(self.copy)
            raise KeyboardInterrupt


# before the best epoch (8) and after it; and the cosine schedule's state
@pytest.mark.parametrize("kept, dies, schedule", [(5, 10, "plateau"), (9, 11, "plateau"), (5, 10, "cosine")])
def test_a_run_killed_epochs_after_its_checkpoint_replays_them_to_the_same_result(tmp_path, kept, dies, schedule):
    """Early stopping's state (the best weights, the epochs without improvement) and the schedule's come back
    as they were at the checkpoint, and the epochs after it are run again."""
    train, val = _data()
    config = _config(epochs=40, lr=0.1, patience=3, checkpoint_every=0, schedule=schedule)
    whole = Regressor()
    expected = fit(whole, mse, train, val, config)
    assert expected.stop_reason == "early stopping" and kept < dies <= len(expected.history)

    with pytest.raises(KeyboardInterrupt):
        fit(Regressor(), mse, train, val, config, checkpoint=tmp_path / "c.pt", reporter=Killed(tmp_path / "c.pt", kept, dies))
    resumed = Regressor()
    got = fit(resumed, mse, train, val, config, checkpoint=tmp_path / "c.pt", resume=True)
    assert _losses(got) == _losses(expected) and (got.best_epoch, got.stop_reason) == (expected.best_epoch, expected.stop_reason)
    assert all(torch.equal(p, q) for p, q in zip(whole.state_dict().values(), resumed.state_dict().values()))


def test_checkpoint_every_must_be_a_finite_number_of_seconds():
    with pytest.raises(ConfigError, match=r"checkpoint_every must be a finite number of at least 0, got -1"):
        TrainConfig(checkpoint_every=-1).validate()
    with pytest.raises(ConfigError, match="checkpoint_every must be a finite number"):
        TrainConfig(checkpoint_every=math.inf).validate()


def test_early_stopping_restores_the_best_weights():
    train, val = _data()
    model = Regressor()
    result = fit(model, mse, train, val, _config(epochs=40, lr=0.05, patience=2))
    assert result.stop_reason == "early stopping" and len(result.history) < 40
    assert result.history[-1]["epoch"] == result.best_epoch + 2
    assert evaluate_loss(model, mse, val, _config(), torch.device("cpu")) == pytest.approx(result.best_val_loss, rel=1e-6)


def test_keep_initial_keeps_an_untrained_model_that_training_cannot_beat():
    train, val = _data()
    model = Regressor()
    nn.init.zeros_(model.head.weight), nn.init.constant_(model.head.bias, 0.0)
    start = {name: t.clone() for name, t in model.state_dict().items()}
    wrong = (train[0], -100 * train[1])  # training pulls the model away from what validation rewards
    result = fit(model, mse, wrong, val, _config(epochs=3, lr=0.05), keep_initial=True)
    assert result.best_epoch == 0 and len(result.history) == 3
    assert all(torch.equal(model.state_dict()[name], t) for name, t in start.items())


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


def _disk_full(f):
    f.write(b"half")
    raise OSError("disk full")


def _cut_short(f):  # torch.save's zip writer: its closing fails when a Ctrl-C stopped a record half-written
    try:
        f.write(b"half")
        raise KeyboardInterrupt
    finally:
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 3648 vs 3542")


@pytest.mark.parametrize("writer, raised", [(_disk_full, OSError), (_cut_short, KeyboardInterrupt)],
                         ids=["a failed write", "a ctrl-c whatever the writer raises as it closes"])  # fmt: skip
def test_a_failed_or_interrupted_write_leaves_the_old_checkpoint_intact(tmp_path, writer, raised):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"old")
    with pytest.raises(raised):
        atomic_write(path, writer)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_ctrl_c_inside_torch_save_is_a_ctrl_c_and_leaves_the_checkpoint_as_it_was(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"step": 0})
    state = {"weights": [torch.randn(64, 64) for _ in range(8)]}

    class CutShort:  # the file torch.save writes to, whose third write a Ctrl-C interrupts
        def __init__(self, f):
            self.f, self.writes = f, 0

        def write(self, data):
            self.writes += 1
            if self.writes == 3:
                raise KeyboardInterrupt
            return self.f.write(data)

        def flush(self):
            self.f.flush()

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, lambda f: torch.save(state, CutShort(f)))
    assert torch.load(path)["step"] == 0 and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_a_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"not a checkpoint")
    train, val = _data()
    with pytest.raises(DataError, match="the checkpoint cannot be read .*; delete it to train from the start"):
        fit(Regressor(), mse, train, val, _config(), checkpoint=path, resume=True)


# ---- precision: decided once per run, bf16 only where the hardware computes it natively -------------------

BF16_REFUSED = ("--precision bf16 needs native bf16 hardware, and this CPU (no AVX512-BF16 or AMX) has none; "
                "use fp32, or auto (which chooses fp32 here)")  # fmt: skip


def _forecast_args(tmp_path, *extra):
    from lstmkit.data.shipped import airline_csv

    return ["train", "forecast", "--data", str(airline_csv()), "--target", "passengers", "--time-col", "month",
            "--horizon", "3", "--hidden", "8", "--epochs", "2", "--quiet", "--out", str(tmp_path / "run"), *extra]  # fmt: skip


def test_bf16_is_refused_in_one_line_on_a_cpu_without_native_bf16(monkeypatch, tmp_path, capsys):
    from lstmkit.cli import main
    from lstmkit.train import precision

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert main(_forecast_args(tmp_path, "--precision", "bf16")) == 2
    assert capsys.readouterr().err == f"lstmkit: error: {BF16_REFUSED}\n"
    assert not (tmp_path / "run").exists()  # refused before anything was written
    assert main(_forecast_args(tmp_path, "--precision", "auto")) == 0  # auto chooses fp32 there
    assert TrainConfig(precision="auto").resolved().precision == "fp32"


def test_auto_chooses_bf16_where_the_cpu_has_it(monkeypatch):
    from lstmkit.train import precision

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert TrainConfig(precision="auto").resolved().precision == "bf16"
    assert TrainConfig(precision="bf16").resolved().precision == "bf16"
    assert TrainConfig(precision="fp32").resolved().precision == "fp32"


def test_bf16_on_this_machine_trains_or_is_refused_in_one_line(tmp_path, capsys):
    """Without patching: on a CPU with native bf16 a bf16 run trains; on one without, it is refused."""
    from lstmkit.cli import main
    from lstmkit.train.precision import cpu_has_native_bf16

    code = main(_forecast_args(tmp_path, "--precision", "bf16", "--json"))
    captured = capsys.readouterr()
    if cpu_has_native_bf16():
        assert code == 0 and json.loads(captured.out)["test"]["mase"] > 0
    else:
        assert code == 2 and captured.err == f"lstmkit: error: {BF16_REFUSED}\n"


def test_each_ensemble_member_and_backtest_fold_checkpoints_to_its_own_file(tmp_path):
    run = tmp_path / "checkpoint.pt"
    assert member_checkpoint(None, 3) is None
    assert member_checkpoint(run, 0) == run  # a plain fit's only member: the run's own checkpoint
    names = {member_checkpoint(run, k, fold).name for k in range(3) for fold in (None, 0, 1)}
    assert len(names) == 9 and "checkpoint-fold1-member2.pt" in names and "checkpoint-member1.pt" in names
    assert member_checkpoint(run, 0, phase="full").name == "checkpoint-full.pt"
    assert member_checkpoint(run, 2, 1, "full").name == "checkpoint-fold1-member2-full.pt"


def test_a_refit_retraces_its_validated_run_to_the_best_epoch_at_the_same_rates():
    """Same seed, same training data and the rates the validated run took (the plateau schedule halved them):
    the refit, which never sees the validation data, ends on the weights of that run's best epoch exactly."""
    train, val = _data()
    validated = Regressor()
    run = fit(validated, mse, train, val, _config(epochs=40, lr=0.05, patience=3))
    rates = [row["lr"] for row in run.history[: run.best_epoch]]
    assert len(set(rates)) > 1 and run.best_epoch < len(run.history)  # the rate changed, and later epochs were worse
    refit = Regressor()
    result = fit(refit, mse, train, None, _config(epochs=40, lr=0.05, patience=3), rates=rates)
    assert [row["lr"] for row in result.history] == rates and result.best_epoch == len(rates) == len(result.history)
    assert result.stop_reason == "max epochs"
    assert all(torch.equal(p, q) for p, q in zip(validated.state_dict().values(), refit.state_dict().values()))


def test_a_refit_keeps_its_last_epoch_even_where_an_earlier_one_had_a_lower_training_loss():
    train, _ = _data()
    model = Regressor()
    result = fit(model, mse, train, None, _config(), rates=[0.5] * 6)  # a rate too high for the loss to fall steadily
    losses = [row["train_loss"] for row in result.history]
    assert min(losses) < losses[-1] and result.best_epoch == 6
    assert evaluate_loss(model, mse, train, _config(), torch.device("cpu")) != pytest.approx(min(losses))


def test_a_killed_refit_resumes_to_the_uninterrupted_result(tmp_path):
    train, _ = _data()
    rates = [0.05, 0.05, 0.02, 0.02, 0.01, 0.01, 0.005, 0.005]
    whole = Regressor()
    expected = fit(whole, mse, train, None, _config(checkpoint_every=0), rates=rates)
    with pytest.raises(KeyboardInterrupt):
        fit(Regressor(), mse, train, None, _config(checkpoint_every=0), rates=rates, checkpoint=tmp_path / "c.pt",
            reporter=Killed(tmp_path / "c.pt", 3, 6))  # fmt: skip
    resumed = Regressor()
    got = fit(resumed, mse, train, None, _config(checkpoint_every=0), rates=rates, checkpoint=tmp_path / "c.pt", resume=True)
    assert _losses(got) == _losses(expected) and [row["lr"] for row in got.history] == rates
    assert all(torch.equal(p, q) for p, q in zip(whole.state_dict().values(), resumed.state_dict().values()))


def test_a_refit_takes_no_validation_data():
    train, val = _data()
    with pytest.raises(ValueError, match="a refit"):
        fit(Regressor(), mse, train, val, _config(), rates=[0.01])
