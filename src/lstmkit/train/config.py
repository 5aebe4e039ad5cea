"""The training settings every job shares, as one plain dataclass, each declared once (`lstmkit.settings`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Optional

from ..errors import ConfigError
from ..settings import check_settings, setting

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("plateau", "cosine", "none")
PRECISIONS = ("fp32", "bf16", "auto")
DEVICES = ("cpu", "cuda", "auto")
SEED_MAX = 2**63 - 1  # torch takes 64-bit seeds; ensemble members add their index, which still fits


@dataclass
class TrainConfig:
    epochs: int = setting(100, "Most epochs (early stopping usually ends sooner).", whole=True, min=1)
    batch_size: int = setting(32, "Windows per mini-batch.", whole=True, min=1)
    lr: float = setting(1e-3, "Learning rate.", above=0)
    optimizer: str = setting("adam", "Optimiser.", choices=OPTIMIZERS)  # sgd has momentum
    momentum: float = setting(0.9, "SGD's momentum.", min=0, cli=False)
    weight_decay: float = setting(0.0, "L2 for adam/sgd/rmsprop, decoupled for adamw.", min=0, cli=False)
    clip_norm: Optional[float] = setting(1.0, "Gradient-norm clipping; None turns it off.", above=0, cli=False)
    schedule: str = setting("plateau", "Halve the lr when validation stalls | cosine decay | none.",
                            choices=SCHEDULES, cli=False)  # fmt: skip
    patience: int = setting(10, "Epochs without a better validation loss before stopping.", whole=True, min=1)
    # optimiser steps before early stopping or the plateau schedule may act: small data has few per epoch
    min_steps: int = setting(300, "Optimiser steps before early stopping may act.", whole=True, min=0, cli=False)
    max_time: Optional[float] = setting(None, "Time budget in seconds of each model trained (each ensemble member's); "
                                              "training stops after the epoch that crosses it.", above=0)  # fmt: skip
    # a checkpoint (torch.save + fsync) costs ~17 ms: after every epoch of a small model, more than the training
    checkpoint_every: float = setting(30.0, "Seconds between checkpoints (0: after every epoch); the last epoch "
                                            "always checkpoints.", min=0, below=math.inf)  # fmt: skip
    # beside another busy process a 2-thread step stalls; by default the count is chosen per step (train/threads.py)
    threads: Optional[int] = setting(None, "Threads per training step (default: chosen per step from the work "
                                           "and the machine's load).", whole=True, min=1)  # fmt: skip
    seed: int = setting(0, "Seed: the same seed repeats a CPU run exactly.", whole=True, min=0, max=SEED_MAX)
    device: str = setting("cpu", "Where to train.", choices=DEVICES)
    precision: str = setting("fp32", "fp32, bf16 autocast, or auto (bf16 where native).", choices=PRECISIONS)

    def validate(self) -> "TrainConfig":
        check_settings(self)
        return self

    def resolved(self) -> "TrainConfig":
        """A checked copy with `device` and `precision` decided for this machine ('auto' resolved, bf16 only
        where the hardware computes it natively): decided once per run, then passed down as it is."""
        from .precision import resolve_device, resolve_precision

        self.validate()
        device = resolve_device(self.device)
        return dataclasses.replace(self, device=device.type, precision=resolve_precision(self.precision, device))


def field_of(name: str) -> dataclasses.Field:
    """The declaration of one training setting (its default, help and bounds)."""
    for field in dataclasses.fields(TrainConfig):
        if field.name == name:
            return field
    raise ConfigError(f"no training setting {name!r}")
