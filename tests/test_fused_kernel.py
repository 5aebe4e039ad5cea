"""The fused CPU kernel (`kernels/fused.py`) against the reference kernel, the oracle."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lstmkit.nn.kernels import fused, reference
from lstmkit.nn.spec import CellSpec, CellWeights

if not fused.available():  # pragma: no cover - depends on the machine
    pytest.skip("the fused C++ kernel could not be built here (no compiler?)", allow_module_level=True)

SHAPES = {"small": (7, 3, 5, 6), "large": (20, 17, 13, 33)}  # (T, B, I, H); large exercises vector tails
VARIANTS = {
    "vanilla": dict(),
    "peephole": dict(peephole=True),
    "cifg": dict(cifg=True),
    "peephole_cifg": dict(peephole=True, cifg=True),
    "proj": dict(proj=True),
    "peephole_cifg_proj": dict(peephole=True, cifg=True, proj=True),
    "layernorm": dict(layernorm=True),
    "layernorm_peephole_cifg": dict(layernorm=True, peephole=True, cifg=True),
    "layernorm_proj": dict(layernorm=True, proj=True),
    "layernorm_peephole_proj": dict(layernorm=True, peephole=True, proj=True),
}


def _proj_size(H: int) -> int:
    return max(2, 2 * H // 3)  # P < H and, for the large shape, not a multiple of the vector width
OPTIONS = {
    "plain": dict(),
    "lengths": dict(lengths=True),
    "reverse": dict(reverse=True),
    "reverse_lengths": dict(reverse=True, lengths=True),
    "zoneout": dict(zoneout=True),
    "h_mask": dict(h_mask=True),
    "all": dict(lengths=True, reverse=True, zoneout=True, h_mask=True),
}


def _weights(spec: CellSpec, dtype: torch.dtype, gen: torch.Generator) -> CellWeights:
    G, H, I = spec.num_gates, spec.hidden_size, spec.input_size

    def u(*shape):
        return (torch.rand(*shape, generator=gen, dtype=dtype) - 0.5).requires_grad_()

    def gain(n):  # around 1, as trained gains are
        return (1.0 + 0.5 * (torch.rand(n, generator=gen, dtype=dtype) - 0.5)).requires_grad_()

    peep, ln, P = spec.peephole, spec.layernorm, spec.output_size
    return CellWeights(
        weight_ih=u(G * H, I),
        weight_hh=u(G * H, P),
        bias_ih=u(G * H) if spec.bias else None,
        bias_hh=u(G * H) if spec.bias else None,
        weight_hr=u(P, H) if spec.proj_size > 0 else None,
        weight_ci=u(H) if peep and not spec.cifg else None,
        weight_cf=u(H) if peep else None,
        weight_co=u(H) if peep else None,
        ln_gain_ih=gain(G * H) if ln else None,
        ln_gain_hh=gain(G * H) if ln else None,
        ln_gain_c=gain(H) if ln else None,
        ln_bias_c=u(H) if ln else None,
    )


def _case(shape, variant, option, dtype=torch.float32, seed=0, bias=True):
    T, B, I, H = shape
    gen = torch.Generator().manual_seed(seed)
    flags = dict(VARIANTS[variant])
    P = _proj_size(H) if flags.pop("proj", False) else 0
    spec = CellSpec(input_size=I, hidden_size=H, bias=bias, proj_size=P, **flags)
    P = spec.output_size
    w = _weights(spec, dtype, gen)
    x = torch.randn(T, B, I, generator=gen, dtype=dtype).requires_grad_()
    h0 = (0.5 * torch.randn(B, P, generator=gen, dtype=dtype)).requires_grad_()
    c0 = (0.5 * torch.randn(B, H, generator=gen, dtype=dtype)).requires_grad_()
    opts = OPTIONS[option]
    kw = {}
    if opts.get("lengths"):
        lengths = torch.randint(1, T + 1, (B,), generator=gen)
        lengths[0] = T
        if B > 2:
            lengths[1] = 1
        kw["lengths"] = lengths
    if opts.get("reverse"):
        kw["reverse"] = True
    if opts.get("zoneout"):
        kw["zoneout_h"] = torch.rand(T, B, P, generator=gen) < 0.3
        kw["zoneout_c"] = torch.rand(T, B, H, generator=gen) < 0.3
    if opts.get("h_mask"):
        kw["h_mask"] = (torch.rand(B, P, generator=gen) < 0.7).to(dtype) / 0.7
    return x, h0, c0, w, spec, kw


def _leaves(x, h0, c0, w):
    named = [("x", x), ("h0", h0), ("c0", c0)]
    named += [(name, t) for name, t in zip(CellWeights._fields, w) if t is not None]
    return named


def _run(kernel, x, h0, c0, w, spec, kw, trace=True):
    out, h_n, c_n, tr = kernel.lstm_layer(x, h0, c0, w, spec, trace=trace, **kw)
    # a loss that reaches every output (h_n and c_n too) with non-uniform weights
    gen = torch.Generator().manual_seed(123)
    loss = (out * torch.randn(out.shape, generator=gen, dtype=out.dtype)).sum()
    loss = loss + (h_n * torch.randn(h_n.shape, generator=gen, dtype=out.dtype)).sum()
    loss = loss + (c_n * torch.randn(c_n.shape, generator=gen, dtype=out.dtype)).sum()
    leaves = _leaves(x, h0, c0, w)
    grads = torch.autograd.grad(loss, [t for _, t in leaves])
    return (out, h_n, c_n, tr), {name: g for (name, _), g in zip(leaves, grads)}


def _assert_matches(fused_result, reference_result, tol):
    (o1, h1, c1, t1), g1 = fused_result
    (o2, h2, c2, t2), g2 = reference_result
    torch.testing.assert_close(o1, o2, **tol)
    torch.testing.assert_close(h1, h2, **tol)
    torch.testing.assert_close(c1, c2, **tol)
    for name in t2._fields:
        torch.testing.assert_close(getattr(t1, name), getattr(t2, name), **tol, msg=f"trace.{name}")
    assert g1.keys() == g2.keys()
    for name in g2:
        torch.testing.assert_close(g1[name], g2[name], **tol, msg=lambda m, n=name: f"grad of {n}: {m}")


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("option", list(OPTIONS))
def test_matches_reference(shape, variant, option):
    """Outputs, states, trace and every gradient within 1e-5 of the reference.

    Without layernorm in fp32. With layernorm in fp64: in fp32 the reference's own gradients are only good to
    about 1e-4 relative (layer norm divides by each row's sigma, over T steps), so 1e-5 cannot separate a
    wrong backward from rounding there; `test_layernorm_fp32_accuracy` covers fp32.
    """
    dtype = torch.float64 if VARIANTS[variant].get("layernorm") else torch.float32
    x, h0, c0, w, spec, kw = _case(SHAPES[shape], variant, option, dtype=dtype)
    assert fused.supports(spec, dtype=x.dtype, device=x.device, **kw)
    tol = dict(rtol=1e-5, atol=1e-5)
    _assert_matches(_run(fused, x, h0, c0, w, spec, kw), _run(reference, x, h0, c0, w, spec, kw), tol)


LN_VARIANTS = [v for v in VARIANTS if VARIANTS[v].get("layernorm")]


def _upcast(x, h0, c0, w, kw):
    up = lambda t: None if t is None else t.detach().double().requires_grad_()  # noqa: E731
    kw64 = {k: (v.double() if torch.is_tensor(v) and v.dtype == torch.float32 else v) for k, v in kw.items()}
    return up(x), up(h0), up(c0), CellWeights(*(up(t) for t in w)), kw64


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
@pytest.mark.parametrize("variant", LN_VARIANTS)
@pytest.mark.parametrize("option", ["plain", "all", "zoneout", "lengths"])
def test_layernorm_fp32_accuracy(shape, variant, option):
    """fp32 with layernorm, against the fp64 truth (the reference run in fp64 on the same fp32 inputs): every
    output, state, trace tensor and gradient of the fused kernel is no less accurate than the fp32 reference's
    (norm-wise relative error within 5x the reference's, or below 1e-5)."""
    x, h0, c0, w, spec, kw = _case(SHAPES[shape], variant, option)
    (o1, h1, c1, t1), g1 = _run(fused, x, h0, c0, w, spec, kw)
    (o2, h2, c2, t2), g2 = _run(reference, x, h0, c0, w, spec, kw)
    x64, h64, c64, w64, kw64 = _upcast(x, h0, c0, w, kw)
    (o3, h3, c3, t3), g3 = _run(reference, x64, h64, c64, w64, spec, kw64)
    assert g1.keys() == g3.keys()
    fused_vals = {"output": o1, "h_n": h1, "c_n": c1, **{f"trace.{k}": v for k, v in t1._asdict().items()}, **g1}
    ref_vals = {"output": o2, "h_n": h2, "c_n": c2, **{f"trace.{k}": v for k, v in t2._asdict().items()}, **g2}
    exact = {"output": o3, "h_n": h3, "c_n": c3, **{f"trace.{k}": v for k, v in t3._asdict().items()}, **g3}
    for name, truth in exact.items():
        err = lambda v: ((v.double() - truth).norm() / truth.norm().clamp_min(1e-30)).item()  # noqa: E731
        e_fused, e_ref = err(fused_vals[name]), err(ref_vals[name])
        assert e_fused <= max(5 * e_ref, 1e-5), (name, e_fused, e_ref)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_no_bias_and_no_trace(variant):
    dtype = torch.float64 if VARIANTS[variant].get("layernorm") else torch.float32  # see test_matches_reference
    x, h0, c0, w, spec, kw = _case(SHAPES["small"], variant, "plain", dtype=dtype, bias=False)
    (o1, h1, c1, t1), g1 = _run(fused, x, h0, c0, w, spec, kw, trace=False)
    (o2, h2, c2, _), g2 = _run(reference, x, h0, c0, w, spec, kw, trace=False)
    assert t1 is None
    torch.testing.assert_close(o1, o2, rtol=1e-5, atol=1e-5)
    for name in g2:
        torch.testing.assert_close(g1[name], g2[name], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant", ["peephole", "layernorm_peephole_proj"])
def test_partial_outputs_and_no_grad(variant):
    """Backward with only some outputs used (the others' grads are None), and a no_grad forward."""
    dtype = torch.float64 if VARIANTS[variant].get("layernorm") else torch.float32  # see test_matches_reference
    x, h0, c0, w, spec, kw = _case(SHAPES["small"], variant, "lengths", dtype=dtype)
    out, h_n, c_n, _ = fused.lstm_layer(x, h0, c0, w, spec, **kw)
    g1 = torch.autograd.grad(h_n.sum(), [x, w.weight_hh, w.weight_co])
    out, h_n, c_n, _ = reference.lstm_layer(x, h0, c0, w, spec, **kw)
    g2 = torch.autograd.grad(h_n.sum(), [x, w.weight_hh, w.weight_co])
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        o1 = fused.lstm_layer(x, h0, c0, w, spec, **kw)[0]
        o2 = reference.lstm_layer(x, h0, c0, w, spec, **kw)[0]
    assert not o1.requires_grad
    torch.testing.assert_close(o1, o2, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("option", ["plain", "lengths", "reverse_lengths", "zoneout", "all"])
def test_forward_only_path(shape, variant, option):
    """With no gradient needed (no_grad, inference_mode, or no leaf requiring grad) the kernel keeps no per-step
    buffers; outputs and final states match the reference, and a trace asked for under no_grad still comes."""
    dtype = torch.float64 if VARIANTS[variant].get("layernorm") else torch.float32  # see test_matches_reference
    x, h0, c0, w, spec, kw = _case(SHAPES[shape], variant, option, dtype=dtype)
    with torch.no_grad():
        want = reference.lstm_layer(x, h0, c0, w, spec, trace=True, **kw)
    tol = dict(rtol=1e-5, atol=1e-5)

    def check(got, trace):
        for a, b in zip(got[:3], want[:3]):
            assert not a.requires_grad
            torch.testing.assert_close(a, b, **tol)
        if trace:
            for name in want[3]._fields:
                torch.testing.assert_close(getattr(got[3], name), getattr(want[3], name), **tol, msg=name)
        else:
            assert got[3] is None

    with torch.no_grad():
        check(fused.lstm_layer(x, h0, c0, w, spec, **kw), False)
        check(fused.lstm_layer(x, h0, c0, w, spec, trace=True, **kw), True)
    with torch.inference_mode():
        check(fused.lstm_layer(x, h0, c0, w, spec, **kw), False)
    detached = CellWeights(*(None if t is None else t.detach() for t in w))
    check(fused.lstm_layer(x.detach(), h0.detach(), c0.detach(), detached, spec, **kw), False)


@pytest.mark.filterwarnings("ignore:TF32 acceleration")  # from torch.backends.mkldnn.flags
@pytest.mark.parametrize("variant", ["vanilla", "peephole", "cifg", "peephole_cifg_proj", "layernorm_proj"])
@pytest.mark.parametrize("option", ["plain", "all"])
def test_matches_reference_onednn_sizes(variant, option):
    """fp32 at sizes where the recurrent and backward products go through oneDNN (B*G*H*P >= 2^22).

    Against the reference; with a projection, where fp32 rounding alone (the same with oneDNN or MKL) moves
    this case's states and gradients (up to ~400) past 1e-5 of the reference, against the kernel's own at::mm
    path. Tolerance 1e-5 relative to each tensor's largest magnitude."""
    x, h0, c0, w, spec, kw = _case((6, 40, 48, 160), variant, option)
    (o1, h1, c1, t1), g1 = _run(fused, x, h0, c0, w, spec, kw)
    if spec.proj_size > 0:  # against the same kernel with at::mm (MKL) for every product
        with torch.backends.mkldnn.flags(enabled=False):
            (o2, h2, c2, t2), g2 = _run(fused, x, h0, c0, w, spec, kw)
    else:
        (o2, h2, c2, t2), g2 = _run(reference, x, h0, c0, w, spec, kw)
    got = {"output": o1, "h_n": h1, "c_n": c1, **{f"trace.{k}": v for k, v in t1._asdict().items()}, **g1}
    want = {"output": o2, "h_n": h2, "c_n": c2, **{f"trace.{k}": v for k, v in t2._asdict().items()}, **g2}
    assert got.keys() == want.keys()
    for name, b in want.items():  # within 1e-5 of the reference, relative to the tensor's largest magnitude
        scale = max(1.0, b.abs().max().item())
        torch.testing.assert_close(got[name] / scale, b / scale, rtol=1e-5, atol=1e-5, msg=name)


def test_rows_times_matches_mm():
    """The input products (micro-kernel in row blocks) against at::mm: fp32 and fp64 within 1e-5, bf16 within
    the bf16 tolerance; odd sizes (vector tails, a last row block of 3, an odd K for the bf16 packing)."""
    ext = fused._load()
    gen = torch.Generator().manual_seed(0)
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(131, 37, generator=gen, dtype=dtype)
        b = torch.randn(37, 301, generator=gen, dtype=dtype)
        torch.testing.assert_close(ext.rows_times(x, b, False), x @ b, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(ext.rows_times(x, b.t().contiguous().t(), False), x @ b, rtol=1e-5, atol=1e-5)
    got = ext.rows_times(x.float(), b.float(), True)
    want = x.float() @ b.float()
    assert got.dtype == torch.float32 and ((got - want).norm() / want.norm()).item() < BF16_TOL


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("option", ["plain", "all"])
def test_gradcheck_fp64(variant, option):
    x, h0, c0, w, spec, kw = _case((4, 3, 3, 5), variant, option, dtype=torch.float64)
    leaves = [t for _, t in _leaves(x, h0, c0, w)]
    n_fixed = 3

    def fn(*args):
        xx, hh, cc = args[:n_fixed]
        ww = dict(zip([name for name, t in zip(CellWeights._fields, w) if t is not None], args[n_fixed:]))
        out, h_n, c_n, _ = fused.lstm_layer(xx, hh, cc, CellWeights(**ww), spec, **kw)
        return out, h_n, c_n

    assert torch.autograd.gradcheck(fn, leaves, eps=1e-6, atol=1e-6)


def test_supports():
    spec = CellSpec(input_size=3, hidden_size=4, peephole=True, cifg=True)
    assert fused.supports(spec, dtype=torch.float32, device="cpu")
    assert fused.supports(spec, dtype=torch.float64, device=torch.device("cpu"), lengths=None, trace=True)
    assert not fused.supports(spec, dtype=torch.bfloat16, device="cpu")
    assert not fused.supports(spec, dtype=torch.float32, device="cuda")
    assert fused.supports(CellSpec(input_size=3, hidden_size=4, layernorm=True), dtype=torch.float32, device="cpu")
    assert fused.supports(CellSpec(input_size=3, hidden_size=4, proj_size=2), dtype=torch.float64, device="cpu")
    ln_proj = CellSpec(input_size=3, hidden_size=4, proj_size=2, layernorm=True, peephole=True)
    assert fused.supports(ln_proj, dtype=torch.float32, device="cpu")
    assert not fused.supports(ln_proj, dtype=torch.bfloat16, device="cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):  # bf16 products, fp32 state
        assert fused.supports(spec, dtype=torch.float32, device="cpu")
        assert fused.supports(spec, dtype=torch.bfloat16, device="cpu")


@pytest.mark.parametrize("variant", ["peephole", "layernorm_peephole_proj"])
def test_parallel_batch_split(variant):
    """B*H large enough that the pointwise passes split the batch across threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    dtype = torch.float64 if VARIANTS[variant].get("layernorm") else torch.float32  # see test_matches_reference
    try:
        x, h0, c0, w, spec, kw = _case((3, 130, 4, 300), variant, "all", dtype=dtype)
        (o1, h1, c1, _), g1 = _run(fused, x, h0, c0, w, spec, kw)
        (o2, h2, c2, _), g2 = _run(reference, x, h0, c0, w, spec, kw)
    finally:
        torch.set_num_threads(threads)
    torch.testing.assert_close(o1, o2, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(c1, c2, rtol=1e-5, atol=1e-5)
    for name in g2:  # dh0 sums 3 steps of 1200-term products: fp32 rounding reaches ~3e-5 on single elements
        torch.testing.assert_close(g1[name], g2[name], rtol=1e-5, atol=5e-5)


BF16_TOL = 3e-2  # norm-wise relative error of bf16 products (8-bit mantissa operands, fp32 accumulation)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("option", ["plain", "all"])
def test_bf16_matches_reference(variant, option):
    """Under bf16 autocast: outputs, states, trace and every gradient within 3e-2 (norm-wise, relative) of the
    fp32 reference, 6e-2 with layer norm (whether the CPU has bf16 products or not: see the two tests below).

    Layer-norm variants over 5 steps rather than 20: with random weights their backward divides by small row
    spreads step after step, and over 20 steps bf16 rounding alone moves some gradients by 50-80% in PyTorch's
    own autocast of the reference kernel as much as in ours. Over 5 steps ours stays within 6e-2, where the
    reference under autocast is off by up to 0.9 on the same cases."""
    layernorm = bool(VARIANTS[variant].get("layernorm"))
    tol = 2 * BF16_TOL if layernorm else BF16_TOL
    shape = (5, 17, 13, 33) if layernorm else SHAPES["large"]
    x, h0, c0, w, spec, kw = _case(shape, variant, option)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        (o1, h1, c1, t1), g1 = _run(fused, x, h0, c0, w, spec, kw)
    (o2, h2, c2, t2), g2 = _run(reference, x, h0, c0, w, spec, kw)
    got = {"output": o1, "h_n": h1, "c_n": c1, **{f"trace.{k}": v for k, v in t1._asdict().items()}, **g1}
    want = {"output": o2, "h_n": h2, "c_n": c2, **{f"trace.{k}": v for k, v in t2._asdict().items()}, **g2}
    assert got.keys() == want.keys()
    for name, truth in want.items():
        assert got[name].dtype == truth.dtype, name
        err = ((got[name] - truth).norm() / truth.norm().clamp_min(1e-30)).item()
        assert err < tol, (name, err)


NO_BF16_PRODUCTS = "the CPU has no bf16 dot products (no AVX512-BF16 or AMX): bf16 autocast runs fp32 products"


@pytest.mark.skipif(not fused.bf16_products(), reason=NO_BF16_PRODUCTS)
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("option", ["plain", "all"])
def test_bf16_autocast_rounds_the_products(variant, option):
    """Where the CPU has bf16 products, bf16 autocast really uses them: the result is not the fp32 one."""
    shape = (5, 17, 13, 33) if VARIANTS[variant].get("layernorm") else SHAPES["large"]  # as above
    x, h0, c0, w, spec, kw = _case(shape, variant, option)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        (o1, _, _, _), _ = _run(fused, x, h0, c0, w, spec, kw)
    (o2, _, _, _), _ = _run(fused, x, h0, c0, w, spec, kw)
    assert (o1 - o2).abs().max() > 1e-4  # bf16 rounding shows; an fp32 computation would match to ~1e-6


@pytest.mark.skipif(fused.bf16_products(), reason="the CPU has bf16 dot products, which bf16 autocast uses")
@pytest.mark.parametrize("variant", ["vanilla", "peephole_cifg_proj", "layernorm"])
@pytest.mark.parametrize("option", ["plain", "all"])
def test_bf16_autocast_without_bf16_products_computes_fp32(variant, option):
    """Where the CPU has no bf16 products (AVX2 or AVX-512 without BF16), bf16 autocast runs the kernel with
    fp32 products: outputs, states, trace and every gradient equal the fp32 call's exactly."""
    x, h0, c0, w, spec, kw = _case((5, 17, 13, 33), variant, option)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        (o1, h1, c1, t1), g1 = _run(fused, x, h0, c0, w, spec, kw)
    (o2, h2, c2, t2), g2 = _run(fused, x, h0, c0, w, spec, kw)
    for a, b in [(o1, o2), (h1, h2), (c1, c2), *zip(t1, t2), *((g1[n], g2[n]) for n in g2)]:
        assert a.dtype == torch.float32 and torch.equal(a, b)


def test_weight_grad_matches_mm():
    """dW = dy^T x over all steps (at::mm at small sizes, oneDNN at large ones). fp32: within fp32 rounding of
    dy^T x. bf16 products: within fp32 rounding of the product of the bf16-rounded operands, plus the bf16
    rounding of the result where oneDNN's bf16 inner product computes it; where oneDNN has no bf16 (CPUs
    without AVX-512) the kernel multiplies the rounded operands in fp32, so within fp32 rounding alone."""
    ext = fused._load()
    rtol16 = 2**-7 if ext.onednn_bf16() else 1e-5  # oneDNN's bf16 inner product returns bf16
    gen = torch.Generator().manual_seed(0)
    for n, o, i in [(5, 3, 4), (3200, 512, 128), (700, 256, 96)]:  # small (at::mm) and oneDNN sizes
        dy = torch.randn(n, o, generator=gen)
        x = torch.randn(n, i, generator=gen)
        want = dy.t() @ x
        # sums of n products: fp32 rounding scales with the largest entry
        atol = 1e-5 * want.abs().max().item()
        torch.testing.assert_close(ext.weight_grad(dy, x, False), want, rtol=1e-5, atol=atol)
        got16 = ext.weight_grad(dy, x, True)
        assert got16.dtype == torch.float32 and got16.shape == (o, i)
        assert ((got16 - want).norm() / want.norm()).item() < BF16_TOL
        rounded = dy.bfloat16().float().t() @ x.bfloat16().float()
        torch.testing.assert_close(got16, rounded, rtol=rtol16, atol=atol)


def test_build_failure_warns_once_and_reports_unavailable(monkeypatch):
    import torch.utils.cpp_extension as cpp_extension

    def broken_load(*args, **kwargs):
        raise RuntimeError("no compiler")

    monkeypatch.setattr(cpp_extension, "load", broken_load)
    monkeypatch.setattr(fused, "_stamped", lambda attempt: None)  # no library built before
    monkeypatch.setattr(fused, "_module", None)
    monkeypatch.setattr(fused, "_tried", False)
    with pytest.warns(RuntimeWarning, match="reference") as record:
        assert not fused.available()
        assert not fused.available()
        assert not fused.supports(CellSpec(input_size=3, hidden_size=4), dtype=torch.float32, device="cpu")
    assert len(record) == 1


def test_bernoulli_mask():
    """The zoneout masks' generator: the rate, no correlation between neighbours, repeatable per seed."""
    m = fused.bernoulli_mask((200, 50, 100), 0.1, 7)
    assert m.dtype == torch.bool and m.shape == (200, 50, 100)
    n = m.numel()
    assert abs(m.float().mean().item() - 0.1) < 4 * (0.1 * 0.9 / n) ** 0.5  # within 4 standard errors
    flat = m.flatten().float()
    both = (flat[1:] * flat[:-1]).mean().item()  # P(two neighbours both true) = p^2 when independent
    assert abs(both - 0.01) < 4 * (0.01 * 0.99 / n) ** 0.5
    assert torch.equal(m, fused.bernoulli_mask((200, 50, 100), 0.1, 7))
    assert not torch.equal(m, fused.bernoulli_mask((200, 50, 100), 0.1, 8))
    assert not fused.bernoulli_mask((10, 10), 0.0, 1).any()
    assert fused.bernoulli_mask((10, 10), 1.0, 1).all()


STACK_VARIANTS = ["vanilla", "peephole", "cifg", "peephole_cifg_proj", "layernorm", "layernorm_peephole_proj"]


@pytest.mark.parametrize("variant", STACK_VARIANTS)
def test_stack_matches_reference(variant):
    """A 3-layer, bidirectional, batch-first `lstmkit.LSTM` with lengths, zoneout and recurrent dropout (training
    mode, the same masks on both sides): backend='fused' equals backend='reference' within 1e-5 on the output,
    final states and the gradients of the input and every parameter (fp64 with layernorm, as above)."""
    import lstmkit

    flags = dict(VARIANTS[variant])
    proj = flags.pop("proj", False)
    dtype = torch.float64 if flags.get("layernorm") else torch.float32
    settings = dict(num_layers=3, bidirectional=True, batch_first=True, proj_size=4 if proj else 0, zoneout=0.2,
                    recurrent_dropout=0.2, **flags)  # fmt: skip
    torch.manual_seed(0)
    layers = {backend: lstmkit.LSTM(5, 7, backend=backend, **settings).to(dtype) for backend in ("fused", "reference")}
    layers["reference"].load_state_dict(layers["fused"].state_dict())
    x = torch.randn(4, 6, 5, dtype=dtype)
    lengths = torch.tensor([6, 1, 4, 3])
    results = {}
    for backend, layer in layers.items():
        torch.manual_seed(1)  # the same zoneout and dropout masks for both
        xin = x.clone().requires_grad_()
        out, (h_n, c_n) = layer.train()(xin, lengths=lengths)
        gen = torch.Generator().manual_seed(2)
        loss = sum((t * torch.randn(t.shape, generator=gen, dtype=dtype)).sum() for t in (out, h_n, c_n))
        names = [name for name, _ in layer.named_parameters()]
        grads = torch.autograd.grad(loss, [xin, *layer.parameters()])
        results[backend] = {"output": out, "h_n": h_n, "c_n": c_n, **dict(zip(["x", *names], grads))}
    assert results["fused"].keys() == results["reference"].keys()
    for name, want in results["reference"].items():
        torch.testing.assert_close(
            results["fused"][name], want, rtol=1e-5, atol=1e-5, msg=lambda m, n=name: f"{n}: {m}"
        )


def test_a_build_killed_midway_does_not_make_later_processes_wait_forever(tmp_path):
    """torch marks a build under way with a `lock` file in the build folder, which a killed build leaves
    behind; lstmkit's own lock (released by the system when a process dies) lets the next process know it is
    stale. A copy of the built folder with such a file: a fresh process loads the kernel at once."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from torch.utils.cpp_extension import _get_build_directory

    if not fused.available():
        pytest.skip("the fused kernel cannot be built here")
    name = fused._module.__name__
    shutil.copytree(_get_build_directory(name, verbose=False), tmp_path / name)
    (tmp_path / name / "lock").write_text("")  # what a build killed midway leaves
    env = {**os.environ, "TORCH_EXTENSIONS_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", "from lstmkit.nn.kernels import fused; print(fused.available())"],
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.stdout.strip() == "True", done.stderr
    assert not (tmp_path / name / "lock").exists()
    assert Path(tmp_path / f"{name}.lstmkit-lock").exists()


def test_a_stamped_build_loads_without_cpp_extension_and_a_changed_one_is_checked_again(tmp_path):
    """The first process to load the kernel stamps it; the next imports the library straight from the stamp
    (no torch.utils.cpp_extension, so no setuptools), and gives the same numbers. A library changed since its
    stamp (another build wrote it) goes back through torch's check, which stamps it anew."""
    import os
    import shutil
    import subprocess
    import sys

    if not fused.available():
        pytest.skip("the fused kernel cannot be built here")
    # a fresh cache for lstmkit's stamps, and a copy of the build folder this process loaded its library from
    # (times kept): torch's check finds the library up to date there, where an empty folder would compile it
    # anew, and the test changes the copy's library, not the one other processes load
    built = Path(fused._load().__file__).parent
    shutil.copytree(built, tmp_path / "builds" / built.name)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "TORCH_EXTENSIONS_DIR": str(tmp_path / "builds")}
    code = ("import sys, torch; from lstmkit.nn.kernels import fused; import lstmkit\n"
            "torch.manual_seed(0); layer = lstmkit.LSTM(3, 5, backend='fused')\n"
            "print(fused.available(), 'torch.utils.cpp_extension' in sys.modules, layer(torch.randn(4, 2, 3))[0].sum().item())")  # fmt: skip

    def run():
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        available, imported, total = done.stdout.split()
        assert available == "True", done.stderr
        return imported == "True", float(total)

    first = run()
    stamps = list((tmp_path / "lstmkit").glob("fused-*.json"))
    assert first[0] and len(stamps) == 1  # no stamp yet: torch's check, then the stamp
    second = run()
    assert second == (False, first[1])
    library = __import__("json").loads(stamps[0].read_text())["library"]
    assert Path(library).parent.parent == tmp_path / "builds"
    seen = os.stat(library)
    os.utime(library, ns=(seen.st_atime_ns, seen.st_mtime_ns + 1_000_000_000))
    try:
        assert run() == first  # changed since the stamp: checked by torch again
        assert run() == second  # and stamped anew
    finally:
        os.utime(library, ns=(seen.st_atime_ns, seen.st_mtime_ns))
