"""A fused CPU kernel for one LSTM layer in one direction.

Same signature and semantics as `reference.lstm_layer`. The input product x W_ih^T runs once over all steps
(`_InputProjection`: the micro-kernel below, in row blocks), and autograd carries its gradient to x and W_ih.
Everything else runs in C++ (`csrc/`). Per step, the rows of the batch are split into tasks across torch's
threads, and each task does its rows' whole step: the bias (and with layernorm the input layer norm) added to
x W_ih^T, one recurrent product h W_hh^T through oneDNN's brgemm micro-kernel (with layernorm its row-wise
layer norm), one fused, vectorised pointwise pass (ATen's `Vectorized`, Sleef exp/tanh; with layernorm it also
normalises c_t), and with a projection one product (B, H) x (H, P) into h.
The backward pass is hand-derived BPTT, per step and row block: with a projection one product dh W_hr; one
fused pointwise pass (with the cell layer-norm backward); the layer norms' backward; one product with W_hh.
The bias, peephole and layer-norm gradients are summed per thread inside that pass; dW_hh, dW_hr and dW_ih
follow as large oneDNN products over all steps.

The C++ sources, one concern each: `lstm_fused.h` (the interface: the argument structs), `vec_ops.h`,
`layer_norm.h`, `pointwise.h` (the per-row passes), `products.h`/`.cpp` (micro-kernel and oneDNN products),
`block_cache.h`, `forward.cpp`, `backward.cpp`, `masks.cpp`, `bindings.cpp` (the Python module). Python and
C++ exchange the weights, masks, flags and the forward's record as `FusedWeights`, `FusedMasks`, `FusedFlags`
and `FusedRecord`, the same fields in the same order on both sides.

Supported: fp32 and fp64 on the CPU, and bf16 autocast (the products' operands rounded to bf16 with fp32
accumulation where the CPU has AVX512-BF16 or AMX, fp32 products elsewhere; state, gates and outputs in
fp32); vanilla, peephole, cifg, proj_size, layernorm in any combination, with or without bias; `lengths`,
`reverse`, `h_mask`, `zoneout_h`, `zoneout_c`, `trace`. Not: other dtypes or devices (`supports` says False;
dispatch goes to the reference). The gate trace is returned for inspection and is not differentiable
(backward through it raises).

The extension is compiled on first use with `torch.utils.cpp_extension.load` (with OpenMP, so ATen's
parallel_for uses torch's threads) and cached in TORCH_EXTENSIONS_DIR; when that fails, `available()` is
False and one warning says the reference is used. After a build, a stamp in lstmkit's cache folder records
the library's path for a digest of every C++ file, the flags, torch and Python; a later process whose
digest matches, and finds the library as the stamp left it, imports it directly, without importing
`torch.utils.cpp_extension` (which imports setuptools) or asking ninja whether to rebuild: 0.3-0.5 s of every
command that runs a model, on a 2-core machine.

Speed notes (2-core AVX-512 CPU, measured with `benchmarks/layer_speed.py`): the brgemm micro-kernel runs the
per-step products at 2-4x the speed of at::mm (whose MKL takes a generic path on this CPU) with no per-call
cost; its right-hand matrices are kept in contiguous column blocks for the whole call. The kernel's large
buffers come from a cache of freed blocks, because faulting them in afresh every call cost up to half a small
training step. When no gradient can be needed (grad mode off, or nothing requiring grad) and no trace is
asked for, the forward keeps no per-step buffers for the backward.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any, NamedTuple, Optional

import torch
from torch import Tensor

from ...fileio import atomic_write_text, locked
from ..hardware import cpu_autocast_dtype
from ..spec import CellSpec, CellWeights, GateTrace
from .reference import reverse_padded

_CSRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "csrc")
# one translation unit per concern; the headers (vector ops, layer norm, pointwise passes, products, block
# cache) are included where they are used
_SOURCES = [
    os.path.join(_CSRC, name) for name in ("forward.cpp", "backward.cpp", "products.cpp", "masks.cpp", "bindings.cpp")
]
_SUPPORTED_DTYPES = (torch.float32, torch.float64)

_lock = threading.Lock()
_module: Any = None
_tried = False
_error: Optional[str] = None


def _build_attempts() -> list[tuple[str, list[str]]]:
    """(name suffix, flags) to try in order: the best vector ISA the CPU has, then the portable build."""
    # -fopenmp: ATen's parallel_for runs its tasks on torch's OpenMP threads only in code compiled with OpenMP
    # (without it every task runs in the calling thread); the extension then links the libgomp torch has loaded
    base = ["-O3", "-fopenmp"]
    try:
        cap = torch.backends.cpu.get_cpu_capability()
    except Exception:  # pragma: no cover - very old torch
        cap = "DEFAULT"
    attempts = []
    if cap in ("AVX512", "AVX2"):
        isa = ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma"] if cap == "AVX512" else ["-mavx2", "-mfma"]
        attempts.append((cap.lower(), base + isa + [f"-DCPU_CAPABILITY={cap}", f"-DCPU_CAPABILITY_{cap}"]))
    attempts.append(("default", base + ["-DCPU_CAPABILITY=DEFAULT"]))
    return attempts


@contextlib.contextmanager
def _building(name: str):
    """Hold lstmkit's own lock on the extension's build folder while torch checks or builds it.

    torch marks a build under way with a `lock` file in the folder and makes every other process wait until it
    is gone; a build killed midway leaves it behind, and then every later process waits forever. lstmkit's
    processes hold an fcntl lock on a file beside the folder while they build, which the system releases
    when a process dies: whoever holds it knows that a `lock` file it finds is a dead build's, and removes it."""
    try:
        from torch.utils.cpp_extension import _get_build_directory  # the folder `load` builds in, made if needed
    except ImportError:  # pragma: no cover - a torch that moved it: torch's own lock alone
        yield
        return
    folder = Path(_get_build_directory(name, verbose=False))
    with locked(folder.parent / f"{name}.lstmkit-lock"):
        (folder / "lock").unlink(missing_ok=True)  # a dead build's: a live one would hold our lock
        yield


