"""A vanilla lstmkit.LSTM computes exactly what torch.nn.LSTM computes, forward and backward."""

import itertools

import pytest
import torch

import lstmkit
from lstmkit.errors import ConfigError
from lstmkit.nn import hardware
from lstmkit.nn.kernels import fused, native, reference

T, B, I, H = 7, 3, 5, 6
CONFIGS = list(itertools.product([1, 3], [False, True], [False, True], [0, 4], [False, True]))


def _run(module, x, state):
    out, (h_n, c_n) = module(x, state) if state is not None else module(x)
    loss = (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum() + (h_n**2).sum() + c_n.sum()
    loss.backward()
    return out, h_n, c_n


@pytest.mark.parametrize("backend", ["auto", "reference"])
@pytest.mark.parametrize("num_layers, bidirectional, batch_first, proj_size, with_state", CONFIGS)
def test_outputs_states_and_gradients_equal_torch(num_layers, bidirectional, batch_first, proj_size, with_state, backend):
    ref = torch.nn.LSTM(I, H, num_layers, bidirectional=bidirectional, batch_first=batch_first, proj_size=proj_size)
    ours = lstmkit.LSTM.from_torch(ref)
    ours.backend = backend
    D, P = (2 if bidirectional else 1), (proj_size or H)
    x = torch.randn((B, T, I) if batch_first else (T, B, I))
    state = (torch.randn(num_layers * D, B, P), torch.randn(num_layers * D, B, H)) if with_state else None
    inputs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    states = [None, None] if state is None else [tuple(s.clone().requires_grad_() for s in state) for _ in range(2)]

    expected = _run(ref, inputs[0], states[0])
    got = _run(ours, inputs[1], states[1])

    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, atol=1e-5, rtol=0)
    torch.testing.assert_close(inputs[1].grad, inputs[0].grad, atol=1e-5, rtol=0)
    if state is not None:
        for s_ref, s_ours in zip(states[0], states[1]):
            torch.testing.assert_close(s_ours.grad, s_ref.grad, atol=1e-5, rtol=0)
    ref_params = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, ref_params[name].grad, atol=1e-5, rtol=0, msg=f"gradient of {name}")


def test_dropout_between_layers_matches_torch_in_eval_and_runs_in_training():
    ref = torch.nn.LSTM(I, H, 2, dropout=0.3)
    ours = lstmkit.LSTM.from_torch(ref)
    x = torch.randn(T, B, I)
    ref.eval(), ours.eval()
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-5, rtol=0)
    ours.train()
    assert not torch.allclose(ours(x)[0], ref(x)[0])


