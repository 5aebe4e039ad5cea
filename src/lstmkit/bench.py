"""Layer speed: `lstmkit.LSTM` against `torch.nn.LSTM` on the CPU.

What is measured. One layer, one direction, float32, time-major input x (T, B, I) that needs no
gradient, zero initial state, for each shape (T, B, I, H) and each configuration of `lstmkit.LSTM`:

- ``vanilla``: a copy of the torch module (`LSTM.from_torch`), so the same weights;
- ``peephole``, ``cifg``, ``layernorm``: `LSTM(I, H, <flag>=True)`;
- ``zoneout``: `LSTM(I, H, zoneout=0.1)`, active in the training step only (eval mode turns it off);
- ``trace``: the vanilla copy called with ``return_trace=True``.

The baseline is always a vanilla `torch.nn.LSTM(I, H)` of the same shape. Two modes:

- ``train``: one training step, forward + ``output.sum().backward()`` with the parameters requiring
  grad; the grads are reset (``set_to_none``) before each step, outside the timed region;
- ``infer``: forward only, the module in eval mode, under `torch.inference_mode()`.

How. Both modules are built in the same process with a fixed seed. Steps alternate, torch then
lstmkit, so machine noise hits both alike. One warm-up step each (two when steps are cheap), then the
number of timed reps is the budget divided by the slower side's warm-up time, clamped to [3, 25]
([1, 10] with --quick), so a slow reference-path step costs at most four runs of it; each side
reports its median.

Reported: milliseconds per step for each side; ratio = torch time / lstmkit time (> 1 means lstmkit
is faster); and GFLOP/s. FLOPs are those of a vanilla layer's matrix products, per layer and
direction: the forward pass does 4H·(I+H) multiply-adds per batch element and step, so 8·B·T·H·(I+H)
FLOPs for inference; the backward pass does two products of that size (grads of the inputs and of the
weights), so 24·B·T·H·(I+H) FLOPs for a training step. Variants are counted as vanilla, so their
GFLOP/s is a vanilla-equivalent rate.

Run: ``lstmkit bench [--quick] [--shapes 100x32x64x128,...] [--variants ...] [--modes train,infer]
[--precisions fp32,bf16] [--budget S] [--threads N] [--json PATH]``, or ``python benchmarks/layer_speed.py``
with the same options. The torch.nn.LSTM baseline is always vanilla fp32, so a bf16 row's
ratio says how much bf16 autocast gains over the fp32 layer people use today.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch
from rich import box
from rich.console import Console
from rich.table import Table
from torch import nn

import lstmkit
from lstmkit import LSTM
from lstmkit.errors import ConfigError
from lstmkit.fileio import atomic_write_text, file_to_write

Shape = tuple[int, int, int, int]  # (T, B, I, H)

SHAPES: tuple[Shape, ...] = (
    (100, 32, 64, 128),  # small: per-step overhead shows
    (100, 64, 256, 256),  # medium
    (200, 16, 32, 64),  # long and tiny: the Python loop over time dominates the reference path
    (50, 128, 512, 512),  # large: matrix products dominate
)
QUICK_SHAPES: tuple[Shape, ...] = (SHAPES[0], SHAPES[2])

# variant: (lstmkit constructor flags, or None for a copy of the torch module; forward keywords)
VARIANTS: dict[str, tuple[Optional[dict], dict]] = {
    "vanilla": (None, {}),
    "peephole": ({"peephole": True}, {}),
    "cifg": ({"cifg": True}, {}),
    "layernorm": ({"layernorm": True}, {}),
    "zoneout": ({"zoneout": 0.1}, {}),
    "trace": (None, {"return_trace": True}),
}
MODES = ("train", "infer")

SEED = 0
BUDGET_S, QUICK_BUDGET_S = 0.5, 0.25  # timed seconds per measurement for the slower side
REPS, QUICK_REPS = (3, 25), (1, 10)  # (least, most) timed reps per side
PRECISIONS = ("fp32", "bf16")  # lstmkit's side; the torch.nn.LSTM baseline is always vanilla fp32


def default_json() -> Path:
    """benchmarks/results/layer_speed.json in a checkout of the repository, else a file in the current folder."""
    return Path("benchmarks/results/layer_speed.json") if Path("benchmarks").is_dir() else Path("lstmkit-bench.json")


def _build(shape: Shape, variant: str, mode: str) -> tuple[nn.LSTM, LSTM, torch.Tensor]:
    """The torch baseline, the lstmkit module under test, and an input x (T, B, I)."""
    T, B, I, H = shape
    torch.manual_seed(SEED)
    baseline = nn.LSTM(I, H)
    flags = VARIANTS[variant][0]
    kit = LSTM.from_torch(baseline) if flags is None else LSTM(I, H, **flags)
    training = mode == "train"
    return baseline.train(training), kit.train(training), torch.randn(T, B, I)


def _step(module: nn.Module, x: torch.Tensor, mode: str, forward_kwargs: dict, precision: str = "fp32") -> Callable[[], float]:
    """A function that runs one step of `mode` (under bf16 autocast for precision 'bf16') and returns its
    wall time in seconds."""

    def precision_context():
        return torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()

    def train() -> None:
        with precision_context():
            output = module(x, **forward_kwargs)[0]
        output.float().sum().backward()

    def infer() -> None:
        with torch.inference_mode(), precision_context():
            module(x, **forward_kwargs)

    run_once = train if mode == "train" else infer

    def timed() -> float:
        module.zero_grad(set_to_none=True)
        start = time.perf_counter()
        run_once()
        return time.perf_counter() - start

    return timed


def _calibrate(steps: dict[str, Callable[[], float]], budget_s: float, reps: tuple[int, int]) -> int:
    """Warm up both sides and return how many timed reps fit the budget of the slower one, within `reps`."""
    slowest = max(step() for step in steps.values())  # the first call allocates and builds kernels
    if slowest < budget_s / 4:  # cheap: a second warm-up gives a steadier estimate
        slowest = max(step() for step in steps.values())
    return max(reps[0], min(reps[1], int(budget_s / slowest)))


def _flops(shape: Shape, mode: str) -> int:
    """Nominal FLOPs of one step of a vanilla layer in one direction."""
    T, B, I, H = shape
    return (24 if mode == "train" else 8) * B * T * H * (I + H)


def measure(
    shape: Shape, variant: str, mode: str, budget_s: float = BUDGET_S, *, precision: str = "fp32",
    reps: tuple[int, int] = REPS,
) -> dict:  # fmt: skip
    """Time `variant` of lstmkit.LSTM in `precision` against torch.nn.LSTM vanilla fp32 at `shape` (T, B, I, H)
    in `mode`; one row."""
    baseline, kit, x = _build(shape, variant, mode)
    steps = {  # dict order is the interleaving order: torch, lstmkit, torch, lstmkit...
        "torch": _step(baseline, x, mode, {}),
        "lstmkit": _step(kit, x, mode, VARIANTS[variant][1], precision),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(_calibrate(steps, budget_s, reps)):
        for name, step in steps.items():
            times[name].append(step())
    torch_s, kit_s = (statistics.median(times[name]) for name in ("torch", "lstmkit"))
    T, B, I, H = shape
    flops = _flops(shape, mode)
    return {
        "T": T, "B": B, "I": I, "H": H, "variant": variant, "mode": mode, "precision": precision,
        "lstmkit_ms": kit_s * 1e3, "torch_ms": torch_s * 1e3, "ratio": torch_s / kit_s,
        "gflops": flops / kit_s / 1e9, "torch_gflops": flops / torch_s / 1e9,
    }  # fmt: skip


def run(
    shapes: Optional[Sequence[Shape]] = None,
    variants: Sequence[str] = tuple(VARIANTS),
    modes: Sequence[str] = MODES,
    precisions: Sequence[str] = PRECISIONS,
    quick: bool = False,
    budget_s: Optional[float] = None,
    on_row: Optional[Callable[[dict], None]] = None,
) -> list[dict]:
    """Measure every (shape, variant, precision, mode); `quick` means the quick shapes (unless given) and
    fewer reps.

    `on_row` is called with each row as soon as it is measured (for progress output).
    """
    if shapes is None:
        shapes = QUICK_SHAPES if quick else SHAPES
    if budget_s is None:
        budget_s = QUICK_BUDGET_S if quick else BUDGET_S
    rows = []
    for shape, variant, precision, mode in itertools.product(shapes, variants, precisions, modes):
        rows.append(measure(shape, variant, mode, budget_s, precision=precision, reps=QUICK_REPS if quick else REPS))
        if on_row is not None:
            on_row(rows[-1])
    return rows


def _num(value: float) -> str:
    """Two decimals below 100, none above: 0.07, 33.79, 727, 12930 (keeps the columns narrow)."""
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def print_table(rows: Sequence[dict], console: Optional[Console] = None) -> None:
    """The rows as a rich table."""
    table = Table(
        title="lstmkit.LSTM (fp32 or bf16 autocast) vs torch.nn.LSTM (vanilla, fp32): one layer, CPU",
        box=box.SIMPLE_HEAD, pad_edge=False,  # no vertical rules nor edge padding: fits 80 columns
        caption=(
            "ratio = torch time / lstmkit time (> 1: lstmkit is faster). GFLOP/s counts 24·B·T·H·(I+H) FLOPs "
            "per training step (forward + backward) and 8·B·T·H·(I+H) per inference (forward only), "
            "as for a vanilla layer."
        ),
    )
    for name in ("shape\n(T,B,I,H)", "variant", "prec", "mode"):
        table.add_column(name)
    for name in ("lstmkit\nms", "torch.nn.LSTM\nms", "ratio", "lstmkit\nGFLOP/s"):
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(
            f"{r['T']},{r['B']},{r['I']},{r['H']}", r["variant"], r["precision"], r["mode"],
            _num(r["lstmkit_ms"]), _num(r["torch_ms"]), f"{r['ratio']:.2f}", _num(r["gflops"]),
        )  # fmt: skip
    (console or Console(width=None if sys.stdout.isatty() else 120)).print(table)  # a log keeps whole columns


def _cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, else what `platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_shapes(text: str) -> list[Shape]:
    """'100x32x64x128,6x2x3x4' -> [(100, 32, 64, 128), (6, 2, 3, 4)]; a ConfigError naming a bad shape."""
    shapes = []
    for item in (v.strip() for v in text.split(",")):
        try:
            shape = tuple(int(v) for v in item.lower().split("x"))
        except ValueError:
            shape = ()
        if len(shape) != 4 or min(shape) < 1:
            raise ConfigError(f"`shapes` takes TxBxIxH with four whole numbers of at least 1, like 100x32x64x128; "
                              f"got {item!r}")  # fmt: skip
        shapes.append(shape)
    return shapes


def parse_names(text: str, allowed: Sequence[str], name: str) -> list[str]:
    """A comma-separated subset of `allowed` (setting `name`); a ConfigError naming what is not allowed."""
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in names if v not in allowed]
    if unknown or not names:
        raise ConfigError(f"`{name}` takes a comma-separated choice of {','.join(allowed)}; got {text!r}")
    return names


def main(*, threads: Optional[int] = None, json_path: Optional[Path] = None, **measured) -> list[dict]:
    """Run the benchmark (`lstmkit bench`): `run(**measured)` on `threads` threads, print the table and write the
    JSON (to `json_path`, else `default_json()`); returns the rows. The place for the JSON is checked before
    anything is timed."""
    budget_s = measured.get("budget_s")
    if budget_s is not None and not budget_s > 0:
        raise ConfigError(f"`budget` must be a number above 0, got {budget_s!r}")
    path = file_to_write(json_path or default_json(), "layer_speed.json")
    if threads is not None:
        torch.set_num_threads(threads)
    progress = Console(stderr=True)
    rows = run(
        **measured,
        on_row=lambda r: progress.print(
            f"{r['T']}x{r['B']}x{r['I']}x{r['H']} {r['variant']} {r['precision']} {r['mode']}: "
            f"lstmkit {r['lstmkit_ms']:.2f} ms, torch {r['torch_ms']:.2f} ms", highlight=False
        ),
    )  # fmt: skip
    print_table(rows)
    report = {
        "torch_version": torch.__version__, "lstmkit_version": lstmkit.__version__,
        "threads": torch.get_num_threads(), "cpu": _cpu_name(), "rows": rows,
    }  # fmt: skip
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    progress.print(f"rows written to {path}", highlight=False)
    return rows
