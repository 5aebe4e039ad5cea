"""Finite differences agree with autograd (float64) for every variant, lengths and both directions."""

import pytest
import torch
from torch.func import functional_call

import lstmkit
from conftest import randomize_

T, B, I, H = 4, 2, 3, 3

VARIANTS = {
    "vanilla": {},
    "peephole": dict(peephole=True),
    "cifg": dict(cifg=True),
    "layernorm": dict(layernorm=True),
    "peephole+cifg": dict(peephole=True, cifg=True),
    "peephole+layernorm": dict(peephole=True, layernorm=True),
    "cifg+layernorm+proj": dict(cifg=True, layernorm=True, proj_size=2),
    "all+proj": dict(peephole=True, cifg=True, layernorm=True, proj_size=2),
    "per-layer flags": dict(num_layers=2, peephole=[True, False], layernorm=[False, True]),
}


def _gradcheck(layer, *, lengths=None, seed=None, **call):
    """gradcheck with respect to the input, the initial state and every parameter."""
    layer = randomize_(layer.double())
    names = [name for name, _ in layer.named_parameters()]
    D = 2 if layer.bidirectional else 1
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layer.num_layers * D, B, layer.output_size, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(layer.num_layers * D, B, H, dtype=torch.float64, requires_grad=True)
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]

    def f(x, h0, c0, *params):
        if seed is not None:  # the same random masks at every evaluation
            torch.manual_seed(seed)
        out, (h_n, c_n) = functional_call(layer, dict(zip(names, params)), (x, (h0, c0)), {"lengths": lengths, **call})
        return out, h_n, c_n

    assert torch.autograd.gradcheck(f, (x, h0, c0, *params), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_gradcheck_variant(name):
    kwargs = dict(VARIANTS[name])
    _gradcheck(lstmkit.LSTM(I, H, backend="reference", **kwargs))


def test_gradcheck_bidirectional_two_layers():
    _gradcheck(lstmkit.LSTM(I, H, num_layers=2, bidirectional=True, peephole=True, backend="reference"))


def test_gradcheck_lengths_bidirectional():
    _gradcheck(lstmkit.LSTM(I, H, bidirectional=True, layernorm=True), lengths=torch.tensor([4, 2]))


@pytest.mark.parametrize(
    "regulariser", [dict(zoneout=0.3), dict(zoneout=(0.2, 0.5)), dict(recurrent_dropout=0.3), dict(weight_dropout=0.3)]
)
def test_gradcheck_regularisers_in_training(regulariser):
    _gradcheck(lstmkit.LSTM(I, H, num_layers=2, dropout=0.3, **regulariser).train(), seed=7)
