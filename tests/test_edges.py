"""The edges a careless new user reaches (issue 13): every failure is one line on stderr and exit code 2,
nothing the user had changes, and every interrupted run can be continued or started afresh."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from importlib.resources import files
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
    """`python -m lstmkit ARGS` as a real process on one thread, importing this checkout. Its Ctrl-C is
    the default even where the tests run in a background job, whose shell starts them with SIGINT ignored
    (a child inherits that, and Python then installs no KeyboardInterrupt handler)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    return subprocess.Popen([sys.executable, "-m", "lstmkit", *map(str, args)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **popen)  # fmt: skip


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


def test_an_interrupted_run_with_torn_settings_says_how_to_start_afresh(capsys, sales, tmp_path):
    out = tmp_path / "r"
    (out / ".incomplete").mkdir(parents=True)
    (out / ".incomplete" / "checkpoint.pt").write_bytes(b"saved")
    (out / ".incomplete" / "config.json").write_text("{")
    code, _, err = run_cli(capsys, *forecast_args(sales, out, "--resume"))
    staging = out / ".incomplete"
    assert code == 2 and error_line(err) == (f"{out}: the interrupted run's settings ({staging / 'config.json'}) are "
                                             f"unreadable, so it cannot be resumed; delete {staging} to start afresh")  # fmt: skip
    code, _, err = run_cli(capsys, *forecast_args(sales, out))
    assert code == 2 and error_line(err).endswith("continue it with --resume, or delete that folder to start afresh")


# ---- 2. Ctrl-C says how to continue --------------------------------------------------------------------------


@pytest.mark.slow  # about 10 s: a process, an epoch, then the resumed run
def test_ctrl_c_during_training_says_how_to_continue_and_resume_continues(sales, tmp_path, capsys):
    out = tmp_path / "r"
    process = lstmkit_process(*forecast_args(sales, out, "--epochs", "100000", "--patience", "100000", "--checkpoint-every",
                                             "0", quiet=False))  # fmt: skip
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


@pytest.mark.slow  # three processes: about 30 s on a busy machine
@pytest.mark.parametrize("every", ["0", "1000"])  # killed after a checkpoint; killed before its first one
def test_a_run_killed_at_any_moment_resumes_to_the_result_of_an_uninterrupted_one(sales, tmp_path, every):
    settings = ("--epochs", "150", "--patience", "100000", "--checkpoint-every", every)
    whole = lstmkit_process(*forecast_args(sales, tmp_path / "whole", *settings, "--json"))
    expected = json.loads(whole.communicate(timeout=300)[0])
    out = tmp_path / "cut"
    process = lstmkit_process(*forecast_args(sales, out, *settings, quiet=False))
    for epoch in (1, 2, 3):  # with --checkpoint-every 0, epoch 3's checkpoint is written before its line
        assert process.stderr.readline().startswith(f"epoch {epoch} ")
    process.send_signal(signal.SIGKILL)  # in epoch 4 or its checkpoint: no handler, no cleanup
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL and not (out / "model.safetensors").exists()
    assert (out / ".incomplete" / "checkpoint.pt").exists() == (every == "0")
    resumed = lstmkit_process(*forecast_args(sales, out, *settings, "--resume", "--json"))
    got, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0 and json.loads(got) == expected, err
    assert ("nothing to resume" in err) == (every != "0")  # a run killed before its first checkpoint starts afresh


# ---- 3. places that cannot be written: one line, exit code 2, nothing of the user's changed --------------------


CHATTR = shutil.which("chattr")


def _can_write(folder: Path) -> bool:
    try:
        (folder / ".probe").write_text("")
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


@pytest.fixture
def read_only(tmp_path):
    """A function making a folder read-only: chmod, or for root (whom chmod does not stop) `chattr +i`; the
    test is skipped, with the reason, where neither stops a write."""
    made = []

    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o555)
        made.append(folder)
        if not _can_write(folder):
            return folder
        if CHATTR and subprocess.run([CHATTR, "+i", folder], capture_output=True).returncode == 0 and not _can_write(folder):
            return folder
        pytest.skip("cannot make a read-only folder here: chmod does not stop this user (root), and chattr +i "
                    "is missing or not permitted")  # fmt: skip

    yield make
    for folder in made:
        if CHATTR:
            subprocess.run([CHATTR, "-i", folder], capture_output=True)
        folder.chmod(0o755)


