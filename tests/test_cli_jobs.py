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


@pytest.fixture
def reviews(tmp_path):
    """A separable text problem: the label is whether the review says 'good' or 'bad'."""
    rng = np.random.default_rng(0)
    filler = ["the", "film", "was", "quite", "really", "plot", "actors", "and", "music"]
    rows = []
    for i in range(160):
        label = "pos" if i % 2 else "neg"
        words = list(rng.choice(filler, size=6)) + ["good" if label == "pos" else "bad"]
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "sentiment": label})
    path = tmp_path / "reviews.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_text_classification_round_trip(reviews, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = _run(capsys, "train", "classify", "--data", reviews, "--text-col", "text", "--label-col", "sentiment",
                           "--out", out, "--hidden", "16", "--epochs", "15", "--quiet", "--json")  # fmt: skip
    metrics = json.loads(stdout)
    assert code == 0 and metrics["task"] == "classify" and metrics["test"]["accuracy"] == 1.0
    assert "majority_class" in metrics["baselines"]
    code, _, _ = _run(capsys, "predict", out, "--data", reviews, "--output", tmp_path / "labels.csv")
    labels = pd.read_csv(tmp_path / "labels.csv")
    assert code == 0 and list(labels.columns) == ["label", "p_neg", "p_pos"]
    assert np.allclose(labels[["p_neg", "p_pos"]].sum(axis=1), 1.0)


def test_labels_never_seen_in_training_are_refused_at_evaluation(reviews, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "classify", "--data", str(reviews), "--text-col", "text", "--label-col", "sentiment",
                 "--out", str(out), "--hidden", "8", "--epochs", "1", "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    other = tmp_path / "other.csv"
    pd.DataFrame({"text": ["good film", "odd film"], "sentiment": ["pos", "meh"]}).to_csv(other, index=False)
    code, _, err = _run(capsys, "evaluate", out, "--data", other)
    assert code == 2 and "labels never seen in training: 'meh'" in err and len(err.strip().splitlines()) == 1


def test_a_single_class_is_refused(tmp_path, capsys):
    path = tmp_path / "one.csv"
    pd.DataFrame({"text": ["a b", "c d", "e f"], "label": ["x", "x", "x"]}).to_csv(path, index=False)
    code, _, err = _run(capsys, "train", "classify", "--data", path, "--text-col", "text", "--out", tmp_path / "run")
    assert code == 2 and "has a single class ('x'); classification needs at least two" in err


TS_HEADER = "@problemName toy\n@univariate false\n@equalLength true\n@classLabel true a b\n@data\n"
BAD_SEQUENCE_FILES = {
    "ts unknown header": ("data.ts", "@problemName toy\n@foo bar\n@classLabel true a b\n@data\n1,2:3,4:a\n", "line 2: unknown header '@foo'"),
    "ts wrong dimensions": ("data.ts", TS_HEADER + "1,2:3,4:a\n1,2:3,4:5,6:b\n", "line 7 has 3 dimensions, the first data line had 2"),
    "npz length mismatch": ("data.npz", None, "X has 4 sequences but y has 3 labels"),
}


@pytest.mark.parametrize("case", list(BAD_SEQUENCE_FILES))
def test_bad_sequence_file_is_one_line_and_exit_code_2(case, tmp_path, capsys):
    name, content, message = BAD_SEQUENCE_FILES[case]
    path = tmp_path / name
    if content is None:
        np.savez(path, X=np.zeros((4, 5, 1)), y=np.array([0, 1, 0]))
    else:
        path.write_text(content)
    code, _, err = _run(capsys, "train", "classify", "--data", path, "--out", tmp_path / "run")
    assert code == 2 and message in err, err
    assert err.startswith(f"lstmkit: error: {path}") and len(err.strip().splitlines()) == 1
