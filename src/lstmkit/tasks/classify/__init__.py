"""Classification of texts and numeric sequences, beside the majority class (texts: and TF-IDF with logistic
regression).

    estimator.py  `SequenceClassifier`: read, split (stratified), tokenise or scale, train, score, predict
    net.py        `ClassifierNet`: the plain LSTM (embedding (text) -> LSTM -> pooling over the real steps ->
                  linear) and the LSTM-FCN family (an LSTM branch beside a convolutional one); `EnsembleNet`
    report.py     metrics.json, the verdict against the baselines, report.html with ROC curves
    demo.py       `lstmkit demo classify`: the temporal-order task of Hochreiter & Schmidhuber (1997)
"""

from __future__ import annotations

import importlib

from ..job import Demo, Job, JobParts
from .space import SPACE
from .settings import ClassifySettings


def _parts() -> JobParts:
    from . import demo, estimator, report

    return JobParts.of(estimator.SequenceClassifier, report, {"classify": demo.demo}, serving=lambda: importlib.import_module(".serving", __name__))


JOB = Job(
    name="classify",
    summary="Train a sequence or text classifier and score it beside the majority class (and, for texts, TF-IDF "
            "with logistic regression).",
    settings=ClassifySettings,
    data_help="CSV, Excel, Parquet or JSON (text, one sequence a row, or with --id-col one step a row), .npz (X, y), "
              "UCR/UEA .ts or .arff, or the UCR archive's .tsv or .txt (each line the class label, then the values; a "
              ".tsv with a header reads as a CSV).",
    metrics=("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"),
    baselines={"majority_class": "majority class", "tfidf_logistic_regression": "TF-IDF + logistic regression"},
    load_parts=_parts,
    demos=(Demo("classify", "The temporal-order task (Hochreiter & Schmidhuber 1997): "
                            "the order of two symbols among distractors"),),  # fmt: skip
    space=SPACE,
)
