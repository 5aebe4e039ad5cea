"""Time to result: what a user waits for, end to end, and how training steps fare on a busy machine.

    pip install -e ".[bench]"        # darts: its RNNModel beside lstmkit's forecaster
    python benchmarks/time_to_result.py [--quick] [--only table1|airline|table2] [--steps 300] [--omp-threads N]
                                        [--json benchmarks/results/time_to_result.json]

Table 1, "time to result": each command as a new user runs it, `lstmkit ...` in a fresh Python process, with
its wall time split into phases by a thin wrapper that times lstmkit's own functions (nothing in lstmkit
changes): import (Python's start and exit, and every import, lazy ones included, wherever it happens), data
(reading and preparing the input: `lstmkit.data` and the demos' data), training (`train.fit`, without its
checkpoints), checkpoints (`save_checkpoint`), baselines (statsforecast's ETS and Theta, Naive2 and the other
baselines), report (the job's `write_report`), predict (loading a run and predicting) and other (the rest:
windows, scoring, saving the model, printing). Each phase's time excludes the phases nested in it. Rows:
`lstmkit --help`, the four demos (`lstmkit demo NAME --quiet`) and a one-shot airline holdout: the last 24
months of the shipped airline series forecast from the rest,

    lstmkit train forecast --data src/lstmkit/data/files/airline_passengers.csv --target passengers \
        --time-col month --horizon 24 --val-frac 0.1667 --test-frac 0.1667 --out RUN --quiet
    lstmkit predict RUN

(otherwise the default settings: 96 months train, 24 choose the epoch, the last 24 are the test part, one
24-step window; 0.1667 of 144 rows is 24), then, in the same run, Darts' `RNNModel(model="LSTM")` on the
same series and holdout in a fresh Python process: import, data (the CSV to a float32 `TimeSeries` scaled by
Darts' `Scaler`, fitted on the 120 months before the test part), fit and predict(24), as a Darts user would
write it: `input_chunk_length=24` (lstmkit's lookback), `training_length=48` (lookback + horizon, the window
lstmkit trains on), `hidden_dim=64` (lstmkit's), as many epochs as lstmkit's run trained (it stops early;
Darts does not without a callback), `random_state=0`, otherwise Darts' defaults (Adam at 1e-3, batch 32,
one layer), on the CPU without a progress bar. Both MASEs come from lstmkit's own `forecast_metrics` on the
test part, seasonal period 12, scaled by the seasonal naive error of the training part (the first 96 months),
as lstmkit's metrics.json has it. The child processes run without PYTHONDONTWRITEBYTECODE, as a user's would.
On a shared machine, OpenMP's stalls (a thread waiting for a sibling the scheduler has put aside) make torch
training 10-50x slower at random moments, whoever runs it; `--omp-threads 1` gives every command one thread,
lstmkit's and Darts' alike, which keeps the comparison steady there (`--only airline` runs just that part).

Table 2, "busy machine": the same training step (forward, backward and Adam, a linear head on the last
state) for batch 32, 36 steps, 1 input, hidden 64 (the airline forecaster's size) and batch 64, 50 steps,
32 inputs, hidden 128, each configuration in a fresh process so thread pools do not carry over, on the quiet
machine and beside one busy-loop process (`python -c "while True: pass"`): lstmkit's layer with automatic
threads (`lstmkit.train.threads.ThreadGovernor()`; "not available" where lstmkit has none), with 1 and 2
fixed threads (`--threads N`), and `torch.nn.LSTM` with torch's default threads and with 1 thread. Each row:
median and worst step in ms over `--steps` steps (after 10 untimed ones), and the median relative to
lstmkit's quiet 1-thread median of the same shape.

Timings are of this machine at this moment: run it on a machine that is otherwise idle (Table 2 makes its
own busy process).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = ("import", "data", "training", "checkpoints", "baselines", "report", "predict", "other")
HOLDOUT = 24  # months held out of the airline series: the test part, one 24-step window
SEASON = 12
AIRLINE = ["--target", "passengers", "--time-col", "month", "--horizon", str(HOLDOUT),
           "--val-frac", "0.1667", "--test-frac", "0.1667"]  # fmt: skip
SHAPES = {"forecaster (B32 T36 I1 H64)": (32, 36, 1, 64), "larger (B64 T50 I32 H128)": (64, 50, 32, 128)}
BUSY_LOOP = "while True: pass"


# ---- the child side of Table 1: one lstmkit command, its phases timed ----------------------------------------
class PhaseClock:
    """Wall time per phase, each phase's time without the phases nested in it (a stack of open phases)."""

    def __init__(self) -> None:
        self.spent = dict.fromkeys(PHASES, 0.0)
        self.open = ["other"]
        self.mark = time.perf_counter()

    def enter(self, phase: str) -> None:
        now = time.perf_counter()
        self.spent[self.open[-1]] += now - self.mark
        self.mark = now
        self.open.append(phase)

    def leave(self) -> None:
        now = time.perf_counter()
        self.spent[self.open.pop()] += now - self.mark
        self.mark = now

    def timed(self, phase: str, function):
        def wrapper(*args, **kwargs):
            self.enter(phase)
            try:
                return function(*args, **kwargs)
            finally:
                self.leave()

        wrapper.__wrapped__, wrapper.__name__, wrapper.__qualname__ = function, function.__name__, function.__qualname__
        wrapper.__module__ = function.__module__  # pickled by name, as a call sent to a helper process is
        return wrapper


