"""PyTorch's own fused LSTM (oneDNN on CPU, cuDNN on GPU) over a whole vanilla stack.

This is the very call `torch.nn.LSTM.forward` makes, so a vanilla `lstmkit.LSTM` costs what
`torch.nn.LSTM` costs. Variable lengths go through a packed sequence, which the fused kernels support.
Under CPU bf16 autocast it runs only where its oneDNN has bf16 kernels (`supports`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional

import torch
from torch import Tensor, _VF
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from ..hardware import cpu_autocast_dtype


def supports(device: Any) -> bool:
    """True when PyTorch's LSTM can run a call on `device` now.

    False only under CPU bf16 autocast on a CPU whose oneDNN has no bf16 kernels (one without AVX-512, such as
    an AVX2-only AMD EPYC): `torch.nn.LSTM` itself fails there ("could not create a primitive descriptor for
    the LSTM forward propagation primitive"). Found by trying it once (`_runs_bf16_autocast`).
    """
    if cpu_autocast_dtype() != torch.bfloat16 or torch.device(device).type != "cpu":
        return True
    return _runs_bf16_autocast(bool(torch.backends.mkldnn.enabled))


@lru_cache(maxsize=None)
def _runs_bf16_autocast(onednn_enabled: bool) -> bool:
    """Whether one step of a one-unit LSTM runs under CPU bf16 autocast. `onednn_enabled` is the cache key:
    with oneDNN switched off (`torch.backends.mkldnn.flags(enabled=False)`) PyTorch takes its own path."""
    x = torch.zeros(1, 1, 1)  # (T, B, I)
    state = (torch.zeros(1, 1, 1), torch.zeros(1, 1, 1))  # h_0, c_0 (L, B, H)
    weights = [torch.zeros(4, 1), torch.zeros(4, 1)]  # w_ih (4H, I), w_hh (4H, H)
    try:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            _VF.lstm(x, state, weights, False, 1, 0.0, False, False, False)
    except RuntimeError:
        return False
    return True


def lstm_stack(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    flat_weights: list[Tensor],
    *,
    has_biases: bool,
    num_layers: int,
    dropout: float,
    training: bool,
    bidirectional: bool,
    batch_first: bool,
    lengths: Optional[Tensor] = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Run a stack of vanilla layers.

    x: (T, B, I), or (B, T, I) with batch_first; h0: (L*D, B, P); c0: (L*D, B, H);
    flat_weights: per layer, per direction, [w_ih, w_hh, (b_ih, b_hh), (w_hr)] as torch orders them;
    lengths: (B,) int64 on the CPU, or None for all full length.
    Returns output in x's layout, h_n (L*D, B, P) and c_n (L*D, B, H).
    """
    if lengths is None:
        output, h_n, c_n = _VF.lstm(
            x, (h0, c0), flat_weights, has_biases, num_layers, dropout, training, bidirectional, batch_first
        )
        return output, h_n, c_n

    total_length = x.size(1 if batch_first else 0)
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=batch_first, enforce_sorted=False)
    order, unorder = packed.sorted_indices, packed.unsorted_indices
    hx = (h0.index_select(1, order), c0.index_select(1, order))  # the packed batch is sorted by length
    data, h_n, c_n = _VF.lstm(
        packed.data, packed.batch_sizes, hx, flat_weights, has_biases, num_layers, dropout, training, bidirectional
    )
    output, _ = pad_packed_sequence(
        PackedSequence(data, packed.batch_sizes, order, unorder), batch_first=batch_first, total_length=total_length
    )
    return output, h_n.index_select(1, unorder), c_n.index_select(1, unorder)
