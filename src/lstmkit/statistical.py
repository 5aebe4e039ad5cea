"""The field's statistical forecasting baselines: Naive2, ETS and Theta, the M4 competition's yardsticks.

- Naive2: the last value of the deseasonalised history, times the seasonal factors of the horizon steps
  (M4's benchmark; indices from `decompose.seasonal_indices`, so a series that fails M4's seasonality
  test gets the plain naive forecast).
- ETS: statsforecast's `AutoETS(season_length=season)`, Hyndman's automatic ETS (the model chosen by AICc).
  A season longer than `ETS_SEASONS` (48 half-hours, 52 weeks, 168 hours) is taken out first: AutoETS
  without a season forecasts the series deseasonalised by its classical decomposition (`_Deseasonalised`),
  as M4's benchmarks deseasonalise SES, Holt and Damped and R's forecast() hands such a season to STL.
  AutoETS given the season itself fits its 48 or more initial seasonal states badly and, by AICc, chooses
  a model without one, whose forecast is flat over the season (Taylor's half-hourly electricity demand:
  AICc 66,705 to 67,137 for the seasonal models, 59,812 for the flat one; test MASE 3.59 against 0.82).
- Theta: statsforecast's `Theta(season_length=season)`, the standard Theta method of M4's benchmarks, with
  its own seasonality test and multiplicative decomposition.
- ARIMAX, where the forecaster reads covariates known ahead (`future_features`): statsforecast's
  `AutoARIMA(season_length=season)` with those covariates as regressors whose values over the horizon are
  known: a regression with ARIMA errors, as R's `auto.arima(xreg=)` and Darts' ARIMA with future covariates
  fit it, the field's statistical baseline for promotions, holidays and planned prices, which ETS and Theta
  cannot read. A season longer than `ETS_SEASONS` is taken out first, as for ETS. Its order search
  approximates the likelihood by conditional sums of squares, the chosen order then fitted exactly, as R's
  auto.arima does by default for more than 150 values or a season of more than 12 steps: on 60 generated
  monthly series of 94 values with promotions, 0.28 s a series against the exact search's 0.67 s (ETS:
  0.05 s) for the same mean MASE (0.228, 0.229); a thousand such series would have waited 6 minutes on two
  cores for the exact search. From each origin it filters the last `ARIMA_MEMORY` values (at least 50
  seasons), not the whole past: the Kalman filter's state forgets where it started, and Seattle's 8,759
  hourly temperatures, forecast a day ahead from 1,314 origins, got the same forecasts to 1e-13 in 0.017 s an
  origin instead of 0.11 s (2.7 minutes in all). A model with a drift term reads the whole past, since its
  drift counts the steps from the first.
- Croston SBA, where the series is intermittent (`intermittent`: no negative value, and on average at least
  `INTERMITTENT_ADI` steps to each nonzero one): statsforecast's `CrostonSBA`, the field's baseline for
  intermittent demand (the M5 competition's and statsforecast's own). Croston's method smooths the nonzero
  values and the intervals between them apart and forecasts their ratio, the demand per step; Syntetos and
  Boylan's approximation (SBA) takes 5% off to remove its bias. ETS and Theta smooth the zeros into every
  level they see, and MAE-scored methods gain by forecasting zero. Its smoothing weight is fixed (0.1), so
  from each origin it forecasts from target[:t] with nothing fitted.

Rolling origins without refitting: each statsforecast model is fitted once on target[:fit_stop] (model
selection and parameters) and applied at each origin t to target[:t] with its `forward`, which keeps the
fitted parameters. AutoETS keeps its initial states too and runs the filter over target[:t] from the start,
so its state at t is the fitted one; Theta keeps its smoothing weight and initial level but redoes its
seasonality test and decomposition on target[:t]. At t == fit_stop both equal the fitted model's forecast.

`ETSStates` keeps one AutoETS fit and its state after every step, so the forecaster's `ets` base (and its ETS
input) forecasts from any origin, of the series or of new data on its time axis, and saves with the run;
where it was fitted as the ETS baseline is, its forecast is that baseline's (`ETSStates.baseline`).

statsforecast takes seconds to import, so it is imported inside the functions that fit, not with lstmkit.
`statistical_forecasts_many` fits many series at once, spread over helper processes (`lstmkit.helper`, one
per CPU the process may use) when there are enough of them to pay for the helpers' start; `InBackground`
fits one series in a helper while the caller trains, so statsforecast's import and fits overlap the
training (a long series' many origins shared out to a helper a CPU). Both take an idle helper that already
imported statsforecast where there is one (`PRELOAD`: a command that will score a forecaster starts one
first thing, so that import also overlaps its own).
"""

