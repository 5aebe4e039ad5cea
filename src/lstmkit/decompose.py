"""Classical multiplicative seasonal decomposition, as the M4 competition's benchmarks use it.

M4's Naive2, SES, Holt, Damped and Theta benchmarks (`benchmarks.py` of the M4 repository) deseasonalise a
series when a 90% autocorrelation test finds its season, forecast the deseasonalised series, and multiply
the forecasts back by the seasonal indices:

    y[t] = level[t] * s[t % m]          indices s (m,), mean 1, phase p = positions t with t % m == p

The phase is counted from the start of the series the indices were estimated on, so a caller that divides
another stretch of it passes where that stretch starts (`start`). numpy only: the forecaster calls it too.
"""

import math

import numpy as np

from .errors import DataError

M4_CRITICAL_VALUE = 1.645  # one-sided 95% normal quantile: M4's "90%" two-sided autocorrelation test


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray | None:
    """Sample ACF r[0..max_lag] of x (n,) (the biased estimator, via FFT); None when x is constant.

    r[k] = sum_t (x[t] - mean)(x[t-k] - mean) / sum_t (x[t] - mean)^2, the ACF of R's `acf` and of M4's.
    """
    centred = x - x.mean()
    spectrum = np.fft.rfft(centred, 2 * len(x))  # zero-padded: linear, not circular, correlation
    autocovariance = np.fft.irfft(spectrum * np.conj(spectrum))[: max_lag + 1]
    return autocovariance / autocovariance[0] if autocovariance[0] > 1e-12 * np.dot(x, x) else None


def _series(x) -> np.ndarray:
    series = np.asarray(x, dtype=np.float64)
    if series.ndim != 1:
        raise DataError(f"`x` must be one series of shape (n,), got shape {series.shape}")
    return series


def _check_season(season: int) -> None:
    if season < 1:
        raise DataError(f"`season` must be at least 1, got {season}")


def seasonality_test(x, season: int) -> bool:
    """M4's test: is x (n,) seasonal with period `season`?

    True when |r[m]| > 1.645 * sqrt((1 + 2 * sum_{k=1}^{m-1} r[k]^2) / n), r the sample ACF and m the
    season: the lag-m autocorrelation stands out of Bartlett's band. As in M4 (Python and R alike) the
    absolute value is compared. False when season <= 1, when there are fewer than 3 seasons of data, or
    when x is constant or not finite.
    """
    series = _series(x)
    if season <= 1 or len(series) < 3 * season or not np.all(np.isfinite(series)):
        return False
    lag, band = _lag_and_band(series, season)
    return bool(abs(lag) > band)


def _lag_and_band(series: np.ndarray, season: int) -> tuple[float, float]:
    """(r[m], 1.645 * sqrt((1 + 2 * sum_{k=1}^{m-1} r[k]^2) / n)) for the sample ACF r of series (n,) and
    m = season: the lag's autocorrelation and M4's Bartlett band; (0, 0) for a constant series."""
    r = autocorrelation(series, season)  # (season + 1,)
    if r is None:
        return 0.0, 0.0
    return float(r[season]), M4_CRITICAL_VALUE * math.sqrt((1 + 2 * np.sum(r[1:season] ** 2)) / len(series))