def _count_calls(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_vanilla_call_runs_the_native_kernel(monkeypatch):
    native_calls = _count_calls(monkeypatch, native, "lstm_stack")
    reference_calls = _count_calls(monkeypatch, reference, "lstm_layer")
    layer = lstmkit.LSTM(I, H, num_layers=2, dropout=0.2, bidirectional=True)
    layer(torch.randn(T, B, I))
    layer(torch.randn(T, B, I), lengths=[7, 3, 5])
    assert native_calls == ["lstm_stack"] * 2 and reference_calls == []


def test_wide_vanilla_training_runs_the_fused_kernel(monkeypatch):
    """From FUSED_VANILLA_MIN_HIDDEN units, a CPU fp32 vanilla layer that needs a gradient trains in the fused
    kernel (measured faster there), and under bf16 autocast too where the kernel has bf16 products; without a
    gradient, below that width or with backend='native' it runs PyTorch's; and both give the same numbers.
    Where PyTorch's LSTM cannot run bf16 autocast (no AVX-512), bf16 training runs the fused kernel too."""
    from lstmkit.nn.functional import FUSED_VANILLA_MIN_HIDDEN

    if not fused.available():
        pytest.skip("the fused kernel could not be built here (no C++ compiler)")
    native_calls = _count_calls(monkeypatch, native, "lstm_stack")
    fused_calls = _count_calls(monkeypatch, fused, "lstm_layer")
    wide = lstmkit.LSTM(I, FUSED_VANILLA_MIN_HIDDEN, num_layers=2)
    x = torch.randn(T, B, I)
    out, _ = wide(x)
    assert fused_calls == ["lstm_layer"] * 2 and native_calls == []
    with torch.no_grad():
        expected, _ = wide(x)
    assert native_calls == ["lstm_stack"]
    torch.testing.assert_close(out.detach(), expected, atol=1e-5, rtol=0)
    lstmkit.LSTM(I, FUSED_VANILLA_MIN_HIDDEN, backend="native")(x)
    lstmkit.LSTM(I, FUSED_VANILLA_MIN_HIDDEN // 2)(x)
    assert native_calls == ["lstm_stack"] * 3 and fused_calls == ["lstm_layer"] * 2
    with torch.autocast("cpu", dtype=torch.bfloat16):  # bf16 training: fused where it has bf16 products
        wide(x)
        native_runs_bf16 = native.supports("cpu")
    fused_runs = fused.bf16_products() or not native_runs_bf16
    assert fused_calls == ["lstm_layer"] * (4 if fused_runs else 2) and len(native_calls) == (3 if fused_runs else 4)


def test_native_supports_says_whether_torch_lstm_runs_bf16_autocast():
    """`native.supports` under CPU bf16 autocast is True exactly where torch.nn.LSTM runs there (False on CPUs
    whose oneDNN has no bf16 kernels: no AVX-512); outside bf16 autocast it is True."""
    assert native.supports("cpu")
    layer = torch.nn.LSTM(I, H)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        try:
            layer(torch.randn(T, B, I))
            torch_runs = True
        except RuntimeError:  # "could not create a primitive descriptor for the LSTM forward propagation primitive"
            torch_runs = False
        assert native.supports("cpu") == torch_runs
    with torch.autocast("cpu", dtype=torch.float16):
        assert native.supports("cpu")


NATIVE_RUNS_BF16 = "PyTorch's LSTM runs bf16 autocast on this CPU (its oneDNN has bf16 kernels)"


def _native_runs_bf16() -> bool:
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return native.supports("cpu")


@pytest.mark.skipif(_native_runs_bf16(), reason=NATIVE_RUNS_BF16)
@pytest.mark.parametrize("grad", [True, False], ids=["train", "infer"])
@pytest.mark.parametrize("kwargs, call", [({}, {}), (dict(num_layers=2, bidirectional=True), dict(lengths=[7, 3, 5]))])
def test_bf16_autocast_without_native_bf16_runs_the_fused_kernel(monkeypatch, grad, kwargs, call):
    """Where PyTorch's LSTM cannot run bf16 autocast (no AVX-512: torch.nn.LSTM fails there), every vanilla
    call under it runs the fused kernel with fp32 products, training or not, narrow or wide: the same numbers
    as the fp32 call."""
    if not fused.available():
        pytest.skip("the fused kernel could not be built here (no C++ compiler)")
    native_calls = _count_calls(monkeypatch, native, "lstm_stack")
    fused_calls = _count_calls(monkeypatch, fused, "lstm_layer")
    layer = lstmkit.LSTM(I, H, **kwargs)
    x = torch.randn(T, B, I)
    with torch.set_grad_enabled(grad):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out, (h_n, c_n) = layer(x, **call)
        assert native_calls == [] and len(fused_calls) == layer.num_layers * layer.num_directions
        expected, (h_expected, c_expected) = layer(x, **call)
    assert out.dtype == torch.float32
    for got, want in ((out, expected), (h_n, h_expected), (c_n, c_expected)):  # fp32 here, PyTorch's kernel there
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


@pytest.mark.skipif(_native_runs_bf16(), reason=NATIVE_RUNS_BF16)
def test_native_backend_refuses_bf16_autocast_without_native_bf16():
    """backend='native' under bf16 autocast, where PyTorch's LSTM cannot run it: one ConfigError saying so."""
    layer = lstmkit.LSTM(I, H, backend="native")
    with torch.autocast("cpu", dtype=torch.bfloat16), pytest.raises(ConfigError, match="no native bf16"):
        layer(torch.randn(T, B, I))


def test_bf16_autocast_vanilla_is_close_to_fp32():
    """A vanilla layer trains and infers under bf16 autocast on every CPU (PyTorch's kernel or lstmkit's, by
    what the CPU has), its output and gradients within bf16 accuracy of fp32."""
    layer = lstmkit.LSTM(I, H, num_layers=2)
    x = torch.randn(T, B, I)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, _ = layer(x)
        with torch.no_grad():
            inferred, _ = layer(x)
    out.float().sum().backward()
    grads = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    expected, _ = layer(x)
    expected.sum().backward()
    torch.testing.assert_close(out.float(), expected, atol=3e-2, rtol=0)  # bf16 operands: about 3 digits
    torch.testing.assert_close(inferred.float(), expected.detach(), atol=3e-2, rtol=0)
    for got, p in zip(grads, layer.parameters()):
        assert ((got - p.grad).norm() / p.grad.norm()).item() < 5e-2


@pytest.mark.parametrize(
    "kwargs, call",
    [
        (dict(peephole=True), {}),
        (dict(cifg=True), {}),
        (dict(layernorm=True), {}),
        (dict(zoneout=0.1), {}),
        (dict(recurrent_dropout=0.1), {}),
        (dict(weight_dropout=0.1), {}),
        ({}, dict(return_trace=True)),
    ],
)
def test_variants_regularisers_and_trace_run_the_reference_kernel(monkeypatch, kwargs, call):
    native_calls = _count_calls(monkeypatch, native, "lstm_stack")
    layer = lstmkit.LSTM(I, H, **kwargs).train()
    layer(torch.randn(T, B, I), **call)
    assert native_calls == []


def test_regularisers_in_eval_mode_run_the_native_kernel(monkeypatch):
    native_calls = _count_calls(monkeypatch, native, "lstm_stack")
    layer = lstmkit.LSTM(I, H, zoneout=0.1, recurrent_dropout=0.1, weight_dropout=0.1).eval()
    layer(torch.randn(T, B, I))
    assert native_calls == ["lstm_stack"]


def test_packed_sequence_input_matches_torch():
    ref = torch.nn.LSTM(I, H, 2, bidirectional=True)
    ours = lstmkit.LSTM.from_torch(ref)
    x = torch.randn(T, B, I)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, [7, 2, 5], enforce_sorted=False)
    (out_ref, _), (h_ref, c_ref) = torch.nn.utils.rnn.pad_packed_sequence(ref(packed)[0]), ref(packed)[1]
    packed_out, (h, c) = ours(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_out)
    for got, expected in ((out, out_ref), (h, h_ref), (c, c_ref)):
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "kwargs", [dict(peephole=True), dict(cifg=True), dict(zoneout=0.1), dict(layernorm=True), dict(proj_size=3, peephole=True)]
)
def test_supported_variants_run_the_fused_kernel(monkeypatch, kwargs):
    if not fused.available():
        pytest.skip("the fused kernel could not be built here (no C++ compiler)")
    fused_calls = _count_calls(monkeypatch, fused, "lstm_layer")
    reference_calls = _count_calls(monkeypatch, reference, "lstm_layer")
    lstmkit.LSTM(I, H, bidirectional=True, **kwargs).train()(torch.randn(T, B, I), lengths=[7, 3, 5])
    assert fused_calls == ["lstm_layer"] * 2 and reference_calls == []