def _load() -> Any:
    """The compiled extension, building it on first use; None (after one warning) when it cannot be built."""
    global _module, _tried, _error
    if _tried:
        return _module
    with _lock:
        if _tried:
            return _module
        errors = []
        attempts = _build_attempts()
        _module = next(filter(None, map(_stamped, attempts)), None)
        if _module is None:
            try:
                from torch.utils.cpp_extension import load
            except Exception as exc:  # pragma: no cover
                errors.append(repr(exc))
            else:
                for suffix, flags in attempts:
                    try:
                        with _building(f"lstmkit_fused_{suffix}"):
                            _module = load(
                                name=f"lstmkit_fused_{suffix}",
                                sources=_SOURCES,
                                extra_cflags=flags,
                                extra_ldflags=["-fopenmp"],
                                verbose=False,
                            )
                        _stamp((suffix, flags), _module)
                        break
                    except Exception as exc:  # no compiler, missing headers, a failed build
                        errors.append(f"{suffix}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)}")
        if _module is None:
            _error = "; ".join(errors)
            warnings.warn(
                f"lstmkit: the fused CPU LSTM kernel could not be built ({_error}); using the reference kernel",
                RuntimeWarning,
                stacklevel=3,
            )
        _tried = True
        return _module


def _stamp_path(attempt: tuple[str, list[str]]) -> Path:
    """Where the stamp of this build lives: named by a digest of everything the library depends on."""
    digest = hashlib.sha256()
    suffix, flags = attempt
    for part in (suffix, *flags, torch.__version__, torch.__file__, sys.version, os.environ.get("TORCH_EXTENSIONS_DIR", "")):
        digest.update(part.encode() + b"\0")
    for name in sorted(os.listdir(_CSRC)):
        digest.update(name.encode() + b"\0" + Path(_CSRC, name).read_bytes())
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lstmkit"
    return cache / f"fused-{suffix}-{digest.hexdigest()[:32]}.json"


