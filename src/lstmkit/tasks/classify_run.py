"""A classification run into its run directory (SPEC §5), its verdict and report; and the demo on the
temporal-order task of Hochreiter & Schmidhuber (1997)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from ..baselines import beats_baseline
from ..data import LabelledSequences
from ..report import Report, confusion_matrix_figure, loss_curves, roc_curve_figure
from .classify import SequenceClassifier
from .run import Job, load_run, train_run

TASK = "classify"
METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"]
VERDICT_METRICS = {"accuracy": "accuracy", "f1": "macro F1"}
TEXT_SETTINGS = {"text_col", "level", "lowercase", "max_len", "min_freq", "embedding_dim"}  # not shown for numeric runs
MAX_ROC_CURVES = 10  # more classes than this: one micro-averaged curve instead of one per class


def train_classify(classifier: SequenceClassifier, data, out, *, test=None, resume: bool = False, reporter=None) -> dict:
    """Fit `classifier` on `data` into run directory `out`; returns metrics.json's content.

    test: a labelled test file; it becomes the classifier's own `test` setting (so config.json records it and
    a resumed run checks it is the same), overriding the one it was built with."""
    if test is not None:
        classifier.test = str(test)
    return train_run(CLASSIFY, classifier, data, out, resume=resume, reporter=reporter)


def run_metrics(classifier: SequenceClassifier, scored: Optional[dict] = None) -> dict:
    """metrics.json: the model's test metrics, the majority class's on the same items, and the verdict's basis."""
    test, baselines = (classifier.metrics_, classifier.baselines_) if scored is None else (scored["test"], scored["baselines"])
    beats = {metric: beats_baseline(test, baselines, metric=metric)["majority_class"] for metric in VERDICT_METRICS}
    return {
        "task": TASK, "test": test, "baselines": baselines,
        "beats_baselines": {"majority_class": all(beats.values())}, "beats_on": beats,
        "classes": classifier.classes_,
        "test_sequences": classifier.test_["n"] if scored is None else scored.get("n"),
        "train_sequences": int(len(classifier.split_["train"])) if scored is None else None,
        "val_sequences": int(len(classifier.split_["val"])) if scored is None else None,
        "best_epoch": classifier.best_epoch_, "stop_reason": getattr(classifier, "stop_reason_", None),
    }  # fmt: skip


def verdict(metrics: dict) -> tuple[str, bool]:
    """One plain sentence on whether the model beat the majority class on accuracy and macro F1."""
    test, majority = metrics["test"], metrics["baselines"]["majority_class"]
    scores = {m: f"{name} {test[m]:.3f} against {majority[m]:.3f}" for m, name in VERDICT_METRICS.items()}
    lost = [m for m in VERDICT_METRICS if not test[m] > majority[m]]
    if not lost:
        return f"The model beats the majority class on {scores['accuracy']} and on {scores['f1']}.", True
    shown = " and on ".join(scores[m] for m in lost)
    if "accuracy" in lost:
        advice = "always answering the most frequent class is as good here."
    else:
        advice = "it is right more often, but no better across the classes than always answering the most frequent one."
    return f"The model does NOT beat the majority class on {shown}: {advice}", False


def write_classify_report(classifier: SequenceClassifier, metrics: dict, path: Path, out: Path) -> None:
    classes = classifier.classes_
    if classifier.kind_ == "text":
        data = f"text, {classifier.level} tokens, vocabulary of {len(classifier.vocab_)}"
    else:
        data = f"numeric sequences of {classifier.n_features_} feature{'s' if classifier.n_features_ > 1 else ''}"
    report = Report("Sequence classification", f"{out} · {len(classes)} classes · {data}")
    text, good = verdict(metrics)
    report.add_verdict(text, good)
    rows = {"LSTM": metrics["test"], "majority class": metrics["baselines"]["majority_class"]}
    report.add_metrics_table(f"Test part ({metrics['test_sequences']} sequences)", rows, METRICS)
    per_class = metrics["test"]["per_class"]
    report.add_table("Per class (test part)", ["class", "precision", "recall", "F1", "support"],
                     [(label, s["precision"], s["recall"], s["f1"], s["support"]) for label, s in per_class.items()])  # fmt: skip
    report.add_figure("Confusion matrix", confusion_matrix_figure(metrics["test"]["confusion_matrix"], classes),
                      alt="confusion matrix of the test part: rows true class, columns predicted")  # fmt: skip
    curves = roc_curves(classifier.test_["y"], classifier.test_["proba"], classes)
    if curves:
        report.add_figure("ROC curve", roc_curve_figure(curves), alt="ROC curves on the test part")
    report.add_figure("Loss curves", loss_curves(pd.DataFrame(classifier.history_)), alt="training and validation loss")
    settings = [(k, v) for k, v in classifier.get_params().items() if classifier.kind_ == "text" or k not in TEXT_SETTINGS]
    report.add_table("Settings", ["setting", "value"], settings)
    report.write(path)


