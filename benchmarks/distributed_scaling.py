"""Data-parallel throughput: one process against two on this machine (one thread each), per shape.

    python benchmarks/distributed_scaling.py [--shapes 32x64x50,256x256x100] [--epochs 4] [--json F]

A shape is BATCHxHIDDENxSTEPS: the global batch (examples per optimiser step, split between the processes),
the LSTM's hidden size (input 32 features, one layer, a linear head) and the sequence length. Each run trains
`lstmkit.train.fit` on random sequences for `--epochs` epochs of 16 steps; throughput is examples per second
over the epochs after the first (which builds and warms up), as rank 0's history.csv rows time them. The two
processes are real ranks of a gloo process group on 127.0.0.1, started as torchrun starts them (RANK,
WORLD_SIZE, MASTER_ADDR, MASTER_PORT), so the figure includes DistributedDataParallel's gradient reduction.

Columns: examples/s alone and with two processes, the speed-up and the efficiency (speed-up / 2), the
parameters (the bytes each step reduces: 4 per parameter), the mean time of one all-reduce of that size
between the two processes, and the mean compute time of one step alone: the two figures a multi-node
estimate needs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS_PER_EPOCH = 16
FEATURES = 32


def rank_main(out: str, batch: int, hidden: int, steps: int, epochs: int) -> None:
    """One process of a run: train, then (rank 0 of two) time the all-reduce of the gradients' size."""
    import torch
    from torch import nn

    from lstmkit import LSTM
    from lstmkit.train import TrainConfig, fit
    from lstmkit.train.distributed import context

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = LSTM(FEATURES, hidden, batch_first=True), nn.Linear(hidden, 1)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1]).squeeze(-1)

    generator = torch.Generator().manual_seed(0)
    rows = batch * STEPS_PER_EPOCH
    x, y = torch.randn(rows, steps, FEATURES, generator=generator), torch.randn(rows, generator=generator)
    torch.manual_seed(0)
    model = Net()
    config = TrainConfig(epochs=epochs, batch_size=batch, threads=1, schedule="none", min_steps=10**6)
    result = fit(model, lambda m, b: nn.functional.mse_loss(m(b[0]), b[1]), (x, y), None, config)
    ctx = context()
    report = {"epochs": result.history, "parameters": sum(p.numel() for p in model.parameters())}
    if ctx.active:
        import torch.distributed as dist

        buffer = torch.zeros(report["parameters"])
        for _ in range(3):
            dist.all_reduce(buffer)
        started, times = time.perf_counter(), 20
        for _ in range(times):
            dist.all_reduce(buffer)
        report["all_reduce_s"] = (time.perf_counter() - started) / times
    if ctx.writes:
        Path(out).write_text(json.dumps(report))


def run(world: int, batch: int, hidden: int, steps: int, epochs: int) -> dict:
    from lstmkit.launch import free_port

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "report.json"
        args = [sys.executable, __file__, "--rank-of", str(out), str(batch), str(hidden), str(steps), str(epochs)]
        base = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
        base["OMP_NUM_THREADS"] = "1"
        port = free_port()
        envs = [base] if world == 1 else [{**base, "RANK": str(r), "LOCAL_RANK": str(r), "WORLD_SIZE": str(world),
                                           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
                                          for r in range(world)]  # fmt: skip
        ranks = [subprocess.Popen(args, env=env) for env in envs]
        if any(p.wait() for p in ranks):
            raise SystemExit(f"a rank failed: {[p.returncode for p in ranks]}")
        report = json.loads(out.read_text())
    timed = report["epochs"][1:]
    seconds = sum(row["seconds"] for row in timed)
    report["examples_per_s"] = batch * STEPS_PER_EPOCH * len(timed) / seconds
    report["step_s"] = seconds / (STEPS_PER_EPOCH * len(timed))
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="32x64x50,128x128x100,256x256x100")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/distributed_scaling.json"))
    args = parser.parse_args(argv)
    rows = []
    print("| shape (batch x hidden x steps) | alone, examples/s | 2 processes, examples/s | speed-up | efficiency "
          "| parameters | all-reduce, ms | step alone, ms |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for shape in args.shapes.split(","):
        batch, hidden, steps = (int(v) for v in shape.split("x"))
        alone, two = (run(world, batch, hidden, steps, args.epochs) for world in (1, 2))
        speedup = two["examples_per_s"] / alone["examples_per_s"]
        row = {"batch": batch, "hidden": hidden, "steps": steps, "alone": alone["examples_per_s"],
               "two": two["examples_per_s"], "speedup": speedup, "efficiency": speedup / 2,
               "parameters": alone["parameters"], "all_reduce_s": two["all_reduce_s"], "step_alone_s": alone["step_s"]}  # fmt: skip
        rows.append(row)
        print(f"| {shape} | {row['alone']:.0f} | {row['two']:.0f} | {speedup:.2f}x | {speedup / 2:.0%} | "
              f"{row['parameters']:,} | {row['all_reduce_s'] * 1e3:.2f} | {row['step_alone_s'] * 1e3:.1f} |", flush=True)  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"epochs": args.epochs, "rows": rows}, indent=2))
    print(f"written to {args.json}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--rank-of":
        rank_main(sys.argv[2], *(int(v) for v in sys.argv[3:7]))
    else:
        main()
