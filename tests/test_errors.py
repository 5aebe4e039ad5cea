"""Bad input at the layer's boundary gets one message: what was expected, what came, what to do."""

import re

import pytest
import torch

import lstmkit
from lstmkit.cli_options import flag
from lstmkit.errors import ConfigError, ShapeError

LAYER = lstmkit.LSTM(8, 16, num_layers=2)


def _raises(error, message, call):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_two_dimensional_input():
    _raises(
        ShapeError,
        "lstmkit.LSTM expected input of 3 dimensions, (T, B, I) = (time steps, batch, features) with I = input_size = 8, "
        "but got 2 dimensions, shape (20, 8); for a single sequence of shape (T, I), add a batch dimension with x.unsqueeze(1)",
        lambda: LAYER(torch.randn(20, 8)),
    )


def test_two_dimensional_input_batch_first():
    _raises(
        ShapeError,
        "lstmkit.LSTM expected input of 3 dimensions, (B, T, I) = (batch, time steps, features) with I = input_size = 8 "
        "(batch_first=True), but got 2 dimensions, shape (20, 8); for a single sequence of shape (T, I), "
        "add a batch dimension with x.unsqueeze(0)",
        lambda: lstmkit.LSTM(8, 16, batch_first=True)(torch.randn(20, 8)),
    )


def test_feature_size_different_from_input_size():
    _raises(
        ShapeError,
        "lstmkit.LSTM expected input of layout (T, B, I) = (time steps, batch, features) with I = input_size = 8 "
        "in the last dimension, but got shape (20, 4, 5) with 5; pass 8 features per step or build the layer "
        "with input_size=5",
        lambda: LAYER(torch.randn(20, 4, 5)),
    )


def test_features_in_the_wrong_axis_suggest_a_permute():
    with pytest.raises(ShapeError, match=re.escape("dimension 1 has size 8: if that is your feature axis, permute")):
        LAYER(torch.randn(4, 8, 20))


def test_integer_input():
    _raises(
        ShapeError,
        "lstmkit.LSTM expected a floating-point input, got dtype torch.int64; convert it with x.float()",
        lambda: LAYER(torch.ones(20, 4, 8, dtype=torch.int64)),
    )


def test_input_dtype_different_from_weights():
    _raises(
        ShapeError,
        "lstmkit.LSTM got input of dtype torch.float64 but its weights are torch.float32; convert one to the other "
        "(for example layer.to(torch.float64) or x.to(torch.float32))",
        lambda: LAYER(torch.randn(20, 4, 8, dtype=torch.float64)),
    )


def test_empty_input():
    _raises(
        ShapeError,
        "lstmkit.LSTM got an empty input of shape (0, 4, 8); layout is (T, B, I) = (time steps, batch, features)",
        lambda: LAYER(torch.randn(0, 4, 8)),
    )


@pytest.mark.parametrize(
    "lengths, message",
    [
        ([1, 2, 3], "expected lengths of shape (B,) = (4,), one length per sequence in the batch, got shape (3,)"),
        ([1, 2, 3, 21], "expected every length between 1 and T = 20 time steps, got 21 for sequence 3"),
        ([1, 0, 3, 4], "expected every length between 1 and T = 20 time steps, got 0 for sequence 1"),
        ([1.0, 2.0, 3.0, 4.0], "expected integer lengths, got dtype torch.float32"),
    ],
)
def test_bad_lengths(lengths, message):
    _raises(ShapeError, "lstmkit.LSTM " + message, lambda: LAYER(torch.randn(20, 4, 8), lengths=lengths))


def test_initial_state_of_the_wrong_shape():
    _raises(
        ShapeError,
        "lstmkit.LSTM expected h_0 of shape (num_layers * num_directions, batch, proj_size or hidden_size) = "
        "(2, 4, 16), got (1, 4, 16)",
        lambda: LAYER(torch.randn(20, 4, 8), (torch.zeros(1, 4, 16), torch.zeros(2, 4, 16))),
    )
    _raises(
        ShapeError,
        "lstmkit.LSTM expected the initial state as a pair (h_0, c_0) of tensors, got Tensor",
        lambda: LAYER(torch.randn(20, 4, 8), torch.zeros(2, 4, 16)),
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(proj_size=16), "proj_size must be an integer in [0, hidden_size=16), got 16"),
        (dict(hidden_size=0), "hidden_size must be a positive integer, got 0"),
        (dict(zoneout=1.0), "zoneout must be a number in [0, 1), got 1.0"),
        (dict(recurrent_dropout=-0.1), "recurrent_dropout must be a number in [0, 1), got -0.1"),
        (dict(num_layers=2, peephole=[True]), "peephole must be True/False or a list of 2 booleans (one per layer), got [True]"),
        (dict(backend="fast"), "backend must be one of auto, native, fused, reference, got 'fast'"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    kwargs = {"input_size": 8, "hidden_size": 16, **kwargs}
    _raises(ConfigError, "lstmkit.LSTM: " + message, lambda: lstmkit.LSTM(**kwargs))


def test_native_backend_refuses_a_variant():
    _raises(
        ConfigError,
        "backend='native' runs plain vanilla LSTMs only, and this call uses peephole, the gate trace; "
        "use backend='auto' (or 'fused' or 'reference')",
        lambda: lstmkit.LSTM(8, 16, peephole=True, backend="native")(torch.randn(3, 2, 8), return_trace=True),
    )


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        LAYER(torch.randn(20, 8))


def test_cell_input_of_the_wrong_shape():
    _raises(
        ShapeError,
        "lstmkit.LSTMCell expected input of shape (B, I) or (I,) with I = input_size = 8, got (3, 2, 8); "
        "for whole sequences use lstmkit.LSTM",
        lambda: lstmkit.LSTMCell(8, 16)(torch.randn(3, 2, 8)),
    )


@pytest.mark.parametrize("estimator", ["Forecaster", "SequenceClassifier", "LanguageModel", "AnomalyDetector"])
def test_an_unknown_variant_is_refused_before_any_data_is_read(estimator):
    from lstmkit.nn import variant_flags

    assert variant_flags("vanilla") == {} and variant_flags("cifg") == {"cifg": True}
    args = ("target",) if estimator == "Forecaster" else ()
    model = getattr(lstmkit, estimator)(*args, variant="peepholes")
    with pytest.raises(ConfigError) as info:
        model.fit("no-such-file.csv")
    # Python names the parameter, the command line its flag
    assert str(info.value) == "variant must be vanilla, peephole, cifg or layernorm, got 'peepholes'"
    assert info.value.for_command_line(flag) == "--variant must be vanilla, peephole, cifg or layernorm, got 'peepholes'"
