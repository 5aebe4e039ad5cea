"""The forecaster's default search space for `lstmkit tune` (read by `lstmkit.tuning.space`).

Ranges as practice uses them: neuralforecast's AutoLSTM searches hidden sizes 50-300, 1-4 layers, the
learning rate log-uniform in [1e-4, 1e-1], batches of 16 or 32 and an input size of a few horizons; Optuna's
examples draw the rate log-uniform and the sizes log-scaled. Before any trial, the lookback's upper end is
lowered to what a short series' training part allows (`tuning.space.fitted_to_data`).
"""

from ..job import LAYER_SPACE

SPACE = {
    "hidden": {"type": "int", "low": 16, "high": 256, "log": True},
    **LAYER_SPACE,
    "lr": {"type": "float", "low": 1e-4, "high": 3e-2, "log": True},
    "batch_size": {"type": "categorical", "choices": [16, 32, 64, 128]},
    "lookback": {"type": "int", "low": 8, "high": 96, "log": True},
    # the hybrid's statistical start (auto, the default, picks among ets, naive2 and snaive), and whether the
    # network reads the ETS forecast beside the window
    "base": {"type": "categorical", "choices": ["auto", "ets", "naive2", "snaive", "none"]},
    "ets_input": {"type": "categorical", "choices": ["auto", "yes", "no"]},
}
