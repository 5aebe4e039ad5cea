"""benchmarks/time_to_result.py: its phase clock counts each phase without the phases nested in it, and its
wrapper runs an lstmkit command unchanged while timing it. No timing is asserted."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "time_to_result.py"
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}


def benchmark():
    spec = importlib.util.spec_from_file_location("time_to_result", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_phase_excludes_the_phases_nested_in_it(monkeypatch):
    module = benchmark()
    now = iter([0.0, 1.0, 3.0, 6.0, 10.0, 15.0])  # the clock at start, then at each enter and leave
    monkeypatch.setattr(module.time, "perf_counter", lambda: next(now))
    clock = module.PhaseClock()  # 0: other
    clock.enter("training")  # 1
    clock.enter("checkpoints")  # 3
    clock.leave()  # 6
    clock.leave()  # 10
    clock.enter("report")  # 15
    assert clock.spent == {**dict.fromkeys(module.PHASES, 0.0), "other": 1.0 + 5.0, "training": 2.0 + 4.0, "checkpoints": 3.0}
    assert clock.open == ["other", "report"]


def test_the_wrapper_runs_the_command_and_writes_its_phases(tmp_path):
    result = subprocess.run([sys.executable, SCRIPT, "--child", tmp_path / "phases.json", "--version"],
                            capture_output=True, text=True, env=ENV, timeout=120)  # fmt: skip
    assert result.returncode == 0 and result.stdout.startswith("lstmkit ")
    written = json.loads((tmp_path / "phases.json").read_text())
    assert written["code"] == 0 and set(written["phases"]) == set(benchmark().PHASES)
    assert written["phases"]["import"] > 0 and written["phases"]["training"] == 0


def test_the_wrapper_keeps_the_commands_exit_code(tmp_path):
    result = subprocess.run([sys.executable, SCRIPT, "--child", tmp_path / "phases.json", "frobnicate"],
                            capture_output=True, text=True, env=ENV, timeout=120)  # fmt: skip
    assert result.returncode == 2 and "No such command" in result.stderr
    assert json.loads((tmp_path / "phases.json").read_text())["code"] == 2


@pytest.mark.slow  # two demos, the airline holdout, Darts and a busy-machine table: minutes
def test_the_quick_run_writes_both_tables(tmp_path):
    pytest.importorskip("darts")
    out = tmp_path / "ttr.json"
    result = subprocess.run([sys.executable, SCRIPT, "--quick", "--steps", "5", "--json", out], capture_output=True,
                            text=True, env=ENV, timeout=1800)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    written = json.loads(out.read_text())
    commands = [row["command"] for row in written["time_to_result"]]
    assert "airline holdout: train + predict" in commands and commands[-1].startswith("darts")
    assert written["time_to_result"][-1]["mase"] > 0
    assert {row["machine"] for row in written["busy_machine"]} == {"quiet", "busy"}
