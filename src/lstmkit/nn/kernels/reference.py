"""The reference LSTM layer: SPEC §1's equations, one time step at a time, in PyTorch ops.

The input projection W_ih x runs as one product over all steps; each step then does one recurrent
product and the pointwise gate arithmetic. Autograd derives the backward pass. Every variant and
regulariser is supported, so this is both the fallback for anything the fast kernels lack and the oracle
the tests compare them to.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..spec import CellSpec, CellWeights, GateTrace

LAYERNORM_EPS = 1e-5  # as torch.nn.LayerNorm


def input_preactivations(x: Tensor, w: CellWeights, spec: CellSpec) -> Tensor:
    """The input's share of the gate pre-activations for all steps at once, biases included.

    x: (..., I) -> (..., G*H). With layernorm: LN(W_ih x) * gain_ih + bias_ih + bias_hh.
    """
    pre = x @ w.weight_ih.t()  # (..., G*H), one product over every step
    if spec.layernorm:
        pre = F.layer_norm(pre, (pre.size(-1),), w.ln_gain_ih, None, LAYERNORM_EPS)
    if spec.bias:
        pre = pre + (w.bias_ih + w.bias_hh)
    return pre


def cell_step(
    pre_x: Tensor, h: Tensor, c: Tensor, w: CellWeights, spec: CellSpec, h_rec: Optional[Tensor] = None
) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor, Tensor, Tensor]]:
    """One step of the cell.

    pre_x: (B, G*H) from `input_preactivations`; h: (B, P); c: (B, H); h_rec: h as the recurrent
    product sees it (h with variational dropout applied), defaults to h.
    Returns h_t (B, P), c_t (B, H) and the gates (i, f, g, o), each (B, H).
    """
    rec = (h if h_rec is None else h_rec) @ w.weight_hh.t()  # (B, G*H)
    if spec.layernorm:
        rec = F.layer_norm(rec, (rec.size(-1),), w.ln_gain_hh, None, LAYERNORM_EPS)
    pre = pre_x + rec
    H = spec.hidden_size
    if spec.cifg:
        f_pre, g_pre, o_pre = pre.split(H, dim=1)
        i_pre = None
    else:
        i_pre, f_pre, g_pre, o_pre = pre.split(H, dim=1)
    if spec.peephole:  # i and f peep at the previous cell state
        f_pre = f_pre + w.weight_cf * c
        if i_pre is not None:
            i_pre = i_pre + w.weight_ci * c
    f = torch.sigmoid(f_pre)
    i = 1.0 - f if i_pre is None else torch.sigmoid(i_pre)
    g = torch.tanh(g_pre)
    c_new = f * c + i * g  # the conveyor belt
    if spec.peephole:  # o peeps at the new cell state
        o_pre = o_pre + w.weight_co * c_new
    o = torch.sigmoid(o_pre)
    c_out = F.layer_norm(c_new, (H,), w.ln_gain_c, w.ln_bias_c, LAYERNORM_EPS) if spec.layernorm else c_new
    h_new = o * torch.tanh(c_out)  # (B, H)
    if w.weight_hr is not None:
        h_new = h_new @ w.weight_hr.t()  # (B, P)
    return h_new, c_new, (i, f, g, o)


def reverse_padded(x: Tensor, lengths: Optional[Tensor]) -> Tensor:
    """Reverse each sequence of a time-major (T, B, ...) tensor within its own length.

    Steps past a sequence's length stay where they are, so applying it twice gives x back.
    """
    if lengths is None:
        return x.flip(0)
    T, B = x.shape[:2]
    t = torch.arange(T, device=x.device).unsqueeze(1)  # (T, 1)
    L = lengths.to(x.device).unsqueeze(0)  # (1, B)
    index = torch.where(t < L, L - 1 - t, t)  # (T, B)
    index = index.view(T, B, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(0, index)


def lstm_layer(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    w: CellWeights,
    spec: CellSpec,
    *,
    lengths: Optional[Tensor] = None,
    reverse: bool = False,
    h_mask: Optional[Tensor] = None,
    zoneout_h: Optional[Tensor] = None,
    zoneout_c: Optional[Tensor] = None,
    trace: bool = False,
) -> tuple[Tensor, Tensor, Tensor, Optional[GateTrace]]:
    """Run one layer in one direction over a time-major sequence.

    x: (T, B, I); h0: (B, P); c0: (B, H); lengths: (B,) int64 or None (all T);
    h_mask: (B, P) variational dropout mask on h, already scaled by 1/(1-p);
    zoneout_h: (T, B, P) and zoneout_c: (T, B, H) bool, True where a unit keeps its previous value.
    The masks are indexed in processing order (step 0 is the first step processed).
    Returns output (T, B, P) in the input's time order, h_n (B, P), c_n (B, H), and the trace.
    """
    T = x.size(0)
    pre_x = input_preactivations(x, w, spec)  # (T, B, G*H)
    if reverse:
        pre_x = reverse_padded(pre_x, lengths)
    valid = None
    if lengths is not None:
        steps = torch.arange(T, device=x.device).unsqueeze(1)  # (T, 1)
        valid = (steps < lengths.to(x.device).unsqueeze(0)).unsqueeze(2)  # (T, B, 1)

    h, c = h0, c0
    outputs: list[Tensor] = []
    gates: list[tuple[Tensor, ...]] = []
    for t in range(T):
        h_rec = h if h_mask is None else h * h_mask
        h_new, c_new, (i, f, g, o) = cell_step(pre_x[t], h, c, w, spec, h_rec)
        if zoneout_c is not None:
            c_new = torch.where(zoneout_c[t], c, c_new)
        if zoneout_h is not None:
            h_new = torch.where(zoneout_h[t], h, h_new)
        if valid is None:
            h, c = h_new, c_new
            outputs.append(h_new)
        else:  # past its length a sequence keeps its state and outputs zeros
            keep = valid[t]  # (B, 1)
            h = torch.where(keep, h_new, h)
            c = torch.where(keep, c_new, c)
            outputs.append(h_new * keep)
        if trace:
            step = (i, f, g, o, c_new)
            gates.append(step if valid is None else tuple(v * valid[t] for v in step))

    output = torch.stack(outputs)  # (T, B, P)
    gate_trace = GateTrace(*(torch.stack(v) for v in zip(*gates))) if trace else None
    if reverse:
        output = reverse_padded(output, lengths)
        if gate_trace is not None:
            gate_trace = GateTrace(*(reverse_padded(v, lengths) for v in gate_trace))
    return output, h, c, gate_trace
