"""The forecaster's settings: its own, then those every job shares (`tasks/settings.py`)."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Optional, Sequence

from ...data import FILL_CHOICES
from ...settings import setting
from ..settings import SharedSettings, shared


@dataclass(eq=False)
class ForecastSettings(SharedSettings):
    target: str = setting(help="Column to forecast.")
    _: KW_ONLY
    time_col: Optional[str] = setting(None, "Time column (dates or integers such as years).")
    features: Sequence[str] = setting((), "Covariate columns, comma-separated.", listed=str)
    season: Optional[int] = setting(None, "Seasonal period (detected when absent).", whole=True, min=1)
    horizon: int = setting(1, "Steps to forecast.", whole=True, min=1)
    # default: two seasons, at least 24 steps, shortened to fit a short series but not below 8 (data.split.default_lookback)
    lookback: Optional[int] = setting(None, "Steps the model reads (default: two seasons, at least 24; down to 8 for a short series).", whole=True, min=1)  # fmt: skip
    # e.g. (0.1, 0.5, 0.9): trained with the pinball loss
    quantiles: Optional[Sequence[float]] = setting(None, "Quantiles for prediction intervals, e.g. 0.1,0.5,0.9.", listed=float)
    fill: Optional[str] = setting(None, "Fill missing values instead of stopping.", choices=FILL_CHOICES)
    window_norm: bool = setting(True, "Normalise each window by its own level and spread.", cli=False)
    epochs: int = shared("epochs", 300)
    lr: float = shared("lr", 3e-3)
    patience: int = shared("patience", 30)

    def __post_init__(self):
        self.features = tuple(self.features)
