"""The training loop every job shares.

One epoch: shuffle the training examples with the run's own generator, take mini-batches, compute the
job's loss under the chosen precision, clip the gradient norm, step the optimiser; then the validation
loss, the learning-rate schedule, early stopping (keeping the best weights) and, when `checkpoint_every`
seconds have passed since the last one and always at the epoch that ends the run, an atomic checkpoint of
everything needed to resume (model, optimiser, schedule, random states, history, early-stopping state).
Each training step runs on the threads `ThreadGovernor` chooses (`threads.py`): a fixed `threads`, or per
step from the work and the machine's load. Under torchrun each process trains its slice of every batch
through DistributedDataParallel (`distributed.py`); only rank 0 checkpoints and reports.

A checkpoint is the whole state of the loop at the end of its epoch: resuming from it replays the epochs
after it exactly, so a run killed at any moment resumes to the result of an uninterrupted one and loses at
most `checkpoint_every` seconds of work (and the epoch under way). A time budget (`max_time`) counts each
epoch of the result once, so it stops a resumed run as it would have stopped the run (up to the clock's noise).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor, nn

from .. import interrupt
from ..errors import DataError, PeerLost, TrainingError
from ..nn.functional import thread_invariant
from . import distributed
from .checkpoint import load_checkpoint, save_checkpoint
from .batches import Batches, as_batches
from .config import TrainConfig
from .optim import Cosine, Optimizer, Plateau, Replay
from .precision import autocast
from .progress import Mute, Reporter
from .threads import ThreadGovernor

LossFn = Callable[[nn.Module, tuple[Tensor, ...]], Tensor]  # (model, batch) -> scalar loss


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)  # one row per epoch, as history.csv has them
    best_epoch: int = 0
    best_val_loss: float = math.inf
    stop_reason: str = ""  # "early stopping" | "max epochs" | "time budget"


STOP_REASONS = ("", "early stopping", "time budget", "max epochs")


def seed_everything(seed: int) -> None:
    """Seed every random source a run draws from, so one seed repeats a CPU run exactly."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_optimizer(params, config: TrainConfig) -> Optimizer:
    return Optimizer(params, config.optimizer, lr=config.lr, weight_decay=config.weight_decay, momentum=config.momentum)


