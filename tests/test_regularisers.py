"""Dropouts and zoneout act in training mode only; eval mode is the plain, deterministic layer."""

import pytest
import torch

import lstmkit
from conftest import randomize_

T, B, I, H = 10, 4, 3, 8

REGULARISERS = {
    "dropout": dict(dropout=0.3),
    "recurrent_dropout": dict(recurrent_dropout=0.3),
    "zoneout": dict(zoneout=0.3),
    "weight_dropout": dict(weight_dropout=0.3),
}


@pytest.mark.parametrize("name", list(REGULARISERS))
def test_regulariser_changes_training_outputs_and_not_eval_outputs(name):
    plain = randomize_(lstmkit.LSTM(I, H, num_layers=2))
    regularised = lstmkit.LSTM(I, H, num_layers=2, **REGULARISERS[name])
    regularised.load_state_dict(plain.state_dict())
    x = torch.randn(T, B, I)

    regularised.train()
    first, second = regularised(x)[0], regularised(x)[0]
    assert not torch.allclose(first, second)  # a fresh random draw each call
    assert not torch.allclose(first, plain(x)[0])

    regularised.eval()
    first, second = regularised(x)[0], regularised(x)[0]
    assert torch.equal(first, second)
    torch.testing.assert_close(first, plain.eval()(x)[0], atol=1e-6, rtol=0)


def test_zoneout_units_either_keep_their_value_or_take_the_update():
    layer = randomize_(lstmkit.LSTM(I, H, zoneout=(0.0, 0.5))).train()
    _, _, trace = layer(torch.randn(T, B, I), return_trace=True)
    g = trace[0][0]
    c_prev = torch.cat([torch.zeros(1, B, H), g.c[:-1]])
    kept = g.c == c_prev
    updated = torch.isclose(g.c, g.f * c_prev + g.i * g.g, atol=1e-6, rtol=0)
    assert torch.all(kept | updated)
    assert 0.3 < kept[1:].float().mean() < 0.7  # about half the units keep their value at each step


def test_recurrent_dropout_mask_is_the_same_at_every_step():
    layer = randomize_(lstmkit.LSTM(I, 16, recurrent_dropout=0.5)).train()
    h0 = torch.randn(1, 1, 16, requires_grad=True)
    out, _ = layer(torch.randn(T, 1, I), (h0, torch.zeros(1, 1, 16)))
    out.sum().backward()
    # h_{t-1} reaches weight_hh's column j only through unit j of the mask: a column with no gradient at
    # all means unit j was dropped at every step, and then h_0's unit j gets no gradient either
    dropped = (layer.weight_hh_l0.grad == 0).all(dim=0)  # (H,)
    assert 0 < int(dropped.sum()) < 16
    assert torch.equal(h0.grad[0, 0] == 0, dropped)
