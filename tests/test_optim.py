"""lstmkit's optimisers and schedules make torch.optim's updates, and training imports no torch._dynamo."""

import copy
import math
import subprocess
import sys

import pytest
import torch
from torch import nn

from lstmkit.train.optim import Cosine, Optimizer, Plateau

SETTINGS = {  # name: (lstmkit's keyword arguments, torch.optim's optimiser)
    "adam": ({"lr": 3e-2, "weight_decay": 1e-2}, lambda p: torch.optim.Adam(p, lr=3e-2, weight_decay=1e-2)),
    "adam, no decay": ({"lr": 3e-2}, lambda p: torch.optim.Adam(p, lr=3e-2)),
    "adamw": ({"lr": 3e-2, "weight_decay": 1e-1}, lambda p: torch.optim.AdamW(p, lr=3e-2, weight_decay=1e-1)),
    "sgd": ({"lr": 5e-2, "weight_decay": 1e-3, "momentum": 0.9},
            lambda p: torch.optim.SGD(p, lr=5e-2, momentum=0.9, weight_decay=1e-3)),  # fmt: skip
    "sgd, no momentum": ({"lr": 5e-2}, lambda p: torch.optim.SGD(p, lr=5e-2)),
    "rmsprop": ({"lr": 1e-2, "weight_decay": 1e-3}, lambda p: torch.optim.RMSprop(p, lr=1e-2, weight_decay=1e-3)),
}


def _model():
    torch.manual_seed(0)
    from lstmkit import LSTM

    return nn.ModuleDict({"lstm": LSTM(3, 6, batch_first=True), "head": nn.Linear(6, 1), "unused": nn.Linear(2, 2)})


def _loss(model, step):
    g = torch.Generator().manual_seed(step)
    x, y = torch.randn(5, 4, 3, generator=g), torch.randn(5, 1, generator=g)
    return nn.functional.mse_loss(model["head"](model["lstm"](x)[0][:, -1]), y)


@pytest.mark.parametrize("setting", SETTINGS)
def test_the_updates_equal_torch_optims(setting):
    """30 steps side by side from the same weights, with one parameter that never gets a gradient: every
    weight equal to torch.optim's at every step (the same operations in the same order, so to the last bit)."""
    ours, theirs = _model(), _model()
    kwargs, make = SETTINGS[setting]
    name = setting.split(",")[0]
    mine, reference = Optimizer(ours.parameters(), name, **kwargs), make(theirs.parameters())
    for step in range(30):
        for model, optimizer in ((ours, mine), (theirs, reference)):
            optimizer.zero_grad(set_to_none=True)
            _loss(model, step).backward()
            optimizer.step()
        for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            assert torch.equal(a, b), (setting, step, key, (a - b).abs().max().item())
    assert ours["unused"].weight.equal(theirs["unused"].weight)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_parameters_at_different_step_counts_update_as_torch_optims_do(name):
    """A head trained only every third step (its gradient None between) is a step count behind the rest,
    so Adam updates it in a group of its own: still torch.optim's numbers, to the last bit."""
    ours, theirs = _model(), _model()
    kwargs, make = SETTINGS[name]
    mine, reference = Optimizer(ours.parameters(), name, **kwargs), make(theirs.parameters())
    for step in range(12):
        for model, optimizer in ((ours, mine), (theirs, reference)):
            optimizer.zero_grad(set_to_none=True)
            loss = _loss(model, step)
            if step % 3 == 0:
                loss = loss + model["unused"](torch.ones(1, 2)).square().sum()
            loss.backward()
            optimizer.step()
        for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            assert torch.equal(a, b), (name, step, key)
    assert mine.steps[-1] == 4 and mine.steps[0] == 12  # the head's bias: 4 of the 12 steps