def repeats_each(x, season: int) -> bool:
    """Does x (n,) repeat every `season` steps once its trend is out? M4's test (`seasonality_test`), one-sided,
    on x less its centred moving average over one season: the lag's autocorrelation above Bartlett's band.

    The moving average over exactly one season takes out the level and trend, a random walk's wandering
    included, and leaves the season whole. M4's test on x itself calls a persistent series seasonal at any
    lag once it is long: measured on 100 draws each, a random walk of 200 steps at lag 12 in 90% (this test:
    4%), of 500 steps at lag 7 in 100% (11%), an AR(1) of coefficient 0.9 and 500 steps at lag 7 in 100%
    (10%); both find a sine of amplitude 5 under noise of deviation 3 in 94-100%. False when season < 3 (a
    moving average over 2 steps makes white noise alternate) and when x holds fewer than 3 seasons."""
    series = _series(x)
    if season < 3 or len(series) < 3 * season or not np.all(np.isfinite(series)):
        return False
    trend = centred_moving_average(series, season)  # (n - 2 * (season // 2),)
    lag, band = _lag_and_band(series[season // 2 : season // 2 + len(trend)] - trend, season)
    return bool(lag > band)


def centred_moving_average(x: np.ndarray, season: int) -> np.ndarray:
    """The centred moving average of x (n,) over one season: (n - 2 * (season // 2),), the value at t = k + i
    for k = season // 2. An odd season averages x[t-k..t+k]; an even one is the 2 x m MA, which weighs the
    two ends x[t-k] and x[t+k] by 1/2 so the window stays centred."""
    if season % 2:
        weights = np.full(season, 1 / season)
    else:
        weights = np.concatenate([[0.5], np.ones(season - 1), [0.5]]) / season  # (season + 1,)
    return np.convolve(x, weights, mode="valid")


def seasonal_indices(x, season: int) -> np.ndarray:
    """Multiplicative seasonal indices of x (n,): (season,), index p for the positions t with t % season == p.

    The ratio x[t] / (centred moving average at t), averaged per phase and normalised to mean 1 (the
    classical decomposition; statsmodels' `seasonal_decompose(model="multiplicative")` gives the same).
    All ones when `seasonality_test` fails, when season is 1, and when x has a value <= 0 or a non-finite
    one: a multiplicative decomposition needs positive data.
    """
    _check_season(season)
    series = _series(x)
    ones = np.ones(season)
    if not np.all(np.isfinite(series)) or np.any(series <= 0) or not seasonality_test(series, season):
        return ones
    half = season // 2
    ratio = series[half : len(series) - half] / centred_moving_average(series, season)  # (n - 2 * half,)
    phase = np.arange(half, len(series) - half) % season
    per_phase = np.bincount(phase, weights=ratio, minlength=season) / np.bincount(phase, minlength=season)
    return per_phase / per_phase.mean()


def seasonal_offsets(x, season: int) -> np.ndarray:
    """Additive seasonal offsets of x (n,): (season,), offset p for the positions t with t % season == p.

    The difference x[t] - (centred moving average at t), averaged per phase and centred to mean 0 (the
    classical additive decomposition, statsmodels' `seasonal_decompose(model="additive")`), for series a
    multiplicative decomposition cannot take (zeros, negative values). All zeros when `seasonality_test`
    fails, when season is 1, or when x has a non-finite value.
    """
    _check_season(season)
    series = _series(x)
    if not np.all(np.isfinite(series)) or not seasonality_test(series, season):
        return np.zeros(season)
    half = season // 2
    difference = series[half : len(series) - half] - centred_moving_average(series, season)  # (n - 2 * half,)
    phase = np.arange(half, len(series) - half) % season
    per_phase = np.bincount(phase, weights=difference, minlength=season) / np.bincount(phase, minlength=season)
    return per_phase - per_phase.mean()


def seasonal_parts(x, season: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, offsets) of x (n,), each (season,): x less its offsets, divided by its indices, is x
    deseasonalised. The multiplicative `seasonal_indices` and zero offsets; for a series with a value <= 0,
    which a multiplicative decomposition cannot take, indices of one and the additive `seasonal_offsets`."""
    series = _series(x)
    if np.any(series <= 0):
        return np.ones(season), seasonal_offsets(series, season)
    return seasonal_indices(series, season), np.zeros(season)


def seasonal_factors(indices, start: int, length: int) -> np.ndarray:
    """The seasonal factor of each position start..start + length - 1: (length,), indices[t % season]."""
    seasonal = np.asarray(indices, dtype=np.float64)
    return seasonal[(start + np.arange(length)) % len(seasonal)]


def deseasonalise(x, indices, start: int = 0) -> np.ndarray:
    """x (n,) divided by its seasonal factors: (n,). x[0] sits at position `start` of the series the
    indices were estimated on. Multiply forecasts back by `seasonal_factors` of their positions."""
    series = _series(x)
    return series / seasonal_factors(indices, start, len(series))