# which of lstmkit's functions open which phase: every module-level function of the modules named (a name
# ending in "." covers the package's modules), or the named ones; "Class.method" patches the class
HOOKS = {
    "data": {"lstmkit.data.": "*", "lstmkit.tasks.lm.demo": ("stdlib_corpus",),
             "lstmkit.tasks.anomaly.demo": ("demo_anomaly_data",), "lstmkit.tasks.classify.demo": ("temporal_order_data",)},
    "training": {"lstmkit.train.loop": ("fit",)},
    "checkpoints": {"lstmkit.train.checkpoint": ("save_checkpoint",)},
    "baselines": {"lstmkit.statistical": "*", "lstmkit.baselines": "*"},
    "report": {"lstmkit.tasks.job": ("Job.write_report",)},
    "predict": {"lstmkit.tasks.estimator": ("Estimator.load",), "lstmkit.tasks.": ("*.predict",)},
}  # fmt: skip


def _hooks_of(module_name: str):
    for phase, modules in HOOKS.items():
        for name, what in modules.items():
            if module_name == name or (name.endswith(".") and module_name.startswith(name)):
                yield phase, what


def _patch(module, clock: PhaseClock, wrapped: dict) -> None:
    """Wrap the hooked functions `module` defines, and rebind any wrapped function it imported by name."""
    import inspect

    namespace = vars(module)
    for phase, what in _hooks_of(module.__name__):
        if what == "*":
            for key, value in list(namespace.items()):
                if inspect.isfunction(value) and value.__module__ == module.__name__ and id(value) not in wrapped:
                    wrapped[id(value)] = namespace[key] = clock.timed(phase, value)
            continue
        for dotted in what:
            owner, _, method = dotted.rpartition(".")
            classes = [v for v in namespace.values() if inspect.isclass(v) and v.__module__ == module.__name__]
            for cls in (classes if owner == "*" else [namespace[owner]] if owner else []):
                raw = cls.__dict__.get(method)
                if isinstance(raw, classmethod):
                    cls_attr = classmethod(clock.timed(phase, raw.__func__))
                elif inspect.isfunction(raw):
                    cls_attr = clock.timed(phase, raw)
                else:
                    continue
                setattr(cls, method, cls_attr)
            if not owner and method in namespace and id(namespace[method]) not in wrapped:
                original = namespace[method]
                wrapped[id(original)] = namespace[method] = clock.timed(phase, original)
    for key, value in list(namespace.items()):  # `from .x import f` bound before f was wrapped
        if callable(value) and id(value) in wrapped and not hasattr(value, "__wrapped__"):
            namespace[key] = wrapped[id(value)]


def run_child(result_path: str, argv: list[str]) -> int:
    """Run `lstmkit ARGV` in this process with its phases timed; write them to `result_path` as JSON."""
    import _frozen_importlib as bootstrap  # the import system that `import` and importlib.import_module use

    clock, wrapped, find_and_load = PhaseClock(), {}, bootstrap._find_and_load

    def timed_find_and_load(name, import_):
        clock.enter("import")
        try:
            module = find_and_load(name, import_)
        finally:
            clock.leave()
        if name.startswith("lstmkit"):
            _patch(module, clock, wrapped)
        return module

    bootstrap._find_and_load = timed_find_and_load
    outcome = {"code": 1}

    @atexit.register  # the last thing the command's exit does before the process ends (`lstmkit.__main__.leave`)
    def write_phases() -> None:
        clock.spent[clock.open[-1]] += time.perf_counter() - clock.mark
        Path(result_path).write_text(json.dumps({"phases": clock.spent, "code": outcome["code"]}))

    clock.enter("import")
    import lstmkit.__main__

    clock.leave()
    sys.argv[1:] = argv
    try:  # as the console script runs it (`run`), to its exit
        outcome["code"] = lstmkit.__main__.main()
    except SystemExit as done:
        outcome["code"] = done.code
    lstmkit.__main__.leave(outcome["code"])
    return outcome["code"]


