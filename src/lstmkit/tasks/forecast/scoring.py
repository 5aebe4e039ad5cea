"""The forecaster's scores: the model and the baselines on the same windows, for one series or many, and
the split-conformal interval's half-widths.

Baselines: naive (the last value), seasonal naive (the last season), and the statistical methods of
`lstmkit.statistical`: Naive2 (the M4 competition's yardstick), ETS and Theta (statsforecast), where the
model reads covariates known ahead ARIMAX with them, and where demand is intermittent Croston SBA; each
forecasting from exactly the past the model read.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...baselines import naive_forecast, seasonal_naive_forecast
from ...metrics import forecast_metrics, mase, owa, rmsse, seasonal_naive_scale, smape
from ...statistical import INTERMITTENT, MODELS, WITH_FUTURE, statistical_forecasts_many

PANEL_METRICS = ("smape", "mase", "owa", "rmsse")


def conformal_quantiles(scores: np.ndarray, coverage: float) -> list[float]:
    """Split-conformal half-widths per horizon step: the ceil((n + 1) * coverage)-th smallest of the n
    calibration scores (W, H) in each column. Where n is too small for the coverage asked (that rank is past
    n: the largest of n exchangeable scores covers a new one n / (n + 1) of the time, 0.8 for 4 windows), the
    normal-theory prediction interval of a new error instead, where wider than the largest: Student's t
    quantile with n - 1 degrees of freedom (at least 1) times sqrt(1 + 1/n) times the scores' root mean
    square, the errors taken to centre on 0."""
    n = len(scores)
    ordered = np.sort(scores, axis=0)
    if not too_few_to_rank(n, coverage):
        return ordered[math.ceil((n + 1) * coverage) - 1].tolist()
    from scipy.stats import t

    normal = t.ppf((1 + coverage) / 2, t_degrees(n)) * math.sqrt(1 + 1 / n) * np.sqrt(np.mean(scores**2, axis=0))
    return np.maximum(ordered[-1], normal).tolist()


def t_degrees(n: int) -> int:
    """The degrees of freedom of the Student's t that `conformal_quantiles` widens by, for n windows."""
    return max(n - 1, 1)


def too_few_to_rank(n: int, coverage: float) -> bool:
    """Whether n calibration windows are too few for a split-conformal `coverage` (the rank it takes is past n:
    fewer than 9 for 90%), so that `conformal_quantiles` widens by Student's t instead."""
    return math.ceil((n + 1) * coverage) > n


def _coverage(y_true: np.ndarray, interval) -> float | None:
    if interval is None:
        return None
    lower, upper = interval
    return float(np.mean((y_true >= lower) & (y_true <= upper)))


def _past(target: np.ndarray, t: int, length: int) -> np.ndarray:
    """The `length` target values before index t, padded at the front with the first value if short."""
    past = target[max(0, t - length) : t]
    return np.concatenate([np.full(length - len(past), past[0]), past]) if len(past) < length else past


def baseline_forecasts(target: np.ndarray, origins: np.ndarray, horizon: int, season: int, statistical: dict,
                       seconds: dict | None = None, notes: list | None = None) -> dict:  # fmt: skip
    """Every baseline's forecasts (W, H) at `origins` (W,) of one series, each from target[:t] only: naive and
    seasonal naive, and `statistical`, `statistical_forecasts`' result for these windows; the seconds each
    took are added to `seconds`, statsforecast's fallbacks appended to `notes`."""
    history = np.stack([_past(target, t, max(season, 1)) for t in origins])  # (W, season)
    forecasts = {"naive": naive_forecast(history, horizon)}
    if season > 1:
        forecasts["seasonal_naive"] = seasonal_naive_forecast(history, horizon, season)
    forecasts.update({name: statistical[name] for name in (*MODELS, WITH_FUTURE, INTERMITTENT) if name in statistical})
    for name, spent in statistical["seconds"].items():
        if seconds is not None:
            seconds[name] = seconds.get(name, 0.0) + spent
    if notes is not None:
        notes += statistical["notes"]
    return forecasts


