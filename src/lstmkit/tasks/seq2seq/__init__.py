"""Sequence to sequence: translation, summarisation and replies, beside the copy and retrieval baselines.

    estimator.py  `Seq2Seq`: read pairs, split, learn each side's tokens, train, decode, score, save, load
    tokens.py     each side's tokens (BPE subwords, words or characters) and vocabulary
    net.py        `Seq2SeqNet`: a bidirectional LSTM encoder, an LSTM decoder with attention and input feeding
    decode.py     greedy decoding, beam search and sampling, batched
    report.py     metrics.json, the verdict against the baselines, report.html with sample translations
    demo.py       `lstmkit demo seq2seq`: English software messages into French, from this machine's catalogs
"""

from __future__ import annotations

import importlib

from ..job import Demo, Job, JobParts
from .settings import Seq2SeqSettings
from .space import SPACE


def _parts() -> JobParts:
    from . import demo, estimator, report

    return JobParts.of(estimator.Seq2Seq, report, {"seq2seq": demo.demo}, serving=lambda: importlib.import_module(".serving", __name__))


JOB = Job(
    name="seq2seq",
    summary="Train an encoder-decoder with attention on pairs of texts and score it beside copy and retrieval.",
    settings=Seq2SeqSettings,
    data_help="Pairs: a TSV file (source<TAB>target), a CSV (Excel, Parquet, JSON) file or JSON chats, a gettext "
              "catalog (.po, .mo) or a folder of catalogs.",
    metrics=("bleu", "chrf", "exact_match", "perplexity"),
    load_parts=_parts,
    demos=(Demo("seq2seq", "English software messages into French, from this machine's own gettext catalogs"),),
    translates=True,
    space=SPACE,
)