# ---- Darts, in its own process -----------------------------------------------------------------------------------
DARTS = r"""
import json, sys, time
started = time.perf_counter()
import numpy as np
import pandas as pd
from darts import TimeSeries
from darts.dataprocessing.transformers import Scaler
from darts.models import RNNModel
imported = time.perf_counter()
path, epochs, holdout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
frame = pd.read_csv(path, parse_dates=["month"])
series = TimeSeries.from_dataframe(frame, time_col="month", value_cols="passengers").astype(np.float32)
train = series[:-holdout]
scaler = Scaler()
train_scaled = scaler.fit_transform(train)
read = time.perf_counter()
model = RNNModel(model="LSTM", input_chunk_length=24, training_length=48, hidden_dim=64, n_epochs=epochs,
                 random_state=0, pl_trainer_kwargs={"accelerator": "cpu", "enable_progress_bar": False,
                                                    "enable_model_summary": False, "logger": False})
model.fit(train_scaled, verbose=False)
fitted = time.perf_counter()
forecast = scaler.inverse_transform(model.predict(holdout, verbose=False))
predicted = time.perf_counter()
print("DARTS-RESULT " + json.dumps({"phases": {"import": imported - started, "data": read - imported,
      "training": fitted - read, "predict": predicted - fitted}, "forecast": forecast.values().ravel().tolist()}))
"""


# ---- Table 1 -------------------------------------------------------------------------------------------------------
def child_env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's Python caches compiled modules
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def timed_command(label: str, argv: list[str], cwd: Path) -> dict:
    """`lstmkit ARGV` in a fresh process: its wall time and phases (Python's start and exit count as import)."""
    result = cwd / "phases.json"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(result), *argv], cwd=cwd,
                          env=child_env(), capture_output=True, text=True)  # fmt: skip
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{label}: exit code {done.returncode}\n{done.stderr[-2000:]}")
    phases = json.loads(result.read_text())["phases"]
    phases["import"] += wall - sum(phases.values())  # the start and the exit of Python, outside the child's clock
    return {"command": label, "wall_s": wall, **{f"{p}_s": phases[p] for p in PHASES}}


def darts_row(path: Path, epochs: int, cwd: Path) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", DARTS, str(path), str(epochs), str(HOLDOUT)], cwd=cwd,
                          env=child_env(), capture_output=True, text=True)  # fmt: skip
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("DARTS-RESULT ")]
    if done.returncode != 0 or not lines:
        return {"command": "darts RNNModel(LSTM) fit + predict", "wall_s": None, "note": done.stderr.strip()[-500:]}
    found = json.loads(lines[-1][len("DARTS-RESULT ") :])
    phases = {p: found["phases"].get(p, 0.0) for p in PHASES}
    phases["other"] = wall - sum(phases.values())
    return {"command": f"darts RNNModel(LSTM) fit + predict ({epochs} epochs)", "wall_s": wall,
            **{f"{p}_s": phases[p] for p in PHASES}, "forecast": found["forecast"]}  # fmt: skip


def holdout_mase(path: Path, forecast) -> float:
    """MASE of a forecast of the last HOLDOUT months, as lstmkit scores its test part (scaled on the training part)."""
    import numpy as np
    import pandas as pd

    from lstmkit.data import split_by_time
    from lstmkit.metrics import forecast_metrics

    target = pd.read_csv(path)["passengers"].to_numpy(dtype=float)
    train, _, test = split_by_time(len(target), 0.1667, 0.1667)
    assert test.stop - test.start == HOLDOUT
    return forecast_metrics(target[test], np.asarray(forecast, dtype=float), y_train=target[train], season=SEASON)["mase"]


