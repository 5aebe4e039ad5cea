"""`lstmkit.Forecaster`: multi-step forecasting of one series or of many at once, with the scikit-learn contract.

Data flow: a CSV (or DataFrame) -> `data.read_panel_csv` / `read_series_csv` -> per series: the split by
time, the seasonal factors and the MASE scale from its past only -> windows (lookback -> horizon) from every
series -> one `ForecastNet` (or an ensemble of them) trained by `train.fit` -> the test part scored beside
the naive, seasonal naive, Naive2, ETS and Theta forecasts of the very same windows (and ARIMAX's, reading the
covariates known ahead, where the model reads them: `future_features`; Croston SBA's, where the data is
intermittent demand: `intermittent_`, on which the loss and the verdict's metric depend too).

One series (no `id_col`): the split is by `val_frac` / `test_frac`, and every window whose targets lie in
the test part is scored. Many series (`id_col`, long format): as in the M4 competition and neuralforecast,
each series' last `horizon` steps are its test part and the `horizon` steps before them its validation
part; metrics are computed per series and averaged, with OWA against Naive2.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import time
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch
from torch import nn

from ...data import Scaler, Series, check_length, default_lookback, part_rows, read_series_csv, split_by_time
from ...data.panel import (FRAMES, WIDE_ID, Panel, check_series_lengths, frame_table, numbers_as_array,
                           panel_from_frame, panel_from_table, read_future_values, read_panel_csv, read_tsf_panel,
                           split_ids, wide_panel)
from ...data.csv_table import and_list, format_suffix, read_csv_table
from ...data.series import check_roles, feature_list, series_from_table, target_column
from ...decompose import repeats_each, seasonal_parts
from ...errors import ConfigError, DataError
from ...metrics import detect_season
from ...rundir import Predictions, times_written
from ...settings import check_whole
from ...statistical import ETS_SEASONS, ETSStates, InBackground, ets_fits, intermittent
from ...train import TrainConfig, TrainResult, evaluate_loss, fit, member_checkpoint, seed_everything
from ...train.distributed import env_world
from ..estimator import Estimator, saved_whole
from ..settings import TRAINING
from ..gate_input import GateInput, capped, series_values
from .net import STEP_UNITS, ForecastNet, MeanForecast, scaled_error
from .pretrained import Pretrained, load_pretrained, pretrained_seasons
from .scoring import conformal_quantiles, known_ahead, mase_scale, score_panel, score_series, statistical_job
from .settings import SHRINK_WINDOWS, ForecastSettings
from .timing import calendar_seasons, future_times, on_calendar, steps_between, time_kind, without_calendar


@dataclasses.dataclass
class Origins:
    """Which windows: W windows named by their series and their first target step in it."""

    series: np.ndarray  # (W,) the series of each window
    origins: np.ndarray  # (W,) each window's first target step in its series

    @classmethod
    def of(cls, series, origins) -> "Origins":
        """From per-series lists of equal length (or arrays), concatenated as int64."""
        return cls(np.concatenate(series).astype(np.int64), np.concatenate(origins).astype(np.int64))


@dataclasses.dataclass
class Windows:
    """Windows as the network reads them: X (W, L, F), seasonal (W, 2, H) (the factors and offsets of the
    horizon steps; (W, 3, H) with the ETS forecast after them where the network reads it), weight (W,),
    Y (W, H)."""

    X: torch.Tensor
    seasonal: torch.Tensor
    weight: torch.Tensor
    Y: torch.Tensor

    def tensors(self) -> tuple:
        return self.X, self.seasonal, self.weight, self.Y


class Forecaster(ForecastSettings, Estimator):
    """Forecast the next `horizon` steps of `target` from the last `lookback` steps (and covariates), for one
    series or, with `id_col`, for every series of a long-format table with one shared model.

    Parameters (`ForecastSettings`) are stored as given; what `fit` learns ends in an underscore (`members_`,
    `model_` (the first member), `season_`, `lookback_`, `base_`, `intermittent_`, `history_`, `metrics_`, `baselines_`).
    """

    noun = "forecaster"
    state_file = "forecaster.json"
    keeps_input = True  # each series' last `lookback` steps, which `predict()` reads

    # ---- settings ----------------------------------------------------------------------------------
    def check_settings(self) -> None:
        """Each setting against its declaration, and a test part to score on."""
        super().check_settings()
        if self.test_frac == 0 and not self.backtest:
            raise ConfigError("`test_frac` 0 leaves no test part to score the forecasts on; give a `test_frac` above 0 "
                              "such as 0.15, or score rolling origins with `backtest`")  # fmt: skip

    def _check_settings(self) -> list[float]:
        """Every setting checked before any data is read; returns the quantiles in order, the median among them:
        it is the point forecast (`_point`), so it is learned where it was not asked for, as neuralforecast's
        MQLoss does. Without it `--quantiles 0.1,0.9` forecast the 0.1 quantile as the point (a 108-month M1
        series, horizon 18: MASE 1.627, and 0.492 with the median learned, as with `--quantiles 0.1,0.5,0.9`)."""
        self.check_settings()
        future = feature_list(self.future_features, "future feature")
        check_roles(self.target, self.time_col, future, "future feature", "future_features")
        if self.id_col is not None and len(self._targets()) > 1:
            raise ConfigError("`target` names several columns, each a series of a wide table, and `id_col` the column "
                              "that names the series of a long one; give one or the other")  # fmt: skip
        if self.id_col is not None and str(self.id_col).strip() in future:
            raise ConfigError(f"the id column '{str(self.id_col).strip()}' cannot also be a future feature; remove it "
                              "from `future_features`")  # fmt: skip
        quantiles = sorted(float(q) for q in (self.quantiles or ()))
        if any(not 0 < q < 1 for q in quantiles) or len(set(quantiles)) != len(quantiles):
            raise ConfigError(f"`quantiles` must be distinct numbers between 0 and 1, got {self.quantiles}")
        return sorted({*quantiles, 0.5}) if quantiles else []

    def train_config(self) -> TrainConfig:
        """The shared training options; the batch size by default 32 windows for one series and 256 for many
        (tens of thousands of windows, where small batches only cost time)."""
        settings = {name: getattr(self, name) for name in TRAINING}
        settings["batch_size"] = self.batch_size or (256 if self.many_ else 32)
        settings["epochs"] = max(1, self.epochs)  # 0 trains nothing (`_train_members`)
        return TrainConfig(**settings).resolved()

    @property
    def many_(self) -> bool:
        """Whether the forecaster was fitted on many series (long format, `id_col`; or several targets)."""
        return bool(self._id)

    @property
    def _id(self) -> Optional[str]:
        """The column that names each series: `id_col`, or `WIDE_ID` where `target` names several columns (a
        wide table, each of them a series); None for one series."""
        return self.id_col or (WIDE_ID if len(self._targets()) > 1 else None)

    def _targets(self) -> list[str]:
        return feature_list(self.target, "target")

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, data, *, checkpoint=None, resume: bool = False, reporter=None, score_test: bool = True,
            earlier: int = 0) -> "Forecaster":  # fmt: skip
        """Read, split, decompose, window, train (each ensemble member); then score the test part beside
        the baselines. `data`: a CSV path, a pandas DataFrame (long format with `id_col`) or a `Series`.
        score_test False (a tuning trial): the test part stays held out of training but is neither forecast
        nor scored, and no metrics are set; with `backtest` and `refit`, the trial is the first fold's fit,
        whose validation part lies before every origin scored. `earlier` k (a tuning trial at an earlier
        origin, `lstmkit tune --origins`): the last k * `horizon` steps of every series are left out first.

        With `backtest` K, the test part is K rolling origins `horizon` steps apart at the end of each series;
        with `refit`, the forecaster is trained again on the data before each origin (each fit shorter than
        a plain one), as Darts' `historical_forecasts(retrain=True)` and neuralforecast's `cross_validation`."""
        named, read = self._name_the_target(data)
        self.quantiles_ = self._check_settings()
        config = self.train_config()
        self.categories_ = None  # read anew: the text static covariates' values are this data's
        panel = self._read(data, read=read)
        if named:
            panel.series[0].notes.insert(0, named)
        if earlier:
            check_whole("earlier", earlier, least=0)
            panel = dataclasses.replace(panel, series=[s.head(max(0, len(s) - earlier * self.horizon)) for s in panel.series])
        self.panel_ = panel
        self.season_ = self.season or self._detect_season(panel)
        self.pretrained_ = self._pretrained()
        self.net_horizon_ = self.pretrained_.horizon if self.pretrained_ else self.horizon
        self.lookback_ = self.lookback or (self.pretrained_.lookback if self.pretrained_ else self._default_lookback(panel))
        self._check_lengths(panel)
        self.intermittent_ = self._intermittent(panel)
        # one series from its own start: the correction's unit at most STEP_UNITS mean steps (`ForecastNet.scale`)
        self.step_units_ = STEP_UNITS if not self.many_ and self.pretrained_ is None and self.lookback_ >= 2 else 0.0
        # a trial validates before every origin a backtest scores: a later fold's validation part is an earlier one's test
        folds = range(self.backtest) if self.backtest and self.refit and score_test else [None]
        scored, self.history_, started, background = [], [], time.perf_counter(), None
        self.refit_epochs_ = []
        try:
            for fold in folds:
                self.fold_ = fold or 0
                self.base_ = self._choose_base(panel) if self.base == "auto" else self.base
                self._learn_series(panel)
                test = self._part_windows(panel, "test", fold) if score_test else None
                if test is not None and fold is None and not self.many_ and len(test.origins):
                    background = InBackground(statistical_job(self, panel.series[0], test.origins))  # ETS and Theta fit while the net trains
                train, val = self._part_windows(panel, "train"), self._part_windows(panel, "val")
                results = self._train_members(panel, train, val, config, checkpoint, resume, reporter, fold)
                self.train_windows_ = len(train.origins)
                self.shrunk_ = self._shrinkage(self.train_windows_)
                for net in self.members_:
                    net.shrink(self.shrunk_)
                self.conformal_ = self._calibrate(panel, val)  # out of sample: before the refit learns the validation part
                self.calibrated_on_ = len(val.series) if self.conformal_ is not None else None
                # a tuning trial is worth its validation loss, which a refit leaves as it is; every process of a
                # distributed run trains alike (the others do not score either)
                if score_test or env_world()[1] > 1:
                    self._refit_members(panel, val, results, config, checkpoint, resume, reporter, fold)
                if test is not None:
                    scored.append((test, self._forecast(panel, test.series, test.origins)))
            if not score_test:
                self.test_ = self.metrics_ = self.baselines_ = None
                return self
            trained = time.perf_counter()
            test = Origins.of([w.series for w, _ in scored], [w.origins for w, _ in scored])
            self.test_ = self._score(panel, test, np.concatenate([f for _, f in scored]), background=background)
        finally:
            if background is not None:
                background.close()
        self.metrics_, self.baselines_ = self.test_["metrics"], self.test_["baselines"]
        self.timings_ = {"train": trained - started, "score": time.perf_counter() - trained, "baselines": self.test_["seconds"]}
        return self

    def _train_members(self, panel: Panel, train: Origins, val: Origins, config, checkpoint, resume, reporter, fold) -> list:
        """Train each ensemble member (its own seed) on the windows `train`, stopping early on `val`; returns
        each member's `TrainResult`."""
        if len(train.series) == 0 and self.epochs > 0:
            raise DataError(f"{panel.path}: no series is long enough to hold a training window")
        self.members_, results = [], []
        train_w, val_w = self._windows_for(panel, train), self._windows_for(panel, val)
        # members differ by their seed only: one reading 1.5x the lookback (as N-BEATS varies it) made the ensemble
        # of 3 worse on the Tourism quarterly series (mean MASE 1.514, against 1.499 for seeds only). Other kinds of
        # member, each alone on those series (seeds 0-4 alone: 1.501-1.545, mean 1.520; their mean forecast: 1.510):
        # lookback 4, 12, 16: 1.587, 1.557, 1.634; hidden 32, 128: 1.532, 1.516; batch 64: 1.536; an sMAPE loss:
        # 1.632. The mean of nine members of those kinds and seeds is 1.510 too: no more diverse than seeds.
        # Averaging each member's weights from 10 epochs before its best to its last lowered the test MASE of
        # seed 0 on Tourism quarterly (1.501 -> 1.492) and monthly (1.505 -> 1.496) but raised M1 yearly's (3.391
        # -> 3.506); the validation part (one window per series) scored the best epoch's own weights below every
        # average tried (around the best epoch, moving windows, exponential) on each collection where it was
        # measured (Tourism quarterly and yearly, M1 monthly, quarterly and yearly), so it cannot tell when to
        # average, and no averaging is done
        for k in range(self.ensemble):
            net, member_config = self._new_member(config, k)
            where = member_checkpoint(checkpoint, k, fold)
            result = self._untrained(net, train_w, val_w if len(val.series) else None, member_config) if self.epochs == 0 else fit(
                net, self._loss, train_w.tensors(), val_w.tensors() if len(val.series) else None, member_config,
                checkpoint=where, resume=resume, reporter=reporter, keep_initial=self.base_ != "none")  # fmt: skip
            self.members_.append(net.cpu().eval())
            results.append(result)
            tags = {"member": k} if self.ensemble > 1 else {}
            tags.update({"fold": fold} if fold is not None else {})
            self.history_ += [{**row, **tags} for row in result.history]
            if k == 0:
                self.best_epoch_, self.stop_reason_ = result.best_epoch, result.stop_reason
        self.model_ = self.members_[0]
        return results

    def _untrained(self, net: ForecastNet, train: Windows, val: Optional[Windows], config: TrainConfig) -> TrainResult:
        """`epochs` 0: the network as it starts, its losses on the training and validation windows as epoch 0.
        `config`: a member's, resolved as `train_config` resolves it."""
        def loss(w: Optional[Windows]) -> float:
            if w is None or len(w.X) == 0:
                return float("nan")
            return evaluate_loss(net, self._loss, w.tensors(), config, torch.device(config.device))

        row = {"epoch": 0, "train_loss": loss(train), "val_loss": loss(val), "lr": 0.0}
        return TrainResult([row], best_epoch=0, best_val_loss=row["val_loss"], stop_reason="epochs 0")

    def _new_member(self, config: TrainConfig, k: int) -> tuple[ForecastNet, TrainConfig]:
        """Member k's untrained network and training settings: seeded with the run's seed + k, so its refit
        starts where its first fit started."""
        member_config = dataclasses.replace(config, seed=config.seed + k)
        seed_everything(member_config.seed)
        net = self._build_model(self.n_inputs_, self.reads_ets_[k])
        if self.pretrained_ is not None:
            net.load_state_dict(self.pretrained_.weights(k, max(1, len(self.quantiles_))))
        return net, member_config

    def _start_network(self) -> ForecastNet:
        """The network before any training, member 0's start: the statistical forecast it corrects (its
        correction is zero), or the shipped network with `start` pretrained."""
        return self._new_member(self.train_config(), 0)[0]

    def fixed_settings(self) -> dict[str, str]:
        """With `start` pretrained, the shape and inputs of the shipped network."""
        if self.start != "pretrained":
            return {}
        why = "`start` pretrained loads a network of fixed size, lookback and inputs"
        return dict.fromkeys(("hidden", "layers", "variant", "bidirectional", "lookback", "base", "ets_input"), why)

    def _pretrained(self) -> Optional[Pretrained]:
        """With `start` pretrained: the network shipped for the season, once the settings are checked against
        what it was trained with (one line naming the first that differs); else None."""
        if self.start != "pretrained":
            return None
        shipped = load_pretrained(self.season_)
        if shipped is None:
            raise ConfigError(f"`start` pretrained: lstmkit ships pretrained networks for the seasons "
                              f"{and_list(pretrained_seasons())}, and this series' season is {self.season_}; "
                              "give one of those as `season`, or `start` zero")  # fmt: skip
        differs = [(self.horizon > shipped.horizon, f"`horizon` {self.horizon}: it forecasts at most {shipped.horizon} steps"),
                   (self.lookback not in (None, shipped.lookback), f"`lookback` {self.lookback}: it reads {shipped.lookback} steps"),
                   (self.base not in ("auto", "naive2"), f"`base` {self.base}: its base is naive2"),
                   (self.ets_input == "no", "`ets_input` no: it reads the ETS forecast"),
                   (bool(self.features or self.future_features), "covariates: it reads the target alone"),
                   (self.hidden != shipped.hidden, f"`hidden` {self.hidden}: its hidden size is {shipped.hidden}"),
                   ((self.layers, self.variant, self.bidirectional) != (1, "vanilla", False),
                    "`layers`, `variant` or `bidirectional` changed: it is one vanilla LSTM layer read forwards")]  # fmt: skip
        for wrong, why in differs:
            if wrong:
                raise ConfigError(f"`start` pretrained loads the network trained on {shipped.trained_on} for season "
                                  f"{self.season_}, which does not take {why}")  # fmt: skip
        return shipped

    def _shrinkage(self, n: int) -> float:
        """shrink "auto": what share of its trained correction each member keeps (`ForecastNet.shrink`). One
        series from the ETS start: n / (n + SHRINK_WINDOWS), n its training windows. The other starts keep it
        all: Naive2 and seasonal naive (taken where ETS cannot hold the season, or for a cycle), which the
        correction has the most to add to (the sunspots' cycle: test MASE 0.985 whole, 1.352 shrunk, seasonal
        naive 1.262), the LSTM alone (`base` none: nothing to shrink toward) and a pretrained start; so do many
        series (n in the thousands) and shrink "no".

        Why: learned from a few dozen windows of one short series, the correction forecast the test part worse
        than its own start more often than better, and how much it beat the start on validation told nothing of
        the test part (see `_choose_base`); learned from thousands (hourly or daily series, Taylor's demand) it
        is worth much. Measured on the same fits (the correction is linear in the head, so shrinking it is
        exact afterwards), geometric mean of the MASE relative to seasonal naive's, the correction kept whole,
        none of it (the start), n / (n + k) from the ETS start for k 100, 200 and 400, and ETS: 323 Tourism,
        M1 and M3 series fitted alone (every 30th or so at offsets 0 and 1 of seven collections, backtest 1; a
        median of 43 training windows; every start ETS) 0.912, 0.857, 0.866, 0.861, 0.858 (ETS 0.857); the 54
        files of benchmarks/forecast_quality.py --files (backtest 1) 0.549, 0.450, 0.429, 0.427, 0.434 (ETS
        0.447); 8 long series (the Seattle weather and temperatures, El Nino, Taylor's demand and weekly CO2
        from Naive2; every window of the test part, 477-6,060 training windows) 0.655, 0.844, 0.655, 0.655,
        0.656 (ETS 0.823). All 385: 0.844, 0.783, 0.780, 0.776, 0.775 (ETS 0.782). Chosen, then checked on 399
        others (offsets 2 and 3 of the seven collections; Tourism and M1 yearly, M3 other): 0.745, 0.741, and
        0.741 for each k (ETS 0.741). k 200 takes the start's accuracy where windows are few and keeps the
        correction's where they are many."""
        if self.shrink == "no" or self.many_ or self.pretrained_ is not None or self.base_ != "ets":
            return 1.0
        return n / (n + SHRINK_WINDOWS)

    def _refit_members(self, panel: Panel, val: Origins, results: list, config, checkpoint, resume, reporter, fold) -> None:
        """With `refit_full`, train each member again from its own seed on the training and validation windows
        together, for its best epoch's count of epochs at the rates its validated run took (`fit(rates=)`).
        The validation part is each series' latest stretch before the test part (and before the future
        `predict` forecasts): early stopping needs it held out, the forecast is better for learning it.
        A member whose untrained start won (best epoch 0) stays as it is. `max_time` bounds the validated
        run; the refit then takes at most as many epochs again. One series: each refit member keeps its
        early-stopped self beside it, and the forecast is the mean of both (`members_` holds the refit members,
        then those early-stopped ones)."""
        # measured (benchmarks/forecast_quality.py --ensemble 5, mean MASE, without -> with the refit): one member
        # alone (mean of seeds 0-4) Tourism quarterly 1.520 -> 1.501, M1 quarterly 1.717 -> 1.718, M1 yearly 3.421 ->
        # 3.420; seed 0 Tourism monthly 1.505 -> 1.488, yearly 2.648 -> 2.601, M1 monthly 1.170 -> 1.146, sunspots
        # 1.088 -> 0.954. The ensemble of 5 fell below seed 0 on Tourism quarterly (1.491 against 1.495) as it had not
        # (1.510 against 1.501). Keeping the refit's epoch of lowest training loss instead of its last gave seed 0 3.358
        # on M1 yearly and 1.724 on quarterly (against 3.376 and 1.730), the same as the last epoch on Tourism: within
        # the seeds' spread, so the refit keeps its last epoch, the count validation chose.
        # One series, the refit's weights are chosen by no validation: it can land on a bad epoch where the
        # validation loss jumps from epoch to epoch (Seattle's hourly temperatures at horizon 1: test MASE 1.211, the
        # early-stopped network 0.616). The mean of the refit and the early-stopped network, measured from the
        # same fits, each scored three ways (geometric mean of the MASE relative to seasonal naive's, default settings):
        # 151 Tourism, M1 and M3 series fitted alone (backtest 1), seed 0, refit 0.783, early-stopped 0.805, mean
        # 0.785; seed 1 0.798, 0.770, 0.774; 154 others, seed 0 0.861, 0.856, 0.848; 8 long series (the weather,
        # the hourly temperatures, El Nino, Taylor's demand, weekly CO2) at horizon 1 and their own, seeds 0 and
        # 1: 0.548, 0.541, 0.537. All 488 fits: 0.793, 0.789, 0.781 (ETS 0.738). One global fit a collection
        # (Tourism quarterly, M1 quarterly, mean MASE) kept the refit alone best: 1.528 and 1.620 against the
        # mean's 1.542 and 1.627, so many series keep the refit alone.
        if not self.refit_full or len(val.series) == 0:
            return
        early, refit = list(self.members_), []
        full = self._windows_for(panel, self._part_windows(panel, "full"))
        for k, result in enumerate(results):
            if result.best_epoch == 0:
                self.refit_epochs_.append(0)
                continue
            net, member_config = self._new_member(config, k)
            rates = [row["lr"] for row in result.history[: result.best_epoch]]
            fit(net, self._loss, full.tensors(), None, member_config, checkpoint=member_checkpoint(checkpoint, k, fold, "full"),
                resume=resume, reporter=reporter, rates=rates)  # fmt: skip
            net.shrink(self.shrunk_)
            self.members_[k] = net.cpu().eval()
            self.refit_epochs_.append(len(rates))
            refit.append(k)
        self.model_ = self.members_[0]
        if not self.many_:
            self.members_ += [early[k] for k in refit]
            self.reads_ets_ = self.reads_ets_ + [self.reads_ets_[k] for k in refit]

    def _read(self, data, fitted: bool = False, read: Optional[tuple] = None) -> Panel:
        """data as a Panel. `fitted`: new data for the fitted model, which may leave out the static covariates
        (each series' own from training, as neuralforecast keeps `static_df`; `_static_cells`). `read`: the
        file `data` as `read_csv_table` read it already (`_name_the_target`), not to be read again."""
        if isinstance(data, Panel):
            return data
        if isinstance(data, Series):
            return Panel([data], [""], "", data.path)
        options = {"time_col": self.time_col, "time_format": self.time_format, "features": self._covariates(), "fill": self.fill}
        if len(self._targets()) > 1:  # a wide table: each target column a series
            return wide_panel(data, self._targets(), **options)
        if self.id_col:  # a text static covariate's values: those training saw, once fitted (`panel.one_hot`)
            options["categories"] = getattr(self, "categories_", None)
            if fitted and self.static_features_:
                options["statics"] = self._static_cells()
        data = numbers_as_array(data)  # a list of numbers: a 1-D array
        if isinstance(data, (pd.Series, np.ndarray)) and data.ndim == 1:  # one series, as pandas keeps it
            data = pd.Series(data).rename(self.target)
        if isinstance(data, FRAMES):
            return panel_from_frame(data, self.target, id_col=self.id_col, **options)
        if not isinstance(data, (str, os.PathLike)):
            raise DataError(f"expected a CSV path, a pandas DataFrame or Series, or a 1-D array, got {type(data).__name__}")
        if format_suffix(data) == ".tsf":  # the Monash forecasting archive's
            return read_tsf_panel(data, self.target, id_col=self.id_col, **options)
        if self.id_col:
            if read is not None:
                return panel_from_table(*read, str(data), self.target, id_col=self.id_col, **options)
            return read_panel_csv(data, self.target, id_col=self.id_col, **options)
        if read is not None:
            series = series_from_table(*read, data, self.target, **options)
        else:
            series = read_series_csv(data, self.target, **options)
        return Panel([series], [""], "", series.path)

    def _name_the_target(self, data) -> tuple[Optional[str], Optional[tuple]]:
        """(note, read): where `target` is not given, set it as given to the data's one numeric column besides the
        time, id and covariate columns (`target_column`; a 1-D array, an unnamed Series or a .tsf file's values:
        'value'; data read already: its target's name); the note saying so, None where there is nothing to say;
        and a file's table as `read_csv_table` read it, for `_read` not to read it again. A target the last
        fit's data named is named anew by this data, as if not given."""
        if self.target is not None and self.target == getattr(self, "target_named_", None):
            self.target = None
        self.target_named_ = None
        if self.target is not None:
            return None, None
        data, note, read = numbers_as_array(data), None, None
        if isinstance(data, (Panel, Series)):  # read already, by a forecaster that named its target
            name = (data.series[0] if isinstance(data, Panel) else data).target_name
        elif isinstance(data, (pd.Series, np.ndarray)) and data.ndim == 1:
            name = str(data.name) if getattr(data, "name", None) is not None else "value"
        elif isinstance(data, (str, os.PathLike)) and format_suffix(data) == ".tsf":
            name = "value"
        elif isinstance(data, (*FRAMES, str, os.PathLike)):
            framed = isinstance(data, FRAMES)
            read = None if framed else read_csv_table(data)
            table, rows, time_col = frame_table(data, self.time_col) if framed else (*read, self.time_col)
            skipped = [*feature_list(time_col), *feature_list(self.id_col), *self._covariates(), *self.future_features]
            name, note = target_column(table, rows, "the DataFrame" if framed else data, skipped, time_col=time_col,
                                       id_col=self.id_col)  # fmt: skip
        else:
            return None, None  # `_read` says what it takes
        self.target = self.target_named_ = name
        return note, read

    def _static_cells(self) -> dict[str, dict[str, str]]:
        """{column: {series id: its value, as a cell of the data}} of each covariate column that training read
        as static (`static_features_`; a text one, all of its 0/1 columns): the value of the series' last row
        that training kept, as the service fills a static covariate a request leaves out."""
        cells = {}
        for name in self._covariates():
            values = self.categories_.get(name) if self.categories_ else None
            columns = [f"{name}={value}" for value in values] if values else [name]
            if not all(column in self.static_features_ for column in columns):
                continue
            index = [self.feature_names_.index(column) for column in columns]
            last = [s.covariates[-1, index] for s in self.panel_.series]  # (columns,) each
            cells[name] = {i: (values[int(np.argmax(row))] if values else repr(float(row[0]))) for i, row in zip(self.ids_, last)}
        return cells

    def _covariates(self) -> list[str]:
        """The covariate columns read: `features`, then the `future_features` not among them. The LSTM reads
        `features` over the past; the `future_features` are read at the horizon steps (relative to their past),
        and over the past too where `features` names them as well."""
        # measured (benchmarks/forecast_quality.py --covariates 5: each fitted alone, seeds 0-4, mean test MASE; none,
        # features, future_features, both): PromoData's promotions 0.744, 0.900, 0.740, 0.900 (read over the past, the
        # correction never beat its ETS start on validation); BJsales' leading indicator 2.820, 4.137, 1.969, 2.578;
        # Seatbelts' km driven, petrol price and law 1.765, 1.300, 1.677, 1.288: which reading helps depends on the
        # covariate, so the two options say each
        return [*self.features, *(name for name in self.future_features if name not in self.features)]

    @property
    def n_inputs_(self) -> int:
        """The LSTM's inputs per step: the target and the covariates of `features`."""
        return 1 + len(self.past_index_)

    def _detect_season(self, panel: Panel) -> int:
        """One series: its `_series_season`. Many: the most common one among the series long enough to show one."""
        found = [self._series_season(s) for s in panel.series if len(s) >= 16]
        return int(np.bincount(found).argmax()) if found else 1

    def _series_season(self, series: Series) -> int:
        """The seasonal period of a series, from its training part: the period its autocorrelation shows
        (`detect_season`), moved onto the time axis' calendar when it lies within 1/30 of one of its seasons
        (`on_calendar`: 52 for a weekly series whose autocorrelation peaks at 53). Where that is not a season of
        the calendar: a calendar of one season of at most `ETS_SEASONS` steps (12 for months, 4 for quarters)
        gives that season, as M4 and statsforecast take a series' frequency (ETS's AICc and Naive2's own test
        then decide whether to model it); a calendar of several (7 and 365 for days, 24 and 168 for hours...)
        gives the first the series repeats once its trend is out (`repeats_each`), if any. The detector reads a
        differenced series, which keeps it off trends but hides a season under noise."""
        # measured on M1, M3 and Tourism monthly and quarterly series, each fitted alone with dates on its axis and
        # backtest 1, on 229 where the detector gives another period than the calendar's (mostly none): the calendar's
        # season lowered the test MAE on 59% of them, by 11% in geometric mean; of the series where M4's test finds
        # the season 0.871, where the test on the series less its moving average does 0.860, where neither does 0.932
        train = series.target[: self._split(len(series))[0]]
        period = on_calendar(detect_season(train), series.freq)
        seasons = calendar_seasons(series.freq)
        if period in seasons:
            return period
        if len(seasons) == 1 and seasons[0] <= ETS_SEASONS:
            return seasons[0]
        return next((season for season in seasons if repeats_each(train, season)), period)

    def _default_lookback(self, panel: Panel) -> int:
        """Two seasons (1.5 horizons for a series without a season); one series: at least 24 steps, within
        what its training part allows."""
        wanted = 2 * self.season_ if self.season_ > 1 else max(4, int(np.ceil(1.5 * self.horizon)))
        if self.many_:
            return wanted
        return default_lookback(max(wanted, 24), self._split(len(panel.series[0]))[0], self.horizon)

    def _check_lengths(self, panel: Panel) -> None:
        tested = self.backtest * self.horizon  # a backtest's test part
        if not self.many_:
            s = panel.series[0]
            if self.pretrained_ is not None and self.epochs == 0:
                self._check_untrained_length(s)
                return
            try:
                check_length(len(s), self.lookback_, self.horizon, val_frac=self.val_frac, test_frac=self.test_frac,
                             path=s.path, lookback_given=self.lookback is not None or self.pretrained_ is not None,
                             backtest=self.backtest)  # fmt: skip
            except DataError as error:
                raise DataError(f"{error.args[0]}{self._untrained_hint(s)}") from None
            return
        if self.pretrained_ is None:  # a pretrained network learned from windows padded at the front, as short series' are
            check_series_lengths(panel, self.lookback_ + self.horizon, f"`lookback` {self.lookback_} + `horizon` {self.horizon} need")
        held_out = self.horizon * (self.val_frac > 0) + (tested or self.horizon * (self.test_frac > 0))
        check_series_lengths(panel, held_out + 1, f"holding out {held_out} steps for validation and test leaves one step of past for")

    def _untrained_hint(self, s: Series) -> str:
        """For one series too short to train on: how the shipped network would forecast it as it is, where it
        takes these settings and the series; else with no validation part (its test part then a horizon at
        least, as a backtest's)."""
        if self.epochs == 0:
            return ""
        shipped = dataclasses.replace(self, start="pretrained", epochs=0)
        shipped.season_ = self.season_
        try:  # once: the tries below change only the parts (val_frac, backtest), which it does not check
            shipped._pretrained()
        except ConfigError:
            return ""
        for changed in ({}, {"val_frac": 0.0}):
            try:
                dataclasses.replace(shipped, **changed)._check_untrained_length(s)
            except DataError:
                continue
            given = "".join(f", `{name}` {value:g}" for name, value in changed.items() if value != getattr(self, name))
            return f"; or forecast it untrained, by lstmkit's pretrained network: `start` pretrained, `epochs` 0{given}"
        return ""

    def _check_untrained_length(self, s: Series) -> None:
        """One series that a pretrained network forecasts as it is (`epochs` 0): no window is trained on and
        the lookback is padded at the front, as the network learned short series, so the parts need hold only
        what is scored: the validation and test parts (where their fraction is not 0) a horizon each, and the
        training part two steps (a level and a step for the MASE scale)."""

        def holds(n: int) -> bool:
            train_stop, val_stop = self._split(n)
            return (train_stop >= 2 and (self.val_frac == 0 or val_stop - train_stop >= self.horizon)
                    and (not (self.test_frac or self.backtest) or n - val_stop >= self.horizon))  # fmt: skip

        if holds(len(s)):
            return
        needed = next(n for n in itertools.count(len(s) + 1) if holds(n))
        test = f"`backtest` {self.backtest}" if self.backtest else f"`test_frac` {self.test_frac}"
        parts = [name for name, held in (("validation", self.val_frac), ("test", self.test_frac or self.backtest)) if held]
        held = f"the {' and '.join(parts)} part{'s' if len(parts) > 1 else ''} {self.horizon} rows{' each' if len(parts) > 1 else ''} and "
        raise DataError(f"{s.path}: has {len(s)} rows, too few for `horizon` {self.horizon} with `start` pretrained and "
                        f"`epochs` 0: it needs {held if parts else ''}the training part 2, so at least {needed} rows with "
                        f"`val_frac` {self.val_frac} and {test}; use a shorter `horizon`, `val_frac` 0 or `test_frac` 0, "
                        "or more data")  # fmt: skip

    def _split(self, n: int) -> tuple[int, int]:
        """(train_stop, val_stop) of a series of n steps: one series by the fractions, its validation and test
        parts at least a horizon each (`split_by_time`'s `at_least`, as `check_length` counts); many series hold out
        `horizon` steps for the test part and `horizon` before them for validation (none for a fraction 0).
        With `backtest` K the test part is the last K * horizon steps (and with `refit`, fold f trains on
        the data before origin f)."""
        if self.backtest:
            val_stop = n - (self.backtest - getattr(self, "fold_", 0)) * self.horizon
            held = (self.horizon if self.many_ else part_rows(n, self.val_frac, self.horizon)) if self.val_frac > 0 else 0
            return val_stop - held, val_stop
        if not self.many_:
            train, val, _ = split_by_time(n, self.val_frac, self.test_frac, at_least=self.horizon)
            return train.stop, val.stop
        val_stop = n - (self.horizon if self.test_frac > 0 else 0)
        return val_stop - (self.horizon if self.val_frac > 0 else 0), val_stop

    def _learn_series(self, panel: Panel, choosing: bool = False) -> None:
        """Per series, from its training part: the seasonal factors (or, for a series with values <= 0, the
        additive offsets), the MASE scale, the covariate scaler; with the `ets` base, the ETS model fitted on
        the training and validation parts (the training part alone while `choosing` a base: its validation
        loss must be out of sample), as the ETS baseline is, and as the refit learns the validation part."""
        first = panel.series[0]
        self.target_name_, self.feature_names_ = first.target_name, list(first.feature_names)
        self.categories_ = panel.categories
        future = feature_list(self.future_features, "future feature")
        text = [name for name in future if str(name).strip() in panel.categories]
        if text:
            raise ConfigError(f"the future feature '{str(text[0]).strip()}' holds text, one value a series: a static "
                              "covariate, which the network reads at every step; name it in `features` instead")  # fmt: skip
        missing = [name for name in future if name not in self.feature_names_]
        if missing:  # a Series or Panel given as it is, without them
            raise DataError(f"{panel.path}: the future feature '{missing[0]}' is not among its covariates "
                            f"({', '.join(self.feature_names_) or 'none'})")  # fmt: skip
        self.future_index_ = [self.feature_names_.index(name) for name in future]
        horizon_only = set(future) - {str(name).strip() for name in self.features}
        self.past_index_ = [k for k, name in enumerate(self.feature_names_) if name not in horizon_only]
        self.ids_ = list(panel.ids)
        self.bounds_ = [self._split(len(s)) for s in panel.series]
        season = self.season_ if self.base_ == "naive2" else 1
        parts = [s.target[:train_stop] for s, (train_stop, _) in zip(panel.series, self.bounds_)]
        decomposed = [seasonal_parts(part, season) for part in parts]
        self.indices_ = np.stack([indices for indices, _ in decomposed])  # (S, season)
        self.offsets_ = np.stack([offsets for _, offsets in decomposed])  # (S, season)
        self.scales_ = np.array([mase_scale(s.target[:val_stop], self.season_) for s, (_, val_stop) in zip(panel.series, self.bounds_)])
        self.still_ = np.array([np.ptp(s.target[:max(1, val_stop)]) == 0 for s, (_, val_stop) in zip(panel.series, self.bounds_)])
        self.covariate_scalers_ = [Scaler().fit(s.covariates[:max(1, train_stop)]) if s.covariates.shape[1] else None
                                   for s, (train_stop, _) in zip(panel.series, self.bounds_)]  # fmt: skip
        self.static_features_ = self._pool_static(panel)
        self.train_target_ = first.target[: self.bounds_[0][0]].astype(float)  # one series: MASE's scale
        self.origin_times_ = [None if s.time is None else s.time[0] for s in panel.series]
        self.freqs_ = [s.freq for s in panel.series]
        ets_season = self.season_ if self._calendar_season(panel) else 1  # a cycle's last period is no forecast of the next
        # the network reads ETS's forecast where it is not its base: "auto" for many series. Measured (one global fit per
        # collection, benchmarks/forecast_quality.py --ensemble 1, seeds 0 and 1; mean MASE without -> with): M1 monthly
        # 1.146, 1.136 -> 1.068, 1.068; M1 quarterly 1.730, 1.686 -> 1.620, 1.621; M3 other 1.867, 1.888 -> 1.789, 1.783
        # (the three collections where ETS, 1.090, 1.659 and 1.801, had beaten it); Tourism monthly 1.488, 1.499 -> 1.478,
        # 1.424; M3 quarterly 1.105, 1.117 -> 1.108, 1.109; M3 yearly 2.680, 2.715 -> 2.706, 2.681; Tourism quarterly
        # 1.495, 1.519 -> 1.527, 1.531; Tourism yearly 2.601, 2.661 -> 2.659, 2.641; M1 yearly 3.376, 3.403 -> 3.577,
        # 3.640 (ETS 3.950; read through asinh: 3.594, 3.648). The ETS base instead (the network correcting ETS, seed 0):
        # M1 monthly 1.080, quarterly 1.632, M3 other 1.822, Tourism quarterly 1.589; with deseasonalised windows and
        # its forecast read as well, 1.073, 1.622, 1.788, 1.570, and Tourism monthly 1.500, yearly 2.670, M3 quarterly
        # 1.124, yearly 2.695, M1 yearly 3.664: worse than naive2 on Tourism. One series keeps it off: one short series'
        # correction already overfits (Forecaster._choose_base). The ETS forecasts of the windows it learns from are in
        # sample: ETS fitted on the training and validation parts forecasts them better than the test part (mean error
        # relative to Naive2's, training windows against test: M1 yearly 0.63 against 0.81, M1 quarterly 0.70 against
        # 0.89, Tourism quarterly 0.85 against 0.86 and its validation windows 0.75). ETS fitted again at three earlier
        # cuts, a horizon apart up to the training stop, each window reading the fit of the latest cut at or before its
        # origin (seed 0, in sample -> out of sample): M1 yearly 3.577 -> 3.258, quarterly 1.620 -> 1.672, monthly 1.068
        # -> 1.085, Tourism quarterly 1.527 -> 1.546, yearly 2.659 -> 2.640, M3 other 1.789 -> 1.833; cuts spread from
        # two seasons to the training stop: 3.250 (seed 1: 3.640 -> 3.284), 1.682, 1.129, 1.494, 2.635, 1.825.
        # Four (cuts a horizon apart) and three (spread) of six worse, for four AutoETS fits per series instead of one,
        # and no lower in aggregate (geometric mean of the ratio 0.997 and 0.998): the input stays in sample
        self.ets_input_ = self.base_ != "ets" and (self.ets_input == "yes" or (self.ets_input == "auto" and self.many_)
                                                   or self.pretrained_ is not None)  # fmt: skip
        # An ensemble of 5 (mean MASE; every member reading it -> none -> members 0, 2, 4 reading it, 1 and 3 not;
        # mixes of the members' test forecasts, seeds 0-4, then the mix trained as it is here for Tourism monthly):
        # Tourism quarterly 1.533 -> 1.491 -> 1.503, M1 yearly 3.645 -> 3.402 -> 3.474, M1 quarterly 1.621 -> 1.703
        # -> 1.631, M3 other 1.779 -> 1.871 -> 1.774, M1 monthly 1.063 -> 1.126 -> 1.056, Tourism yearly 2.665 -> 2.601
        # -> 2.615, Tourism monthly 1.446 -> (not run) -> 1.438. Never the worst of
        # the three; 1, 3 reading it first instead: 1.480, 3.415, 1.653, 1.769; all ten members: 1.490, 3.441, 1.639,
        # 1.769. Members 0, 2, 4 keep seed 0's network as the ensemble's first member, as with one member
        self.reads_ets_ = [self._member_reads_ets(k) for k in range(self.ensemble)]
        fit_ets = self.base_ == "ets" or self.ets_input_
        self.ets_ = ets_fits([(s.target, ets_season, train_stop if choosing else val_stop)
                              for s, (train_stop, val_stop) in zip(panel.series, self.bounds_)]) if fit_ets else None  # fmt: skip

    def _choose_base(self, panel: Panel) -> str:
        """base "auto". Many series: "naive2". One series: "ets", the statistical forecast that models level, trend
        and season itself and selects among its forms by AICc over the whole training part, where ETS can hold
        the series' season: there is none, or it is a season of at most `ETS_SEASONS` steps (R's forecast::ets
        refuses a longer one). Otherwise (a cycle, which ETS is not given; a longer season, e.g. 48 half-hours
        or 168 hours) "ets", "naive2" or "snaive", whichever has the lowest loss (mean scaled absolute error) on
        the validation windows (the training windows when there is no validation part), each computed before
        any training from its own decomposition or model fitted on the training part; a tie goes to the first
        of that order. Seasonal naive, and a seasonal ETS, are candidates only for a season: one given
        (`season`), one detected that the time axis' calendar has (12 for months, 4 for quarters, 7 for days,
        ...: `calendar_seasons`), or one detected on steps without a calendar (no time column, or a count 0,
        1, 2, ...: `without_calendar`). A period detected on a calendar that lacks it (any, on years) is a
        cycle, whose length varies (sunspots' 9-14 years about 11), and repeating the last one is no forecast
        of the next. Measured on value-only files (numbered steps, no season given, backtest 1: 70 Tourism, M1
        and M3 monthly and quarterly series, every 30th or so from two offsets, and the numbered airline and
        solar series; geometric mean of the MASE relative to seasonal naive's): taking a period found there
        for a cycle 1.160, for a season 1.086 (on the first 39: 1.138, 1.035, and a cycle with seasonal naive
        a candidate 1.044); the solar series' 48 half-hours 1.473 -> 0.488 (seasonal naive's own: a tie),
        airline 0.623 -> 0.517. Taken for a season on years as well, the sunspots' 11 went from 0.872 to 1.710.

        Why: the network starts as its base and learns a correction. From one short series it cannot learn
        enough to make up for a weaker base; from thousands of series it can, and reads them better
        deseasonalised. Measured (benchmarks/forecast_quality.py --single 60, offsets 0 and 1: 372 Tourism, M1
        and M3 series, each fitted alone), geometric mean of the MASE relative to seasonal naive's: naive2
        always 1.085, snaive always 1.061, the choice of naive2 or snaive on validation 1.015, of ets, naive2 or
        snaive 0.979, the choice only where AICc picked a non-seasonal ETS on the training part 0.968, ets
        where it holds the season (this default; here every series) 0.958 (ETS itself 0.904, Theta 0.964).
        Choosing on one validation stretch against ETS, which AICc chose on the whole training part, lost on
        both offsets. The trained correction is where the LSTM still loses to ETS alone: on offset 0 it
        forecast the test part worse than its own untrained ETS start on 70 of the 116 series where validation
        kept it. Later (401 series, both offsets, the untrained start 0.902 beside the trained correction 0.948):
        how much the kept correction beat its start on validation told nothing of the test part (correlation of
        the two log ratios -0.08 over 252 series), and none of these reached the start's 0.902: an ensemble of 5
        (0.941), hidden 16 (0.943), the head reading the ETS forecast (0.949), keeping the correction only where
        it beat the start on validation by 2-20% (0.935-0.945), the correction scaled by 0.25-0.75 (0.906-0.927).
        Nor did nine moving-block-bootstrap siblings of the training part (Bergmeir et al. 2016: log, STL or
        loess, the remainder's blocks of two seasons resampled) as more training windows: over 178 series of
        Tourism, M1 and M3 (40 of each collection, offset 0) 0.810 against 0.821 without them, ETS 0.741; nor
        averaging the trained forecast with ETS and Theta (0.793 against ETS's 0.789 over 520 series); nor
        averaging an ensemble of 5 with the shipped pretrained network as it is (0.861 against ETS's 0.863, the
        trained correction 0.881, its ensemble 0.874, the network as it is 0.877; 96 Tourism and M1 series
        and the 11 files of README's table, each fitted alone); nor
        ETS fitted on the training part alone for the validated run, so that early stopping sees ETS out of
        sample as the test part does, the refit reading ETS fitted on both parts (--single 20, 77 series of
        Tourism, M1 and M3: 0.838 against 0.796, the start 0.768). What came back to the start was shrinking
        the correction by the count of windows it was learned from (`_shrinkage`): 0.826 against 0.885 on the
        656 series of --single 60 at offsets 0 and 1 (ETS 0.824).
        Choosing after training both naive2 and snaive, on their best validation losses, was no better
        for twice the training (1.017 against 1.011 on 340 series). One global model over a collection, mean
        MASE, where the choice on the pooled validation windows would take snaive: Tourism quarterly 1.521
        against naive2's 1.495."""
        if self.many_ or self.pretrained_ is not None:
            return "naive2"
        calendar = self._calendar_season(panel)
        if self.season_ == 1 or (calendar and self.season_ <= ETS_SEASONS):
            return "ets"
        losses = {}
        for base in ("ets", "naive2", "snaive") if calendar else ("ets", "naive2"):
            self.base_ = base
            self._learn_series(panel, choosing=True)
            val = self._part_windows(panel, "val")
            windows = self._windows_for(panel, val if len(val.series) else self._part_windows(panel, "train"))
            if len(windows.Y) == 0:
                return "naive2"
            with torch.no_grad():  # the untrained network: its head is zero, so it forecasts its base
                point = self._build_model(windows.X.shape[2], self.ets_input_)(windows.X, windows.seasonal)[..., :1]
                losses[base] = float(scaled_error(point, windows.Y, windows.weight, (), self.squared_))
        return min(losses, key=losses.get)  # the first of equals

    def _pool_static(self, panel: Panel) -> list[str]:
        """The covariates that are static: constant over each series' training part, and not the same for
        every series (a store's floor area, a product's price band), as neuralforecast's `static_df` and
        Darts' static covariates hold them. Scaled within each series, as every other covariate is, such a
        column would read 0 everywhere; so it is scaled over the series instead, by the mean and spread of
        its values (one a series), and the network reads it at every step beside the target. Returns their
        names; the series' `covariate_scalers_` carry the pooled statistics. Sets `idle_features_`: the
        covariates constant over every training part and the same in each, which tell the network nothing
        (the report says so)."""
        self.idle_features_ = []  # constant over every series' training part, and the same in all: they tell nothing
        if self.covariate_scalers_[0] is None:  # no covariates
            return []
        firsts = np.stack([s.covariates[0] for s in panel.series])  # (S, C): each series' first value
        still = np.all([np.ptp(s.covariates[:max(1, stop)], axis=0) == 0 for s, (stop, _) in zip(panel.series, self.bounds_)], axis=0)
        self.idle_features_ = [self.feature_names_[k] for k in np.flatnonzero(still) if np.ptp(firsts[:, k]) == 0]
        static = [k for k in np.flatnonzero(still) if np.ptp(firsts[:, k]) > 0]
        if static:
            pooled = Scaler().fit(firsts[:, static])
            for scaler in self.covariate_scalers_:
                scaler.mean_[static], scaler.scale_[static] = pooled.mean_, pooled.scale_
        return [self.feature_names_[k] for k in static]

    def _calendar_season(self, panel: Panel) -> bool:
        """Whether the season is one: given (`season`); detected and of the calendar of the first series'
        time axis (`calendar_seasons`); or detected on steps without a calendar (`without_calendar`: no time
        column, or numbered steps), where nothing tells a season from a cycle and a season is the likelier
        (value-only files of Tourism, M1 and M3 monthly and quarterly series: see `_choose_base`). Else a
        cycle: a period that the calendar of the time axis lacks, such as any of years."""
        first = panel.series[0]
        return self.season is not None or self.season_ in calendar_seasons(first.freq) or without_calendar(first)

    def _member_reads_ets(self, k: int) -> bool:
        """Whether ensemble member k reads the ETS forecast: every member with `ets_input` "yes"; with "auto", the
        first and every other one after it (0, 2, 4, ...), the others learning without it, so that one member is
        the default's own network and the ensemble mixes both kinds."""
        return self.ets_input_ and (self.ets_input == "yes" or k % 2 == 0 or self.pretrained_ is not None)

    def _build_model(self, n_features: int, reads_ets: bool) -> ForecastNet:
        return ForecastNet(
            n_features, self.net_horizon_, self.season_, base=self.base_, hidden=self.hidden, layers=self.layers,
            variant=self.variant, dropout=self.dropout, bidirectional=self.bidirectional,
            n_quantiles=max(1, len(self.quantiles_)), reads_ets=reads_ets, n_future=len(self.future_index_),
            emit=self.horizon, step_units=self.step_units_, intermittent=self.intermittent_,
        )  # fmt: skip

    @property
    def seasonal_rows_(self) -> int:
        """The rows of the network's `seasonal` input: the factors and offsets, the ETS forecast where the
        network reads it, the known-future covariates."""
        return 2 + self.ets_input_ + len(self.future_index_)

    def _loss(self, model: nn.Module, batch) -> torch.Tensor:
        x, seasonal, weight, y = batch
        return scaled_error(model(x, seasonal).float(), y, weight, self.quantiles_, self.squared_)

    @property
    def squared_(self) -> bool:
        """Whether training minimises squared errors (`loss`): "mse", or "auto" where demand is intermittent."""
        return self.loss == "mse" or (self.loss == "auto" and self.intermittent_)

    def _intermittent(self, panel: Panel) -> bool:
        """Whether the data is intermittent demand: half or more of the series' training parts are
        (`statistical.intermittent`: no negative value, a quarter or more zeros where the season does not
        put them). Its median is no sales, which a forecaster trained on absolute errors learns (on 200
        generated items selling on 37% of the days, a mean forecast of 0.26 against actual sales of 1.11 a day);
        trained on squared errors (`loss` "auto") it learns the mean, as Croston's method forecasts it. The
        baselines then include Croston SBA, and the verdict is on M5's RMSSE, not MASE (which ranks a forecast
        of no sales first)."""
        flags = [intermittent(s.target[: self._split(len(s))[0]], self.season_) for s in panel.series]
        return 2 * sum(flags) >= len(flags)

    # ---- windows ---------------------------------------------------------------------------------
    def _part_windows(self, panel: Panel, part: str, fold: Optional[int] = None) -> Origins:
        """Which windows each part holds, by their first target step t (no tensors yet): training windows have
        every target before the series' train_stop (and at least one season, or the lookback, of real past);
        validation and test windows have theirs in [train_stop, val_stop) and [val_stop, n), and "full" ones
        (a refit's) before val_stop. A backtest's test windows are its origins, `horizon` apart (fold f: the
        f-th only)."""
        if part == "test" and self.backtest:
            k = np.arange(self.backtest) if fold is None else np.array([fold])
            origins = [len(s) - (self.backtest - k) * self.horizon for s in panel.series]
            series = [np.full(len(k), i) for i in range(len(panel))]
            return Origins.of(series, origins)
        series, origins = [], []
        for i, (s, (train_stop, val_stop)) in enumerate(zip(panel.series, self.bounds_)):
            first = max(1, min(self.lookback_, self.season_)) if self.many_ else self.lookback_
            start, stop = {"train": (first, train_stop), "val": (train_stop, val_stop), "test": (val_stop, len(s)),
                           "full": (first, val_stop)}[part]  # fmt: skip
            t = np.arange(start, stop - self.horizon + 1)
            series.append(np.full(len(t), i)), origins.append(t)
        return Origins.of(series, origins)

    def _windows_for(self, panel: Panel, which: Origins) -> Windows:
        """The tensors of the windows `which` names."""
        X, factors, Y = [], [], []
        for i in np.unique(which.series):
            origins = which.origins[which.series == i]
            x, f = self._inputs(i, panel.series[i], origins, self.lookback_, self._phase(i, panel.series[i]))
            X.append(x), factors.append(f)
            Y.append(panel.series[i].target[origins[:, None] + np.arange(self.horizon)])
        weight = 1.0 / self.scales_[which.series]
        as_tensor = lambda parts, shape: torch.from_numpy(np.concatenate(parts).astype(np.float32)) if parts else torch.zeros(shape)  # noqa: E731
        return Windows(as_tensor(X, (0, self.lookback_, self.n_inputs_)), as_tensor(factors, (0, self.seasonal_rows_, self.net_horizon_)),
                       torch.from_numpy(weight.astype(np.float32)), as_tensor(Y, (0, self.horizon)))  # fmt: skip

    def _inputs(self, i: int, series: Series, origins: np.ndarray, lookback: int, phase: int,
                future: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Network inputs of series i at `origins` (W,): X (W, L, F) the deseasonalised target and the scaled
        covariates of the `lookback` steps before each origin (padded at the front with the first step), and
        the seasonal factors and offsets (W, 2, H) of the horizon steps (with the `ets` base: ones and the ETS
        forecasts), then the ETS forecasts where the network reads them, then the scaled known-future
        covariates of the horizon steps. `phase`: the step of series i's training data that the series' step 0
        is (`_phase`). `future` (K, len(future_features)): their values at the K steps after the series' end,
        which a window reaching past it needs."""
        indices, offsets = self.indices_[i], self.offsets_[i]
        position = lambda steps: (steps + phase) % len(indices)  # noqa: E731
        steps_all = position(np.arange(len(series)))
        values = (series.target - offsets[steps_all]) / indices[steps_all]  # (N,)
        covariates = series.covariates  # (N, C)
        if future is not None and len(future):  # the known-future values after the end; no other covariate is known there
            after = np.full((len(future), covariates.shape[1]), np.nan)
            after[:, self.future_index_] = future
            covariates = np.concatenate([covariates, after])
        if covariates.shape[1]:
            covariates = self.covariate_scalers_[i].transform(covariates)  # (N + K, C)
            values = np.column_stack([values, covariates[: len(series), self.past_index_]])
        else:
            values = values[:, None]
        steps = np.maximum(origins[:, None] + np.arange(-lookback, 0), 0)  # (W, L)
        if self.base_ == "ets":  # the factors all ones, the ETS forecast from each origin in the offsets' place
            forecasts = self.ets_[i].forecasts(series.target, origins, self.net_horizon_, start=phase)
            rows = [np.ones_like(forecasts), forecasts]
        else:
            ahead = position(origins[:, None] + np.arange(self.net_horizon_))  # (W, H)
            rows = [indices[ahead], offsets[ahead]]
            if self.ets_input_:  # a third row: the ETS forecast from each origin, which the network reads
                rows.append(self.ets_[i].forecasts(series.target, origins, self.net_horizon_, start=phase))
        if self.future_index_:
            ahead = origins[:, None] + np.arange(self.horizon)  # (W, H)
            if len(origins) and ahead.max() >= len(covariates):
                raise ConfigError(f"forecasting past the end of {series.path or 'the series'} needs the values of "
                                  f"{', '.join(self.future_features)} at the {self.horizon} steps after it (`future`)")  # fmt: skip
            known = covariates[:, self.future_index_]  # (N + K', K)
            # relative to their mean over the last season read (the span of the window's level): the statistical start
            # already follows the level a lasting change brought (a law in force), so only a change from the recent past
            # (a promotion) moves the forecast
            recent = known[steps[:, -min(self.season_, lookback) :]].mean(axis=1, keepdims=True)  # (W, 1, K)
            rows += list(np.moveaxis(known[ahead] - recent, 2, 0))
        return values[steps], np.stack(rows, axis=1)

    def _phase(self, i: int, series: Series) -> int:
        """The step of `series`' first value, counted from the first step series i had in training (0 for the
        training data itself; from the time axis for new data): its season position, and where the ETS base's
        filter starts."""
        start = self.origin_times_[i]
        if series.time is None or start is None:
            return series.start
        return steps_between(start, series.time[0], self.freqs_[i] or series.freq)

    def continued(self, series: Series, i: int = 0) -> tuple[np.ndarray, Optional[np.ndarray], int, Optional[int]]:
        """One series' data as its baselines are fitted and filtered, and its MASE scaled: the target (N,), the
        covariates known ahead (N, F) or None, how many rows of training series i come before `series`' own, and
        the row of training series i that the target's first value is (None: not known). Where `series`
        continues training series i (`_row_of`), and agrees with it wherever they overlap, the training rows
        before it come first; else it stands alone."""
        alone = series.target, known_ahead(self, series), 0, None
        trained = self.panel_.series[i]  # all of it, or the last `lookback` rows of a run saved before it kept all
        row, known = self._row_of(trained, series, i), trained.start
        if row is None:
            return alone
        overlap = slice(max(row, known), min(row + len(series), known + len(trained)))
        if not np.allclose(series.target[overlap.start - row : overlap.stop - row],
                           trained.target[overlap.start - known : overlap.stop - known], rtol=1e-6, atol=1e-12):  # fmt: skip
            return alone
        before = trained.head(max(0, row - known))
        target = np.concatenate([before.target, series.target])
        future = None if alone[1] is None else np.concatenate([known_ahead(self, before), alone[1]])
        return target, future, len(before), row - len(before)

    def _row_of(self, trained: Series, series: Series, i: int = 0) -> Optional[int]:
        """The row of training series i that `series`' first value would be, from the time axes: within it
        (the row of that time; negative where `series` begins earlier), or right after it where `series` begins
        at most a season of missing steps after its end. Without time axes, `series`' start (0 for new data).
        None where `series` does not line up with it so."""
        if series.time is None or trained.time is None:
            return series.start
        first, last = series.time[0], trained.time[-1]
        if first > last:
            missing = steps_between(last, first, self.freqs_[i] or series.freq) - 1
            return trained.start + len(trained) if 0 <= missing <= self.season_ else None
        if first < trained.time[0]:
            row = -int(series.time.searchsorted(trained.time[0]))
            return trained.start + row if -row < len(series) and series.time[-row] == trained.time[0] else None
        row = int(trained.time.searchsorted(first))
        return trained.start + row if trained.time[row] == first else None

    # ---- predict and score ----------------------------------------------------------------------
    @torch.no_grad()
    def _forecast(self, panel: Panel, series_of: np.ndarray, origins: np.ndarray, series_index=None, futures=None,
                  members=None) -> np.ndarray:
        """Forecasts (W, H, Q) at the given windows: the mean over the ensemble's members (or over `members`,
        networks in their place). series_of (W,) indexes `panel.series`; series_index maps those to the fitted
        series (identity by default); futures: per series of the panel, the known-future covariates after its
        end (`_inputs`' `future`)."""
        series_index = np.arange(len(panel)) if series_index is None else series_index
        outputs = []
        for net in self.members_ if members is None else members:
            net.eval()
            member = np.zeros((len(origins), self.horizon, max(1, len(self.quantiles_))))
            for j in np.unique(series_of):
                rows = np.flatnonzero(series_of == j)
                i = series_index[j]
                x, f = self._inputs(i, panel.series[j], origins[rows], self.lookback_, self._phase(i, panel.series[j]),
                                    None if futures is None else futures[j])  # fmt: skip
                out = torch.cat([net(torch.from_numpy(x[k : k + 1024]).float(), torch.from_numpy(f[k : k + 1024]).float()).float()
                                 for k in range(0, len(x), 1024)])  # fmt: skip
                member[rows] = out.numpy()
            outputs.append(member)
        # the mean, not ES-RNN's and N-BEATS' median (of dozens of members): of 3 or 5 members the mean forecast
        # had the lower MASE in 6 of 8 comparisons on Tourism and M1 (quarterly, yearly), the median picks one
        forecasts = np.mean(np.stack(outputs), axis=0) if len(outputs) > 1 else outputs[0]
        return np.sort(forecasts, axis=-1)  # quantiles must not cross

    def _point(self, forecasts: np.ndarray) -> np.ndarray:
        """The point forecast: the quantile nearest the median, or the only output."""
        if not self.quantiles_:
            return forecasts[..., 0]
        return forecasts[..., int(np.argmin([abs(q - 0.5) for q in self.quantiles_]))]

    def _calibrate(self, panel: Panel, val: Origins) -> Optional[list[float]]:
        """Split-conformal half-widths per horizon step, in MASE-scale units, from the validation windows.

        One series: at each step, the wider of the trained network's and of its untrained start's (the
        statistical forecast it corrects, or the shipped network). The trained network's validation errors are
        the ones early stopping chose it on, so they understate the errors to come; its start's on the same
        windows were chosen on nothing. On 111 single series of the competitions and of other wheels, each
        fitted alone (`backtest` 1), the 90% interval of the trained fits held 76.1% of the test values and
        holds 86.5%, 1.38 times as wide (geometric mean); fits that kept their start are unchanged. Many
        series have windows enough for the selection to cost little, and their trained networks beat their
        start, whose errors would only widen the interval."""
        if not self.interval or len(val.series) == 0:
            return None
        actual = np.stack([panel.series[i].target[t : t + self.horizon] for i, t in zip(val.series, val.origins)])

        def half_widths(members=None) -> np.ndarray:
            point = self._point(self._forecast(panel, val.series, val.origins, members=members))  # (W, H)
            return np.asarray(conformal_quantiles(np.abs(actual - point) / self.scales_[val.series, None], self.interval))

        widths = half_widths()
        if not self.many_:
            widths = np.maximum(widths, half_widths([self._start_network()]))
        return widths.tolist()

    def _interval(self, point: np.ndarray, series_of: np.ndarray) -> Optional[tuple[np.ndarray, np.ndarray]]:
        if self.conformal_ is None:
            return None
        width = np.asarray(self.conformal_)[None, :] * self.scales_[series_of, None]  # (W, H)
        width = width * ~self.still_[series_of, None]  # a series that never changed before its test part: no width
        lower = np.maximum(point - width, 0.0) if self.intermittent_ else point - width  # demand is never below zero
        return lower, point + width

    def _score(self, panel: Panel, which: Origins, forecasts: Optional[np.ndarray] = None, background=None) -> dict:
        """Model and baselines on the windows `which` names (the test part, or every window of new data);
        `forecasts` (W, H, Q) when already made; `background`: the baselines started during training."""
        if len(which.series) == 0:
            s = panel.series[0]
            raise DataError(
                f"{s.path}: has {len(s)} rows, too few to score a {self.horizon}-step forecast "
                f"after a lookback of {self.lookback_} steps; it needs at least {self.lookback_ + self.horizon}"
            )
        if forecasts is None:
            forecasts = self._forecast(panel, which.series, which.origins)
        point = self._point(forecasts)
        interval = self._interval(point, which.series)
        if self.many_:
            return score_panel(self, panel, which, forecasts, point, interval)
        return score_series(self, panel.series[0], which, forecasts, point, interval, background)

    def evaluate(self, data=None) -> dict:
        """Metrics and baselines: on the test part of the training data (no argument), or on every window
        of new labelled data (one series) / the last `horizon` steps of each series (many)."""
        if data is None and getattr(self, "test_", None) is None:
            raise ConfigError("a loaded forecaster keeps no test part: pass the data to evaluate on")
        if data is None:
            panel, scored, seen = self.panel_, self.test_, []
        else:
            panel = self._read_new(data)
            series_of, origins = self._new_windows(panel)
            index = self._known(panel)
            scored = self._score_new(panel, index, series_of, origins)
            seen = self._seen_windows(panel, index, series_of, origins)
        notes = [*seen, *(note for s in panel.series for note in (*s.notes, *s.gaps))]  # the data's, as it was read
        return {"test": scored["metrics"], "baselines": scored["baselines"], "windows": len(scored["first"]),
                **({"coverage": scored["coverage"]} if scored.get("coverage") is not None else {}), "notes": notes}  # fmt: skip

    def _seen_windows(self, panel: Panel, index: np.ndarray, series_of: np.ndarray, origins: np.ndarray) -> list[str]:
        """A line where windows of new data lie within the data the network was trained and validated on (the
        file repeats the training series): they score how it fits, not how it forecasts."""
        seen = 0
        for j in np.unique(series_of):
            _, _, before, row = self.continued(panel.series[j], index[j])
            if row is not None:
                seen += int(np.sum(row + before + origins[series_of == j] + self.horizon <= self.bounds_[index[j]][1]))
        rows = "each series' rows before its test part" if self.many_ else f"the training series' first {self.bounds_[0][1]} rows"
        return [f"{seen} of the {len(origins)} windows lie within the data the model was trained and validated on "
                f"({rows}): they score how it fits them, not how it forecasts"] if seen else []  # fmt: skip

    def _read_new(self, data) -> Panel:
        """Data for a fitted forecaster to predict or score: as `_read`, its time axis of the training data's
        kind (dates, with a time zone or without one, or integers), since its steps are counted from the
        training data's times (`_phase`); one line naming the file otherwise."""
        panel = self._read(data, fitted=True)
        trained = next((t for t in self.origin_times_ if t is not None), None)
        for s in panel.series:
            if trained is not None and s.time is not None and time_kind(s.time[0]) != time_kind(trained):
                raise DataError(f"{panel.path or s.path}: its time column '{s.time.name}' holds {time_kind(s.time[0])}, "
                                f"where the training data's held {time_kind(trained)}")  # fmt: skip
        return panel

    def _known(self, panel: Panel) -> np.ndarray:
        """The fitted series each series of new data is (S,): an unknown id is an error naming it."""
        if not self.many_:
            return np.zeros(len(panel), dtype=np.int64)
        known = {name: i for i, name in enumerate(self.ids_)}
        for name in panel.ids:
            if name not in known:
                raise DataError(f"{panel.path}: series '{name}' was not in the training data; the forecaster knows "
                                f"{len(self.ids_)} series ({', '.join(self.ids_[:5])}{', ...' if len(self.ids_) > 5 else ''})")  # fmt: skip
        return np.array([known[name] for name in panel.ids], dtype=np.int64)

    def _new_windows(self, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
        series_of, origins = [], []
        for j, s in enumerate(panel.series):
            t = np.arange(len(s) - self.horizon, len(s) - self.horizon + 1) if self.many_ else np.arange(
                self.lookback_, len(s) - self.horizon + 1)  # fmt: skip
            t = t[t >= 1]
            series_of.append(np.full(len(t), j)), origins.append(t)
        return np.concatenate(series_of).astype(np.int64), np.concatenate(origins).astype(np.int64)

    def _score_new(self, panel: Panel, index: np.ndarray, series_of: np.ndarray, origins: np.ndarray) -> dict:
        which = Origins(series_of, origins)
        if len(origins) == 0:
            return self._score(panel, which)
        forecasts = self._forecast(panel, series_of, origins, index)
        point = self._point(forecasts)
        interval = self._interval(point, index[series_of])
        if self.many_:
            return score_panel(self, panel, which, forecasts, point, interval, fitted=index)
        return score_series(self, panel.series[0], which, forecasts, point, interval)

    def predict(self, data=None, future=None) -> pd.DataFrame:
        """The `horizon` steps after the end of each series (of the training data when no data is given):
        one row per step (and series, with `id_col` first), the point forecast, the quantiles and the
        conformal interval. `future` (a CSV path or a DataFrame): with `future_features`, their values at
        those steps, one row per step (and series), with the time column where the data has one."""
        panel = self.panel_ if data is None else self._read_new(data)
        index = np.arange(len(panel)) if data is None else self._known(panel)
        futures = self._read_future(future, panel)
        origins = np.array([len(s) for s in panel.series], dtype=np.int64)
        forecasts = self._forecast(panel, np.arange(len(panel)), origins, index, futures)  # (S, H, Q)
        point = self._point(forecasts)
        interval = self._interval(point, index)
        frames = []
        for j, s in enumerate(panel.series):
            frame = pd.DataFrame({"step": np.arange(1, self.horizon + 1)})
            future = future_times(s, self.horizon)
            if future is not None:
                frame.insert(0, s.time.name or "time", future)
            if self.many_:
                frame.insert(0, self._id, panel.ids[j])
            frame[self.target_name_] = point[j]
            for k, q in enumerate(self.quantiles_):
                frame[f"q{q:g}"] = forecasts[j, :, k]
            if interval is not None:
                frame["lower"], frame["upper"] = interval[0][j], interval[1][j]
            frames.append(frame)
        frame = pd.concat(frames, ignore_index=True)
        if self.id_col:
            frame = split_ids(frame, self.id_col)  # several id columns: each its own again
        written = {s.time_format for s in panel.series}
        if panel.series[0].time is not None and len(written) == 1:  # every series' times written alike
            frame = times_written(frame, panel.series[0].time.name or "time", written.pop())
        return frame

    def _read_future(self, future, panel: Panel) -> Optional[list[np.ndarray]]:
        """Per series of `panel`, the values (H, K) of the `future_features` at the `horizon` steps after its
        end, from `future`; None for a forecaster without them. Each problem is one line naming the series."""
        names = list(self.future_features)
        if not names:
            if future is not None:
                raise ConfigError("the forecaster was trained without `future_features`, so it reads no future "
                                  "values; leave `future` out")  # fmt: skip
            return None
        if future is None:
            raise ConfigError(f"the forecaster reads the future values of {', '.join(names)}: give them for the "
                              f"{self.horizon} steps after the end of each series with `future`")  # fmt: skip
        table = read_future_values(future, names, id_col=self.id_col, time_col=self.time_col, time_format=self.time_format)
        futures = []
        for j, s in enumerate(panel.series):
            key = panel.ids[j] if self.id_col else ""  # a wide table's series share one plan
            if key not in table:
                raise DataError(f"{table.path}: has no rows for series '{key}', whose next {self.horizon} steps "
                                f"need the values of {', '.join(names)}")  # fmt: skip
            futures.append(table.after(key, s, self.horizon, future_times(s, self.horizon)))
        return futures

    # ---- the gate inspector ---------------------------------------------------------------------
    def gate_input(self, data, max_steps: Optional[int] = None) -> GateInput:
        """The series to inspect (a CSV path read as training read it, a `Series`, a DataFrame of the model's
        columns, or an array (N,) or (N, F); None: the first series' last `lookback` steps, which the run keeps
        and its next forecast reads) as the network reads it: deseasonalised with the first series' factors, as
        ONE window that the network scales by its level (`ForecastNet.scale`), from a zero state."""
        columns = [self.target_name_, *self.feature_names_]
        kept = data is None
        if kept:
            series = self.panel_.series[0]
        elif isinstance(data, (str, Path)):
            series = self._read_new(data).series[0]
        else:
            series = data
        values = series_values(series, columns)
        phase = 0
        if kept:  # deseasonalised at its place in the season: the kept tail's first step, and the steps to the window
            values, phase = values[-self.lookback_ :], self._phase(0, series) + max(0, len(values) - self.lookback_)
        scaled = (f"their level, or {self.step_units_:g} of their mean steps where those are fewer" if self.step_units_
                  else "their level")  # fmt: skip
        read = (f"the last {len(values)} steps of the {'first ' if self.many_ else ''}series, which the run keeps and "
                "its next forecast reads" if kept else "the series")  # fmt: skip
        notes = [f"The {self.noun} reads windows of {self.lookback_} steps, deseasonalised and scaled by {scaled}; "
                 f"here it read {read} as one window, from a zero state."]  # fmt: skip
        shown = capped(len(values), max_steps, notes, "steps")
        as_series = Series(values[:shown, 0], values[:shown, 1:], self.target_name_, self.feature_names_)
        future = np.repeat(values[shown - 1 : shown, 1:][:, self.future_index_], self.horizon, axis=0)  # the gates never read it
        x, f = self._inputs(0, as_series, np.array([shown]), shown, phase, future)
        season = self.season_ if self.season_ > 1 else 8
        return GateInput((torch.from_numpy(x).float(), torch.from_numpy(f).float()), "series",
                         values=values[:shown], columns=columns, total_steps=len(values),
                         window=min(season, max(1, shown)), notes=notes)  # fmt: skip

    # ---- export -----------------------------------------------------------------------------------
    def export_graph(self):
        """x (batch, time, 1 + covariates read over the past): the deseasonalised target and the scaled
        covariates at `past_index` of the steps before the forecast's origin (`lookback` of them as trained; at
        least a season); seasonal (batch, rows, horizon): the seasonal factors and offsets of the horizon steps
        (with the `ets` base: ones and the ETS forecast from the origin, `statistical.ETSStates`), the ETS
        forecast where the network reads it (`ets_input`), then one row per known-future covariate (at
        `future_index`): its scaled values at the horizon steps less their mean over the last `season` steps
        before the origin -> forecast (batch, horizon, quantiles or 1) in the target's units, the members'
        mean."""
        from ...export.onnx import Graph

        F = self.n_inputs_

        def sample(batch: int, steps: int) -> dict:
            steps = max(steps, self.season_, 2)
            x = torch.rand(batch, steps, F) + 0.5  # positive, as a deseasonalised level is
            rows = [torch.rand(batch, self.net_horizon_) + 0.5, torch.randn(batch, self.net_horizon_)]
            if self.ets_input_:
                rows.append(torch.rand(batch, self.net_horizon_) + 0.5)
            rows += [torch.randn(batch, self.horizon) for _ in self.future_index_]
            seasonal = torch.stack(rows, dim=1)
            return {"x": x, "seasonal": seasonal}

        return Graph(MeanForecast(self.members_), sample(2, self.lookback_), ["forecast"],
                     {"x": {0: "batch", 1: "time"}, "seasonal": {0: "batch"}}, sample,
                     min_steps={"time": max(self.season_, 2)})  # fmt: skip

    # ---- save and load --------------------------------------------------------------------------
    def _tensors(self) -> dict:
        """Each member's weights, and each series' ETS states (float64, in binary: a state per step of every
        series, which as JSON text made a panel's state file tens of megabytes)."""
        tensors = {f"member{k}.{name}": t for k, net in enumerate(self.members_) for name, t in net.state_dict().items()}
        return {**tensors, **{f"ets{i}.states": torch.from_numpy(np.ascontiguousarray(e.states)) for i, e in enumerate(self.ets_ or [])},
                **self._history()}  # fmt: skip

    def _history(self) -> dict:
        """Many series: each series' rows before its saved tail (the state's JSON keeps the last `lookback`), in
        binary, one block for all series: `history.values` (rows, 1 + covariates) float64 and, where the series
        have a time axis, `history.time` (rows,) int64, microseconds since 1970 (UTC) or the integer steps. So a
        loaded run holds its whole training data, on which `evaluate` fits the baselines of new data that
        continues it (`continued`). One series keeps all of its rows in the JSON."""
        if not self.many_:
            return {}
        heads = [s.head(max(0, len(s) - self.lookback_)) for s in self.panel_.series]
        values = np.concatenate([np.column_stack([h.target, h.covariates]) for h in heads]).astype(np.float64)
        if len(values) == 0:
            return {}
        history = {"history.values": torch.from_numpy(np.ascontiguousarray(values))}
        if heads[0].time is not None:  # the series of a panel share one time column, or none
            history["history.time"] = torch.from_numpy(np.concatenate([_time_numbers(h.time) for h in heads]))
        return history

    def _state(self) -> dict:
        return {
            "quantiles": self.quantiles_, "season": self.season_, "lookback": self.lookback_, "members": len(self.members_),
            "net_horizon": self.net_horizon_,
            "base": self.base_, "ets": None if self.ets_ is None else [e.to_dict(states=False) for e in self.ets_], "ets_input": self.ets_input_,
            "reads_ets": self.reads_ets_, "step_units": self.step_units_, "intermittent": self.intermittent_,
            "target_name": self.target_name_, "feature_names": self.feature_names_, "ids": self.ids_,
            "indices": self.indices_.tolist(), "offsets": self.offsets_.tolist(), "scales": self.scales_.tolist(),
            "still": self.still_.tolist(),
            "covariate_scalers": [None if s is None else s.to_dict() for s in self.covariate_scalers_],
            "origin_times": [None if t is None else str(t) for t in self.origin_times_], "freqs": self.freqs_,
            "train_target": None,  # the first series' training part, from the kept series (before: many series saved it)
            "conformal": self.conformal_, "best_epoch": self.best_epoch_, "bounds": self.bounds_,
            "calibrated_on": self.calibrated_on_, "shrunk": self.shrunk_, "train_windows": self.train_windows_,
            # one series: all of it, which the baselines of `evaluate` on data that continues it are fitted on; many:
            # the last `lookback` rows of each, the rows before in binary (`_history`)
            "tails": [_tail(s, self.lookback_ if self.many_ else len(s)) for s in self.panel_.series],
            "future_index": self.future_index_, "past_index": self.past_index_, "static_features": self.static_features_,
            "categories": self.categories_,
            # what `lstmkit predict RUN` prints, without the model; with future covariates, it needs their values
            "predicted": None if self.future_index_ else Predictions.of(self.predict()).record(),
        }  # fmt: skip

    def _restore(self, state: dict, tensors: dict, directory: Path) -> None:
        self.quantiles_, self.season_ = state["quantiles"], saved_whole(state, "season", 1)
        self.lookback_ = saved_whole(state, "lookback", 1)
        self.net_horizon_ = saved_whole(state, "net_horizon", self.horizon) if "net_horizon" in state else self.horizon  # before: the horizon
        self.pretrained_ = None  # the members' weights are the run's own
        self.base_ = state.get("base", "naive2" if self.base == "auto" else self.base)  # runs saved before "auto": their setting
        self.ets_ = None if state.get("ets") is None else [ETSStates.from_dict(e, None if "states" in e else tensors[f"ets{i}.states"].numpy())
                                                           for i, e in enumerate(state["ets"])]  # fmt: skip
        self.ets_input_ = state.get("ets_input", False)  # runs saved before the setting: their network reads no ETS
        self.future_index_ = [int(k) for k in state.get("future_index", [])]  # saved before: none
        self.past_index_ = [int(k) for k in state.get("past_index", range(len(state["feature_names"])))]  # before: all
        self.target_name_, self.feature_names_, self.ids_ = state["target_name"], state["feature_names"], state["ids"]
        self.indices_, self.scales_ = np.asarray(state["indices"], dtype=float), np.asarray(state["scales"], dtype=float)
        self.offsets_ = np.asarray(state["offsets"], dtype=float)
        self.still_ = np.asarray(state.get("still", [False] * len(self.scales_)), dtype=bool)  # saved before: none
        self.covariate_scalers_ = [None if s is None else Scaler.from_dict(s) for s in state["covariate_scalers"]]
        self.static_features_ = list(state.get("static_features", []))  # saved before: scaled within each series
        self.categories_ = state.get("categories", {})  # saved before: no text covariate
        self.freqs_, self.conformal_, self.best_epoch_ = state["freqs"], state["conformal"], state["best_epoch"]
        self.calibrated_on_ = state.get("calibrated_on")  # runs saved before: not known
        self.shrunk_, self.train_windows_ = state.get("shrunk", 1.0), state.get("train_windows")  # before: none shrunk
        self.bounds_ = [tuple(b) for b in state["bounds"]]
        series = [_series_from_tail(t, self.target_name_, self.feature_names_, directory) for t in state["tails"]]
        if "history.values" in tensors:  # many series, saved whole
            series = _with_history(series, state["tails"], tensors["history.values"].numpy(), tensors.get("history.time"))
        kept = state["train_target"] if state["train_target"] is not None else series[0].target[: self.bounds_[0][0] - series[0].start]
        self.train_target_ = np.asarray(kept, dtype=float)
        self.origin_times_ = [None if t is None else _time_value(t, s.time) for t, s in zip(state["origin_times"], series)]
        self.panel_ = Panel(series, list(self.ids_), self._id or "", str(directory))
        self.members_ = []
        members = saved_whole(state, "members", 1)
        self.reads_ets_ = [bool(r) for r in state.get("reads_ets", [self.ets_input_] * members)]  # saved before: all alike
        self.step_units_ = float(state.get("step_units", 0.0))  # saved before: the level alone
        self.intermittent_ = bool(state.get("intermittent", False))  # saved before: none was, so it reads as then
        for k in range(members):
            net = self._build_model(self.n_inputs_, self.reads_ets_[k])
            prefix = f"member{k}."
            net.load_state_dict({name[len(prefix) :]: t for name, t in tensors.items() if name.startswith(prefix)})
            self.members_.append(net.eval())
        self.model_ = self.members_[0]


def _tail(s: Series, lookback: int) -> dict:
    """The last lookback rows of a series (or all), so `predict()` works after `load` without data; `start`
    keeps the step number of its first row (the season position of a series without a time axis)."""
    rows = slice(max(0, len(s) - lookback), len(s))
    time = None if s.time is None else [str(t) for t in s.time[rows]]
    values = np.column_stack([s.target, s.covariates])[rows].astype(float)  # as read: float64, not `values`' float32
    return {"values": values.tolist(), "time": time, "freq": s.freq, "start": s.start + rows.start, "history": rows.start,
            "integer_time": s.time is not None and pd.api.types.is_integer_dtype(s.time),
            "time_name": None if s.time is None else s.time.name, "time_format": s.time_format}  # fmt: skip


def _time_value(text: str, like: Optional[pd.Index]):
    if like is not None and pd.api.types.is_integer_dtype(like):
        return int(text)
    return pd.Timestamp(text) if like is not None else None


def _time_numbers(time: pd.Index) -> np.ndarray:
    """A time axis as int64: integer steps as they are; times as microseconds since 1970, UTC where zoned."""
    if isinstance(time, pd.DatetimeIndex):
        return np.asarray(time.as_unit("us").asi8, dtype=np.int64)
    return np.asarray(time, dtype=np.int64)


def _with_history(series: list[Series], tails: list[dict], values: np.ndarray, times: Optional[torch.Tensor]) -> list[Series]:
    """The saved tails with the rows before them (`Forecaster._history`) put back in front: the whole series.
    The series of a panel share one kind of time axis (one file's time column), so the times convert at once."""
    axis = series[0].time
    if axis is not None:  # every row's time, of the kind (and in the zone) of the tails' axes
        numbers = times.numpy()
        if isinstance(axis, pd.DatetimeIndex):
            stamps = pd.to_datetime(numbers, unit="us", utc=True)
            numbers = stamps.tz_convert(axis.tz) if axis.tz is not None else stamps.tz_localize(None)
        else:
            numbers = pd.Index(numbers)
    whole, at = [], 0
    for s, tail in zip(series, tails):
        n = int(tail.get("history", 0))
        rows, time = values[at : at + n], s.time
        if s.time is not None:
            time = numbers[at : at + n].append(s.time).rename(s.time.name)
        whole.append(dataclasses.replace(s, target=np.concatenate([rows[:, 0], s.target]),
                                         covariates=np.concatenate([rows[:, 1:], s.covariates]), time=time,
                                         start=s.start - n))  # fmt: skip
        at += n
    return whole


def _series_from_tail(tail: dict, target_name: str, feature_names: list[str], directory: Path) -> Series:
    values = np.asarray(tail["values"], dtype=float)
    time = None
    if tail["time"] is not None:
        time = pd.Index([int(t) for t in tail["time"]] if tail["integer_time"] else pd.to_datetime(tail["time"]),
                        name=tail["time_name"])  # fmt: skip
    return Series(target=values[:, 0], covariates=values[:, 1:], target_name=target_name, feature_names=feature_names,
                  time=time, freq=tail["freq"], gaps=[], path=str(directory), start=tail["start"],
                  time_format=tail.get("time_format"))  # fmt: skip
