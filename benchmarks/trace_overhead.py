"""What the gate trace costs: a training step of `lstmkit.LSTM` with `return_trace=True` against the same
layer without it, at the shapes of `benchmarks/layer_speed.py`.

Steps alternate, untraced then traced, so machine noise hits both alike; each side reports its median. The
untraced layer runs whichever kernel lstmkit picks for it (PyTorch's own for a vanilla layer below 256 units,
lstmkit's fused kernel from 256 units); the traced one always runs the fused kernel.

Run: python benchmarks/trace_overhead.py [--threads N] [--reps N]
"""

from __future__ import annotations

import argparse
import time

import torch

from lstmkit import LSTM
from lstmkit.bench import SHAPES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--reps", type=int, default=15, help="timed steps per side")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"threads: {torch.get_num_threads()}; overhead = traced time / untraced time")
    for T, B, I, H in SHAPES:
        torch.manual_seed(0)
        layer = LSTM(I, H)
        x = torch.randn(T, B, I)

        def step(trace: bool) -> float:
            start = time.perf_counter()
            layer.zero_grad(set_to_none=True)
            layer(x, return_trace=trace)[0].sum().backward()
            return time.perf_counter() - start

        for _ in range(2):
            step(False)
            step(True)
        times = [(step(False), step(True)) for _ in range(args.reps)]
        plain, traced = (sorted(side)[args.reps // 2] * 1e3 for side in zip(*times))
        print(f"{T},{B},{I},{H}: untraced {plain:8.2f} ms  traced {traced:8.2f} ms  overhead {traced / plain:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
