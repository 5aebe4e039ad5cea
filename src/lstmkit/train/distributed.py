"""Data-parallel training on PyTorch's distributed engine: `torch.distributed` and DistributedDataParallel.

A run is distributed when it starts under `torchrun` (or `lstmkit train ... --nproc N`, which starts the same
through torch's elastic launcher): the environment then names this process's `RANK` in a `WORLD_SIZE`, and
`context()` joins the process group (gloo on CPU, NCCL on GPUs) through torch's `env://` rendezvous.

How the work is split, the same for every job and every kind of batch (`train/batches.py`):
- Every rank reads the data and draws the same *global* batches from the run's seeded generator, so the
  shuffle differs per epoch and matches between ranks. `batch_size` is the global batch: the examples of one
  optimiser step, whatever the number of processes, so a run's settings mean the same under any N and a
  checkpoint resumes under another N with the same batches, in the same order.
- Rank r takes the r-th of N near-equal contiguous slices of each batch (`shard`): windows, sequences or
  pairs by row, the language model's parallel streams by stream (each rank carries its own streams' state).
  All ranks take the same number of steps, so they stay in step.
- Each rank's loss is the mean over its slice; scaled by N * (its examples) / (the batch's examples) before
  DistributedDataParallel averages the gradients, it gives exactly the gradient of the mean over the whole
  batch. A rank whose slice holds no example reads the whole batch with scale 0 (its gradient is zero, yet
  it joins the reduction, as DDP needs).
- Losses (train and validation) are sums of loss x examples, reduced over the ranks, then divided once: no
  example is dropped or counted twice.
- The decision to stop (early stopping, the time budget, the last epoch) is rank 0's, broadcast each epoch,
  so all ranks stop together. Only rank 0 writes (checkpoints, history, metrics, the report) and shows
  progress.

Batch normalisation takes its statistics over each rank's slice (DDP's default), and each rank draws its own
dropout masks (`epoch_seed`), so such networks train slightly differently under N processes; every other
network matches one process up to the order of floating-point sums.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor, nn

from ..errors import ConfigError, PeerLost, RendezvousError

# how long a collective (or joining the group) may wait for the other ranks before the run stops: a rank
# that dies is usually noticed at once (its connection closes); one that hangs, after this
TIMEOUT_ENV = "LSTMKIT_DIST_TIMEOUT"
DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Context:
    """This process's place in the run: rank 0 of 1 when not distributed."""

    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def writes(self) -> bool:
        """Whether this process writes files and shows progress: rank 0 only."""
        return self.rank == 0


def env_world() -> tuple[int, int]:
    """(rank, world size) as torchrun's environment gives them; (0, 1) outside it."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
    except ValueError:
        raise ConfigError(f"WORLD_SIZE and RANK must be whole numbers, got {os.environ.get('WORLD_SIZE')!r} "
                          f"and {os.environ.get('RANK')!r}") from None  # fmt: skip
    return rank, world


def timeout() -> datetime.timedelta:
    raw = os.environ.get(TIMEOUT_ENV, "")
    try:
        seconds = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV} must be a number of seconds, got {raw!r}") from None
    return datetime.timedelta(seconds=seconds)


def context(device: str = "cpu") -> Context:
    """This process's `Context`, joining the process group first when torchrun started it and nobody has."""
    rank, world = env_world()
    if world <= 1:
        return Context()
    import torch.distributed as dist

    if not dist.is_available():
        raise ConfigError("this PyTorch build has no torch.distributed, so it cannot train under torchrun")
    if device == "cuda":  # one GPU per process: the one of its local rank on its node
        local, gpus = int(os.environ.get("LOCAL_RANK", "0") or 0), torch.cuda.device_count()
        if local >= gpus:
            raise RendezvousError(f"rank {rank} is local rank {local} of its node, which has {gpus} GPU(s): start at "
                                  "most one process per GPU on each node")  # fmt: skip
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        backend = "nccl" if device == "cuda" else "gloo"
        try:
            with _native_stderr_muted():  # c10d logs each failed attempt itself; the error below says it once
                dist.init_process_group(backend, timeout=timeout())
        except (RuntimeError, ValueError, OSError) as error:  # a port in use, an unreachable rendezvous
            raise RendezvousError(f"cannot join the distributed run as rank {rank} of {world} at "
                              f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}: "
                              f"{first_line(error)}") from None  # fmt: skip
    return Context(dist.get_rank(), dist.get_world_size())


