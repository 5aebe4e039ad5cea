"""Shared helpers for the tests."""

import pytest
import torch


def randomize_(module: torch.nn.Module, scale: float = 0.5, seed: int = 0) -> torch.nn.Module:
    """Give every parameter a random value in [-scale, scale], peephole and layer-norm ones included,
    so no term of the equations hides behind a zero or a one."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=generator, dtype=torch.float64) * 2 - 1) * scale)
    return module


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(1234)
