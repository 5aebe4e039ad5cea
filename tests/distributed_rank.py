"""One process of a small data-parallel run, as torchrun would start it (RANK, WORLD_SIZE, MASTER_ADDR and
MASTER_PORT in the environment; without them, a single process): trains an lstmkit LSTM with `train.fit` on
fixed data and writes the parameters it ends with (rank 0) as JSON. Used by tests/test_distributed.py.

    python tests/distributed_rank.py OUT.json ROWS BATCH EPOCHS OPTIMIZER [DIE_AT]

DIE_AT: rank 1 exits abruptly in its DIE_AT-th loss computation (a process that dies mid-step); rank 0 then
writes the error it stopped with instead of parameters.
"""

import json
import os
import sys

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        from lstmkit import LSTM

        self.lstm = LSTM(3, 8, batch_first=True, peephole=True)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1]).squeeze(-1)


def loss(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


def main(out: str, rows: int, batch: int, epochs: int, optimizer: str, die_at: int = 0) -> None:
    from lstmkit.errors import PeerLost
    from lstmkit.train import TrainConfig, fit
    from lstmkit.train.distributed import context

    calls = []

    def loss_or_death(model, batch):
        calls.append(1)
        if die_at and len(calls) == die_at and context().rank == 1:
            os._exit(3)
        return loss(model, batch)

    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(rows, 6, 3, generator=generator), torch.randn(rows, generator=generator)
    torch.manual_seed(1)
    model = Net()
    config = TrainConfig(epochs=epochs, batch_size=batch, optimizer=optimizer, lr=0.05, schedule="none", threads=1)
    try:
        result = fit(model, loss_or_death, (x, y), None, config)
    except PeerLost as error:
        with open(out, "w") as f:
            json.dump({"error": type(error).__name__, "message": str(error)}, f)
        return
    if context().writes:
        params = {name: p.detach().double().flatten().tolist() for name, p in model.named_parameters()}
        with open(out, "w") as f:
            json.dump({"params": params, "losses": [row["train_loss"] for row in result.history]}, f)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        # leave the group, as `lstmkit` does at its end: gloo's threads torn down at exit instead aborted a rank
        # once in a loaded CI run ("terminate called without an active exception", exit -6)
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:5]), sys.argv[5], *(int(a) for a in sys.argv[6:]))
