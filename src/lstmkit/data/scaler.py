"""Per-column standardisation with the statistics of the training part only.

    scaler = Scaler().fit(series.values[train])          # (N_train, F) rows of the training part
    x = scaler.transform(series.values)                  # (N, F) standardised
    forecast = scaler.inverse_transform_target(y_hat)    # (W, H) back in the target's units
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import numpy as np
import torch

from ..errors import ConfigError, DataError, ShapeError

Array = Union[np.ndarray, torch.Tensor]


@dataclass
class Scaler:
    """Per-column standardisation, (x - mean_) / scale_, with statistics of the rows passed to `fit` — the
    training part only, so nothing of the validation or test part leaks into training.

    Constant columns get scale_ 1 (no division by zero). Works on numpy arrays and torch tensors of shape
    (..., F), keeping their dtype (and device)."""

    target_col: int = 0  # the column `inverse_transform_target` undoes
    mean_: Optional[np.ndarray] = None  # (F,) float64
    scale_: Optional[np.ndarray] = None  # (F,) float64, the population standard deviation (ddof 0)

    def fit(self, rows: Array) -> "Scaler":
        """rows (N_train, F) -> self."""
        x = rows.detach().cpu().double().numpy() if torch.is_tensor(rows) else np.asarray(rows, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ShapeError(f"Scaler.fit expected rows of shape (N, F) with N >= 1, got shape {tuple(x.shape)}")
        if not np.isfinite(x).all():
            raise DataError("cannot fit the scaler: the training rows hold NaN or infinite values")
        mean, std = x.mean(axis=0), x.std(axis=0)  # (F,), (F,)
        constant = std <= 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
        self.mean_, self.scale_ = mean, np.where(constant, 1.0, std)
        return self

    def transform(self, values: Array) -> Array:
        """(..., F) -> (..., F) standardised."""
        mean, scale = self._stats(values)
        return (values - mean) / scale

    def inverse_transform(self, values: Array) -> Array:
        """(..., F) standardised -> (..., F) in the data's units."""
        mean, scale = self._stats(values)
        return values * scale + mean

    def inverse_transform_target(self, y: Array) -> Array:
        """Target values of any shape, e.g. (W, H) forecasts, standardised -> the data's units."""
        self._check_fitted()
        mean, scale = self.mean_[self.target_col], self.scale_[self.target_col]
        return y * _like(np.float64(scale), y) + _like(np.float64(mean), y)

    def to_dict(self) -> dict:
        """JSON-serialisable: {"mean": [...], "scale": [...], "target_col": 0}."""
        self._check_fitted()
        return {"mean": self.mean_.tolist(), "scale": self.scale_.tolist(), "target_col": self.target_col}

    @classmethod
    def from_dict(cls, data: dict) -> "Scaler":
        try:
            mean = np.asarray(data["mean"], dtype=np.float64)
            scale = np.asarray(data["scale"], dtype=np.float64)
            target_col = int(data.get("target_col", 0))
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"the saved scaler is not valid ({type(error).__name__}: {error})") from None
        if mean.ndim != 1 or mean.shape != scale.shape or not (0 <= target_col < len(mean)):
            raise DataError("the saved scaler is not valid (mean and scale must be lists of the same length)")
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise DataError("the saved scaler is not valid (mean and scale must be finite, scale positive)")
        return cls(target_col=target_col, mean_=mean, scale_=scale)

    def _check_fitted(self) -> None:
        if self.mean_ is None or self.scale_ is None:
            raise ConfigError("the Scaler is not fitted; call fit(train_rows) first")

    def _stats(self, values: Array) -> tuple[Array, Array]:
        self._check_fitted()
        if values.shape[-1] != len(self.mean_):
            raise ShapeError(
                f"the Scaler was fitted on {len(self.mean_)} columns, got values of shape {tuple(values.shape)}"
            )
        return _like(self.mean_, values), _like(self.scale_, values)


def _like(stat: np.ndarray, values: Array) -> Array:
    """stat in the array type, dtype and device of values (float64 for non-float numpy input)."""
    if torch.is_tensor(values):
        return torch.as_tensor(stat, dtype=values.dtype, device=values.device)
    values = np.asarray(values)
    dtype = values.dtype if np.issubdtype(values.dtype, np.floating) else np.float64
    return np.asarray(stat, dtype=dtype)
