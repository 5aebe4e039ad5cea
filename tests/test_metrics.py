"""The metrics against values worked out by hand, and against scikit-learn called directly."""

import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from lstmkit.errors import DataError
from lstmkit.metrics import (
    classification_metrics,
    detect_season,
    forecast_metrics,
    mae,
    mape,
    mase,
    mse,
    rmse,
    rmsse,
    smape,
)

Y_TRUE = [1, 2, 3, 4]
Y_PRED = [1, 2, 4, 6]  # errors 0, 0, 1, 2
Y_TRAIN = [1, 3, 2, 5, 4]  # naive in-sample errors 2, 1, 3, 1; seasonal (2) ones 1, 2, 2

AIRLINE = [
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170, 158, 133,
    114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180, 193, 181, 183, 218, 230, 242,
    209, 191, 172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264,
    302, 293, 259, 229, 203, 229, 242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313,
    318, 374, 413, 405, 355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336, 340, 318,
    362, 348, 363, 435, 491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,
    417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,
]  # fmt: skip


# ---------------------------------------------------------------------------------------------- forecasting


def test_mse_rmse_mae_by_hand():
    assert mse(Y_TRUE, Y_PRED) == pytest.approx(5 / 4)
    assert rmse(Y_TRUE, Y_PRED) == pytest.approx(math.sqrt(5 / 4))
    assert mae(Y_TRUE, Y_PRED) == pytest.approx(3 / 4)


@pytest.mark.parametrize("n", [1, 2, 7, 24, 144, 1000, 4099])
def test_mse_and_mae_are_scikit_learns_to_the_last_bit(n):
    rng = np.random.default_rng(n)
    y_true = rng.normal(300, 100, n)
    y_pred = y_true + rng.normal(0, 30, n)
    assert mse(y_true, y_pred) == float(skm.mean_squared_error(y_true, y_pred))
    assert mae(y_true, y_pred) == float(skm.mean_absolute_error(y_true, y_pred))


def test_mape_is_in_percent():
    assert mape(Y_TRUE, Y_PRED) == pytest.approx(100 * (1 / 3 + 2 / 4) / 4)


def test_mape_leaves_out_zero_targets():
    assert mape([0, 2, 4], [1, 1, 5]) == pytest.approx(100 * (1 / 2 + 1 / 4) / 2)


def test_mape_is_none_when_every_target_is_zero():
    assert mape([0, 0], [1, 2]) is None


def test_smape_is_in_percent():
    assert smape(Y_TRUE, Y_PRED) == pytest.approx(200 * (1 / 7 + 2 / 10) / 4)


def test_smape_counts_zero_over_zero_as_no_error():
    assert smape([0, 1], [0, 3]) == pytest.approx((0 + 200 * 2 / 4) / 2)


def test_smape_is_at_most_200():
    assert smape([0, 1], [5, -1]) == pytest.approx(200)


def test_mase_scales_by_the_in_sample_naive_mae():
    assert mase(Y_TRUE, Y_PRED, y_train=Y_TRAIN, season=1) == pytest.approx((3 / 4) / (7 / 4))


def test_mase_scales_by_the_in_sample_seasonal_naive_mae():
    assert mase(Y_TRUE, Y_PRED, y_train=Y_TRAIN, season=2) == pytest.approx((3 / 4) / (5 / 3))


def test_mase_is_none_when_the_training_series_is_constant():
    assert mase(Y_TRUE, Y_PRED, y_train=[3, 3, 3], season=1) is None


def test_mase_of_a_perfect_forecast_is_zero():
    assert mase(Y_TRUE, Y_TRUE, y_train=Y_TRAIN, season=1) == 0


def test_mase_needs_a_training_series_longer_than_the_season():
    with pytest.raises(DataError, match="longer than the season"):
        mase(Y_TRUE, Y_PRED, y_train=[1, 2], season=2)


def test_rmsse_is_the_root_of_the_mse_over_the_naive_forecasts_in_sample_mse():
    """M5's RMSSE by hand: training steps of 2, -1, 3 (naive MSE 14/3); errors 1, -2 (MSE 2.5)."""
    assert rmsse([4.0, 5.0], [3.0, 7.0], y_train=[1.0, 3.0, 2.0, 5.0]) == pytest.approx(math.sqrt(2.5 / (14 / 3)))
    with pytest.raises(DataError, match=r"^RMSSE needs a training series \(T,\) of at least 2 values, got shape \(1,\)$"):
        rmsse([1.0], [1.0], y_train=[3.0])


