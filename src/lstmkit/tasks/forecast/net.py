"""The forecasting network: an LSTM that learns a correction to a statistical forecast, for one series or
for thousands at once.

The design follows Smyl's ES-RNN (winner of M4): the statistics handle what they handle well, the LSTM
learns what they miss, and one network is shared by every series.

1. The estimator divides each series by its multiplicative seasonal factors (the classical decomposition
   of the M4 benchmarks, fitted on the training part; all ones for a series without a significant
   season), or, for a series with zeros or negative values, subtracts additive seasonal offsets instead,
   so the network reads deseasonalised values x (B, L) and gets the factors and offsets of the horizon.
2. Each window is scaled by its own level, the mean magnitude of its last season, so one network serves
   series of any size (`z = x / scale`), as DeepAR scales by the mean magnitude.
3. The forecast starts as a statistical one, `base`, in the scaled space:
       naive2   the last deseasonalised value, held flat (the M4 Naive2 benchmark);
       snaive   the last season repeated (seasonal naive; use it with the factors all ones);
       ets      zero here: the estimator gives the ETS forecast from the window's origin (statsforecast's
                AutoETS, fitted once per series) in the offsets' place, with the factors all ones, so the
                network corrects it;
       none     zero: the LSTM alone.
   The LSTM reads the scaled window and its head adds a correction per horizon step and quantile. The
   head starts at zero, so before training the network *is* the statistical forecast, and early stopping
   on the validation part can keep it if the LSTM cannot improve on it.
   With `reads_ets` (the default for many series, whose base is naive2), the head also reads the ETS
   forecast from the window's origin, given in a third row of `seasonal`, deseasonalised and scaled as the
   window is and relative to its last value: the network learns across series when to follow ETS and when
   not, instead of guessing from the window alone what ETS forecasts.
   With known-future covariates (`n_future`: holidays, promotions, planned prices), the last `n_future`
   rows of `seasonal` hold their scaled values at the horizon steps, and each step's forecast adds a
   linear function of that step's values (`future`, shared by the steps, starting at zero): a promotion's
   lift, learned in the scaled space, is a share of the window's level.
4. The forecast is mapped back: `(base + correction) * scale * factors + offsets`.

Every horizon step is emitted at once (no feeding back of its own predictions, so errors do not compound).

Measured and not kept: a learned embedding of each series' id (4 numbers, as DeepAR embeds categories) whose
linear map, from zero, adds a per-series correction: mean MASE, seed 0, Tourism quarterly 1.592 against 1.527,
M1 quarterly 1.652 against 1.620, M3 other 1.802 against 1.789; what a series has alone overfits, as one short
series' correction does. With the training settings, on the same three (against 1.527, 1.620, 1.789): a cosine
decay over 60 epochs 1.540, 1.628, 1.796; lr 1e-3 1.551, 1.629, 1.786; two layers with dropout 0.2 1.556,
1.639, 1.774.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from ...nn import LSTM, variant_flags

EPS = 1e-6
STEP_UNITS = 200  # one series: a window's unit is at most this many of its mean steps (`ForecastNet.scale`)


class ForecastNet(nn.Module):
    """x (B, L, F): the deseasonalised target in column 0 (in its units), scaled covariates after;
    seasonal (B, 2, H): the multiplicative factors and the additive offsets of the horizon steps, then (in a
    third row, where the estimator gives it) the ETS forecast of the horizon steps (in the target's units),
    which the network reads with `reads_ets`, then `n_future` rows: the known-future covariates of the
    horizon steps, scaled -> forecasts (B, H, Q) in the target's units; the first `emit` of the H steps
    where it is given (B, emit, Q)."""

    def __init__(
        self,
        n_features: int,
        horizon: int,
        season: int,
        *,
        base: str = "naive2",
        hidden: int = 64,
        layers: int = 1,
        variant: str = "vanilla",
        dropout: float = 0.0,
        bidirectional: bool = False,
        n_quantiles: int = 1,
        reads_ets: bool = False,
        n_future: int = 0,
        emit: int | None = None,
        step_units: float = 0.0,
        intermittent: bool = False,
    ):
        super().__init__()
        self.lstm = LSTM(n_features, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0,
                         bidirectional=bidirectional, **variant_flags(variant))  # fmt: skip
        self.reads_ets, self.n_future = reads_ets, n_future
        self.head = nn.Linear(hidden * (2 if bidirectional else 1) + (horizon if reads_ets else 0), horizon * n_quantiles)
        # a step's known-future values move that step's forecast alone, alike at every step: K weights a quantile, where
        # the head reading every step's values for every step (H * K * H weights) overfit one series' few promotions
        self.future = nn.Linear(n_future, n_quantiles, bias=False) if n_future else None
        if base != "none":  # the correction starts at zero: the untrained network is the statistical forecast
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
            if self.future is not None:
                nn.init.zeros_(self.future.weight)
        self.horizon, self.season, self.base, self.n_quantiles = horizon, season, base, n_quantiles
        # a pretrained network forecasts the `horizon` steps it was trained for and gives the first `emit` of them, so
        # its head reads the ETS forecast of every step it learned from (`Forecaster.net_horizon_`)
        self.emit = horizon if emit is None else emit
        self.step_units, self.intermittent = step_units, intermittent

    @torch.no_grad()
    def shrink(self, kept: float) -> None:
        """Scale the correction the LSTM learned toward the statistical base, in place: the part common to every
        quantile's correction to `kept` of itself (the quantiles' spread around it stays). The head's output is
        linear in its weights, so the network itself, its export and the service all forecast the shrunk
        correction (`Forecaster._shrinkage` says why). The known-future covariates' effect (`future`) stays
        whole: a promotion's lift is a regression on values the statistical start cannot see, not a correction
        of it, and shrunk it lost the lift that `test_forecast_future` holds."""
        weight = self.head.weight.view(self.horizon, self.n_quantiles, -1)  # output h * Q + q: step h's quantile q
        weight -= (1.0 - kept) * weight.mean(dim=1, keepdim=True)
        bias = self.head.bias.view(self.horizon, self.n_quantiles)
        bias -= (1.0 - kept) * bias.mean(dim=1, keepdim=True)

    def scale(self, target: Tensor) -> Tensor:
        """target (B, L) -> (B, 1): the window's level, the mean magnitude of its last season (of the whole
        window, for intermittent demand).

        A series whose steps are tiny beside its level (a log of money, ~11.6, moving ~0.02 a quarter) moves
        by many MASE units at each optimizer step of the correction: statsmodels' Danish lrm, validation loss
        1.63, 1.37, 0.56, 0.93, 1.53 over the first epochs, test MASE 1.269 (ETS 0.821; --lr 1e-4: 0.821). The
        correction and its inputs damped by the window's mean step over 5% of its level (at most 1) smoothed
        it (0.945) but lost on the single fits (--single 20, relative to seasonal naive: M3 other 0.500 ->
        0.579, M3 quarterly 0.838 -> 0.901, Tourism unchanged). Over 0.5% of its level instead, it kept
        Danish's ETS start (0.821) and, on the same 77 series, moved only M3 monthly (1.244 -> 1.101, two
        series) and M3 other (0.500 -> 0.485): 0.787 against 0.796 in all. On the global fits (one member,
        seed 0, mean MASE) it lost M3 other, 1.780 -> 1.810 (ETS 1.801), and held Tourism quarterly (1.528)
        and M1 quarterly (1.620 -> 1.623), so a global fit's unit is the level alone.

        One series (`step_units` STEP_UNITS, which the forecaster sets where it fits one series from its
        own start): the unit is at most STEP_UNITS of the window's mean absolute step, so it changes only
        windows whose mean step is under 0.5% of their level. Measured (benchmarks/forecast_quality.py --single
        60 at offsets 0 and 1 over Tourism, M1 and M3's ten collections: 521 series fitted alone, seed 0): 23
        fits changed, 14 for the better; their geometric mean MASE relative to ETS's 1.368 -> 1.266, all 521
        relative to seasonal naive's 0.889 -> 0.886. On real series the defaults were not chosen on (statsmodels'
        datasets, default settings, horizons 1 and 8; test MASE, the level -> this unit, ETS): CO2 weekly read
        as a column of values, h 1, 0.595 -> 0.228 (0.314); US population h 1 0.075 -> 0.043 (0.015); CPI h 1
        and 8 0.355 -> 0.341, 0.551 -> 0.518; Danish lry h 1 0.557 -> 0.413 (0.357); worse: Danish lrm h 1
        0.590 -> 0.762 (0.418), lry h 8 0.927 -> 1.555 (0.793), dated CO2 h 8 0.309 -> 0.330; eleven changed
        fits' geometric mean ratio 0.898. Where a window's steps are tiny beside its level, an optimizer step of
        the correction in units of the level moves the forecast by many of its steps (CO2's level is ~1000
        weekly steps); in units of its steps it moves as it does on a series that moves.

        Measured and not kept: the unit also at most 50 of the window's mean seasonal steps (target[t] -
        target[t - season]: MASE's step), where the lookback holds more than a season. Hourly temperatures
        averaged over years (vega_datasets' Seattle, ~52 F) move 0.94 F an hour but 0.16 F a day, and at
        horizon 1 their validation loss jumped 0.78-1.83 from epoch to epoch, so the refit for the chosen
        count of epochs landed anywhere: test MASE, seeds 0 and 1, Seattle 1.211 and 0.627 -> 0.743 and 0.743
        (ETS 0.743, kept as the start), San Francisco 1.114 and 1.311 -> 1.114 and 1.114, weekly CO2 0.293
        and 0.276 -> 0.238 and 0.239, El Nino 0.342 and 0.356 -> 0.365 and 0.336. At the series' own horizons
        it lost: Taylor's half-hourly demand (48) 0.338 and 0.353 -> 0.414 and 0.373, El Nino (12) 0.746 and
        0.783 -> 0.772 and 0.804, CO2 (52) 0.507 and 0.500 -> 0.473 and 0.566 (Seattle's daily weather, and the
        temperatures a day ahead, unchanged). On competition series fitted alone (25 a collection of Tourism,
        M1 and M3 monthly and quarterly, backtest 1) it changed 8 of 126 fits (relative to seasonal naive,
        geometric mean 0.837 -> 0.838); at 20 seasonal steps 33 of 151 (0.783 -> 0.780: M3 monthly and
        quarterly gained, M1 quarterly's 7 changed fits went from 1.069 to 1.544 of ETS's MASE)."""
        # intermittent demand: the whole window, whose last season (its last value, without one) is zero more often
        # than not, a unit of EPS in which no correction moves the forecast
        recent = target if self.intermittent else target[:, -self.season :]  # all of a window shorter than a season
        level = recent.abs().mean(dim=1, keepdim=True) + EPS
        if not self.step_units:
            return level
        steps = (target[:, 1:] - target[:, :-1]).abs().mean(dim=1, keepdim=True)  # (B, 1); windows of 2 steps or more
        return torch.minimum(level, self.step_units * steps + EPS)

    def statistical(self, z: Tensor) -> Tensor:
        """The base forecast in the scaled space: z (B, L) -> (B, H)."""
        if self.base == "naive2":
            return z[:, -1:].expand(-1, self.horizon)
        if self.base == "snaive":
            m = self.season if z.shape[1] >= self.season else z.shape[1]  # no min(): an exported graph's length is symbolic
            return z[:, z.shape[1] - m + torch.arange(self.horizon, device=z.device) % m]
        return z.new_zeros(z.shape[0], self.horizon)  # ets (in the offsets) and none

    def forward(self, x: Tensor, seasonal: Tensor) -> Tensor:
        scale = self.scale(x[:, :, 0])  # (B, 1)
        z = x[:, :, 0] / scale  # (B, L)
        inputs = torch.cat([(z - z[:, -1:]).unsqueeze(-1), x[:, :, 1:]], dim=2)  # (B, L, F): relative to the last value
        _, (h_n, _) = self.lstm(inputs)  # h_n: (layers * D, B, H_lstm)
        D = 2 if self.lstm.bidirectional else 1
        last = torch.cat(list(h_n[-D:]), dim=1)  # (B, D * H_lstm): the top layer, both directions
        factors, offsets = seasonal[:, 0], seasonal[:, 1]  # (B, H) each
        if self.reads_ets:  # the ETS forecast, deseasonalised and scaled as z, relative to the last value: beside h_n
            last = torch.cat([last, (seasonal[:, 2] - offsets) / (factors * scale) - z[:, -1:]], dim=1)
        correction = self.head(last).view(-1, self.horizon, self.n_quantiles)  # (B, H, Q)
        # a window whose values are all equal (a series of zeros, a price held) tells no correction: its base alone
        varies = x[:, :, 0].amax(dim=1) > x[:, :, 0].amin(dim=1)  # (B,)
        correction = correction * varies.to(correction.dtype).view(-1, 1, 1)
        if self.base == "ets" and not self.intermittent:  # a held window's base is the value held: ETS's level can lag
            # a count gone to zero; of intermittent demand, days without a sale are how it goes, and ETS's level its rate
            offsets = torch.where(varies.view(-1, 1), offsets, x[:, -1:, 0])
        if self.future is not None:  # each horizon step's known-future covariates, scaled: (B, H, K) -> (B, H, Q)
            correction = correction + self.future(seasonal[:, seasonal.shape[1] - self.n_future :].transpose(1, 2))
        forecast = self.statistical(z).unsqueeze(-1) + correction  # (B, H, Q)
        forecast = forecast * (scale * factors).unsqueeze(-1) + offsets.unsqueeze(-1)
        if self.intermittent and not self.training:  # demand is never below zero, so neither is its forecast (not in
            # training, where a clamped forecast's gradient would be zero)
            forecast = forecast.clamp(min=0.0)
        return forecast if self.emit == self.horizon else forecast[:, : self.emit]


class MeanForecast(nn.Module):
    """The members of a forecaster averaged as `Forecaster` averages them, quantiles sorted:
    (x (B, L, F), seasonal (B, R, H)) -> (B, H, Q)."""

    def __init__(self, members: Sequence[ForecastNet]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: Tensor, seasonal: Tensor) -> Tensor:
        forecasts = torch.stack([member(x, seasonal).float() for member in self.members]).mean(dim=0)
        return torch.sort(forecasts, dim=-1).values


def scaled_error(prediction: Tensor, target: Tensor, weight: Tensor, quantiles: Sequence[float], squared: bool = False) -> Tensor:
    """The training loss: each window's error divided by its series' MASE scale (weight = 1 / scale), so the
    loss is the mean MASE the forecasts are judged by, and no series counts more for being bigger; `squared`:
    the mean of the scaled errors' squares, whose forecast is the mean rather than the median.
    prediction (B, H, Q), target (B, H), weight (B,). With quantiles: the pinball loss, scaled the same way."""
    error = (target.unsqueeze(-1) - prediction) * weight.view(-1, 1, 1)  # (B, H, Q)
    if quantiles:
        q = torch.as_tensor(quantiles, dtype=prediction.dtype, device=prediction.device)  # (Q,)
        loss = torch.maximum(q * error, (q - 1) * error) * 2  # twice the pinball loss: |error| at the median
    else:
        loss = error.square() if squared else error.abs()
    return loss.mean()
