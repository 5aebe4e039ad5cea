"""The anomaly detector's settings: its own, then those every job shares (`tasks/settings.py`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Union

from ...data import FILL_CHOICES
from ...settings import setting
from ..settings import SharedSettings, columns_given, shared, time_col_setting, time_format_setting


@dataclass(kw_only=True, eq=False)
class AnomalySettings(SharedSettings):
    # the value columns; default: every numeric one
    columns: Union[str, Sequence[str], None] = setting(
        None, "Columns to watch, comma-separated (default: every numeric one).", listed=str)
    time_col: Optional[str] = time_col_setting()
    time_format: Optional[str] = time_format_setting()
    # 0/1; used only to score the flags, never to train
    label_col: Optional[str] = setting(None, "0/1 column of known anomalies, used only for scoring.")
    # default: two seasons, at least 24 steps, within the training part
    lookback: Optional[int] = setting(None, "Steps the predictor reads.", whole=True, min=1)
    # default: chosen on the validation scores (see docs/anomaly-detector.md)
    # scores are root mean squares of z-scores, never negative
    threshold: Optional[float] = setting(None, "Score above which a step is flagged (default: chosen on validation data).",
                                         above=0, below=math.inf)  # fmt: skip
    # e.g. 0.01: threshold = the 99 % quantile of validation scores
    contamination: Optional[float] = setting(
        None, "Flag this fraction of validation steps instead of the robust rule.", above=0, below=0.5)
    fill: Optional[str] = setting(None, "Fill missing values instead of stopping.", choices=FILL_CHOICES)
    window_norm: bool = setting(True, "Normalise each window by its own level and spread.", cli=False)
    epochs: int = shared("epochs", 300)
    lr: float = shared("lr", 3e-3)
    patience: int = shared("patience", 30)

    def __post_init__(self):
        self.time_col = columns_given(self.time_col)
