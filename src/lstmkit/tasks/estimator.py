"""What every job's estimator shares: scikit-learn's `get_params`, and the training settings as a `TrainConfig`."""

from __future__ import annotations

import inspect

from ..train import TrainConfig


class Estimator:
    """Base of `Forecaster`, `SequenceClassifier`, `LanguageModel` and `AnomalyDetector`: `__init__` only
    stores its arguments, under their own names, so these two can read them back."""

    def get_params(self) -> dict:
        """Every constructor argument as stored, as scikit-learn's estimators report them."""
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    def train_config(self) -> TrainConfig:
        """The shared training options, checked."""
        return TrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, optimizer=self.optimizer,
            patience=self.patience, max_time=self.max_time, seed=self.seed, device=self.device,
            precision=self.precision,
        ).validate()  # fmt: skip
