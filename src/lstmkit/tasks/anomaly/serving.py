"""`lstmkit serve` for an anomaly detector: series of the model's columns -> each step's score and flag, as
`lstmkit predict` gives them (the first `lookback` steps have no score)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...data import Series
from ...errors import FieldError
from ...serve.fields import Number

SUMMARY = "Score series for anomalies: each step's score and flag"
EXAMPLE_STEPS = 12  # scored steps after the lookback


def example(estimator) -> dict:
    """A request this model answers: one series of every column the model reads, the lookback and
    EXAMPLE_STEPS more steps of a wave about each column's training mean, the third last step a spike."""
    steps = estimator.lookback_ + EXAMPLE_STEPS
    wave = np.sin(np.arange(steps) / 2)
    wave[-3] = 6.0
    mean, scale = estimator.scaler_.mean_, estimator.scaler_.scale_  # (F,) each, the columns' order
    return {"series": [{column: [round(float(mean[c] + scale[c] * v), 4) for v in wave]
                        for c, column in enumerate(estimator.columns_)}]}  # fmt: skip


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    series: list[dict[str, list[Number]]] = Field(description="Series to score: each maps every column the "
                                                              "model reads to its values, in time order.")  # fmt: skip


def items(estimator, request: Request, limits) -> list:
    if not request.series or len(request.series) > limits.max_items:
        raise FieldError("series", f"give between 1 and {limits.max_items} series, got {len(request.series)}")
    columns = list(estimator.columns_)
    out = []
    for k, given in enumerate(request.series):
        if set(given) != set(columns):
            raise FieldError(f"series.{k}", f"needs the columns {columns}, got {sorted(given)}")
        lengths = {len(given[c]) for c in columns}
        n = lengths.pop()
        if lengths:
            raise FieldError(f"series.{k}", "has columns of different lengths")
        if not estimator.lookback_ < n <= limits.max_length:
            raise FieldError(f"series.{k}", f"needs more than the lookback of {estimator.lookback_} steps and at "
                                            f"most {limits.max_length}, got {n}")  # fmt: skip
        values = np.column_stack([np.asarray(given[c], dtype=np.float64) for c in columns])
        if not np.isfinite(values.astype(np.float32)).all():
            raise FieldError(f"series.{k}", "holds numbers beyond float32's range")
        out.append(Series(values[:, 0], values[:, 1:], columns[0], columns[1:], path=f"series {k}"))
    return out


def run(estimator, batch: list) -> list:
    return [estimator.score_series(series)[:2] for series in batch]


def respond(estimator, request: Request, results: list) -> dict:
    return {"predictions": [{"scores": [None if np.isnan(s) else float(s) for s in scores], "flags": [int(f) for f in flags]}
                            for scores, flags in results]}  # fmt: skip


def onnx(estimator, net) -> None:
    estimator.model_ = net
