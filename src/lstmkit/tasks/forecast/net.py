"""The forecasting network: an LSTM encoder over the lookback window and a head that emits every horizon
step at once (no recursive feeding of its own predictions, so errors do not compound).

Each window's target is normalised by the window's own mean and spread before the LSTM sees it, and the
forecast is mapped back with the same two numbers (reversible instance normalisation, Kim et al. 2022).
The network then learns the shape of what comes next rather than the level, which lets it follow trends
that carry the series beyond the range seen in training; a lagging copy of the last value, the classic
silent failure, no longer looks like a good answer.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from ...nn import LSTM, variant_flags

EPS = 1e-5


class ForecastNet(nn.Module):
    """x (B, L, F) scaled inputs, target in column 0 -> forecasts (B, horizon, Q) in the same scale."""

    def __init__(
        self,
        n_features: int,
        horizon: int,
        *,
        hidden: int = 64,
        layers: int = 1,
        variant: str = "vanilla",
        dropout: float = 0.0,
        bidirectional: bool = False,
        n_quantiles: int = 1,
        window_norm: bool = True,
    ):
        super().__init__()
        self.lstm = LSTM(n_features, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0,
                         bidirectional=bidirectional, **variant_flags(variant))  # fmt: skip
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), horizon * n_quantiles)
        self.horizon, self.n_quantiles, self.window_norm = horizon, n_quantiles, window_norm

    def forward(self, x: Tensor) -> Tensor:
        if self.window_norm:
            level = x[:, :, :1].mean(dim=1, keepdim=True)  # (B, 1, 1)
            spread = x[:, :, :1].std(dim=1, keepdim=True, unbiased=False) + EPS  # (B, 1, 1)
            x = torch.cat([(x[:, :, :1] - level) / spread, x[:, :, 1:]], dim=2)
        _, (h_n, _) = self.lstm(x)  # h_n: (layers * D, B, H)
        D = 2 if self.lstm.bidirectional else 1
        last = torch.cat(list(h_n[-D:]), dim=1)  # (B, D*H): the top layer, both directions
        y = self.head(last).view(-1, self.horizon, self.n_quantiles)  # (B, horizon, Q)
        if self.window_norm:
            y = y * spread + level
        return y


def pinball_loss(prediction: Tensor, target: Tensor, quantiles: Sequence[float]) -> Tensor:
    """Mean quantile (pinball) loss. prediction (B, horizon, Q), target (B, horizon)."""
    q = torch.as_tensor(quantiles, dtype=prediction.dtype, device=prediction.device)  # (Q,)
    error = target.unsqueeze(-1) - prediction  # (B, horizon, Q)
    return torch.maximum(q * error, (q - 1) * error).mean()
