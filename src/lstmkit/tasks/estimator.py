"""What every job's estimator shares: scikit-learn's `get_params`/`set_params`, the settings checked against
their declarations, the training settings as a `TrainConfig`, and saving and loading a fitted estimator."""

from __future__ import annotations

import difflib
import inspect
from pathlib import Path
from typing import Union

from ..errors import ConfigError
from ..rundir import load_model, save_model, unreadable
from ..settings import check_settings
from ..train import TrainConfig
from .settings import TRAINING

BASELINE_TENSORS = "baseline."  # names a baseline's arrays saved beside the network's weights


class Estimator:
    """Base of the job estimators. A job's estimator extends its settings dataclass and this class:

        class Forecaster(ForecastSettings, Estimator): ...

    so `__init__` (the dataclass's) only stores its arguments, under their own names, and these methods
    read them back. `noun` names the estimator in messages ("forecaster")."""

    noun = "model"  # names the estimator in messages ("forecaster")
    state_file = "model.json"  # beside model.safetensors: what predicting needs besides the weights
    reads_text = False  # the gate inspector gives it text rather than a series
    keeps_input = False  # the gate inspector reads what the fitted model keeps when given no input (`gate_input(None)`)

    def describe(self) -> str:
        """What the fitted estimator is, for messages ("forecaster", "text classifier")."""
        return self.noun

    def get_params(self, deep: bool = True) -> dict:
        """Every constructor argument as stored, as scikit-learn's estimators report them (`deep` is
        accepted for scikit-learn's `clone`; no setting holds an estimator)."""
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    def __sklearn_tags__(self):
        """scikit-learn's tags, which its `clone`, `cross_val_score` and search classes read (1.6 and later)."""
        from sklearn.base import BaseEstimator

        return BaseEstimator.__sklearn_tags__(self)

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

    def fixed_settings(self) -> dict[str, str]:
        """The settings that these settings hold fixed, with why: `lstmkit tune` searches none of them."""
        return {}

    def train_config(self) -> TrainConfig:
        """The shared training options, checked, with device and precision resolved for this machine; a setting
        a job leaves None (the classifier's epochs) takes TrainConfig's default."""
        given = {name: getattr(self, name) for name in TRAINING}
        return TrainConfig(**{name: value for name, value in given.items() if value is not None}).resolved()

    def export_graph(self):
        """The fitted network as `lstmkit export` writes it to ONNX (`lstmkit.export.onnx.Graph`): its inputs
        and outputs, by name, with their dynamic axes."""
        raise ConfigError(f"a {self.noun}'s network cannot be exported to ONNX yet")

    # ---- save and load: the weights (safetensors) and a JSON state; each job says what its state holds
    def save(self, directory: Union[str, Path]) -> None:
        """The fitted estimator into `directory`: model.safetensors and `state_file`."""
        save_model(directory, self._tensors(), {"params": self.get_params(), **self._state()}, self.state_file)

    @classmethod
    def load(cls, directory: Union[str, Path]):
        """A fitted estimator from `directory`; a one-line DataError for a missing, torn or foreign file."""
        state, tensors = load_model(directory, cls.state_file, cls.noun)
        try:
            self = cls(**state["params"])
            self.check_settings()  # a hand-edited setting out of its range: a ConfigError, a ValueError
            self._restore(state, tensors, Path(directory))
        # TypeError, AttributeError, IndexError: a hand-edited or foreign file; RuntimeError: weights that do not
        # fit the settings
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError):
            raise unreadable(directory, cls.noun) from None
        self.model_.eval()
        return self

    def _tensors(self) -> dict:
        """The weights to save."""
        return dict(self.model_.state_dict())

    def _state(self) -> dict:
        """What predicting needs besides the weights and the settings, as JSON values."""
        raise NotImplementedError

    def _restore(self, state: dict, tensors: dict, directory: Path) -> None:
        """The learned attributes and `model_` (with its weights) from what `_state` and `_tensors` saved."""
        raise NotImplementedError


def saved_whole(state: dict, name: str, least: int = 0):
    """The whole number `state[name]` (at least `least`) of a saved estimator; for anything else (a hand-edited
    "abc", null, 1e9) a ValueError, which `Estimator.load` reports as an unreadable run."""
    value = state[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be a whole number of at least {least}, got {value!r}")
    return value


def with_baseline(tensors: dict, arrays: dict) -> dict:
    """The weights to save, and a baseline's arrays (numpy, by name) under BASELINE_TENSORS: what a job's
    baseline learnt travels with the run, so a loaded model scores new data beside it."""
    import numpy as np
    import torch

    return {**tensors, **{BASELINE_TENSORS + name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in arrays.items()}}


def pop_baseline(tensors: dict) -> dict:
    """The baseline's arrays (numpy, by name) that `with_baseline` saved, taken out of the loaded `tensors`,
    which keeps the network's weights alone."""
    return {name[len(BASELINE_TENSORS):]: tensors.pop(name).numpy() for name in list(tensors) if name.startswith(BASELINE_TENSORS)}
