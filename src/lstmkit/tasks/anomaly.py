"""`lstmkit.AnomalyDetector`: an anomaly score for every step of a series from a CSV, with the scikit-learn
contract.

Data flow: CSV -> `read_anomaly_csv` (the data layer's checks, plus the 0/1 label column) -> split by time
(train / validation / test, the test part at the end) -> scaler fitted on the training rows -> windows
(lookback -> the next step of every column) -> `NextStepNet` trained by `train.fit` -> the standardised
prediction error of every step is its score -> a threshold chosen on the validation scores -> flags.
Labels are read only to score the flags: training never sees them.

The score of step t
-------------------
The network reads the `lookback` steps before t and predicts step t, every column at once. With
e[t, c] = x[t, c] - x_hat[t, c] (in the training scaler's units), each column's error is standardised with
the median and 1.4826 * MAD of that column's validation errors, and the columns are combined as a root mean
square:

    z[t, c] = (e[t, c] - median_c) / (1.4826 * MAD_c)      score[t] = sqrt(mean_c z[t, c]^2)

so with one column the score is |z|, "how many (robust) standard deviations the step is off its prediction".
Steps t < lookback have no full window before them: their score is NaN and their flag 0.

A flagged step is winsorised before later windows read it: its value is pulled back along its error to the
threshold (x <- x_hat + the error scaled down to a score equal to the threshold). Without that, one spike
sits in the next `lookback` windows and their predictions go wrong, a shadow of false flags after every
anomaly. Clipping to the threshold rather than replacing by the prediction keeps a real but unusual move
(a higher peak than training ever showed) mostly as it was, so a false flag does not cascade. After a whole
lookback of winsorised steps (with no lookback free of flags between them) the series is taken to have
moved for good: later flagged steps are left as they are until a lookback passes without a flag, so the
windows fill with the new level and the flags stop about a lookback later. Scoring stays causal: a step's
score depends only on the steps before it.

The threshold
-------------
Chosen on the validation scores alone (no labels), by a robust 4-sigma rule:
threshold = median + 4 * 1.4826 * MAD of the validation scores. Median and MAD, not mean and standard
deviation, because the validation part carries no labels and may hold anomalies: one large spike there
inflates a standard deviation (and hides every later anomaly) but hardly moves the MAD. A quantile rule
flags a fixed share of normal steps whatever the data; this rule flags next to none when the test part
looks like the validation part. `contamination=p` switches to the quantile rule (the 1 - p quantile of the validation
scores) and `threshold=` sets the value outright. The rolling z-score baseline gets its threshold from its
own validation scores by the same rule.

Why a one-step PREDICTOR and not a RECONSTRUCTOR (an LSTM autoencoder over windows)
-----------------------------------------------------------------------------------
Measured with a scratch harness (not shipped) on the demo data (the yearly sunspots with injected spikes,
a level shift, a flat line and a noise burst in the last 25 %; 5 seeds) and on a generated two-column
seasonal series (1,200 steps, periods 24, 12 and 7, noise, two rounds of the same anomaly mix on a random
column in the last 25 %; 3 seeds). Same hidden size (32), training, robust standardisation and threshold
rule for both; test part only; before winsorising. Mean ROC AUC / F1:

                                            demo            generated
    predictor (one step ahead)              0.72 / 0.54     0.92 / 0.63
    reconstructor, error of the last step   0.72 / 0.50     0.83 / 0.58
    reconstructor, mean over its windows    0.76 / 0.51     0.83 / 0.52
    rolling z-score                         0.71 / 0.31     0.65 / 0.06

The predictor is as good on the short, noisy demo and clearly better on the longer series; it is also
causal (it can score a step as it arrives) and makes "no score inside the first lookback" exact. So the
predictor it is. Winsorising flagged steps then took it to 0.76 / 0.54 on the demo and 0.94 / 0.89 on the
generated series (false flags on the test part: 31 -> 0.7 on average); replacing a flagged step by its
prediction instead helped the generated series as much but hurt the demo (F1 0.42): its test part holds
the largest cycles of the record, and false flags there cascaded.

With the shipped defaults (hidden 64, and the limit of a lookback of winsorised steps, which costs the
demo's dense cluster of anomalies a little) the demo (`lstmkit demo anomaly`, seeds 0-4) gives F1 0.57,
0.45, 0.58, 0.52, 0.50 against the z-score rule's 0.40, 0.08, 0.25, 0.09, 0.38, and ROC AUC 0.86, 0.72,
0.84, 0.74, 0.74 against 0.80, 0.52, 0.77, 0.68, 0.50; the generated series (seeds 0-2) F1 0.92, 0.86,
0.87 against 0.14, 0.10, 0.05.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import Tensor, nn

from ..data import Scaler, Series, make_windows, min_series_length, read_anomaly_csv, split_by_time
from ..errors import ConfigError, DataError
from ..metrics import anomaly_metrics, detect_season
from ..nn import LSTM, variant_flags
from ..rundir import load_model, save_model, unreadable
from ..train import fit, seed_everything
from .estimator import Estimator

STATE_FILE = "anomaly.json"  # beside model.safetensors: what predicting needs besides the weights
SIGMAS = 4.0  # the threshold rule: median + SIGMAS * 1.4826 * MAD of the validation scores
MAD_TO_SIGMA = 1.4826  # MAD * this = the standard deviation, for normal data
SCALE_FLOOR = 1e-3  # smallest error scale and rolling std, in training standard deviations: no division by ~0
EPS = 1e-5


# ---------------------------------------------------------------------------------------------------------
# The network, the scores, the threshold, the metrics


class NextStepNet(nn.Module):
    """x (B, L, F) scaled windows -> (B, F): the next step of every column, in the same scale.

    Each window is normalised per column by its own mean and spread before the LSTM reads it, and the
    prediction mapped back with them (as in `ForecastNet`), so a series whose level wanders beyond the
    training range is still predicted by its shape."""

    def __init__(self, n_features: int, *, hidden: int = 64, layers: int = 1, variant: str = "vanilla",
                 dropout: float = 0.0, bidirectional: bool = False, window_norm: bool = True):  # fmt: skip
        super().__init__()
        self.lstm = LSTM(n_features, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0,
                         bidirectional=bidirectional, **variant_flags(variant))  # fmt: skip
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), n_features)
        self.window_norm = window_norm

    def forward(self, x: Tensor) -> Tensor:
        if self.window_norm:
            level = x.mean(dim=1, keepdim=True)  # (B, 1, F)
            spread = x.std(dim=1, keepdim=True, unbiased=False) + EPS  # (B, 1, F)
            x = (x - level) / spread
        _, (h_n, _) = self.lstm(x)  # h_n: (layers * D, B, H)
        D = 2 if self.lstm.bidirectional else 1
        y = self.head(torch.cat(list(h_n[-D:]), dim=1))  # (B, F)
        if self.window_norm:
            y = y * spread[:, 0] + level[:, 0]
        return y


def combine_columns(z: np.ndarray) -> np.ndarray:
    """(..., F) per-column scores -> (...,) their root mean square: |z| for one column."""
    return np.sqrt(np.mean(np.square(z), axis=-1))


def rolling_zscore(values: np.ndarray, window: int, floor: float = SCALE_FLOOR) -> np.ndarray:
    """The baseline score: for step t >= window, per column |x[t] - mean| / std over the `window` steps
    before t (population std, at least `floor`), combined over columns by `combine_columns`; NaN before.
    values (N, F) or (N,) -> (N,)."""
    x = np.asarray(values, dtype=np.float64).reshape(len(values), -1)  # (N, F)
    scores = np.full(len(x), np.nan)
    if len(x) <= window:
        return scores
    past = sliding_window_view(x[:-1], window, axis=0)  # (N - window, F, window): the steps before t = window..N-1
    z = np.abs(x[window:] - past.mean(axis=-1)) / np.maximum(past.std(axis=-1), floor)  # (N - window, F)
    scores[window:] = combine_columns(z)
    return scores


def choose_threshold(validation_scores: np.ndarray, contamination: Optional[float] = None) -> float:
    """The flagging threshold from validation scores alone: median + 4 * 1.4826 * MAD, or with
    `contamination` p the 1 - p quantile. A step is flagged when its score is above it."""
    v = np.asarray(validation_scores, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        raise DataError("the validation part has no scored step to choose a threshold from; "
                        "give more data or a larger --val-frac")
    if contamination is not None:
        return float(np.quantile(v, 1 - contamination))
    median = np.median(v)
    spread = MAD_TO_SIGMA * np.median(np.abs(v - median))
    if spread <= 0:  # over half the scores are equal: fall back on the standard deviation
        spread = v.std()
    return float(median + SIGMAS * spread)


# ---------------------------------------------------------------------------------------------------------
# The estimator


class AnomalyDetector(Estimator):
    """Score every step of a series by how far an LSTM's one-step prediction misses it; flag the steps
    above a threshold chosen on validation data.

    Parameters are stored as given; what `fit` learns ends in an underscore (`model_`, `scaler_`,
    `lookback_`, `threshold_`, `error_center_`, `error_scale_`, `scores_`, `flags_`, `metrics_`, ...)."""

    def __init__(
        self,
        *,
        columns: Union[str, Sequence[str], None] = None,  # the value columns; default: every numeric one
        time_col: Optional[str] = None,
        label_col: Optional[str] = None,  # 0/1; used only to score the flags, never to train
        lookback: Optional[int] = None,  # default: two seasons, at least 24 steps, within the training part
        threshold: Optional[float] = None,  # default: chosen on the validation scores (see the module docstring)
        contamination: Optional[float] = None,  # e.g. 0.01: threshold = the 99 % quantile of validation scores
        hidden: int = 64,
        layers: int = 1,
        variant: str = "vanilla",
        dropout: float = 0.0,
        bidirectional: bool = False,
        window_norm: bool = True,  # normalise each window by its own level and spread
        val_frac: float = 0.15,
        test_frac: float = 0.15,
        fill: Optional[str] = None,
        epochs: int = 300,
        batch_size: int = 32,
        lr: float = 3e-3,
        optimizer: str = "adam",
        patience: int = 30,
        max_time: Optional[float] = None,
        seed: int = 0,
        device: str = "cpu",
        precision: str = "fp32",
    ):
        self.columns, self.time_col, self.label_col = columns, time_col, label_col
        self.lookback, self.threshold, self.contamination = lookback, threshold, contamination
        self.hidden, self.layers, self.variant, self.dropout = hidden, layers, variant, dropout
        self.bidirectional, self.window_norm = bidirectional, window_norm
        self.val_frac, self.test_frac, self.fill = val_frac, test_frac, fill
        self.epochs, self.batch_size, self.lr, self.optimizer = epochs, batch_size, lr, optimizer
        self.patience, self.max_time, self.seed = patience, max_time, seed
        self.device, self.precision = device, precision

    # ---- settings ----------------------------------------------------------------------------------
    def _check_settings(self) -> None:
        lookback = self.lookback
        if lookback is not None and (isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1):
            raise ConfigError(f"--lookback must be a positive integer, got {self.lookback!r}")
        variant_flags(self.variant)  # an unknown variant is a one-line error before any data is read
        if self.threshold is not None and self.contamination is not None:
            raise ConfigError("give --threshold or --contamination, not both")
        threshold, contamination = self.threshold, self.contamination
        if threshold is not None and not (isinstance(threshold, (int, float)) and np.isfinite(threshold)):
            raise ConfigError(f"--threshold must be a finite number, got {threshold!r}")
        if contamination is not None and not (isinstance(contamination, (int, float)) and 0 < contamination < 0.5):
            raise ConfigError(f"--contamination must be a fraction between 0 and 0.5, got {contamination!r}")
        if isinstance(self.val_frac, (int, float)) and self.val_frac <= 0:
            raise ConfigError("--val-frac must be above 0: the threshold and the error scale come from the validation part")

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, data: Union[str, Path], *, checkpoint=None, resume: bool = False, reporter=None) -> AnomalyDetector:
        """Read, split, scale, window, train on the training part; choose the threshold on the validation
        part; score every step, and the test part beside the rolling z-score baseline when labelled."""
        self._check_settings()
        config = self.train_config()
        series, labels = self._read(data, self.columns, labels_required=True)
        train, val, test = split_by_time(len(series), self.val_frac, self.test_frac)
        self.season_ = max(detect_season(column) for column in series.values[train].T.astype(np.float64))
        self.lookback_ = self.lookback or self._default_lookback(train.stop - train.start)
        self._check_length(len(series), series.path)
        self.scaler_ = Scaler().fit(series.values[train])
        self.columns_ = series.column_names
        scaled = self._scaled(series)  # (N, F)

        seed_everything(self.seed)
        self.model_ = self._build_model(len(self.columns_))
        result = fit(self.model_, self._loss, self._windows(scaled, train), self._windows(scaled, val), config,
                     checkpoint=checkpoint, resume=resume, reporter=reporter)  # fmt: skip
        self.model_.cpu().eval()
        self.history_, self.best_epoch_, self.stop_reason_ = result.history, result.best_epoch, result.stop_reason

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
        return read_anomaly_csv(data, columns=columns, time_col=self.time_col, label_col=self.label_col,
                                fill=self.fill, labels_required=labels_required)  # fmt: skip

    def _check_length(self, n: int, path) -> None:
        needed = min_series_length(self.lookback_, 1, self.val_frac, self.test_frac)
        if n < needed:
            raise DataError(f"{path}: has {n} rows, too few for a lookback of {self.lookback_} steps: the training part "
                            f"needs at least {self.lookback_ + 1} rows and the validation and test parts one each, so at "
                            f"least {needed} rows with val_frac {self.val_frac} and test_frac {self.test_frac}; "
                            "use a shorter --lookback or more data")  # fmt: skip

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

    # ---- save and load --------------------------------------------------------------------------
    def save(self, directory: Union[str, Path]) -> None:
        state = {
            "params": self.get_params(), "columns": self.columns_, "lookback": self.lookback_,
            "season": self.season_, "scaler": self.scaler_.to_dict(), "threshold": self.threshold_,
            "baseline_threshold": self.baseline_threshold_, "error_center": self.error_center_.tolist(),
            "error_scale": self.error_scale_.tolist(), "best_epoch": self.best_epoch_,
        }  # fmt: skip
        save_model(directory, self.model_.state_dict(), state, STATE_FILE)

    @classmethod
    def load(cls, directory: Union[str, Path]) -> "AnomalyDetector":
        state, tensors = load_model(directory, STATE_FILE, "anomaly detector")
        try:
            self = cls(**state["params"])
            self.columns_, self.lookback_, self.season_ = list(state["columns"]), int(state["lookback"]), state["season"]
            self.scaler_ = Scaler.from_dict(state["scaler"])
            self.threshold_, self.baseline_threshold_ = float(state["threshold"]), float(state["baseline_threshold"])
            self.error_center_ = np.asarray(state["error_center"], dtype=np.float64)
            self.error_scale_ = np.asarray(state["error_scale"], dtype=np.float64)
            self.best_epoch_ = state["best_epoch"]
            self.model_ = self._build_model(len(self.columns_))
            self.model_.load_state_dict(tensors)
        except (KeyError, TypeError, ValueError, RuntimeError):  # RuntimeError: weights that do not fit the settings
            raise unreadable(directory, "anomaly detector") from None
        self.model_.eval()
        return self
