"""The classifier's default search space for `lstmkit tune` (read by `lstmkit.tuning.space`).

Sizes and rates as neuralforecast's AutoLSTM and Optuna's examples draw them (log-scaled); `arch` chooses
between the plain LSTM and the LSTM-FCN family (built for numeric sequences: a text study may narrow `arch`
to ["lstm"] in its --space file). A trial whose combination fails is recorded as failed; the study goes on.
"""

from ..job import LAYER_SPACE

SPACE = {
    "hidden": {"type": "int", "low": 16, "high": 256, "log": True},
    **LAYER_SPACE,
    "bidirectional": {"type": "categorical", "choices": [False, True]},
    "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "batch_size": {"type": "categorical", "choices": [16, 32, 64, 128]},
    "arch": {"type": "categorical", "choices": ["lstm", "lstm-fcn", "alstm-fcn"]},
}