def roc_curves(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict:
    """{name: (fpr, tpr, auc)}: binary, the curve of the second class; up to MAX_ROC_CURVES classes, one
    one-vs-rest curve each (classes absent from y, or y of one class only, have none); more, one curve of
    every (item, class) pair pooled (micro average)."""
    if len(classes) == 2:
        if len(np.unique(y)) < 2:
            return {}
        fpr, tpr, _ = roc_curve(y == 1, proba[:, 1])
        return {f"{classes[1]} against {classes[0]}": (fpr, tpr, float(roc_auc_score(y == 1, proba[:, 1])))}
    if len(classes) > MAX_ROC_CURVES:
        onehot = np.eye(len(classes))[y].ravel()
        fpr, tpr, _ = roc_curve(onehot, proba.ravel())
        return {"micro average": (fpr, tpr, float(roc_auc_score(onehot, proba.ravel())))}
    curves = {}
    for k, label in enumerate(classes):
        positive = y == k
        if 0 < positive.sum() < len(y):
            fpr, tpr, _ = roc_curve(positive, proba[:, k])
            curves[f"{label} against the rest"] = (fpr, tpr, float(roc_auc_score(positive, proba[:, k])))
    return curves


def load_classify_run(directory) -> SequenceClassifier:
    """The classifier of a finished classify run directory."""
    return load_run(directory, CLASSIFY)


def _resolved(classifier: SequenceClassifier) -> dict:
    return {
        "classes": classifier.classes_, "kind": classifier.kind_,
        "vocab_size": None if classifier.vocab_ is None else len(classifier.vocab_),
        "n_features": getattr(classifier, "n_features_", None),
        "class_weights": None if classifier.class_weights_ is None else classifier.class_weights_.tolist(),
        "split": {name: int(len(index)) for name, index in classifier.split_.items()},
    }  # fmt: skip


CLASSIFY = Job(TASK, run_metrics, write_classify_report, _resolved, SequenceClassifier.load)


# ---------------------------------------------------------------------------------------------------------
# The demo: the temporal-order task (Hochreiter & Schmidhuber 1997, experiment 6a)

SYMBOLS = "EBabcdXY"  # start, trigger (end), four distractors, the two relevant symbols
DISTRACTORS = "abcd"
LENGTHS = (100, 110)  # sequence length, both ends included
FIRST_AT, SECOND_AT = (10, 20), (50, 60)  # positions (from 0) of the relevant symbols, both ends included


def temporal_order_example(rng: np.random.Generator, *, length: Optional[int] = None,
                           positions: Optional[tuple[int, int]] = None,
                           relevant: Optional[tuple[str, str]] = None) -> tuple[str, str]:  # fmt: skip
    """One sequence of the temporal-order task as a string of symbols, and its class.

    The sequence starts with E, ends with B, holds X or Y at positions t1 in [10, 20] and t2 in [50, 60],
    and random distractors a-d elsewhere; its class is the order of the two relevant symbols: XX, XY, YX or
    YY (the paper's Q, R, S, U). Any of length, positions and relevant may be placed by hand."""
    length = int(rng.integers(LENGTHS[0], LENGTHS[1] + 1)) if length is None else length
    if positions is None:
        positions = (int(rng.integers(FIRST_AT[0], FIRST_AT[1] + 1)), int(rng.integers(SECOND_AT[0], SECOND_AT[1] + 1)))
    relevant = tuple(rng.choice(["X", "Y"], size=2)) if relevant is None else relevant
    symbols = ["E"] + list(rng.choice(list(DISTRACTORS), size=length - 2)) + ["B"]
    for position, symbol in zip(positions, relevant):
        symbols[position] = symbol
    return "".join(symbols), "".join(relevant)


def one_hot(symbols: str) -> np.ndarray:
    """A string of SYMBOLS -> (T, 8) float32, one 1 a row: the paper's local input representation."""
    return np.eye(len(SYMBOLS), dtype=np.float32)[[SYMBOLS.index(s) for s in symbols]]


def temporal_order_data(n: int, seed: int = 0) -> LabelledSequences:
    """n sequences of the temporal-order task as one-hot numeric sequences (T_i, 8), T_i in [100, 110].

    Numeric one-hot rather than text tokens: it is the task exactly as published (locally represented
    inputs), and it runs the numeric path (.npz / .ts data: scaling, unequal lengths) that the text demos
    of the other jobs do not."""
    rng = np.random.default_rng(seed)
    examples = [temporal_order_example(rng) for _ in range(n)]
    description = f"temporal-order task (Hochreiter & Schmidhuber 1997, experiment 6a; {n} sequences, seed {seed})"
    return LabelledSequences([one_hot(s) for s, _ in examples], [label for _, label in examples], description, "numeric")


DEMO_SEQUENCES = 2000  # 1400 to train on, 300 to validate, 300 to test
DEMO_SETTINGS = dict(hidden=32, epochs=12)  # otherwise the defaults (max pooling, Adam at 3e-3, batch 32)


def demo_classifier(seed: int = 0) -> SequenceClassifier:
    """The demo's classifier: the default one, smaller and with fewer epochs, so it learns the task in about
    15 seconds on a laptop CPU (with max pooling it is solved within 5 epochs; through the last state alone,
    2000 sequences are too few and it needs three times as many)."""
    return SequenceClassifier(seed=seed, **DEMO_SETTINGS)


def demo_classify(out, seed: int = 0, reporter=None) -> dict:
    """Train on the temporal-order task into run directory `out`; returns metrics.json's content."""
    from .demos import clear_interrupted_demo

    clear_interrupted_demo(Path(out))
    return train_classify(demo_classifier(seed), temporal_order_data(DEMO_SEQUENCES, seed), out, reporter=reporter)