def _refused(folder_or_file) -> str:
    return f"{folder_or_file}: cannot be written ({{}}); choose a place you can write to"


def assert_cannot_write(err: str, path: Path) -> None:
    line = error_line(err)
    assert line in {_refused(path).format(reason) for reason in ("Permission denied", "Operation not permitted")}, line


def test_train_into_a_read_only_folder_is_one_line(capsys, sales, tmp_path, read_only):
    folder = read_only(tmp_path / "locked")
    code, _, err = run_cli(capsys, *forecast_args(sales, folder / "r"))
    assert code == 2 and not (folder / "r").exists()
    assert_cannot_write(err, folder / "r")


def test_train_over_a_read_only_run_is_one_line_and_leaves_it_as_it_was(capsys, sales, tmp_path, read_only):
    out = tmp_path / "r"
    assert run_cli(capsys, *forecast_args(sales, out))[0] == 0
    before = contents(out)
    read_only(out)
    code, _, err = run_cli(capsys, *forecast_args(sales, out, "--seed", "3"))
    assert code == 2 and contents(out) == before
    assert_cannot_write(err, out)


def test_demo_into_a_read_only_folder_is_one_line(capsys, tmp_path, read_only):
    folder = read_only(tmp_path / "locked")
    code, _, err = run_cli(capsys, "demo", "forecast", "--quiet", "--out", folder / "d")
    assert code == 2
    assert_cannot_write(err, folder / "d")


def test_bench_json_into_a_read_only_folder_is_refused_before_timing_anything(capsys, tmp_path, read_only):
    folder = read_only(tmp_path / "locked")
    code, _, err = run_cli(capsys, "bench", "--quick", "--shapes", "2x1x1x1", "--json", folder / "b.json")
    assert code == 2
    assert_cannot_write(err, folder / "b.json")


def test_predict_output_into_a_read_only_folder_is_one_line(capsys, tiny_runs, tmp_path, read_only):
    folder = read_only(tmp_path / "locked")
    code, _, err = run_cli(capsys, "predict", tiny_runs["forecast"], "--output", folder / "p.csv")
    assert code == 2
    assert_cannot_write(err, folder / "p.csv")


def test_inspect_out_into_a_read_only_folder_is_one_line(capsys, tiny_runs, tmp_path, read_only):
    folder = read_only(tmp_path / "locked")
    code, _, err = run_cli(capsys, "inspect", tiny_runs["lm"], "--text", "def f", "--out", folder / "p.html")
    assert code == 2
    assert_cannot_write(err, folder / "p.html")


def test_predict_output_onto_a_directory_is_one_line_and_leaves_it_as_it_was(capsys, tiny_runs, tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    before = contents(tmp_path)
    code, _, err = run_cli(capsys, "predict", tiny_runs["forecast"], "--output", tmp_path)
    assert code == 2 and contents(tmp_path) == before
    assert error_line(err) == f"{tmp_path}: is a directory; give a file name such as {tmp_path / 'predictions.csv'}"


def test_predict_output_makes_missing_parent_folders(capsys, tiny_runs, tmp_path):
    code, _, err = run_cli(capsys, "predict", tiny_runs["forecast"], "--output", tmp_path / "new" / "deeper" / "p.csv")
    assert code == 0 and (tmp_path / "new" / "deeper" / "p.csv").read_text().count("\n") == 4  # header + 3 steps


@pytest.mark.parametrize("command", [
    lambda run, out: ["predict", run, "--output", out / "p.csv"],
    lambda run, out: ["train", "forecast", "--data", "x.csv", "--target", "y", "--out", out / "r"],
    lambda run, out: ["bench", "--json", out / "b.json"],
])  # fmt: skip
def test_a_file_where_a_folder_should_be_is_one_line(capsys, tiny_runs, tmp_path, command):
    (tmp_path / "file").write_text("keep me")
    args = command(tiny_runs["forecast"], tmp_path / "file")
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and (tmp_path / "file").read_text() == "keep me"
    assert error_line(err) == f"{args[-1]}: cannot be written: {tmp_path / 'file'} is a file, not a folder"


# ---- 6. `lstmkit bench` validates its arguments like every other command -------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--shapes", "0x2x3x4"], "--shapes takes TxBxIxH with four whole numbers of at least 1, like 100x32x64x128; got '0x2x3x4'"),
    (["--shapes", "6x-2x3x4"], "--shapes takes TxBxIxH with four whole numbers of at least 1, like 100x32x64x128; got '6x-2x3x4'"),
    (["--shapes", "6x2x3"], "--shapes takes TxBxIxH with four whole numbers of at least 1, like 100x32x64x128; got '6x2x3'"),
    (["--variants", "vanilla,turbo"], "--variants takes a comma-separated choice of vanilla,peephole,cifg,layernorm,zoneout,trace; got 'vanilla,turbo'"),
    (["--precisions", "fp16"], "--precisions takes a comma-separated choice of fp32,bf16; got 'fp16'"),
    (["--modes", "both"], "--modes takes a comma-separated choice of train,infer; got 'both'"),
    (["--budget", "0"], "--budget must be a number above 0, got 0.0"),
])  # fmt: skip
def test_bad_bench_arguments_are_one_line_and_exit_code_2(capsys, tmp_path, args, message):
    code, out, err = run_cli(capsys, "bench", "--quick", "--json", tmp_path / "b.json", *args)
    assert code == 2 and error_line(err) == message and out == ""
    assert not (tmp_path / "b.json").exists()


