"""The variants compute what their equations say."""

import pytest
import torch

import lstmkit
from conftest import randomize_

T, B, I, H = 6, 4, 5, 7


def test_cifg_input_gate_is_exactly_one_minus_forget_gate():
    layer = randomize_(lstmkit.LSTM(I, H, num_layers=2, cifg=True, bidirectional=True))
    _, _, trace = layer(torch.randn(T, B, I), return_trace=True)
    for per_layer in trace:
        for gates in per_layer:
            assert torch.equal(gates.i, 1.0 - gates.f)


def test_cifg_has_no_input_gate_weights():
    layer = lstmkit.LSTM(I, H, cifg=True, peephole=True)
    assert layer.weight_ih_l0.shape == (3 * H, I) and layer.weight_hh_l0.shape == (3 * H, H)
    assert not hasattr(layer, "weight_ci_l0") and layer.weight_cf_l0.shape == (H,)


def test_peephole_with_zero_peephole_weights_equals_vanilla():
    vanilla = randomize_(lstmkit.LSTM(I, H, num_layers=2, bidirectional=True))
    peephole = lstmkit.LSTM(I, H, num_layers=2, bidirectional=True, peephole=True)
    missing, unexpected = peephole.load_state_dict(vanilla.state_dict(), strict=False)
    assert not unexpected and all(name.startswith(("weight_ci", "weight_cf", "weight_co")) for name in missing)
    assert all(torch.count_nonzero(getattr(peephole, name)) == 0 for name in missing)  # the default
    x = torch.randn(T, B, I)
    torch.testing.assert_close(peephole(x)[0], vanilla(x)[0], atol=1e-6, rtol=0)
    with torch.no_grad():
        peephole.weight_co_l1.fill_(0.5)
    assert not torch.allclose(peephole(x)[0], vanilla(x)[0], atol=1e-3)


def _logit(p):
    return torch.log(p) - torch.log1p(-p)


def _preactivations(gates):
    """Invert the gate nonlinearities: the (T, B, 4H) pre-activations the trace came from."""
    return torch.cat([_logit(gates.i), _logit(gates.f), torch.atanh(gates.g), _logit(gates.o)], dim=-1)


def _layernorm_layer():
    layer = randomize_(lstmkit.LSTM(I, H, layernorm=True).double())
    with torch.no_grad():  # gains one and shifts zero: what is left is the normalisation itself
        for name in ("bias_ih_l0", "bias_hh_l0", "ln_bias_c_l0"):
            getattr(layer, name).zero_()
        for name in ("ln_gain_ih_l0", "ln_gain_hh_l0", "ln_gain_c_l0"):
            getattr(layer, name).fill_(1.0)
    return layer


def _assert_standardised(rows):
    """Mean 0 and variance 1 per row; the variance is v / (v + eps) with LayerNorm's eps = 1e-5."""
    variance = rows.var(-1, unbiased=False)
    torch.testing.assert_close(rows.mean(-1), torch.zeros_like(rows[..., 0]), atol=1e-6, rtol=0)
    torch.testing.assert_close(variance, torch.ones_like(variance), atol=1e-3, rtol=0)
    assert torch.all(variance <= 1.0)


@pytest.mark.parametrize("path", ["input", "recurrent"])
def test_layernorm_normalises_each_preactivation_row(path):
    layer = _layernorm_layer()
    with torch.no_grad():  # silence the other path: LN of an all-zero row is zero
        (layer.weight_hh_l0 if path == "input" else layer.weight_ih_l0).zero_()
    x = torch.randn(T, B, I, dtype=torch.float64)
    state = (torch.randn(1, B, H, dtype=torch.float64), torch.randn(1, B, H, dtype=torch.float64))
    _, _, trace = layer(x, state, return_trace=True)
    _assert_standardised(_preactivations(trace[0][0]))


def test_layernorm_normalises_the_cell_state_before_tanh():
    layer = _layernorm_layer()
    out, _, trace = layer(torch.randn(T, B, I, dtype=torch.float64), return_trace=True)
    normalised_c = torch.atanh(out / trace[0][0].o)  # h = o * tanh(LN(c))
    _assert_standardised(normalised_c)
    assert not torch.allclose(normalised_c, trace[0][0].c)


@pytest.mark.parametrize(
    "kwargs",
    [dict(peephole=True, cifg=True, layernorm=True, proj_size=3), dict(cifg=True, proj_size=2, bidirectional=True)],
)
def test_combined_variants_run_and_train(kwargs):
    layer = lstmkit.LSTM(I, H, num_layers=2, **kwargs)
    out, (h_n, c_n) = layer(torch.randn(T, B, I))
    P = kwargs.get("proj_size") or H
    D = layer.num_directions
    assert out.shape == (T, B, D * P) and h_n.shape == (2 * D, B, P) and c_n.shape == (2 * D, B, H)
    out.sum().backward()
    assert all(p.grad is not None and torch.count_nonzero(p.grad) > 0 for p in layer.parameters())


def test_variant_flags_can_differ_per_layer():
    layer = lstmkit.LSTM(I, H, num_layers=3, peephole=[True, False, True], layernorm=[False, False, True])
    assert [s.peephole for s in layer.specs] == [True, False, True]
    assert hasattr(layer, "weight_cf_l0") and not hasattr(layer, "weight_cf_l1") and hasattr(layer, "ln_gain_c_l2")
