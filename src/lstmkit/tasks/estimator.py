"""What every job's estimator shares: scikit-learn's `get_params`/`set_params`, the settings checked against
their declarations, and the training settings as a `TrainConfig`."""

from __future__ import annotations

import difflib
import inspect

from ..errors import ConfigError
from ..settings import check_settings
from ..train import TrainConfig
from .settings import TRAINING


class Estimator:
    """Base of the job estimators. A job's estimator extends its settings dataclass and this class:

        class Forecaster(ForecastSettings, Estimator): ...

    so `__init__` (the dataclass's) only stores its arguments, under their own names, and these methods
    read them back. `noun` names the estimator in messages ("forecaster")."""

    noun = "model"  # names the estimator in messages ("forecaster")
    reads_text = False  # the gate inspector gives it text rather than a series

    def describe(self) -> str:
        """What the fitted estimator is, for messages ("forecaster", "text classifier")."""
        return self.noun

    def get_params(self, deep: bool = True) -> dict:
        """Every constructor argument as stored, as scikit-learn's estimators report them (`deep` is
        accepted for scikit-learn's `clone`; no setting holds an estimator)."""
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    def set_params(self, **params) -> "Estimator":
        """Set settings by name, as scikit-learn's `set_params`; returns the estimator."""
        known = list(inspect.signature(type(self)).parameters)
        for name, value in params.items():
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"its settings are {', '.join(known)}"
                raise ConfigError(f"{type(self).__name__} has no setting {name!r}; {hint}")
            setattr(self, name, value)
        return self

    def check_settings(self) -> None:
        """Each setting against its declaration (bounds, choices), before any data is read."""
        check_settings(self)

    def train_config(self) -> TrainConfig:
        """The shared training options, checked, with device and precision resolved for this machine."""
        return TrainConfig(**{name: getattr(self, name) for name in TRAINING}).resolved()