def statistical_job(forecaster, series, origins: np.ndarray) -> tuple:
    """The arguments of `statistical_forecasts` for one series' windows at `origins`: the models fitted on the
    values the network was trained and validated on (the part before the test part) where the data holds them,
    the training data itself or new data that continues it (`Forecaster.continued`), and filtered on from
    there; on new data alone, fitted on its values before the first window. The covariates known ahead, and
    whether the forecaster judged the data intermittent (Croston SBA then among the baselines), last."""
    target, future, before, row = forecaster.continued(series)
    origins = origins + before
    trained = forecaster.bounds_[0][1]  # the training and validation parts' end
    holds = row is not None and row <= 0 and row + len(target) >= trained
    fit_stop = trained - row if holds else int(origins[0])
    return target, origins, forecaster.horizon, forecaster.season_, fit_stop, None, future, forecaster.intermittent_


def known_ahead(forecaster, series) -> np.ndarray | None:
    """The series' covariates known ahead (N, F), ARIMAX's regressors; None where the forecaster reads none."""
    return series.covariates[:, forecaster.future_index_] if forecaster.future_index_ else None


def score_series(forecaster, series, which, forecasts: np.ndarray, point: np.ndarray, interval,
                 background=None) -> dict:  # fmt: skip
    """One series: forecast_metrics over every window (MASE scaled on the training part) for the model and
    each baseline. `background`: a `statistical.InBackground` started on these windows during training."""
    first, H, season = which.origins, forecaster.horizon, forecaster.season_
    y_true = np.stack([series.target[t : t + H] for t in first])  # (W, H)
    train_target = forecaster.train_target_
    job = statistical_job(forecaster, series, first)
    metrics = forecast_metrics(y_true, point, y_train=train_target, season=season)
    seconds, notes = {}, []
    if background is not None and _same_job(background.job, job):
        statistical = background.result()
    else:  # in an idle helper that imported statsforecast, where there is one
        statistical = statistical_forecasts_many([job])[0]
    others = baseline_forecasts(series.target, first, H, season, statistical, seconds, notes)
    baselines = {name: forecast_metrics(y_true, f, y_train=train_target, season=season) for name, f in others.items()}
    for values in (metrics, *baselines.values()):  # OWA against Naive2, as M4 scored it
        values["owa"] = owa(values["smape"], values["mase"], baselines["naive2"]["smape"], baselines["naive2"]["mase"])
    return {"metrics": metrics, "baselines": baselines, "first": first, "y_true": y_true, "forecasts": forecasts,
            "interval": interval, "coverage": _coverage(y_true, interval), "baseline_forecasts": others,
            "seconds": seconds, "notes": notes}  # fmt: skip


def _same_job(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) if isinstance(x, np.ndarray) or isinstance(y, np.ndarray) else x == y
                                    for x, y in zip(a, b))  # fmt: skip


def mase_scale(target: np.ndarray, season: int) -> float:
    """The in-sample MAE of the seasonal naive forecast (of the naive one when the series is no longer than a
    season); the mean magnitude for a series the naive forecast fits exactly; 1 for all zeros."""
    m = season if len(target) > season else 1
    scale = seasonal_naive_scale(target, m) if len(target) > m else 0.0
    return scale if scale > 0 else float(np.mean(np.abs(target))) or 1.0


