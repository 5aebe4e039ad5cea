"""The LSTM stack as a function: chooses a kernel (the backend seam) and stacks layers and directions.

`lstm()` is what `lstmkit.LSTM.forward` calls once it has checked its inputs. It decides which kernel
runs the call:

- `native` (PyTorch's fused LSTM: oneDNN on CPU, cuDNN on GPU) whenever the call is plain vanilla (no
  variant, no gate trace, no regulariser active beyond dropout between layers), except where lstmkit's fused
  kernel measures faster: training a CPU layer of hidden size >= 256 (`FUSED_VANILLA_MIN_HIDDEN`), in fp32 or
  under bf16 autocast with bf16 products; except inside lstmkit's training loop (`thread_invariant`), where the
  fused kernel trains every CPU fp32 vanilla layer, because its numbers do not depend on the thread count and
  PyTorch's do; and except where PyTorch's cannot run the call: under bf16
  autocast on a CPU whose oneDNN has no bf16 kernels (no AVX-512: `native.supports`), where every call runs
  the fused kernel with fp32 products;
- `fused` (`kernels/fused.py`, lstmkit's C++ kernel with a hand-derived backward) for every other layer it
  supports (every variant, lengths, zoneout, recurrent dropout, the trace; fp32 and fp64 on the CPU, and
  bf16 autocast with fp32 state, its products in bf16 where the CPU has bf16 dot products and in fp32
  elsewhere: `fused.autocast_products`);
- `reference` (`kernels/reference.py`, a loop over time in PyTorch ops) for the rest: the readable
  specification, and the oracle the other kernels are tested against.

`stack_backend` makes this choice for the whole stack, once per call; `layer_kernel` then picks fused or
reference for each layer.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import ConfigError
from .kernels import fused, native, reference
from .spec import CellSpec, CellWeights, GateTrace

BACKENDS = ("auto", "native", "fused", "reference")


@dataclass(frozen=True)
class Regularisers:
    """Within-layer regularisers; each active in training mode only."""

    recurrent_dropout: float = 0.0  # variational dropout on h as the recurrent product sees it
    zoneout_h: float = 0.0  # probability that a unit of h keeps its previous value
    zoneout_c: float = 0.0  # the same for c
    weight_dropout: float = 0.0  # DropConnect on weight_hh, one mask per forward call

    def active(self, training: bool) -> list[str]:
        """Names of the regularisers that act on this call."""
        if not training:
            return []
        rates = {
            "recurrent_dropout": self.recurrent_dropout,
            "zoneout": max(self.zoneout_h, self.zoneout_c),
            "weight_dropout": self.weight_dropout,
        }
        return [name for name, rate in rates.items() if rate > 0]


def native_blockers(specs: Sequence[CellSpec], regularisers: Regularisers, training: bool, trace: bool) -> list[str]:
    """Why the native kernel cannot run this call (empty when it can)."""
    blockers = [flag for flag in ("peephole", "cifg", "layernorm") if any(getattr(s, flag) for s in specs)]
    blockers += regularisers.active(training)
    if trace:
        blockers.append("the gate trace")
    return blockers


def choose_backend(requested: str, blockers: list[str], native_runs: bool = True) -> str:
    """'native' when the whole stack goes to PyTorch's kernel; otherwise what each layer chooses from
    ('auto': fused where supported, else reference; 'fused' or 'reference': that one). Refuses 'native'
    for a call it cannot run: a variant or regulariser (`blockers`), or bf16 autocast where PyTorch's kernel
    has none (`native_runs` False)."""
    if requested == "native" and blockers:
        raise ConfigError(
            f"backend='native' runs plain vanilla LSTMs only, and this call uses {', '.join(blockers)}; "
            "use backend='auto' (or 'fused' or 'reference')"
        )
    if requested == "native" and not native_runs:
        raise ConfigError(
            "backend='native' cannot run bf16 autocast on this CPU: it has no native bf16, and PyTorch's LSTM "
            "(oneDNN) has no bf16 kernel for it; use backend='auto' or 'fused' (lstmkit's kernel, fp32 products), "
            "or fp32"
        )
    if requested == "auto" and not blockers and native_runs:
        return "native"
    return requested


# Vanilla layers from this hidden size up train faster in the fused kernel than in PyTorch's own (oneDNN) when a
# gradient is needed on the CPU: `python benchmarks/vanilla_dispatch.py [--precisions fp32,bf16]` times both,
# steps alternating, over batch 16-256 and hidden 64-512. On 2 threads, fused/native time from H = 256 was
# 0.69-1.02 in fp32 and 0.75-1.08 under bf16 autocast; at H = 64 1.03-1.07 in fp32. Forward only, PyTorch's
# is faster at every size there (fused/native 1.16-1.47), so inference stays native.
FUSED_VANILLA_MIN_HIDDEN = 256

# Set inside lstmkit's training loop (`train.fit`), whose thread governor may change torch's thread count
# between steps (`train/threads.py`). PyTorch's LSTM backward sums the input-weight gradient in per-thread
# parts, so its numbers follow the thread count; the fused kernel's do not (its row blocks are fixed by the
# batch and the machine, `csrc/lstm_fused.h`). So there the fused kernel trains every CPU fp32 vanilla layer,
# and a seed repeats a run exactly whatever the machine's load, on 1 thread or 16. Its cost at the forecaster's
# (T, B, I, H) = (36, 32, 1, 64): 1.03x PyTorch's step time on 1 thread, 1.06x on 2.
_thread_invariant = 0


@contextlib.contextmanager
def thread_invariant():
    """While inside, CPU fp32 vanilla layers train in the fused kernel, whose numbers do not depend on the
    number of threads (see above)."""
    global _thread_invariant
    _thread_invariant += 1
    try:
        yield
    finally:
        _thread_invariant -= 1


def stack_backend(
    requested: str, blockers: list[str], x: Tensor, hx: tuple[Tensor, Tensor], weights, specs: Sequence[CellSpec]
) -> str:
    """The kernel of the whole stack for this call: 'native', or the backend each layer chooses by (see the
    module's docstring). Where bf16 autocast is concerned, PyTorch's kernel says whether it can run the call
    (`native.supports`) and the fused kernel in which precision it would (`fused.autocast_products`)."""
    backend = choose_backend(requested, blockers, native.supports(x.device))
    if requested == "auto" and backend == "native" and _fused_trains_faster(x, hx, weights, specs):
        return "auto"
    return backend


def _fused_trains_faster(x: Tensor, hx: tuple[Tensor, Tensor], weights, specs: Sequence[CellSpec]) -> bool:
    """Whether a plain vanilla call runs faster in the fused kernel than in the native one (see above)."""
    if x.device.type != "cpu" or x.dtype != torch.float32:
        return False
    if fused.autocast_products() == torch.float32:  # autocast without bf16 products: not measured faster
        return False
    narrow = min(spec.hidden_size for spec in specs) < FUSED_VANILLA_MIN_HIDDEN
    if (narrow and not _thread_invariant) or not torch.is_grad_enabled():
        return False
    tensors = [x, *hx, *(t for layer in weights for w in layer for t in w if isinstance(t, Tensor))]
    return any(t.requires_grad for t in tensors) and fused.available()


def layer_kernel(backend: str, spec: CellSpec, x: Tensor, **call):
    """The kernel module that runs one layer: the fused one where it supports the layer, else the reference."""
    if backend == "reference":
        return reference
    if fused.supports(spec, dtype=x.dtype, device=x.device, **call):
        return fused
    if backend == "fused":
        raise ConfigError(
            "backend='fused' does not run this call yet (a GPU, or a dtype other than float32/float64/bf16 autocast); "
            "use backend='auto' (or 'reference')"
        )
    return reference


def flat_weights(weights: Sequence[Sequence[CellWeights]], spec: CellSpec) -> list[Tensor]:
    """Weights in the order torch's fused LSTM takes them: per layer, per direction."""
    flat: list[Tensor] = []
    for layer in weights:
        for w in layer:
            flat += [w.weight_ih, w.weight_hh]
            if spec.bias:
                flat += [w.bias_ih, w.bias_hh]
            if spec.proj_size > 0:
                flat.append(w.weight_hr)
    return flat


def lstm(
    x: Tensor,
    hx: tuple[Tensor, Tensor],
    weights: Sequence[Sequence[CellWeights]],
    specs: Sequence[CellSpec],
    *,
    batch_first: bool = False,
    dropout: float = 0.0,
    training: bool = False,
    lengths: Optional[Tensor] = None,
    regularisers: Regularisers = Regularisers(),
    trace: bool = False,
    backend: str = "auto",
) -> tuple[Tensor, tuple[Tensor, Tensor], Optional[list[list[GateTrace]]]]:
    """Run a stack of LSTM layers.

    x: (T, B, I), or (B, T, I) with batch_first; hx: h_0 (L*D, B, P) and c_0 (L*D, B, H);
    weights[layer][direction] with D = 1 or 2 directions; specs[layer];
    lengths: (B,) int64 or None. The caller has checked every shape.
    Returns output (T, B, D*P) (or batch-first), (h_n, c_n), and the trace [layer][direction] or None.
    """
    blockers = native_blockers(specs, regularisers, training, trace)
    num_directions = len(weights[0])
    backend = stack_backend(backend, blockers, x, hx, weights, specs)
    if backend == "native":
        output, h_n, c_n = native.lstm_stack(
            x, hx[0], hx[1], flat_weights(weights, specs[0]),
            has_biases=specs[0].bias, num_layers=len(specs), dropout=dropout, training=training,
            bidirectional=num_directions == 2, batch_first=batch_first, lengths=lengths,
        )  # fmt: skip
        return output, (h_n, c_n), None

    layer_input = x.transpose(0, 1) if batch_first else x  # (T, B, I)
    if lengths is not None:
        lengths = lengths.to(x.device)
    h_n, c_n, traces = [], [], []
    for layer, (spec, layer_weights) in enumerate(zip(specs, weights)):
        outputs, layer_traces = [], []
        for direction, w in enumerate(layer_weights):
            index = layer * num_directions + direction
            masks = _sample_masks(layer_input, spec, regularisers, training)
            kernel = layer_kernel(backend, spec, layer_input, lengths=lengths, trace=trace, **masks)
            out, h, c, gate_trace = kernel.lstm_layer(
                layer_input, hx[0][index], hx[1][index], _drop_weights(w, regularisers, training), spec,
                lengths=lengths, reverse=direction == 1, trace=trace, **masks,
            )  # fmt: skip
            outputs.append(out)
            h_n.append(h)
            c_n.append(c)
            layer_traces.append(gate_trace)
        layer_input = outputs[0] if num_directions == 1 else torch.cat(outputs, dim=2)  # (T, B, D*P)
        if dropout > 0 and training and layer < len(specs) - 1:
            layer_input = F.dropout(layer_input, dropout, training=True)
        traces.append(layer_traces)
    output = layer_input.transpose(0, 1) if batch_first else layer_input
    return output, (torch.stack(h_n), torch.stack(c_n)), traces if trace else None


def _drop_weights(w: CellWeights, regularisers: Regularisers, training: bool) -> CellWeights:
    """DropConnect on the recurrent weights: one mask for every step of this call."""
    if not training or regularisers.weight_dropout == 0:
        return w
    return w._replace(weight_hh=F.dropout(w.weight_hh, regularisers.weight_dropout, training=True))


def _sample_masks(x: Tensor, spec: CellSpec, regularisers: Regularisers, training: bool) -> dict[str, Tensor]:
    """Random masks for one layer and direction; none outside training."""
    if not training:
        return {}
    T, B = x.shape[:2]
    P, H = spec.output_size, spec.hidden_size
    masks: dict[str, Tensor] = {}
    p = regularisers.recurrent_dropout
    if p > 0:  # one mask per sequence, the same at every step (Gal & Ghahramani 2016)
        masks["h_mask"] = torch.bernoulli(x.new_full((B, P), 1.0 - p)) / (1.0 - p)
    if regularisers.zoneout_h > 0:  # a fresh mask every step (Krueger et al. 2016)
        masks["zoneout_h"] = _bernoulli((T, B, P), regularisers.zoneout_h, x.device)
    if regularisers.zoneout_c > 0:
        masks["zoneout_c"] = _bernoulli((T, B, H), regularisers.zoneout_c, x.device)
    return masks


def _bernoulli(shape: tuple[int, ...], p: float, device: torch.device) -> Tensor:
    """A bool mask, True with probability p. On the CPU with the fused kernel built, from its counter-based
    generator seeded by torch's (so `torch.manual_seed` repeats it) at a tenth of `torch.rand`'s cost."""
    if torch.device(device).type == "cpu" and fused.available():
        seed = int(torch.randint(-(2**63), 2**63 - 1, (1,)).item())
        return fused.bernoulli_mask(shape, p, seed)
    return torch.rand(shape, device=device) < p
