"""What the machine offers a call: native bf16 on the CPU, and the CPU autocast in force.

`cpu_has_native_bf16` reads the CPU's flags; `cpu_autocast_dtype` is the one place lstmkit reads torch's CPU
autocast state. The kernels decide what they run from these (`kernels.fused.autocast_products`,
`kernels.native.supports`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

import torch

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of bf16 dot products


@lru_cache(maxsize=None)
def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 natively (AVX512-BF16 or AMX), from /proc/cpuinfo's flags; False where
    they cannot be read (not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return any(flag in flags for flag in NATIVE_BF16_FLAGS)


def cpu_autocast_dtype() -> Optional[torch.dtype]:
    """The dtype CPU autocast casts to now (torch.bfloat16, or torch.float16), or None when it is off."""
    try:
        enabled = torch.is_autocast_enabled("cpu")
    except TypeError:  # pragma: no cover - torch < 2.4
        enabled = torch.is_autocast_cpu_enabled()
    if not enabled:
        return None
    try:
        return torch.get_autocast_dtype("cpu")
    except AttributeError:  # pragma: no cover - torch < 2.4
        return torch.get_autocast_cpu_dtype()