def _stamp(attempt: tuple[str, list[str]], module: Any) -> None:
    """Record the library just loaded, for `_stamped`; a stamp that cannot be written only costs time."""
    try:
        library = Path(module.__file__)
        seen = library.stat()
        path = _stamp_path(attempt)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"name": module.__name__, "library": str(library),
                                            "mtime_ns": seen.st_mtime_ns, "size": seen.st_size}))  # fmt: skip
    except Exception:  # pragma: no cover - an unwritable cache folder
        pass


def _stamped(attempt: tuple[str, list[str]]) -> Any:
    """The library a stamp records, imported directly, when it is still as the stamp left it; else None."""
    try:
        stamp = json.loads(_stamp_path(attempt).read_text())
        library = Path(stamp["library"])
        seen = library.stat()
        if (seen.st_mtime_ns, seen.st_size) != (stamp["mtime_ns"], stamp["size"]):
            return None  # rebuilt since, maybe from other sources: let torch check it
        spec = importlib.util.spec_from_file_location(stamp["name"], library)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except Exception:  # no stamp yet, a torn one, a library gone
        return None


def available() -> bool:
    """True when the compiled kernel can be used (builds it on the first call)."""
    return _load() is not None


def bernoulli_mask(shape: tuple[int, ...], p: float, seed: int) -> Tensor:
    """A bool tensor of `shape`, each element True with probability p; the same seed gives the same mask."""
    return _load().bernoulli_mask(list(shape), float(p), int(seed))


def bf16_products() -> bool:
    """True when the kernel can run its products with bf16 operands (the CPU has AVX512-BF16 or AMX and torch
    the micro-kernel for them); elsewhere it computes them in fp32, under bf16 autocast too."""
    return available() and bool(_load().bf16_products())


def autocast_products() -> Optional[torch.dtype]:
    """The dtype of the products' operands of a call made now under CPU autocast: torch.bfloat16 under bf16
    autocast where the kernel has bf16 products, else torch.float32 (state, gates and outputs are fp32 either
    way); None without CPU autocast (the call computes in its own dtype).

    The one place lstmkit decides what CPU autocast means for this kernel: `lstm_layer` runs by it, and the
    layer's dispatch (`functional`) reads it.
    """
    dtype = cpu_autocast_dtype()
    if dtype is None:
        return None
    return torch.bfloat16 if dtype == torch.bfloat16 and bf16_products() else torch.float32


def supports(spec: CellSpec, *, dtype: torch.dtype, device: Any, **call: Any) -> bool:
    """True when this kernel implements the layer `spec` for tensors of `dtype` on `device`.

    Every variant (peephole, cifg, proj_size, layernorm, in any combination) is supported. `call` may carry the
    keyword arguments of `lstm_layer` (lengths, reverse, h_mask, zoneout_h, zoneout_c, trace); all of them are
    supported.
    """
    if torch.device(device).type != "cpu":
        return False
    if dtype not in _SUPPORTED_DTYPES and not (cpu_autocast_dtype() is not None and dtype == torch.bfloat16):
        return False
    return available()


class FusedWeights(NamedTuple):
    """The recurrence's weights as the kernel takes them; empty tensors where the variant has none."""

    w_hh: Tensor  # (G*H, P)
    bias: Tensor  # (G*H) bias_ih + bias_hh
    ln_gain_ih: Tensor  # (G*H) gain of the input layer norm
    peep_i: Tensor  # (H) peephole weight_ci (none with cifg)
    peep_f: Tensor  # (H) weight_cf
    peep_o: Tensor  # (H) weight_co
    w_hr: Tensor  # (P, H) projection
    ln_gain_hh: Tensor  # (G*H) gain of the recurrent layer norm
    ln_gain_c: Tensor  # (H) gain of the cell layer norm
    ln_bias_c: Tensor  # (H) bias of the cell layer norm


