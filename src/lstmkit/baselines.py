"""Honest baselines, scored on the very windows the model is scored on, so a summary can say whether the
LSTM earned its cost.

Forecasting: the naive forecast (repeat the last value) and the seasonal naive forecast (repeat the last
season). Classification: the majority class, as class probabilities; for texts also TF-IDF with logistic
regression. Language models: the unigram model, and the n-gram model with interpolated Kneser-Ney smoothing.
Anomaly detection: the rolling z-score rule. Sequence to sequence: copying the source, and retrieval (the
target of the most similar training source).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .data.text import PAD_ID
from .errors import DataError
from .metrics import HIGHER_IS_BETTER, forecast_metrics

SCALE_FLOOR = 1e-3  # smallest rolling std, in training standard deviations: no division by ~0
# Two values of a metric this close, relative to the larger, are a tie and not a win: for a MASE near 1 that
# is the third decimal the verdict shows, and a model that reproduces a baseline lands within it by noise.
TIE_TOLERANCE = 1e-3


def _history(history) -> np.ndarray:
    past = np.asarray(history, dtype=np.float64)
    if past.ndim != 2 or past.shape[1] == 0:
        raise DataError(
            f"history must be past target values of shape (W, L) = (windows, steps), got shape {past.shape}"
        )
    return past


def naive_forecast(history, horizon: int) -> np.ndarray:
    """Repeat each window's last value: history (W, L) -> forecast (W, horizon)."""
    past = _history(history)
    return np.repeat(past[:, -1:], horizon, axis=1)


def seasonal_naive_forecast(history, horizon: int, season: int) -> np.ndarray:
    """Repeat each window's last season: history (W, L) -> forecast (W, horizon).

    y_hat[:, h - 1] = history[:, L - season + (h - 1) % season] for h = 1..horizon, the value one season
    before (or a whole number of seasons before, past the first season). Needs L >= season: pass a history
    of max(lookback, season) steps when the model's lookback is shorter than a season.
    """
    past = _history(history)
    steps = past.shape[1]
    if not 1 <= season <= steps:
        raise DataError(
            f"the seasonal naive forecast with season={season} needs at least {season} past steps per window, "
            f"got {steps}; pass a history of max(lookback, season) steps"
        )
    return past[:, steps - season + np.arange(horizon) % season]


def forecast_baselines(history, y_true, *, y_train, season: int) -> dict[str, dict[str, float | None]]:
    """forecast_metrics of each baseline on the windows y_true (W, horizon), forecast from history (W, L).

    Keys: "naive", and "seasonal_naive" when season > 1 (with season 1 it is the naive forecast again, so
    it is left out rather than reported twice). y_train (T,) and season are those of MASE.
    """
    true = np.asarray(y_true, dtype=np.float64)
    if true.ndim != 2 or true.shape[0] != len(history):
        raise DataError(f"y_true must be (W, horizon) with one row per history window, got shape {true.shape}")
    horizon = true.shape[1]
    forecasts = {"naive": naive_forecast(history, horizon)}
    if season > 1:
        forecasts["seasonal_naive"] = seasonal_naive_forecast(history, horizon, season)
    return {name: forecast_metrics(true, y_hat, y_train=y_train, season=season) for name, y_hat in forecasts.items()}


def ties(a: float, b: float, tolerance: float = TIE_TOLERANCE) -> bool:
    """Whether two values of one metric are a tie: |a - b| <= tolerance * max(|a|, |b|) (two zeros tie)."""
    return abs(a - b) <= tolerance * max(abs(a), abs(b))


def decimals_apart(value: float, others, least: int = 3, most: int = 6) -> int:
    """The fewest decimals, from `least` to `most`, at which `value` reads differently from each of `others`
    that it does not tie (`ties`): a verdict that calls 0.2608 a win over 0.2615 must not print both as 0.261."""
    for decimals in range(least, most):
        if all(f"{value:.{decimals}f}" != f"{other:.{decimals}f}" for other in others if not ties(value, other)):
            return decimals
    return most


