"""Language modelling of characters or words, beside the unigram model and an n-gram model (Kneser-Ney).

    estimator.py  `LanguageModel`: read a corpus, split, build the vocabulary, train with truncated BPTT,
                  score, generate, rank the next tokens, save, load
    net.py        `LanguageNet` (embedding -> LSTM -> decoder) and the loss that carries the state
    report.py     metrics.json, the verdict against the baselines, report.html with sample generations
    demo.py       `lstmkit demo lm`: a character-level model of the Python standard library's own source
"""

from __future__ import annotations

import importlib

from ..job import Demo, Job, JobParts
from .space import SPACE
from .settings import LanguageModelSettings


def _parts() -> JobParts:
    from . import demo, estimator, report

    return JobParts.of(estimator.LanguageModel, report, {"lm": demo.demo}, serving=lambda: importlib.import_module(".serving", __name__))


JOB = Job(
    name="lm",
    summary="Train a character- or word-level language model (an LSTM, mixed with an n-gram model) and score it "
            "beside the unigram and n-gram models.",
    settings=LanguageModelSettings,
    data_help="A text file, a folder of text files, or a CSV (Excel, Parquet, JSON) file's column of texts "
              "(--text-col), a row a document.",
    metrics=("loss", "perplexity", "bits_per_char"),
    baselines={"unigram": "unigram", "kneser_ney": "n-gram (Kneser-Ney)"},
    load_parts=_parts,
    demos=(Demo("lm", "Character-level model of the Python standard library's own source"),),
    predicts=False,
    generates=True,
    space=SPACE,
)
