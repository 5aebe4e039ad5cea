"""The forecaster's settings: its own, then those every job shares (`tasks/settings.py`)."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Optional, Sequence

from ...data import FILL_CHOICES
from ...settings import setting
from ..settings import SharedSettings, columns_given, shared, time_col_setting, time_format_setting

BASES = ("auto", "naive2", "snaive", "ets", "none")  # the statistical forecast the network corrects (`net.py`)
ETS_INPUTS = ("auto", "yes", "no")
STARTS = ("zero", "pretrained")
LOSSES = ("auto", "mae", "mse")
SHRINKS = ("auto", "no")
SHRINK_WINDOWS = 200  # shrink "auto": one series keeps n / (n + SHRINK_WINDOWS) of its correction (`Forecaster._shrinkage`)


@dataclass(eq=False)
class ForecastSettings(SharedSettings):
    target: Optional[str] = setting(None, "Column to forecast (default: the data's one numeric column besides the "
                                          "time, id and covariate columns); several, comma-separated, forecast each "
                                          "column of a wide table as a series of its own, with one model for all.")
    _: KW_ONLY
    time_col: Optional[str] = time_col_setting()
    time_format: Optional[str] = time_format_setting()
    id_col: Optional[str] = setting(None, "Series id column: many series in long format, one model for all "
                                          "(several comma-separated: a series per combination, its id their "
                                          "values joined with '/').")  # fmt: skip
    features: Sequence[str] = setting((), "Covariate columns, comma-separated.", listed=str)
    # known-future covariates, as Darts' future_covariates and neuralforecast's futr_exog_list: each horizon step's
    # values move that step's forecast (ForecastNet.future); the LSTM reads them over the past only where `features`
    # names them too (Forecaster._covariates says why)
    future_features: Sequence[str] = setting((), "Covariate columns known in advance (holidays, promotions, "
                                                 "planned prices): their values at each forecast step move that "
                                                 "step's forecast; `predict` takes them from --future FILE. Name "
                                                 "them in --features too for the LSTM to read them over the past.",
                                             listed=str)  # fmt: skip
    season: Optional[int] = setting(None, "Seasonal period (detected when absent).", whole=True, min=1)
    horizon: int = setting(1, "Steps to forecast.", whole=True, min=1)
    # default: two seasons, at least 24 steps, shortened to fit a short series but not below 8 (data.split.default_lookback)
    lookback: Optional[int] = setting(None, "Steps the model reads (default: two seasons, at least 24; down to 8 for a short series).", whole=True, min=1)  # fmt: skip
    # e.g. (0.1, 0.5, 0.9): trained with the pinball loss
    quantiles: Optional[Sequence[float]] = setting(None, "Quantiles for prediction intervals, e.g. 0.1,0.9 (the median, the point forecast, is "
                                                          "added where not given).", listed=float)  # fmt: skip
    fill: Optional[str] = setting(None, "Fill missing values instead of stopping.", choices=FILL_CHOICES)
    # auto: one series, ets for no season or a calendar season of at most 24 steps, else whichever of ets, naive2 and
    # snaive forecasts the validation part best before training; many: naive2 (Forecaster._choose_base)
    base: str = setting("auto", "Statistical forecast the LSTM corrects: auto (one series: ets, or where ETS "
                                "models no season, whichever of naive2, snaive and ets forecasts the validation part "
                                "best; many: naive2), naive2 (deseasonalised last level), snaive, ets "
                                "(statsforecast's AutoETS), none.", choices=BASES)  # fmt: skip
    # auto: many series (where it lowered the mean MASE of ETS's three losing collections, M1 monthly and quarterly and
    # M3 other, by 4-7%: Forecaster's notes); never with the ets base, whose start that forecast already is
    # and in an ensemble, members 0, 2, 4, ... only: the mix forecast better than either kind alone (Forecaster's notes)
    ets_input: str = setting("auto", "Give the network the ETS forecast from each window's origin beside what it "
                                     "reads: auto (for many series; in an ensemble, every other member), yes, no.",
                             choices=ETS_INPUTS)  # fmt: skip
    # pretrained: the network shipped for the season (tasks/forecast/pretrained.py), trained on many series, as the
    # members' first weights; training goes on from there and early stopping can keep them as they are
    start: str = setting("zero", "Where the network starts: zero (its correction is zero, so it starts as its "
                                 "statistical base) or pretrained (lstmkit's network for the season, trained on the "
                                 "M3 competition's series; base naive2 reading the ETS forecast).", choices=STARTS)  # fmt: skip
    # auto: one series from the ETS start, the correction kept to n / (n + SHRINK_WINDOWS) of itself, n its training
    # windows (Forecaster._shrinkage); other starts and many series keep it whole
    shrink: str = setting("auto", "Shrink the trained correction toward the ETS forecast it starts from: auto (one "
                                  f"series: to n / (n + {SHRINK_WINDOWS}) of itself, n its training windows, so a correction "
                                  "learned from few windows counts little), no.", choices=SHRINKS)  # fmt: skip
    # auto: mse where demand is intermittent (Forecaster.intermittent_), whose median is no sales, else mae
    loss: str = setting("auto", "What training minimises, each series' errors scaled by its MASE scale: mae "
                                "(the forecast is the median), mse (the mean), or auto: mse where demand is "
                                "intermittent (a quarter or more of most series' values zero), else mae.",
                        choices=LOSSES)  # fmt: skip
    ensemble: int = setting(1, "Members (other seeds) whose mean is the forecast.", whole=True, min=1)
    backtest: int = setting(0, "Score K rolling origins, horizon steps apart, at the end of each series (0: the test part).", whole=True, min=0)
    refit: bool = setting(False, "With backtest: train again on the data before each origin.")
    # the validation part holds each series' latest steps: early stopping picks the epochs, then a refit learns them too
    refit_full: bool = setting(True, "After early stopping, train again on the training and validation parts "
                                     "together, for the epochs and learning rates validation chose.")  # fmt: skip
    interval: float = setting(0.9, "Coverage of the conformal prediction interval (0: no interval).", min=0, below=1)
    batch_size: Optional[int] = shared("batch_size", None, help="Windows per mini-batch (default: 32 for one series, 256 for many).")
    # 0: the network as it starts, scored and saved (zero-shot from a pretrained start), its losses the history's epoch 0
    epochs: int = shared("epochs", 300, min=0, help="Most epochs (early stopping usually ends sooner); 0: no training, the "
                                                    "network as it starts (its statistical base, or the pretrained one).")  # fmt: skip
    lr: float = shared("lr", 3e-3)
    patience: int = shared("patience", 30)

    def __post_init__(self):
        self.features = tuple(self.features)
        self.future_features = tuple(self.future_features)
        self.id_col = columns_given(self.id_col)
        self.time_col = columns_given(self.time_col)
        self.target = columns_given(self.target)
