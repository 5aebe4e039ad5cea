"""A language-model run into its run directory (SPEC §5): metrics.json with the unigram baseline, the
report (verdict, metrics, perplexity per epoch, sample generations), and the `lstmkit demo lm` corpus: the
Python standard library's own source files, which every machine running lstmkit has."""

from __future__ import annotations

import json
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..baselines import beats_baseline
from ..errors import DataError
from ..report import Report, loss_curves
from .demos import clear_interrupted_demo
from .lm import LanguageModel
from .run import Job, load_run, train_run

TASK = "lm"
SAMPLE_TEMPERATURES = (0.5, 0.8, 1.0)

# The demo: a character-level model on 600 kB of the standard library's sources (400k training characters).
# Measured on 2 CPU cores shared with other work (OMP_NUM_THREADS=2): 90-100k characters a second when the
# cores are free (4.5 s an epoch, so all 10 epochs take under a minute), far fewer when they are not, where
# max_time ends training after the epoch that crosses 60 s. Two such runs took 67 s and 95 s in all, with a
# test perplexity of 5.3-5.5 against the unigram model's 22.3 (2.42-2.46 bits per character against 4.48).
DEMO_BYTES = 600_000
DEMO_SETTINGS = dict(level="char", hidden=256, layers=1, embedding=32, dropout=0.0, bptt=64, batch_size=64,
                     lr=4e-3, epochs=10, patience=3, max_time=60.0)  # fmt: skip
# test suites, installed packages, and generated tables that are data rather than code (codec maps, the
# pydoc topic dump, the interpreter's build settings)
SKIPPED_FOLDERS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__",
                   "encodings", "pydoc_data"}  # fmt: skip
SKIPPED_FILES = ("_sysconfigdata",)  # name prefixes
MANIFEST = ".lstmkit-corpus.json"  # hidden, so the corpus reader leaves it out


def metric_names(level: str) -> list[str]:
    return ["loss", "perplexity", "bits_per_char"] if level == "char" else ["loss", "perplexity"]


def train_lm(model: LanguageModel, data, out, *, resume: bool = False, reporter=None) -> dict:
    """Fit `model` on `data` (a text file or folder) into run directory `out`; returns metrics.json's content."""
    return train_run(LM, model, data, out, resume=resume, reporter=reporter)


def load_lm_run(directory) -> LanguageModel:
    """The language model of a finished lm run directory."""
    return load_run(directory, LM)


def run_metrics(model: LanguageModel, scored: Optional[dict] = None) -> dict:
    """metrics.json: the test metrics, the unigram model's on the same tokens, and whether the LSTM beat it.
    `scored`: the result of `model.evaluate(data)` on new text, instead of the training corpus' test part."""
    scored = scored or model.evaluate()
    test, baselines = scored["test"], scored["baselines"]
    return {
        "task": TASK, "test": test, "baselines": baselines,
        "beats_baselines": beats_baseline(test, baselines, metric="perplexity"),
        "level": model.level, "vocab_size": len(model.vocab_), "test_tokens": scored["tokens"],
        "tokens": model.tokens_, "best_epoch": model.best_epoch_, "stop_reason": getattr(model, "stop_reason_", None),
    }  # fmt: skip


def verdict(metrics: dict) -> tuple[str, bool]:
    """One plain sentence on whether the model beat the unigram model on test perplexity."""
    model, unigram = metrics["test"]["perplexity"], metrics["baselines"]["unigram"]["perplexity"]
    if metrics["beats_baselines"]["unigram"]:
        return (f"The model beats the unigram baseline on perplexity ({model:.3g} against {unigram:.3g}): "
                "it has learned more than how often each token occurs.", True)  # fmt: skip
    return (f"The model does NOT beat the unigram baseline on perplexity ({model:.3g} against {unigram:.3g}): "
            "it has learned no more than token frequencies; train longer or on more text.", False)  # fmt: skip


