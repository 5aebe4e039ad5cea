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

`--collection NAME` (`m3-monthly`, `tourism-quarterly`, any of forecast_quality.py's competition collections)
tunes `--per` of its series one at a time, as a user tunes a series alone, once for each `--origins` value:
each study's best run against its default run on the series' test part (MASE), their mean, the geometric mean
of their ratios and the series where tuning won and lost, so that what a choice on one stretch of one
series' past is worth shows on series no one chose on:

    OMP_NUM_THREADS=1 python benchmarks/tune_quality.py --collection m3-monthly --per 16 --trials 20 --origins 1,3

The targets of issue 16: the tuned model beats the default on the test part; pruning cuts the study's time at
least 2x with a best validation no worse; two workers finish faster than one (on a machine with the cores).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

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


def tune_series(frame, settings: dict, trials: int, origins: int) -> tuple[float, float, float]:
    """One series tuned alone: (best run's test MASE, default run's, seconds)."""
    with tempfile.TemporaryDirectory(prefix="tune-quality-") as out:
        path = Path(out) / "series.csv"
        frame.to_csv(path, index=False)
        summary, seconds = one_study("forecast", path, settings, trials, origins=origins)
    best, default = (summary["compared"][run]["test"]["mase"] for run in ("best", "default"))
    return best, default, seconds


def main_collection(args) -> None:
    """`--collection`: each of `--per` series of a competition collection tuned alone, at each `--origins`."""
    from forecast_quality import competition

    from lstmkit.errors import DataError

    data, horizon, season = competition(args.collection, None)
    ids = data["id"].unique()
    chosen = ids[:: max(1, len(ids) // args.per)][: args.per]
    settings = {"target": "y", "time_col": "t", "horizon": horizon, "season": season}
    rows = []
    for origins in (int(k) for k in args.origins.split(",")):
        found, skipped = [], 0
        for name in chosen:
            try:
                found.append((str(name), *tune_series(data.loc[data["id"] == name, ["t", "y"]], settings, args.trials, origins)))
            except DataError:  # too short for the default settings: what a user tuning it would be told
                skipped += 1
        best, default, seconds = (np.array([row[k] for row in found]) for k in (1, 2, 3))
        row = {"collection": args.collection, "origins": origins, "trials": args.trials, "series": len(found),
               "skipped": skipped, "best": best.mean(), "default": default.mean(),
               "ratio": float(np.exp(np.mean(np.log(best / default)))), "won": int(np.sum(best < default)),
               "lost": int(np.sum(best > default)), "seconds": seconds.sum(), "per_series": found}  # fmt: skip
        rows.append(row)
        print(f"{args.collection}, origins {origins}: {len(found)} series ({skipped} too short), tuned {row['best']:.3f} "
              f"against default {row['default']:.3f} mean MASE, geometric mean ratio {row['ratio']:.3f}, won "
              f"{row['won']}, lost {row['lost']}, {row['seconds']:.0f} s", flush=True)  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows}, indent=2, default=str))
    print(f"written to {args.json}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--collection", default=None, help="A competition collection whose series are tuned alone.")
    parser.add_argument("--per", type=int, default=16, help="With --collection: how many of its series (every k-th).")
    parser.add_argument("--origins", default="1,3", help="With --collection: the trials' origins, each value a study.")
    parser.add_argument("--parts", default="tuned,pruning,workers")
    parser.add_argument("--sets", default="forecast,ItalyPowerDemand")
    parser.add_argument("--epochs", type=int, default=None, help="Most epochs per trial (default: each job's).")
    parser.add_argument("--json", type=Path, default=None, help="Default: benchmarks/results/tune_quality.json, or "
                                                                 "tune_quality_COLLECTION.json.")  # fmt: skip
    args = parser.parse_args(argv)
    args.json = args.json or Path(f"benchmarks/results/tune_quality{'_' + args.collection if args.collection else ''}.json")
    if args.collection:
        return main_collection(args)
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
