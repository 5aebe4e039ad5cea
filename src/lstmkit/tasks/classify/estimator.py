"""`lstmkit.SequenceClassifier`: a label and class probabilities for each text or numeric sequence, with the
scikit-learn contract.

Data flow: file -> `data.read_sequences` (CSV text column, wide numeric CSV, .npz or .ts) -> stratified
split (train / validation, and a test part unless a test file is given) -> text: tokens and a vocabulary of
the training part; numeric: a per-feature scaler of the training part -> length-bucketed batches padded per
batch -> `ClassifierNet` trained by `train.fit` with cross-entropy -> metrics on the test part beside the
majority class of the training part, scored on the very same test items.
"""

from __future__ import annotations

import dataclasses
import os
from functools import cached_property
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch
from scipy.special import log_softmax, softmax
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight
from torch import Tensor, nn

from ...baselines import TfidfLogisticRegression, majority_class_proba
from ...data import LabelledSequences, Scaler, check_classes, class_order, quote_labels, read_sequences, unit
from ...data.csv_table import and_list
from ...data.npz import arrays_as_sequences, nested
from ...data.panel import split_ids
from ...data.text import Vocabulary, tokenize
from ...errors import ConfigError, DataError
from ...metrics import classification_metrics
from ...train import BucketedBatches, TrainConfig, fit, member_checkpoint, seed_everything
from ..estimator import Estimator, pop_baseline, with_baseline
from ..gate_input import GateInput, capped, read_text, text_upto, tokens_with_offsets
from . import net as nets
from .net import ClassifierNet, EnsembleNet, TextLanguageModels, fcn_stride_of, segment_of, step_mask
from .settings import NUMERIC_ARCH, RECIPE_MAX_STEPS, RECIPE_STEPS, TEXT_DROPOUT, TEXT_PRETRAIN_EPOCHS, VAL_FRAC, ClassifySettings

PREDICT_BATCH = 256  # sequences a batch when predicting: no gradients, so larger than training's
JITTER_STD = 0.03  # augmentation, in scaled units (Um et al. 2017's values)
SCALING_STD = 0.1
# window slicing keeps this much of each sequence (Le Guennec et al. 2016). 0.95 instead, seeds 0-1 on the AVX-512 EPYC:
# PLAID 0.907 and 0.914 against 0.892 and 0.911, OSULeaf 0.955 and 0.979 against 0.963 and 0.979, PigCVP 0.832 and
# 0.788 against 0.822 and 0.832, WatchExercises 0.857 and 0.881 against 0.857 and 0.857: level (0.8: below)
SLICE_FRACTION = 0.9
WARP_STD, WARP_KNOTS = 0.2, 4  # time warping's speed curve: knots between the ends, their spread around 1 (Um et al. 2017)
# tfidf_ngrams "auto": character 1-4-grams where this share of the training texts hold at most this many characters
# (sentences, messages, titles, names), word 1-2-grams for longer texts (reviews, articles), as before. Measured on
# benchmarks/text_quality.py's eight sets (90% of each set's texts within 40-160 characters; one thread, the AVX2
# EPYC), test accuracy of the (word-level) model with character TF-IDF against word TF-IDF, seeds 0-2: languages
# 0.921, 0.921, 0.915 against 0.868, 0.869, 0.858; messages 0.786, 0.795, 0.787 against 0.774, 0.770, 0.758;
# docstrings 0.866, 0.853, 0.860 against 0.866, 0.850, 0.844; languages-2 0.965, 0.965, 0.967 against 0.874,
# 0.876, 0.882; messages-2 0.802, 0.833, 0.815 against 0.806, 0.837, 0.806; libraries 0.628, 0.617, 0.611 against
# 0.586, 0.567, 0.567; packages 0.756, 0.752, 0.760 against 0.740, 0.748, 0.750; charnames 0.948, 0.947, 0.948
# against 0.943, 0.945, 0.945. The eight sets' mean 0.834, 0.835, 0.833 against 0.807, 0.808, 0.801, in about the
# same time (2-8 s more: the character TF-IDF's fits). Reading characters with the LSTM as well (level "char", seed
# 0) gave 0.826, in 2-5 times the time.
TFIDF_CHAR_SHARE, TFIDF_CHAR_LENGTH = 0.9, 400
SPREAD_RANGE = 100  # scale "auto" z-normalises each sequence where spreads' 90th/10th percentiles differ more.
# The ratio, highest channel: PLAID 1.3e5, BasicMotions 56, WatchExercises 11, JapaneseVowels 4.3, SpokenDigits 3.9,
# the other ten sets of benchmarks/classify_quality.py 1-1.9 (z-normalised in the archive); so 100 and the earlier
# 1000 pick alike on all fourteen. aeon's Covid3Month_disc (daily death counts of 140 countries, 81% zeros) has 280:
# "dataset" 0.541, 0.508, 0.295, 0.525, 0.344 (seeds 0-4), "sequence" 0.607, 0.639, 0.623, 0.623, 0.590 (1-NN DTW
# 0.623, MiniRocket 0.705). "sequence" on BasicMotions (1.000, 1.000) and WatchExercises (0.857, 0.857) equals
# "dataset" at seeds 0-1; JapaneseVowels loses with it (below), so the line stays well above 4.3
# augment "auto": slicing where `shift_gain` is at least SHIFT_GAIN, from SHIFT_PAIRS pairs. Over the benchmark's
# fourteen sets the aligned ones score 0.000-0.010 (GunPoint the most) and the others 0.067-0.80 (WatchExercises
# the least, PigCVP the most), so the line lies in the gap
SHIFT_GAIN, SHIFT_PAIRS = 0.05, 200
# tfidf_mix "auto": the powers of the LSTM's and TF-IDF's probabilities in their product, chosen on the validation part
MIX_LSTM_POWERS = np.round(np.arange(0.1, 2.01, 0.1), 2)
MIX_TFIDF_POWERS = np.round(np.arange(0.0, 4.01, 0.1), 2)  # 0: the LSTM alone, its probabilities as they are
EPS_PROBA = 1e-12  # a probability's floor before its log: TF-IDF gives 0 to a class its training texts lack
TAIL_RATIO = 3.0  # squash "auto": asinh where the 0.1%/99.9% quantiles lie this many IQRs from the median (normal: 2.3)


