"""The language-model and anomaly commands as a user runs them, and the run-directory dispatch."""

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli import main


def _run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def word_run(tmp_path_factory, ):
    """A small word-level model of a text in which 'enjoy' is always followed by 'pasta'."""
    folder = tmp_path_factory.mktemp("lm")
    (folder / "food.txt").write_text("I like to eat pizza, but I also enjoy pasta .\n" * 300)
    out = folder / "run"
    code = main(["train", "lm", "--data", str(folder / "food.txt"), "--level", "word", "--out", str(out),
                 "--hidden", "32", "--layers", "1", "--epochs", "6", "--bptt", "16", "--batch-size", "8", "--quiet"])  # fmt: skip
    assert code == 0
    return out


def test_generate_next_ranks_the_true_next_word_first(word_run, capsys):
    code, out, _ = _run(capsys, "generate", word_run, "--prompt", "I like to eat pizza, but I also enjoy", "--next", "5", "--json")
    ranked = json.loads(out)
    assert code == 0 and len(ranked) == 5 and ranked[0]["token"] == "pasta" and ranked[0]["probability"] > 0.5


def test_generate_is_repeatable_with_a_seed(word_run, capsys):
    first = _run(capsys, "generate", word_run, "--prompt", "I like", "--length", "20", "--seed", "3")[1]
    second = _run(capsys, "generate", word_run, "--prompt", "I like", "--length", "20", "--seed", "3")[1]
    assert first == second and first.startswith("I like")


def test_lm_metrics_beat_the_unigram_model(word_run):
    metrics = json.loads((word_run / "metrics.json").read_text())
    assert metrics["task"] == "lm" and metrics["test"]["perplexity"] < metrics["baselines"]["unigram"]["perplexity"]


def test_generate_refuses_a_run_of_another_job(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps({"task": "forecast", "settings": {}}))
    code, _, err = _run(capsys, "generate", tmp_path / "run", "--prompt", "x")
    assert code == 2 and err == (
        f"lstmkit: error: {tmp_path / 'run'}: is a forecast run; `lstmkit generate` needs a language model "
        "(lstmkit train lm)\n"
    )


@pytest.mark.parametrize("content, message", [(b"", "the file is empty"), (b"\x00\x01\x02abc", "looks like a binary file")])
def test_bad_text_file_is_one_line_and_exit_code_2(tmp_path, capsys, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    code, _, err = _run(capsys, "train", "lm", "--data", path, "--out", tmp_path / "run", "--quiet")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_anomaly_round_trip_flags_injected_spikes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    t = np.arange(400)
    value = np.sin(2 * np.pi * t / 25) + rng.normal(0, 0.05, 400)
    label = np.zeros(400, dtype=int)
    for step in (350, 370, 390):
        value[step] += 3.0
        label[step] = 1
    path = tmp_path / "sensor.csv"
    pd.DataFrame({"t": t, "value": value, "anomaly": label}).to_csv(path, index=False)
    out = tmp_path / "run"
    code, stdout, _ = _run(capsys, "train", "anomaly", "--data", path, "--time-col", "t", "--label-col", "anomaly",
                           "--out", out, "--hidden", "16", "--epochs", "30", "--quiet", "--json")  # fmt: skip
    metrics = json.loads(stdout)
    assert code == 0 and metrics["task"] == "anomaly" and metrics["test"]["recall"] == 1.0
    assert "rolling_zscore" in metrics["baselines"]
    code, _, _ = _run(capsys, "predict", out, "--output", tmp_path / "scores.csv")
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert code == 0 and list(scores.columns[-2:]) == ["score", "flag"]
    assert scores.loc[[350, 370, 390], "flag"].tolist() == [1, 1, 1]
