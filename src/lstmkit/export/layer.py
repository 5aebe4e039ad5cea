"""`lstmkit.LSTM` as ONNX computes it: `OnnxLSTM`, the layer in eval mode written with ops that
`torch.onnx.export` (the dynamo exporter) turns into an ONNX graph with dynamic batch and sequence length.

- Vanilla, peephole and coupled-gate (cifg) layers become ONNX's own `LSTM` operator, through the custom op
  `lstmkit::onnx_lstm` and its translation (`TRANSLATIONS`). ONNX stores the gates in the order i, o, f, c
  where torch stores i, f, g, o; its peepholes are P[i, o, f]. Its coupling (`input_forget`) computes the
  input gate and sets f = 1 - i, where lstmkit's cifg computes the forget gate and sets i = 1 - f: so the
  exported input gate is lstmkit's forget gate with every weight, bias and peephole negated
  (sigmoid(-z) = 1 - sigmoid(z)), and ONNX's forget gate 1 - (1 - f) is lstmkit's f.
  Lengths go in as `sequence_lens`: ONNX then starts each sequence's reverse direction at its own last step,
  leaves its outputs past the end zero and returns the state at its last real step, as `lstmkit.LSTM` does.
- Layer-norm and projection layers, which ONNX's operator lacks, become an ONNX `Scan` over the steps
  (`torch._higher_order_ops.scan`, which the exporter maps to Scan): the reference kernel's own step
  (`kernels/reference.cell_step`), so there is one definition of the cell. A step past a sequence's length
  keeps the state and outputs zero.

Called eagerly, `OnnxLSTM` computes the same numbers in PyTorch (the custom op's eager body is ONNX's
LSTM written out), so the conversion of the weights is tested without ONNX Runtime too.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from ..nn import LSTM
from ..nn.kernels import reference
from ..nn.spec import CellSpec, CellWeights


def op_layer(spec: CellSpec) -> bool:
    """Whether ONNX's LSTM operator computes this layer (no layer norm, no projection)."""
    return not spec.layernorm and spec.proj_size == 0


# ---- ONNX's LSTM operator as a custom op -----------------------------------------------------------------


@torch.library.custom_op("lstmkit::onnx_lstm", mutates_args=())
def onnx_lstm(x: Tensor, w: Tensor, r: Tensor, b: Tensor, lengths: Optional[Tensor], h0: Tensor, c0: Tensor,
              p: Tensor, hidden: int, direction: str, input_forget: int) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
    """ONNX's LSTM (layout 0): x (T, B, I), w (D, 4H, I), r (D, 4H, H), b (D, 8H), lengths (B,) int32 or
    None, h0 and c0 (D, B, H), p (D, 3H) -> Y (T, D, B, H), Y_h (D, B, H), Y_c (D, B, H)."""
    T, B, _ = x.shape
    ys, hs, cs = [], [], []
    lengths64 = None if lengths is None else lengths.long()
    for d in range(w.shape[0]):
        reverse = direction == "reverse" or (direction == "bidirectional" and d == 1)
        pre = x @ w[d].t() + b[d, : 4 * hidden] + b[d, 4 * hidden :]  # (T, B, 4H) in i, o, f, c order
        if reverse:
            pre = reference.reverse_padded(pre, lengths64)
        p_i, p_o, p_f = p[d].split(hidden)
        h, c, out = h0[d], c0[d], []
        for t in range(T):
            z_i, z_o, z_f, z_c = (pre[t] + h @ r[d].t()).split(hidden, dim=1)
            i = torch.sigmoid(z_i + p_i * c)
            f = 1 - i if input_forget else torch.sigmoid(z_f + p_f * c)
            c_new = f * c + i * torch.tanh(z_c)
            h_new = torch.sigmoid(z_o + p_o * c_new) * torch.tanh(c_new)
            keep = torch.ones(B, 1, dtype=torch.bool) if lengths is None else (t < lengths64)[:, None]
            h, c = torch.where(keep, h_new, h), torch.where(keep, c_new, c)
            out.append(h_new * keep)
        y = torch.stack(out)  # (T, B, H)
        ys.append(reference.reverse_padded(y, lengths64) if reverse else y)
        hs.append(h), cs.append(c)
    return torch.stack(ys, dim=1), torch.stack(hs), torch.stack(cs)


@onnx_lstm.register_fake
def _(x, w, r, b, lengths, h0, c0, p, hidden, direction, input_forget):
    return x.new_empty(x.shape[0], w.shape[0], x.shape[1], hidden), h0.new_empty(h0.shape), c0.new_empty(c0.shape)


def _onnx_lstm_graph(x, w, r, b, lengths, h0, c0, p, hidden: int, direction: str, input_forget: int):
    """The translation of `lstmkit::onnx_lstm` into ONNX: one LSTM node."""
    from onnxscript import opset18 as op

    return op.LSTM(x, w, r, b, lengths, h0, c0, p, hidden_size=hidden, direction=direction, input_forget=input_forget)


def translations() -> dict:
    """`torch.onnx.export`'s custom_translation_table for the ops of this module."""
    return {torch.ops.lstmkit.onnx_lstm.default: _onnx_lstm_graph}