def perplexity_curves(history: pd.DataFrame) -> Figure:
    """Training and validation perplexity (exp of the mean loss in nats) against epoch."""
    fig = Figure(figsize=(8, 3.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(history["epoch"], np.exp(history["train_loss"]), marker=".", color="tab:blue", label="train")
    if "val_loss" in history and history["val_loss"].notna().any():
        ax.plot(history["epoch"], np.exp(history["val_loss"]), marker=".", color="tab:orange", label="validation")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def write_lm_report(model: LanguageModel, metrics: dict, path: Path, out: Path) -> None:
    tokens = metrics["tokens"]
    report = Report(f"{model.level.capitalize()}-level language model",
                    f"{out} · vocabulary {metrics['vocab_size']} · tokens train / validation / test "
                    f"{tokens['train']} / {tokens['val']} / {tokens['test']}")  # fmt: skip
    text, good = verdict(metrics)
    report.add_verdict(text, good)
    rows = {"LSTM": metrics["test"], **metrics["baselines"]}
    report.add_metrics_table(f"Test part ({metrics['test_tokens']} tokens)", rows, metric_names(model.level))
    history = pd.DataFrame(model.history_)
    report.add_figure("Perplexity per epoch", perplexity_curves(history), alt="training and validation perplexity")
    for temperature, text in sample_generations(model).items():
        report.add_code(f"Sample generation at temperature {temperature}", text)
    report.add_figure("Loss curves", loss_curves(history), alt="training and validation loss")
    if getattr(model, "skipped_", None):
        report.add_text("Files left out (binary, empty or not UTF-8)", model.skipped_[:20])
    report.add_table("Settings", ["setting", "value"], [(k, v) for k, v in model.get_params().items()])
    report.write(path)


def sample_generations(model: LanguageModel, prompt: Optional[str] = None, length: Optional[int] = None) -> dict:
    """{temperature: prompt + continuation}: the start of the test part continued at a few temperatures,
    each with a fixed seed."""
    prompt = prompt or getattr(model, "sample_prompt_", "") or "The"
    length = length or (300 if model.level == "char" else 60)
    return {t: prompt + model.generate(prompt, length, temperature=t, seed=seed)
            for seed, t in enumerate(SAMPLE_TEMPERATURES)}  # fmt: skip


def _resolved(model: LanguageModel) -> dict:
    return {"embedding": model.embedding_, "vocab_size": len(model.vocab_), "tokens": model.tokens_,
            "files": model.files_, "skipped_files": len(model.skipped_)}  # fmt: skip


LM = Job(TASK, run_metrics, write_lm_report, _resolved, LanguageModel.load)


# ---------------------------------------------------------------------------------------------------------
# The demo corpus


def stdlib_sources(stdlib: Union[str, Path, None] = None) -> list[Path]:
    """The standard library's `.py` files in sorted path order, without test suites, installed packages
    and generated data tables (`SKIPPED_FOLDERS`, `SKIPPED_FILES`)."""
    root = Path(stdlib or sysconfig.get_paths()["stdlib"])
    return sorted(
        p for p in root.rglob("*.py")
        if p.is_file() and not SKIPPED_FOLDERS.intersection(p.relative_to(root).parts[:-1])
        and not p.name.startswith(SKIPPED_FILES)
    )  # fmt: skip


def stdlib_corpus(max_bytes: int = DEMO_BYTES, cache: Union[str, Path, None] = None) -> Path:
    """A folder of the running interpreter's standard-library sources, at most `max_bytes` in all: the
    first files in sorted path order that fit. Built once per Python version and size under `cache` (the
    system's temporary folder by default) and reused; returns the folder."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    folder = Path(cache or tempfile.gettempdir()) / f"lstmkit-stdlib-corpus-py{version}-{max_bytes}"
    if (folder / MANIFEST).exists():
        return folder
    chosen, total = [], 0
    for path in stdlib_sources(stdlib):
        size = path.stat().st_size
        if total + size > max_bytes:
            break
        chosen.append(path)
        total += size
    if not chosen:
        raise DataError(f"{stdlib}: no Python standard-library sources of at most {max_bytes} bytes found for the demo")
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        for path in chosen:
            target = staging / path.relative_to(stdlib)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        manifest = {"python": sys.version, "stdlib": str(stdlib), "files": len(chosen), "bytes": total}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        os.replace(staging, folder)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (folder / MANIFEST).exists():  # not merely another process that got there first
            raise
    return folder


def demo_lm(out, seed: int = 0, reporter=None) -> dict:
    """`lstmkit demo lm`: a character-level model of Python source code, trained on the standard library
    of the running interpreter; returns metrics.json's content."""
    out = Path(out)
    clear_interrupted_demo(out)
    model = LanguageModel(**DEMO_SETTINGS, seed=seed)
    return train_lm(model, stdlib_corpus(), out, reporter=reporter)
