"""The metrics every job reports: thin over scikit-learn's, plus the forecasting ones it lacks.

Every function takes array-likes and returns plain Python values (float, int, list, dict, or None where a
metric is undefined), so a result goes into `metrics.json` as it is: JSON has no NaN, and None says plainly
"not defined here".

Forecasting metrics compare y_true and y_pred of the same shape, any shape: (W, horizon) windows of a
multi-step forecast are averaged over all W * horizon values. They are numpy alone, the same numbers as
scikit-learn's `mean_squared_error` and `mean_absolute_error` to the last bit (tests/test_metrics.py):
scikit-learn takes a second to import, which a forecast's `train` and `predict` would pay for two means. The
classification metrics import scikit-learn on first use.
"""

import math
from statistics import NormalDist

import numpy as np

from .decompose import autocorrelation
from .errors import DataError

# scores where more is better; every other metric is an error or a loss, where less is
HIGHER_IS_BETTER = frozenset({"accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "r2", "bleu",
                              "chrf", "exact_match"})  # fmt: skip

# ---------------------------------------------------------------------------------------------- forecasting


def _finite(name: str, values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} contains NaN or infinite values; metrics need finite numbers")
    return array


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Both as flat float64 arrays (N,), after checking they have the same shape."""
    true, pred = _finite("y_true", y_true), _finite("y_pred", y_pred)
    if true.shape != pred.shape:
        raise DataError(f"y_true and y_pred must have the same shape, got {true.shape} and {pred.shape}")
    if true.size == 0:
        raise DataError("y_true and y_pred are empty; metrics need at least one value")
    return true.ravel(), pred.ravel()


def mse(y_true, y_pred) -> float:
    """Mean squared error over all elements."""
    true, pred = _pair(y_true, y_pred)
    return float(np.mean((true - pred) ** 2))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error over all elements, in the units of y."""
    return math.sqrt(mse(y_true, y_pred))


def mae(y_true, y_pred) -> float:
    """Mean absolute error over all elements, in the units of y."""
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(true - pred)))


def mape(y_true, y_pred) -> float | None:
    """Mean absolute percentage error, in percent: mean of 100 * |y - y_hat| / |y|.

    Elements where y_true == 0 have no percentage error and are left out of the mean; None when every
    y_true is 0. (scikit-learn's version divides by a machine epsilon there instead, which turns one zero
    into an error of ~1e17 %.) Values near zero still inflate MAPE: read sMAPE and MASE beside it.
    """
    true, pred = _pair(y_true, y_pred)
    nonzero = true != 0
    if not nonzero.any():
        return None
    return float(100 * np.mean(np.abs(true[nonzero] - pred[nonzero]) / np.abs(true[nonzero])))


def smape(y_true, y_pred) -> float:
    """Symmetric MAPE, in percent (0..200): mean of 200 * |y - y_hat| / (|y| + |y_hat|), with 0/0 := 0."""
    true, pred = _pair(y_true, y_pred)
    denominator = np.abs(true) + np.abs(pred)
    ratio = np.divide(np.abs(true - pred), denominator, out=np.zeros_like(true), where=denominator > 0)
    return float(200 * np.mean(ratio))


def seasonal_naive_scale(y_train, season: int = 1) -> float:
    """In-sample MAE of the seasonal naive forecast y_hat[t] = y[t - season] on the training series (T,)."""
    series = _finite("y_train", y_train)
    if series.ndim != 1:
        raise DataError(f"y_train must be one training series of shape (T,), got shape {series.shape}")
    if season < 1 or len(series) <= season:
        raise DataError(
            f"MASE with season={season} needs a training series longer than the season, got {len(series)} values"
        )
    return float(np.mean(np.abs(series[season:] - series[:-season])))


def mase(y_true, y_pred, *, y_train, season: int = 1) -> float | None:
    """Mean absolute scaled error (Hyndman & Koehler 2006): MAE / in-sample MAE of the seasonal naive forecast.

    y_train (T,) is the training part of the target series; season=1 scales by the naive forecast.
    Below 1 the forecast beats the in-sample seasonal naive one. None when the scale is 0 (a training
    series that the seasonal naive forecast fits exactly, e.g. a constant one).
    """
    scale = seasonal_naive_scale(y_train, season)
    return mae(y_true, y_pred) / scale if scale > 0 else None


