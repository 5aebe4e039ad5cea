"""The baselines on small hand-made windows, where every forecast can be checked by eye."""

import numpy as np
import pytest

from lstmkit.baselines import (
    beats_baseline,
    decimals_apart,
    forecast_baselines,
    majority_class_proba,
    naive_forecast,
    seasonal_naive_forecast,
    ties,
)
from lstmkit.errors import DataError
from lstmkit.metrics import classification_metrics, mase

HISTORY = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])  # (W, lookback) = (2, 4)


def _windows(series: np.ndarray, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (history, future) pair of a series: (W, lookback) and (W, horizon)."""
    span = np.lib.stride_tricks.sliding_window_view(series, lookback + horizon)  # (W, lookback + horizon)
    return span[:, :lookback], span[:, lookback:]


def test_naive_forecast_repeats_the_last_value():
    np.testing.assert_array_equal(naive_forecast(HISTORY, 3), [[4, 4, 4], [8, 8, 8]])


def test_seasonal_naive_forecast_repeats_the_last_season():
    np.testing.assert_array_equal(seasonal_naive_forecast(HISTORY, 5, season=2), [[3, 4, 3, 4, 3], [7, 8, 7, 8, 7]])


def test_seasonal_naive_forecast_with_a_season_as_long_as_the_history():
    np.testing.assert_array_equal(seasonal_naive_forecast(HISTORY, 2, season=4), [[1, 2], [5, 6]])


def test_seasonal_naive_forecast_with_season_1_is_the_naive_forecast():
    np.testing.assert_array_equal(seasonal_naive_forecast(HISTORY, 3, season=1), naive_forecast(HISTORY, 3))


def test_seasonal_naive_forecast_needs_a_history_covering_the_season():
    message = r"season=5 needs at least 5 past steps per window, got 4; pass a history of max\(lookback, season\) steps"
    with pytest.raises(DataError, match=message):
        seasonal_naive_forecast(HISTORY, 3, season=5)


def test_baselines_reject_a_single_window_without_its_batch_dimension():
    with pytest.raises(DataError, match=r"\(W, L\) = \(windows, steps\), got shape \(4,\)"):
        naive_forecast(HISTORY[0], 3)


def test_seasonal_naive_is_exact_on_a_periodic_series():
    series = np.tile([1.0, 5.0, 2.0, 8.0, 3.0], 8)  # (40,), season 5
    history, future = _windows(series[20:], lookback=5, horizon=3)
    result = forecast_baselines(history, future, y_train=series[:20], season=5)
    assert result["seasonal_naive"]["mae"] == 0 and result["seasonal_naive"]["smape"] == 0
    assert result["naive"]["mae"] > 0
    assert result["seasonal_naive"]["mase"] is None  # the seasonal naive forecast fits the training series exactly


def test_forecast_baselines_score_each_baseline_on_the_same_windows():
    series = np.sin(2 * np.pi * np.arange(60) / 6) + 0.05 * np.arange(60)  # season 6 with a trend
    history, future = _windows(series[40:], lookback=6, horizon=2)
    result = forecast_baselines(history, future, y_train=series[:40], season=6)
    assert list(result) == ["naive", "seasonal_naive"]
    naive_mase = mase(future, naive_forecast(history, 2), y_train=series[:40], season=6)
    assert result["naive"]["mase"] == pytest.approx(naive_mase)
    assert result["seasonal_naive"]["mae"] == pytest.approx(0.05 * 6)  # one season of trend


def test_forecast_baselines_leave_out_seasonal_naive_without_a_season():
    result = forecast_baselines(HISTORY, [[5.0, 6.0], [9.0, 10.0]], y_train=[1.0, 2.0, 4.0], season=1)
    assert list(result) == ["naive"]
    assert result["naive"]["mae"] == pytest.approx(1.5)
    assert result["naive"]["mase"] == pytest.approx(1.5 / 1.5)


def test_beats_baseline_means_lower_error():
    baselines = {"naive": {"mase": 1.2}, "seasonal_naive": {"mase": 0.8}}
    assert beats_baseline({"mase": 0.8}, baselines) == {"naive": True, "seasonal_naive": False}


def test_beats_baseline_means_higher_score_for_accuracy():
    assert beats_baseline({"accuracy": 0.9}, {"majority_class": {"accuracy": 0.6}}, metric="accuracy") == {
        "majority_class": True
    }


def test_beats_baseline_is_none_where_the_metric_is_undefined():
    assert beats_baseline({"mase": None}, {"naive": {"mase": 1.0}}) == {"naive": None}


def test_a_model_within_a_thousandth_of_the_baseline_ties_it_and_a_tie_is_not_a_win():
    baselines = {"naive": {"mase": 1.0}}
    assert beats_baseline({"mase": 1.0 - 1e-12}, baselines) == {"naive": False}  # floating noise
    assert beats_baseline({"mase": 0.9995}, baselines) == {"naive": False}  # 1.000 against 1.000 as shown
    assert beats_baseline({"mase": 0.998}, baselines) == {"naive": True}  # 0.998 against 1.000


def test_a_tie_on_a_score_is_not_a_win_either():
    majority = {"majority_class": {"accuracy": 0.6}}
    assert beats_baseline({"accuracy": 0.6 + 1e-12}, majority, metric="accuracy") == {"majority_class": False}
    assert beats_baseline({"accuracy": 0.61}, majority, metric="accuracy") == {"majority_class": True}


def test_decimals_apart_are_the_fewest_that_tell_a_value_from_those_it_does_not_tie():
    assert decimals_apart(0.8, [1.0, 0.9]) == 3
    assert decimals_apart(0.2608, [2.26, 0.2612]) == 4
    assert decimals_apart(0.26154, [0.2615]) == 3  # a tie may read the same
    assert decimals_apart(1e-4, [2e-4]) == 4 and decimals_apart(1e-9, [2e-9]) == 6  # at most 6


def test_ties_is_relative_to_the_larger_value():
    assert ties(1000.0, 1000.9) and not ties(1000.0, 1001.1)
    assert ties(0.001, 0.0010009) and not ties(0.001, 0.0011)
    assert ties(0.0, 0.0) and not ties(0.0, 1e-9)


def test_majority_class_proba_gives_the_training_frequencies():
    proba = majority_class_proba([0, 1, 1, 2, 1], n_classes=4, n=3)
    np.testing.assert_allclose(proba, [[0.2, 0.6, 0.2, 0.0]] * 3)


def test_majority_class_proba_scores_the_majority_class_accuracy():
    y_test = [1, 1, 0, 2, 1, 0]
    proba = majority_class_proba([0, 1, 1, 2, 1], n_classes=3, n=len(y_test))
    result = classification_metrics(y_test, proba, labels=["a", "b", "c"])
    assert result["accuracy"] == pytest.approx(3 / 6)
    assert result["log_loss"] == pytest.approx(-np.mean(np.log([0.6, 0.6, 0.2, 0.2, 0.6, 0.2])))


def test_majority_class_proba_rejects_a_class_index_out_of_range():
    with pytest.raises(DataError, match="class indices 0..1"):
        majority_class_proba([0, 1, 2], n_classes=2, n=1)


def test_the_tfidf_baseline_keeps_the_most_frequent_n_grams_where_a_corpus_holds_too_many(monkeypatch):
    """Saved with the run, the baseline's size is bounded: past TFIDF_MAX_FEATURES n-grams, the most frequent."""
    from lstmkit import baselines

    texts = ["apple banana", "apple cherry", "banana date", "apple banana banana"]
    monkeypatch.setattr(baselines, "TFIDF_MAX_FEATURES", 2)
    kept = baselines.TfidfLogisticRegression.fit(texts, np.array([0, 1, 0, 1]), 2, level="word")
    assert sorted(kept.ngrams) == ["apple", "banana"]  # 3 and 4 times; "apple banana" twice, the rest once
    saved = baselines.TfidfLogisticRegression.from_saved(*kept.saved())
    np.testing.assert_array_equal(saved.proba(["banana split", "fig"]), kept.proba(["banana split", "fig"]))


@pytest.mark.parametrize("level", ["word", "char"])
def test_the_tfidf_baselines_scores_are_scikit_learns_transform_times_its_weights(level):
    """Its rows are computed text by text, as the fitted vectorizer's `transform` computes them: the same
    scores, for texts with unseen n-grams, repeated ones, none known, and none at all."""
    from lstmkit import baselines

    texts = ["Apple banana apple", "apple cherry pie", "banana date", "cherry cherry cherry date", "date apple"]
    kept = baselines.TfidfLogisticRegression.fit(texts, np.array([0, 1, 2, 1, 0]), 3, level=level)
    new = ["banana banana split", "qqq", "", "Cherry date, apple!"]
    expected = np.asarray(kept.vectorizer.transform(new) @ kept.coef.T) + kept.intercept
    np.testing.assert_allclose(kept._scores(new), expected, rtol=1e-12, atol=1e-15)
    assert kept.proba(new).shape == (4, 3) and np.allclose(kept.proba(new).sum(axis=1), 1)
