"""The checkpoint of a run: everything needed to resume it, saved atomically after every epoch."""

from __future__ import annotations

from pathlib import Path

import torch

from ..fileio import atomic_write


def save_checkpoint(path: Path, state: dict) -> None:
    atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)