def test_rmsse_ranks_the_mean_of_intermittent_demand_first_where_mase_ranks_no_demand_first():
    """Sales on a day in four, of 4 units: a forecast of 1 a day (the mean) against one of 0 (the median)."""
    days = np.tile([0.0, 0.0, 4.0, 0.0], 50)
    train, test = days[:160], days[160:]
    zero, mean = np.zeros_like(test), np.ones_like(test)
    assert mase(test, zero, y_train=train) < mase(test, mean, y_train=train)
    assert rmsse(test, mean, y_train=train) < rmsse(test, zero, y_train=train)


def test_forecast_metrics_has_the_spec_keys_and_is_json():
    result = forecast_metrics(Y_TRUE, Y_PRED, y_train=Y_TRAIN, season=1)
    assert list(result) == ["mse", "rmse", "mae", "mape", "smape", "mase", "rmsse"]
    assert all(type(value) is float for value in result.values())
    json.dumps(result, allow_nan=False)


def test_forecast_metrics_write_none_not_nan_when_undefined():
    result = forecast_metrics([0, 0], [1, 1], y_train=[5, 5, 5], season=1)
    assert result["mape"] is None and result["mase"] is None and result["rmsse"] is None
    json.dumps(result, allow_nan=False)


def test_forecast_metrics_average_over_every_step_of_every_window():
    y_true = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (W, horizon)
    y_pred = y_true + np.array([[0.0, 1.0, 2.0], [3.0, 0.0, -1.0]])
    windows = forecast_metrics(y_true, y_pred, y_train=Y_TRAIN, season=2)
    flat = forecast_metrics(y_true.ravel(), y_pred.ravel(), y_train=Y_TRAIN, season=2)
    assert windows == flat
    assert windows["mae"] == pytest.approx(7 / 6)


def test_forecast_metrics_reject_different_shapes():
    with pytest.raises(DataError, match=r"same shape, got \(4,\) and \(3,\)"):
        mse(Y_TRUE, Y_PRED[:3])


def test_forecast_metrics_reject_nan():
    with pytest.raises(DataError, match="y_pred contains NaN"):
        mae(Y_TRUE, [1, 2, float("nan"), 4])


# ---------------------------------------------------------------------------------------------- seasonality


def _sine(period: float, length: int, noise: float, seed: int = 0) -> np.ndarray:
    steps = np.arange(length)
    return np.sin(2 * np.pi * steps / period) + noise * np.random.default_rng(seed).normal(size=length)


def test_detect_season_finds_12_in_the_airline_passengers():
    assert detect_season(AIRLINE) == 12


@pytest.mark.parametrize("seed", range(5))
def test_detect_season_finds_about_11_in_sunspot_like_cycles(seed):
    assert 10 <= detect_season(_sine(11, 300, noise=0.5, seed=seed)) <= 12


@pytest.mark.parametrize("period", [7, 24])
@pytest.mark.parametrize("seed", range(3))
def test_detect_season_finds_the_exact_period_of_a_noisy_sine(period, seed):
    assert detect_season(_sine(period, 20 * period, noise=0.1, seed=seed)) == period


@pytest.mark.parametrize("period", [7.5, 8.5, 9.6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_detect_season_finds_a_cycle_between_lags_not_its_first_whole_multiple(period, seed):
    # A cycle of 7.5 steps repeats every 15 and scores best there; the lynx's 9.6-year cycle gave 19
    assert detect_season(_sine(period, 300, noise=0.5, seed=seed)) in (math.floor(period), math.ceil(period))


def test_detect_season_sees_through_a_trend():
    steps = np.arange(240)
    assert detect_season(5 + 0.02 * steps + _sine(24, 240, noise=0.1)) == 24


@pytest.mark.parametrize("seed", range(5))
def test_detect_season_finds_none_in_white_noise(seed):
    assert detect_season(np.random.default_rng(seed).normal(size=500)) == 1


@pytest.mark.parametrize("seed", range(5))
def test_detect_season_finds_none_in_a_random_walk(seed):
    assert detect_season(np.cumsum(np.random.default_rng(seed).normal(size=500))) == 1


@pytest.mark.parametrize("series", [np.full(50, 3.0), np.arange(50.0), np.arange(5.0)])
def test_detect_season_finds_none_in_a_line_or_a_short_series(series):
    assert detect_season(series) == 1


def test_detect_season_looks_no_further_than_max_period():
    assert detect_season(_sine(24, 480, noise=0.1), max_period=20) == 1


# ------------------------------------------------------------------------------------------ classification

# y_true 0 0 1 1 2 2, predicted (argmax) 0 1 1 1 2 0
Y_CLASS = [0, 0, 1, 1, 2, 2]
PROBA = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.3, 0.6, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.2, 0.7],
        [0.5, 0.1, 0.4],
    ]
)
LABELS = ["cat", "dog", "eel"]