def score_panel(forecaster, panel, which, forecasts, point, interval, fitted=None) -> dict:
    """Many series: sMAPE and MASE (scaled on each series' past before the test part, as M4) and RMSSE (as M5)
    per series for the model and each baseline, their means, and OWA against Naive2 from the means. ETS and Theta are
    fitted for every window at once, spread over the CPUs (`statistical_forecasts_many`); ETS not again where
    the forecaster fitted it on the same values for its input or base (`_fitted_ets`). Where the forecaster
    judged the data intermittent, Croston SBA is among the baselines of every series, so that each baseline's
    means are over the same series. `fitted`: for new data, the training series each of `panel`'s is; where one
    continues its training series, that series' past counts as its own (`Forecaster.continued`)."""
    H, season = forecaster.horizon, forecaster.season_
    pasts = [(panel.series[j].target, known_ahead(forecaster, panel.series[j]), 0, None) if fitted is None
             else forecaster.continued(panel.series[j], int(fitted[j])) for j in which.series]  # fmt: skip
    targets = [target for target, *_ in pasts]
    ends = [int(t) + before for t, (_, _, before, _) in zip(which.origins, pasts)]  # each window's origin in `targets`
    reused = [_fitted_ets(forecaster, panel, j, t) for j, t in zip(which.series, ends)]
    fits = statistical_forecasts_many([(target, np.array([t]), H, season, t, None if ets is None else ets[0], future,
                                        forecaster.intermittent_)
                                       for target, t, ets, (_, future, _, _) in zip(targets, ends, reused, pasts)])  # fmt: skip
    seconds = {"ets": sum(ets[1] for ets in reused if ets is not None)}  # the reused fits' own seconds
    rows, y_true, notes, others = [], [], [], {}
    for w, (j, origin) in enumerate(zip(which.series, which.origins)):
        target, t = targets[w], ends[w]
        actual = target[t : t + H]
        scale = mase_scale(target[:t], season)
        y_true.append(actual)
        row = {"series": panel.ids[j], "origin": int(origin)}
        baselines = baseline_forecasts(target, np.array([t]), H, season, fits[w], seconds, notes)
        for name, f in baselines.items():
            others.setdefault(name, []).append(f[0])
        for name, f in {"lstm": point[w][None], **baselines}.items():
            row[f"{name}_smape"] = smape(actual, f[0])
            row[f"{name}_mase"] = float(np.mean(np.abs(actual - f[0])) / scale)
            row[f"{name}_rmsse"] = rmsse(actual, f[0], y_train=target[:t]) if t > 1 else None
        rows.append(row)
    table = pd.DataFrame(rows)
    names = [c[: -len("_smape")] for c in table.columns if c.endswith("_smape")]
    means = {name: {"smape": float(table[f"{name}_smape"].mean()), "mase": float(table[f"{name}_mase"].mean()),
                    "rmsse": _mean(table[f"{name}_rmsse"])} for name in names}  # fmt: skip
    for values in means.values():
        values["owa"] = owa(values["smape"], values["mase"], means["naive2"]["smape"], means["naive2"]["mase"])
    y_true = np.stack(y_true)
    coverage = _coverage(y_true, interval)
    return {"metrics": means.pop("lstm"), "baselines": means, "per_series": table, "first": which.origins,
            "series": which.series, "y_true": y_true, "forecasts": forecasts, "interval": interval, "coverage": coverage,
            "baseline_forecasts": {name: np.stack(f) for name, f in others.items()}, "seconds": seconds, "notes": notes}  # fmt: skip


def _mean(values: pd.Series) -> float | None:
    """The mean of a per-series score, over the series where it is defined; None where it is nowhere."""
    defined = pd.to_numeric(values, errors="coerce").dropna()
    return float(defined.mean()) if len(defined) else None


def _fitted_ets(forecaster, panel, j: int, t: int) -> tuple[np.ndarray, float] | None:
    """The ETS baseline's forecast (1, H) from origin t of series j, and the seconds its fit took, where the
    forecaster fitted AutoETS on this very data (for its ETS input or base) as the baseline fits it: on the
    values before t, with the same season (`ETSStates.baseline`); else None, and the baseline fits its own."""
    fits = getattr(forecaster, "ets_", None)
    if fits is None or panel is not getattr(forecaster, "panel_", None):
        return None
    forecast = fits[j].baseline(forecaster.season_, t, forecaster.horizon)
    return None if forecast is None else (forecast, fits[j].seconds)


def fold_metrics(forecaster, test: dict) -> list[dict]:
    """A backtest's metrics per origin (fold k: the k-th origin of every series), the model's and each
    baseline's MASE and sMAPE: [{"fold": k, "lstm_mase": ..., "ets_mase": ..., ...}]."""
    table = test.get("per_series")
    if table is None:  # one series: each test window is one origin
        point, season = forecaster._point(test["forecasts"]), forecaster.season_
        forecasts = {"lstm": point, **test["baseline_forecasts"]}
        rows = []
        for k, actual in enumerate(test["y_true"]):
            row = {"fold": k}
            for name, f in forecasts.items():
                row[f"{name}_smape"] = smape(actual, f[k])
                row[f"{name}_mase"] = mase(actual, f[k], y_train=forecaster.train_target_, season=season)
            rows.append(row)
        return rows
    table = table.assign(fold=table.groupby("series").cumcount())
    scores = [c for c in table.columns if c.endswith(("_smape", "_mase"))]
    means = table.groupby("fold")[scores].mean().reset_index()
    return [{key: (int(v) if key == "fold" else float(v)) for key, v in row.items()} for row in means.to_dict("records")]
