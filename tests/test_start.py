"""`lstmkit` starts at once: help, the version and bad usage import none of the heavy libraries, which each
command imports only when it uses them; `import lstmkit` alone is cheap, and its names still arrive."""

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("torch", "pandas", "numpy", "matplotlib", "sklearn", "statsforecast", "scipy", "optuna", "sqlalchemy")

# runs `main(argv)` in a fresh interpreter and prints its exit code, its stderr and the heavy modules imported
PROBE = """
import contextlib, io, json, sys
from lstmkit.cli import main
err = io.StringIO()
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
    code = main(json.loads(sys.argv[1]))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy})
print(json.dumps({{"code": code, "err": err.getvalue(), "heavy": heavy}}))
""".format(heavy=set(HEAVY))


def probe(argv: list[str]) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], [], ["train"], ["train", "forecast", "--help"], ["train", "classify", "--help"],
     ["train", "lm", "--help"], ["train", "anomaly", "--help"], ["predict", "--help"], ["demo", "--help"],
     ["tune"], ["tune", "forecast", "--help"], ["tune", "lm", "--help"]],
)  # fmt: skip
def test_help_and_version_import_nothing_heavy(argv):
    assert probe(argv) == {"code": 0, "err": "", "heavy": []}


@pytest.mark.parametrize(
    "argv, message",
    [(["frobnicate"], "No such command"), (["train", "forecast", "--data", "x.csv"], "Missing option '--out'"),
     (["train", "forecast", "--hidden", "0"], "--hidden"), (["predict", "no-such-run"], "no such run directory"),
     (["tune", "forecast", "--data", "x.csv", "--target", "y", "--out", "o"], "Missing option '--trials'"),
     (["inspect", "no-such-run", "--out", "page.html"], "no such run directory")],
)  # fmt: skip
def test_bad_usage_is_one_line_exit_code_2_and_imports_nothing_heavy(argv, message):
    seen = probe(argv)
    assert seen["code"] == 2 and seen["heavy"] == []
    assert seen["err"].startswith("lstmkit: error: ") and message in seen["err"] and seen["err"].count("\n") == 1


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_exit_0_from_a_fresh_process(args):
    result = subprocess.run([sys.executable, "-m", "lstmkit", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("lstmkit ") if args == ["--version"] else "train" in result.stdout


def test_import_lstmkit_alone_imports_nothing_heavy():
    code = "import sys, lstmkit; print(sorted(m for m in sys.modules if m.split('.')[0] in %r))" % (set(HEAVY),)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr


def test_a_forecaster_and_its_metrics_import_neither_scikit_learn_nor_matplotlib():
    # what `lstmkit predict` and `train forecast` load before the report: scikit-learn is for the classification
    # metrics, matplotlib for report.html only
    code = ("import sys; from lstmkit.tasks import JOBS; from lstmkit.metrics import forecast_metrics; "
            "JOBS['forecast'].estimator; forecast_metrics([1.0, 2.0], [1.5, 2.0], y_train=[1.0, 3.0, 2.0], season=1); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'matplotlib', 'torch'}))")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "['torch']", result.stderr


def test_the_public_names_still_arrive_on_first_use():
    import lstmkit
    from lstmkit import LSTM, Forecaster, GateTrace, LSTMCell, gates
    from lstmkit.nn import VARIANTS, variant_flags
    from lstmkit.tasks import JOBS

    assert LSTM.__module__ == "lstmkit.nn.lstm" and LSTMCell.__module__ == "lstmkit.nn.cell"
    assert GateTrace._fields[:4] == ("i", "f", "g", "o") and callable(gates.trace)
    assert Forecaster is JOBS["forecast"].estimator and lstmkit.AnomalyDetector is JOBS["anomaly"].estimator
    assert VARIANTS == ("vanilla", "peephole", "cifg", "layernorm") and variant_flags("cifg") == {"cifg": True}
    assert set(lstmkit.__all__) <= set(dir(lstmkit))
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        lstmkit.Nothing  # noqa: B018


# ---- the end: `lstmkit.__main__.leave` ends the process without the interpreter's finalization ----------------
LEAVE = """
import atexit, ctypes, sys, threading, time
from pathlib import Path
from lstmkit.__main__ import leave
marks = Path(sys.argv[1])
atexit.register(lambda: marks.joinpath("exit handler").write_text("ran"))
if sys.argv[2] == "thread":  # a Python thread still running: the normal exit, which waits for it
    threading.Thread(target=lambda: (time.sleep(0.5), marks.joinpath("thread").write_text("done"))).start()
sys.stdout.write("from Python, unflushed|")
ctypes.CDLL(None).printf(b"from C, in the C library's buffer|")  # a pipe's stdout: fully buffered
leave(int(sys.argv[3]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="printf from the C library loaded by name")
@pytest.mark.parametrize("threads", ["alone", "thread"])
def test_the_exit_runs_the_exit_handlers_flushes_python_and_c_output_and_keeps_the_code(tmp_path, threads):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # which would leave C's stdout unbuffered
    done = subprocess.run([sys.executable, "-c", LEAVE, str(tmp_path), threads, "3"], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert done.returncode == 3, done.stderr
    # both buffers written out (in which order differs: a normal exit flushes C's after Python's finalization)
    assert sorted(done.stdout.split("|")) == ["", "from C, in the C library's buffer", "from Python, unflushed"]
    assert (tmp_path / "exit handler").read_text() == "ran"
    assert (tmp_path / "thread").exists() == (threads == "thread")
