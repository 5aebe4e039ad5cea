"""Shared helpers for the tests."""

import importlib.util
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def load_benchmark(name: str):
    """The script benchmarks/<name>.py as a module, its `main` not run (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def randomize_(module: torch.nn.Module, scale: float = 0.5, seed: int = 0) -> torch.nn.Module:
    """Give every parameter a random value in [-scale, scale], peephole and layer-norm ones included,
    so no term of the equations hides behind a zero or a one."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=generator, dtype=torch.float64) * 2 - 1) * scale)
    return module


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(1234)


@pytest.fixture(autouse=True, scope="module")
def _no_idle_helpers():
    """Helper processes a module's commands left idle in the pool (`lstmkit.helper`) are stopped with the
    module: its tests share them, as the commands of one Python session do, instead of each test starting
    its own (about two seconds of CPU each, importing statsforecast and matplotlib again)."""
    yield
    from lstmkit import helper

    helper._close_pool()


def write_tiny_data(folder) -> dict:
    """Each job's small generated data in `folder`: {"forecast": sales.csv (120 months, a trend and a yearly
    season), "classify": reviews.csv (60 short texts, two labels), "lm": code.py, "anomaly": sensor.csv (200
    steps of a sine with two labelled spikes), "seq2seq": pairs.tsv (40 word sequences and their reversal)} -> the file."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    t = np.arange(120)
    level = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, len(t))
    pd.DataFrame({"month": t, "sales": level.round(3)}).to_csv(folder / "sales.csv", index=False)
    value = np.sin(2 * np.pi * np.arange(200) / 20) + rng.normal(0, 0.05, 200)
    value[[170, 185]] += 3.0
    anomaly = np.isin(np.arange(200), [170, 185]).astype(int)
    pd.DataFrame({"t": np.arange(200), "value": value, "anomaly": anomaly}).to_csv(folder / "sensor.csv", index=False)
    texts = [(f"{word} {adjective} film", label) for word in ("a", "the", "this", "that", "one")
             for adjective, label in (("good", "pos"), ("great", "pos"), ("bad", "neg"), ("awful", "neg"))]  # fmt: skip
    pd.DataFrame(texts * 3, columns=["text", "label"]).to_csv(folder / "reviews.csv", index=False)
    (folder / "code.py").write_text("def f(x):\n    if x:\n        return [x, 'y']\n    return (x)\n" * 40)
    words = ["red", "green", "blue", "stone", "river", "cloud"]
    pairs = [" ".join(words[(i + k) % 6] for k in range(2 + i % 3)) for i in range(40)]
    (folder / "pairs.tsv").write_text("".join(f"{p}\t{' '.join(reversed(p.split()))}\n" for p in pairs))
    return {"forecast": folder / "sales.csv", "classify": folder / "reviews.csv", "lm": folder / "code.py",
            "anomaly": folder / "sensor.csv", "seq2seq": folder / "pairs.tsv"}  # fmt: skip


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """One finished run directory of each job, trained in a second or two on small generated data through
    the command line: {"forecast", "classify", "lm", "anomaly", "seq2seq"} -> the run directory. The language model
    has two layers and the classifier reads both directions, so every control of the inspector page has
    something to switch between."""
    from lstmkit.cli import main

    folder = tmp_path_factory.mktemp("tiny-runs")
    write_tiny_data(folder)
    small = ["--epochs", "2", "--quiet", "--seed", "0"]
    commands = {
        "forecast": ["train", "forecast", "--data", folder / "sales.csv", "--target", "sales", "--time-col", "month",
                     "--horizon", "3", "--lookback", "24", "--hidden", "8", "--base", "naive2", *small],  # trains past its start
        "classify": ["train", "classify", "--data", folder / "reviews.csv", "--text-col", "text", "--label-col", "label",
                     "--hidden", "8", "--bidirectional", "--min-freq", "1", *small],
        "lm": ["train", "lm", "--data", folder / "code.py", "--hidden", "16", "--layers", "2", "--embedding", "8",
               "--bptt", "16", "--batch-size", "4", *small],
        "anomaly": ["train", "anomaly", "--data", folder / "sensor.csv", "--time-col", "t", "--label-col", "anomaly",
                    "--lookback", "20", "--hidden", "8", *small],
        "seq2seq": ["train", "seq2seq", "--data", folder / "pairs.tsv", "--level", "word", "--hidden", "8", "--beam", "2",
                    *small],
    }  # fmt: skip
    runs = {}
    for job, command in commands.items():
        runs[job] = folder / f"run-{job}"
        assert main([str(a) for a in [*command, "--out", runs[job]]]) == 0, job
    runs["data"] = folder
    return runs


def _browser_reports(terminalreporter, key: str) -> list:
    return [r for r in terminalreporter.stats.get(key, [])
            if "/browser/" in "/" + getattr(r, "nodeid", "") and getattr(r, "when", "") in ("setup", "call")]  # fmt: skip


def pytest_terminal_summary(terminalreporter):
    """The browser tests' line at the end of the run, from their reports: here and not in tests/browser/, so
    that it is written where the reports end up, in the one process or in pytest-xdist's controller."""
    ran = [r for key in ("passed", "failed") for r in _browser_reports(terminalreporter, key) if r.when == "call"]
    skipped = _browser_reports(terminalreporter, "skipped")
    if ran:
        versions = {value for r in ran for name, value in r.user_properties if name == "chromium"}
        terminalreporter.write_line(f"browser tests: {len(ran)} ran in Chromium {', '.join(sorted(versions)) or '(version unknown)'}"
                                    + (f", {len(skipped)} skipped" if skipped else ""))  # fmt: skip
    elif skipped:
        reasons = {r.longrepr[2].removeprefix("Skipped: ") for r in skipped if isinstance(r.longrepr, tuple)}
        terminalreporter.write_line(f"browser tests: {len(skipped)} skipped: {'; '.join(sorted(reasons)) or 'see the skip reasons above'}")
