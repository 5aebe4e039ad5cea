"""The optimisers and learning-rate schedules of the training loop: torch.optim's updates, written out.

torch.optim's classes import `torch._dynamo` the first time one is built or stepped (their methods are
wrapped to keep `torch.compile` out of them): 1.5-1.8 s of every `train` command on a 2-core machine, about as
long as training the airline forecaster. These classes make the same updates in the order torch.optim's
single-tensor path (its default on the CPU) computes them, so a run gives the numbers torch.optim would give:
`tests/test_optim.py` steps both side by side and compares every weight. Each holds one learning rate for all
its parameters (`lr`, which the schedules set) and its state as plain tensors for a checkpoint.

    Adam     Kingma & Ba 2015, with L2 weight decay added to the gradient   (torch.optim.Adam)
    AdamW    Adam with decoupled weight decay, Loshchilov & Hutter 2019     (torch.optim.AdamW)
    SGD      with heavy-ball momentum (buffer = the first gradient)        (torch.optim.SGD)
    RMSprop  alpha 0.99, no momentum, as Keras and torch default            (torch.optim.RMSprop)

    Plateau  halve the rate when the validation loss stalls                 (lr_scheduler.ReduceLROnPlateau)
    Cosine   cosine annealing to zero over the run, torch's recursive form  (lr_scheduler.CosineAnnealingLR)
    Replay   each epoch's rate from a list: a refit repeating a validated run's schedule
"""

from __future__ import annotations

import math
from typing import Iterable

import torch
from torch import Tensor

from .config import OPTIMIZERS


