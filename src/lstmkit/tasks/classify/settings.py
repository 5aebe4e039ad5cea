"""The sequence classifier's settings: its own, then those every job shares (`tasks/settings.py`)."""

from __future__ import annotations

import itertools
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

from ...data.text import LEVELS
from ...settings import setting
from ..settings import SharedSettings, columns_given, shared, time_format_setting

POOLINGS = ("last", "mean", "max")
ARCHS = ("lstm", "lstm-fcn", "alstm-fcn")  # the networks (tasks/classify/net.py)
NUMERIC_ARCH = "lstm-fcn"  # the default for numeric sequences, chosen by benchmarks/classify_quality.py
SCHEDULES = ("plateau", "cosine")
VAL_FRAC = 0.15  # the validation part's default share where the schedule watches it
RECIPE_STEPS = 500  # the cosine recipe's fewest optimiser steps, whatever the size of the training set
RECIPE_MAX_STEPS = 700  # and its most, where `epochs` is left to it (100 epochs of a large set: PLAID's 537, 1700 steps)
# any of jitter, scaling, slicing and warping, joined by "+" in this order
AUGMENTATIONS = tuple("+".join(c) for n in (1, 2, 3, 4) for c in itertools.combinations(("jitter", "scaling", "slicing", "warping"), n))
SCALES = ("auto", "dataset", "sequence")
# texts: a bidirectional LSTM with dropout 0.5 before the output layer, chosen by benchmarks/text_quality.py (three
# corpora of this machine, words and characters): its mean accuracy 0.776 and 0.778 (seed 0), 0.753 and 0.781
# (seed 1), against 0.742 and 0.772, 0.751 and 0.757 for one direction without dropout, in about twice the time;
# 8 of the 12 set, level and seed cells gain. 128 units and embeddings as well gained 0.01 more (seed 0, before
# the docstrings set left out its packages' tests) in 1.5-3 times the time. Measured with it and not kept (seed 0):
# mean pooling 0.759 and 0.727, lr 1e-3 0.754 and 0.740
TEXT_DROPOUT = 0.5
# texts: the embedding and the LSTM first learn the training texts as language models for this many epochs
# (`pretrain`), chosen by benchmarks/text_quality.py at seeds 0-2 (one thread each, two runs side by side): the
# three sets' mean accuracy, characters 0.818, 0.812 and 0.807 against 0.778, 0.781 and 0.791 without (every set
# gains at every seed), in 1.7-2.5 times the time; words 0.789, 0.769 and 0.763 against 0.776, 0.753 and 0.760
# (languages and docstrings gain at every seed, messages loses 0.005-0.017), in 2-3.3 times the time. On the
# benchmark's other three sets, added after to check it (seeds 0-2), close to neutral: characters 0.731, 0.743
# and 0.736 against 0.738, 0.715 and 0.736, words 0.692, 0.712 and 0.702 against 0.694, 0.699 and 0.706. Measured with
# a first version (batches of 64, seed 0) and not kept: 20 epochs, characters 0.812 and words 0.764 against 10's
# 0.805 and 0.772; the classifier then learning at lr 1e-3, both levels' mean 0.763 against 0.789
TEXT_PRETRAIN_EPOCHS = 10
SQUASHES = ("auto", "asinh", "none")


