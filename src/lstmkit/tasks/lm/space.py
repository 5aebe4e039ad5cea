"""The language model's default search space for `lstmkit tune` (read by `lstmkit.tuning.space`).

Sizes and rates as AWD-LSTM's and Optuna's examples search them; `bptt` log-scaled from 16 to 256 steps.
`level` is a setting but not in the default space: trials are compared on their validation loss, which is
per character at one level and per word at the other, so the two do not compare; tune each level apart.
"""

from ..job import LAYER_SPACE

SPACE = {
    "hidden": {"type": "int", "low": 64, "high": 512, "log": True},
    **LAYER_SPACE,
    "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "batch_size": {"type": "categorical", "choices": [16, 32, 64]},
    "bptt": {"type": "int", "low": 16, "high": 256, "log": True},
}
