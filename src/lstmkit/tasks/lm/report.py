"""What a language-model run writes beside the model (SPEC §5): metrics.json with the unigram and n-gram baselines, the
verdict, and report.html (metrics, perplexity per epoch, sample generations)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd

from ...baselines import beats_baseline
from . import JOB
from .estimator import LanguageModel

SAMPLE_TEMPERATURES = (0.5, 0.8, 1.0)


def metric_names(level: str) -> list[str]:
    """The metrics of a model of this level: bits per character only at character level."""
    return [m for m in JOB.metrics if level == "char" or m != "bits_per_char"]




def run_metrics(model: LanguageModel, scored: Optional[dict] = None) -> dict:
    """metrics.json: the test metrics, the unigram model's on the same tokens, and whether the LSTM beat it.
    `scored`: the result of `model.evaluate(data)` on new text, instead of the training corpus' test part."""
    scored = scored or model.evaluate()
    test, baselines = scored["test"], scored["baselines"]
    return {
        "task": JOB.name, "test": test, "baselines": baselines,
        "beats_baselines": beats_baseline(test, baselines, metric="perplexity"),
        "level": model.level, "vocab_size": len(model.vocab_), "test_tokens": scored["tokens"],
        "tokens": model.tokens_, "best_epoch": model.best_epoch_, "stop_reason": getattr(model, "stop_reason_", None),
        "ngram_order": model.ngram_.order if "kneser_ney" in baselines else None,
        "lstm_weight": model.lstm_weight_, "lstm": scored.get("lstm"), "model": model_name(model),
        # the mixture's validation loss, on which its weight was chosen (none for the LSTM alone: history.csv's)
        "val_loss": getattr(model, "val_loss_", None),
    }  # fmt: skip


def model_name(model: LanguageModel) -> str:
    """The model's name in tables: "LSTM", or "LSTM + 5-gram" where it is mixed with the n-gram model."""
    return "LSTM" if model.lstm_weight_ >= 1 else f"LSTM + {model.ngram_.order}-gram"


def verdict(metrics: dict) -> tuple[str, bool]:
    """One plain sentence on whether the model beat the unigram model, and the n-gram model where it was
    scored, on test perplexity."""
    model, unigram = metrics["test"]["perplexity"], metrics["baselines"]["unigram"]["perplexity"]
    ngram = metrics["baselines"].get("kneser_ney")
    if metrics["beats_baselines"]["unigram"] and ngram is not None:
        n, unit = metrics.get("ngram_order"), "characters" if metrics.get("level") == "char" else "words"
        named = f"the {n}-gram model (Kneser-Ney)" if n else "the n-gram model (Kneser-Ney)"
        against = f"{model:.3g} against {unigram:.3g} and {ngram['perplexity']:.3g}"
        if metrics.get("lstm_weight", 1) < 1:
            against += f"; the LSTM alone {metrics['lstm']['perplexity']:.3g}"
            start = (f"The model (the LSTM mixed with {named}, weight {metrics['lstm_weight']:.2f} on the LSTM's "
                     "probabilities, chosen on the validation part)")  # fmt: skip
        else:
            start = "The model"
        if metrics["beats_baselines"]["kneser_ney"]:
            return f"{start} beats the unigram model and {named} on perplexity ({against}).", True
        return (f"{start} beats the unigram model but NOT {named} on perplexity ({against}): counting what "
                f"followed the last {n - 1 if n else 'few'} {unit} in training predicts this text as well.", False)  # fmt: skip
    if metrics["beats_baselines"]["unigram"]:
        return (f"The model beats the unigram baseline on perplexity ({model:.3g} against {unigram:.3g}): "
                "it has learned more than how often each token occurs.", True)  # fmt: skip
    return (f"The model does NOT beat the unigram baseline on perplexity ({model:.3g} against {unigram:.3g}): "
            "it has learned no more than token frequencies; train longer or on more text.", False)  # fmt: skip


def write_report(model: LanguageModel, metrics: dict, path: Path, out: Path) -> None:
    from ...report.html import Report  # no matplotlib: the figures are drawn in a helper where there is one

    tokens = metrics["tokens"]
    report = Report(f"{model.level.capitalize()}-level language model",
                    f"{out} · vocabulary {metrics['vocab_size']} · tokens train / validation / test "
                    f"{tokens['train']} / {tokens['val']} / {tokens['test']}")  # fmt: skip
    text, good = verdict(metrics)
    report.add_verdict(text, good)
    rows = JOB.summary_rows(metrics)
    report.add_metrics_table(f"Test part ({metrics['test_tokens']} tokens)", rows, metric_names(model.level))
    history = pd.DataFrame(model.history_)
    report.add_drawing("Perplexity per epoch", "perplexity_curves", {"history": history}, alt="training and validation perplexity")
    for temperature, text in sample_generations(model).items():
        report.add_code(f"Sample generation at temperature {temperature}", text)
    report.add_drawing("Loss curves", "loss_curves", {"history": history}, alt="training and validation loss")
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


def resolved(model: LanguageModel) -> dict:
    """The defaults fit resolved, for config.json."""
    return {"embedding": model.embedding_, "tie_weights": model.tied_, "vocab_size": len(model.vocab_), "tokens": model.tokens_,
            "files": model.files_, "skipped_files": len(model.skipped_)}  # fmt: skip
