"""`lstmkit.Forecaster`: multi-step forecasting of a series from a CSV, with the scikit-learn contract.

Data flow: CSV -> `data.read_series_csv` -> split by time (train / validation / test, the test part at the
end) -> scaler fitted on the training rows -> windows (lookback -> horizon) as strided views -> the
`ForecastNet` trained by `train.fit` -> metrics on the test windows beside the naive and seasonal-naive
baselines computed on the very same windows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd
import torch
from torch import nn

from ...baselines import forecast_baselines
from ...data import Scaler, Series, check_length, default_lookback, make_windows, read_series_csv, split_by_time, window_targets_index
from ...errors import ConfigError, DataError
from ...metrics import detect_season, forecast_metrics
from ...train import fit, seed_everything
from ..estimator import Estimator
from ..gate_input import GateInput, series_gate_input, series_values
from .net import ForecastNet, pinball_loss
from .settings import ForecastSettings



class Forecaster(ForecastSettings, Estimator):
    """Forecast the next `horizon` steps of `target` from the last `lookback` steps (and covariates).

    Parameters (`ForecastSettings`) are stored as given; what `fit` learns ends in an underscore (`model_`,
    `scaler_`, `season_`, `lookback_`, `history_`, `metrics_`, `baselines_`).
    """

    noun = "forecaster"
    state_file = "forecaster.json"

    # ---- settings ----------------------------------------------------------------------------------
    def _check_settings(self) -> list[float]:
        """Every setting checked before any data is read; returns the quantiles in order."""
        self.check_settings()
        quantiles = sorted(float(q) for q in (self.quantiles or ()))
        if any(not 0 < q < 1 for q in quantiles) or len(set(quantiles)) != len(quantiles):
            raise ConfigError(f"`quantiles` must be distinct numbers between 0 and 1, got {self.quantiles}")
        return quantiles

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, data: Union[str, Path, Series], *, checkpoint=None, resume: bool = False, reporter=None) -> "Forecaster":
        """Read, split, scale, window, train; then score the test part beside the baselines."""
        self.quantiles_ = self._check_settings()
        config = self.train_config()
        series = self._read(data)
        train, val, test = split_by_time(len(series), self.val_frac, self.test_frac)
        self.season_ = self.season or detect_season(series.target[train])
        self.lookback_ = self.lookback or self._default_lookback(train.stop - train.start)
        check_length(len(series), self.lookback_, self.horizon, val_frac=self.val_frac, test_frac=self.test_frac, path=series.path)
        self.scaler_ = Scaler().fit(series.values[train])
        self.target_name_, self.feature_names_ = series.target_name, list(series.feature_names)
        self.train_target_ = series.target[train].astype(float)  # MASE's scale, and the naive baselines' past
        scaled = self._scaled(series)
        parts = {name: self._windows(scaled, part) for name, part in (("train", train), ("val", val), ("test", test))}

        seed_everything(self.seed)
        self.model_ = self._build_model(series.values.shape[1])
        result = fit(self.model_, self._loss, parts["train"], parts["val"], config,
                     checkpoint=checkpoint, resume=resume, reporter=reporter)  # fmt: skip
        self.model_.cpu().eval()
        self.history_, self.best_epoch_, self.stop_reason_ = result.history, result.best_epoch, result.stop_reason
        self.series_ = series
        self.test_ = self._score(series, test.start, test.stop)
        self.metrics_, self.baselines_ = self.test_["metrics"], self.test_["baselines"]
        return self

    def _read(self, data) -> Series:
        if isinstance(data, Series):
            return data
        return read_series_csv(data, self.target, time_col=self.time_col, features=self.features, fill=self.fill)

    def _default_lookback(self, n_train: int) -> int:
        wanted = max(24, 2 * self.season_)
        return default_lookback(wanted, n_train, self.horizon)

    def _build_model(self, n_features: int) -> ForecastNet:
        return ForecastNet(
            n_features, self.horizon, hidden=self.hidden, layers=self.layers, variant=self.variant,
            dropout=self.dropout, bidirectional=self.bidirectional, n_quantiles=max(1, len(self.quantiles_)),
            window_norm=self.window_norm,
        )  # fmt: skip

    def _scaled(self, series: Series) -> torch.Tensor:
        return torch.from_numpy(self.scaler_.transform(series.values).astype(np.float32))

    def _windows(self, scaled: torch.Tensor, part: slice) -> tuple[torch.Tensor, torch.Tensor]:
        X, Y = make_windows(scaled, self.lookback_, self.horizon, start=part.start, stop=part.stop)
        return X, Y

    def _loss(self, model: nn.Module, batch) -> torch.Tensor:
        x, y = batch
        prediction = model(x).float()  # (B, horizon, Q)
        if self.quantiles_:
            return pinball_loss(prediction, y, self.quantiles_)
        return nn.functional.mse_loss(prediction.squeeze(-1), y)

    # ---- predict and score ----------------------------------------------------------------------
    @torch.no_grad()
    def _forecast(self, X: torch.Tensor) -> np.ndarray:
        """Windows (W, lookback, F) in the scaled space -> forecasts (W, horizon, Q) in the target's units."""
        self.model_.eval()
        out = torch.cat([self.model_(X[i : i + 512]).float() for i in range(0, len(X), 512)])
        out = out.sort(dim=-1).values  # quantiles must not cross
        return self.scaler_.inverse_transform_target(out.numpy())

    def _point(self, forecasts: np.ndarray) -> np.ndarray:
        """The point forecast: the quantile nearest the median, or the only output."""
        if not self.quantiles_:
            return forecasts[..., 0]
        return forecasts[..., int(np.argmin([abs(q - 0.5) for q in self.quantiles_]))]

    def _score(self, series: Series, start: int, stop: int) -> dict:
        """Model and baselines on every window whose targets lie in [start, stop)."""
        X, _ = make_windows(self._scaled(series), self.lookback_, self.horizon, start=start, stop=stop)
        if len(X) == 0:
            raise DataError(
                f"{series.path}: has {len(series)} rows, too few to score a {self.horizon}-step forecast "
                f"after a lookback of {self.lookback_} steps; it needs at least {self.lookback_ + self.horizon}"
            )
        first = window_targets_index(len(series), self.lookback_, self.horizon, start=start, stop=stop)  # (W,)
        y_true = np.stack([series.target[t : t + self.horizon] for t in first])  # (W, horizon)
        forecasts = self._forecast(X)
        past = max(self.lookback_, self.season_)
        history = np.stack([_past(series.target, t, past) for t in first])  # (W, past)
        metrics = forecast_metrics(y_true, self._point(forecasts), y_train=self.train_target_, season=self.season_)
        baselines = forecast_baselines(history, y_true, y_train=self.train_target_, season=self.season_)
        return {"metrics": metrics, "baselines": baselines, "first": first, "y_true": y_true,
                "forecasts": forecasts, "history": history}  # fmt: skip

    def evaluate(self, data=None) -> dict:
        """Metrics and baselines: on the test part of the training data (no argument), or on every window
        of new labelled data."""
        if data is None and getattr(self, "test_", None) is None:
            raise ConfigError("a loaded forecaster keeps no test part: pass the data to evaluate on")
        scored = self.test_ if data is None else self._score(self._read(data), 0, None)
        return {"test": scored["metrics"], "baselines": scored["baselines"], "windows": len(scored["first"])}

    def predict(self, data=None) -> pd.DataFrame:
        """The `horizon` steps after the data's end (the training data's, when no data is given)."""
        series = self.series_ if data is None else self._read(data)
        if len(series) < self.lookback_:
            raise DataError(f"{series.path}: has {len(series)} rows; forecasting needs the last {self.lookback_} (the lookback)")
        X = self._scaled(series)[-self.lookback_ :].unsqueeze(0)  # (1, lookback, F)
        forecasts = self._forecast(X)[0]  # (horizon, Q)
        frame = pd.DataFrame({"step": np.arange(1, self.horizon + 1)})
        future = future_times(series, self.horizon)
        if future is not None:
            frame.insert(0, series.time.name or "time", future)
        frame[self.target_name_] = self._point(forecasts[None])[0]
        for k, q in enumerate(self.quantiles_):
            frame[f"q{q:g}"] = forecasts[:, k]
        return frame

    # ---- the gate inspector ---------------------------------------------------------------------
    def gate_input(self, data, max_steps: Optional[int] = None) -> GateInput:
        """The series to inspect (a CSV path read as training read it, a `Series`, a DataFrame of the
        model's columns, or an array (N,) or (N, F)) as the network reads it: see `series_gate_input`."""
        columns = [self.target_name_, *self.feature_names_]
        series = self._read(data) if isinstance(data, (str, Path)) else data
        return series_gate_input(self, self.noun, series_values(series, columns), columns, max_steps)

    # ---- save and load --------------------------------------------------------------------------
    def _state(self) -> dict:
        return {
            "quantiles": self.quantiles_, "season": self.season_, "lookback": self.lookback_,
            "scaler": self.scaler_.to_dict(), "target_name": self.target_name_, "feature_names": self.feature_names_,
            "train_target": self.train_target_.tolist(), "n_features": 1 + len(self.feature_names_),
            "best_epoch": self.best_epoch_, "tail": self._tail(),
        }  # fmt: skip

    def _tail(self) -> dict:
        """The last lookback rows of the training data, so `predict()` works after `load` without data."""
        s = self.series_
        rows = slice(len(s) - self.lookback_, len(s))
        time = None if s.time is None else [str(t) for t in s.time[rows]]
        return {"values": s.values[rows].tolist(), "time": time, "freq": s.freq,
                "integer_time": s.time is not None and pd.api.types.is_integer_dtype(s.time),
                "time_name": None if s.time is None else s.time.name}  # fmt: skip

    def _restore(self, state: dict, tensors: dict, directory: Path) -> None:
        self.quantiles_, self.season_, self.lookback_ = state["quantiles"], state["season"], state["lookback"]
        self.scaler_ = Scaler.from_dict(state["scaler"])
        self.target_name_, self.feature_names_ = state["target_name"], state["feature_names"]
        self.train_target_ = np.asarray(state["train_target"], dtype=float)
        self.best_epoch_ = state["best_epoch"]
        self.model_ = self._build_model(state["n_features"])
        self.model_.load_state_dict(tensors)
        self.series_ = _series_from_tail(state["tail"], self.target_name_, self.feature_names_, directory)