def test_a_saved_state_resumes_the_same_updates():
    model = _model()
    optimizer = Optimizer(model.parameters(), "adam", lr=1e-2)
    for step in range(3):
        optimizer.zero_grad()
        _loss(model, step).backward()
        optimizer.step()
    saved, weights = copy.deepcopy(optimizer.state_dict()), copy.deepcopy(model.state_dict())
    for step in range(3, 6):
        optimizer.zero_grad()
        _loss(model, step).backward()
        optimizer.step()
    after = copy.deepcopy(model.state_dict())
    again = _model()
    again.load_state_dict(weights)
    resumed = Optimizer(again.parameters(), "adam", lr=1.0)
    resumed.load_state_dict(saved)
    for step in range(3, 6):
        resumed.zero_grad()
        _loss(again, step).backward()
        resumed.step()
    assert all(torch.equal(a, b) for a, b in zip(after.values(), again.state_dict().values()))
    with pytest.raises(ValueError, match="not of this sgd over"):
        Optimizer(_model().parameters(), "sgd").load_state_dict(saved)


def test_the_schedules_follow_torchs():
    """The rate after every epoch, ours against torch's, for the plateau schedule on a loss that stalls and
    improves by turns, and for cosine annealing over 25 epochs."""
    torch_params, our_params = [nn.Parameter(torch.zeros(1))], [nn.Parameter(torch.zeros(1))]
    reference = torch.optim.SGD(torch_params, lr=0.1)
    torch_plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(reference, factor=0.5, patience=2)
    mine = Optimizer(our_params, "sgd", lr=0.1)
    plateau = Plateau(mine, factor=0.5, patience=2)
    losses = [1.0, 0.9, 0.9, 0.89999, 0.95, 0.91, 0.5, 0.5, 0.5, 0.5, 0.49996, 0.49, 0.49, 0.49, 0.49, 0.49]
    rates = []
    for loss in losses:
        torch_plateau.step(loss)
        plateau.step(loss)
        assert mine.lr == reference.param_groups[0]["lr"]
        rates.append(mine.lr)
    assert rates[-1] < rates[0]  # the loss stalled long enough to lower the rate
    reference = torch.optim.SGD(torch_params, lr=0.1)
    torch_cosine = torch.optim.lr_scheduler.CosineAnnealingLR(reference, T_max=25)
    mine = Optimizer(our_params, "sgd", lr=0.1)
    cosine = Cosine(mine, epochs=25)
    for epoch in range(1, 27):
        reference.step()
        torch_cosine.step()
        cosine.step()
        assert mine.lr == pytest.approx(reference.param_groups[0]["lr"], rel=1e-15, abs=1e-18), epoch
        if epoch <= 25:
            assert mine.lr == pytest.approx(0.05 * (1 + math.cos(math.pi * epoch / 25)), abs=1e-15)


def test_an_unknown_optimiser_is_refused():
    with pytest.raises(ValueError, match="unknown optimiser 'lbfgs'; choose one of adam, adamw, sgd, rmsprop"):
        Optimizer(_model().parameters(), "lbfgs")
    with pytest.raises(ValueError, match="empty parameter list"):
        Optimizer([], "adam")


def test_training_imports_no_dynamo():
    """torch.optim's classes import torch._dynamo (1.5-1.8 s on two cores); a whole fit must not."""
    code = (
        "import sys, torch\n"
        "from torch import nn\n"
        "from lstmkit.train import TrainConfig, fit\n"
        "from lstmkit import LSTM\n"
        "torch.manual_seed(0)\n"
        "class M(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.lstm = LSTM(2, 4, batch_first=True); self.head = nn.Linear(4, 1)\n"
        "    def forward(self, x): return self.head(self.lstm(x)[0][:, -1]).squeeze(-1)\n"
        "x, y = torch.randn(40, 5, 2), torch.randn(40)\n"
        "for schedule in ('plateau', 'cosine'):\n"
        "    fit(M(), lambda m, b: nn.functional.mse_loss(m(b[0]), b[1]), (x[:32], y[:32]), (x[32:], y[32:]),\n"
        "        TrainConfig(epochs=3, batch_size=8, schedule=schedule, threads=1))\n"
        "print(sorted(m for m in sys.modules if m.startswith('torch._dynamo')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