def beats_baseline(model_metrics: dict, baselines: dict[str, dict], metric: str = "mase") -> dict[str, bool | None]:
    """Whether the model's `metric` is better than each baseline's by more than a tie: {baseline name: True/False}.

    Better is lower for errors and losses, higher for the scores in HIGHER_IS_BETTER; values within
    TIE_TOLERANCE of each other (`ties`) are a tie, and a tie is not a win. None for a baseline where either
    value is None (the metric is undefined there, e.g. MASE with a constant training series: compare on
    "mae" instead).
    """
    sign = -1 if metric in HIGHER_IS_BETTER else 1
    model_value = model_metrics[metric]

    def beats(baseline_value) -> bool | None:
        if model_value is None or baseline_value is None:
            return None
        return bool(sign * model_value < sign * baseline_value) and not ties(model_value, baseline_value)

    return {name: beats(scores[metric]) for name, scores in baselines.items()}


def majority_class_proba(y_train, n_classes: int, n: int) -> np.ndarray:
    """The training class frequencies as probabilities for n samples: (n, K).

    Its argmax is the majority class, so its accuracy is the majority-class accuracy, and its log loss is
    that of the best constant forecast. A class absent from y_train gets probability 0.
    """
    classes = np.asarray(y_train)
    if classes.ndim != 1 or len(classes) == 0 or not np.all(np.isin(classes, np.arange(n_classes))):
        raise DataError(f"y_train must be a non-empty (N,) array of class indices 0..{n_classes - 1}")
    frequencies = np.bincount(classes.astype(np.int64), minlength=n_classes) / len(classes)  # (K,)
    return np.tile(frequencies, (n, 1))


# the n-grams of the TF-IDF baseline, by the classifier's token level: words and pairs of them, or the
# character 1- to 4-grams inside each word (language, spelling and morphology)
TFIDF_NGRAMS = {"word": ("word", (1, 2)), "char": ("char_wb", (1, 4))}
# at most this many n-grams, the most frequent: the fitted baseline is saved with the run (a weight per n-gram and
# class), so a corpus of a million texts (millions of word pairs) must not make the run gigabytes. The corpora of
# benchmarks/text_quality.py hold 17k-69k.
TFIDF_MAX_FEATURES = 200_000


