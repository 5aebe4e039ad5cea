"""The edges a careless new user reaches (issue 13): every failure is one line on stderr and exit code 2,
nothing the user had changes, and every interrupted run can be continued or started afresh."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli import main


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """`lstmkit ARGS` in this process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    """The one line of a failed command, without its prefix; fails unless stderr is exactly one error line."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lstmkit: error: "), err
    return lines[0].removeprefix("lstmkit: error: ")


def contents(folder: Path) -> dict:
    """Every file under `folder` (hidden ones too) with its bytes: what a failed command must leave as it was."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture
def sales(tmp_path) -> Path:
    """120 monthly steps of a trend with a yearly season."""
    t = np.arange(120)
    level = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 1, len(t))
    path = tmp_path / "sales.csv"
    pd.DataFrame({"month": t, "sales": level.round(3)}).to_csv(path, index=False)
    return path


def forecast_args(data: Path, out: Path, *extra, quiet: bool = True) -> list:
    return ["train", "forecast", "--data", data, "--target", "sales", "--time-col", "month", "--horizon", "3",
            "--lookback", "12", "--hidden", "4", "--epochs", "1", *(["--quiet"] if quiet else []), "--out", out,
            *extra]  # fmt: skip


def lstmkit_process(*args, **popen) -> subprocess.Popen:
    """`python -m lstmkit ARGS` as a real process on one thread, importing this checkout."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    return subprocess.Popen([sys.executable, "-m", "lstmkit", *map(str, args)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)  # fmt: skip


# ---- 1. no dead end after a crash or Ctrl-C before the first checkpoint -------------------------------------


def test_a_seed_beyond_64_bits_is_one_line_and_writes_nothing(capsys, sales, tmp_path):
    code, _, err = run_cli(capsys, *forecast_args(sales, tmp_path / "r", "--seed", 2**70))
    assert code == 2 and "Invalid value for '--seed'" in error_line(err) and "9223372036854775807" in err
    assert not (tmp_path / "r").exists()


def test_the_library_refuses_a_seed_beyond_64_bits_in_one_line():
    from lstmkit import Forecaster
    from lstmkit.errors import ConfigError

    with pytest.raises(ConfigError, match=r"seed must be a whole number in \[0, 9223372036854775807\], got 2361"):
        Forecaster(target="sales", seed=2**71).check_settings()


def _crash_in_the_first_epoch(capsys, monkeypatch, sales, out):
    """A run that dies in epoch 1, before any checkpoint: it leaves DIR/.incomplete/ with only config.json."""
    from lstmkit.train import loop

    with monkeypatch.context() as patched:
        patched.setattr(loop, "_train_epoch", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("power cut")))
        with pytest.raises(RuntimeError, match="power cut"):
            main([str(a) for a in forecast_args(sales, out)])
    capsys.readouterr()
    assert sorted(p.name for p in (out / ".incomplete").iterdir()) == ["config.json"]


@pytest.mark.parametrize("again, note", [
    ([], "the interrupted run there saved no checkpoint; starting afresh"),
    (["--resume"], "nothing to resume (the interrupted run saved no checkpoint); starting afresh"),
])  # fmt: skip
def test_a_run_that_died_before_its_first_checkpoint_is_started_afresh(capsys, monkeypatch, sales, tmp_path, again, note):
    out = tmp_path / "r"
    _crash_in_the_first_epoch(capsys, monkeypatch, sales, out)
    code, _, err = run_cli(capsys, *forecast_args(sales, out, "--seed", "1", *again))
    assert code == 0 and err == f"lstmkit: {out}: {note}\n"
    assert (out / "model.safetensors").exists() and not (out / ".incomplete").exists()


def test_resume_with_nothing_interrupted_sends_the_user_to_plain_train(capsys, sales, tmp_path):
    code, _, err = run_cli(capsys, *forecast_args(sales, tmp_path / "r", "--resume"))
    assert code == 2 and error_line(err) == f"{tmp_path / 'r'}: has no interrupted run to resume; train without --resume"


def test_ctrl_c_in_the_first_epoch_leaves_a_run_that_plain_train_and_resume_accept(sales, tmp_path, capsys):
    out = tmp_path / "r"
    process = lstmkit_process(*forecast_args(sales, out, "--epochs", "100000", "--patience", "100000"))
    deadline = time.monotonic() + 60
    while not (out / ".incomplete" / "config.json").exists():  # the run has begun and has no checkpoint yet
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err == "lstmkit: interrupted; continue a training run with --resume\n"
    code, _, err = run_cli(capsys, *forecast_args(sales, out, "--resume"))
    assert code == 0 and (out / "model.safetensors").exists(), err


# ---- 2. Ctrl-C says how to continue --------------------------------------------------------------------------


@pytest.mark.slow  # about 10 s: a process, an epoch, then the resumed run
def test_ctrl_c_during_training_says_how_to_continue_and_resume_continues(sales, tmp_path, capsys):
    out = tmp_path / "r"
    process = lstmkit_process(*forecast_args(sales, out, "--epochs", "100000", "--patience", "100000", quiet=False))
    assert process.stderr.readline().startswith("epoch 1 ")  # one epoch done: its checkpoint is written
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.splitlines()[-1] == "lstmkit: interrupted; continue a training run with --resume"
    assert (out / ".incomplete" / "checkpoint.pt").exists() and not (out / "model.safetensors").exists()
    code, _, err = run_cli(capsys, *forecast_args(sales, out))
    assert code == 2 and "holds an interrupted run" in error_line(err)
    code, _, err = run_cli(capsys, *forecast_args(sales, out, "--epochs", "100000", "--patience", "100000", "--resume",
                                                  "--max-time", "0.5"))  # fmt: skip
    assert code == 0 and (out / "model.safetensors").exists(), err
