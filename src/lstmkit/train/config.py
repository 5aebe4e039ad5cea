"""The training settings every job shares, as one plain dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..errors import ConfigError

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("plateau", "cosine", "none")
PRECISIONS = ("fp32", "bf16", "auto")


@dataclass
class TrainConfig:
    epochs: int = 100  # upper bound: early stopping usually ends sooner
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"  # adam | adamw | sgd (with momentum) | rmsprop
    momentum: float = 0.9  # SGD's
    weight_decay: float = 0.0  # L2 for adam/sgd/rmsprop, decoupled for adamw
    clip_norm: Optional[float] = 1.0  # gradient-norm clipping; None turns it off
    schedule: str = "plateau"  # halve the lr when validation stalls | cosine decay | none
    patience: int = 10  # epochs without a better validation loss before stopping
    min_steps: int = 300  # optimiser steps before early stopping or the plateau schedule may act: small data has few per epoch
    max_time: Optional[float] = None  # seconds; the run stops after the epoch that crosses it
    seed: int = 0
    precision: str = "fp32"  # fp32 | bf16 | auto (bf16 where the hardware has it natively)
    device: str = "cpu"  # cpu | cuda | auto

    def validate(self) -> "TrainConfig":
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ConfigError(message)

        need(self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}")
        need(self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}")
        need(self.lr > 0, f"--lr must be positive, got {self.lr}")
        need(self.optimizer in OPTIMIZERS, f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        need(self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        need(self.patience >= 1, f"--patience must be at least 1, got {self.patience}")
        need(self.min_steps >= 0, f"min_steps must be at least 0, got {self.min_steps}")
        need(self.max_time is None or self.max_time > 0, f"--max-time must be positive, got {self.max_time}")
        need(self.precision in PRECISIONS, f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        need(self.device in ("cpu", "cuda", "auto"), f"--device must be cpu, cuda or auto, got {self.device!r}")
        need(self.clip_norm is None or self.clip_norm > 0, f"clip_norm must be positive or None, got {self.clip_norm}")
        return self
