"""Which kernel runs a plain vanilla layer faster: PyTorch's own (oneDNN) or lstmkit's fused one.

For batch 16-256 and hidden 64-512 (T = 50, I = H, fp32 or bf16 autocast), times a training step (forward +
backward) and an inference forward of `lstmkit.LSTM(backend="native")` against `backend="fused"` with the same
weights. Steps alternate, native then fused, so machine noise hits both alike; each side reports its median.
`lstmkit.nn.functional.FUSED_VANILLA_MIN_HIDDEN` is read off this table.

Run: python benchmarks/vanilla_dispatch.py [--threads N] [--modes train,infer] [--precisions fp32,bf16]
"""

from __future__ import annotations

import argparse
import time

import torch

from lstmkit import LSTM
from lstmkit.nn.kernels import native as native_kernel


def median_ms(native: LSTM, fused: LSTM, x: torch.Tensor, reps: int, train: bool, bf16: bool) -> tuple[float, float]:
    """Median step time (ms) of each module, their steps alternating."""

    def step(module: LSTM) -> float:
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            if train:
                module.zero_grad(set_to_none=True)
                module(x)[0].float().sum().backward()
            else:
                with torch.inference_mode():
                    module(x)
        return time.perf_counter() - start

    for _ in range(2):
        step(native)
        step(fused)
    times = [(step(native), step(fused)) for _ in range(reps)]
    return tuple(sorted(side)[reps // 2] * 1e3 for side in zip(*times))  # type: ignore[return-value]


def _native_runs_bf16() -> bool:
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return native_kernel.supports("cpu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--modes", default="train,infer")
    parser.add_argument("--precisions", default="fp32", help="comma-separated: fp32,bf16 (bf16 autocast)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"threads: {torch.get_num_threads()}; ratio = fused time / native time (< 1: fused is faster)")
    for precision, mode in [(p, m) for p in args.precisions.split(",") for m in args.modes.split(",")]:
        if precision == "bf16" and not _native_runs_bf16():
            print(f"bf16 {mode}: PyTorch's LSTM cannot run bf16 autocast on this CPU (no native bf16); "
                  "every bf16 call runs the fused kernel, so there is nothing to compare")
            continue
        for batch in (16, 64, 128, 256):
            for hidden in (64, 256, 512):
                torch.manual_seed(0)
                native = LSTM(hidden, hidden, backend="native")
                fused = LSTM(hidden, hidden, backend="fused")
                fused.load_state_dict(native.state_dict())
                if mode != "train":
                    native.eval()
                    fused.eval()
                x = torch.randn(50, batch, hidden)
                reps = 9 if batch * hidden * hidden > 2**24 else 25
                t_native, t_fused = median_ms(native, fused, x, reps, mode == "train", precision == "bf16")
                print(f"{precision} {mode:5s} B={batch:3d} H={hidden:3d}: native {t_native:8.2f} ms  "
                      f"fused {t_fused:8.2f} ms  ratio {t_fused / t_native:.2f}", flush=True)


if __name__ == "__main__":
    main()