def onnx_weights(weights: list[CellWeights], spec: CellSpec) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One layer's weights, a CellWeights per direction, in ONNX's layout: W (D, 4H, I), R (D, 4H, H),
    B (D, 8H) and P (D, 3H), gates in the order i, o, f, c (see the module's docstring for cifg)."""
    H = spec.hidden_size
    Ws, Rs, Bs, Ps = [], [], [], []
    for w in weights:
        def gates(t: Optional[Tensor], cols: tuple[int, ...]) -> Tensor:
            if t is None:
                return torch.zeros(4 * H, *cols)
            blocks = dict(zip(spec.gate_names, t.detach().float().split(H)))
            if spec.cifg:  # ONNX's input gate: sigmoid(-z_f) = 1 - f; its forget gate is never read
                blocks["i"], blocks["f"] = -blocks["f"], torch.zeros_like(blocks["f"])
            return torch.cat([blocks[g] for g in ("i", "o", "f", "g")])

        Ws.append(gates(w.weight_ih, (spec.input_size,)))
        Rs.append(gates(w.weight_hh, (H,)))
        Bs.append(torch.cat([gates(w.bias_ih, ()), gates(w.bias_hh, ())]))
        zero = torch.zeros(H)
        peep = {name: zero if t is None else t.detach().float() for name, t in
                (("i", w.weight_ci), ("o", w.weight_co), ("f", w.weight_cf))}  # fmt: skip
        if spec.cifg:
            peep["i"], peep["f"] = -peep["f"], zero
        Ps.append(torch.cat([peep["i"], peep["o"], peep["f"]]))
    return torch.stack(Ws), torch.stack(Rs), torch.stack(Bs), torch.stack(Ps)


class OnnxLSTM(nn.Module):
    """An `lstmkit.LSTM` in eval mode, written for the ONNX exporter (see the module's docstring): the same
    call, `(input, hx=None, lengths=None) -> output, (h_n, c_n)`, with no gate trace and no regulariser."""

    def __init__(self, layer: LSTM):
        super().__init__()
        self.specs = list(layer.specs)
        for name in ("input_size", "hidden_size", "num_layers", "batch_first", "bidirectional", "proj_size",
                     "num_directions", "output_size"):  # what the networks read off their layer
            setattr(self, name, getattr(layer, name))
        self.source = layer  # the scan layers read its parameters
        for k, (spec, weights) in enumerate(zip(self.specs, layer._weights())):
            if op_layer(spec):
                for name, t in zip(("w", "r", "b", "p"), onnx_weights(weights, spec)):
                    self.register_buffer(f"{name}{k}", t)

    def forward(self, input: Tensor, hx: Optional[tuple[Tensor, Tensor]] = None, lengths: Optional[Tensor] = None):
        x = input.transpose(0, 1) if self.batch_first else input  # (T, B, I)
        T, B = x.shape[0], x.shape[1]
        D = self.num_directions
        if hx is None:
            zeros = lambda size: x.new_zeros(len(self.specs) * D, B, size)  # noqa: E731
            hx = (zeros(self.output_size), zeros(self.hidden_size))
        h_n, c_n = [], []
        weights = self.source._weights()
        for k, spec in enumerate(self.specs):
            h0, c0 = hx[0][k * D : (k + 1) * D], hx[1][k * D : (k + 1) * D]
            if op_layer(spec):
                direction = "bidirectional" if D == 2 else "forward"
                y, h, c = onnx_lstm(x, getattr(self, f"w{k}"), getattr(self, f"r{k}"), getattr(self, f"b{k}"),
                                    None if lengths is None else lengths.to(torch.int32), h0, c0,
                                    getattr(self, f"p{k}"), spec.hidden_size, direction, int(spec.cifg))  # fmt: skip
                x = y.permute(0, 2, 1, 3).reshape(T, B, D * spec.hidden_size)  # (T, B, D*H), forward first
                h_n.append(h), c_n.append(c)
                continue
            outs = []
            for d in range(D):
                out, h, c = scan_layer(x, h0[d], c0[d], weights[k][d], spec, lengths, reverse=d == 1)
                outs.append(out), h_n.append(h[None]), c_n.append(c[None])
            x = torch.cat(outs, dim=2)  # (T, B, D*P)
        output = x.transpose(0, 1) if self.batch_first else x
        return output, (torch.cat(h_n), torch.cat(c_n))


def scan_layer(x: Tensor, h0: Tensor, c0: Tensor, w: CellWeights, spec: CellSpec, lengths: Optional[Tensor],
               reverse: bool) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
    """One layer and direction as a scan over the steps (ONNX Scan): x (T, B, I) -> output (T, B, P), h_n, c_n."""
    from torch._higher_order_ops.scan import scan

    pre_x = reference.input_preactivations(x, w, spec)  # (T, B, G*H)
    if reverse:
        pre_x = reference.reverse_padded(pre_x, lengths)
    T, B = x.shape[0], x.shape[1]
    if lengths is None:
        keep = torch.ones(T, B, 1, dtype=torch.bool, device=x.device)
    else:
        keep = (torch.arange(T, device=x.device)[:, None] < lengths.to(x.device)[None, :])[:, :, None]  # (T, B, 1)

    def step(state, inputs):
        (h, c), (pre, real) = state, inputs
        h_new, c_new, _ = reference.cell_step(pre, h, c, w, spec)
        return (torch.where(real, h_new, h), torch.where(real, c_new, c)), h_new * real

    (h, c), out = scan(step, (h0, c0), (pre_x, keep))
    return (reference.reverse_padded(out, lengths) if reverse else out), h, c


def onnx_ready(module: nn.Module) -> nn.Module:
    """`module` (eval mode) with every `lstmkit.LSTM` inside replaced by its `OnnxLSTM`; the module itself is
    left as it was (a shallow rebuild shares the other submodules' parameters)."""
    if isinstance(module, LSTM):
        return OnnxLSTM(module).eval()
    import copy

    ready = copy.copy(module)
    ready._modules = {name: None if child is None else onnx_ready(child) for name, child in module._modules.items()}
    return ready.eval()