def test_bf16_autocast_runs_the_fused_kernel(monkeypatch):
    """Variants under bf16 autocast go to the fused kernel (bf16 products, fp32 state), close to fp32."""
    if not fused.available():
        pytest.skip("the fused kernel could not be built here (no C++ compiler)")
    fused_calls = _count_calls(monkeypatch, fused, "lstm_layer")
    layer = lstmkit.LSTM(I, H, num_layers=2, peephole=True, layernorm=[False, True])
    x = torch.randn(T, B, I)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, (h_n, c_n) = layer(x)
    assert fused_calls == ["lstm_layer"] * 2
    assert out.dtype == torch.float32
    expected, (h_expected, c_expected) = layer(x)
    torch.testing.assert_close(out, expected, atol=3e-2, rtol=0)  # bf16 operands: about 3 significant digits
    torch.testing.assert_close(c_n, c_expected, atol=3e-2, rtol=0)


def test_cpu_autocast_dtype_and_native_bf16_flags():
    """`hardware.cpu_autocast_dtype` says which CPU autocast is in force; `cpu_has_native_bf16` reads the CPU's
    flags (AVX512-BF16 or AMX)."""
    assert hardware.cpu_autocast_dtype() is None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert hardware.cpu_autocast_dtype() == torch.bfloat16
    with torch.autocast("cpu", dtype=torch.float16):
        assert hardware.cpu_autocast_dtype() == torch.float16
    assert isinstance(hardware.cpu_has_native_bf16(), bool)
