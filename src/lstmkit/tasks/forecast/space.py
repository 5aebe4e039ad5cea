"""The forecaster's default search space for `lstmkit tune` (read by `lstmkit.tuning.space`).

Ranges as practice uses them: neuralforecast's AutoLSTM searches hidden sizes 50-300, 1-4 layers, the
learning rate log-uniform in [1e-4, 1e-1], batches of 16 or 32 and an input size of a few horizons; Optuna's
examples draw the rate log-uniform and the sizes log-scaled. A lookback longer than a short series' training
part allows fails that trial (recorded as failed), and the study goes on.
"""

SPACE = {
    "hidden": {"type": "int", "low": 16, "high": 256, "log": True},
    "layers": {"type": "int", "low": 1, "high": 3},
    "variant": {"type": "categorical", "choices": ["vanilla", "peephole", "cifg", "layernorm"]},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "lr": {"type": "float", "low": 1e-4, "high": 3e-2, "log": True},
    "batch_size": {"type": "categorical", "choices": [16, 32, 64, 128]},
    "lookback": {"type": "int", "low": 8, "high": 96, "log": True},
    "base": {"type": "categorical", "choices": ["naive2", "snaive", "none"]},  # the hybrid's statistical start
}