import math
import time
import warnings

import numpy as np

from . import helper
from .decompose import seasonal_factors, seasonal_indices, seasonal_parts
from .errors import DataError
from .launch import usable_cpus

ETS_SEASONS = 24  # the longest season an ETS model is given itself (R's forecast::ets refuses a longer one)
ARIMA_MEMORY = 1000  # the most recent values ARIMAX filters from an origin (at least 50 seasons)

PRELOAD = "statsforecast.models"  # what a helper imports before its baselines' calls arrive

MODELS = ("naive2", "ets", "theta")  # the forecasts `statistical_forecasts` returns, by name
WITH_FUTURE = "arimax"  # and the one it adds given covariates known ahead
INTERMITTENT = "croston"  # and the one it adds for an intermittent series
# steps per nonzero value past which demand is intermittent: Syntetos, Boylan & Croston (2005)'s cut on the average
# demand interval, past which they found SBA forecasts better than exponential smoothing (ETS) and Croston's own
INTERMITTENT_ADI = 1.32


def intermittent(values, season: int = 1) -> bool:
    """Whether a series (N,) is intermittent demand: no negative value, and on average at least
    `INTERMITTENT_ADI` steps to each nonzero value (a quarter or more of its values zero); all zeros is. With a
    `season`, the places in it where the series is zero nine times in ten or more (the night of half-hourly
    solar generation, the day a shop is closed) are left out first: zeros that come when the season says
    are no intermittence."""
    series = np.asarray(values, dtype=np.float64)
    if len(series) == 0 or not np.all(series >= 0):
        return False
    if 1 < season <= len(series) // 2:
        place = np.arange(len(series)) % season
        zero_share = np.bincount(place, weights=series == 0, minlength=season) / np.bincount(place, minlength=season)
        series = series[zero_share[place] < 0.9]
    nonzero = np.count_nonzero(series)
    return bool(nonzero == 0 or len(series) / nonzero >= INTERMITTENT_ADI)


def _check_series(target, origins, horizon: int, season: int, fit_stop: int) -> tuple[np.ndarray, np.ndarray]:
    """target as float64 (N,) and origins as int64 (W,), after checking every argument once."""
    series = np.asarray(target, dtype=np.float64)
    if series.ndim != 1 or len(series) == 0:
        raise DataError(f"`target` must be one non-empty series of shape (N,), got shape {series.shape}")
    if not np.all(np.isfinite(series)):
        raise DataError("`target` contains NaN or infinite values; fill or drop them first")
    starts = np.asarray(origins)
    if starts.ndim != 1 or not (np.issubdtype(starts.dtype, np.integer) or starts.size == 0):
        raise DataError(f"`origins` must be integer positions (W,), got {starts.dtype} of shape {starts.shape}")
    n = len(series)
    outside = starts[(starts < 1) | (starts > n)]
    if len(outside):
        raise DataError(f"`origins` must lie in [1, N] = [1, {n}], got {outside[0]}")
    if horizon < 1:
        raise DataError(f"`horizon` must be at least 1, got {horizon}")
    if season < 1:
        raise DataError(f"`season` must be at least 1, got {season}")
    if not 1 <= fit_stop <= n:
        raise DataError(f"`fit_stop` must lie in [1, N] = [1, {n}], got {fit_stop}")
    return series, starts.astype(np.int64)


