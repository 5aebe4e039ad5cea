"""Where and in what precision a run computes: device and precision are resolved once per run
(`TrainConfig.resolved`), and the loop only applies what was decided."""

from __future__ import annotations

import contextlib

import torch

from ..errors import ConfigError
from ..nn.hardware import cpu_has_native_bf16


def resolve_device(device: str) -> torch.device:
    """'auto' -> cuda when available, else cpu; 'cuda' without a GPU is a usage error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("`device` cuda was asked for, but PyTorch sees no CUDA GPU; use cpu or auto")
    return torch.device(device)


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bf16 natively (a CPU with AMX or AVX512-BF16, a GPU that supports bf16)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return cpu_has_native_bf16()


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' -> 'bf16' where the hardware has native bf16, else 'fp32'. 'bf16' where it has none is refused:
    there it would only run slower than fp32 (and PyTorch's own CPU LSTM cannot run it at all)."""
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision == "bf16" and not native_bf16(device):
        where = "this GPU" if device.type == "cuda" else "this CPU (no AVX512-BF16 or AMX)"
        raise ConfigError(f"`precision` bf16 needs native bf16 hardware, and {where} has none; "
                          "use fp32, or auto (which chooses fp32 here)")  # fmt: skip
    return precision


def autocast(precision: str, device: torch.device):
    """The context a forward pass runs in, for a resolved precision: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    if precision != "fp32":
        raise ConfigError(f"`precision` must be resolved to fp32 or bf16 before training, got {precision!r}")
    return contextlib.nullcontext()
