"""`lstmkit demo`: a small, real training run of `lstmkit.LSTM`, next to a baseline.

A noisy, slowly modulated sine wave is generated (nothing to download); an LSTM reads the last `lookback`
values and predicts the next one. The series is split by time (train / validation / test), scaled with
train statistics, and the test error is shown beside the naive forecast (tomorrow = today), so it is plain
whether the LSTM learned anything.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from .nn import LSTM


@dataclass
class DemoConfig:
    variant: str = "vanilla"  # vanilla | peephole | cifg | layernorm
    hidden: int = 32  # cell size H
    lookback: int = 40  # steps the LSTM reads before each prediction
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-2  # Adam
    steps: int = 2000  # length of the generated series
    seed: int = 0


def make_series(steps: int, seed: int) -> np.ndarray:
    """A sine of period 20 whose amplitude drifts with period 150, plus Gaussian noise (sd 0.1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    signal = np.sin(2 * np.pi * t / 20) * (1 + 0.3 * np.sin(2 * np.pi * t / 150))
    return (signal + 0.1 * rng.standard_normal(steps)).astype(np.float32)


def windows(series: np.ndarray, lookback: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, lookback, 1) inputs as a strided view of the series, and the (N,) values that follow them."""
    values = torch.from_numpy(series)
    x = values[:-1].unfold(0, lookback, 1)  # (N, lookback), a view: no window is copied
    return x.unsqueeze(-1), values[lookback:]


class NextStep(nn.Module):
    """LSTM encoder over the window, then a linear read-out of the last hidden state."""

    def __init__(self, hidden: int, variant: str):
        super().__init__()
        flags = {variant: True} if variant != "vanilla" else {}
        self.lstm = LSTM(1, hidden, batch_first=True, **flags)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, 1)
        out, _ = self.lstm(x)  # (B, T, H)
        return self.head(out[:, -1]).squeeze(-1)  # (B,)


def run(config: DemoConfig, on_epoch=None) -> dict:
    """Train on the first 70% of the series, select on the next 15%, report on the last 15%."""
    torch.manual_seed(config.seed)
    series = make_series(config.steps, config.seed)
    n_train, n_val = int(0.7 * len(series)), int(0.15 * len(series))
    mean, std = float(series[:n_train].mean()), float(series[:n_train].std())  # train statistics only
    scaled = (series - mean) / std
    # each part keeps the lookback before it, so the first target of a part is its own first value
    parts = {
        "train": scaled[:n_train],
        "val": scaled[n_train - config.lookback : n_train + n_val],
        "test": scaled[n_train + n_val - config.lookback :],
    }
    data = {name: windows(part, config.lookback) for name, part in parts.items()}

    model = NextStep(config.hidden, config.variant)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    best_val, best_state, start = float("inf"), None, time.perf_counter()
    x_train, y_train = data["train"]
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(y_train))
        for batch in order.split(config.batch_size):
            loss = nn.functional.mse_loss(model(x_train[batch]), y_train[batch])
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
        val = _mse(model, *data["val"])
        if val < best_val:
            best_val, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
        if on_epoch:
            on_epoch(epoch, loss.item(), val)
    model.load_state_dict(best_state)

    x_test, y_test = data["test"]
    test_mse = _mse(model, x_test, y_test) * std**2  # back in the series' own units
    naive_mse = float(((x_test[:, -1, 0] - y_test) ** 2).mean()) * std**2
    return {
        "task": "next-step forecast of a generated noisy sine",
        "config": asdict(config),
        "test": {"mse": float(test_mse), "rmse": float(np.sqrt(test_mse))},
        "baselines": {"naive": {"mse": naive_mse, "rmse": float(np.sqrt(naive_mse))}},
        "noise_floor_mse": 0.01,  # the noise variance: no forecaster can do better on average
        "test_windows": len(y_test),
        "seconds": time.perf_counter() - start,
    }


@torch.no_grad()
def _mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    return float(nn.functional.mse_loss(model(x), y))