@pytest.mark.slow  # a fresh interpreter: about 6 s
def test_the_layer_speed_script_is_the_bench_command(tmp_path):
    script = Path(__file__).parents[1] / "benchmarks" / "layer_speed.py"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    result = subprocess.run([sys.executable, script, "--shapes", "0x1x1x1"], capture_output=True, text=True, env=env,
                            timeout=120)  # fmt: skip
    assert result.returncode == 2 and result.stderr.startswith("lstmkit: error: --shapes takes TxBxIxH")


# ---- 5. hand-edited or foreign run files are the one "unreadable run" line ----------------------------------


def _edited_copy(run: Path, tmp_path: Path, name: str, edit) -> Path:
    import json

    copy = Path(shutil.copytree(run, tmp_path / "run"))
    (copy / name).write_text(json.dumps(edit(json.loads((copy / name).read_text()))))
    return copy


def _set(key, value):
    return lambda state: {**state, key: value}


@pytest.mark.parametrize("edit", [lambda c: [], lambda c: None, lambda c: "forecast", _set("task", []),
                                  _set("settings", [])])  # fmt: skip
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_hand_edited_config_json_is_an_unreadable_run(capsys, tiny_runs, tmp_path, edit, command):
    run = _edited_copy(tiny_runs["forecast"], tmp_path, "config.json", edit)
    before = contents(run)
    code, _, err = run_cli(capsys, command, run, *(["--data", tiny_runs["data"] / "sales.csv"] if command == "evaluate" else []))
    assert code == 2 and error_line(err) == f"{run / 'config.json'}: is unreadable or truncated; train the run again"
    assert contents(run) == before


def test_predict_from_a_config_json_without_the_training_data_is_an_unreadable_run(capsys, tiny_runs, tmp_path):
    run = _edited_copy(tiny_runs["anomaly"], tmp_path, "config.json", _set("settings", {}))
    code, _, err = run_cli(capsys, "predict", run)
    assert code == 2 and error_line(err) == f"{run / 'config.json'}: is unreadable or truncated; train the run again"


@pytest.mark.parametrize("edit", [_set("lookback", "abc"), _set("lookback", None), _set("lookback", 1e9),
                                  _set("season", [12]), _set("members", 0), _set("params", []),
                                  lambda s: {**s, "params": {**s["params"], "hidden": -3}}, lambda s: None])  # fmt: skip
def test_a_hand_edited_forecaster_json_is_an_unreadable_run(capsys, tiny_runs, tmp_path, edit):
    run = _edited_copy(tiny_runs["forecast"], tmp_path, "forecaster.json", edit)
    before = contents(run)
    code, _, err = run_cli(capsys, "predict", run)
    assert code == 2 and error_line(err) == f"{run}: the saved forecaster is unreadable or truncated; train it again"
    assert contents(run) == before


