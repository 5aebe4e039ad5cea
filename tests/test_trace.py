"""The gate trace: i, f, g, o and c of every step, from the very computation that made the output."""

import pytest
import torch

import lstmkit
from conftest import randomize_

T, B, I, H = 8, 3, 4, 5


def _previous(c, c0, reverse):
    """c_{t-1} in processing order, for every t, as a (T, B, H) tensor."""
    if reverse:
        return torch.cat([c[1:], c0.unsqueeze(0)])
    return torch.cat([c0.unsqueeze(0), c[:-1]])


@pytest.mark.parametrize("bidirectional", [False, True])
def test_trace_recomputes_cell_state_and_output(bidirectional):
    layer = randomize_(lstmkit.LSTM(I, H, num_layers=2, bidirectional=bidirectional).double())
    D = layer.num_directions
    x = torch.randn(T, B, I, dtype=torch.float64)
    h0 = torch.randn(2 * D, B, H, dtype=torch.float64)
    c0 = torch.randn(2 * D, B, H, dtype=torch.float64)
    out, (h_n, c_n), trace = layer(x, (h0, c0), return_trace=True)

    assert len(trace) == 2 and all(len(per_layer) == D for per_layer in trace)
    for layer_index, per_layer in enumerate(trace):
        for d, gates in enumerate(per_layer):
            assert all(v.shape == (T, B, H) for v in gates)
            index = layer_index * D + d
            c_prev = _previous(gates.c, c0[index], reverse=d == 1)
            torch.testing.assert_close(gates.c, gates.f * c_prev + gates.i * gates.g, atol=1e-6, rtol=0)
            h = gates.o * torch.tanh(gates.c)
            last = 0 if d == 1 else T - 1
            torch.testing.assert_close(h[last], h_n[index], atol=1e-6, rtol=0)
            torch.testing.assert_close(gates.c[last], c_n[index], atol=1e-6, rtol=0)
            if layer_index == 1:
                torch.testing.assert_close(h, out[..., d * H : (d + 1) * H], atol=1e-6, rtol=0)


def test_trace_output_equals_output_without_trace():
    layer = lstmkit.LSTM(I, H, num_layers=2, bidirectional=True)
    x = torch.randn(T, B, I)
    out, state, _ = layer(x, return_trace=True)
    out_plain, state_plain = layer(x)  # the native kernel
    torch.testing.assert_close(out, out_plain, atol=1e-5, rtol=0)
    torch.testing.assert_close(state, state_plain, atol=1e-5, rtol=0)


def test_trace_is_zero_past_each_length():
    layer = lstmkit.LSTM(I, H, bidirectional=True)
    lengths = [8, 3, 5]
    _, _, trace = layer(torch.randn(T, B, I), lengths=lengths, return_trace=True)
    for gates in trace[0]:
        for b, length in enumerate(lengths):
            assert all(torch.count_nonzero(v[length:, b]) == 0 for v in gates)
            assert torch.all(gates.f[:length, b] > 0)


def test_trace_layout_is_time_major_with_batch_first():
    layer = lstmkit.LSTM(I, H, batch_first=True)
    _, _, trace = layer(torch.randn(B, T, I), return_trace=True)
    assert trace[0][0].f.shape == (T, B, H)