def _past(target: np.ndarray, t: int, length: int) -> np.ndarray:
    """The `length` target values before index t, padded at the front with the first value if short."""
    past = target[max(0, t - length) : t]
    return np.concatenate([np.full(length - len(past), past[0]), past]) if len(past) < length else past


def future_times(series: Series, horizon: int):
    """Timestamps of the `horizon` steps after the series' end, when the series has a regular time axis."""
    if series.time is None or series.freq is None:
        return None
    last = series.time[-1]
    if pd.api.types.is_integer_dtype(series.time):
        step = int(series.freq)
        return [int(last) + step * (k + 1) for k in range(horizon)]
    return list(pd.date_range(last, periods=horizon + 1, freq=series.freq)[1:])


def _series_from_tail(tail: dict, target_name: str, feature_names: list[str], directory: Path) -> Series:
    values = np.asarray(tail["values"], dtype=float)
    time = None
    if tail["time"] is not None:
        time = pd.Index([int(t) for t in tail["time"]] if tail["integer_time"] else pd.to_datetime(tail["time"]),
                        name=tail["time_name"])  # fmt: skip
    return Series(target=values[:, 0], covariates=values[:, 1:], target_name=target_name, feature_names=feature_names,
                  time=time, freq=tail["freq"], gaps=[], path=str(directory))  # fmt: skip
