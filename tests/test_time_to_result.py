"""benchmarks/time_to_result.py: its phase clock counts each phase without the phases nested in it, and its
wrapper runs an lstmkit command unchanged while timing it. No timing is asserted."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import load_benchmark

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "time_to_result.py"
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}


def test_a_phase_excludes_the_phases_nested_in_it(monkeypatch):
    module = load_benchmark("time_to_result")
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
    assert written["code"] == 0 and set(written["phases"]) == set(load_benchmark("time_to_result").PHASES)
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


def test_every_busy_machine_row_is_relative_to_lstmkits_quiet_one_thread_median(monkeypatch, capsys):
    module = load_benchmark("time_to_result")
    medians = {("lstmkit", 1, False): 0.004, ("lstmkit", 2, False): 0.002, ("lstmkit", 2, True): 0.012}

    def fake(layer, threads, shape, steps, busy):
        if threads == "auto":
            return {"note": "not available"}
        return {"times": [medians.get((layer, threads, busy), 0.004)] * 3}

    monkeypatch.setattr(module, "step_config", fake)
    rows = {(r["machine"], r["layer"], r["threads"]): r for r in module.table2(quick=True, steps=3)}
    assert rows[("quiet", "lstmkit", 2)]["vs_lstmkit_1_thread"] == 0.5
    assert rows[("busy", "lstmkit", 2)]["vs_lstmkit_1_thread"] == 3.0
    assert rows[("quiet", "lstmkit", "auto")]["note"] == "not available"
    assert len(rows) == 2 * len(module.CONFIGS)