@pytest.mark.parametrize("job, key", [("anomaly", "lookback"), ("lm", "embedding")])
def test_a_hand_edited_setting_of_another_job_is_an_unreadable_run(capsys, tiny_runs, tmp_path, job, key):
    run = tiny_runs[job]
    state = next(p.name for p in run.glob("*.json") if p.name not in {"config.json", "metrics.json"})
    run = _edited_copy(run, tmp_path, state, _set(key, "abc"))
    code, _, err = run_cli(capsys, "evaluate", run, "--data", tiny_runs["data"] / ("sensor.csv" if job == "anomaly" else "code.py"))
    assert code == 2 and "is unreadable or truncated; train it again" in error_line(err)


# ---- 4. dates whose day and month could be swapped are one line, never a silent reorder ------------------------


def _monthly_csv(path: Path, formats: list[str]) -> Path:
    """12 years of monthly values with a yearly season, the dates written in `formats` in turn."""
    t = pd.date_range("1949-01-01", periods=144, freq="MS")
    value = 100 + np.arange(144) + 20 * np.sin(2 * np.pi * np.arange(144) / 12)
    cells = [d.strftime(formats[i % len(formats)]) for i, d in enumerate(t)]
    pd.DataFrame({"month": cells, "y": value.round(2)}).to_csv(path, index=False)
    return path


def _train_args(data, out, *extra):
    return ["train", "forecast", "--data", data, "--target", "y", "--time-col", "month", "--horizon", "3", "--hidden", "4",
            "--epochs", "1", "--quiet", "--out", out, *extra]  # fmt: skip