class FusedMasks(NamedTuple):
    """The call's masks, in processing order; empty tensors where absent. They need no gradient."""

    h_mask: Tensor  # (B, P) variational dropout on h as the recurrent product sees it, scaled by 1/(1-p)
    zoneout_h: Tensor  # (T, B, P) nonzero where a unit of h keeps its previous value
    zoneout_c: Tensor  # (T, B, H) the same for c
    valid: Tensor  # (T, B) one within each sequence's length, zero past it


class FusedFlags(NamedTuple):
    peephole: bool
    cifg: bool
    save: bool  # keep every step's buffers: a backward or a trace may follow
    bf16: bool  # the products round their operands to bf16 (fp32 accumulation)


class FusedRecord(NamedTuple):
    """What the forward keeps for the backward and the trace; empty where the variant has none."""

    gates: Tensor  # (T, B, G*H) i, f, g, o after their activations
    h_states: Tensor  # (T+1, B, P) h_0 .. h_T
    c_states: Tensor  # (T+1, B, H) c_0 .. c_T
    c_new: Tensor  # (T, B, H) f * c_{t-1} + i * g, before zoneout
    tanh_c: Tensor  # (T, B, H) tanh(c_out)
    m: Tensor  # (T, B, H) projection: o * tanh(c_out)
    xhat_hh: Tensor  # (T, B, G*H) layernorm: normalised h_rec W_hh^T
    rstd_hh: Tensor  # (T, B)
    c_hat: Tensor  # (T, B, H) layernorm: normalised c_new
    rstd_c: Tensor  # (T, B)
    mean_ih: Tensor  # (T, B) layernorm: mean and rstd of the rows of x W_ih^T
    rstd_ih: Tensor  # (T, B)


_N_WEIGHTS, _N_MASKS = len(FusedWeights._fields), len(FusedMasks._fields)


class _FusedLayer(torch.autograd.Function):
    """The recurrence over pre_x (T, B, G*H) = x W_ih^T (no bias); h0 (B, P) with P = proj_size or H, c0 (B, H).

    The bias and, with layernorm, the input layer norm are applied inside the kernel. Called as
    `apply(pre_x, h0, c0, masks, flags, *weights)`: the weights one by one, for autograd to see them.
    Returns output (T, B, P), h_n (B, P), c_n (B, H), and the gates (T, B, G*H) and c_states (T+1, B, H) for
    the trace (not differentiable).
    """

    @staticmethod
    def forward(ctx, pre_x, h0, c0, masks: FusedMasks, flags: FusedFlags, *weights):  # type: ignore[override]
        weights = FusedWeights(*weights)
        output, h_n, c_n, record = _load().forward(pre_x, h0, c0, weights, masks, flags)
        record = FusedRecord(*record)
        ctx.mark_non_differentiable(record.gates, record.c_states)
        ctx.set_materialize_grads(False)  # absent output gradients stay None: no (T, B, G*H) zeros to fill
        if not flags.save:  # forward only: the per-step buffers were not kept, and nothing is saved
            return output, h_n, c_n, record.gates, record.c_states
        # with layernorm the input layer norm's backward recomputes its rows from pre_x
        ctx.save_for_backward(*weights, *masks, *record, pre_x if weights.ln_gain_ih.numel() else weights.ln_gain_ih)
        ctx.flags = flags
        return output, h_n, c_n, record.gates, record.c_states

    @staticmethod
    def backward(ctx, d_out, d_hn, d_cn, _d_gates, _d_cstates):  # type: ignore[override]
        if not hasattr(ctx, "flags"):  # pragma: no cover - `save` is False only when no gradient is needed
            raise RuntimeError("lstmkit fused kernel: backward through a forward-only call")
        saved = ctx.saved_tensors
        weights = FusedWeights(*saved[:_N_WEIGHTS])
        masks = FusedMasks(*saved[_N_WEIGHTS : _N_WEIGHTS + _N_MASKS])
        record, pre_x = FusedRecord(*saved[_N_WEIGHTS + _N_MASKS : -1]), saved[-1]
        empty = pre_x.new_empty(0)
        prep = lambda g: empty if g is None else g.contiguous()  # noqa: E731
        with _no_autocast():
            d_pre_x, d_h0, d_c0, d_weights = _load().backward(
                prep(d_out), prep(d_hn), prep(d_cn), weights, masks, record, pre_x, ctx.flags
            )
        grads = (d_pre_x, d_h0, d_c0, None, None, *d_weights)  # as forward's inputs: masks and flags have none
        needed = ctx.needs_input_grad
        return tuple(g if (need and g is not None and g.numel()) else None for g, need in zip(grads, needed))


