"""The anomaly detector's network: a window of every column -> the next step of every column."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ...nn import LSTM, variant_flags

EPS = 1e-5


class NextStepNet(nn.Module):
    """x (B, L, F) scaled windows -> (B, F): the next step of every column, in the same scale.

    Each window is normalised per column by its own mean and spread before the LSTM reads it, and the
    prediction mapped back with them (as in `ForecastNet`), so a series whose level wanders beyond the
    training range is still predicted by its shape."""

    def __init__(self, n_features: int, *, hidden: int = 64, layers: int = 1, variant: str = "vanilla",
                 dropout: float = 0.0, bidirectional: bool = False, window_norm: bool = True):  # fmt: skip
        super().__init__()
        self.lstm = LSTM(n_features, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0,
                         bidirectional=bidirectional, **variant_flags(variant))  # fmt: skip
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), n_features)
        self.window_norm = window_norm

    def forward(self, x: Tensor) -> Tensor:
        if self.window_norm:
            level = x.mean(dim=1, keepdim=True)  # (B, 1, F)
            spread = x.std(dim=1, keepdim=True, unbiased=False) + EPS  # (B, 1, F)
            x = (x - level) / spread
        _, (h_n, _) = self.lstm(x)  # h_n: (layers * D, B, H)
        D = 2 if self.lstm.bidirectional else 1
        y = self.head(torch.cat(list(h_n[-D:]), dim=1))  # (B, F)
        if self.window_norm:
            y = y * spread[:, 0] + level[:, 0]
        return y