def test_mixed_date_formats_that_swap_day_and_month_are_one_line(capsys, tmp_path):
    data = _monthly_csv(tmp_path / "mixed.csv", ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"])
    code, _, err = run_cli(capsys, *_train_args(data, tmp_path / "r"))
    assert code == 2 and not (tmp_path / "r").exists()
    assert error_line(err) == (
        f"{data}: column 'month' mixes date formats (row 2 '1949-01-01', row 3 '01/02/1949') and '01/02/1949' at row 3 "
        "reads as 1949-01-02 or 1949-02-01; write every date alike, or give the formats with --time-format: "
        "'%Y-%m-%d;%d/%m/%Y;%d.%m.%Y' (day first) or '%Y-%m-%d;%m/%d/%Y;%m.%d.%Y' (month first)")  # fmt: skip


def test_the_time_formats_suggested_read_the_mixed_column_in_order(capsys, tmp_path):
    data = _monthly_csv(tmp_path / "mixed.csv", ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"])
    code, out, err = run_cli(capsys, *_train_args(data, tmp_path / "r", "--time-format", "%Y-%m-%d;%d/%m/%Y;%d.%m.%Y", "--json"))
    import json

    assert code == 0 and json.loads(out)["season"] == 12, err  # read in order: the yearly season is found


def test_one_format_whose_day_and_month_cannot_be_told_apart_is_one_line(capsys, tmp_path):
    data = _monthly_csv(tmp_path / "dmy.csv", ["%d/%m/%Y"])
    code, _, err = run_cli(capsys, *_train_args(data, tmp_path / "r"))
    assert code == 2 and error_line(err) == (
        f"{data}: column 'month' has dates whose day and month cannot be told apart ('01/02/1949' at row 3 reads as "
        "1949-01-02 or 1949-02-01); give the format with --time-format, %m/%d/%Y or %d/%m/%Y")  # fmt: skip
    assert run_cli(capsys, *_train_args(data, tmp_path / "r", "--time-format", "%d/%m/%Y"))[0] == 0


def test_a_cell_not_in_the_time_format_is_one_line(capsys, tmp_path):
    data = _monthly_csv(tmp_path / "iso.csv", ["%Y-%m-%d"])
    code, _, err = run_cli(capsys, "train", "anomaly", "--data", data, "--time-col", "month", "--time-format", "%d/%m/%Y",
                           "--epochs", "1", "--quiet", "--out", tmp_path / "r")  # fmt: skip
    assert code == 2 and error_line(err) == f"{data}: column 'month' has '1949-01-01' at row 2, which is not in the --time-format '%d/%m/%Y'"


def test_a_day_that_tells_the_order_apart_needs_no_time_format(tmp_path):
    from lstmkit.data import read_series_csv

    path = tmp_path / "d.csv"
    path.write_text("day,y\n12/01/2020,1\n13/01/2020,2\n14/01/2020,3\n")
    assert list(read_series_csv(path, "y", time_col="day").time.strftime("%Y-%m-%d")) == ["2020-01-12", "2020-01-13", "2020-01-14"]


# ---- 7. no claim without grounds ------------------------------------------------------------------------------


def test_evaluating_a_language_model_on_text_of_unseen_characters_makes_no_claim(capsys, tiny_runs, tmp_path):
    text = tmp_path / "unseen.txt"
    text.write_text("ZZQQ££ZQ")
    code, out, err = run_cli(capsys, "evaluate", tiny_runs["lm"], "--data", text)
    assert code == 2 and "beats" not in out
    assert error_line(err) == (f"{text}: every character scored is one the model never saw in training (all unknown), "
                               "so there is nothing to compare; evaluate on text like its training text")  # fmt: skip


def test_an_anomaly_file_too_short_to_choose_a_threshold_is_one_line(capsys, tmp_path):
    data = tmp_path / "ten.csv"
    pd.DataFrame({"t": range(10), "v": np.sin(np.arange(10))}).to_csv(data, index=False)
    code, _, err = run_cli(capsys, "train", "anomaly", "--data", data, "--time-col", "t", "--epochs", "1", "--quiet",
                           "--out", tmp_path / "r")  # fmt: skip
    assert code == 2 and not (tmp_path / "r").exists()
    assert error_line(err) == (f"{data}: the validation part has 2 scored steps, too few to choose a threshold from "
                               "(at least 20); give more data, a larger --val-frac, or the threshold with --threshold")  # fmt: skip


# ---- 8. the smaller edges ----------------------------------------------------------------------------------


def test_values_beyond_float32_are_one_line_naming_file_column_and_row(capsys, tmp_path):
    data = tmp_path / "huge.csv"
    pd.DataFrame({"month": range(120), "sales": 1e300 * (1 + 0.1 * np.sin(np.arange(120)))}).to_csv(data, index=False)
    code, _, err = run_cli(capsys, *forecast_args(data, tmp_path / "r"))
    assert code == 2 and "Warning" not in err
    assert error_line(err) == (f"{data}: column 'sales' has the value 1e+300 at row 2, beyond the 3.4e+38 that training "
                               "in float32 can hold; rescale the column (e.g. divide it by a power of ten)")  # fmt: skip


def test_test_frac_0_says_there_is_no_test_part(capsys, sales, tmp_path):
    code, _, err = run_cli(capsys, *forecast_args(sales, tmp_path / "r", "--test-frac", "0"))
    assert code == 2 and not (tmp_path / "r").exists()
    assert error_line(err) == ("--test-frac 0 leaves no test part to score the forecasts on; give a --test-frac above 0 "
                               "such as 0.15, or score rolling origins with --backtest")  # fmt: skip


def test_an_anomaly_detector_with_test_frac_0_says_there_is_no_test_part(capsys, tmp_path):
    data = files("lstmkit.data.files") / "sunspots_yearly.csv"
    code, _, err = run_cli(capsys, "train", "anomaly", "--data", str(data), "--test-frac", "0", "--out", str(tmp_path / "r"))
    assert code == 2 and not (tmp_path / "r").exists()
    assert error_line(err) == ("--test-frac 0 leaves no test part to flag and score; give a --test-frac above 0 such as "
                               "0.15 (predict scores every step of any series)")  # fmt: skip


def test_a_long_horizon_speaks_of_the_horizon_not_of_a_lookback_never_set(capsys, sales, tmp_path):
    args = [a for a in forecast_args(sales, tmp_path / "r", "--horizon", "500") if a not in ("--lookback", "12")]
    code, _, err = run_cli(capsys, *args)
    line = error_line(err)
    assert code == 2 and line.startswith(f"{sales}: has 120 rows, too few for --horizon 500 after the default --lookback 8 "
                                         "(its shortest);")  # fmt: skip


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty, expected text"),
    (bytes(range(256)) * 4, "looks like a binary file, expected a text file"),
])  # fmt: skip
def test_a_language_model_on_an_empty_or_binary_file_speaks_of_text(capsys, tmp_path, content, message):
    data = tmp_path / "corpus.txt"
    data.write_bytes(content)
    code, _, err = run_cli(capsys, "train", "lm", "--data", data, "--epochs", "1", "--quiet", "--out", tmp_path / "r")
    assert code == 2 and error_line(err) == f"{data}: {message}" and not (tmp_path / "r").exists()