def _tfidf_vectorizer(level: str, lowercase: bool, vocabulary=None):
    """scikit-learn's TF-IDF of the n-grams `TFIDF_NGRAMS` gives `level`, with sublinear term frequencies: of the
    `vocabulary` given, else of the TFIDF_MAX_FEATURES most frequent n-grams of the texts it is fitted on."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer, ngram_range = TFIDF_NGRAMS[level]
    words = {"token_pattern": r"(?u)\b\w+\b"} if analyzer == "word" else {}  # words of one letter too
    return TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, lowercase=lowercase, sublinear_tf=True,
                           vocabulary=vocabulary, max_features=None if vocabulary else TFIDF_MAX_FEATURES, **words)  # fmt: skip


class TfidfLogisticRegression:
    """The first baseline of text classification: TF-IDF of n-grams (`TFIDF_NGRAMS` by `level`, sublinear term
    frequencies) and multinomial logistic regression, both scikit-learn's with their defaults (`fit`).

    What it learnt is kept as plain values, so it travels with a saved run (`saved`, `from_saved`): the n-grams
    in column order, their inverse document frequencies, and the regression's weights and intercepts; a
    loaded model scores new texts beside the very baseline its training was reported with."""

    def __init__(self, level: str, lowercase: bool, ngrams: list[str], idf: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray, seen: np.ndarray, n_classes: int):  # fmt: skip
        self.level, self.lowercase, self.ngrams, self.n_classes = level, bool(lowercase), list(ngrams), int(n_classes)
        self.vectorizer = _tfidf_vectorizer(level, self.lowercase, vocabulary={g: j for j, g in enumerate(self.ngrams)})
        self.vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
        self._analyze, self._index = self.vectorizer.build_analyzer(), self.vectorizer.vocabulary
        self.coef = np.asarray(coef, dtype=np.float64)  # (K', F): one row per seen class; one row for two classes
        self.intercept = np.asarray(intercept, dtype=np.float64)  # (K',)
        self.seen = np.asarray(seen, dtype=np.int64)  # (K',) the class indices the training texts held

    @classmethod
    def fit(cls, texts: list[str], y_train, n_classes: int, level: str = "word", lowercase: bool = True):
        """Fitted on the training texts and their class indices y_train (N,)."""
        from sklearn.linear_model import LogisticRegression

        vectorizer = _tfidf_vectorizer(level, lowercase)
        features = vectorizer.fit_transform(list(texts))
        regression = LogisticRegression(max_iter=1000).fit(features, np.asarray(y_train))
        return cls(level, lowercase, vectorizer.get_feature_names_out().tolist(), vectorizer.idf_, regression.coef_,
                   regression.intercept_, regression.classes_, n_classes)  # fmt: skip

    def proba(self, texts: list[str]) -> np.ndarray:
        """(M, K) class probabilities, 0 for a class absent from the training texts: as scikit-learn's
        `predict_proba` gives them (the logistic function for two classes, the softmax for more)."""
        scores = self._scores(texts)  # (M, K')
        if len(self.seen) == 2:
            positive = 1 / (1 + np.exp(-scores[:, 0]))
            chosen = np.stack([1 - positive, positive], axis=1)
        else:
            chosen = np.exp(scores - scores.max(axis=1, keepdims=True))
            chosen /= chosen.sum(axis=1, keepdims=True)
        out = np.zeros((len(scores), self.n_classes))
        out[:, self.seen] = chosen
        return out

    def _scores(self, texts: list[str]) -> np.ndarray:
        """(M, K') the regression's scores of the texts' TF-IDF rows, each computed as the fitted vectorizer
        computes it (the n-grams its analyzer finds, 1 + log of each one's count, times its idf, over the
        row's Euclidean length) without the sparse matrix: its `transform` spends a millisecond a call on
        checking its input, 20 times a one-line text's own cost, which a served text pays."""
        scores = np.tile(self.intercept, (len(texts), 1))
        idf = self.vectorizer.idf_
        for row, text in enumerate(texts):
            counts: dict[int, int] = {}
            for gram in self._analyze(text):
                column = self._index.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if counts:
                columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
                weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[columns]
                scores[row] += self.coef[:, columns] @ (weights / np.sqrt(np.dot(weights, weights)))
        return scores

    def saved(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What `from_saved` reads: JSON values, and arrays by name."""
        state = {"level": self.level, "lowercase": self.lowercase, "ngrams": self.ngrams, "n_classes": self.n_classes}
        return state, {"idf": self.vectorizer.idf_, "coef": self.coef, "intercept": self.intercept, "seen": self.seen}

    @classmethod
    def from_saved(cls, state: dict, arrays: dict) -> "TfidfLogisticRegression":
        return cls(state["level"], state["lowercase"], state["ngrams"], arrays["idf"], arrays["coef"],
                   arrays["intercept"], arrays["seen"], state["n_classes"])  # fmt: skip


def unigram_loss(counts: np.ndarray, target_ids: np.ndarray) -> float:
    """Mean cross-entropy (nats per token) of `target_ids` under the unigram model of the training counts
    (V,): p(w) = (count(w) + 1) / (N_train + V - 1) for every token w of the vocabulary but <pad>
    (add-one smoothing; <unk> counts as a token like any other)."""
    counts = np.asarray(counts, dtype=np.float64)
    log_p = np.log(counts + 1) - np.log(counts.sum() - counts[PAD_ID] + len(counts) - 1)  # (V,)
    return float(-log_p[np.asarray(target_ids, dtype=np.int64)].mean())


KN_DISCOUNT = 0.75  # Kneser-Ney's absolute discount, as Chen & Goodman (1999) found best for one discount
KN_ORDERS = {"char": 5, "word": 3}  # the n-gram model's order by token level


class KneserNey:
    """The n-gram language model of the field's baselines: interpolated Kneser-Ney (Chen & Goodman 1999),
    one discount D. Fitted on a training stream of token ids (N,) over a vocabulary of V tokens.

        P_n(w | h) = max(c(h w) - D, 0) / c(h) + D * N1+(h .) / c(h) * P_{n-1}(w | h'),  h' = h without its first token

    where c counts n-grams at the highest order and continuation counts (the number of distinct tokens seen
    before the n-gram) at lower ones, N1+(h .) is the number of distinct tokens seen after h, and a history
    never seen leaves the word to the lower order. The lowest order interpolates the unigram continuation
    counts with the uniform 1/V, so every token of the vocabulary has a probability, and for any history the
    probabilities over the vocabulary sum to 1."""

    def __init__(self, train_ids, vocab_size: int, order: int, discount: float = KN_DISCOUNT):
        ids = np.asarray(train_ids, dtype=np.int64)
        self.V, self.D = int(vocab_size), float(discount)
        # what it was fitted on, all it needs to be fitted again (`saved`): 2 bytes a token for a vocabulary of up
        # to 65,536, else 4
        self.train_ids = ids.astype(np.uint16 if self.V <= 2**16 else np.int32)
        self.order = max(1, min(int(order), len(ids), int(62 // max(1.0, np.log2(max(self.V, 2))))))  # keys fit int64
        self.tables = {}  # k -> (sorted n-gram keys, their counts), k = 1..order: raw at `order`, continuation below
        distinct, counts = np.unique(self._keys(ids, self.order), return_counts=True)
        self.tables[self.order] = (distinct, counts)
        for k in range(self.order - 1, 0, -1):  # continuation: the distinct (k+1)-grams, their first token dropped
            self.tables[k] = np.unique(distinct % self.V**k, return_counts=True)
            distinct = np.unique(self._keys(ids, k)) if k > 1 else None  # the next level's distinct (k+1)-grams
        self.histories = {}  # k -> (sorted history keys, total count after each, distinct tokens after each)
        for k in range(2, self.order + 1):
            keys, counts = self.tables[k]
            history, first = np.unique(keys // self.V, return_index=True)
            totals = np.add.reduceat(counts, first)
            self.histories[k] = (history, totals, np.diff(np.append(first, len(keys))))

    def saved(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What `from_saved` reads: JSON values, and the training stream, from which it is fitted again: 0.1 s
        for 400k characters, where its tables would take several times the stream's bytes."""
        return {"vocab_size": self.V, "order": self.order, "discount": self.D}, {"train_ids": self.train_ids}

    @classmethod
    def from_saved(cls, state: dict, arrays: dict) -> "KneserNey":
        return cls(arrays["train_ids"], state["vocab_size"], state["order"], state["discount"])

    def _keys(self, ids: np.ndarray, k: int) -> np.ndarray:
        """The key of each k-gram of the stream, sum_j ids[i + j] V^(k-1-j): (N - k + 1,)."""
        keys = np.zeros(max(len(ids) - k + 1, 0), dtype=np.int64)
        for j in range(k):
            keys = keys * self.V + ids[j : len(ids) - k + 1 + j]
        return keys

    def _lookup(self, table: tuple, keys: np.ndarray) -> np.ndarray:
        """The value of each key in a (sorted keys, values...) table, 0 where the key is absent: for every
        value array of the table."""
        sorted_keys, *values = table
        at = np.clip(np.searchsorted(sorted_keys, keys), 0, max(len(sorted_keys) - 1, 0))
        found = (sorted_keys[at] == keys) if len(sorted_keys) else np.zeros(len(keys), dtype=bool)
        return [np.where(found, v[at], 0) if len(v) else np.zeros(len(keys), dtype=np.int64) for v in values]

    def probabilities(self, histories: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """P(target | history) for each row: histories (M, order - 1) of token ids, -1 where the history is
        shorter (the text's start); targets (M,). Returns (M,) float64."""
        h = np.asarray(histories, dtype=np.int64).reshape(len(targets), -1)
        h = h[:, h.shape[1] - (self.order - 1) :]  # (M, order - 1): the tokens this model reads
        w = np.asarray(targets, dtype=np.int64)
        count, = self._lookup(self.tables[1], w)
        total, seen = self.tables[1][1].sum(), len(self.tables[1][0])
        p = (np.maximum(count - self.D, 0) + self.D * seen / self.V) / total if total else np.full(len(w), 1 / self.V)
        for k in range(2, self.order + 1):
            context = h[:, h.shape[1] - (k - 1) :]  # (M, k - 1): the last k - 1 tokens
            known = (context >= 0).all(axis=1)
            key = np.zeros(len(w), dtype=np.int64)
            for j in range(k - 1):
                key = key * self.V + np.maximum(context[:, j], 0)
            c_hw, = self._lookup(self.tables[k], key * self.V + w)
            c_h, distinct = self._lookup(self.histories[k], key)
            use = known & (c_h > 0)
            mixed = (np.maximum(c_hw - self.D, 0) + self.D * distinct * p) / np.maximum(c_h, 1)
            p = np.where(use, mixed, p)
        return p

    def token_probabilities(self, ids) -> np.ndarray:
        """P of every token of `ids` (N,) but the first, each read after the tokens before it in `ids` (as many
        as the order allows): (N - 1,)."""
        ids = np.asarray(ids, dtype=np.int64)
        n = self.order - 1
        padded = np.concatenate([np.full(n, -1), ids])
        histories = np.stack([padded[j : j + len(ids)] for j in range(n)], axis=1) if n else np.zeros((len(ids), 0), np.int64)
        return self.probabilities(histories[1:], ids[1:])

    def loss(self, ids) -> float:
        """Mean cross-entropy (nats per token) of every token of `ids` (N,) but the first (`token_probabilities`)."""
        return float(-np.log(self.token_probabilities(ids)).mean())

    def next_probabilities(self, history) -> np.ndarray:
        """P of each of the V tokens coming after the token ids `history` (its last order - 1 are read): (V,)."""
        last = list(history[max(0, len(history) - (self.order - 1)) :])  # the tail alone: `history` may be long
        context = np.array([-1] * (self.order - 1 - len(last)) + last, dtype=np.int64)
        return self.probabilities(np.tile(context, (self.V, 1)), np.arange(self.V))


def combine_columns(z: np.ndarray) -> np.ndarray:
    """(..., F) per-column anomaly scores -> (...,) their root mean square: |z| for one column."""
    return np.sqrt(np.mean(np.square(z), axis=-1))


def rolling_zscore(values: np.ndarray, window: int, floor: float = SCALE_FLOOR) -> np.ndarray:
    """The anomaly baseline's score: for step t >= window, per column |x[t] - mean| / std over the `window`
    steps before t (population std, at least `floor`), combined over columns by `combine_columns`; NaN
    before. values (N, F) or (N,) -> (N,)."""
    x = np.asarray(values, dtype=np.float64).reshape(len(values), -1)  # (N, F)
    scores = np.full(len(x), np.nan)
    if len(x) <= window:
        return scores
    past = sliding_window_view(x[:-1], window, axis=0)  # (N - window, F, window): the steps before t = window..N-1
    z = np.abs(x[window:] - past.mean(axis=-1)) / np.maximum(past.std(axis=-1), floor)  # (N - window, F)
    scores[window:] = combine_columns(z)
    return scores


def copy_outputs(sources: list[str]) -> list[str]:
    """The copy baseline of sequence to sequence: each output is its source, unchanged."""
    return list(sources)


def retrieval_outputs(train_sources: list[str], train_targets: list[str], sources: list[str]) -> list[str]:
    """The retrieval baseline of sequence to sequence: for each source, the target of the training source
    most similar to it by TF-IDF cosine over word 1- and 2-grams and character 2- to 4-grams (scikit-learn),
    the first such training pair on a tie. Strong on small corpora with many near-repeats (software
    messages, phrasebooks, FAQs)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizers = [TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b"),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)]  # fmt: skip
    train = hstack([v.fit_transform(train_sources) for v in vectorizers]).tocsr()
    query = hstack([v.transform(sources) for v in vectorizers]).tocsr()
    best = []
    for start in range(0, query.shape[0], 512):  # (512, N_train) similarities at a time
        similarity = (query[start : start + 512] @ train.T).toarray()
        best.extend(similarity.argmax(axis=1).tolist())
    return [train_targets[i] for i in best]
