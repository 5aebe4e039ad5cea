"""Sliding windows over a series, as views: no window is copied until a batch is gathered from them.

For values (N, F), a lookback L and a horizon H, the window whose first target step is t has

    X[w] = values[t - L : t, :]           # (L, F) inputs: every column, the L steps before t
    Y[w] = values[t : t + H, target_col]  # (H,)   targets: the target column, steps t .. t + H - 1

and the windows of a part [start, stop) are those with start <= t and t + H <= stop: all of their targets
lie in the part, their inputs may reach back before `start` (into the past, which is not leakage). So

    train, val, test = split_by_time(len(values))
    X, Y = make_windows(values, L, H, start=val.start, stop=val.stop)   # X (W, L, F), Y (W, H)
    t = window_targets_index(len(values), L, H, start=val.start, stop=val.stop)   # (W,) first target steps

gives exactly the validation windows, and t[w] is the series index of window w's first target (to attach
timestamps, or to compute the naive forecast values[t - 1] and the seasonal naive values[t - m]).
"""

from __future__ import annotations

from typing import Optional, Union

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ConfigError, ShapeError

Array = Union[np.ndarray, torch.Tensor]


def target_range(n: int, lookback: int, horizon: int, *, start: int = 0, stop: Optional[int] = None) -> range:
    """The first target steps t of the windows of [start, stop) in a series of n steps: lookback <= t,
    start <= t and t + horizon <= stop (stop defaults to n and is clipped to it)."""
    check_window_sizes(lookback, horizon)
    stop = n if stop is None else min(stop, n)
    first = max(start, lookback)
    last = stop - horizon  # the last t whose targets fit, inclusive
    return range(first, max(first, last + 1))


def window_targets_index(
    n: int, lookback: int, horizon: int, *, start: int = 0, stop: Optional[int] = None
) -> np.ndarray:
    """(W,) int64: the series index of each window's first target, in the order make_windows returns them."""
    steps = target_range(n, lookback, horizon, start=start, stop=stop)
    return np.arange(steps.start, steps.stop, dtype=np.int64)


def count_windows(n: int, lookback: int, horizon: int, *, start: int = 0, stop: Optional[int] = None) -> int:
    """W, the number of windows make_windows returns for the same arguments."""
    return len(target_range(n, lookback, horizon, start=start, stop=stop))


def make_windows(
    values: Array,
    lookback: int,
    horizon: int,
    *,
    target_col: int = 0,
    start: int = 0,
    stop: Optional[int] = None,
) -> tuple[Array, Array]:
    """(X, Y) windows of values (N, F) (or (N,), taken as one column): X (W, lookback, F) and Y (W, horizon)
    are views of `values` (torch tensors stay tensors, numpy arrays give read-only numpy views).

    Only windows whose targets all lie in [start, stop) are returned, see the module docstring. With no such
    window, X and Y are empty (W = 0) and then not views."""
    values = _as_columns(values)
    n, features = values.shape
    if not -features <= target_col < features:
        raise ConfigError(f"target_col must be a column index in [0, {features}), got {target_col!r}")
    steps = target_range(n, lookback, horizon, start=start, stop=stop)
    if len(steps) == 0:
        return _empty_windows(values, lookback, horizon)
    inputs = values[steps.start - lookback : steps.stop - 1]  # (W + L - 1, F)
    targets = values[steps.start : steps.stop - 1 + horizon, target_col]  # (W + H - 1,)
    if torch.is_tensor(values):
        return inputs.unfold(0, lookback, 1).transpose(1, 2), targets.unfold(0, horizon, 1)  # (W, L, F), (W, H)
    x = sliding_window_view(inputs, lookback, axis=0).transpose(0, 2, 1)  # (W, F, L) -> (W, L, F)
    return x, sliding_window_view(targets, horizon)  # (W, L, F), (W, H)


def _as_columns(values: Array) -> Array:
    """(N, F) as it is, (N,) as an (N, 1) view."""
    if not torch.is_tensor(values):
        values = np.asarray(values)
    if values.ndim == 1:
        return values[:, None]
    if values.ndim != 2:
        raise ShapeError(f"make_windows expected values of shape (N, F) or (N,), got shape {tuple(values.shape)}")
    return values


def _empty_windows(values: Array, lookback: int, horizon: int) -> tuple[Array, Array]:
    features = values.shape[1]
    if torch.is_tensor(values):
        return values.new_empty((0, lookback, features)), values.new_empty((0, horizon))
    return np.empty((0, lookback, features), dtype=values.dtype), np.empty((0, horizon), dtype=values.dtype)


def check_window_sizes(lookback, horizon) -> None:
    """A ConfigError unless lookback and horizon are positive integers."""
    for name, value in (("lookback", lookback), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"`{name}` must be a positive integer, got {value!r}")