def table1(quick: bool, work: Path, demos: bool = True) -> list[dict]:
    from lstmkit.data.shipped import airline_csv

    airline = Path(airline_csv())
    run = work / "airline"
    commands = [("lstmkit --help", ["--help"])] if demos else []
    names = ["forecast", "anomaly"] if quick else ["forecast", "classify", "lm", "anomaly"]
    commands += [(f"lstmkit demo {name}", ["demo", name, "--out", str(work / f"demo-{name}"), "--quiet"])
                 for name in (names if demos else [])]  # fmt: skip
    commands += [("airline holdout: lstmkit train forecast", ["train", "forecast", "--data", str(airline), *AIRLINE,
                                                              "--out", str(run), "--quiet"]),
                 ("airline holdout: lstmkit predict", ["predict", str(run)])]  # fmt: skip
    rows = []
    for label, argv in commands:
        rows.append(timed_command(label, argv, work))
        _print_row1(rows[-1])
    train, predict = rows[-2], rows[-1]
    both = {"command": "airline holdout: train + predict",
            **{key: train[key] + predict[key] for key in train if key.endswith("_s")}}  # fmt: skip
    both["mase"] = json.loads((run / "metrics.json").read_text())["test"]["mase"]
    rows.append(both)
    _print_row1(both)
    epochs = sum(1 for _ in open(run / "history.csv")) - 1
    darts = darts_row(airline, epochs, work)
    if darts["wall_s"] is not None:
        darts["mase"] = holdout_mase(airline, darts.pop("forecast"))
        darts["lstmkit_speedup"] = darts["wall_s"] / both["wall_s"]
    rows.append(darts)
    _print_row1(darts)
    return rows


HEADER1 = ("command", "wall_s", *(f"{p}_s" for p in PHASES), "mase")


def _print_row1(row: dict) -> None:
    print(markdown_row([row.get(key) for key in HEADER1]) + (f"  ({row['note']})" if row.get("note") else ""), flush=True)


# ---- Table 2 -------------------------------------------------------------------------------------------------------
CONFIGS = [("lstmkit", "auto"), ("lstmkit", 1), ("lstmkit", 2), ("torch.nn.LSTM", "default"), ("torch.nn.LSTM", 1)]


def run_steps(layer: str, threads, shape: tuple[int, int, int, int], steps: int) -> dict:
    """Step times (s) of one configuration in this process; `threads` 'auto', 'default' or a count."""
    import torch
    from torch import nn

    batch, length, inputs, hidden = shape
    torch.manual_seed(0)
    governor = None
    if layer == "lstmkit":
        from lstmkit import LSTM

        try:
            from lstmkit.train.threads import ThreadGovernor
        except ImportError:
            ThreadGovernor = None  # noqa: N806 - lstmkit without busy-machine thread choice
        if ThreadGovernor is not None:
            governor = ThreadGovernor(None if threads == "auto" else int(threads))
        elif threads == "auto":
            return {"note": "not available"}
        else:
            torch.set_num_threads(int(threads))
        lstm = LSTM(inputs, hidden, batch_first=True)
    else:
        if threads != "default":
            torch.set_num_threads(int(threads))
        lstm = nn.LSTM(inputs, hidden, batch_first=True)
    head = nn.Linear(hidden, 1)
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=1e-3)
    x, y = torch.randn(batch, length, inputs), torch.randn(batch, 1)
    times, used = [], {}
    invariant = contextlib.nullcontext()
    if layer == "lstmkit":
        try:  # as lstmkit's training loop runs its layers (train.fit)
            from lstmkit.nn.functional import thread_invariant

            invariant = thread_invariant()
        except ImportError:
            pass
    try:
        invariant.__enter__()
        for step in range(10 + steps):
            start = time.perf_counter()
            if governor is not None:
                count = governor.before_step()
                used[count] = used.get(count, 0) + 1
            loss = nn.functional.mse_loss(head(lstm(x)[0][:, -1]), y)  # (B, 1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seconds = time.perf_counter() - start
            if governor is not None:
                governor.after_step(seconds)
            if step >= 10:
                times.append(seconds)
    finally:
        invariant.__exit__(None, None, None)
        if governor is not None:
            governor.close()
    return {"times": times, "torch_threads": torch.get_num_threads(), "threads_used": used}


