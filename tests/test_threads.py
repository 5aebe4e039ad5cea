"""The thread governor (train/threads.py): what it reads from /proc/stat, what it chooses, and that the choice
never changes a run's numbers."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import lstmkit
from lstmkit.nn import functional
from lstmkit.nn.kernels import fused, native
from lstmkit.train import threads
from lstmkit.train.threads import CpuLoad, ThreadGovernor


def _stat(*cpus: tuple[int, int]) -> str:
    """A /proc/stat text whose CPU k has spent (busy, idle) ticks: busy split between user and system."""
    lines = [f"cpu  {sum(b for b, _ in cpus)} 0 0 {sum(i for _, i in cpus)} 0 0 0 0 0 0"]
    for k, (busy, idle) in enumerate(cpus):
        lines.append(f"cpu{k} {busy - busy // 2} 0 {busy // 2} {idle} 0 0 0 0 0 0")
    return "\n".join(lines + ["intr 1 2 3", "ctxt 10"]) + "\n"


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_cpu_load_counts_what_other_processes_used_on_this_processes_cpus():
    texts = iter([_stat((1000, 1000), (500, 1500)), _stat((1100, 1000), (550, 1550))])
    clock, own = _Clock(), iter([10.0, 10.5])
    load = CpuLoad(read=lambda: next(texts), clock=clock, own=lambda: next(own), cpus=[0, 1])
    clock.now += 1.0
    # 150 of 200 ticks busy on 2 CPUs: 1.5 cores, of which this process used 0.5 s in 1 s
    assert load.others_busy() == pytest.approx(1.0)

    texts = iter([_stat((1000, 1000), (500, 1500)), _stat((1100, 1000), (550, 1550))])
    own = iter([10.0, 10.0])
    only_second = CpuLoad(read=lambda: next(texts), clock=clock, own=lambda: next(own), cpus=[1])  # not CPU 0
    clock.now += 1.0
    assert only_second.others_busy() == pytest.approx(0.5)


def test_cpu_load_is_unknown_without_proc_stat():
    load = CpuLoad(read=lambda: None)
    assert not load.available and load.others_busy() is None


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads Linux's /proc/stat")
def test_cpu_load_sees_a_busy_loop_in_another_process():
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # the loop is running
        load = CpuLoad()
        time.sleep(0.5)
        assert load.others_busy() >= 0.5
    finally:
        busy.kill()
        busy.wait()


class _FakeLoad:
    """A machine whose other processes use `busy` cores."""

    available = True

    def __init__(self, busy: float, cpus: int = 2):
        self.busy, self.cpus = busy, list(range(cpus))

    def age(self) -> float:
        return 1.0

    def others_busy(self) -> float:
        return self.busy


def test_a_fixed_count_holds_for_the_run_and_torchs_count_comes_back(restore_threads):
    torch.set_num_threads(2)
    governor = ThreadGovernor(3)
    assert torch.get_num_threads() == 3 and not governor.automatic
    assert [governor.before_step() for _ in range(3)] == [3, 3, 3]
    governor.close()
    assert torch.get_num_threads() == 2


def test_a_busy_core_takes_a_thread_and_a_quiet_machine_gives_it_back(restore_threads):
    torch.set_num_threads(2)
    load = _FakeLoad(busy=1.0)
    governor = ThreadGovernor(load=load)
    assert governor.before_step() == 1 and torch.get_num_threads() == 1
    load.busy = 0.6  # a busy loop beside two threads gets about two thirds of a core: still a core taken
    assert governor.before_step() == 1
    load.busy = 0.1
    assert governor.before_step() == 2 and torch.get_num_threads() == 2
    governor.close()


@pytest.mark.parametrize("one, two, best", [(0.010, 0.020, 1), (0.020, 0.010, 2)])
def test_on_a_quiet_machine_the_work_chooses_the_faster_count(restore_threads, one, two, best):
    torch.set_num_threads(2)
    governor = ThreadGovernor(load=_FakeLoad(busy=0.0))
    used = []
    for _ in range(threads.WARMUP_STEPS + 2 * threads.CALIBRATION_STEPS + 3):
        n = governor.before_step()
        used.append(n)
        governor.after_step(one if n == 1 else two)
    calibration = used[threads.WARMUP_STEPS : threads.WARMUP_STEPS + 2 * threads.CALIBRATION_STEPS]
    assert sorted(set(calibration)) == [1, 2]  # it tried both
    assert governor.quiet_best == best and used[-3:] == [best] * 3
    governor.close()


def test_no_calibration_while_the_machine_is_busy(restore_threads):
    torch.set_num_threads(2)
    governor = ThreadGovernor(load=_FakeLoad(busy=1.0))
    for _ in range(20):
        governor.after_step(0.01 * governor.before_step())
    assert governor.quiet_best is None and governor.times == {1: [], 2: []}
    governor.close()


def test_the_training_loop_trains_vanilla_layers_in_the_fused_kernel(monkeypatch):
    """PyTorch's LSTM backward follows the thread count; inside the training loop, where the governor may change
    it, the fused kernel (whose numbers do not) trains every vanilla layer; outside, the dispatch is as before."""
    if not fused.available():
        pytest.skip("the fused kernel could not be built here (no C++ compiler)")
    calls = []
    monkeypatch.setattr(fused, "lstm_layer", _counting(fused.lstm_layer, calls, "fused"))
    monkeypatch.setattr(native, "lstm_stack", _counting(native.lstm_stack, calls, "native"))
    layer = lstmkit.LSTM(1, 64)
    x = torch.randn(10, 4, 1)
    with functional.thread_invariant():
        layer(x)
        with torch.no_grad():  # evaluation: PyTorch's forward computes the same on any number of threads
            layer(x)
    layer(x)
    assert calls == ["fused", "native", "native"] and functional._thread_invariant == 0


def _counting(function, calls: list, name: str):
    def counted(*args, **kwargs):
        calls.append(name)
        return function(*args, **kwargs)

    return counted


@pytest.mark.parametrize("options", [{}, {"peephole": True}, {"cifg": True}, {"layernorm": True}, {"proj_size": 16},
                                     {"zoneout": 0.1}])  # fmt: skip
def test_the_fused_kernel_computes_the_same_on_any_number_of_threads(options, restore_threads):
    """Outputs and every gradient bit for bit equal on 1 and 2 threads, for batches split in several row blocks
    (before, each thread summed the bias gradients of its own rows, so they followed the thread count)."""
    if not fused.available():
        pytest.skip("the fused kernel could not be built here (no C++ compiler)")
    torch.manual_seed(0)
    layer = lstmkit.LSTM(3, 32, backend="fused", **options)
    x = torch.randn(20, 64, 3)

    def run(n: int) -> dict:
        torch.set_num_threads(n)
        model = copy.deepcopy(layer)
        inputs = x.clone().requires_grad_()
        torch.manual_seed(1)  # the zoneout masks
        out, (h, c) = model(inputs)
        (out.square().sum() + h.sum() + c.sum()).backward()
        return {"out": out, "x": inputs.grad, **{name: p.grad for name, p in model.named_parameters()}}

    one, two = run(1), run(2)
    assert {name: torch.equal(one[name], two[name]) for name in one} == {name: True for name in one}


def test_the_initial_weights_do_not_depend_on_the_thread_count(restore_threads):
    def weights(n: int) -> dict:
        torch.set_num_threads(n)
        torch.manual_seed(0)
        return lstmkit.LSTM(4, 64).state_dict()

    one, two = weights(1), weights(2)
    assert all(torch.equal(one[name], two[name]) for name in one)


def test_a_forecaster_trained_while_the_count_changes_equals_one_trained_on_one_thread(
    tmp_path, monkeypatch, restore_threads
):
    """The run's numbers do not depend on the governor's choices: with a quiet machine (so the first steps
    alternate between 1 and 2 threads, then keep the faster) the trained weights and metrics equal, bit for bit,
    those of `threads=1`."""
    import numpy as np
    import pandas as pd

    from lstmkit.tasks.forecast.estimator import Forecaster

    rng = np.random.default_rng(0)
    t = np.arange(160)
    frame = pd.DataFrame({"y": (100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 160)).round(3)})
    frame.to_csv(tmp_path / "series.csv", index=False)
    counts = []
    monkeypatch.setattr(threads, "_shared_load", lambda: _FakeLoad(busy=0.0))
    real_set = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (counts.append(n), real_set(n)))

    def fitted(n):
        torch.set_num_threads(2)
        model = Forecaster("y", horizon=3, lookback=12, hidden=16, epochs=4, batch_size=8, threads=n)
        return model.fit(tmp_path / "series.csv")

    automatic, one = fitted(None), fitted(1)
    assert {1, 2} <= set(counts)  # the automatic run did change the count
    assert automatic.metrics_ == one.metrics_
    assert all(torch.equal(a, b) for a, b in zip(automatic.model_.state_dict().values(), one.model_.state_dict().values()))


def test_threads_on_the_command_line(tmp_path, capsys, restore_threads):
    """`--threads N` is recorded with the run; 0 is refused in one line."""
    import json

    import numpy as np

    from lstmkit.cli import main

    data = tmp_path / "series.csv"
    data.write_text("y\n" + "\n".join(f"{100 + 10 * np.sin(k / 2):.3f}" for k in range(80)) + "\n")
    out = tmp_path / "run"
    small = ["--data", str(data), "--target", "y", "--horizon", "2", "--lookback", "8", "--hidden", "4", "--epochs", "2",
             "--quiet", "--out", str(out)]  # fmt: skip
    assert main(["train", "forecast", *small, "--threads", "1"]) == 0
    assert json.loads((out / "config.json").read_text())["settings"]["threads"] == 1
    capsys.readouterr()
    assert main(["train", "forecast", *small, "--threads", "0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "lstmkit: error: Invalid value for '--threads': 0 is not in the range x>=1."
    )


def test_evaluation_batches_run_on_the_threads_the_machine_can_give(restore_threads):
    from lstmkit.train import TrainConfig, evaluate_loss

    torch.set_num_threads(2)
    governor = ThreadGovernor(load=_FakeLoad(busy=1.0))
    seen = []
    model = torch.nn.Linear(3, 1)
    loss = lambda net, batch: (seen.append(torch.get_num_threads()), ((net(batch[0]) - batch[1]) ** 2).mean())[1]  # noqa: E731
    data = (torch.randn(600, 3), torch.randn(600, 1))
    evaluate_loss(model, loss, data, TrainConfig().resolved(), torch.device("cpu"), governor)
    assert seen == [1, 1, 1]  # batches of 256: 256, 256, 88
    governor.close()


def test_an_lstm_fcn_classifier_trains_to_the_same_weights_on_one_thread_and_two(restore_threads):
    """The convolutions, batch norm and squeeze-excite of the FCN branch too: a seed repeats the run exactly."""
    import numpy as np

    from lstmkit.data import LabelledSequences
    from lstmkit.tasks.classify.estimator import SequenceClassifier

    rng = np.random.default_rng(0)
    sequences = [rng.normal(0, 1, (int(rng.integers(30, 60)), 3)).astype(np.float32) for _ in range(48)]
    labels = ["up" if s[:, 0].sum() > 0 else "down" for s in sequences]
    data = LabelledSequences(sequences, labels, "noise", "numeric")

    def trained(n):
        torch.set_num_threads(2)
        model = SequenceClassifier(arch="lstm-fcn", hidden=8, epochs=3, batch_size=8, schedule="plateau", threads=n)
        return model.fit(data).model_.state_dict()

    one, two = trained(1), trained(2)
    assert all(torch.equal(one[name], two[name]) for name in one)


def test_a_forecaster_with_batches_of_a_few_rows_trains_the_same_on_one_thread_and_two(tmp_path, restore_threads):
    """PyTorch's products of 5-11 rows sum otherwise on two threads: such a batch (here every one; in a run, the
    last partial one) runs on one thread, so the weights equal, bit for bit, those of `threads=1`."""
    import numpy as np
    import pandas as pd

    from lstmkit.tasks.forecast.estimator import Forecaster

    rng = np.random.default_rng(0)
    t = np.arange(120)
    pd.DataFrame({"y": (100 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 120)).round(3)}).to_csv(tmp_path / "s.csv", index=False)
    fitted = [Forecaster("y", horizon=13, lookback=24, hidden=64, epochs=3, batch_size=10, threads=n, refit_full=False)
              .fit(tmp_path / "s.csv") for n in (1, 2)]  # fmt: skip
    one, two = (f.model_.state_dict() for f in fitted)
    assert all(torch.equal(one[name], two[name]) for name in one)


def test_the_first_load_reading_is_taken_once_when_every_step_is_small(monkeypatch, restore_threads):
    """A run whose batches all hold fewer than ONE_THREAD_ROWS rows counts no step for the calibration; it still
    waits for the first reading of the machine's load once, not before every step."""
    torch.set_num_threads(2)
    sleeps = []
    monkeypatch.setattr(threads.time, "sleep", sleeps.append)

    class Fresh(_FakeLoad):
        def age(self) -> float:
            return 0.0  # just read: the first reading must wait FIRST_READING

    governor = ThreadGovernor(load=Fresh(busy=0.0))
    for _ in range(5):
        assert governor.before_step(rows=threads.ONE_THREAD_ROWS - 1) == 1
        governor.after_step(0.01)
    assert governor.before_step(rows=threads.ONE_THREAD_ROWS) == 2
    assert sleeps == [threads.FIRST_READING] and governor.steps == 0
    governor.close()
