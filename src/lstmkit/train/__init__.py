"""The training machinery every job shares: the loop, optimisers, early stopping, checkpoints, progress."""

from .batches import Batches, BucketedBatches, TensorBatches
from .checkpoint import member_checkpoint
from .config import TrainConfig
from .loop import TrainResult, evaluate_loss, fit, seed_everything
from .precision import resolve_device, resolve_precision
from .progress import make_reporter

__all__ = ["Batches", "BucketedBatches", "TensorBatches", "TrainConfig", "TrainResult", "fit", "evaluate_loss", "member_checkpoint",
           "seed_everything", "make_reporter", "resolve_device", "resolve_precision"]  # fmt: skip