def step_config(layer: str, threads, shape, steps: int, busy: bool) -> dict:
    """One configuration in a fresh process, beside a busy loop when `busy` (always ended, even on failure)."""
    spec = json.dumps({"layer": layer, "threads": threads, "shape": shape, "steps": steps})
    hog = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if busy else None
    try:
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--steps-child", spec],
                              env=child_env(), capture_output=True, text=True)  # fmt: skip
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    if done.returncode != 0:
        return {"note": f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table2(quick: bool, steps: int) -> list[dict]:
    shapes = dict(list(SHAPES.items())[:1]) if quick else SHAPES
    rows = []
    for shape_name, shape in shapes.items():
        base = step_config("lstmkit", 1, shape, steps, busy=False)  # the yardstick, measured first
        for machine in ("quiet", "busy"):
            for layer, threads in CONFIGS:
                yardstick = (layer, threads, machine) == ("lstmkit", 1, "quiet")
                found = base if yardstick else step_config(layer, threads, shape, steps, machine == "busy")
                row = {"shape": shape_name, "machine": machine, "layer": layer, "threads": threads}
                if "times" in found:
                    times, base_times = found["times"], base.get("times")
                    row.update(median_ms=statistics.median(times) * 1e3, worst_ms=max(times) * 1e3)
                    row["vs_lstmkit_1_thread"] = statistics.median(times) / statistics.median(base_times) if base_times else None
                    row["worst_vs_median"] = max(times) / statistics.median(times)
                    if threads == "auto":  # how many steps ran on each count
                        row["threads_used"] = " ".join(f"{n}:{k}" for n, k in sorted(found["threads_used"].items()))
                else:
                    row["note"] = found.get("note")
                rows.append(row)
                print(markdown_row([row.get(key) for key in HEADER2]) + (f"  ({row['note']})" if row.get("note") else ""),
                      flush=True)  # fmt: skip
    return rows


HEADER2 = ("shape", "machine", "layer", "threads", "median_ms", "worst_ms", "vs_lstmkit_1_thread", "worst_vs_median",
           "threads_used")


def markdown_row(cells) -> str:
    shown = [f"{c:.3f}" if isinstance(c, float) else "" if c is None else str(c) for c in cells]
    return "| " + " | ".join(shown) + " |"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two demos, one shape, 60 steps: a smoke run")
    parser.add_argument("--only", choices=("table1", "airline", "table2"), default=None,
                        help="one table; airline: Table 1's airline holdout and Darts alone")
    parser.add_argument("--omp-threads", type=int, default=None,
                        help="OMP_NUM_THREADS for every command (default: unset, each library's own choice)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per configuration (default 300)")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/time_to_result.json"))
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a `timeout` or kill still ends the busy loop (finally)
    if args.omp_threads:  # the child processes inherit it
        os.environ["OMP_NUM_THREADS"] = str(args.omp_threads)
    results = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_before": os.getloadavg(),
                           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}}  # fmt: skip
    print(f"{os.cpu_count()} CPUs; load average before the run (1, 5, 15 min): {_load()}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "table1", "airline"):
        print("Table 1: time to result (s)\n" + markdown_row(HEADER1) + "\n" + markdown_row(["---"] * len(HEADER1)), flush=True)
        with tempfile.TemporaryDirectory(prefix="lstmkit-ttr-") as work:
            results["time_to_result"] = table1(args.quick, Path(work), demos=args.only != "airline")
        darts = results["time_to_result"][-1]
        if darts.get("wall_s"):
            print(f"Darts' fit + predict / lstmkit's airline train + predict, wall time: {darts['lstmkit_speedup']:.2f} "
                  "(above 1: lstmkit finishes first)")  # fmt: skip
        args.json.write_text(json.dumps(results, indent=1))
    if args.only in (None, "table2"):
        steps = args.steps or (60 if args.quick else 300)
        print(f"\nTable 2: training steps, quiet and beside one busy-loop process ({steps} steps)\n"
              + markdown_row(HEADER2) + "\n" + markdown_row(["---"] * len(HEADER2)), flush=True)  # fmt: skip
        results["busy_machine"] = table2(args.quick, steps)
    results["machine"]["load_after"] = os.getloadavg()
    print(f"load average after the run: {_load()}")
    args.json.write_text(json.dumps(results, indent=1))


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:  # Table 1's wrapper around one lstmkit command
        sys.exit(run_child(sys.argv[2], sys.argv[3:]))
    if sys.argv[1:2] == ["--steps-child"]:  # Table 2: one configuration
        spec = json.loads(sys.argv[2])
        print(json.dumps(run_steps(spec["layer"], spec["threads"], tuple(spec["shape"]), spec["steps"])))
        sys.exit(0)
    main()
