"""`lstmkit.AnomalyDetector`: an anomaly score for every step of a series from a CSV, with the scikit-learn
contract.

Data flow: CSV -> `data.read_anomaly_csv` (the data layer's checks, plus the 0/1 label column) -> split by
time (train / validation / test, the test part at the end) -> scaler fitted on the training rows -> windows
(lookback -> the next step of every column) -> `NextStepNet` trained by `train.fit` -> the standardised
prediction error of every step is its score -> a threshold chosen on the validation scores -> flags.
Labels are read only to score the flags: training never sees them.

The score of step t is how far the network's prediction from the `lookback` steps before it misses it:
each column's error standardised with the median and 1.4826 * MAD of that column's validation errors, the
columns combined as a root mean square (so with one column, "how many robust standard deviations off").
Flagged steps are winsorised before later windows read them, so one spike does not cast a shadow of false
flags. The threshold is median + 4 * 1.4826 * MAD of the validation scores (or the 1 - contamination
quantile, or given). Why a one-step predictor rather than an autoencoder, the winsorising rule and the
measurements behind each choice: docs/anomaly-detector.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from ...baselines import SCALE_FLOOR, combine_columns, rolling_zscore
from ...data import Scaler, Series, make_windows, min_series_length, split_by_time
from ...data.anomaly_csv import read_anomaly_csv
from ...data.panel import numbers_as_array
from ...errors import ConfigError, DataError
from ...metrics import anomaly_metrics, detect_season
from ...rundir import times_written
from ...train import fit, seed_everything
from ..estimator import Estimator, saved_whole
from ..gate_input import GateInput, series_gate_input, series_values
from .net import NextStepNet
from .settings import AnomalySettings

SIGMAS = 4.0  # the threshold rule: median + SIGMAS * 1.4826 * MAD of the validation scores
MAD_TO_SIGMA = 1.4826  # MAD * this = the standard deviation, for normal data
# validation steps a threshold is chosen from, at least: from fewer, its median and MAD are noise, and a 10-row
# file would flag whatever its test part holds
MIN_THRESHOLD_STEPS = 20


def choose_threshold(validation_scores: np.ndarray, contamination: Optional[float] = None) -> float:
    """The flagging threshold from validation scores alone: median + 4 * 1.4826 * MAD, or with
    `contamination` p the 1 - p quantile. A step is flagged when its score is above it."""
    v = np.asarray(validation_scores, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        raise DataError("the validation part has no scored step to choose a threshold from; "
                        "give more data or a larger `val_frac`")
    if contamination is not None:
        return float(np.quantile(v, 1 - contamination))
    median = np.median(v)
    spread = MAD_TO_SIGMA * np.median(np.abs(v - median))
    if spread <= 0:  # over half the scores are equal: fall back on the standard deviation
        spread = v.std()
    return float(median + SIGMAS * spread)


class AnomalyDetector(AnomalySettings, Estimator):
    """Score every step of a series by how far an LSTM's one-step prediction misses it; flag the steps
    above a threshold chosen on validation data.

    Parameters (`AnomalySettings`) are stored as given; what `fit` learns ends in an underscore (`model_`, `scaler_`,
    `lookback_`, `threshold_`, `error_center_`, `error_scale_`, `scores_`, `flags_`, `metrics_`, ...)."""

    noun = "anomaly detector"
    state_file = "anomaly.json"

    # ---- settings ----------------------------------------------------------------------------------
    def _check_settings(self) -> None:
        """Every setting checked before any data is read."""
        self.check_settings()
        if self.threshold is not None and self.contamination is not None:
            raise ConfigError("give `threshold` or `contamination`, not both")
        threshold = self.threshold
        if threshold is not None and not (isinstance(threshold, (int, float)) and np.isfinite(threshold)):
            raise ConfigError(f"`threshold` must be a finite number, got {threshold!r}")
        if isinstance(self.val_frac, (int, float)) and self.val_frac <= 0:
            raise ConfigError("`val_frac` must be above 0: the threshold and the error scale come from the validation part")
        if self.test_frac == 0:
            raise ConfigError("`test_frac` 0 leaves no test part to flag and score; give a `test_frac` above 0 such as "
                              "0.15 (predict scores every step of any series)")  # fmt: skip

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, data: Union[str, Path], *, checkpoint=None, resume: bool = False, reporter=None,
            score_test: bool = True) -> AnomalyDetector:  # fmt: skip
        """Read, split, scale, window, train on the training part; choose the threshold on the validation
        part; score every step, and the test part beside the rolling z-score baseline when labelled
        (score_test False, a tuning trial: training only, the test part held out and never scored)."""
        self._check_settings()
        config = self.train_config()
        series, labels = self._read(data, self.columns, labels_required=True)
        train, val, test = split_by_time(len(series), self.val_frac, self.test_frac)
        self.season_ = max(detect_season(column) for column in series.values[train].T.astype(np.float64))
        self.lookback_ = self.lookback or self._default_lookback(train.stop - train.start)
        self._check_length(len(series), series.path)
        self._check_validation_steps(val.stop - max(val.start, self.lookback_), series.path)
        self.scaler_ = Scaler().fit(series.values[train])
        self.columns_ = series.column_names
        scaled = self._scaled(series)  # (N, F)

        seed_everything(self.seed)
        self.model_ = self._build_model(len(self.columns_))
        result = fit(self.model_, self._loss, self._windows(scaled, train), self._windows(scaled, val), config,
                     checkpoint=checkpoint, resume=resume, reporter=reporter)  # fmt: skip
        self.model_.cpu().eval()
        self.history_, self.best_epoch_, self.stop_reason_ = result.history, result.best_epoch, result.stop_reason
        if not score_test:
            self.test_ = self.metrics_ = self.baselines_ = None
            return self

        # the error scale and both thresholds read the validation part only: no label, no test step
        errors = self._errors(scaled, val)  # (W_val, F)
        self.error_center_ = np.median(errors, axis=0)  # (F,)
        spread = MAD_TO_SIGMA * np.median(np.abs(errors - self.error_center_), axis=0)  # (F,)
        self.error_scale_ = np.maximum(spread, SCALE_FLOOR)
        self.validation_scores_ = combine_columns((errors - self.error_center_) / self.error_scale_)  # (W_val,)
        self.threshold_ = (float(self.threshold) if self.threshold is not None
                           else choose_threshold(self.validation_scores_, self.contamination))  # fmt: skip
        baseline = rolling_zscore(scaled.numpy(), self.lookback_)
        self.baseline_threshold_ = choose_threshold(baseline[val], self.contamination)

        self.series_, self.labels_ = series, labels
        self.scores_, self.flags_ = self._score(scaled)
        self.baseline_scores_ = baseline
        self.test_ = self._summary(labels, self.scores_, self.flags_, baseline, test)
        self.metrics_, self.baselines_ = self.test_["test"], self.test_["baselines"]
        return self

    def _read(self, data, columns, labels_required: bool) -> tuple[Series, Optional[np.ndarray]]:
        data = numbers_as_array(data)  # a list of numbers: a 1-D array
        if isinstance(columns, (list, tuple)) and len(columns) == 1 and (
                isinstance(data, pd.Series) or (isinstance(data, np.ndarray) and data.ndim == 1)):  # fmt: skip
            data = pd.Series(data).rename(columns[0])  # one column of values: the model's one column, whatever its name
        return read_anomaly_csv(data, columns=columns, time_col=self.time_col, time_format=self.time_format,
                                label_col=self.label_col, fill=self.fill, labels_required=labels_required)  # fmt: skip

    def _check_length(self, n: int, path) -> None:
        needed = min_series_length(self.lookback_, 1, self.val_frac, self.test_frac, train_windows=1)
        if n < needed:
            raise DataError(f"{path}: has {n} rows, too few for a lookback of {self.lookback_} steps: the training part "
                            f"needs at least {self.lookback_ + 1} rows and the validation and test parts one each, so at "
                            f"least {needed} rows with val_frac {self.val_frac} and test_frac {self.test_frac}; "
                            "use a shorter `lookback` or more data")  # fmt: skip

    def _check_validation_steps(self, n: int, path) -> None:
        if self.threshold is None and n < MIN_THRESHOLD_STEPS:
            raise DataError(f"{path}: the validation part has {n} scored steps, too few to choose a threshold from "
                            f"(at least {MIN_THRESHOLD_STEPS}); give more data, a larger `val_frac`, or the threshold "
                            "with `threshold`")  # fmt: skip

    def _default_lookback(self, n_train: int) -> int:
        wanted = max(24, 2 * self.season_)
        return max(1, min(wanted, n_train - 1 - 8))  # leave the training part at least a handful of windows

    def _build_model(self, n_features: int) -> NextStepNet:
        return NextStepNet(n_features, hidden=self.hidden, layers=self.layers, variant=self.variant,
                           dropout=self.dropout, bidirectional=self.bidirectional, window_norm=self.window_norm)  # fmt: skip

    def _scaled(self, series: Series) -> Tensor:
        return torch.from_numpy(self.scaler_.transform(series.values).astype(np.float32))

    def _windows(self, scaled: Tensor, part: slice) -> tuple[Tensor, Tensor]:
        """The windows predicting the steps t of `part`: X (W, L, F) and Y (W, F) = scaled[t], both views."""
        X, _ = make_windows(scaled, self.lookback_, 1, start=part.start, stop=part.stop)
        first = max(part.start, self.lookback_)
        return X, scaled[first : first + len(X)]

    def _loss(self, model: nn.Module, batch) -> Tensor:
        x, y = batch
        return nn.functional.mse_loss(model(x).float(), y)

    # ---- scores ------------------------------------------------------------------------------------
    @torch.no_grad()
    def _predict_windows(self, X: Tensor) -> np.ndarray:
        """Windows (W, L, F) -> the predicted next steps (W, F), float64, in the scaled space."""
        self.model_.eval()
        if len(X) == 0:
            return np.empty((0, X.shape[-1]))
        return torch.cat([self.model_(X[i : i + 1024]).float() for i in range(0, len(X), 1024)]).double().numpy()

    def _errors(self, scaled: Tensor, part: slice) -> np.ndarray:
        """Raw prediction errors x - x_hat (W, F) of the steps of `part`, from the data as it is."""
        X, Y = self._windows(scaled, part)
        return Y.double().numpy() - self._predict_windows(X)

    def _score(self, scaled: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """scaled (N, F) -> scores (N,) float64 (NaN for t < lookback) and flags (N,) int64.

        In time order, a block of steps at a time: score the block from the data as cleaned so far; at its
        first flagged step, winsorise that step and go on from the step after it (the windows that read it
        change). Once `lookback` steps have been winsorised with no flag-free stretch of `lookback` steps
        between them, the series has moved somewhere new: later flags are left as they are, so the windows
        fill with the new level and the predictions follow it, until a whole lookback passes without a
        flag. Blocks start small after a flag and double while no step is flagged."""
        x = scaled.clone()  # (N, F): winsorised in place as flags are found
        n, L = len(x), self.lookback_
        scores, flags = np.full(n, np.nan), np.zeros(n, dtype=np.int64)
        t, block = L, 16
        last_flag, cleaned = -n - L, 0  # cleaned: steps winsorised since the last L flag-free steps in a row
        while t < n:
            stop = min(n, t + block)
            X, _ = make_windows(x, L, 1, start=t, stop=stop)  # (W, L, F) views of the cleaned data
            predicted = self._predict_windows(X)  # (W, F)
            z = (x[t:stop].double().numpy() - predicted - self.error_center_) / self.error_scale_  # (W, F)
            scores[t:stop] = combine_columns(z)
            over = np.flatnonzero(scores[t:stop] > self.threshold_)
            if len(over) == 0:
                t, block = stop, min(2 * block, 1024)
                continue
            k = int(over[0])
            flags[t + k] = 1
            if t + k - last_flag > L:  # a whole lookback without a flag since the last one: a fresh start
                cleaned = 0
            last_flag = t + k
            if cleaned < L:
                cleaned += 1
                score = scores[t + k]
                clipped = z[k] * (max(self.threshold_, 0.0) / score) if score > 0 else z[k]  # now scores the threshold
                x[t + k] = torch.from_numpy(predicted[k] + self.error_center_ + self.error_scale_ * clipped)
            t, block = t + k + 1, 16
        return scores, flags

    def _summary(self, labels, scores, flags, baseline, part: slice) -> dict:
        """Flag counts on the scored steps of `part`, and with labels the metrics beside the baseline's."""
        steps = np.arange(max(part.start, self.lookback_), part.stop)  # (S,) the scored steps of the part
        summary = {"steps": int(len(steps)), "flagged": int(flags[steps].sum()),
                   "flagged_frac": float(flags[steps].mean()) if len(steps) else 0.0,
                   "anomalies": None if labels is None else int(labels[steps].sum()),
                   "test": {}, "baselines": {}, "steps_index": steps}  # fmt: skip
        if labels is not None and len(steps):
            baseline_flags = (baseline[steps] > self.baseline_threshold_).astype(np.int64)
            summary["test"] = anomaly_metrics(labels[steps], scores[steps], flags[steps])
            summary["baselines"] = {"rolling_zscore": anomaly_metrics(labels[steps], baseline[steps], baseline_flags)}
            summary["baseline_flagged"] = {"rolling_zscore": int(baseline_flags.sum())}
        return summary

    def score_series(self, series: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(scores, flags, baseline scores), each (N,), of a series read with `read_anomaly_csv`."""
        if len(series) <= self.lookback_:
            raise DataError(f"{series.path}: has {len(series)} rows; scoring needs more than the lookback of "
                            f"{self.lookback_} steps")  # fmt: skip
        scaled = self._scaled(series)
        scores, flags = self._score(scaled)
        return scores, flags, rolling_zscore(scaled.numpy(), self.lookback_)

    def predict(self, data=None) -> pd.DataFrame:
        """One row per step: the time (if any), the values, the label (if the data has one), `score` (NaN
        for the first `lookback` steps) and `flag` (0/1). No data: the training data's steps."""
        if data is None:
            if not hasattr(self, "series_"):
                raise DataError("this detector was loaded from a run directory; give the data to score")
            series, labels, scores, flags = self.series_, self.labels_, self.scores_, self.flags_
        else:
            series, labels = self._read(data, self.columns_, labels_required=False)
            scores, flags, _ = self.score_series(series)
        frame = pd.DataFrame(series.values.astype(np.float64), columns=series.column_names)
        if series.time is not None:
            frame.insert(0, series.time.name or "time", series.time)
            frame = times_written(frame, series.time.name or "time", series.time_format)
        if labels is not None:
            frame[self.label_col] = labels
        frame["score"], frame["flag"] = scores, flags
        return frame

    def evaluate(self, data=None) -> dict:
        """Metrics beside the baseline's and the flag counts: on the test part of the training data (no
        argument), or on every scored step of new data (labelled, when the detector has a label column)."""
        if data is None:
            return {k: v for k, v in self.test_.items() if k != "steps_index"}
        series, labels = self._read(data, self.columns_, labels_required=self.label_col is not None)
        scores, flags, baseline = self.score_series(series)
        summary = self._summary(labels, scores, flags, baseline, slice(0, len(series)))
        return {k: v for k, v in summary.items() if k != "steps_index"}

    # ---- the gate inspector ---------------------------------------------------------------------
    def gate_input(self, data, max_steps: Optional[int] = None) -> GateInput:
        """The series to inspect (a CSV path read as training read it, a `Series`, a DataFrame of the
        model's columns, or an array (N,) or (N, F)) as the network reads it: see `series_gate_input`."""
        if isinstance(data, (str, Path)):
            data, _ = self._read(data, self.columns_, labels_required=False)
        return series_gate_input(self, self.noun, series_values(data, list(self.columns_)), list(self.columns_), max_steps)

    # ---- export -----------------------------------------------------------------------------------
    def export_graph(self):
        """x (batch, time, columns): windows of the scaled columns (`lookback` steps as trained) -> next
        (batch, columns): the predicted next step of every column, scaled."""
        from ...export.onnx import Graph

        F = len(self.columns_)
        sample = lambda batch, steps: {"x": torch.randn(batch, max(steps, 2), F)}  # noqa: E731
        return Graph(self.model_, sample(2, self.lookback_), ["next"], {"x": {0: "batch", 1: "time"}}, sample,
                     min_steps={"time": 2})  # fmt: skip

    # ---- save and load --------------------------------------------------------------------------
    def _state(self) -> dict:
        return {
            "columns": self.columns_, "lookback": self.lookback_, "season": self.season_,
            "scaler": self.scaler_.to_dict(), "threshold": self.threshold_,
            "baseline_threshold": self.baseline_threshold_, "error_center": self.error_center_.tolist(),
            "error_scale": self.error_scale_.tolist(), "best_epoch": self.best_epoch_,
        }  # fmt: skip

    def _restore(self, state: dict, tensors: dict, directory: Path) -> None:
        self.columns_, self.lookback_, self.season_ = list(state["columns"]), saved_whole(state, "lookback", 1), saved_whole(state, "season", 1)
        self.scaler_ = Scaler.from_dict(state["scaler"])
        self.threshold_, self.baseline_threshold_ = float(state["threshold"]), float(state["baseline_threshold"])
        self.error_center_ = np.asarray(state["error_center"], dtype=np.float64)
        self.error_scale_ = np.asarray(state["error_scale"], dtype=np.float64)
        self.best_epoch_ = state["best_epoch"]
        self.model_ = self._build_model(len(self.columns_))
        self.model_.load_state_dict(tensors)
