"""What a classification run writes beside the model (SPEC §5): metrics.json, the verdict against the
majority class (and for texts TF-IDF with logistic regression), and report.html with the confusion matrix and
ROC curves."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from ...baselines import TFIDF_NGRAMS, beats_baseline
from . import JOB
from .estimator import SequenceClassifier

VERDICT_METRICS = {"accuracy": "accuracy", "f1": "macro F1"}
TEXT_SETTINGS = {"text_col", "level", "lowercase", "max_len", "min_freq", "embedding_dim", "tfidf_mix", "tfidf_ngrams"}  # not shown for numeric runs
MAX_ROC_CURVES = 10  # more classes than this: one micro-averaged curve instead of one per class
NETWORK_NAMES = {"lstm": "LSTM", "lstm-fcn": "LSTM-FCN", "alstm-fcn": "ALSTM-FCN"}  # the summary's name of the model


def run_metrics(classifier: SequenceClassifier, scored: Optional[dict] = None) -> dict:
    """metrics.json: the model's test metrics, the baselines' on the same items (the majority class; for texts
    TF-IDF with logistic regression too), and the verdict's basis: whether the model beats each one on accuracy
    and on macro F1 (`beats_on`, the majority class's)."""
    test, baselines = (classifier.metrics_, classifier.baselines_) if scored is None else (scored["test"], scored["baselines"])
    lstm = (classifier.test_ if scored is None else scored).get("lstm")  # the network alone, where the model mixes it
    on = {metric: beats_baseline(test, baselines, metric=metric) for metric in VERDICT_METRICS}  # {metric: {baseline: won}}
    beats = {metric: won["majority_class"] for metric, won in on.items()}
    return {
        "task": JOB.name, "model": model_name(classifier), "test": test, "lstm": lstm, "baselines": baselines,
        "mix": mix_of(classifier), "tfidf_ngrams": getattr(classifier, "tfidf_ngrams_", None),
        "beats_baselines": {name: all(won[name] for won in on.values()) for name in baselines}, "beats_on": beats,
        "classes": classifier.classes_,
        "test_sequences": classifier.test_["n"] if scored is None else scored.get("n"),
        "train_sequences": int(len(classifier.split_["train"])) if scored is None else None,
        "val_sequences": int(len(classifier.split_["val"])) if scored is None else None,
        "best_epoch": classifier.best_epoch_, "stop_reason": getattr(classifier, "stop_reason_", None),
    }  # fmt: skip


def model_name(classifier: SequenceClassifier) -> str:
    """The summary's name of the model: its network's, and "+ TF-IDF" where it mixes TF-IDF's probabilities in."""
    return NETWORK_NAMES[classifier.arch_] + (" + TF-IDF" if mix_of(classifier) is not None else "")


def mix_of(classifier) -> Optional[tuple[float, float]]:
    """The powers a text model mixes TF-IDF in with (`mix_`); None for the LSTM alone, and for a classifier
    object that has none (one read for its metrics and name alone)."""
    return getattr(classifier, "mix_", None)


def verdict(metrics: dict) -> tuple[str, bool]:
    """One plain sentence on whether the model beat the majority class on accuracy and macro F1 (a tie within
    `baselines.TIE_TOLERANCE` is not a win) and, for texts, TF-IDF with logistic regression."""
    test, majority = metrics["test"], metrics["baselines"]["majority_class"]
    scores = {m: f"{name} {test[m]:.3f} against {majority[m]:.3f}" for m, name in VERDICT_METRICS.items()}
    lost = [m for m in VERDICT_METRICS if not beats_baseline(test, metrics["baselines"], metric=m)["majority_class"]]
    tfidf = metrics["baselines"].get("tfidf_logistic_regression")
    if not lost and tfidf is not None:
        against = " and on ".join(f"{name} {test[m]:.3f} against {tfidf[m]:.3f}" for m, name in VERDICT_METRICS.items())
        mix = metrics.get("mix")
        model = "The model" if not mix else (f"The model (the LSTM's class probabilities to the power {mix[0]:g} times "
                                             f"TF-IDF's to the power {mix[1]:g}, chosen on the validation part)")  # fmt: skip
        grams = _ngrams_in_words(metrics.get("tfidf_ngrams"))
        if metrics["beats_baselines"].get("tfidf_logistic_regression"):
            return f"{model} beats the majority class and TF-IDF{grams} with logistic regression, on {against}.", True
        return (f"{model} beats the majority class ({scores['accuracy']}) but NOT TF-IDF{grams} with logistic regression "
                f"on {against}: a linear model of the texts' n-grams classifies them at least as well.", False)  # fmt: skip
    if not lost:
        return f"The model beats the majority class on {scores['accuracy']} and on {scores['f1']}.", True
    shown = " and on ".join(scores[m] for m in lost)
    if "accuracy" in lost:
        advice = "always answering the most frequent class is as good here."
    else:
        advice = "it is right more often, but no better across the classes than always answering the most frequent one."
    return f"The model does NOT beat the majority class on {shown}: {advice}", False


def _ngrams_in_words(level: Optional[str]) -> str:
    """" of character 1-4-grams": the n-grams `baselines.TFIDF_NGRAMS` gives the TF-IDF model's `level`; "" for
    metrics scored before they named it."""
    if level not in TFIDF_NGRAMS:
        return ""
    low, high = TFIDF_NGRAMS[level][1]
    return f" of {'word' if level == 'word' else 'character'} {low}-{high}-grams"


def write_report(classifier: SequenceClassifier, metrics: dict, path: Path, out: Path) -> None:
    from ...report.html import Report  # no matplotlib: the figures are drawn in a helper where there is one

    classes = classifier.classes_
    if classifier.kind_ == "text":
        data = f"text, {classifier.level} tokens, vocabulary of {len(classifier.vocab_)}"
    else:
        data = f"numeric sequences of {classifier.n_features_} feature{'s' if classifier.n_features_ > 1 else ''}"
    report = Report("Sequence classification", f"{out} · {len(classes)} classes · {data}")
    text, good = verdict(metrics)
    report.add_verdict(text, good)
    name = model_name(classifier) + (f" x{classifier.ensemble}" if classifier.ensemble > 1 else "")
    rows = JOB.summary_rows(metrics, name)
    report.add_metrics_table(f"Test part ({metrics['test_sequences']} sequences)", rows, JOB.metrics)
    per_class = metrics["test"]["per_class"]
    report.add_table("Per class (test part)", ["class", "precision", "recall", "F1", "support"],
                     [(label, s["precision"], s["recall"], s["f1"], s["support"]) for label, s in per_class.items()])  # fmt: skip
    report.add_drawing("Confusion matrix", "confusion_matrix_figure", {"matrix": metrics["test"]["confusion_matrix"], "labels": classes},
                       alt="confusion matrix of the test part: rows true class, columns predicted")  # fmt: skip
    curves = roc_curves(classifier.test_["y"], classifier.test_["proba"], classes)
    if curves:
        report.add_drawing("ROC curve", "roc_curve_figure", {"curves": curves}, alt="ROC curves on the test part")
    report.add_drawing("Loss curves", "loss_curves", {"history": pd.DataFrame(classifier.history_)}, alt="training and validation loss")
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


def resolved(classifier: SequenceClassifier) -> dict:
    """The defaults fit resolved, for config.json."""
    return {
        "classes": classifier.classes_, "kind": classifier.kind_,
        "vocab_size": None if classifier.vocab_ is None else len(classifier.vocab_),
        "n_features": getattr(classifier, "n_features_", None),
        "class_weights": None if classifier.class_weights_ is None else classifier.class_weights_.tolist(),
        "split": {name: int(len(index)) for name, index in classifier.split_.items()},
        "arch": classifier.arch_, "segment": classifier.segment_, "schedule": classifier.schedule_,
        "dropout": classifier.dropout_, "bidirectional": classifier.bidirectional_, "pretrain": classifier.pretrain_,
        "augment": classifier.augment_, "val_frac": classifier.val_frac_,
        "scale": classifier.scale_,
        "squash": classifier.squash_, "tfidf_mix": classifier.mix_, "tfidf_ngrams": classifier.tfidf_ngrams_,
    }  # fmt: skip
