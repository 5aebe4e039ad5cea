"""Variable-length batches: each sequence computes as if it ran alone, unpadded."""

import pytest
import torch

import lstmkit
from conftest import randomize_

T, B, I, H = 9, 4, 3, 5
LENGTHS = [9, 4, 1, 6]


@pytest.mark.parametrize("backend", ["auto", "reference"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("variant", [{}, dict(peephole=True, layernorm=True)])
def test_each_sequence_equals_running_it_alone(backend, bidirectional, batch_first, variant):
    if backend == "auto" and variant:
        backend = "reference"  # variants always run the reference kernel; nothing extra to cover
    layer = randomize_(lstmkit.LSTM(I, H, 2, bidirectional=bidirectional, batch_first=batch_first, **variant))
    layer.backend = backend
    D = layer.num_directions
    x = torch.randn(B, T, I) if batch_first else torch.randn(T, B, I)
    h0, c0 = torch.randn(2 * D, B, H), torch.randn(2 * D, B, H)
    out, (h_n, c_n) = layer(x, (h0, c0), lengths=torch.tensor(LENGTHS))

    for b, length in enumerate(LENGTHS):
        alone = x[b : b + 1, :length] if batch_first else x[:length, b : b + 1]
        out_b, (h_b, c_b) = layer(alone, (h0[:, b : b + 1], c0[:, b : b + 1]))
        got = out[b : b + 1, :length] if batch_first else out[:length, b : b + 1]
        padding = out[b, length:] if batch_first else out[length:, b]
        torch.testing.assert_close(got, out_b, atol=1e-5, rtol=0)
        torch.testing.assert_close(h_n[:, b : b + 1], h_b, atol=1e-5, rtol=0)
        torch.testing.assert_close(c_n[:, b : b + 1], c_b, atol=1e-5, rtol=0)
        assert torch.count_nonzero(padding) == 0


def test_full_lengths_equal_no_lengths():
    layer = lstmkit.LSTM(I, H, bidirectional=True)
    x = torch.randn(T, B, I)
    torch.testing.assert_close(layer(x, lengths=[T] * B)[0], layer(x)[0])


def test_gradient_does_not_reach_padding():
    layer = lstmkit.LSTM(I, H, bidirectional=True, peephole=True)
    x = torch.randn(T, B, I, requires_grad=True)
    out, (h_n, c_n) = layer(x, lengths=LENGTHS)
    (out.sum() + h_n.sum() + c_n.sum()).backward()
    for b, length in enumerate(LENGTHS):
        assert torch.count_nonzero(x.grad[length:, b]) == 0
        assert torch.count_nonzero(x.grad[:length, b]) > 0