def _check_future(future, n: int) -> np.ndarray:
    """`future` as float64 (N, F), N the target's length, every value finite."""
    values = np.asarray(future, dtype=np.float64)
    values = values[:, None] if values.ndim == 1 else values
    if values.ndim != 2 or len(values) != n:
        raise DataError(f"`future` must hold the covariates at each of the target's {n} steps, (N, F), got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise DataError("`future` contains NaN or infinite values; fill or drop them first")
    return values


def _naive2(target: np.ndarray, origins: np.ndarray, horizon: int, indices: np.ndarray) -> np.ndarray:
    """M4's Naive2 from each origin t: (W, horizon), row w = target[t-1] / s(t-1) * s(t .. t+horizon-1).

    target (N,); origins (W,) in [1, N]; indices (m,) seasonal indices with phase 0 at target[0], s(t) the
    factor of position t. With indices all ones it is the naive forecast.
    """
    factors = seasonal_factors(indices, 0, len(target) + horizon)  # (N + horizon,) s(0 .. N+horizon-1)
    last = target[origins - 1] / factors[origins - 1]  # (W,) deseasonalised last values
    return last[:, None] * factors[origins[:, None] + np.arange(horizon)]


def _model_season(season: int, fit_stop: int, notes: list[str]) -> int:
    """The season given to statsforecast: season 1 unless target[:fit_stop] holds two whole seasons, the
    least a classical decomposition (Theta's, and ETS's initial states) can estimate seasonal indices from."""
    if season > 1 and fit_stop < 2 * season:
        notes.append(f"ets, theta: season {season} needs {2 * season} values to fit, got {fit_stop}; used season 1")
        return 1
    return season


def ets_season(season: int, fit_stop: int) -> int:
    """The season AutoETS is given itself on target[:fit_stop]: `_model_season`'s, and 1 where that is longer
    than `ETS_SEASONS`."""
    model_season = _model_season(season, fit_stop, [])
    return model_season if model_season <= ETS_SEASONS else 1


class _Deseasonalised:
    """A statsforecast model that fits and forecasts a series without its season, its forecasts given the
    season back: the multiplicative seasonal indices of target[:fit_stop] (Naive2's), or for a series with a
    value <= 0 the additive offsets (`seasonal_parts`, as the forecaster's own deseasonalising). Both are
    the identity where M4's seasonality test finds no season."""

    def __init__(self, model, target: np.ndarray, season: int, fit_stop: int):
        self.model = model
        self.indices, self.offsets = seasonal_parts(target[:fit_stop], season)  # (season,) each

    def fit(self, y: np.ndarray, **exog) -> "_Deseasonalised":
        self.model.fit(self._adjusted(y), **exog)
        return self

    def forward(self, y: np.ndarray, h: int, **exog) -> dict:
        """{"mean": (h,)}: the forecast of y's next h values, y starting where the fitted series starts
        (`exog`: ARIMAX's X and X_future)."""
        mean = self.model.forward(y=self._adjusted(y), h=h, **exog)["mean"]
        return {"mean": mean * seasonal_factors(self.indices, len(y), h) + seasonal_factors(self.offsets, len(y), h)}

    def _adjusted(self, y: np.ndarray) -> np.ndarray:
        return (y - seasonal_factors(self.offsets, 0, len(y))) / seasonal_factors(self.indices, 0, len(y))


class _Croston:
    """statsforecast's `CrostonSBA` with the `fit` and `forward` of the models `_forward_forecasts` applies:
    nothing is fitted (its smoothing weight is fixed), and the forecast from an origin is the method's on the
    values before it (0.01 ms for 700 values)."""

    def __init__(self):
        from statsforecast.models import CrostonSBA

        self.model = CrostonSBA()

    def fit(self, y: np.ndarray) -> "_Croston":
        return self

    def forward(self, y: np.ndarray, h: int) -> dict:
        return self.model.forecast(y=y, h=h)


def arima_model(target: np.ndarray, season: int, fit_stop: int):
    """ARIMAX's model of target[:fit_stop] (statsforecast's AutoARIMA, to fit with or without regressors): of
    the season (at most `ETS_SEASONS`), or of the series without a longer season (`_Deseasonalised`); its
    order search on the approximate likelihood (see the module's note)."""
    from statsforecast.models import AutoARIMA

    if season > ETS_SEASONS:
        return _Deseasonalised(AutoARIMA(season_length=1, approximation=True), target, season, fit_stop)
    return AutoARIMA(season_length=season, approximation=True)


def _forward_forecasts(model, name: str, target, origins, horizon: int, fit_stop: int, fallback, failures: dict,
                       future=None) -> np.ndarray:  # fmt: skip
    """The fitted-once model's forecasts from each origin: (W, horizon); `fallback` (W, horizon) where
    statsforecast fails (it raises on a few odd or very short series) or forecasts a non-finite value, which
    `failures[name]` records (`_failure_note`). `future` (N, F): regressors, read up to each origin and over
    its horizon (ARIMAX)."""
    forecasts = fallback.copy()

    def exog(t: int, ahead: int = 0, first: int = 0) -> dict:
        if future is None:
            return {}
        return {"X": future[first:t], **({"X_future": future[t : t + ahead]} if ahead else {})}

    try:
        model.fit(target[:fit_stop], **exog(fit_stop))
    except Exception as error:  # noqa: BLE001 - statsforecast raises ValueError, IndexError, NotImplementedError...
        failures[name] = {"fit_stop": fit_stop, "reason": f"{type(error).__name__}: {error}"}
        return forecasts
    failed = []  # (origin, reason)
    memory = _memory(model)
    for row, origin in enumerate(origins):
        first = 0 if memory is None else max(0, (origin - memory[0]) // memory[1] * memory[1])  # a season's start
        try:
            mean = model.forward(y=target[first:origin], h=horizon, **exog(origin, horizon, first))["mean"]  # (horizon,)
        except Exception as error:  # noqa: BLE001 - as above, at one origin
            failed.append((origin, f"{type(error).__name__}: {error}"))
            continue
        if np.all(np.isfinite(mean)):
            forecasts[row] = mean
        else:
            failed.append((origin, "non-finite forecast"))
    if failed:
        failures[name] = {"count": len(failed), "origin": failed[0][0], "reason": failed[0][1]}
    return forecasts


def _failure_note(name: str, failure: dict, origins: int) -> str:
    """The note on a model that fell back to Naive2 (`_forward_forecasts`), at every one of `origins` or some."""
    if "fit_stop" in failure:
        return f"{name}: naive2 at every origin, fitting on {failure['fit_stop']} values failed ({failure['reason']})"
    return f"{name}: naive2 at {failure['count']} of {origins} origins, first at t={failure['origin']} ({failure['reason']})"


def _memory(model) -> tuple[int, int] | None:
    """(values, season) a fitted ARIMAX model filters from an origin: the last `ARIMA_MEMORY` or 50 seasons, cut
    at the start of a season (a deseasonalised model reads its seasonal factors from the first value's place);
    None for every other model (the whole past), and for one with a drift term, which counts the steps from
    the first value (see the module's note)."""
    from statsforecast.models import AutoARIMA

    inner = model.model if isinstance(model, _Deseasonalised) else model
    if not isinstance(inner, AutoARIMA) or "drift" in inner.model_["coef"]:
        return None
    season = len(model.indices) if isinstance(model, _Deseasonalised) else max(1, int(inner.season_length))
    return max(ARIMA_MEMORY, 50 * season), season


def statistical_forecasts(target, origins, horizon: int, season: int, fit_stop: int, ets=None, future=None,
                          croston: bool | None = None) -> dict:  # fmt: skip
    """Naive2, ETS and Theta forecasts of target[t : t + horizon] from target[:t], for each origin t; and
    ARIMAX's, given `future` (N, F): covariates known ahead, read up to t and over the horizon; and Croston
    SBA's where `croston` is True, or is None and target[:fit_stop] is `intermittent`.

    target (N,) finite; origins (W,) ints in [1, N]; horizon >= 1 steps; season >= 1 (1: none);
    fit_stop in [1, N]: the models are fitted on target[:fit_stop] and Naive2's seasonal indices estimated
    there, then applied at every origin, before or after fit_stop, without refitting.

    Returns {"naive2": (W, horizon), "ets": (W, horizon), "theta": (W, horizon)[, "arimax": (W, horizon)]
    [, "croston": (W, horizon)], "notes": list[str], "seconds": {name: float}, "failures": {name: dict}}: the
    forecasts under the names in `MODELS` (and `WITH_FUTURE`, `INTERMITTENT`), one line per fallback taken
    (the last lines, one a model in `failures`), and the seconds each model took. A season that target[:fit_stop]
    is too short for is replaced by 1 for ETS and Theta; where statsforecast fails, at the fit or at an
    origin, that model's forecast is Naive2's. `ets` (W, horizon): ETS's forecasts for these arguments, when
    already computed (`ETSStates.baseline`); AutoETS is then not fitted again, and its seconds are 0.
    A season longer than `ETS_SEASONS` is taken out of the series for ETS (`_Deseasonalised`), with a note.
    """
    series, starts = _check_series(target, origins, horizon, season, fit_stop)
    regressors = None if future is None else _check_future(future, len(series))
    croston = intermittent(series[:fit_stop], season) if croston is None else croston
    notes: list[str] = []
    started = time.perf_counter()
    naive2 = _naive2(series, starts, horizon, seasonal_indices(series[:fit_stop], season))
    seconds = {"naive2": time.perf_counter() - started}
    forecasts = {"naive2": naive2, "ets": naive2.copy(), "theta": naive2.copy()}
    if regressors is not None:
        forecasts[WITH_FUTURE] = naive2.copy()
    if croston:
        forecasts[INTERMITTENT] = naive2.copy()
    if len(starts) == 0:
        return {**forecasts, "notes": notes, "seconds": seconds, "failures": {}}
    # statsforecast takes seconds to import: only here, never with `import lstmkit`
    from statsforecast.models import AutoETS, Theta

    model_season = _model_season(season, fit_stop, notes)
    ets_model = AutoETS(season_length=model_season)
    if model_season > ETS_SEASONS:
        ets_model = _Deseasonalised(AutoETS(season_length=1), series, model_season, fit_stop)
        notes.append(f"ets: a season of {model_season} steps is more than ETS is given ({ETS_SEASONS}, as R's "
                     "forecast::ets): ETS forecast the series deseasonalised by its classical decomposition, the "
                     "season put back after")  # fmt: skip
    models = {"ets": ets_model, "theta": Theta(season_length=model_season)}
    if regressors is not None:
        models[WITH_FUTURE] = arima_model(series, model_season, fit_stop)
    if croston:
        models[INTERMITTENT] = _Croston()
    if ets is not None:
        forecasts["ets"], seconds["ets"] = np.asarray(ets, dtype=np.float64), 0.0
        del models["ets"]
    failures: dict = {}  # name -> where it fell back to Naive2, in the models' order
    with warnings.catch_warnings():  # statsmodels warns on short or flat histories; fallbacks go to notes
        warnings.simplefilter("ignore")
        for name, model in models.items():
            started = time.perf_counter()
            forecasts[name] = _forward_forecasts(model, name, series, starts, horizon, fit_stop, naive2, failures,
                                                 regressors if name == WITH_FUTURE else None)  # fmt: skip
            seconds[name] = time.perf_counter() - started
    notes += [_failure_note(name, failure, len(starts)) for name, failure in failures.items()]
    return {**forecasts, "notes": notes, "seconds": seconds, "failures": failures}


# below this many series the helpers' start (importing lstmkit and statsforecast, seconds each) costs more than it saves
PARALLEL_FROM = 32


def statistical_forecasts_many(jobs: list, workers: int | None = None) -> list[dict]:
    """`statistical_forecasts(*job)` for each job (target, origins, horizon, season, fit_stop[, ets[, future[, croston]]]),
    in job order.

    With `PARALLEL_FROM` jobs or more and more than one worker (default: `usable_cpus()`), the jobs are
    dealt out to that many helper processes (one thread each), idle ones that imported statsforecast
    among them; with fewer, they go to such an idle helper where there is one, else are computed here. Each
    job keeps its own seconds, so the seconds sum CPU time. One long series with many origins is shared out
    as `InBackground` shares it (`lstmkit evaluate` on a new file of one series scores its every window)."""
    if len(jobs) == 1 and _shares(jobs[0], workers) > 1:
        return [InBackground(jobs[0], workers).result()]
    return _spread(_forecasts_of, jobs, workers)


def ets_fits(jobs: list, workers: int | None = None) -> list["ETSStates"]:
    """`ETSStates.fit(*job)` for each job (target, season, fit_stop), in job order, spread over helper
    processes as `statistical_forecasts_many` spreads its jobs: the `ets` base of many series."""
    return _spread(_ets_fits_of, jobs, workers)


def _spread(call, jobs: list, workers: int | None) -> list:
    """call(jobs) (a module-level function of a list of jobs, returning one result per job), the jobs dealt
    out to helpers where there are enough of them (see `statistical_forecasts_many`)."""
    workers = min(usable_cpus() if workers is None else workers, len(jobs))
    if workers < 2 or len(jobs) < PARALLEL_FROM:
        idle = helper.take(PRELOAD)
        if idle is None:
            return call(jobs)
        idle.submit(call, jobs)
        return _collected(idle, call, jobs)
    shares = [list(range(k, len(jobs), workers)) for k in range(workers)]  # dealt, so slow series spread out
    running = [helper.take(PRELOAD) or helper.Helper([PRELOAD]) for _ in shares]
    for worker, share in zip(running, shares):
        worker.submit(call, [jobs[i] for i in share])
    results: list = [None] * len(jobs)
    for worker, share in zip(running, shares):
        for i, result in zip(share, _collected(worker, call, [jobs[i] for i in share])):
            results[i] = result
    return results


def _forecasts_of(jobs: list) -> list[dict]:
    """A helper's call: `statistical_forecasts(*job)` for each job."""
    return [statistical_forecasts(*job) for job in jobs]


def _ets_fits_of(jobs: list) -> list["ETSStates"]:
    """A helper's call: `ETSStates.fit(*job)` for each job."""
    return [ETSStates.fit(*job) for job in jobs]


def _collected(worker: helper.Helper, call, jobs: list) -> list:
    """The result of `call(jobs)` sent to `worker`, which goes back to the pool; computed in this process
    where the helper failed."""
    try:
        results = worker.result()
    except helper.HelperFailed:
        return call(jobs)
    helper.give_back(worker)
    return results


# values filtered from all origins (their sum) from which one series' origins are shared out to several helpers: Theta
# redoes its decomposition and filter over the whole past at each origin (statsforecast's `forward`), about 40 ms an
# origin on Seattle's ~7,400 hourly temperatures before the test part, 81 s for its 1,291 day-ahead windows, which
# a forecaster trained in 43 s then waited out. Shared by two helpers on two cores: 96 s from start to end -> 83 and
# 76 s (two runs; the training, beside them, 43 -> 62 and 56 s; the wait after it 53 -> 21 and 20 s), and `lstmkit
# evaluate` on the whole file (8,688 windows, each origin's past filtered: runs of equal cost) 216 -> 144 s; more
# cores share it further
SHARE_FROM = 2_000_000


class InBackground:
    """`statistical_forecasts(*job)` computed in a helper process while the caller goes on (a forecaster
    trains): statsforecast's import and fits, seconds, overlap the training on another core, in an idle
    helper that imported it already where there is one. A long series with many origins (`SHARE_FROM`) is
    shared out in runs of consecutive origins, one to a helper for each CPU (`workers`, default
    `usable_cpus()`), and the shares joined as if computed at once (`_joined`). `result()` waits for it, and
    puts the helpers back in the pool (where they may have preloaded more: the report's matplotlib);
    `close()` stops the helpers whose result was not wanted (a failed fit)."""

    def __init__(self, job: tuple, workers: int | None = None):
        self.job = job
        shares = _shares(job, workers)
        self._workers: list[tuple[helper.Helper, tuple]] = []
        for part in _parts(job[1], shares):
            share = job if shares == 1 else _share(job, part)
            worker = helper.take(PRELOAD) or helper.Helper([PRELOAD])
            worker.submit(_forecasts_of, [share])
            self._workers.append((worker, share))

    def result(self) -> dict:
        workers, self._workers = self._workers, []
        parts = [_collected(worker, _forecasts_of, [share])[0] for worker, share in workers]
        return parts[0] if len(parts) == 1 else _joined(parts)

    def close(self) -> None:
        for worker, _ in self._workers:
            worker.close()


def _shares(job: tuple, workers: int | None = None) -> int:
    """How many helpers share `job`'s origins: one a CPU (`workers`, default `usable_cpus()`) where the
    values filtered from all of them reach `SHARE_FROM`, else 1."""
    origins = np.asarray(job[1], dtype=np.int64)
    if origins.sum() < SHARE_FROM:
        return 1
    return max(1, min(usable_cpus() if workers is None else workers, len(origins)))


def _parts(origins, shares: int) -> list[np.ndarray]:
    """The positions of `origins` in `shares` runs of consecutive ones, each about as many values to filter
    (an origin costs the values before it), none empty."""
    cost = np.cumsum(np.asarray(origins, dtype=np.int64))
    if shares == 1 or len(cost) == 0:
        return [np.arange(len(cost))]
    cuts = np.searchsorted(cost, cost[-1] * np.arange(1, shares) / shares)
    return [part for part in np.split(np.arange(len(cost)), cuts) if len(part)]


def _share(job: tuple, part: np.ndarray) -> tuple:
    """`job` (as `statistical_forecasts` takes it) for the origins at the positions `part`, and the ETS
    forecasts from them where the job gives those."""
    target, origins, horizon, season, fit_stop, *rest = job
    if rest and rest[0] is not None:
        rest = [np.asarray(rest[0])[part], *rest[1:]]
    return (target, np.asarray(origins)[part], horizon, season, fit_stop, *rest)


def _joined(parts: list[dict]) -> dict:
    """One series' `statistical_forecasts` computed in shares of its origins, in their order, as computed at
    once: the forecasts one after the other, the seconds summed, and a model's fallback at some origins
    counted over all (the notes before those on fallbacks, and a fit that failed, are alike in every share)."""
    first = parts[0]
    joined = {name: np.concatenate([part[name] for part in parts]) for name, value in first.items() if isinstance(value, np.ndarray)}
    seconds = {name: sum(part["seconds"][name] for part in parts) for name in first["seconds"]}
    failures: dict = {}
    for part in parts:
        for name, failure in part["failures"].items():
            was = failures.get(name)
            failures[name] = failure if was is None or "fit_stop" in was else {**was, "count": was["count"] + failure["count"]}
    failures = {name: failures[name] for name in seconds if name in failures}  # the models' order
    origins = len(joined["naive2"])
    notes = first["notes"][: len(first["notes"]) - len(first["failures"])]
    notes += [_failure_note(name, failure, origins) for name, failure in failures.items()]
    return {**joined, "notes": notes, "seconds": seconds, "failures": failures}


class ETSStates:
    """AutoETS fitted once on a series' first `fit_stop` values and kept so that it forecasts from any step of
    that series, or of new data on its time axis: the model (components, smoothing parameters) and its state
    (level, trend, seasonal terms) after each step of the series it was fitted for. The forecaster's `ets`
    base reads it: the network corrects these forecasts.

    The state at step t depends on target[:t] only, so a forecast from origin t uses no later value. A
    series that AutoETS cannot fit (statsforecast raises on a few short or odd ones) gets the naive model:
    additive level, smoothing weight 1, whose forecast is the last value."""

    def __init__(self, model: dict, states: np.ndarray):
        self.model, self.states = model, np.asarray(states, dtype=np.float64)  # states (n + 1, k): before each step
        self.fitted_on: tuple[int, int] | None = None  # (fit_stop, season) of `fit`'s AutoETS; None: naive, or loaded
        self.seconds = 0.0  # what `fit` took

    @classmethod
    def fit(cls, target, season: int, fit_stop: int) -> "ETSStates":
        """Fit on target[:fit_stop] and filter the whole target (N,) with the fitted model. A season it cannot
        be fitted with (fewer than two whole seasons), or longer than `ETS_SEASONS`, is dropped: AutoETS
        given one of 48 steps chose a model without it by AICc all the same (Taylor's half-hours: 13.6 s
        against 0.6 s for the same model)."""
        from statsforecast.models import AutoETS

        started = time.perf_counter()
        series, fitted_on = np.asarray(target, dtype=np.float64), (fit_stop, season)
        with warnings.catch_warnings():  # statsforecast warns on short or flat histories
            warnings.simplefilter("ignore")
            try:
                fitted = AutoETS(season_length=ets_season(season, fit_stop)).fit(series[:fit_stop]).model_
                model = {"m": int(fitted["m"]), "components": str(fitted["components"]),
                         "par": [float(v) for v in fitted["par"][:4]], "n_params": int(fitted["n_params"])}  # fmt: skip
                start = np.asarray(fitted["par"][4:], dtype=np.float64)
            except Exception:  # noqa: BLE001 - statsforecast raises ValueError, IndexError, ...: the naive model
                model = {"m": 1, "components": "ANNN", "par": [1.0, math.nan, math.nan, math.nan], "n_params": 2}
                start, fitted_on = series[:1], None
        ets = cls(model, start[None, :])
        ets.states = ets._filtered(start, series)
        ets.fitted_on, ets.seconds = fitted_on, time.perf_counter() - started
        return ets

    def _filtered(self, start: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The states (n + 1, k) of filtering values (n,) from the state `start` (k,); rows after a value
        the model cannot take (non-finite, or <= 0 for a multiplicative one) stay NaN. statsforecast's own
        `ets_f` is not used: given values that are all equal (days without a sale, a price held) it fits a new
        model to them, whose state is that value, in place of filtering them with this one."""
        from statsforecast.ets import pegelsresid_C

        if len(values) == 0:
            return start[None, :]
        errors, trend, season, damped = self.model["components"]
        alpha, beta, gamma, phi = self.model["par"]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                states = pegelsresid_C(np.asarray(values, dtype=np.float64), self.model["m"], np.asarray(start, dtype=np.float64),
                                       errors, trend, season, damped != "N", alpha, beta, gamma, phi, nmse=3)[2]  # fmt: skip
                return np.asarray(states, dtype=np.float64)
            except Exception:  # noqa: BLE001 - as in `fit`
                return np.vstack([start[None, :], np.full((len(values), len(start)), np.nan)])

    def _ahead(self, state: np.ndarray, horizon: int) -> np.ndarray:
        """The forecast (horizon,) from one state (k,)."""
        from statsforecast.ets import pegelsfcast_C

        with np.errstate(all="ignore"):
            return pegelsfcast_C(horizon, {**self.model, "states": state[None, :]})

    def state_at(self, step: int) -> np.ndarray:
        """The state (k,) before step `step` of the fitted series; past its end, carried along the forecast
        (as if each later value were its one-step forecast)."""
        last = len(self.states) - 1
        if step <= last:
            return self.states[max(step, 0)]
        path = self._ahead(self.states[last], step - last)
        return self._filtered(self.states[last], path)[-1]

    def forecasts(self, target, origins, horizon: int, start: int = 0) -> np.ndarray:
        """Forecasts (W, horizon) of target[t : t + horizon] from each origin t (W,) in [1, N], target (N,)
        starting at step `start` of the fitted series (0: the fitted series itself). Where the model cannot
        forecast (a non-finite result), the last value (naive)."""
        series = np.asarray(target, dtype=np.float64)
        states = self._filtered(self.state_at(start), series)  # (N + 1, k)
        out = np.empty((len(origins), horizon))
        for row, t in enumerate(np.asarray(origins, dtype=np.int64)):
            forecast = self._ahead(states[t], horizon) if np.all(np.isfinite(states[t])) else None
            finite = forecast is not None and np.all(np.isfinite(forecast))
            out[row] = forecast if finite else series[t - 1]
        return out

    def baseline(self, season: int, fit_stop: int, horizon: int) -> np.ndarray | None:
        """The ETS baseline's forecast (1, horizon) of the fitted series from origin `fit_stop`, as
        `statistical_forecasts(target, [fit_stop], horizon, season, fit_stop)["ets"]` gives it (to 1e-9): this
        fit's forecast where `fit` fitted AutoETS on the same values with the same season, else None (as where
        that forecast is not finite: the baseline's fallback is another; or where the season is longer than
        ETS takes: the baseline's ETS forecasts the series deseasonalised)."""
        if self.fitted_on != (fit_stop, season) or _model_season(season, fit_stop, []) > ETS_SEASONS:
            return None
        forecast = self._ahead(self.states[fit_stop], horizon)
        return forecast[None, :] if np.all(np.isfinite(forecast)) else None

    def to_dict(self, states: bool = True) -> dict:
        """The model, and the states as lists unless `states` is False (a caller that saves them in binary)."""
        model = {"model": {**self.model, "par": [None if math.isnan(v) else v for v in self.model["par"]]}}
        return {**model, "states": self.states.tolist()} if states else model

    @classmethod
    def from_dict(cls, saved: dict, states=None) -> "ETSStates":
        """From `to_dict`'s dict; `states` (n + 1, k) where the dict holds none."""
        model = {**saved["model"], "par": [math.nan if v is None else float(v) for v in saved["model"]["par"]]}
        return cls(model, np.asarray(saved["states"] if states is None else states, dtype=np.float64))