class _InputProjection(torch.autograd.Function):
    """pre = x @ W_ih^T over all steps at once, x (N, I), W_ih (G*H, I), in the dtype of x (float32 or
    float64). The products go through the extension's micro-kernel in row blocks, and dW_ih through oneDNN;
    with `bf16` their operands are rounded to bf16 (fp32 accumulation, fp32 result)."""

    @staticmethod
    def forward(ctx, x, w_ih, bf16):  # type: ignore[override]
        ctx.save_for_backward(x, w_ih)
        ctx.bf16 = bf16
        return _load().rows_times(x, w_ih.t(), bf16)

    @staticmethod
    def backward(ctx, d_pre):  # type: ignore[override]
        x, w_ih = ctx.saved_tensors
        d_pre = d_pre.contiguous()
        n = ctx.needs_input_grad
        with _no_autocast():
            dx = _load().rows_times(d_pre, w_ih, ctx.bf16) if n[0] else None
            dw = _load().weight_grad(d_pre, x, ctx.bf16) if n[1] else None
        return dx, dw, None


def _no_autocast():
    """The context of the backward passes: they compute in the precision the forward chose (`ctx.flags.bf16`),
    whatever autocast the backward is called under (at::mm inside the extension would obey it)."""
    return torch.autocast("cpu", enabled=False) if cpu_autocast_dtype() is not None else contextlib.nullcontext()


def _input_products(x: Tensor, w: CellWeights, bf16: bool) -> Tensor:
    """x W_ih^T for every step at once (no bias: the kernel adds it, after the input layer norm if any)."""
    pre = _InputProjection.apply(x.reshape(-1, x.size(-1)), w.weight_ih, bf16)
    return pre.view(*x.shape[:-1], pre.size(-1))


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w: CellWeights, spec: CellSpec, **call) -> tuple:
    """`reference.lstm_layer`, fused. Call only where `supports(spec, dtype=x.dtype, device=x.device)`.

    Under CPU bf16 autocast the layer keeps its state, gates and pointwise arithmetic in fp32 and runs its
    matrix products with bf16 operands and fp32 accumulation where the CPU has bf16 dot products, and in fp32
    elsewhere (`autocast_products`). Its outputs are fp32.
    """
    products = autocast_products()
    if products is None:
        return _lstm_layer(x, h0, c0, w, spec, **call)
    with torch.autocast("cpu", enabled=False):
        weights = CellWeights(*(_fp32(t) for t in w))
        masks = {name: _fp32(value) for name, value in call.items()}
        return _lstm_layer(_fp32(x), _fp32(h0), _fp32(c0), weights, spec, bf16=products == torch.bfloat16, **masks)


def _fp32(value):
    """Floating-point tensors as float32; anything else (bool masks, lengths, flags, None) as it is."""
    return value.float() if isinstance(value, Tensor) and value.is_floating_point() else value