@contextlib.contextmanager
def _native_stderr_muted():
    """File descriptor 2 sent to /dev/null for a while: what C++ code writes there, Python's too."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


# what gloo, NCCL and c10d say when a peer is gone or silent (they raise plain RuntimeErrors as well as DistError)
_PEER_GONE = ("gloo", "nccl", "c10d", "connection reset", "connection closed", "broken pipe", "timed out")


def lost_peer(error: BaseException) -> bool:
    """Whether `error`, met inside a distributed run's collective (also the gradients' reduction inside
    DDP's backward), says that another process of the run is gone or hung."""
    import torch.distributed as dist

    if isinstance(error, getattr(dist, "DistError", ())):
        return True
    return isinstance(error, RuntimeError) and any(word in str(error).lower() for word in _PEER_GONE)


def guarded(call):
    """Run one collective; a peer that died or hung becomes `PeerLost`, in one line."""
    try:
        return call()
    except Exception as error:
        if lost_peer(error):
            raise peer_lost(error) from None
        raise


def peer_lost(error: BaseException) -> PeerLost:
    return PeerLost(f"another process of the distributed run stopped ({first_line(error)}); the last checkpoint "
                    "is kept: run the same command with `resume` to continue")  # fmt: skip


def all_sum(values: list[float], ctx: Context) -> list[float]:
    """The sums over every rank of these numbers (float64, one reduction)."""
    if not ctx.active:
        return values
    import torch.distributed as dist

    tensor = torch.tensor(values, dtype=torch.float64)
    guarded(lambda: dist.all_reduce(tensor))
    return tensor.tolist()


def from_rank_zero(value: int, ctx: Context) -> int:
    """Rank 0's value of a small whole number, on every rank."""
    if not ctx.active:
        return value
    import torch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.int64)
    guarded(lambda: dist.broadcast(tensor, 0))
    return int(tensor.item())


def object_from_rank_zero(value, ctx: Context):
    """Rank 0's value of a picklable object, on every rank."""
    if not ctx.active:
        return value
    import torch.distributed as dist

    box = [value]
    guarded(lambda: dist.broadcast_object_list(box, 0))
    return box[0]


def shard(batch: tuple[Tensor, ...], weight_of, ctx: Context) -> tuple[tuple[Tensor, ...], int]:
    """This rank's slice of a global batch and its examples: every tensor whose first dimension is the batch's
    rows is cut into `ctx.world` near-equal contiguous slices; the others (a scalar flag) are kept whole."""
    rows = batch[0].shape[0]
    start, stop = slice_bounds(rows, ctx)
    part = tuple(t[start:stop] if t.dim() and t.shape[0] == rows else t for t in batch)
    return part, (weight_of(part) if stop > start else 0)


def slice_bounds(rows: int, ctx: Context) -> tuple[int, int]:
    """[start, stop) of rank `ctx.rank`'s slice of `rows` rows: the first rows % world slices one longer."""
    base, extra = divmod(rows, ctx.world)
    start = ctx.rank * base + min(ctx.rank, extra)
    return start, start + base + (ctx.rank < extra)


class LossModule(nn.Module):
    """The job's loss as a module around its model, so DistributedDataParallel sees every forward the loss
    makes (a loss may call the model's parts, not only its forward) and reduces their gradients."""

    def __init__(self, model: nn.Module, loss_fn):
        super().__init__()
        self.model, self.loss_fn = model, loss_fn

    def forward(self, *batch: Tensor) -> Tensor:
        return self.loss_fn(self.model, batch)


def data_parallel(model: nn.Module, loss_fn, ctx: Context, device: torch.device) -> Optional[nn.Module]:
    """DistributedDataParallel over the loss of `model` (which keeps its own parameters), or None alone.
    `static_graph`: every step uses the same parameters (a job's loss has no branch that skips one), so DDP
    learns after the first step which ones a loss leaves unused, without searching the graph every step."""
    if not ctx.active:
        return None
    from torch.nn.parallel import DistributedDataParallel

    ids = [torch.cuda.current_device()] if device.type == "cuda" else None
    return guarded(lambda: DistributedDataParallel(LossModule(model, loss_fn), device_ids=ids, static_graph=True))


def epoch_seed(seed: int, epoch: int, ctx: Context) -> int:
    """The seed of torch's own generator for one epoch of one process (the shuffle has its own generator,
    the same in every process)."""
    return ((seed * 1_000_003 + epoch) * 1_009 + ctx.rank) % 2**63
