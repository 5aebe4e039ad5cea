"""The checkpoint of a run: everything needed to resume it, saved atomically every `checkpoint_every` seconds
and at the run's last epoch (`loop.fit`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch

from ..fileio import atomic_write


def save_checkpoint(path: Path, state: dict) -> None:
    atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def member_checkpoint(checkpoint, k: int, fold: Optional[int] = None, phase: str = "") -> Optional[Path]:
    """Where ensemble member k (of backtest fold `fold`) checkpoints: the run's own checkpoint for member 0 of
    a plain fit, a sibling file (`checkpoint-fold1-member2.pt`) otherwise; a later `phase` of the member's
    training (a refit) in its own sibling (`checkpoint-member2-full.pt`); None without a checkpoint."""
    if checkpoint is None:
        return None
    checkpoint = Path(checkpoint)
    tag = (f"-fold{fold}" if fold is not None else "") + (f"-member{k}" if k else "") + (f"-{phase}" if phase else "")
    return checkpoint.with_name(f"{checkpoint.stem}{tag}{checkpoint.suffix}")
