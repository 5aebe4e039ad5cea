"""A vanilla lstmkit.LSTM computes exactly what torch.nn.LSTM computes, forward and backward."""

import itertools

import pytest
import torch

import lstmkit
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
    gradient, below that width or with backend='native' it runs PyTorch's; and both give the same numbers."""
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
    bf16 = fused.bf16_products()
    assert fused_calls == ["lstm_layer"] * (4 if bf16 else 2) and len(native_calls) == (3 if bf16 else 4)


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
