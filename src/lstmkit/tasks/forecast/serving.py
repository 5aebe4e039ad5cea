"""`lstmkit serve` for a forecaster: each series' recent history (and covariates) -> its next `horizon` steps,
the quantiles and the conformal interval, as `lstmkit predict` gives them. The series of requests arriving
together are forecast in one batch.

A series without `start` is taken to end where the training data of its series ended, so its seasonal
factors line up with training's; with `start` (the time of its first value, on the training data's time
axis) it may end anywhere."""

from __future__ import annotations

import calendar
from typing import Annotated, Optional, Union

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ...data import Series
from ...data.timeaxis import JOIN, QUARTER_CODE, parse_time
from ...data.panel import Panel
from ...errors import FieldError
from ...serve.fields import Either, Number
from .timing import future_times, time_kind

SUMMARY = "Forecast the next steps of series from their recent history"

Start = Annotated[Union[int, str], Either("Input should be a whole number, or a time as text")]  # a step count or a date


class SeriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Optional[str] = Field(None, description="The series' id, as in the training data (a model of many series).")
    values: list[Number] = Field(description="The target's recent values, oldest first.")
    covariates: dict[str, list[Number]] = Field(default_factory=dict, description="Each covariate's values, "
                                                "as many as the target's; a static one (the same at every step "
                                                "of each training series) may be left out: the series' own.")  # fmt: skip
    start: Optional[Start] = Field(None, description="The time of the first value (default: the values end where "
                                   "the training data ended).")  # fmt: skip
    future: dict[str, list[Number]] = Field(default_factory=dict, description="A model with known-future "
                                            "covariates: each one's values at the horizon's steps.")  # fmt: skip


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    series: list[SeriesIn] = Field(description="The series to forecast.")


def example(estimator) -> dict:
    """A request this model answers: the last `lookback` values of its first training series (or fewer), with
    its id, its covariates and, where it reads them, its known-future covariates held at their last values."""
    trained = estimator.panel_.series[0]
    n = min(len(trained), estimator.lookback_)
    item = {"values": [round(float(v), 6) for v in trained.target[-n:]]}
    if estimator.many_:
        item = {"id": estimator.ids_[0], **item}
    names = list(estimator.feature_names_)
    if names:
        item["covariates"] = {name: [round(float(v), 6) for v in trained.covariates[-n:, k]] for k, name in enumerate(names)}
    if estimator.future_index_:
        item["future"] = {names[k]: [round(float(trained.covariates[-1, k]), 6)] * estimator.horizon for k in estimator.future_index_}
    return {"series": [item]}


def items(estimator, request: Request, limits) -> list:
    if not request.series or len(request.series) > limits.max_items:
        raise FieldError("series", f"give between 1 and {limits.max_items} series, got {len(request.series)}")
    return [_series(estimator, k, s, limits.max_length) for k, s in enumerate(request.series)]


def _series(estimator, k: int, given: SeriesIn, max_length: int) -> tuple[int, Series, Optional[np.ndarray]]:
    where = f"series.{k}"
    i = _fitted_index(estimator, where, given.id)
    n = len(given.values)
    if not 1 <= n <= max_length:
        raise FieldError(f"{where}.values", f"needs between 1 and {max_length} values, got {n}")
    names = list(estimator.feature_names_)
    static = [name for name in estimator.static_features_ if name not in given.covariates]
    if set(given.covariates) | set(static) != set(names):  # a static covariate left out: the series' own, from training
        optional = f" ({', '.join(static)} optional: static)" if static else ""
        raise FieldError(f"{where}.covariates", f"needs the covariates {names}{optional}, got {sorted(given.covariates)}")
    for name in given.covariates:
        if len(given.covariates[name]) != n:
            raise FieldError(f"{where}.covariates.{name}", f"has {len(given.covariates[name])} values, the target {n}")
    target = np.asarray(given.values, dtype=np.float64)
    trained = estimator.panel_.series[i]
    covariates = np.column_stack([np.asarray(given.covariates[c], dtype=np.float64) if c in given.covariates
                                  else np.full(n, trained.covariates[-1, k]) for k, c in enumerate(names)]) if names else np.zeros((n, 0))  # fmt: skip
    if not (np.isfinite(target.astype(np.float32)).all() and np.isfinite(covariates.astype(np.float32)).all()):
        raise FieldError(where, "holds numbers beyond float32's range")
    future = _future(estimator, where, given.future)
    if given.start is None:  # the values end where the training data ended
        series = Series(target, covariates, estimator.target_name_, names, start=trained.start + len(trained) - n)
        return i, series, future
    time, freq = _time_axis(estimator, i, trained, given.start, n, f"{where}.start")
    return i, Series(target, covariates, estimator.target_name_, names, time=time, freq=freq), future


