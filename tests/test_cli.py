"""The `lstmkit` command as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import lstmkit
from lstmkit.cli import main

SCRIPT = Path(sys.executable).parent / "lstmkit"


def run_script(*args):
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=300)


def test_console_script_prints_version():
    result = run_script("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"lstmkit {lstmkit.__version__}"


def test_help_lists_the_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("train", "evaluate", "predict", "demo"))
    assert main([]) == 0  # bare `lstmkit` shows the help too
    assert main(["train"]) == 0 and "forecast" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["demo", "classify-nothing"], "Invalid value for 'job'"),
        (["train", "forecast", "--data", "x.csv"], "Missing option '--out'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_bad_usage_is_one_line_and_exit_code_2(args, message):
    result = run_script(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("lstmkit: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_bench_prints_the_table_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code = main(["bench", "--quick", "--shapes", "6x2x3x4", "--variants", "vanilla,peephole", "--precisions", "fp32",
                 "--json", str(path)])  # fmt: skip
    out = capsys.readouterr().out
    rows = json.loads(path.read_text())["rows"]
    assert code == 0 and "torch.nn.LSTM" in out and "GFLOP/s" in out
    assert [(r["variant"], r["precision"], r["mode"]) for r in rows] == [
        ("vanilla", "fp32", "train"), ("vanilla", "fp32", "infer"), ("peephole", "fp32", "train"), ("peephole", "fp32", "infer"),
    ]
    assert all(r["lstmkit_ms"] > 0 and r["ratio"] > 0 for r in rows)


def test_the_summary_shows_the_best_value_of_each_metric_in_bold(monkeypatch):
    from rich.console import Console

    from lstmkit import cli_summary
    from lstmkit.tasks import JOBS

    console = Console(record=True, force_terminal=True, width=200)
    monkeypatch.setattr(cli_summary, "console", console)
    metrics = {"task": "classify", "test": {"accuracy": 0.9, "f1": 0.8, "log_loss": 0.7},
               "baselines": {"majority_class": {"accuracy": 0.5, "f1": 0.3, "log_loss": 0.6}}}  # fmt: skip
    cli_summary.print_summary(JOBS["classify"], metrics, None, json_output=False)
    shown = console.export_text(styles=True)
    bold = "\x1b[1m"
    assert f"{bold}0.9" in shown and f"{bold}0.5" not in shown  # accuracy: higher is better
    assert f"{bold}0.6" in shown and f"{bold}0.7" not in shown  # log loss: lower is better


def test_the_summary_names_the_classifiers_network(monkeypatch):
    from rich.console import Console

    from lstmkit import cli_summary
    from lstmkit.tasks import JOBS
    from lstmkit.tasks.classify.report import run_metrics

    console = Console(record=True, width=200)
    monkeypatch.setattr(cli_summary, "console", console)
    scored = {"test": {"accuracy": 0.9, "f1": 0.8}, "baselines": {"majority_class": {"accuracy": 0.5, "f1": 0.3}}}
    for arch, name in (("lstm-fcn", "LSTM-FCN"), ("alstm-fcn", "ALSTM-FCN"), ("lstm", "LSTM")):
        classifier = type("Fitted", (), {"arch_": arch, "classes_": ["a", "b"], "best_epoch_": 1})()
        cli_summary.print_summary(JOBS["classify"], run_metrics(classifier, scored), None, json_output=False)
        rows = [line.split("│")[1].strip() for line in console.export_text().splitlines() if line.count("│") > 2]
        assert rows == [name, "majority class"]
    cli_summary.print_summary(JOBS["classify"], {"task": "classify", **scored}, None, json_output=False)
    assert "│ LSTM " in console.export_text()  # metrics without the network's name (other jobs, older runs): LSTM


def _drawn(columns, rows, width):
    from rich.console import Console

    from lstmkit import cli_summary

    console = Console(record=True, width=width)
    table = cli_summary.Table()
    for column in columns:
        table.add_column(str(column))
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return console.export_text()


def test_predictions_too_wide_for_the_terminal_keep_whole_columns_not_cut_cells():
    from lstmkit.cli_summary import fitted

    labels = ["ca", "cs", "da", "de", "es", "fr", "gl", "it", "nl", "pl", "pt", "sv"]
    columns = ["label", *(f"p_{label}" for label in labels)]
    rows = [["es", *("4.471e-05" if label != "es" else "0.9987" for label in labels)],
            ["pl", *("2.5e-09" if label != "pl" else "0.8123" for label in labels)]]  # fmt: skip
    assert "…" in _drawn(columns, rows, 80)  # as rich draws it: every cell cut
    shown, cells, note = fitted(columns, rows, 80)  # the label's probability in place of the twelve
    assert (shown, cells) == (["label", "p_label"], [["es", "0.9987"], ["pl", "0.8123"]])
    assert note == "p_label: the label's probability, in place of the 12 classes' (every column: --output F.csv or --json)"
    assert fitted(columns, rows, 300) == (columns, rows, "")  # wide enough: as it is

    columns = ["month", "step", "passengers", "q0.05", "q0.25", "q0.5", "q0.75", "q0.95", "lower", "upper"]
    rows = [["1961-01", "1", "441.2", "428.9", "434.4", "441.2", "455.3", "491.3", "406.6", "475.9"]]
    assert "1961-01" not in _drawn(columns, rows, 80)  # the time cut to "1961…"
    shown, cells, note = fitted(columns, rows, 80)  # the middle left out, as pandas prints a wide frame
    assert shown == ["month", "step", "passengers", "q0.05", "…", "q0.75", "q0.95", "lower", "upper"]
    assert cells == [["1961-01", "1", "441.2", "428.9", "…", "455.3", "491.3", "406.6", "475.9"]]
    assert note == "…: 2 more columns, q0.25, q0.5 (every column: --output F.csv or --json)"
    drawn = _drawn(shown, cells, 80)
    assert "1961-01" in drawn and "475.9" in drawn and max(map(len, drawn.splitlines())) <= 80
    shown, cells, _ = fitted(columns, rows, 40)
    assert shown == ["month", "step", "…", "lower", "upper"] and max(map(len, _drawn(shown, cells, 40).splitlines())) <= 40


# ---- --quiet silences the progress display, not the --log-json log --------------------------------------


@pytest.fixture
def wave_csv(tmp_path):
    """60 steps of a repeating 12-step ramp: enough for lookback 12, horizon 1 (the training part holds 30 windows)."""
    path = tmp_path / "wave.csv"
    path.write_text("y\n" + "".join(f"{10 + (i % 12) / 4:.2f}\n" for i in range(60)))
    return path


def _train(data, out, *flags):
    return ["train", "forecast", "--data", data, "--target", "y", "--lookback", "12", "--hidden", "4", "--epochs", "2",
            "--out", out, *flags]  # fmt: skip


def test_quiet_with_log_json_still_prints_one_json_object_per_epoch(wave_csv, tmp_path, capsys):
    code = main([str(a) for a in _train(wave_csv, tmp_path / "run", "--quiet", "--log-json")])
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")]
    assert code == 0 and [(row.get("phase"), row["epoch"]) for row in rows] == [(None, 1), (None, 2), ("refit", 1), ("refit", 2)]
    assert captured.err == ""  # and no progress display


def test_log_json_with_json_keeps_stdout_json_lines_with_the_summary_last(wave_csv, tmp_path):
    result = run_script(*_train(wave_csv, tmp_path / "run", "--quiet", "--log-json", "--json"))
    lines = [json.loads(line) for line in result.stdout.splitlines()]  # every line is one JSON object
    assert result.returncode == 0, result.stderr
    assert [line["epoch"] for line in lines[:-1] if "phase" not in line] == [1, 2] and lines[-1]["task"] == "forecast"


def test_quiet_without_log_json_prints_no_progress(wave_csv, tmp_path, capsys):
    code = main([str(a) for a in _train(wave_csv, tmp_path / "run", "--quiet", "--json")])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == "" and json.loads(captured.out)["task"] == "forecast"