def rmsse(y_true, y_pred, *, y_train) -> float | None:
    """Root mean squared scaled error (the M5 competition's): sqrt(MSE / the in-sample MSE of the naive forecast
    y_hat[t] = y[t - 1] on the training series (T,)). A squared error is least at the mean, where an absolute
    one is least at the median: of intermittent demand (sales on a day in three) the median is zero, so MAE and
    MASE rank a forecast of no sales first, and M5 scored by RMSSE instead. None when the scale is 0 (a
    constant training series)."""
    series = _finite("y_train", y_train)
    if series.ndim != 1 or len(series) < 2:
        raise DataError(f"RMSSE needs a training series (T,) of at least 2 values, got shape {series.shape}")
    scale = float(np.mean(np.diff(series) ** 2))
    return float(np.sqrt(mse(y_true, y_pred) / scale)) if scale > 0 else None


def forecast_metrics(y_true, y_pred, *, y_train, season: int) -> dict[str, float | None]:
    """All forecasting metrics of the SPEC, keyed mse, rmse, mae, mape, smape, mase, and M5's rmsse.

    y_true, y_pred: (W, horizon) or any equal shapes; y_train: (T,) training target series for MASE.
    """
    return {
        "mse": mse(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "mae": mae(y_true, y_pred),
        "mape": mape(y_true, y_pred),
        "smape": smape(y_true, y_pred),
        "mase": mase(y_true, y_pred, y_train=y_train, season=season),
        "rmsse": rmsse(y_true, y_pred, y_train=y_train),
    }


def owa(smape: float | None, mase: float | None, smape_naive2: float | None, mase_naive2: float | None) -> float | None:
    """M4's Overall Weighted Average: 0.5 * (sMAPE / sMAPE_naive2 + MASE / MASE_naive2).

    Each score relative to Naive2's on the same windows (`lstmkit.statistical`); below 1 beats Naive2.
    None when any value is None (MASE undefined) or a Naive2 denominator is 0.
    """
    values = (smape, mase, smape_naive2, mase_naive2)
    if any(value is None for value in values) or smape_naive2 == 0 or mase_naive2 == 0:
        return None
    return float(0.5 * (smape / smape_naive2 + mase / mase_naive2))


# ---------------------------------------------------------------------------------------------- seasonality


def detect_season(y, max_period: int | None = None, alpha: float = 0.05) -> int:
    """The seasonal period of a series y (T,) from its autocorrelation; 1 when it has none.

    1. Detrend with the central difference d[t] = y[t+1] - y[t-1]. Like the first difference it removes
       trends and random-walk levels; unlike it, it does not amplify step-to-step noise, which otherwise
       drowns slow seasons (24 and up) in the ACF. Its blind spot is period 2 (y alternating every step),
       which it cancels: the shortest period found is 3.
    2. Compute the ACF r[k] of d, and score each lag k by comb[k] = (r[k] + r[2k]) / 2: a true season
       repeats at twice its lag, a neighbouring lag drifts out of phase there, so the comb pins the exact
       period where the ACF alone is flat at its top.
    3. A lag 3 <= k <= max_period (default T // 4, at most 400: four seasons in the series) is a candidate
       when comb[k] is a local maximum, the ACF has dipped below zero before k (a seasonal ACF oscillates;
       a decaying one does not), and comb[k] exceeds both 0.1 and the significance bound z * sqrt(1.5 / n):
       Bartlett's standard error of r[k] for the differenced series of white noise or of a random walk
       (both give 1 + 2 * 0.5^2 = 1.5), with z Bonferroni-corrected at level alpha over all lags tested.
    4. Harmonics 2p, 3p... of a season p score almost as high as p and noise can lift one above it, so the
       answer is the shortest candidate scoring at least 90% of the best one; or, where the top of a long
       season's peak is broad enough to hold several local maxima (a weekly series' year of 52.18 weeks
       shows 49, 52 and 53), the highest scoring of them within 10% of it.
    """
    series = _finite("y", y)
    if series.ndim != 1:
        raise DataError(f"detect_season expects one series of shape (T,), got shape {series.shape}")
    detrended = series[2:] - series[:-2]  # (n,) = (T - 2,)
    n = len(detrended)
    max_period = min(min(len(series) // 4, 400) if max_period is None else max_period, (n - 3) // 2)
    r = autocorrelation(detrended, 2 * max_period + 2) if max_period >= 3 else None  # (2 * max_period + 3,)
    if r is None:
        return 1
    comb = np.zeros(max_period + 2)  # comb[k] for k = 0..max_period + 1; comb[0] unused
    comb[1:] = (r[1 : max_period + 2] + r[2 : 2 * max_period + 3 : 2]) / 2
    lags = np.arange(3, max_period + 1)
    local_max = (comb[lags] > comb[lags - 1]) & (comb[lags] >= comb[lags + 1])
    dipped = np.minimum.accumulate(r[1:])[lags - 2] < 0  # min(r[1..k-1]) < 0
    z = NormalDist().inv_cdf(1 - alpha / (2 * len(lags)))
    candidates = lags[local_max & dipped & (comb[lags] > max(0.1, z * math.sqrt(1.5 / n)))]
    if len(candidates) == 0:
        return 1
    strong = candidates[comb[candidates] >= 0.9 * comb[candidates].max()]
    same_peak = strong[strong <= 1.1 * strong[0]]  # the shortest one's neighbours, not its harmonics
    season = int(same_peak[np.argmax(comb[same_peak])])
    return _fundamental(season, r, comb[season])


def _fundamental(season: int, r: np.ndarray, score: float) -> int:
    """The period of which `season` is a harmonic, where that period falls between two lags.

    A cycle of 9.6 steps (the lynx's) splits its ACF peak between lags 9 and 10, so neither one's comb
    comes near that of 19, the first multiple close to a whole lag. Where the ACF read between lags (linearly)
    at season / m, m = 3 or 2, not itself a lag, gives a comb (r(p) + r(2p)) / 2 of at least 90% of
    `score`, the answer is the lag beside season / m with the higher ACF. A season of whole steps is
    left as it is: its harmonics are lags, weighed by the comb already.
    """
    lags = np.arange(len(r))
    for m in (3, 2):
        period = season / m
        if period < 3 or season % m == 0:
            continue
        between = (np.interp(period, lags, r) + np.interp(2 * period, lags, r)) / 2
        if between >= 0.9 * score:
            low = math.floor(period)
            return low if r[low] >= r[low + 1] else low + 1
    return season


# ------------------------------------------------------------------------------------------ classification


def _classification_inputs(y_true, proba, labels) -> tuple[np.ndarray, np.ndarray]:
    """y_true as int class indices (N,) and proba as float64 rows summing to 1 (N, K), checked."""
    true = np.asarray(y_true)
    probabilities = _finite("proba", proba)
    n_classes = len(labels)
    if n_classes < 2:
        raise DataError(f"classification metrics need at least 2 labels, got {list(labels)}")
    if probabilities.ndim != 2 or probabilities.shape != (len(true), n_classes):
        raise DataError(
            f"proba must have shape (N, K) = ({len(true)}, {n_classes}) for {len(true)} targets and "
            f"{n_classes} labels, got {probabilities.shape}"
        )
    if true.ndim != 1 or len(true) == 0 or not np.all(np.isin(true, np.arange(n_classes))):
        raise DataError(f"y_true must be a non-empty (N,) array of class indices 0..{n_classes - 1}")
    row_sums = probabilities.sum(axis=1, keepdims=True)
    if np.any(probabilities < 0) or not np.allclose(row_sums, 1, atol=1e-3):
        raise DataError("proba must hold probabilities: non-negative, each row summing to 1 (apply softmax to logits)")
    return true.astype(np.int64), probabilities / row_sums  # renormalised: float32 rounding off the row sums


def _roc_auc(y_true: np.ndarray, proba: np.ndarray) -> float | None:
    """Binary: AUC of class 1; multiclass: one-vs-rest macro AUC. None when a class is absent from y_true."""
    from sklearn import metrics as skm

    n_classes = proba.shape[1]
    if len(np.unique(y_true)) < n_classes:
        return None
    if n_classes == 2:
        return float(skm.roc_auc_score(y_true, proba[:, 1]))
    return float(skm.roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=np.arange(n_classes)))


def classification_metrics(y_true, proba, *, labels) -> dict:
    """Accuracy, macro precision / recall / F1, per-class scores, ROC AUC, confusion matrix and log loss.

    y_true: (N,) class indices 0..K-1; proba: (N, K) class probabilities; labels: the K class names, in
    index order, used as the (string) keys of `per_class`. The prediction is the most probable class.
    Every score runs over all K labels, absent ones included: a class with no true or no predicted member
    scores 0 where its precision or recall would divide by zero (scikit-learn's zero_division=0), and
    counts in the macro means. roc_auc is None when a class is absent from y_true.
    """
    from sklearn import metrics as skm

    true, probabilities = _classification_inputs(y_true, proba, labels)
    predicted = probabilities.argmax(axis=1)
    classes = np.arange(len(labels))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        true, predicted, labels=classes, zero_division=0
    )
    return {
        "accuracy": float(skm.accuracy_score(true, predicted)),
        "precision": float(precision.mean()),
        "recall": float(recall.mean()),
        "f1": float(f1.mean()),
        "per_class": {
            str(label): {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "roc_auc": _roc_auc(true, probabilities),
        "confusion_matrix": skm.confusion_matrix(true, predicted, labels=classes).tolist(),
        "log_loss": float(skm.log_loss(true, probabilities, labels=classes)),
    }


def anomaly_metrics(labels, scores, flags) -> dict[str, float | None]:
    """Precision, recall and F1 of the flags, ROC AUC of the scores (None when the labels hold one class).
    labels, flags: (N,) 0/1; scores (N,) finite."""
    from sklearn import metrics as skm

    y, s, f = np.asarray(labels), np.asarray(scores, dtype=np.float64), np.asarray(flags)
    precision, recall, f1, _ = skm.precision_recall_fscore_support(y, f, average="binary", zero_division=0)
    auc = float(skm.roc_auc_score(y, s)) if len(np.unique(y)) == 2 else None
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1), "roc_auc": auc}


# ------------------------------------------------------------------------------------------ language models


def lm_metrics(loss: float, level: str) -> dict:
    """loss (mean cross-entropy, nats per token), perplexity = exp(loss), and at character level
    bits_per_char = loss / ln 2."""
    metrics = {"loss": float(loss), "perplexity": math.exp(min(loss, 700.0))}
    if level == "char":
        metrics["bits_per_char"] = float(loss) / math.log(2)
    return metrics


def translation_metrics(hypotheses: list[str], references: list[str], loss: float | None = None) -> dict:
    """Corpus BLEU and chrF (sacrebleu, its default 13a tokenisation and chrF's character 6-grams with
    beta 2), the share of outputs equal to their reference (surrounding spaces aside), and with `loss`
    (mean cross-entropy of the references, nats per token) the perplexity."""
    import sacrebleu  # here: only sequence-to-sequence scoring needs it

    if len(hypotheses) != len(references) or not references:
        raise DataError(f"{len(hypotheses)} outputs against {len(references)} references; scoring needs as many, at least one")
    metrics = {
        "bleu": float(sacrebleu.corpus_bleu(hypotheses, [references]).score),
        "chrf": float(sacrebleu.corpus_chrf(hypotheses, [references]).score),
        "exact_match": float(np.mean([h.strip() == r.strip() for h, r in zip(hypotheses, references)])),
    }
    if loss is not None:
        metrics.update(loss=float(loss), perplexity=math.exp(min(loss, 700.0)))
    return metrics
