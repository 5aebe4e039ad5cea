"""The sequence-to-sequence model's default search space for `lstmkit tune` (read by `lstmkit.tuning.space`).

Sizes and rates as OpenNMT's RNN recipes and Optuna's examples search them; the attention score and input
feeding are the choices Luong et al. compared. Trials compare on the validation loss (label-smoothed
cross-entropy per target token), so `level` and `label_smoothing`, which change what that loss measures,
are not searched: tune each level apart.
"""

from ..job import LAYER_SPACE

SPACE = {
    "hidden": {"type": "int", "low": 64, "high": 512, "step": 64},
    **LAYER_SPACE,
    "lr": {"type": "float", "low": 3e-4, "high": 5e-3, "log": True},
    "batch_size": {"type": "categorical", "choices": [32, 64, 128]},
    "attention": {"type": "categorical", "choices": ["dot", "general", "additive"]},
    "input_feed": {"type": "categorical", "choices": [True, False]},
}
