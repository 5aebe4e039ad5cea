"""Honest baselines, scored on the very windows the model is scored on, so a summary can say whether the
LSTM earned its cost.

Forecasting: the naive forecast (repeat the last value) and the seasonal naive forecast (repeat the last
season). Classification: the majority class, as class probabilities.
"""

import numpy as np

from .errors import DataError
from .metrics import HIGHER_IS_BETTER, forecast_metrics



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


def beats_baseline(model_metrics: dict, baselines: dict[str, dict], metric: str = "mase") -> dict[str, bool | None]:
    """Whether the model's `metric` is strictly better than each baseline's: {baseline name: True/False}.

    Better is lower for errors and losses, higher for the scores in HIGHER_IS_BETTER. None for a baseline
    where either value is None (the metric is undefined there, e.g. MASE with a constant training series:
    compare on "mae" instead).
    """
    sign = -1 if metric in HIGHER_IS_BETTER else 1
    model_value = model_metrics[metric]
    return {
        name: None if model_value is None or scores[metric] is None else sign * model_value < sign * scores[metric]
        for name, scores in baselines.items()
    }


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
