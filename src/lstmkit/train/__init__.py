"""The training machinery every job shares: the loop, optimisers, early stopping, checkpoints, progress.

The names below are imported on first use (`lstmkit._lazy`): the settings' declarations (`config`) need
no torch."""

from .._lazy import lazy_exports

_EXPORTS = {
    ".batches": ("Batches", "BucketedBatches", "PairBatches", "TensorBatches"),
    ".checkpoint": ("member_checkpoint",),
    ".config": ("TrainConfig",),
    ".loop": ("TrainResult", "fit", "evaluate_loss", "seed_everything"),
    ".precision": ("resolve_device", "resolve_precision"),
    ".progress": ("make_reporter",),
}
__all__ = [name for names in _EXPORTS.values() for name in names]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