@dataclass(eq=False)
class ClassifySettings(SharedSettings):
    # the CSV column holding the texts; None: numeric sequences
    text_col: Optional[str] = setting(None, "Column of texts (text mode); absent: numeric sequences.")
    _: KW_ONLY
    label_col: str = setting("label", "Column of labels (CSV).")
    # a long-format CSV of numeric sequences: one row a step; None: one sequence a row (wide), .npz or .ts
    id_col: Optional[str] = setting(None, "Numeric sequences in long format (CSV): the column naming the sequence "
                                    "each row (one step) belongs to (or several, comma-separated); every other "
                                    "numeric column but the time and label columns is a channel.")  # fmt: skip
    time_col: Optional[str] = setting(None, "Long format: the column ordering each sequence's steps (dates or "
                                      "integers); default: the file's order.")  # fmt: skip
    time_format: Optional[str] = time_format_setting()
    columns: Union[str, Sequence[str], None] = setting(
        None, "Long format, or a folder of CSV recordings: the channel columns, comma-separated (default: every "
        "numeric one but the id, time and label columns, and one that counts the rows).", listed=str)  # fmt: skip
    # a test file (UCR/UEA ship one), kept as text so a run's settings compare equal on resume; None: hold out test_frac
    test: Optional[Union[str, Path]] = setting(
        None, "A labelled test file (UCR/UEA ship one); default: hold out --test-frac.")
    level: str = setting("word", "Text mode: tokens are words or characters.", choices=LEVELS)
    lowercase: bool = setting(True, "Text mode: lowercase the texts first.", cli=False)
    max_len: Optional[int] = setting(400, "Text mode: keep the first N tokens.", whole=True, min=1)
    min_freq: int = setting(2, "Text mode: tokens seen fewer times in training become <unk>.", whole=True, min=1)
    embedding_dim: int = setting(64, "Text mode: the size of the token embeddings.", whole=True, min=1, cli=False)
    pretrain: Optional[int] = setting(None, "Text mode: epochs of first training the embedding and LSTM as "
                                      "language models of the training texts (the next token forwards, the "
                                      "previous one backwards), before they learn the classes; 0: none; default "
                                      f"{TEXT_PRETRAIN_EPOCHS}.", whole=True, min=0)  # fmt: skip
    pooling: str = setting("max", "How the LSTM's steps become one vector.", choices=POOLINGS)
    # None: NUMERIC_ARCH for numeric sequences, lstm for text
    arch: Optional[str] = setting(None, f"Network: lstm | lstm-fcn | alstm-fcn (LSTM beside a convolutional branch); "
                                  f"default {NUMERIC_ARCH} for numeric sequences, lstm for text.", choices=ARCHS)
    # None: cosine for the FCN archs, plateau for lstm
    schedule: Optional[str] = setting(None, "plateau: halve the lr when validation stalls, stop early; cosine: decay "
                                      "over a fixed run, averaging the last quarter's weights. Default: cosine "
                                      "for the FCN archs.", choices=SCHEDULES)  # fmt: skip
    augment: Optional[str] = setting("auto", "Numeric sequences: perturb each training batch (jitter: noise; scaling: "
                                     "a random factor per sequence and channel; slicing: a random 90% window of "
                                     "each sequence, predicting as --slice-views says; warping: each sequence "
                                     "read at a smoothly varying speed), "
                                     "or several joined by +; none: as they are; auto: slicing for the FCN archs "
                                     "where a class's training series are not aligned in time, else none.",
                                     choices=("auto", "none", *AUGMENTATIONS))  # fmt: skip
    # test-time augmentation, as fastai's `tta` offers it beside `predict`: 3 raised PLAID and OSULeaf a little
    # (estimator.slice_views) at two to three times the cost of a prediction, halving a served model's throughput
    # (benchmarks/serve_load.py, README), so the default predicts from the whole alone
    slice_views: int = setting(0, "A model trained on slices (augment slicing) predicts the mean of its probabilities "
                                  "over the whole sequence and this many 90% windows of it, start to end (3 measured "
                                  "a little more accurate, at two to three times the cost); 0: from the whole alone.",
                               whole=True, min=0)  # fmt: skip
    tfidf_mix: str = setting("auto", "Texts: auto: the LSTM's class probabilities combined with those of TF-IDF with "
                             "logistic regression (their product, each raised to a power chosen on the validation "
                             "part); no: the LSTM alone.", choices=("auto", "no"))  # fmt: skip
    tfidf_ngrams: str = setting("auto", "Texts: the n-grams of the TF-IDF model the LSTM is combined with and "
                                "scored beside: word 1-2-grams, or character 1-4-grams (char); auto: char where 90% "
                                "of the training texts hold at most 400 characters, else word.",
                                choices=("auto", *LEVELS))  # fmt: skip
    scale: str = setting("auto", "Numeric sequences: scale each feature by the training set's mean and spread "
                         "(dataset), or z-normalise each sequence by its own and add its level and log spread "
                         "as channels (sequence); auto: sequence where the training sequences' spreads differ "
                         "by orders of magnitude, else dataset.", choices=SCALES)  # fmt: skip
    squash: str = setting("auto", "Numeric sequences: pass the scaled values through asinh (linear near zero, "
                          "logarithmic for large values) so rare spikes do not drown the rest; auto: in the "
                          "channels whose values are heavy-tailed.", choices=SQUASHES)  # fmt: skip
    ensemble: int = setting(1, "Train N members with seeds seed..seed+N-1 and average their probabilities.",
                            whole=True, min=1)  # fmt: skip
    class_weights: Optional[str] = setting(None, "Weight classes inversely to their frequency.", choices=("balanced",),
                                           switch="balanced")  # fmt: skip
    # None: VAL_FRAC with the plateau schedule, which stops on it; 0 with cosine, which chooses nothing on it
    val_frac: Optional[float] = shared("val_frac", None, help="Fraction of the data for validation; default 0.15 "
                                       "with the plateau schedule (it stops on it), 0 with cosine (nothing is "
                                       "chosen on it, so every sequence is learnt from).")  # fmt: skip
    # None: TrainConfig's (100), which the cosine recipe keeps within its bounds of optimiser steps
    epochs: Optional[int] = shared("epochs", None, help=f"Epochs; default 100, at most (plateau: early stopping "
                                   f"usually ends sooner) or, with cosine, within {RECIPE_STEPS} to "
                                   f"{RECIPE_MAX_STEPS} optimiser steps. Given: this many.")  # fmt: skip
    # None: TEXT_DROPOUT and bidirectional for texts, neither for numeric sequences
    dropout: Optional[float] = shared("dropout", None, help=f"Dropout before the output layer (and between LSTM "
                                      f"layers); default {TEXT_DROPOUT} for texts, 0 for numeric sequences.")  # fmt: skip
    bidirectional: Optional[bool] = shared("bidirectional", None, help="Also read each sequence backwards; default: "
                                           "on for texts, off for numeric sequences.")  # fmt: skip
    batch_size: int = shared("batch_size", help="Sequences per mini-batch.")
    lr: float = shared("lr", 3e-3)

    def __post_init__(self):
        self.test = None if self.test is None else str(self.test)
        self.id_col = columns_given(self.id_col)
        self.time_col = columns_given(self.time_col)