class Optimizer:
    """One update rule over `params` at one learning rate `lr`: `zero_grad()`, `step()` after backward, and
    `state_dict()` / `load_state_dict()` for checkpoints. `name` is one of OPTIMIZERS."""

    def __init__(self, params: Iterable[Tensor], name: str = "adam", lr: float = 1e-3, weight_decay: float = 0.0,
                 momentum: float = 0.0) -> None:  # fmt: skip
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimiser {name!r}; choose one of {', '.join(OPTIMIZERS)}")
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        self.name, self.lr, self.weight_decay, self.momentum = name, float(lr), float(weight_decay), float(momentum)
        self.betas, self.eps, self.alpha = (0.9, 0.999), 1e-8, 0.99  # Adam's and RMSprop's constants, torch's
        self.steps = [0] * len(self.params)  # updates made to each parameter (one skipped while its grad is None)
        self.state: list[dict[str, Tensor]] = [{} for _ in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.params:
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.detach_().zero_()

    @torch.no_grad()
    def step(self) -> None:
        due = [index for index, param in enumerate(self.params) if param.grad is not None]
        for index in due:
            self.steps[index] += 1
        if self.name in ("adam", "adamw"):  # each group of one step count, device and dtype in one go
            groups: dict[tuple, list[int]] = {}
            for index in due:
                param = self.params[index]
                groups.setdefault((self.steps[index], param.device, param.dtype), []).append(index)
            for (step, _, _), indices in groups.items():
                self._adam_all(indices, step)
            return
        update = getattr(self, f"_{self.name}")
        for index in due:
            update(self.params[index], self.params[index].grad, self.state[index], self.steps[index])

    def _adam_all(self, indices: list[int], step: int) -> None:
        """Adam's (or AdamW's) update of each parameter in `indices`, all at `step`, with torch's list
        ("foreach") operations: torch.optim's single-tensor operations on each tensor in the same order, so
        the same numbers, in one call per operation rather than one per operation and tensor (the airline
        forecaster's six tensors in 0.2 ms instead of 0.35-0.4 ms)."""
        params = [self.params[i] for i in indices]
        grads = [param.grad for param in params]
        states = [self.state[i] for i in indices]
        for state, param in zip(states, params):
            if not state:
                state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        exp_avgs, exp_avg_sqs = [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states]
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            if self.name == "adamw":
                torch._foreach_mul_(params, 1 - self.lr * self.weight_decay)
            else:
                grads = torch._foreach_add(grads, params, alpha=self.weight_decay)
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
        denoms = torch._foreach_sqrt(exp_avg_sqs)
        torch._foreach_div_(denoms, (1 - beta2**step) ** 0.5)
        torch._foreach_add_(denoms, self.eps)
        torch._foreach_addcdiv_(params, exp_avgs, denoms, value=-(self.lr / (1 - beta1**step)))

    def _sgd(self, param: Tensor, grad: Tensor, state: dict, step: int) -> None:
        if self.weight_decay != 0:
            grad = grad.add(param, alpha=self.weight_decay)
        if self.momentum != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.detach().clone()
            else:
                state["momentum_buffer"].mul_(self.momentum).add_(grad)
            grad = state["momentum_buffer"]
        param.add_(grad, alpha=-self.lr)

    def _rmsprop(self, param: Tensor, grad: Tensor, state: dict, step: int) -> None:
        if not state:
            state["square_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if self.weight_decay != 0:
            grad = grad.add(param, alpha=self.weight_decay)
        state["square_avg"].mul_(self.alpha).addcmul_(grad, grad, value=1 - self.alpha)
        param.addcdiv_(grad, state["square_avg"].sqrt().add_(self.eps), value=-self.lr)

    def state_dict(self) -> dict:
        return {"name": self.name, "lr": self.lr, "steps": list(self.steps),
                "state": [dict(state) for state in self.state]}  # fmt: skip

    def load_state_dict(self, saved: dict) -> None:
        if saved.get("name") != self.name or len(saved.get("state", ())) != len(self.params):
            raise ValueError(f"the saved optimiser state is not of this {self.name} over {len(self.params)} tensors")
        self.lr, self.steps = float(saved["lr"]), list(saved["steps"])
        self.state = [{key: value.to(param.device) for key, value in state.items()}
                      for state, param in zip(saved["state"], self.params)]  # fmt: skip


class Plateau:
    """ReduceLROnPlateau(mode "min", factor, patience, threshold 1e-4 relative, no cooldown, no minimum):
    after more than `patience` epochs without a loss below the best by 0.01%, multiply the rate by `factor`."""

    def __init__(self, optimizer: Optimizer, factor: float = 0.5, patience: int = 10) -> None:
        self.optimizer, self.factor, self.patience = optimizer, factor, patience
        self.threshold, self.eps = 1e-4, 1e-8
        self.best, self.bad_epochs = math.inf, 0

    def step(self, loss: float) -> None:
        if float(loss) < self.best * (1 - self.threshold):
            self.best, self.bad_epochs = float(loss), 0
        else:
            self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            lower = self.optimizer.lr * self.factor
            if self.optimizer.lr - lower > self.eps:
                self.optimizer.lr = lower
            self.bad_epochs = 0

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, saved: dict) -> None:
        self.best, self.bad_epochs = saved["best"], saved["bad_epochs"]


class Cosine:
    """CosineAnnealingLR(T_max=epochs, eta_min=0), stepped once an epoch: the rate after epoch e is
    lr * (1 + cos(pi e / epochs)) / 2, computed as torch computes it, from the previous epoch's rate."""

    def __init__(self, optimizer: Optimizer, epochs: int) -> None:
        self.optimizer, self.base, self.epochs, self.epoch = optimizer, optimizer.lr, epochs, 0

    def step(self) -> None:
        self.epoch += 1
        e, total = self.epoch, self.epochs
        if (e - 1 - total) % (2 * total) == 0:  # past the end, the rate climbs again (torch's cycle)
            self.optimizer.lr += self.base * (1 - math.cos(math.pi / total)) / 2
        else:
            self.optimizer.lr *= (1 + math.cos(math.pi * e / total)) / (1 + math.cos(math.pi * (e - 1) / total))

    def state_dict(self) -> dict:
        return {"epoch": self.epoch}

    def load_state_dict(self, saved: dict) -> None:
        self.epoch = saved["epoch"]


class Replay:
    """Epoch e trains at `rates[e - 1]`: a refit on more data repeats the schedule its validated run took
    (whatever schedule chose those rates). Stepped once an epoch, like `Cosine`."""

    def __init__(self, optimizer: Optimizer, rates) -> None:
        self.optimizer, self.rates, self.epoch = optimizer, [float(rate) for rate in rates], 0
        optimizer.lr = self.rates[0]

    def step(self) -> None:
        self.epoch += 1
        if self.epoch < len(self.rates):
            self.optimizer.lr = self.rates[self.epoch]

    def state_dict(self) -> dict:
        return {"epoch": self.epoch}

    def load_state_dict(self, saved: dict) -> None:
        self.epoch = saved["epoch"]
