"""Default initialisation, and exact round trips with torch.nn.LSTM / torch.nn.LSTMCell."""

import math

import pytest
import torch

import lstmkit
from lstmkit.errors import ConfigError

I, H = 6, 16


@pytest.mark.parametrize("cifg", [False, True])
def test_forget_gate_bias_is_one_and_other_biases_zero(cifg):
    layer = lstmkit.LSTM(I, H, num_layers=2, bidirectional=True, cifg=cifg)
    forget = 0 if cifg else 1  # gate order i, f, g, o (f, g, o with cifg)
    for name, p in layer.named_parameters():
        if name.startswith("bias_"):
            total = getattr(layer, name.replace("bias_hh", "bias_ih")) + getattr(layer, name.replace("bias_ih", "bias_hh"))
            blocks = total.detach().view(-1, H)
            assert torch.all(blocks[forget] == 1.0)
            assert torch.count_nonzero(torch.cat([blocks[:forget], blocks[forget + 1 :]])) == 0


def test_recurrent_weights_are_orthogonal_per_gate():
    layer = lstmkit.LSTM(I, H, num_layers=2)
    for name in ("weight_hh_l0", "weight_hh_l1"):
        for block in getattr(layer, name).detach().split(H):
            torch.testing.assert_close(block @ block.T, torch.eye(H), atol=1e-5, rtol=0)


def test_input_weights_are_xavier_uniform_per_gate():
    layer = lstmkit.LSTM(64, 256)
    bound = math.sqrt(6.0 / (64 + 256))
    for block in layer.weight_ih_l0.detach().split(256):
        assert block.abs().max() <= bound
        assert abs(block.std().item() - bound / math.sqrt(3)) < 0.05 * bound  # uniform(-a, a) has std a/sqrt(3)


def test_variant_parameters_start_neutral():
    layer = lstmkit.LSTM(I, H, peephole=True, layernorm=True)
    for name in ("weight_ci_l0", "weight_cf_l0", "weight_co_l0", "ln_bias_c_l0"):
        assert torch.count_nonzero(getattr(layer, name)) == 0
    for name in ("ln_gain_ih_l0", "ln_gain_hh_l0", "ln_gain_c_l0"):
        assert torch.all(getattr(layer, name) == 1.0)


@pytest.mark.parametrize(
    "kwargs",
    [dict(num_layers=3, bidirectional=True, proj_size=5), dict(bias=False, batch_first=True, dropout=0.2, num_layers=2)],
)
def test_from_torch_and_back_is_exact(kwargs):
    module = torch.nn.LSTM(I, H, dtype=torch.float64, **kwargs)
    ours = lstmkit.LSTM.from_torch(module)
    assert list(ours.state_dict()) == list(module.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), module.state_dict().values()))
    assert ours.weight_ih_l0.dtype == torch.float64 and ours.batch_first == module.batch_first
    back = ours.to_torch()
    assert isinstance(back, torch.nn.LSTM) and back.proj_size == module.proj_size and back.dropout == module.dropout
    assert all(torch.equal(a, b) for a, b in zip(back.state_dict().values(), module.state_dict().values()))
    x = torch.randn(4, 3, I, dtype=torch.float64)
    module.eval(), ours.eval(), back.eval()
    assert torch.equal(back(x)[0], module(x)[0])


def test_to_torch_refuses_what_torch_lacks():
    with pytest.raises(ConfigError, match=r"^LSTM.to_torch: torch.nn.LSTM has no peephole, zoneout; only vanilla"):
        lstmkit.LSTM(I, H, peephole=True, zoneout=0.1).to_torch()


def test_from_torch_refuses_other_modules():
    with pytest.raises(ConfigError, match="expected a torch.nn.LSTM, got GRU"):
        lstmkit.LSTM.from_torch(torch.nn.GRU(I, H))


def test_cell_matches_torch_cell_and_round_trips():
    torch_cell = torch.nn.LSTMCell(I, H)
    cell = lstmkit.LSTMCell.from_torch(torch_cell)
    x, h, c = torch.randn(3, I), torch.randn(3, H), torch.randn(3, H)
    for got, expected in zip(cell(x, (h, c)), torch_cell(x, (h, c))):
        torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)
    for got, expected in zip(cell(x[0]), torch_cell(x[0])):  # unbatched
        torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)
    assert all(torch.equal(a, b) for a, b in zip(cell.to_torch().state_dict().values(), torch_cell.state_dict().values()))


@pytest.mark.parametrize("variant", [dict(peephole=True, layernorm=True), dict(cifg=True, proj_size=4, peephole=True)])
def test_cell_equals_one_step_of_the_layer(variant):
    layer = lstmkit.LSTM(I, H, **variant)
    cell = lstmkit.LSTMCell(I, H, **variant)
    cell.load_state_dict({name.removesuffix("_l0"): p for name, p in layer.state_dict().items()})
    x = torch.randn(5, 3, I)
    out, (h_n, c_n) = layer(x)
    h, c = None, None
    for t in range(5):
        h, c = cell(x[t], None if h is None else (h, c))
        torch.testing.assert_close(h, out[t], atol=1e-6, rtol=0)
    torch.testing.assert_close(c, c_n[0], atol=1e-6, rtol=0)