def _future(estimator, where: str, given: dict) -> Optional[np.ndarray]:
    """The known-future covariates' values (H, K) at the horizon steps; None for a model without them."""
    names, horizon = list(estimator.future_features), estimator.horizon
    if set(given) != set(names):
        needs = f"needs the values of {names} at the {horizon} steps forecast" if names else "is for a model with known-future covariates, which this one has not"
        raise FieldError(f"{where}.future", f"{needs}, got {sorted(given)}")
    for name in names:
        if len(given[name]) != horizon:
            raise FieldError(f"{where}.future.{name}", f"has {len(given[name])} values, the horizon {horizon}")
    if not names:
        return None
    future = np.column_stack([np.asarray(given[name], dtype=np.float64) for name in names])
    if not np.isfinite(future.astype(np.float32)).all():
        raise FieldError(f"{where}.future", "holds numbers beyond float32's range")
    return future


def _fitted_index(estimator, where: str, name: Optional[str]) -> int:
    if not estimator.many_:
        return 0
    if name is None or name not in estimator.ids_:
        raise FieldError(f"{where}.id", f"{'is missing' if name is None else f'{name!r} is not a series the model knows'}; "
                                        f"the model knows {len(estimator.ids_)} series ({', '.join(estimator.ids_[:5])}"
                                        f"{', ...' if len(estimator.ids_) > 5 else ''})")  # fmt: skip
    return estimator.ids_.index(name)


def _time_axis(estimator, i: int, trained: Series, start, n: int, where: str):
    if estimator.origin_times_[i] is None or trained.time is None:
        raise FieldError(where, "the model was trained without a time column; leave `start` out")
    freq = estimator.freqs_[i] or trained.freq
    try:
        if pd.api.types.is_integer_dtype(trained.time):
            step = int(freq or 1)
            return pd.Index(int(start) + step * np.arange(n), name=trained.time.name), freq
        time = pd.date_range(_start_time(str(start), trained), periods=n, freq=freq, name=trained.time.name)
    except (TypeError, ValueError, OverflowError) as error:  # a DataError too: one of them
        raise FieldError(where, f"is not a time on the model's axis ({type(error).__name__})") from None
    if time_kind(time[0]) != time_kind(trained.time[0]):
        raise FieldError(where, f"gives {time_kind(time[0])}, where the model's axis has {time_kind(trained.time[0])}")
    return time, freq


def _start_time(text: str, trained: Series) -> pd.Timestamp:
    """`start` read as the training data's times were ('Jan 1980', '1993 Q2', '2020-M01'; '1999,1' for a time
    split over a year's and a quarter's or month's columns, by the column the data had), or as pandas reads a
    time (ISO 8601)."""
    written = trained.time_format or ""
    parts = text.split(JOIN)
    if JOIN in written and len(parts) >= 2 and parts[1].strip().isdigit():  # the second column: a quarter or a month
        number = int(parts[1])
        parts[1] = f"Q{number}" if QUARTER_CODE in written else calendar.month_abbr[number] if 1 <= number <= 12 else parts[1]
        text = JOIN.join(parts)
    time = parse_time(pd.Series([text.strip()]), np.array([0]), "start", "the request")
    return time[0] if isinstance(time, pd.DatetimeIndex) else pd.Timestamp(text)


def run(estimator, batch: list) -> list:
    index = np.array([i for i, _, _ in batch], dtype=np.int64)
    panel = Panel([s for _, s, _ in batch], [estimator.ids_[i] for i in index], estimator._id or "", "the request")
    origins = np.array([len(s) for _, s, _ in batch], dtype=np.int64)
    futures = [future for _, _, future in batch] if estimator.future_features else None
    forecasts = estimator._forecast(panel, np.arange(len(batch)), origins, index, futures)  # (S, H, Q)
    point = estimator._point(forecasts)
    interval = estimator._interval(point, index)
    results = []
    for j, (i, series, _) in enumerate(batch):
        result = {"forecast": point[j].tolist()}
        if estimator.many_:
            result = {"id": estimator.ids_[i], **result}
        ended = series if series.time is not None else estimator.panel_.series[i]  # no start: training's end
        future = future_times(ended, estimator.horizon)
        if future is not None:  # ISO 8601, as --json writes them; whole numbers (years, steps) as they are
            result["times"] = [t.isoformat() if isinstance(t, pd.Timestamp) else t for t in future]
        if estimator.quantiles_:
            result["quantiles"] = {f"q{q:g}": forecasts[j, :, k].tolist() for k, q in enumerate(estimator.quantiles_)}
        if interval is not None:
            result["lower"], result["upper"] = interval[0][j].tolist(), interval[1][j].tolist()
        results.append(result)
    return results


def respond(estimator, request: Request, results: list) -> dict:
    return {"predictions": results}


def onnx(estimator, net) -> None:
    """The members' mean, as one ONNX graph, in the place of the members."""
    estimator.members_ = [net]