def _fused_weights(w: CellWeights, spec: CellSpec, empty: Tensor) -> FusedWeights:
    """The layer's weights as the kernel takes them: contiguous, the biases summed, absent ones empty."""
    peephole, layernorm = spec.peephole, spec.layernorm
    return FusedWeights(
        w.weight_hh.contiguous(),
        (w.bias_ih + w.bias_hh) if spec.bias else empty,
        w.ln_gain_ih.contiguous() if layernorm else empty,
        w.weight_ci.contiguous() if peephole and not spec.cifg else empty,
        w.weight_cf.contiguous() if peephole else empty,
        w.weight_co.contiguous() if peephole else empty,
        w.weight_hr.contiguous() if spec.proj_size > 0 else empty,
        w.ln_gain_hh.contiguous() if layernorm else empty,
        w.ln_gain_c.contiguous() if layernorm else empty,
        w.ln_bias_c.contiguous() if layernorm else empty,
    )


def _mask(t: Optional[Tensor], like: Tensor) -> Tensor:
    """A mask as the kernel takes it: in the dtype of `like`, contiguous, detached; empty when absent."""
    return like.new_empty(0) if t is None else t.detach().to(like.dtype).contiguous()


def _lstm_layer(
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
    bf16: bool = False,
) -> tuple[Tensor, Tensor, Tensor, Optional[GateTrace]]:
    """`reference.lstm_layer`, fused, in the dtype of its arguments (float32 or float64); `bf16`: the matrix
    products round their operands to bf16 (float32 arguments only)."""
    T, B = x.shape[:2]
    pre_x = _input_products(x, w, bf16)  # (T, B, G*H): one product over every step, autograd to x/W_ih/b
    if reverse:
        pre_x = reverse_padded(pre_x, lengths)
    valid = None
    if lengths is not None:
        steps = torch.arange(T, device=x.device).unsqueeze(1)
        valid = (steps < lengths.to(x.device).unsqueeze(0)).to(x.dtype).contiguous()  # (T, B)
    weights = _fused_weights(w, spec, x.new_empty(0))
    masks = FusedMasks(_mask(h_mask, x), _mask(zoneout_h, x), _mask(zoneout_c, x), _mask(valid, x))
    leaves = [x, h0, c0, *(t for t in w if isinstance(t, Tensor))] if torch.is_grad_enabled() else []
    # save False: no backward can follow and no trace is asked for; then the kernel keeps no per-step buffers
    save = trace or any(t.requires_grad for t in leaves)
    flags = FusedFlags(bool(spec.peephole), bool(spec.cifg), save, bf16)
    output, h_n, c_n, gates, c_states = _FusedLayer.apply(
        pre_x.contiguous(), h0.contiguous(), c0.contiguous(), masks, flags, *weights
    )
    gate_trace = _gate_trace(gates, c_states, valid, spec, lengths, reverse) if trace else None
    if reverse:
        output = reverse_padded(output, lengths)
    return output, h_n, c_n, gate_trace


def _gate_trace(
    gates: Tensor, c_states: Tensor, valid: Optional[Tensor], spec: CellSpec, lengths: Optional[Tensor], reverse: bool
) -> GateTrace:
    """The trace from the kernel's gates (T, B, G*H) and c_states (T+1, B, H): i, f, g, o, c, each (T, B, H),
    zero past each length, in the input's time order."""
    T, B = gates.shape[:2]
    per_gate = gates.view(T, B, spec.num_gates, spec.hidden_size).unbind(2)
    if spec.cifg:
        forget, cell_input, output_gate = per_gate
        input_gate = 1.0 - forget
    else:
        input_gate, forget, cell_input, output_gate = per_gate
    cell = c_states[1:]
    if valid is not None:
        keep = valid.unsqueeze(2)
        input_gate = input_gate * keep  # f, g, o and c are already zero past each length; 1 - f is not
        cell = cell * keep
    gate_trace = GateTrace(input_gate, forget, cell_input, output_gate, cell)
    if reverse:
        gate_trace = GateTrace(*(reverse_padded(v, lengths) for v in gate_trace))
    return gate_trace