def make_scheduler(optimizer: Optimizer, config: TrainConfig, rates: Optional[Sequence[float]] = None):
    if rates is not None:
        return Replay(optimizer, rates)
    if config.schedule == "plateau":  # halve the rate when validation stalls for a third of the patience
        return Plateau(optimizer, factor=0.5, patience=max(1, config.patience // 3))
    if config.schedule == "cosine":
        return Cosine(optimizer, epochs=config.epochs)
    return None


def fit(
    model: nn.Module,
    loss_fn: LossFn,
    train: Union[Sequence[Tensor], Batches],
    val: Optional[Union[Sequence[Tensor], Batches]],
    config: TrainConfig,
    *,
    checkpoint: Optional[Path] = None,
    resume: bool = False,
    reporter: Optional[Reporter] = None,
    keep_initial: bool = False,
    average_from: Optional[int] = None,
    rates: Optional[Sequence[float]] = None,
) -> TrainResult:
    """Train `model` in place and leave it holding its best weights (lowest validation loss).

    train / val: tensors that share their first dimension N (inputs..., target), indexed per batch, so
    strided window views are copied one batch at a time; or a `Batches` of the job's own (see
    `train/batches.py`). val None: early stopping watches the train loss.
    checkpoint: where to save, `config.checkpoint_every` seconds apart and at the last epoch; with
    resume=True the run continues from it, replaying the epochs after it.
    keep_initial: the untrained model competes too (as epoch 0, on the validation loss): for a model that
    starts as a sensible forecast and learns a correction, training then never ends worse than its start.
    average_from: from this epoch on, keep the mean of the weights at the end of each epoch, and leave the
    model holding that mean instead of the best epoch's weights (stochastic weight averaging, Izmailov et al.
    2018): flatter minima, which generalise better from small data. Batch-norm statistics are then
    recomputed for the averaged weights by one pass over the training data, as SWA prescribes.
    rates: a refit. Train exactly len(rates) epochs, epoch e at the rate rates[e - 1], without validation
    (`val` must be None) or early stopping, and keep the last epoch's weights: a validated run's schedule,
    repeated on more data (its training and validation parts together). Its rows say `"phase": "refit"`
    and have no `val_loss`.

    Under torchrun (`distributed.py`) every process calls this alike: each trains its slice of every batch,
    the losses are reduced over the processes, rank 0 decides when to stop, and only rank 0 checkpoints and
    reports. A process of the run that stops makes the others raise `PeerLost`, leaving the checkpoint.
    """
    config = config.resolved()  # device and precision decided once, here, for the whole run
    if rates is not None:
        if val is not None or not len(rates):
            raise ValueError("a refit (rates) trains without validation on at least one epoch")
        config = dataclasses.replace(config, epochs=len(rates), max_time=None)
    ctx = distributed.context(config.device)
    reporter = (reporter or Reporter()) if ctx.writes else Mute()
    device = torch.device(config.device)
    try:
        return _fit(model, loss_fn, train, val, config, ctx, device, checkpoint, resume, reporter, keep_initial, average_from,
                    rates)
    except Exception as error:  # DDP's reduction of the gradients inside backward (our own collectives say it)
        if ctx.active and not isinstance(error, PeerLost) and distributed.lost_peer(error):
            raise distributed.peer_lost(error) from None
        raise


def _fit(model, loss_fn, train, val, config, ctx, device, checkpoint, resume, reporter, keep_initial, average_from, rates):
    model.to(device)
    optimizer = make_optimizer(model.parameters(), config)
    scheduler = make_scheduler(optimizer, config, rates)
    generator = torch.Generator().manual_seed(config.seed)  # the order of the training examples
    result, best_state, bad_epochs, elapsed = TrainResult(), copy.deepcopy(model.state_dict()), 0, 0.0
    average = None  # {"state": mean weights, "epochs": how many were averaged}
    first_epoch = 1
    state = None  # the checkpoint to resume from: rank 0 reads it and hands it to the other processes
    if resume and checkpoint is not None and ctx.writes and Path(checkpoint).exists():
        state = _read_checkpoint(checkpoint)
    if resume and checkpoint is not None and ctx.active:
        state = distributed.object_from_rank_zero(state, ctx)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"], generator)
        result, best_state, bad_epochs, elapsed = state["result"], state["best_model"], state["bad_epochs"], state["elapsed"]
        average = state.get("average")
        first_epoch = len(result.history) + 1
        if result.stop_reason:  # the run had already finished
            _load_final(model, best_state, average, loss_fn, train, config, device)
            return result
    else:
        seed_everything(config.seed)
        if keep_initial and val is not None:
            result.best_val_loss, result.best_epoch = evaluate_loss(model, loss_fn, val, config, device, ctx=ctx), 0

    train = as_batches(train, config.batch_size, shuffle=True)
    n = len(train)
    steps_per_epoch = train.num_batches()
    reporter.start(config.epochs, first_epoch)
    governor = ThreadGovernor(config.threads)
    parallel = distributed.data_parallel(model, loss_fn, ctx, device)  # None alone
    last_saved = time.monotonic()  # the clock of `checkpoint_every`: wall time, the checkpoints' own included
    # vanilla layers train in the kernel whose numbers do not depend on the thread count the governor sets
    with thread_invariant():
        try:
            for epoch in range(first_epoch, config.epochs + 1):
                start = time.perf_counter()
                if ctx.active:  # each process its own dropout masks and augmentations, the same after a resume
                    torch.manual_seed(distributed.epoch_seed(config.seed, epoch, ctx))
                train_loss = _train_epoch(model, loss_fn, train, optimizer, generator, config, device, epoch, governor,
                                          parallel, ctx)  # fmt: skip
                val_loss = train_loss if val is None else evaluate_loss(model, loss_fn, val, config, device, governor, ctx)
                if not math.isfinite(val_loss):
                    val_batches = (batch for batch, _ in as_batches(val, config.batch_size, shuffle=False).epoch(None))
                    raise TrainingError(_non_finite_message(val_batches, config, epoch, "validation"))
                lr = optimizer.lr
                steps = epoch * steps_per_epoch
                warm = steps >= config.min_steps  # before that, neither the plateau schedule nor early stopping acts
                if isinstance(scheduler, Plateau):
                    if warm:
                        scheduler.step(val_loss)
                elif scheduler is not None:
                    scheduler.step()
                seconds = time.perf_counter() - start
                # the budget counts each epoch of the result once: one replayed after a kill, at its replay's time
                elapsed += seconds
                row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "lr": lr,
                       "seconds": seconds, "windows_per_s": n / seconds}  # fmt: skip
                if rates is not None:  # a refit has no validation loss, and says what it is
                    row = {"phase": "refit", **{key: value for key, value in row.items() if key != "val_loss"}}
                result.history.append(row)
                if val_loss < result.best_val_loss or rates is not None:  # a refit keeps its last epoch
                    result.best_val_loss, result.best_epoch, bad_epochs = val_loss, epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    bad_epochs += 1
                if average_from is not None and epoch >= average_from:
                    average = _averaged(average, model.state_dict())
                if bad_epochs >= config.patience and warm and rates is None:
                    result.stop_reason = "early stopping"
                elif config.max_time is not None and elapsed >= config.max_time:
                    result.stop_reason = "time budget"
                elif epoch == config.epochs:
                    result.stop_reason = "max epochs"
                # rank 0's decision (its clock rules the time budget), so every process stops at the same epoch
                result.stop_reason = STOP_REASONS[distributed.from_rank_zero(STOP_REASONS.index(result.stop_reason), ctx)]
                # the epoch that ends the run always checkpoints: a finished run resumes to its result at once
                due = result.stop_reason or time.monotonic() - last_saved >= config.checkpoint_every
                if checkpoint is not None and due and ctx.writes:
                    save_checkpoint(checkpoint, {
                        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict() if scheduler is not None else None,
                        "rng": _rng_state(generator), "result": result, "best_model": best_state,
                        "bad_epochs": bad_epochs, "elapsed": elapsed, "average": average,
                    })  # fmt: skip
                    last_saved = time.monotonic()
                reporter.epoch(row)
                if result.stop_reason:
                    break
        finally:
            governor.close()
            reporter.close()
    _load_final(model, best_state, average, loss_fn, train, config, device)
    if average is not None and val is not None:  # the weights kept are no epoch's: their own validation loss
        reporter.final(evaluate_loss(model, loss_fn, val, config, device, ctx=ctx))
    return result


def _load_final(model, best_state: dict, average: Optional[dict], loss_fn, train, config, device) -> None:
    """Leave `model` holding the best epoch's weights, or the averaged ones with their batch-norm
    statistics recomputed."""
    if average is None:
        model.load_state_dict(best_state)
        return
    model.load_state_dict(average["state"])
    refresh_batch_norm(model, loss_fn, as_batches(train, config.batch_size, shuffle=True), config, device)


REFRESH_BATCHES = 32  # the fewest batches whose statistics `refresh_batch_norm` averages: passes enough to draw them


@torch.no_grad()
def refresh_batch_norm(model: nn.Module, loss_fn: LossFn, train: Batches, config: TrainConfig, device) -> None:
    """The running statistics of every batch-norm layer recomputed for the model's current weights: passes
    over the training batches in training mode (enough for REFRESH_BATCHES batches), each layer keeping the
    plain mean of the batches' statistics (as `torch.optim.swa_utils.update_bn`). Averaged weights need this:
    the running statistics averaged with them describe none of the networks averaged.

    The batches are drawn as training draws them (shuffled, by a generator of the run's seed), not in the
    data's order: a file sorted by class (as many of the UCR archive's are) or by length (where length
    tells the class) would otherwise give batches of a few classes each, whose statistics describe no batch
    the network trained on. Measured on PigCVP (held out of the classifier's benchmark, 52 classes in
    class order): test accuracy 0.577, 0.611 and 0.567 with the statistics of batches in file order, 0.726,
    0.731 and 0.673 with these (seeds 0-2); one pass of shuffled batches gave 0.683 (seed 0, two threads)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative mean over the pass
    model.train()
    generator = torch.Generator().manual_seed(config.seed)
    for _ in range(-(-REFRESH_BATCHES // max(1, train.num_batches()))):
        for batch, _ in train.epoch(generator):
            with autocast(config.precision, device):
                loss_fn(model, tuple(t.to(device) for t in batch))
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    model.eval()


def _averaged(average: Optional[dict], state: dict) -> dict:
    """The running mean of weights with one more epoch's `state`; integer buffers (batch-norm counts) take
    the latest value."""
    if average is None:
        return {"state": copy.deepcopy(state), "epochs": 1}
    n = average["epochs"] + 1
    for name, value in state.items():
        mean = average["state"][name]
        if mean.is_floating_point():
            mean.add_(value.detach() - mean, alpha=1 / n)
        else:
            mean.copy_(value)
    return {"state": average["state"], "epochs": n}


def _train_epoch(model, loss_fn, train: Batches, optimizer, generator, config, device, epoch, governor,
                 parallel=None, ctx: distributed.Context = distributed.Context()) -> float:
    """One epoch; the mean training loss over its examples. `parallel`: the DistributedDataParallel of the
    loss, through which this process trains its slice of each batch (`distributed.shard`)."""
    model.train()
    total = 0.0
    for number, (batch, weight) in enumerate(train.epoch(generator), start=1):
        interrupt.check()  # a Ctrl-C whose KeyboardInterrupt was lost (`lstmkit.interrupt`)
        governor.before_step(len(batch[0]))
        start = time.perf_counter()
        scale = 1.0
        if parallel is not None:
            part, mine = distributed.shard(batch, train.weight, ctx)
            # DDP averages the ranks' gradients: scaled by its share, each rank's mean loss sums to the batch's
            # mean; a rank with no example reads the whole batch at scale 0, to join the reduction
            batch, scale, weight = (part, ctx.world * mine / weight, mine) if mine else (batch, 0.0, 0)
        batch = tuple(t.to(device) for t in batch)
        with autocast(config.precision, device):
            loss = loss_fn(model, batch) if parallel is None else parallel(*batch)
        if not torch.isfinite(loss):
            raise TrainingError(_non_finite_message([batch], config, epoch, f"training batch {number}"))
        optimizer.zero_grad(set_to_none=True)
        (loss if parallel is None else loss * scale).backward()
        if config.clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
        optimizer.step()
        total += loss.item() * weight
        governor.after_step(time.perf_counter() - start)
    return distributed.all_sum([total], ctx)[0] / len(train)


@torch.no_grad()
def evaluate_loss(
    model, loss_fn, data, config: TrainConfig, device, governor: Optional[ThreadGovernor] = None,
    ctx: distributed.Context = distributed.Context(),
) -> float:
    """Mean loss over `data` (tensors or a `Batches`) in eval mode, batch by batch, in order; `config` as
    `TrainConfig.resolved` returns it (its precision fp32 or bf16). `governor`: sets the threads of each batch
    too (its machine-load limit), without timing them. `ctx` of a distributed run (every process calls this
    alike): each process scores its slice of every batch, and the sums are reduced over the processes."""
    model.eval()
    data = as_batches(data, max(config.batch_size, 256), shuffle=False)
    total = 0.0
    for batch, weight in data.epoch(None):
        if ctx.active:
            batch, weight = distributed.shard(batch, data.weight, ctx)
            if not weight:
                continue
        if governor is not None:
            governor.before_step(len(batch[0]))
        batch = tuple(t.to(device) for t in batch)
        with autocast(config.precision, device):
            total += loss_fn(model, batch).item() * weight
    return distributed.all_sum([total], ctx)[0] / len(data)


def _non_finite_message(data, config: TrainConfig, epoch: int, where: str) -> str:
    """Name the likely cause of a NaN or infinite loss; data: the batches (tuples of tensors) involved."""
    for tensors in data:
        if any(t.is_floating_point() and not torch.isfinite(t).all() for t in tensors):
            return (
                f"the loss is not a finite number at epoch {epoch} ({where}) because the data holds NaN or "
                "infinite values; clean the input or fill the gaps (`fill`)"
            )
    return (
        f"the loss is not a finite number at epoch {epoch} ({where}): training diverged, most likely because "
        f"the learning rate {config.lr:g} is too high; try `lr` {config.lr / 10:g}"
    )


def _rng_state(generator: torch.Generator) -> dict:
    return {"torch": torch.get_rng_state(), "generator": generator.get_state(),
            "numpy": np.random.get_state(), "python": random.getstate()}  # fmt: skip


def _set_rng_state(state: dict, generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    generator.set_state(state["generator"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def _read_checkpoint(path: Path) -> dict:
    try:
        state = load_checkpoint(path)
    except Exception as error:  # a torn or foreign file: say so, never a traceback
        raise DataError(f"{path}: the checkpoint cannot be read ({type(error).__name__}); "
                        "delete it to train from the start") from None  # fmt: skip
    if not isinstance(state, dict) or not {"model", "optimizer", "rng", "result"} <= state.keys():
        raise DataError(f"{path}: is not an lstmkit checkpoint; delete it to train from the start")
    return state
