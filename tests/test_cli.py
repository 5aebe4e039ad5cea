"""The `lstmkit` command as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import lstmkit
from lstmkit.cli import main

SCRIPT = Path(sys.executable).parent / "lstmkit"


def _run(*args):
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_console_script_prints_version():
    result = _run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"lstmkit {lstmkit.__version__}"


def test_help_lists_the_demo(capsys):
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out
    assert main([]) == 0  # bare `lstmkit` shows the help too


@pytest.mark.parametrize(
    "args, message",
    [
        (["demo", "--variant", "foo"], "Invalid value for '--variant'"),
        (["demo", "--epochs", "0"], "Invalid value for '--epochs'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_bad_usage_is_one_line_and_exit_code_2(args, message):
    result = _run(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("lstmkit: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_demo_trains_an_lstm_that_beats_the_naive_forecast(capsys):
    assert main(["demo", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    lstm, naive = result["test"]["mse"], result["baselines"]["naive"]["mse"]
    assert lstm < 0.5 * naive  # the series is predictable: the LSTM must learn it
    assert lstm > 0.5 * result["noise_floor_mse"]  # and cannot beat the noise


def test_demo_prints_a_summary_beside_the_baseline():
    result = _run("demo", "--epochs", "2", "--hidden", "8", "--variant", "cifg", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "naive (last value)" in result.stdout and "lstmkit.LSTM (cifg, H=8)" in result.stdout