class SequenceClassifier(ClassifySettings, Estimator):
    """Classify texts (a CSV text column) or numeric sequences (wide CSV, .npz, .ts) with an LSTM.

    Parameters (`ClassifySettings`) are stored as given (`test` as text, so a run's settings compare equal
    on resume); what
    `fit` learns ends in an underscore: `classes_`, `kind_` ("text" or "numeric"), `tfidf_ngrams_` (text: "char" or "word"), `vocab_` (text) or
    `scaler_` (numeric), `class_weights_`, `model_`, `history_`, `metrics_`, `baselines_`, `split_`.

    Defaults, and why:
    - level "word", lowercase True: word tokens carry most of what a label depends on, and case rarely
      matters for it while it doubles the vocabulary's sparsity; char level is there for short or noisy text.
    - tfidf_ngrams "auto": the TF-IDF model the LSTM is mixed with (`tfidf_mix`) and scored beside reads
      character 1-4-grams where the texts are short (TFIDF_CHAR_SHARE of them within TFIDF_CHAR_LENGTH
      characters), word 1-2-grams otherwise. Character n-grams see what words hide (a language's endings, a
      program's turn of phrase, the stem of a word too rare for the vocabulary), and beside a word-level LSTM
      they bring that for a few seconds of fitting, where reading characters with the LSTM costs 2-5 times its
      training (the figures at TFIDF_CHAR_SHARE). The baseline is the stronger for it: on these texts character
      TF-IDF beat word TF-IDF on six of eight sets.
    - max_len 400 tokens: the first 400 (a long review's opening) bound the cost of a CPU epoch; None keeps all.
    - min_freq 2: a token seen once in training becomes <unk>, so the model meets <unk> while training and
      learns what to do with words it never saw, instead of keeping an untrained <unk> vector for them.
    - pooling "max": the top layer's outputs, maximised over the real steps. One event anywhere in the
      sequence (a telling word, a spike, the second relevant symbol of the temporal-order task) reaches the
      head undiluted however long the sequence, and gradients flow to the steps that matter rather than only
      through the last state. In our checks it learned the temporal-order demo from 2000 sequences in 5
      epochs, where "last" learned nothing from 2000 (it needs about three times as many), and it reached
      100% on a short-text toy where "mean", which averages the one telling word away, stopped at 90% (max
      pooling over LSTM states is also what Conneau et al. 2017 found best for sentence encoders). "last"
      (h_n, both directions) and "mean" are there when the end of a sequence, or its overall level, decides.
    - embedding_dim 64, hidden 64, one layer, unidirectional: enough capacity for the UCR/UEA sets and
      sentence-level text, and fast on a laptop CPU; `bidirectional` and `layers` add capacity when needed.
    - dropout 0: early stopping on the validation loss is the default regulariser; dropout (between layers
      and on the pooled features) helps large models on small data but slows small ones.
    - lr 3e-3 with Adam, batch 32, up to 100 epochs, patience 10: a small LSTM learns quickly at 3e-3 (the
      gradient norm is clipped at 1, and the rate is halved when validation stalls); classification's
      validation loss is noisy, so early stopping waits 10 epochs before giving up.
    - val_frac None: 0.15 with the plateau schedule, which lowers the rate and stops on the validation loss;
      0 with the cosine recipe, which chooses nothing on it, so the sequences a validation part would hold
      (a sixth of a small UCR training set) are learnt from instead. test_frac 0.15 of the data file when
      no test file is given. Splits are stratified, with every class in every part.
    - pretrain None: texts first learn themselves as language models for `settings.TEXT_PRETRAIN_EPOCHS`
      (10) epochs, the embedding and LSTM predicting each next token forwards and each previous one backwards
      (`_pretrain`): an LSTM that starts knowing its texts' tokens and how they follow one another needs fewer
      labels (Dai & Le 2015). On the three sets of benchmarks/text_quality.py that chose it, it raised the
      mean at every seed and level; on its other three it is close to neutral (+0.7 and +0.2 points). Over
      all six, 1.8 points with characters and 0.65 with words on average (the figures beside the setting).
    - class_weights None: the loss weighs every sequence alike, so probabilities stay calibrated; "balanced"
      weights classes inversely to their training frequency when a rare class matters more than accuracy.
    - arch None: `NUMERIC_ARCH` (lstm-fcn) for numeric sequences, chosen by benchmarks/classify_quality.py
      over every UCR/UEA set that ships in sktime: a plain LSTM reading a long series one value a step is
      far below 1-NN DTW there (ArrowHead 0.52 against 0.70), the LSTM-FCN family is not. Text keeps "lstm",
      whose quality on text the tests hold.
    - schedule None: "cosine" (the small-data recipe: 100 epochs within RECIPE_STEPS to RECIPE_MAX_STEPS
      steps, no early stopping, the last quarter's weights averaged) for the FCN archs, whose UCR/UEA
      training sets are often a few dozen sequences and whose validation loss is too noisy to stop on;
      "plateau" for "lstm", as before. RECIPE_MAX_STEPS: PLAID (537 training series) at 714 steps, not 100
      epochs' 1700, measured 0.905, 0.903 and 0.898 against 0.909, 0.905 and 0.901 at seeds 0-2 (50 epochs:
      0.903, 0.920, 0.899), in 45-63 s against 96 s (seed 0, each beside another run); JapaneseVowels (270)
      at 728 steps, not 900: 0.987, 0.989, 0.992 against 0.986, 0.989, 0.984. The other sets' 100 epochs
      already lie within the bounds.
    - scale "auto": "dataset", one scaler of the training part, keeps the levels that tell classes apart and
      measured best where one scale fits every sequence (JapaneseVowels 0.984 against 0.957 for "sequence").
      Where the training sequences' spreads differ by SPREAD_RANGE or more (the 90th against the 10th
      percentile, in any channel), one scale leaves most sequences flat at zero (PLAID, spreads from 3e-5
      to 96: 0.34): "sequence" then z-normalises each sequence by its own mean and spread and adds both
      (the mean in spreads, the log of the spread) as constant channels, so shape and magnitude both
      reach the network (PLAID 0.86; the z-normalised values alone 0.77; Covid3Month_disc's death counts, spreads
      from 0.1 to 5000, 0.616 against 0.443 over seeds 0-4).
    - squash "auto": after scaling, the channels whose values are heavy-tailed (the 0.1% or 99.9% quantile
      more than TAIL_RATIO interquartile ranges from the median; a normal distribution's lie 2.3 away) are
      read through asinh, linear near zero and logarithmic beyond: a power meter's rare spikes then stop
      ruling the batch-norm statistics and the first convolutions. ACSF1 0.770 against 0.693 (mean of seeds
      0-2); BasicMotions 1.000 either way; PLAID 0.872 against 0.871. The other sets have light tails and
      are read as before.
    - augment "auto": window slicing (a random 90% of each training series a batch) for the FCN archs where a
      class's training series are not aligned in time (`shift_gain`: shifting one series of a same-class pair
      raises their correlation by SHIFT_GAIN or more, the median of 200 pairs), else none. Where each series
      starts anywhere, the network then sees it from many starting points; where the place of a shape tells
      the class (ArrowHead, ItalyPowerDemand, UnitTest, all aligned), slicing costs. Over benchmarks/classify_quality.py's sets at seeds 0-1, slicing against none: OSULeaf 0.979 and
      0.983 against 0.971 and 0.979, PLAID 0.898 and 0.912 against 0.888 and 0.901, the held-out PigCVP
      (pressure waves recorded from any phase) 0.841 and 0.837 against 0.750 and 0.760; WatchExercises,
      BasicMotions, SpokenDigits and Trace (not aligned either) level; ArrowHead 0.766 and 0.829 against 0.851,
      UnitTest 0.864 and 0.955 against 0.909, ItalyPowerDemand 0.944 and 0.941 against 0.959 and 0.957 (aligned,
      so "auto" leaves them as they are). The rule was made after PigCVP's gain was seen, so PigCVP no longer
      counts as a set no choice was made on; of the nine it picks OSULeaf and PLAID, which gain, and
      BasicMotions, which stays at 1.000. With "auto", the nine sets' mean 0.945, 0.947 and 0.948 against
      0.943, 0.945 and 0.947 (seeds 0-2), the five held-out sets' 0.938, 0.942 and 0.939 against 0.925, 0.922
      and 0.915 (PigCVP 0.798 against 0.726 and WatchExercises 0.905 against 0.857 at seed 2); at seeds 3-4
      0.947 and 0.950 against 0.945 and 0.951 (OSULeaf 0.975 and 0.971, PLAID 0.907 and 0.905). A model trained
      on slices predicts from the whole sequence alone: `slice_views` 0. With `slice_views` 3 it predicts the
      mean of the probabilities of the whole and three slices, a little more accurate (measured at the
      function `slice_views`) for two to three times the cost of a prediction, which halved a served model's
      throughput (benchmarks/serve_load.py), so it is offered, not the default.
    - ensemble 1: an ensemble of N costs N times the training and is offered for when
      accuracy matters more than seconds. Before "auto", no augmentation helped over the benchmark: window slicing
      measured 0.934 against the default's 0.937 (mean over seeds 0-2 on six small sets; it helps ArrowHead
      and ACSF1, costs UnitTest and OSULeaf), jitter and scaling lower still. Time warping (`warped`), over
      the nine sets at seeds 0-2 against the default's 0.944, 0.945 and 0.939: 0.914, 0.909 and 0.907. It
      helps OSULeaf (0.975 at every seed, against 0.955, 0.967 and 0.934) and costs ACSF1 (0.66, 0.58 and 0.60
      against 0.91, 0.92 and 0.89) and PLAID (0.875, 0.885 and 0.851 against 0.907, 0.899 and 0.898), power
      and current recordings whose cycles' periods tell classes apart; warping changes them.
    - Measured on the benchmark's sets and not kept, as none raised the nine sets' mean beyond the spread
      between seeds (the default then, whose FCN branch read window means of the series, before
      `net.FIRST_BLOCK_POOL` "max": 0.933, 0.926 and 0.935 at seeds 0-2):
      - first differences as extra input channels of the FCN branch: 0.928, 0.935 and 0.936. ArrowHead,
        OSULeaf and PLAID gain at every seed; ACSF1 loses 0.08 at seed 0;
      - label smoothing 0.1: lower on ArrowHead, OSULeaf and PLAID at seeds 0 and 1;
      - dropout 0.3 before the head (seeds 0-1), AdamW with weight decay 0.01 (seed 0): no better anywhere;
      - a first kernel of 24 steps: ArrowHead 0.806 against 0.863 (seed 0);
      - twice the recipe's steps, with the difference channels: ACSF1 0.82 and 0.80 against their 0.76 and
        0.85, ArrowHead 0.869 and 0.846 against 0.869 and 0.874 (seeds 0-1);
      - the log of each sequence's length beside the pooled features: PLAID 0.888 and 0.879 against 0.898
        and 0.879 (seeds 0-1).
    - Measured later against the default with `net.first_block_maxima` (0.941, 0.940 and 0.944 at seeds 0-2):
      - precision "auto" (bf16 autocast on a CPU with AVX512-BF16): 0.941, 0.936 and 0.944, in a quarter less
        time; fp32 stays the default, so bf16 rounding never enters a run unasked (fp32 runs still differ
        between CPUs in their last bits, which training carries on: the default at seed 0 gives PLAID 0.892,
        OSULeaf 0.963 and PigCVP 0.822 on an AVX-512 EPYC against 0.898, 0.979 and 0.841 on an AVX2 one);
      - no squeeze-and-excitation where a univariate series is read with its level channels (scale
        "sequence"): PLAID 0.879, 0.892 and 0.894 against 0.909, 0.896 and 0.898;
      - gradient clipping off or at 5, or lr 1e-2: no better on ACSF1, OSULeaf and PLAID (seed 0);
      - the softmax averaged with a vote of the training sequences nearest in the pooled features (a cache
        model, Orhan 2018): PLAID 0.914 and 0.912 against 0.899 and 0.905, ArrowHead and OSULeaf lower; the
        nine sets' mean 0.944 and 0.941 against 0.942 and 0.939 (seeds 0-1);
      - an ensemble of 2 members trained for half the recipe's epochs each (the default's training time):
        PLAID 0.885, 0.877 and 0.873 against 0.909, 0.896 and 0.898 (seeds 0-2), the members under-trained
        where the default already is; the nine sets' mean 0.942 against 0.941 (seed 0);
      - more capacity for PLAID, which the default does not fit (training accuracy 0.965; eval-mode batch
        norm is not the cause: with the whole training set's batch statistics it is 0.972): 128 LSTM units,
        PLAID 0.892, 0.898 and 0.892 against 0.909, 0.896 and 0.898 (seeds 0-2); Karim's filters 128-256-128,
        0.885 and 0.903 (seeds 0-1) in 2.3 times the time;
      - batches that mix lengths (PLAID's length tells much of its class, so batches cut from length
        buckets hold few classes): buckets of 64 batches (in effect shuffled batches) gave PLAID 0.901, 0.922
        and 0.914 against 0.909, 0.896 and 0.898 (seeds 0-2) in 1.4 times the time (91 s against 65 s);
        buckets of 8 batches 0.901, 0.905 and 0.898. Under 1-NN DTW's 0.929 either way, and the time
        would take the table past 10 times MiniRocket's.
      - fewer of the recipe's fewest steps, RECIPE_STEPS 400 or 300 (it sets the length of six sets' runs:
        ACSF1, ArrowHead, BasicMotions, GunPoint, ItalyPowerDemand, UnitTest): their mean 0.934 and 0.931
        against 0.937 over seeds 0-2 (ArrowHead 0.834-0.869 and 0.829-0.863 against 0.863-0.869, ACSF1
        0.86-0.89 against 0.88-0.91), for 21% and 26% less time on those sets, a tenth of the nine's.
      - mixup (Zhang et al. 2018; alpha 0.2, one mixing weight a batch, the lengths the longer of each pair's):
        the nine sets' mean 0.922 and 0.927 against 0.941 and 0.940 (seeds 0-1). OSULeaf gains (0.971 at both
        seeds against 0.959 and 0.963); BasicMotions (0.950, 0.925), UnitTest (0.864) and PLAID (0.872, 0.892)
        lose.
    - Measured against the default with `net.FCN_STEPS` 256 (0.944, 0.945 and 0.939 at seeds 0-2):
      - batches of 16 at the same compute (RECIPE_STEPS 1000, RECIPE_MAX_STEPS 1400): 0.939 and 0.935 (seeds
        0-1); UnitTest 0.864 at both against 0.909, JapaneseVowels 0.978 and 0.981 against 0.986 and 0.992,
        PLAID 0.901 and 0.907 against 0.907 and 0.899.
      - a third constant channel where scale is "sequence", the raw mean's magnitude beside the log spread
        (1-NN DTW, which reads raw values, gets PLAID's test series whose nearest training series has a near
        mean but up to 3 times the spread): PLAID 0.888, 0.898 and 0.909 with log(|mean| + 1e-3 spread), 0.898,
        0.911 and 0.909 with asinh(mean), against 0.907, 0.899 and 0.898 (seeds 0-2); asinh of the raw series
        as a fourth channel (not constant), 0.886, 0.916 and 0.912.
    - Measured against the default with `net.LSTM_BRANCH_STEPS` 128 (0.943, 0.945, 0.947, 0.945 and 0.951 at
      seeds 0-4, one thread, the AVX2 EPYC):
      - statistics pooling, each FCN channel's standard deviation over the real steps beside its mean (as
        x-vectors pool a speaker's frames, Snyder et al. 2018): 0.945, 0.948, 0.948, 0.946 and 0.949. A trade
        more than a gain: ArrowHead (0.863-0.891 against 0.851-0.874), ACSF1 and PLAID (0.905-0.916 against
        0.888-0.914, still under 1-NN DTW's 0.931) rise, OSULeaf (0.950-0.971 against 0.967-0.979) and
        GunPoint fall; the five held-out sets level (0.929 and 0.920 against 0.925 and 0.922, seeds 0-1;
        PigCVP 0.774 and 0.731 against 0.750 and 0.760).
      - squeeze-and-excitation after the first two blocks of a univariate series too, as of several channels:
        0.937 and 0.950 (seeds 0-1; ArrowHead 0.823 and 0.857, ACSF1 0.90 and 0.93, UnitTest 0.909 and 0.955),
        in 8-16% more time (ACSF1 218 s against 146 s: the gate reads the first block at every step).
      - `pooling` "last" for the LSTM branch (its state after the last real segment, closer to Karim's): 0.937
        and 0.941 (seeds 0-1); PLAID 0.912 and 0.916, OSULeaf 0.926 and 0.950, GunPoint 0.987 and 0.967.
        The last state beside the maximum (both, concatenated): 0.919 and 0.940; ArrowHead 0.657 and 0.817,
        OSULeaf 0.938 and 0.926, PLAID 0.896 and 0.911.
      - random Fourier features of each sequence's level (Tancik et al. 2020: a network fits sharp functions
        of a few numbers through their sines and cosines at many frequencies), 64 random frequencies at
        scales spaced evenly in logs, beside the pooled features before the head. At seed 0 the default fits
        0.974 of PLAID's training series, 1-NN DTW's nearest training series has the right label for 46 of
        its 60 test errors, and 1-NN on four numbers a series (the logs of its spread, |mean|, length and
        range) gets 0.823 of the test series: levels that differ finely tell classes apart. Of the level
        channels of scale "sequence" (PLAID alone of the fourteen sets): PLAID 0.896 and 0.909 with scales
        0.5-8, 0.898 and 0.901 with 2-64, against 0.888 and 0.901 (seeds 0-1), its training series fitted
        (0.994-1.000). Of each channel's mean and log spread over the real steps, on every set: the nine
        sets' mean 0.947 and 0.945 against 0.943 and 0.945 (ArrowHead 0.880 and 0.851, PLAID 0.901 and 0.912,
        GunPoint 0.993 at seed 0), PigCVP 0.731 and 0.721 against 0.750 and 0.760.
      - window slicing (`augment` "slicing") with this network: the nine sets' mean 0.929 and 0.947 against
        0.943 and 0.945 (seeds 0-1; ArrowHead 0.766 and 0.829 against 0.851, UnitTest 0.864 and 0.955 against
        0.909), in 12-19% less time; the five held-out sets 0.938 and 0.942 against 0.925 and 0.922, PigCVP
        (pressure waves recorded from any phase) 0.841 and 0.837 against 0.750 and 0.760: kept where the series
        are not aligned in time (`augment` "auto", above).
    """

    noun = "classifier"
    state_file = "classifier.json"

    # ---- settings ----------------------------------------------------------------------------------
    def _check_settings(self, has_test_file: bool, folder: bool = False) -> None:
        """Every setting checked before any data is read (`has_test_file`: a test file replaces test_frac;
        `folder`: the data is a folder of files, whose recordings' channels `columns` may choose)."""
        self.check_settings()
        test_frac = 0 if has_test_file else self.test_frac
        if (self.val_frac or 0) + test_frac >= 1:
            raise ConfigError(f"`val_frac` + `test_frac` must be below 1 to leave data for training, "
                              f"got {self.val_frac} + {test_frac}")  # fmt: skip
        if not has_test_file and self.test_frac == 0:
            raise ConfigError("`test_frac` is 0 and no test file was given (`test`): nothing is left to score the model on")
        if self.id_col is not None and self.text_col is not None:
            raise ConfigError("`id_col` reads numeric sequences in long format, one step a row; a text model reads "
                              "one text a row (`text_col`): give one of the two")  # fmt: skip
        if self.id_col is None and (self.time_col, self.time_format, None if folder else self.columns) != (None, None, None):
            raise ConfigError("`time_col` and `columns` read a long-format CSV, one step a row; give `id_col`, the "
                              "column naming the sequences, too")  # fmt: skip

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, data, y=None, *, test=None, checkpoint=None, resume: bool = False, reporter=None,
            score_test: bool = True) -> "SequenceClassifier":  # fmt: skip
        """Read, split, tokenise or scale, train; then score the test part beside the majority class.

        data: a file path (see `lstmkit.data.sequences.read_sequences`) or `LabelledSequences`; or, with their
        labels `y` (N,), as scikit-learn and Keras take them, texts or arrays (`arrays_as_sequences`: (N, T),
        (N, T, F) or a list of (T_i[, F])).
        test: a labelled test file (or LabelledSequences, or a pair (X, y)); default: the `test` given to the
        constructor, and without one a stratified `test_frac` part of `data` is held out.
        score_test False (a tuning trial): the test part stays held out of training (a test file is not even
        read), but is neither encoded nor scored, and no metrics are set."""
        test = self.test if test is None else test
        if y is not None:  # of any kind, whatever an earlier fit read
            data = arrays_as_sequences(data, y, "the training data")
        if isinstance(test, tuple) and len(test) == 2:
            test = arrays_as_sequences(*test, "the test data")
        self._check_settings(has_test_file=test is not None,
                             folder=isinstance(data, (str, os.PathLike)) and Path(data).is_dir())  # fmt: skip
        parts, test_set = self._prepare(data, test, read_test=score_test)
        config = self._recipe(self.train_config(), parts["train"])
        batches = {name: BucketedBatches(self._encode(part), self._targets(part), config.batch_size)
                   for name, part in parts.items() if len(part)}  # fmt: skip
        if score_test:
            test_y, test_x = self._targets(test_set), self._encode(test_set)  # checked before training starts

        members, results = [], []
        self.pretrain_history_ = []  # the first member's
        for k in range(self.ensemble):  # members differ by seed only
            seed_everything(self.seed + k)
            member, member_config = self._build_net(), dataclasses.replace(config, seed=config.seed + k)
            if self.pretrain_:
                history = self._pretrain(member, batches, member_config, member_checkpoint(checkpoint, k, phase="pretrain"),
                                         resume, reporter)  # fmt: skip
                self.pretrain_history_ = self.pretrain_history_ or history
                if config.max_time is not None:  # one budget a member: the pretraining's seconds come off it
                    rest = max(config.max_time - sum(row["seconds"] for row in history), 0.0)
                    member_config = dataclasses.replace(member_config, max_time=rest)
            average_from = config.epochs - config.epochs // 4 + 1 if self.schedule_ == "cosine" else None
            results.append(fit(member, self._loss, batches["train"], batches.get("val"), member_config,
                               checkpoint=member_checkpoint(checkpoint, k), resume=resume, reporter=reporter,
                               average_from=average_from))  # fmt: skip
            members.append(member.cpu().eval())
        self.model_ = members[0] if len(members) == 1 else EnsembleNet(members).eval()
        first = results[0]  # the best epoch is the first member's; history.csv holds every member's, tagged
        tagged = [{**row, "member": k} for k, result in enumerate(results) for row in result.history]
        self.history_ = tagged if len(results) > 1 else first.history
        self.best_epoch_, self.stop_reason_ = first.best_epoch, first.stop_reason
        self.mix_ = self._choose_mix(parts) if self.kind_ == "text" and self.tfidf_mix == "auto" and score_test else None
        if not score_test:
            self.test_ = self.metrics_ = self.baselines_ = None
            return self
        self.test_ = self._score_encoded(test_y.numpy(), test_x, test_set)
        self.metrics_, self.baselines_ = self.test_["metrics"], self.test_["baselines"]
        return self

    def _pretrain(self, member: ClassifierNet, batches: dict[str, BucketedBatches], config: TrainConfig, checkpoint,
                  resume: bool, reporter) -> list[dict]:  # fmt: skip
        """Train `member`'s embedding and LSTM as language models of the training texts (`TextLanguageModels`)
        for `pretrain_` epochs at the classifier's rate and batch size, keeping the epoch of the lowest
        validation loss (the last without a validation part); the classifier then learns from there. Under a
        time budget (`max_time`) it stops after the epoch that crosses half of it. Returns the pretraining's
        history (its rows' losses: the models' cross-entropy, nats per token). It reads the classifier's own
        batches, its texts, and leaves their labels unread."""
        models = TextLanguageModels(member, len(self.vocab_))
        epochs = self.pretrain_
        config = dataclasses.replace(config, epochs=epochs, schedule="none", patience=epochs + 1, min_steps=0,
                                     max_time=None if config.max_time is None else config.max_time / 2)  # fmt: skip
        result = fit(models, lambda model, batch: model(batch[0], batch[1]), batches["train"], batches.get("val"), config,
                     checkpoint=checkpoint, resume=resume, reporter=None if reporter is None else reporter.phase("pretrain"))  # fmt: skip
        member.train()
        return result.history

    def _recipe(self, config: TrainConfig, train: LabelledSequences) -> TrainConfig:
        """The training resolved for the data (`arch_` and `schedule_` come with the split, `_prepare`):
        `segment_` (steps an LSTM-branch step of the FCN archs holds), `augment_`, and the schedule's
        configuration. The cosine schedule is the small-data recipe:
        a fixed run of `epochs`: where it is left to the recipe, 100 kept within RECIPE_STEPS optimiser steps
        at the least (a set of 30 sequences makes one batch an epoch, and 100 steps leave an FCN under-trained)
        and RECIPE_MAX_STEPS at the most (a large set learns as well in fewer epochs); given, as given; no early
        stopping, and the weights of the last quarter of the epochs averaged (`train.fit`'s average_from)."""
        longest = max(len(s) for s in train.sequences)
        fcn = self.arch_ != "lstm" and self.kind_ == "numeric"
        self.segment_ = segment_of(longest) if fcn else 1
        self.fcn_stride_ = fcn_stride_of(longest) if fcn else 1
        self.fcn_scales_ = list(nets.FCN_SCALES) if fcn else [1]
        self.first_block_pool_ = nets.FIRST_BLOCK_POOL
        self.augment_ = self._augmentation(train, fcn)
        if self.schedule_ == "plateau":
            return config
        steps_per_epoch = -(-len(train) // config.batch_size)
        epochs = config.epochs
        if self.epochs is None:  # left to the recipe; given, it is what was asked for, as Keras's `epochs` is
            epochs = max(min(epochs, -(-RECIPE_MAX_STEPS // steps_per_epoch)), -(-RECIPE_STEPS // steps_per_epoch))
        return dataclasses.replace(config, schedule="cosine", epochs=epochs, patience=epochs + 1, min_steps=0)

    def _augmentation(self, train: LabelledSequences, fcn: bool) -> Optional[str]:
        """`augment` resolved for the training part: "auto" slices the series of the FCN archs where a class's
        series are not aligned in time (`shift_gain` of SHIFT_GAIN or more), else none; text: none."""
        if self.kind_ != "numeric" or self.augment in (None, "none"):
            return None
        if self.augment != "auto":
            return self.augment
        return "slicing" if fcn and shift_gain(train.sequences, train.labels) >= SHIFT_GAIN else None

    def _prepare(self, data, test, read_test: bool = True) -> tuple[dict[str, LabelledSequences], Optional[LabelledSequences]]:
        """Read and split the data; learn the classes, the encoding and the class weights from the training
        part. Returns the training and validation parts, and the test part (the test file's, or held out;
        None with read_test False: a test file is then not read, a held-out part still held out)."""
        self.columns_ = None  # the channels a long-format CSV names: read by name from every later file
        dataset = self._read(data, labelled=True)
        test = dataset.test_part if test is None else test  # an .npz archive's published split: its test arrays
        self.classes_, self.kind_, self.columns_ = check_classes(dataset), dataset.kind, dataset.channels
        self.arch_ = self.arch or ("lstm" if self.kind_ == "text" else NUMERIC_ARCH)
        text = self.kind_ == "text"
        if not text and self.pretrain:
            raise ConfigError("`pretrain` trains the embedding of a text model's tokens as language models; numeric "
                              "sequences have none: leave it out")  # fmt: skip
        self.dropout_ = self.dropout if self.dropout is not None else (TEXT_DROPOUT if text else 0.0)
        self.bidirectional_ = self.bidirectional if self.bidirectional is not None else text
        self.pretrain_ = self.pretrain if self.pretrain is not None else TEXT_PRETRAIN_EPOCHS * text
        self.schedule_ = self.schedule or ("plateau" if self.arch_ == "lstm" else "cosine")
        self.val_frac_ = self.val_frac if self.val_frac is not None else VAL_FRAC * (self.schedule_ == "plateau")
        self._index = {label: k for k, label in enumerate(self.classes_)}
        test_set = None if test is None or not read_test else self._read(test, labelled=True)
        self.split_ = self._split(dataset, held_out=test is None)
        parts = {name: dataset.subset(self.split_[name]) for name in ("train", "val")}
        self.tfidf_ngrams_ = self._tfidf_ngrams(parts["train"]) if text else None
        self._learn_encoding(parts["train"])
        y_train = self._targets(parts["train"]).numpy()
        self.train_counts_ = np.bincount(y_train, minlength=len(self.classes_))  # (K,)
        self.class_weights_ = None
        if self.class_weights == "balanced":
            self.class_weights_ = compute_class_weight("balanced", classes=np.arange(len(self.classes_)), y=y_train)
        self.text_baseline_ = None  # texts: TF-IDF with logistic regression, on every text the model learns from
        if self.kind_ == "text" and read_test:
            seen = dataset.subset(np.concatenate([self.split_["train"], self.split_["val"]]))
            self.text_baseline_ = TfidfLogisticRegression.fit(seen.sequences, self._targets(seen).numpy(),
                                                              len(self.classes_), self.tfidf_ngrams_, self.lowercase)  # fmt: skip
        if not read_test:
            return parts, None
        return parts, dataset.subset(self.split_["test"]) if test_set is None else test_set

    def _tfidf_ngrams(self, train: LabelledSequences) -> str:
        """`tfidf_ngrams` resolved for the training texts: "auto" takes character n-grams where at least
        TFIDF_CHAR_SHARE of the texts hold at most TFIDF_CHAR_LENGTH characters, word n-grams otherwise."""
        if self.tfidf_ngrams != "auto":
            return self.tfidf_ngrams
        short = np.mean([len(text) <= TFIDF_CHAR_LENGTH for text in train.sequences])
        return "char" if short >= TFIDF_CHAR_SHARE else "word"

    def _read(self, data, *, labelled: bool, part: str = "train") -> LabelledSequences:
        """`data` read as the classifier reads it; of an .npz archive's published split (X_train... X_test), the
        training arrays, or the test arrays for `part` "test" (what evaluate and predict score)."""
        if part == "test":
            data = self._read(data, labelled=labelled)
            return data if data.test_part is None else self._read(data.test_part, labelled=labelled)
        if isinstance(data, LabelledSequences):
            if labelled and data.labels is None:
                raise DataError(f"{data.path}: has no class labels; training and evaluating need labelled data")
            return data
        if nested(data):  # sktime's nested DataFrame: a row a sequence, a cell a series
            if labelled:
                raise DataError("a nested DataFrame (a cell a series, as sktime holds them) carries no class labels; "
                                "pass them as y: fit(X, y)")  # fmt: skip
            return self._in_memory(data)
        if isinstance(data, (str, Path, pd.DataFrame)):  # a DataFrame is read as its CSV would be
            columns = self.columns if getattr(self, "columns_", None) is None else self.columns_
            return read_sequences(data, text_col=self.text_col, label_col=self.label_col, labelled=labelled,
                                  id_col=self.id_col, time_col=self.time_col, time_format=self.time_format,
                                  columns=columns)  # fmt: skip
        if labelled:
            raise DataError("labelled data must be a file, a pandas DataFrame or LabelledSequences, got "
                            f"{type(data).__name__}")  # fmt: skip
        return self._in_memory(data)

    def _in_memory(self, data, y=None) -> LabelledSequences:
        """Texts (a list of str) for a text model; arrays (N, T[, F]) or a list of (T_i[, F]) for a numeric one
        (`arrays_as_sequences`), labelled by `y` where given."""
        data = arrays_as_sequences(data, y, "the given texts" if self.kind_ == "text" else "the given sequences")
        if self.kind_ != data.kind:
            raise DataError("this model classifies texts: pass a list of non-empty strings or a CSV file" if self.kind_ == "text"
                            else "this model classifies numeric sequences: pass arrays (N, T[, F]), a list of (T[, F]) or a file")  # fmt: skip
        return data

    def _split(self, data: LabelledSequences, *, held_out: bool) -> dict[str, np.ndarray]:
        """Stratified indices into `data`: train, val (val_frac of the whole) and, when held_out, test."""
        labels = np.asarray(data.labels)
        classes, counts = np.unique(labels, return_counts=True)
        val_frac = self.val_frac_
        needed = 1 + (val_frac > 0) + held_out
        if counts.min() < needed:
            names = ["training"] + ["validation"] * (val_frac > 0) + ["test"] * held_out
            parts = and_list(names)
            fewest, rare = counts.min(), classes[int(np.argmin(counts))]
            raise DataError(f"{data.path}: class '{rare}' has only {fewest} sequence{'s' if fewest > 1 else ''}; "
                            f"the stratified split into {parts} parts needs at least {needed} of each class")  # fmt: skip
        split, rest = {}, np.arange(len(labels))
        for name, frac, wanted in (("test", self.test_frac, held_out), ("val", val_frac, val_frac > 0)):
            if not wanted:
                split[name] = np.array([], dtype=np.int64)
                continue
            size = max(len(classes), int(len(labels) * frac + 0.5))  # every class in every part
            try:
                rest, split[name] = train_test_split(rest, test_size=size, stratify=labels[rest], random_state=self.seed % 2**32)
            except ValueError:
                raise DataError(
                    f"{data.path}: {len(labels)} sequences of {len(classes)} classes are too few for a stratified "
                    f"split with `val_frac` {val_frac} and `test_frac` {self.test_frac if held_out else 0}; "
                    "use more data or smaller fractions"
                ) from None
        split["train"] = rest
        return {name: np.sort(split[name]) for name in ("train", "val", "test")}

    def _tokens(self, text: str) -> list[str]:
        tokens = tokenize(text, self.level, lowercase=self.lowercase)
        return tokens if self.max_len is None else tokens[: self.max_len]

    def _learn_encoding(self, train: LabelledSequences) -> None:
        """The vocabulary (text) or the scaler (numeric), from the training part only."""
        self.vocab_ = self.scaler_ = self.scale_ = None
        self.squash_ = []
        if self.kind_ == "text":
            self.vocab_ = Vocabulary.build((self._tokens(text) for text in train.sequences), min_freq=self.min_freq)
        else:
            self.n_features_ = train.n_features
            self.scale_ = self.scale if self.scale != "auto" else spread_scale(train.sequences)
            own = np.concatenate([self._own_scale(x) for x in train.sequences])  # (sum T_i, inputs_)
            self.scaler_ = Scaler().fit(own)  # (inputs_,) mean and std
            squash = heavy_tailed(self.scaler_.transform(own)) if self.squash == "auto" else None
            self.squash_ = [self.squash == "asinh"] * own.shape[1] if squash is None else squash.tolist()

    def _encode(self, data: LabelledSequences) -> list[Tensor]:
        """Each sequence as the model reads it: token ids (T_i,) int64, or scaled features (T_i, F) float32."""
        if data.kind != self.kind_:
            wanted = f"texts (CSV column '{self.text_col}')" if self.kind_ == "text" else "numeric sequences"
            raise DataError(f"{data.path}: holds {data.kind} sequences; this model classifies {wanted}")
        if self.kind_ == "text":
            return [torch.tensor(self.vocab_.encode(self._tokens(text)), dtype=torch.int64) for text in data.sequences]
        if data.n_features != self.n_features_:
            raise DataError(f"{data.path}: its sequences have {data.n_features} features a step; "
                            f"the model was trained on {self.n_features_}")  # fmt: skip
        return [torch.from_numpy(self._squashed(self.scaler_.transform(self._own_scale(s))).astype(np.float32))
                for s in data.sequences]  # fmt: skip

    def _squashed(self, scaled: np.ndarray) -> np.ndarray:
        """(T, inputs_) scaled values -> asinh of them in the channels `squash_` marks."""
        if not any(self.squash_):
            return scaled
        return np.where(np.asarray(self.squash_)[None, :], np.arcsinh(scaled), scaled)

    def _own_scale(self, sequence: np.ndarray) -> np.ndarray:
        """(T, F) -> what the dataset scaler reads. scale "dataset": the sequence as it is. "sequence":
        (T, 3F): each channel z-normalised by its own mean and spread (as the UCR archive normalises its
        series), then two constant channels per channel, its mean in spreads and the log of its spread; a
        constant channel counts a spread of 1."""
        if self.scale_ != "sequence":
            return sequence
        spread, mean = sequence.std(axis=0), sequence.mean(axis=0)  # (F,)
        spread = np.where(spread > 0, spread, 1)
        magnitude = np.broadcast_to(np.concatenate([mean / spread, np.log(spread)]), (len(sequence), 2 * len(mean)))
        return np.concatenate([(sequence - mean) / spread, magnitude], axis=1)

    @property
    def inputs_(self) -> int:
        """Numeric models: the features a step the network reads (`_own_scale`'s width)."""
        return self.n_features_ * (3 if self.scale_ == "sequence" else 1)

    def _targets(self, data: LabelledSequences) -> Tensor:
        """Class indices (N,) int64; a DataError naming labels training never saw."""
        unseen = class_order(set(data.labels) - set(self.classes_))
        if unseen:
            raise DataError(f"{data.path}: labels never seen in training: {quote_labels(unseen)} "
                            f"(training had {quote_labels(self.classes_)})")  # fmt: skip
        return torch.tensor([self._index[label] for label in data.labels], dtype=torch.int64)

    def _build_net(self) -> ClassifierNet:
        """One network (one member of an ensemble), untrained."""
        return ClassifierNet(
            len(self.classes_), vocab_size=len(self.vocab_) if self.kind_ == "text" else None,
            n_features=None if self.kind_ == "text" else self.inputs_, embedding_dim=self.embedding_dim,
            hidden=self.hidden, layers=self.layers, variant=self.variant, dropout=self.dropout_,
            bidirectional=self.bidirectional_, pooling=self.pooling, arch=self.arch_, segment=self.segment_,
            fcn_stride=self.fcn_stride_, fcn_scales=tuple(self.fcn_scales_), first_block_pool=self.first_block_pool_,
        )  # fmt: skip

    def _loss(self, model: nn.Module, batch) -> Tensor:
        x, lengths, y = batch
        if model.training and self.augment_:
            x, lengths = augmented(x, lengths, self.augment_)
        logits = model(x, lengths).float()  # (B, K)
        weight = None if self.class_weights_ is None else torch.as_tensor(self.class_weights_, dtype=torch.float32, device=logits.device)
        return nn.functional.cross_entropy(logits, y, weight=weight)

    def _choose_mix(self, parts: dict) -> Optional[tuple[float, float]]:
        """tfidf_mix "auto": the powers (a, b) of the LSTM's and TF-IDF's class probabilities whose normalised
        product has the lowest log loss on the validation part, TF-IDF with logistic regression fitted on the
        training part alone for it (the model then mixes with `text_baseline_`, fitted on both parts, as the
        forecaster's network is trained again with its validation part). None where the LSTM alone, as it is,
        is as good (b 0), or there is no validation part.

        Why a product: the LSTM's probabilities are sharp, TF-IDF's soft (scikit-learn's regularised regression),
        so their mean follows the LSTM (a weight of the mean chosen so: 0.65-0.95 on the LSTM). Raised to powers,
        each is calibrated as well as weighed. Measured on benchmarks/text_quality.py's six sets (seed 0, the
        LSTM's probabilities computed once, the combinations scored on them; test accuracy, mean of the six at
        word and character level): the LSTM 0.741 and 0.775, TF-IDF 0.774 and 0.815, their mean with the weight
        chosen on validation 0.747 and 0.793, their equal product 0.773 and 0.803, each calibrated by a temperature
        and then averaged 0.791 and 0.825, this 0.796 and 0.826 (powers 0.2-0.7 on the LSTM, 1.1-2.3 on TF-IDF).
        Built in, over the benchmark's runs at seeds 0-2 (one thread each, the AVX-512 EPYC): the six sets' mean
        0.796, 0.793, 0.783 with words and 0.826, 0.823, 0.822 with characters, against TF-IDF's 0.774 and 0.815
        and the LSTM's own 0.741, 0.741, 0.733 and 0.775, 0.778, 0.771; above TF-IDF in 31 of the 36 cells, the
        others libraries' (a tie; 0.572, 0.567 against 0.575; 0.614 twice against 0.622). On the benchmark's
        packages set, added after this was chosen (seeds 0-2): characters 0.767, 0.756, 0.765 against TF-IDF's
        0.754, words 0.756, 0.750, 0.752 against 0.756, the LSTM alone 0.63-0.69."""
        if not len(parts["val"]):
            return None
        train, val = parts["train"], parts["val"]
        tfidf = TfidfLogisticRegression.fit(train.sequences, self._targets(train).numpy(), len(self.classes_),
                                            self.tfidf_ngrams_, self.lowercase)  # fmt: skip
        y = self._targets(val).numpy()
        lstm, other = floored_log(self._network_proba(self._encode(val))), floored_log(tfidf.proba(val.sequences))
        loss, a, b = min((-np.mean(log_softmax(a * lstm + b * other, axis=1)[np.arange(len(y)), y]), a, b)
                         for a in MIX_LSTM_POWERS for b in MIX_TFIDF_POWERS)  # fmt: skip
        return None if b == 0 else (float(a), float(b))

    def _mixed(self, proba: np.ndarray, texts) -> np.ndarray:
        """The model's class probabilities from the network's (N, K): with `mix_`, mixed (`mixed`) with TF-IDF's
        (`text_baseline_`) of `texts`."""
        if self.mix_ is None or texts is None or self.text_baseline_ is None:
            return proba
        return mixed(proba, self.text_baseline_.proba(list(texts)), self.mix_)

    # ---- predict and score ----------------------------------------------------------------------
    def _proba(self, encoded: list[Tensor], texts=None) -> np.ndarray:
        """The model's class probabilities (N, K): the network's (`_network_proba`), mixed with TF-IDF's where
        the model is (`mix_`; `texts`, a text model's texts in the order of `encoded`)."""
        return self._mixed(self._network_proba(encoded), texts)

    @torch.no_grad()
    def _network_proba(self, encoded: list[Tensor]) -> np.ndarray:
        """Class probabilities (N, K), in the order of `encoded`, computed in batches bucketed by length. A
        model trained on window slices (`augment_`) reads each sequence as a whole and as `slice_views` slices
        of it (`slice_views`), and its probabilities are their mean: test-time augmentation, as Le Guennec et
        al. (2016) vote over a test series' slices, so the network also sees what it was trained on."""
        self.model_.eval()
        views = [slice_views(x, self.views_) if self.views_ else [x] for x in encoded]
        flat = [view for group in views for view in group]
        batches = BucketedBatches(flat, None, PREDICT_BATCH)
        proba = np.empty((len(flat), len(self.classes_)))
        for index in batches.batch_indices(None):
            x, lengths = batches.collate(index)
            proba[index.numpy()] = torch.softmax(self.model_(x, lengths).double(), dim=-1).numpy()
        counts = np.array([len(group) for group in views])  # (N,) each sequence's views
        return np.add.reduceat(proba, np.cumsum(counts) - counts, axis=0) / counts[:, None]

    @property
    def views_(self) -> int:
        """The slices a prediction reads beside the whole: `slice_views` for a model trained on slices, else 0."""
        return self.slice_views if "slicing" in (self.augment_ or "") else 0

    @cached_property
    def text_baseline_(self) -> Optional[TfidfLogisticRegression]:
        """Texts: the TF-IDF baseline. `fit` sets it; a loaded model builds it from what was saved on first use
        (predicting and serving never need it)."""
        saved = getattr(self, "_text_baseline_saved", None)
        return None if saved is None else TfidfLogisticRegression.from_saved(*saved)

    def _score(self, data: LabelledSequences) -> dict:
        """The model and the majority class of the training part on every item of labelled `data`."""
        return self._score_encoded(self._targets(data).numpy(), self._encode(data), data)

    def _score_encoded(self, y: np.ndarray, encoded: list[Tensor], data: LabelledSequences) -> dict:
        """The metrics of the model and of the baselines on `data`, encoded: the majority class, and for texts,
        where the fit made it (runs saved before it was saved with them have none), TF-IDF with logistic
        regression."""
        network = self._network_proba(encoded)
        majority = majority_class_proba(np.repeat(np.arange(len(self.classes_)), self.train_counts_), len(self.classes_), len(y))
        baselines = {"majority_class": classification_metrics(y, majority, labels=self.classes_)}
        tfidf = None if self.text_baseline_ is None else self.text_baseline_.proba(data.sequences)  # read once: baseline and mix
        if tfidf is not None:
            baselines["tfidf_logistic_regression"] = classification_metrics(y, tfidf, labels=self.classes_)
        mixing = tfidf is not None and self.mix_ is not None
        proba = mixed(network, tfidf, self.mix_) if mixing else network
        return {"metrics": classification_metrics(y, proba, labels=self.classes_), "baselines": baselines,
                "lstm": classification_metrics(y, network, labels=self.classes_) if mixing else None,
                "y": y, "proba": proba, "n": len(y)}  # fmt: skip

    def predict_proba(self, data) -> np.ndarray:
        """(N, K) class probabilities, columns in the order of `classes_`. data: a file (labels optional),
        `LabelledSequences`, a list of texts (text models) or of arrays (T[, F]) (numeric models)."""
        data = self._read(data, labelled=False, part="test")
        return self._proba(self._encode(data), data.sequences if self.kind_ == "text" else None)

    def predict(self, data) -> pd.DataFrame:
        """One row a sequence: its id (a long-format CSV's, in the `id_col` column), the predicted `label`,
        then `p_<class>` for every class."""
        data = self._read(data, labelled=False, part="test")
        proba = self.predict_proba(data)
        frame = pd.DataFrame({"label": [self.classes_[k] for k in proba.argmax(axis=1)]})
        if data.ids is not None:
            frame.insert(0, self.id_col or data.id_name or "id", data.ids)
        for k, label in enumerate(self.classes_):
            frame[f"p_{label}"] = proba[:, k]
        return split_ids(frame, self.id_col) if self.id_col else frame

    def evaluate(self, data=None, y=None) -> dict:
        """Metrics and the majority-class baseline: on the test part (no argument), or on new labelled data (a
        file, or texts or arrays with their labels `y`)."""
        if data is None:
            return {"test": self.metrics_, "baselines": self.baselines_}
        data = data if y is None else self._in_memory(data, y)
        scored = self._score(self._read(data, labelled=True, part="test"))
        return {"test": scored["metrics"], "baselines": scored["baselines"], "n": scored["n"]}

    _estimator_type = "classifier"  # scikit-learn's `is_classifier` before 1.6 (stratified folds in its searches)

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags()
        tags.target_tags.required = True
        return tags

    def score(self, data, y=None) -> float:
        """The accuracy on labelled data (a file, or texts or arrays with their labels `y`): scikit-learn's
        classifier contract, which `cross_val_score` and `GridSearchCV` call."""
        return float(self.evaluate(data, y)["test"]["accuracy"])

    # ---- the gate inspector ---------------------------------------------------------------------
    @property
    def reads_text(self) -> bool:
        return self.kind_ == "text"

    def describe(self) -> str:
        return "text classifier" if self.kind_ == "text" else "classifier of numeric sequences"

    def gate_input(self, data, max_steps: Optional[int] = None) -> GateInput:
        """Text models: the text (a str, or a `pathlib.Path` to a text file), tokenised as the classifier
        tokenises, its first `max_len` tokens. Numeric models: the first sequence of a file the classifier
        reads, or one array (T,) or (T, F), scaled as in training."""
        return self._text_gate_input(data, max_steps) if self.kind_ == "text" else self._series_gate_input(data, max_steps)

    def _text_gate_input(self, data, max_steps) -> GateInput:
        text = read_text(data).strip()  # as the classifier reads a text
        text = text.lower() if self.lowercase else text
        tokens, offsets = tokens_with_offsets(text, self.level)
        what = unit(self.level)
        notes = [f"The classifier read these {what}."]
        limit = len(tokens) if self.max_len is None else min(len(tokens), self.max_len)
        if limit < len(tokens):
            notes.append(f"The classifier reads the first {self.max_len} of the {len(tokens)} {what} (--max-len).")
        if self.mix_ is not None:
            notes.append(f"Its prediction multiplies the LSTM's class probabilities (to the power {self.mix_[0]:g}) with "
                         f"TF-IDF with logistic regression's (to the power {self.mix_[1]:g}); the gates shown are the LSTM's.")
        shown = capped(limit, max_steps, notes, what)
        ids = torch.tensor(self.vocab_.encode(tokens[:shown]), dtype=torch.long)  # (T,)
        return GateInput((ids[None], torch.tensor([shown])), "text", tokens[:shown], text_upto(text, offsets, tokens, shown),
                         offsets[:shown], total_steps=len(tokens), notes=notes)  # fmt: skip

    def _series_gate_input(self, data, max_steps) -> GateInput:
        if isinstance(data, (str, Path)):
            sequences = self._read(data, labelled=False)
            where = f"the first of the {len(sequences)} sequences in {data}" if len(sequences) > 1 else f"the sequence in {data}"
        else:
            sequences, where = self._in_memory([data]), "the given sequence"
        first = sequences.subset([0])
        values = np.asarray(first.sequences[0], dtype=np.float64)  # (T, F)
        notes = [f"The classifier read {where}, scaled as in training."]
        if self.views_:
            notes.append(f"Trained on slices, it predicts from this whole sequence and {self.views_} windows of "
                         f"{SLICE_FRACTION:.0%} of it, their probabilities averaged; the gates shown are the whole's.")  # fmt: skip
        shown = capped(len(values), max_steps, notes, "steps")
        x = self._encode(first)[0][:shown]  # (T, F)
        columns = [f"x{k}" for k in range(values.shape[1])] if values.shape[1] > 1 else ["x"]
        values, total = values[:shown], len(values)
        if self.segment_ > 1:  # the LSTM branch steps through segments: show each segment's mean
            s = self.segment_
            values = np.stack([values[k : k + s].mean(axis=0) for k in range(0, shown, s)])  # (ceil(T/s), F)
            total = -(-total // s)
            notes.append(f"The network's LSTM branch reads {s} consecutive steps as one step; each step shown "
                         f"is one such segment, and its value the segment's mean.")  # fmt: skip
        return GateInput((x[None], torch.tensor([shown])), "series", values=values, columns=columns,
                         total_steps=total, notes=notes)  # fmt: skip

    # ---- export -----------------------------------------------------------------------------------
    def export_graph(self):
        """x (batch, time): token ids of the vocabulary (text, 0 past each text's end), or (batch, time,
        features): the scaled (and squashed) features (numeric, 0 past each sequence's end); lengths (batch,)
        -> logits and probabilities (batch, classes), in the order of `classes`. A model trained on window
        slices (`augment` holding "slicing") predicts the mean of the probabilities of each sequence's views:
        the whole, then `slice_views` (a setting; 0, the default: the whole alone) windows of ceil(0.9 T) steps
        starting at steps spread evenly from 0 to T - ceil(0.9 T), rounded (duplicates dropped), each read as a
        sequence of its own (`estimator.slice_views`). A text model whose `tfidf_mix` is [a, b] predicts the
        normalised product of these probabilities to the power a and those of its TF-IDF with logistic regression
        to the power b (`text_baseline`: its n-grams here, its weights in the run's model.safetensors); the graph
        holds the network alone."""
        from ...export.onnx import Graph
        from .net import Probabilities

        def sample(batch: int, steps: int) -> dict:
            lengths = torch.randint(1, steps + 1, (batch,))
            lengths[0] = steps
            real = step_mask(lengths, steps, "cpu")  # (B, T)
            if self.kind_ == "text":
                x = torch.randint(1, len(self.vocab_), (batch, steps)) * real
            else:
                x = torch.randn(batch, steps, self.inputs_) * real[:, :, None]
            return {"x": x, "lengths": lengths}

        axes = {0: "batch", 1: "time"}
        return Graph(Probabilities(self.model_), sample(2, 6), ["logits", "probabilities"],
                     {"x": axes, "lengths": {0: "batch"}}, sample)  # fmt: skip

    # ---- save and load --------------------------------------------------------------------------
    def _tensors(self) -> dict:
        """The network's weights, and the TF-IDF baseline's arrays (`with_baseline`), so a loaded text
        model scores new texts beside the baseline its training was scored beside."""
        baseline = self.text_baseline_
        return with_baseline(self.model_.state_dict(), {} if baseline is None else baseline.saved()[1])

    def _state(self) -> dict:
        baseline = self.text_baseline_
        return {
            "text_baseline": None if baseline is None else baseline.saved()[0],
            "kind": self.kind_, "classes": self.classes_,
            "vocab": None if self.vocab_ is None else self.vocab_.to_dict(),
            "scaler": None if self.scaler_ is None else self.scaler_.to_dict(),
            "n_features": getattr(self, "n_features_", None), "columns": self.columns_,
            "train_counts": self.train_counts_.tolist(),
            "class_weights": None if self.class_weights_ is None else self.class_weights_.tolist(),
            "best_epoch": self.best_epoch_, "arch": self.arch_, "segment": self.segment_, "fcn_stride": self.fcn_stride_,
            "fcn_scales": self.fcn_scales_, "first_block_pool": self.first_block_pool_, "schedule": self.schedule_, "augment": self.augment_, "scale": self.scale_, "squash": self.squash_,
            "dropout": self.dropout_, "bidirectional": self.bidirectional_, "pretrain": self.pretrain_,
            "tfidf_mix": self.mix_,  # a tuple: JSON writes it as a list
        }  # fmt: skip

    def _restore(self, state: dict, tensors: dict, directory: Path) -> None:
        self.kind_, self.classes_ = state["kind"], list(state["classes"])
        self._index = {label: k for k, label in enumerate(self.classes_)}
        self.vocab_ = None if state["vocab"] is None else Vocabulary.from_dict(state["vocab"])
        self.scaler_ = None if state["scaler"] is None else Scaler.from_dict(state["scaler"])
        self.n_features_, self.columns_ = state["n_features"], state.get("columns")  # runs saved before: None
        self.train_counts_ = np.asarray(state["train_counts"], dtype=np.int64)
        self.class_weights_ = None if state["class_weights"] is None else np.asarray(state["class_weights"])
        self.best_epoch_ = state["best_epoch"]
        # runs saved before the FCN archs: the plain LSTM, one member
        self.arch_, self.segment_ = state.get("arch", "lstm"), state.get("segment", 1)
        self.fcn_stride_ = state.get("fcn_stride", 1)  # runs saved before it: the FCN branch read every step
        self.fcn_scales_ = state.get("fcn_scales", [1])  # runs saved before it: one time scale
        self.first_block_pool_ = state.get("first_block_pool", "means")  # runs saved before it: window means
        self.schedule_, self.augment_ = state.get("schedule", "plateau"), state.get("augment")
        self.scale_ = state.get("scale", self.scale)
        # runs saved before they were resolved by the data: the settings' own values
        self.dropout_, self.bidirectional_ = state.get("dropout", self.dropout), state.get("bidirectional", self.bidirectional)
        self.pretrain_ = state.get("pretrain", 0)  # runs saved before it: none
        numeric_inputs = self.inputs_ if self.kind_ == "numeric" else 0
        self.squash_ = state.get("squash") or [False] * numeric_inputs  # runs saved before it: no squashing
        mix = state.get("tfidf_mix")  # runs saved before it: the LSTM alone
        self.mix_ = None if mix is None else (float(mix[0]), float(mix[1]))
        arrays = pop_baseline(tensors)
        baseline = state.get("text_baseline")  # runs saved before the baseline travelled with them: none
        self._text_baseline_saved = None if baseline is None else (baseline, arrays)  # built on first use
        self.tfidf_ngrams_ = None if baseline is None else baseline["level"]  # runs saved before: the LSTM's level
        members = [self._build_net() for _ in range(self.ensemble)]
        self.model_ = members[0] if len(members) == 1 else EnsembleNet(members)
        self.model_.load_state_dict(tensors)


def spread_scale(sequences: list[np.ndarray]) -> str:
    """scale "auto": "sequence" where, in some channel, the 90th percentile of the sequences' spreads is
    SPREAD_RANGE times the 10th or more (a scale shared by all would flatten most of them), else "dataset"."""
    spreads = np.stack([s.std(axis=0) for s in sequences])  # (N, F)
    low, high = np.percentile(spreads, [10, 90], axis=0)  # (F,)
    return "sequence" if np.any(high >= SPREAD_RANGE * np.maximum(low, np.finfo(np.float64).tiny)) else "dataset"


def shift_gain(sequences: list[np.ndarray], labels, pairs: int = SHIFT_PAIRS) -> float:
    """How far a class's series are from aligned in time: over `pairs` pairs of training sequences of one
    class (drawn with a fixed seed, a class as often as its sequences), the median of how much their
    correlation rises when one is shifted against the other by up to a quarter of their common length. Each
    pair is read over its common length, each channel z-normalised, the channels' correlations averaged.
    Near 0 where a class's series start at the same point of what they record (an outline traced from a fixed
    point, a day from midnight, a gesture from rest); large where each starts anywhere (a pulse recorded from
    any phase). 0 where no class has two sequences."""
    labels = np.asarray(labels)
    members = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}  # each class's sequences
    if max(map(len, members.values()), default=0) < 2:
        return 0.0
    rng, gains = np.random.default_rng(0), []
    while len(gains) < pairs:
        same = members[labels[rng.integers(len(labels))]]
        if len(same) < 2:
            continue
        i, j = rng.choice(same, 2, replace=False)
        steps = min(len(sequences[i]), len(sequences[j]))
        a, b = (zscored(np.asarray(sequences[k], dtype=np.float64).reshape(len(sequences[k]), -1)[:steps]) for k in (i, j))
        reach, size = steps // 4, 1 << (2 * steps).bit_length()  # padded past twice the length: no wrap-around
        products = np.fft.irfft(np.fft.rfft(a, size, axis=0) * np.conj(np.fft.rfft(b, size, axis=0)), size, axis=0)
        lags = np.r_[0 : reach + 1, -reach:0]  # a negative lag indexes from the end, where irfft puts it
        correlation = products.mean(axis=1)[lags] / (steps - np.abs(lags))
        gains.append(correlation.max() - correlation[0])
    return float(np.median(gains))


def zscored(x: np.ndarray) -> np.ndarray:
    """(T, F) -> each channel less its mean, over its spread (a constant channel: zeros)."""
    spread = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(spread > 0, spread, 1)


def floored_log(proba: np.ndarray) -> np.ndarray:
    """The log of probabilities, each at least EPS_PROBA first (TF-IDF gives 0 to a class its texts lack)."""
    return np.log(np.clip(proba, EPS_PROBA, None))


def mixed(network: np.ndarray, tfidf: np.ndarray, powers: tuple[float, float]) -> np.ndarray:
    """`tfidf_mix`: the normalised product of the network's class probabilities (N, K) to the power a and
    TF-IDF's (N, K) to the power b, `powers` (a, b)."""
    a, b = powers
    return softmax(a * floored_log(network) + b * floored_log(tfidf), axis=1)


def heavy_tailed(values: np.ndarray) -> np.ndarray:
    """squash "auto": (N, F) scaled values -> (F,) bool, True for the channels whose 0.1% or 99.9% quantile
    lies more than TAIL_RATIO interquartile ranges from the median (a normal distribution's lie 2.3 away).
    A channel with no interquartile range (constant, or mostly one value) is left as it is."""
    low, q1, median, q3, high = np.percentile(values, [0.1, 25, 50, 75, 99.9], axis=0)  # each (F,)
    iqr = q3 - q1
    reach = np.maximum(high - median, median - low)
    return (iqr > 0) & (reach > TAIL_RATIO * np.where(iqr > 0, iqr, 1))


def slice_views(sequence: Tensor, views: int) -> list[Tensor]:
    """A sequence (T, ...) as a model trained on window slicing reads it at prediction: the whole, then
    `views` windows of SLICE_FRACTION of it whose starts are spread evenly from its first step to the last
    a window can start at (the setting `slice_views`; 0, the default, leaves the whole alone).

    Measured on benchmarks/classify_quality.py's sets that `augment` "auto" slices, the default trained once per
    seed and scored each way, seeds 0-4 on a 2-core AVX-512 EPYC; accuracy from the whole alone -> the whole and
    three slices: PLAID 0.892, 0.911, 0.901, 0.909, 0.894 -> 0.896, 0.911, 0.907, 0.912, 0.903; OSULeaf 0.963,
    0.979, 0.988, 0.967, 0.971 -> 0.975, 0.983, 0.988, 0.971, 0.979; PigCVP 0.822, 0.832, 0.774, 0.808, 0.832 ->
    0.822, 0.832, 0.769, 0.812, 0.832; WatchExercises 0.857, 0.857, 0.905, 0.881, 0.881 -> 0.857, 0.881, 0.905,
    0.881, 0.881; SpokenDigits 0.993 -> 0.995 at seed 1, level at the others; BasicMotions and Trace 1.000 either
    way: 21 more test series right, net. With `augment` "slicing" given for aligned sets (seeds 0-1):
    ItalyPowerDemand 0.945, 0.936 -> 0.949, 0.946, GunPoint 0.993 -> 1.000 at seed 1, ArrowHead 0.874, 0.869 ->
    0.863, 0.874, UnitTest level. The slices alone, or 5 or 9 of them, were no better; nor were slices of 80% in
    training and prediction (seeds 0-1: PLAID 0.903 and 0.899, OSULeaf 0.975 and 0.979, WatchExercises 0.881 and
    0.857, and PigCVP, the one to gain, 0.841 at both). A prediction costs two to three times as much (the
    classifier's notes)."""
    length = len(sequence)
    kept = max(1, int(np.ceil(length * SLICE_FRACTION)))
    starts = np.unique(np.round(np.linspace(0, length - kept, views)).astype(int))
    return [sequence] + [sequence[start : start + kept] for start in starts]


def augmented(x: Tensor, lengths: Tensor, how: str) -> tuple[Tensor, Tensor]:
    """A training batch (B, T, F) perturbed as series augmentation does, and its lengths: "slicing" keeps a
    random window of SLICE_FRACTION of each sequence, moved to its start (Le Guennec et al. 2016; the
    networks pool over the steps, so the whole sequence is read at prediction); "warping" reads each
    sequence at a randomly varying speed (`warped`); "scaling" multiplies each sequence's channel by a factor
    around 1, "jitter" adds Gaussian noise to every real step (Um et al. 2017). The padding stays zero."""
    if "slicing" in how:
        kept = torch.clamp((lengths * SLICE_FRACTION).ceil().long(), min=1)  # (B,)
        start = (torch.rand(lengths.shape) * (lengths - kept + 1)).long()  # (B,) in [0, length - kept]
        steps = int(kept.max())
        index = (start[:, None] + torch.arange(steps)[None, :]).clamp(max=x.size(1) - 1)  # (B, steps)
        x = torch.gather(x, 1, index.to(x.device)[:, :, None].expand(-1, -1, x.size(2)))
        x, lengths = x * step_mask(kept, steps, x.device)[:, :, None], kept
    if "warping" in how:
        x = warped(x, lengths)
    if "scaling" in how:
        x = x * (1 + SCALING_STD * torch.randn(x.size(0), 1, x.size(2), device=x.device, dtype=x.dtype))  # (B, 1, F)
    if "jitter" in how:
        x = x + JITTER_STD * torch.randn_like(x) * step_mask(lengths, x.size(1), x.device)[:, :, None]
    return x, lengths


def warped(x: Tensor, lengths: Tensor) -> Tensor:
    """Time warping (Um et al. 2017): each sequence of (B, T, F) read at a speed that varies smoothly around 1,
    its first and last steps kept in place and its length unchanged. The speed is interpolated linearly
    between WARP_KNOTS + 2 points spread evenly over the sequence, each drawn from N(1, WARP_STD) (at least
    0.1); the values between steps are interpolated linearly. The padding stays zero."""
    batch, steps, _ = x.shape
    lengths = lengths.to(x.device)
    last = (lengths - 1).clamp(min=0)[:, None]  # (B, 1): the last real step
    knots = (1 + WARP_STD * torch.randn(batch, WARP_KNOTS + 2, device=x.device)).clamp(min=0.1)
    at = torch.arange(steps, device=x.device, dtype=torch.float32)[None, :]  # (1, T)
    place = (at / last.clamp(min=1)).clamp(max=1) * (WARP_KNOTS + 1)  # (B, T): where each step lies among the knots
    left = place.floor().long().clamp(max=WARP_KNOTS)
    share = place - left
    speed = torch.gather(knots, 1, left) * (1 - share) + torch.gather(knots, 1, left + 1) * share
    real = step_mask(lengths, steps, x.device)
    read = torch.cumsum(speed * real, 1) - speed[:, :1]  # (B, T): the place each step reads, before rescaling
    end = torch.gather(read, 1, last).clamp(min=1e-6)
    read = torch.minimum(read / end * last, last.float())  # the first step reads step 0, the last step the last
    below = read.floor().long()
    above = torch.minimum(below + 1, last)
    weight = (read - below)[:, :, None].to(x.dtype)
    index = torch.stack([below, above])[:, :, :, None].expand(-1, -1, -1, x.size(2))  # (2, B, T, F)
    lower, upper = torch.gather(x, 1, index[0]), torch.gather(x, 1, index[1])
    return (lower * (1 - weight) + upper * weight) * real[:, :, None]
