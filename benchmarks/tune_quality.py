"""What `lstmkit tune` buys, in one run: tuned against default settings on the test part, pruning against
no pruning at the same number of trials, and one worker against two.

    OMP_NUM_THREADS=1 python benchmarks/tune_quality.py [--trials 30] [--parts tuned,pruning,workers]
        [--sets forecast,ItalyPowerDemand] [--epochs N] [--json benchmarks/results/tune_quality.json]

Sets: `forecast` is the forecasting demo (monthly airline passengers, 12 months ahead, shipped with lstmkit);
any other name is a UCR/UEA classification set inside the sktime wheel (its published TRAIN/TEST split,
the test file as the classifier's `test`; `pip install -e ".[bench]"`). Each study runs in a fresh folder.

- tuned: one study of `--trials` trials (median pruner); the best run's test metric (MASE, accuracy) against
  the default run's, both trained by the study itself (out/best, out/default).
- pruning: the same study with `--pruner median`, `--pruner hyperband` and `--pruner none`: wall seconds of the trials alone (no
  best and default runs) and the best validation loss.
- workers: the trials with `--workers 1` and `--workers 2`: wall seconds.

The targets of issue 16: the tuned model beats the default on the test part; pruning cuts the study's time at
least 2x with a best validation no worse; two workers finish faster than one (on a machine with the cores).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import lstmkit

METRIC = {"forecast": ("mase", False), "classify": ("accuracy", True)}  # (metric, higher is better)


def study_of(name: str, epochs: int | None) -> tuple[str, Path, dict]:
    """(job, data, settings) of a set."""
    extra = {"epochs": epochs} if epochs else {}
    if name == "forecast":
        from lstmkit.data.shipped import airline_csv

        return "forecast", Path(airline_csv()), {"target": "passengers", "time_col": "month", "horizon": 12, **extra}
    import sktime

    folder = Path(sktime.__file__).parent / "datasets" / "data" / name
    return "classify", folder / f"{name}_TRAIN.ts", {"test": str(folder / f"{name}_TEST.ts"), **extra}


def one_study(job: str, data: Path, settings: dict, trials: int, **options) -> tuple[dict, float]:
    """The whole of `lstmkit.tune` (trials, then the best and default runs): tune.json's content, seconds."""
    with tempfile.TemporaryDirectory(prefix="tune-quality-") as out:
        started = time.perf_counter()
        summary = lstmkit.tune(job, data, Path(out) / "t", trials=trials, settings=settings, **options)
        return summary, time.perf_counter() - started


def trials_only(job: str, data: Path, settings: dict, trials: int, workers: int = 1, pruner: str = "median") -> dict:
    """The trials alone (no best and default runs): their wall seconds, the best validation loss, the states."""
    from lstmkit.tuning import prepare, run
    from lstmkit.tuning.study import counts

    with tempfile.TemporaryDirectory(prefix="tune-quality-") as out:
        started = time.perf_counter()
        _, spec, study = prepare(job, data, Path(out) / "t", trials=trials, settings=settings, workers=workers, pruner=pruner)
        run(spec, workers, pruner)
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "best_val": study.best_value, "states": counts(study)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--parts", default="tuned,pruning,workers")
    parser.add_argument("--sets", default="forecast,ItalyPowerDemand")
    parser.add_argument("--epochs", type=int, default=None, help="Most epochs per trial (default: each job's).")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/tune_quality.json"))
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    rows = []
    for name in args.sets.split(","):
        job, data, settings = study_of(name, args.epochs)
        metric, higher = METRIC[job]
        row = {"set": name, "job": job, "trials": args.trials}
        if "tuned" in parts:
            summary, seconds = one_study(job, data, settings, args.trials)
            best, default = (summary["compared"][run]["test"][metric] for run in ("best", "default"))
            row["tuned"] = {"metric": metric, "best": best, "default": default, "seconds": seconds,
                            "beats_default": (best > default) if higher else (best < default),
                            "best_params": summary["best"]["params"], "states": summary["states"]}  # fmt: skip
        if "pruning" in parts:
            row["pruning"] = {}
            for pruner in ("median", "hyperband", "none"):
                row["pruning"][pruner] = trials_only(job, data, settings, args.trials, pruner=pruner)
        if "workers" in parts:
            row["workers"] = {}
            for workers in (1, 2):
                row["workers"][str(workers)] = trials_only(job, data, settings, args.trials, workers=workers)
        rows.append(row)
        print(table_row(row), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"trials": args.trials, "epochs": args.epochs, "rows": rows}, indent=2, default=str))
    print(f"written to {args.json}")


def table_row(row: dict) -> str:
    """One set's results as a few plain lines."""
    lines = [f"{row['set']} ({row['job']}, {row['trials']} trials)"]
    if "tuned" in row:
        t = row["tuned"]
        lines.append(f"  tuned {t['metric']} {t['best']:.4g} vs default {t['default']:.4g} "
                     f"({'better' if t['beats_default'] else 'not better'}), {t['seconds']:.0f} s")  # fmt: skip
    if "pruning" in row:
        p = row["pruning"]
        for pruner in ("median", "hyperband"):
            if pruner in p:
                ratio = p["none"]["seconds"] / p[pruner]["seconds"]
                lines.append(f"  pruning: {pruner} {p[pruner]['seconds']:.0f} s (best val {p[pruner]['best_val']:.4g}, "
                             f"{p[pruner]['states']['pruned']} pruned) vs none {p['none']['seconds']:.0f} s "
                             f"(best val {p['none']['best_val']:.4g}): {ratio:.2f}x")  # fmt: skip
    if "workers" in row:
        w = row["workers"]
        lines.append(f"  workers: 1 -> {w['1']['seconds']:.0f} s, 2 -> {w['2']['seconds']:.0f} s")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