def test_classification_metrics_by_hand():
    result = classification_metrics(Y_CLASS, PROBA, labels=LABELS)
    assert result["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["precision"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert result["recall"] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    assert result["f1"] == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert result["per_class"]["dog"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 4 / 5, "support": 2})
    assert result["log_loss"] == pytest.approx(-np.mean(np.log([0.7, 0.3, 0.8, 0.5, 0.7, 0.4])))


def test_classification_metrics_match_sklearn():
    result = classification_metrics(Y_CLASS, PROBA, labels=LABELS)
    predicted = PROBA.argmax(axis=1)
    assert result["f1"] == pytest.approx(skm.f1_score(Y_CLASS, predicted, average="macro"))
    assert result["precision"] == pytest.approx(skm.precision_score(Y_CLASS, predicted, average="macro"))
    assert result["roc_auc"] == pytest.approx(skm.roc_auc_score(Y_CLASS, PROBA, multi_class="ovr", average="macro"))
    assert result["log_loss"] == pytest.approx(skm.log_loss(Y_CLASS, PROBA))


def test_classification_metrics_have_the_spec_keys_and_are_json():
    result = classification_metrics(Y_CLASS, PROBA, labels=LABELS)
    keys = ["accuracy", "precision", "recall", "f1", "per_class", "roc_auc", "confusion_matrix", "log_loss"]
    assert list(result) == keys
    assert list(result["per_class"]) == LABELS
    json.dumps(result, allow_nan=False)


def test_binary_roc_auc_is_the_auc_of_class_1():
    proba_1 = np.array([0.1, 0.4, 0.35, 0.8])
    result = classification_metrics([0, 0, 1, 1], np.stack([1 - proba_1, proba_1], axis=1), labels=[0, 1])
    assert result["roc_auc"] == pytest.approx(0.75)
    assert list(result["per_class"]) == ["0", "1"]


def test_roc_auc_is_none_when_a_class_is_absent_from_y_true():
    assert classification_metrics([0, 0, 1, 1, 0, 1], PROBA, labels=LABELS)["roc_auc"] is None
    assert classification_metrics([1, 1], [[0.3, 0.7], [0.6, 0.4]], labels=["no", "yes"])["roc_auc"] is None


def test_a_class_never_true_nor_predicted_scores_zero_without_crashing():
    proba = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1]])
    result = classification_metrics([0, 1], proba, labels=LABELS)
    assert result["per_class"]["eel"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert result["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 0, 0]]
    expected_f1 = skm.f1_score([0, 1], [0, 1], labels=[0, 1, 2], average="macro", zero_division=0)
    assert result["f1"] == pytest.approx(expected_f1) == 2 / 3
    assert math.isfinite(result["log_loss"])


def test_classification_metrics_reject_logits():
    with pytest.raises(DataError, match="apply softmax"):
        classification_metrics([0, 1], [[2.0, -1.0], [0.5, 3.0]], labels=["a", "b"])


def test_classification_metrics_reject_a_proba_of_the_wrong_width():
    with pytest.raises(DataError, match=r"\(N, K\) = \(6, 2\)"):
        classification_metrics(Y_CLASS, PROBA, labels=["a", "b"])


def test_classification_metrics_reject_a_class_index_out_of_range():
    with pytest.raises(DataError, match="class indices 0..2"):
        classification_metrics([0, 0, 1, 1, 2, 3], PROBA, labels=LABELS)
