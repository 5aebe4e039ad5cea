"""`lstmkit serve` under load: throughput, latency and errors at concurrency 1, 8 and 32, with and without
micro-batching, on PyTorch and on ONNX Runtime; and, in one process, the batch-1 latency of each backend.

    pip install -e ".[serve,onnx]"        # uvicorn with uvloop and httptools, as the serve extra installs it
    python benchmarks/serve_load.py [--run DIR] [--requests 2000] [--seconds 15] [--soak 60] [--json F]

Without --run, a classifier of numeric sequences (the default LSTM-FCN, 64 units, on generated sequences of
60 steps and 3 classes) is trained first. Every request holds one sequence of 60 steps (the single-sequence
requests micro-batching is for). Each cell starts a fresh `lstmkit serve` on 127.0.0.1 (one worker), warms it
with 20 requests, then a bounded load: `--requests` requests or `--seconds` seconds, whichever comes first,
from that many concurrent clients (asyncio streams in this process: on a 2-core machine the clients take a
share of the CPU the server would have). Micro-batching: --max-batch 32 and --max-wait-ms (`--wait-ms`, default 0, as `lstmkit serve`); none: --max-batch 1.
`--no-access-log`: the servers run without their line per request on stdout (`lstmkit serve --no-access-log`).
`--soak S`: then S seconds at concurrency 32 with micro-batching on each backend, counting errors and 5xx.
Last, in this process on one thread, the network's cost per sequence alone and in a batch of 32, at 60 to 600
steps, on each backend: what micro-batching can save before any HTTP. `--costs-only` measures only that;
`--arch` and `--hidden` choose the classifier trained without --run (for example a plain LSTM of 256 units).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STEPS, CLASSES = 60, 3
SCRIPT = Path(sys.executable).parent / "lstmkit"


def train_run(folder: Path, arch: str = "lstm-fcn", hidden: int = 64, slice_views: int | None = None) -> Path:
    """A numeric classifier (`arch`, `hidden` units) on generated sequences (a bump, a dip or a step at a
    random place, so the FCN archs train on slices: `augment` auto), predicting from `slice_views` slices
    beside the whole (None: the classifier's default)."""
    rng = np.random.default_rng(0)
    X = rng.normal(0, 0.2, (300, STEPS, 1)).astype(np.float32)
    y = np.arange(300) % CLASSES
    for k in range(300):
        at = rng.integers(5, STEPS - 10)
        X[k, at : at + 5, 0] += (2.0, -2.0, 0.0)[y[k]]
        X[k, at:, 0] += (0.0, 0.0, 1.5)[y[k]]
    np.savez(folder / "shapes.npz", X=X, y=y)
    run = folder / "run"
    subprocess.run([str(SCRIPT), "train", "classify", "--data", str(folder / "shapes.npz"), "--epochs", "5",
                    "--arch", arch, "--hidden", str(hidden), "--quiet", "--out", str(run),
                    *([] if slice_views is None else ["--slice-views", str(slice_views)])], check=True)  # fmt: skip
    return run


def body(rng) -> dict:
    return {"sequences": [rng.normal(0, 1, STEPS).round(4).tolist()]}


class Server:
    def __init__(self, run: Path, port: int, options: list[str]):
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([str(SCRIPT), "serve", str(run), "--port", str(port), *options],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped (exit code {self.process.returncode})")
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit("the server did not become ready")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


async def load(url: str, concurrency: int, requests: int, seconds: float) -> dict:
    """`requests` requests (or `seconds` seconds) from `concurrency` keep-alive connections: throughput,
    p50/p99, errors. The client is HTTP/1.1 written by hand on asyncio streams, so its own CPU (on the same
    cores as the server) stays small: httpx's asyncio client capped this machine near 180 requests/s."""
    host, port = url.removeprefix("http://").split(":")
    rng = np.random.default_rng(1)
    bodies = [json.dumps(body(rng)).encode() for _ in range(256)]
    latencies, statuses = [], []
    started = time.perf_counter()
    stop_at = started + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while len(statuses) < requests and time.perf_counter() < stop_at:
                payload = bodies[len(statuses) % len(bodies)]
                t = time.perf_counter()
                writer.write(b"POST /predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))  # fmt: skip
                try:
                    status = int((await reader.readline()).split()[1])
                    length = 0
                    while (line := await reader.readline()) not in (b"\r\n", b""):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    await reader.readexactly(length)
                except (IndexError, ValueError, asyncio.IncompleteReadError, ConnectionError):
                    status = 0  # no answer at all
                latencies.append(time.perf_counter() - t)
                statuses.append(status)
                if status == 0:
                    return
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    statuses = np.asarray(statuses)
    return {"requests": len(statuses), "seconds": elapsed, "throughput": len(statuses) / elapsed,
            "p50_ms": 1000 * float(np.percentile(latencies, 50)), "p99_ms": 1000 * float(np.percentile(latencies, 99)),
            "errors": int(np.sum(statuses != 200)), "5xx": int(np.sum(statuses >= 500))}  # fmt: skip


def cell(run: Path, backend: str, batching: bool, concurrency: int, requests: int, seconds: float, wait_ms: float = 0.0,
         access_log: bool = True) -> dict:
    from lstmkit.launch import free_port

    options = ["--backend", backend, *(["--max-batch", "32", "--max-wait-ms", str(wait_ms)] if batching else ["--max-batch", "1"]),
               *([] if access_log else ["--no-access-log"])]  # fmt: skip
    server = Server(run, free_port(), options)
    try:
        server.wait_ready()
        asyncio.run(load(server.url, 4, 20, 30))  # warm up
        return asyncio.run(load(server.url, concurrency, requests, seconds))
    finally:
        server.stop()


def networks(run: Path, threads: int = 0) -> tuple:
    """The run's estimator, and its network on PyTorch and on ONNX Runtime (a call on `threads` threads, 0:
    one per core) by backend."""
    from lstmkit.export.onnx import OrtNet, onnx_session_of
    from lstmkit.tasks.run import load_run

    estimator = load_run(run)
    graph = estimator.export_graph()
    with tempfile.TemporaryDirectory() as folder:
        runner = onnx_session_of(graph, folder, threads)
    return estimator, {"torch": estimator.model_, "onnx": OrtNet(runner, list(graph.inputs), ["logits"])}


def median_ms(net, size: int, steps: int, features: int, calls: int, warm: int) -> float:
    """The median ms of `calls` calls of `net` on a random batch of `size` sequences of `steps` steps, the
    first `warm` not counted."""
    import torch

    x, lengths = torch.randn(size, steps, features), torch.full((size,), steps)
    times = []
    with torch.no_grad():
        for _ in range(calls):
            t = time.perf_counter()
            net(x, lengths)
            times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times[warm:]))


def single_latency(run: Path, calls: int = 300) -> dict:
    """One sequence a call, in this process: the network on PyTorch and on ONNX Runtime, median ms."""
    estimator, nets = networks(run)
    return {name: median_ms(net, 1, STEPS, estimator.inputs_, calls, 20) for name, net in nets.items()}


def batch_costs(run: Path, lengths=(60, 150, 300, 600), batch: int = 32, threads: int = 1) -> list[dict]:
    """The network's cost per sequence, in this process on `threads` threads, for a lone sequence and in a
    batch of `batch`, on PyTorch and ONNX Runtime, at each of `lengths` steps (median ms): how much a
    micro-batch can save a backend at all, before any HTTP."""
    import torch

    torch.set_num_threads(threads)
    estimator, nets = networks(run, threads)
    return [{"backend": name, "steps": steps,
             "alone_ms": median_ms(net, 1, steps, estimator.inputs_, 60, 5),
             "batched_ms": median_ms(net, batch, steps, estimator.inputs_, 15, 5) / batch}
            for steps in lengths for name, net in nets.items()]  # fmt: skip


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=None, help="a run directory (default: train a classifier)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--backends", default="torch,onnx")
    parser.add_argument("--wait-ms", type=float, default=0.0, help="the servers' --max-wait-ms with micro-batching")
    parser.add_argument("--no-access-log", action="store_true", help="the servers without their line per request (lstmkit serve --no-access-log)")
    parser.add_argument("--soak", type=float, default=0.0, help="then this many seconds at concurrency 32")
    parser.add_argument("--arch", default="lstm-fcn", help="the trained classifier's network (without --run)")
    parser.add_argument("--hidden", type=int, default=64, help="its LSTM units (without --run)")
    parser.add_argument("--slice-views", type=int, default=None,
                        help="its --slice-views (without --run; default the classifier's, 0: the whole alone)")
    parser.add_argument("--costs-only", action="store_true", help="only the cost per sequence alone and batched")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/serve_load.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        run = args.run or train_run(Path(folder), args.arch, args.hidden, args.slice_views)
        rows, soak, latency = [], [], None
        backends = [] if args.costs_only else args.backends.split(",")
        if backends:
            print("| backend | micro-batching | concurrency | requests | req/s | p50 ms | p99 ms | errors | 5xx |")
            print("|---|---|---|---|---|---|---|---|---|")
        for backend in backends:
            for batching in (False, True):
                for concurrency in map(int, args.concurrency.split(",")):
                    r = cell(run, backend, batching, concurrency, args.requests, args.seconds, args.wait_ms, not args.no_access_log)
                    rows.append({"backend": backend, "batching": batching, "concurrency": concurrency, **r})
                    print(f"| {backend} | {'yes' if batching else 'no'} | {concurrency} | {r['requests']} | "
                          f"{r['throughput']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | {r['5xx']} |", flush=True)  # fmt: skip
        for backend in backends if args.soak else []:
            r = cell(run, backend, True, 32, 10**9, args.soak, args.wait_ms, not args.no_access_log)
            soak.append({"backend": backend, **r})
            print(f"\nsoak, {backend}, concurrency 32, micro-batching, {r['seconds']:.0f} s: {r['requests']} requests, "
                  f"{r['throughput']:.0f} req/s, p99 {r['p99_ms']:.1f} ms, {r['errors']} errors, {r['5xx']} 5xx", flush=True)  # fmt: skip
        if backends:
            latency = single_latency(run)
            print(f"\nbatch-1 latency in one process (one sequence of {STEPS} steps): PyTorch {latency['torch']:.2f} ms, "
                  f"ONNX Runtime {latency['onnx']:.2f} ms (median)")  # fmt: skip
        costs = batch_costs(run)
        print("\nthe network's cost per sequence in one process, one thread (median ms):\n")
        print("| backend | steps | a lone sequence | in a batch of 32 | ratio |")
        print("|---|---|---|---|---|")
        for c in costs:
            print(f"| {c['backend']} | {c['steps']} | {c['alone_ms']:.3f} | {c['batched_ms']:.3f} | "
                  f"{c['alone_ms'] / c['batched_ms']:.2f} |")  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "soak": soak, "batch1_ms": latency, "batch_costs": costs,
                                     "threads": os.cpu_count()}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