@pytest.mark.parametrize("args, message", [
    (["--length", "10000000"], "--length must be a whole number in [1, 100000], got 10000000"),
    (["--temperature", "inf"], "--temperature must be a finite number above 0, got inf"),
    (["--seed", str(2**64)], "Invalid value for '--seed': 18446744073709551616 is not in the range 0<=x<=9223372036854775807."),
])  # fmt: skip
def test_generate_refuses_what_cannot_give_text_in_one_line(capsys, tiny_runs, args, message):
    code, out, err = run_cli(capsys, "generate", tiny_runs["lm"], "--prompt", "def", *args)
    assert code == 2 and out == "" and error_line(err) == message


@pytest.mark.parametrize("threshold, message", [("-1", "got -1.0"), ("inf", "got inf")])
def test_an_anomaly_threshold_must_be_a_finite_number_above_0(capsys, tiny_runs, tmp_path, threshold, message):
    code, _, err = run_cli(capsys, "train", "anomaly", "--data", tiny_runs["data"] / "sensor.csv", "--time-col", "t",
                           "--threshold", threshold, "--out", tmp_path / "r")  # fmt: skip
    assert code == 2 and error_line(err) == f"--threshold must be a finite number above 0, {message}"
    assert not (tmp_path / "r").exists()


def test_a_ts_file_that_promises_equal_lengths_and_holds_a_shorter_series_is_one_line(capsys, tmp_path):
    data = tmp_path / "short.ts"
    data.write_text("@problemName x\n@univariate true\n@equalLength true\n@seriesLength 4\n@classLabel true a b\n@data\n"
                    + "1,2,3,4:a\n4,3,2,1:b\n" * 10 + "1,2,3:b\n")  # fmt: skip
    code, _, err = run_cli(capsys, "train", "classify", "--data", data, "--epochs", "1", "--quiet", "--out", tmp_path / "r")
    assert code == 2 and error_line(err) == (f"{data}: line 27 holds 3 values, but the header says @equalLength true "
                                             "(@seriesLength 4); pad the series with '?' or set @equalLength false")  # fmt: skip


def test_a_failed_train_leaves_no_folder_behind_not_even_the_parents_it_made(capsys, sales, tmp_path):
    code, _, err = run_cli(capsys, "train", "forecast", "--data", sales, "--target", "nope", "--quiet",
                           "--out", tmp_path / "new" / "deeper" / "r")  # fmt: skip
    assert code == 2 and error_line(err).startswith(f"{sales}: no column 'nope'")
    assert list(tmp_path.iterdir()) == [sales]


def test_training_another_job_into_a_run_leaves_none_of_the_old_runs_files(capsys, sales, tiny_runs, tmp_path):
    out = tmp_path / "r"
    assert run_cli(capsys, *forecast_args(sales, out))[0] == 0
    (out / "my-notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "train", "anomaly", "--data", tiny_runs["data"] / "sensor.csv", "--time-col", "t",
                           "--label-col", "anomaly", "--lookback", "20", "--hidden", "4", "--epochs", "1", "--quiet",
                           "--out", out)  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["anomaly.json", "checkpoint.pt", "config.json", "history.csv",
                                                     "metrics.json", "model.safetensors", "my-notes.txt", "report.html"]  # fmt: skip
    assert main(["predict", str(out)]) == 0  # the directory is one anomaly run


def test_json_with_log_json_keeps_the_epoch_lines(capsys, sales, tmp_path):
    import json

    code, out, _ = run_cli(capsys, *forecast_args(sales, tmp_path / "r", "--epochs", "2", "--json", "--log-json"))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [row.get("epoch") for row in lines[:-1] if "phase" not in row] == [1, 2] and lines[-1]["task"] == "forecast"

