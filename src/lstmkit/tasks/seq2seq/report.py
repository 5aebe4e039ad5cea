"""What a sequence-to-sequence run writes beside the model (SPEC §5): metrics.json with the copy and retrieval
baselines, the verdict, and report.html (metrics, loss curves, sample translations, attention heat maps)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd

from ...baselines import beats_baseline
from . import JOB
from .estimator import Seq2Seq

ATTENTION_SAMPLES = 3  # test pairs whose attention the report draws


def run_metrics(model: Seq2Seq, scored: Optional[dict] = None) -> dict:
    """metrics.json: the test metrics (beam search; greedy beside them on the training run's own test part),
    the baselines' on the same pairs, and whether the model beat each on chrF and on BLEU."""
    own = scored is None  # the run's own test part, where greedy decoding was scored too
    scored = scored or model.evaluate()
    test, baselines = scored["test"], scored["baselines"]
    metrics = {
        "task": JOB.name, "test": test, "baselines": baselines,
        "beats_baselines": beats_baseline(test, baselines, metric="chrf"),
        "beats_baselines_bleu": beats_baseline(test, baselines, metric="bleu"),
        "test_pairs": scored["pairs"], "pairs": model.sizes_, "cut": model.cut_, "level": model.level,
        "vocab_size": {"source": len(model.source_tokens_.vocab), "target": len(model.target_tokens_.vocab)},
        "beam": model.beam, "greedy": model.greedy_metrics_ if own else None,
        "best_epoch": model.best_epoch_, "stop_reason": getattr(model, "stop_reason_", None),
    }  # fmt: skip
    return metrics


def verdict(metrics: dict) -> tuple[str, bool]:
    """One plain sentence on whether the model beat copying and retrieval on chrF and BLEU."""
    test, base = metrics["test"], metrics["baselines"]
    wins = all(metrics["beats_baselines"].values()) and all(metrics["beats_baselines_bleu"].values())
    figures = ", ".join(f"{name} {base[name]['chrf']:.1f} / {base[name]['bleu']:.1f}" for name in base)
    if wins:
        return (f"The model beats copying and retrieval on chrF and BLEU ({test['chrf']:.1f} / {test['bleu']:.1f} "
                f"against {figures}): it translates rather than looks up.", True)  # fmt: skip
    return (f"The model does NOT beat every baseline on chrF and BLEU ({test['chrf']:.1f} / {test['bleu']:.1f} "
            f"against {figures}); train longer or on more pairs.", False)  # fmt: skip


def write_report(model: Seq2Seq, metrics: dict, path: Path, out: Path) -> None:
    from ...report.html import Report  # no matplotlib: the figures are drawn in a helper where there is one

    sizes = metrics["pairs"]
    report = Report("Sequence to sequence with attention",
                    f"{out} · {model.level} tokens · pairs train / validation / test "
                    f"{sizes['train']} / {sizes['val']} / {sizes['test']}")  # fmt: skip
    text, good = verdict(metrics)
    report.add_verdict(text, good)
    rows = {f"LSTM, beam {model.beam}": metrics["test"]}
    if metrics.get("greedy"):
        rows["LSTM, greedy"] = metrics["greedy"]
    rows.update({name: values for name, values in metrics["baselines"].items()})
    report.add_metrics_table(f"Test part ({metrics['test_pairs']} pairs)", rows, list(JOB.metrics))
    report.add_drawing("Loss curves", "loss_curves", {"history": pd.DataFrame(model.history_)}, alt="training and validation loss")
    samples = getattr(model, "samples_", [])
    if samples:
        report.add_table("Sample translations (test pairs)", ["source", "reference", "output"],
                         [(s["source"], s["reference"], s["output"]) for s in samples])  # fmt: skip
    for sample in [s for s in samples if s["output"]][:ATTENTION_SAMPLES]:
        weights, source_tokens, output_tokens = model.attention_of(sample["source"], sample["output"])
        report.add_drawing(f"Attention: {sample['source'][:60]}", "attention_figure",
                           {"weights": weights, "source_tokens": source_tokens, "output_tokens": output_tokens},
                           alt="attention over the source at each output step")  # fmt: skip
    if metrics["cut"]:
        report.add_text("Cut pairs", f"{metrics['cut']} training pairs were longer than max_len {model.max_len} tokens "
                                     "on a side and were cut to it.")  # fmt: skip
    report.add_table("Settings", ["setting", "value"], [(k, v) for k, v in model.get_params().items()])
    report.write(path)


def resolved(model: Seq2Seq) -> dict:
    """The defaults fit resolved, for config.json."""
    return {"embedding": model.embedding or model.hidden, "pairs": model.sizes_, "cut": model.cut_,
            "vocab_size": {"source": len(model.source_tokens_.vocab), "target": len(model.target_tokens_.vocab)}}  # fmt: skip
