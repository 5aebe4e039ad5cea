"""The anomaly detector's default search space for `lstmkit tune` (read by `lstmkit.tuning.space`).

The predictor's size, rate and batch as for forecasting (AutoLSTM's and Optuna's ranges), and its lookback.
Trials are compared on the validation part's prediction loss; the threshold is chosen afterwards, on the
same part, as a plain run chooses it.
"""

from ..job import LAYER_SPACE

SPACE = {
    "hidden": {"type": "int", "low": 8, "high": 128, "log": True},
    **LAYER_SPACE,
    "lr": {"type": "float", "low": 1e-4, "high": 3e-2, "log": True},
    "batch_size": {"type": "categorical", "choices": [16, 32, 64, 128]},
    "lookback": {"type": "int", "low": 8, "high": 96, "log": True},
}
