"""Checks at the modules' boundary: constructor arguments and call inputs, with messages a user can act on."""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
from torch import Tensor

from ..errors import ConfigError, ShapeError


def positive_int(name: str, value, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return value


def proj_size(value, hidden_size: int, owner: str) -> int:
    """LSTMP's projection size: 0 (none) or smaller than hidden_size, as torch.nn.LSTM requires."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < hidden_size:
        raise ConfigError(f"{owner}: proj_size must be an integer in [0, hidden_size={hidden_size}), got {value!r}")
    return value


def rate(name: str, value, owner: str, *, allow_one: bool = False) -> float:
    """A probability-like argument: in [0, 1), or [0, 1] with allow_one."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1
    if not ok or (value == 1 and not allow_one):
        interval = "[0, 1]" if allow_one else "[0, 1)"
        raise ConfigError(f"{owner}: {name} must be a number in {interval}, got {value!r}")
    return float(value)


def per_layer(name: str, value: Union[bool, Sequence[bool]], num_layers: int, owner: str) -> list[bool]:
    """A variant flag given once for every layer, or as one bool per layer."""
    if isinstance(value, bool):
        return [value] * num_layers
    values = list(value) if isinstance(value, (list, tuple)) else None
    if values is None or len(values) != num_layers or not all(isinstance(v, bool) for v in values):
        raise ConfigError(
            f"{owner}: {name} must be True/False or a list of {num_layers} booleans (one per layer), got {value!r}"
        )
    return values


def zoneout_rates(value, owner: str) -> tuple[float, float]:
    """zoneout as one rate for h and c, or an (h, c) pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ConfigError(f"{owner}: zoneout must be one rate or an (h, c) pair of rates, got {value!r}")
        return rate("zoneout (h)", value[0], owner), rate("zoneout (c)", value[1], owner)
    r = rate("zoneout", value, owner)
    return r, r


def shape_str(shape) -> str:
    """A shape as Python writes a tuple: (20, 8), (3,), ()."""
    return str(tuple(int(s) for s in shape))


def sequence_input(x, input_size: int, batch_first: bool, owner: str) -> Tensor:
    """A (T, B, I) or batch-first (B, T, I) floating-point tensor with I = input_size."""
    layout = "(B, T, I) = (batch, time steps, features)" if batch_first else "(T, B, I) = (time steps, batch, features)"
    if not isinstance(x, Tensor):
        raise ShapeError(f"{owner} expected a torch.Tensor of layout {layout}, got {type(x).__name__}")
    if x.dim() != 3:
        hint = ""
        if x.dim() == 2:
            add = "x.unsqueeze(0)" if batch_first else "x.unsqueeze(1)"
            hint = f"; for a single sequence of shape (T, I), add a batch dimension with {add}"
        raise ShapeError(
            f"{owner} expected input of 3 dimensions, {layout} with I = input_size = {input_size}"
            f"{' (batch_first=True)' if batch_first else ''}, but got {x.dim()} dimensions, shape {shape_str(x.shape)}{hint}"
        )
    if x.size(-1) != input_size:
        hint = f"; pass {input_size} features per step or build the layer with input_size={x.size(-1)}"
        if input_size in tuple(x.shape[:2]):
            dim = tuple(x.shape[:2]).index(input_size)
            hint = (
                f"; dimension {dim} has size {input_size}: if that is your feature axis, "
                f"permute the input so features come last, as {layout}"
            )
        raise ShapeError(
            f"{owner} expected input of layout {layout} with I = input_size = {input_size} in the last dimension, "
            f"but got shape {shape_str(x.shape)} with {x.size(-1)}{hint}"
        )
    if not x.is_floating_point():
        raise ShapeError(f"{owner} expected a floating-point input, got dtype {x.dtype}; convert it with x.float()")
    time_steps = x.size(1 if batch_first else 0)
    if time_steps == 0 or x.size(0 if batch_first else 1) == 0:
        raise ShapeError(f"{owner} got an empty input of shape {shape_str(x.shape)}; layout is {layout}")
    return x


def same_dtype(x: Tensor, weight: Tensor, owner: str) -> None:
    """Input and weights must agree in dtype, except under autocast, which casts on its own."""
    if x.dtype != weight.dtype and not torch.is_autocast_enabled(x.device.type):
        raise ShapeError(
            f"{owner} got input of dtype {x.dtype} but its weights are {weight.dtype}; "
            f"convert one to the other (for example layer.to({x.dtype}) or x.to({weight.dtype}))"
        )


def state(name: str, value, expected: tuple[int, ...], meaning: str, owner: str) -> Tensor:
    if not isinstance(value, Tensor) or tuple(value.shape) != expected:
        got = shape_str(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ShapeError(f"{owner} expected {name} of shape {meaning} = {shape_str(expected)}, got {got}")
    return value


def sequence_lengths(lengths, time_steps: int, batch: int, owner: str) -> Optional[Tensor]:
    """lengths: one integer per sequence in the batch, each in [1, T]; returned as int64 on the CPU."""
    if lengths is None:
        return None
    t = lengths if isinstance(lengths, Tensor) else torch.as_tensor(lengths)
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise ShapeError(f"{owner} expected integer lengths, got dtype {t.dtype}")
    if t.dim() != 1 or t.numel() != batch:
        raise ShapeError(
            f"{owner} expected lengths of shape (B,) = ({batch},), one length per sequence in the batch, "
            f"got shape {shape_str(t.shape)}"
        )
    t = t.detach().to("cpu", torch.int64)
    bad = ((t < 1) | (t > time_steps)).nonzero()
    if bad.numel():
        k = int(bad[0, 0])
        raise ShapeError(
            f"{owner} expected every length between 1 and T = {time_steps} time steps, got {int(t[k])} for sequence {k}"
        )
    return t
