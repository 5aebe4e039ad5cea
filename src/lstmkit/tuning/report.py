"""After the trials: the best settings and the default ones trained once more as normal runs (`out/best`,
`out/default`: the only place the test part is scored), `tune.json`, and `tune.html` with Optuna's
matplotlib figures (history, importances, parallel coordinates) and the table of trials."""

from __future__ import annotations

import csv
import json
import math
import shutil
import warnings
from pathlib import Path

from ..errors import DataError, TrainingError
from ..rundir import read_config, read_json, write_json
from .study import counts

RUNS = ("best", "default")


def finish(job, spec, study, *, reporter=None, seconds: float = 0.0) -> dict:
    """Train the best and the default settings into out/best and out/default (unless a finished run with the
    same settings is already there), then write tune.json and tune.html; returns tune.json's content."""
    from optuna.trial import TrialState

    from ..tasks.run import train_run

    out = Path(spec.out)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    states = counts(study)
    if not complete:
        failed = next((t.user_attrs["fail_reason"] for t in trials if "fail_reason" in t.user_attrs), "")
        raise TrainingError(f"no trial of {len(trials)} completed ({states['pruned']} pruned, {states['fail']} "
                            f"failed){'; the first failure: ' + failed if failed else ''}")  # fmt: skip
    best = study.best_trial
    default = next((t for t in trials if t.user_attrs.get("default") is not None), None)
    settings = {"best": {**spec.settings, **best.params}, "default": dict(spec.settings)}
    compared = {}
    for name in RUNS:
        where = out / name
        if not _same_run(where, settings[name], spec.data):
            twin = out / RUNS[1 - RUNS.index(name)]
            if settings["best"] == settings["default"] and _same_run(twin, settings[name], spec.data):
                shutil.rmtree(where, ignore_errors=True)
                shutil.copytree(twin, where)  # the default won: one training serves both
            else:
                train_run(job.estimator(**settings[name]), spec.data, where, reporter=reporter)
        compared[name] = {"run": name, "val_loss": _best_val_loss(where), "test": read_json(where, "metrics.json")["test"]}
    summary = {
        "task": job.name,
        "data": spec.data,
        "trials": spec.trials,
        "states": states,
        "storage": spec.storage,
        "pruner": spec.pruner,
        "val_frac": spec.settings.get("val_frac"),
        "origins": spec.origins,
        "best": {"trial": best.number, "value": best.value, "params": best.params,
                 "changed": {k: v for k, v in best.params.items() if spec.settings.get(k) != v}},  # fmt: skip
        "default": {"trial": None if default is None else default.number,
                    "value": None if default is None or default.state != TrialState.COMPLETE else default.value},  # fmt: skip
        "compared": compared,
        "space": spec.space,
        "seconds": seconds,
    }
    write_json(out / "tune.json", summary)
    write_page(job, study, summary, out / "tune.html")
    return summary


def _same_run(where: Path, settings: dict, data: str) -> bool:
    """Whether `where` holds a finished run of exactly these settings on this data."""
    if not (where / "metrics.json").exists():
        return False
    try:
        saved = read_config(where)["settings"]
    except (DataError, KeyError, TypeError):
        return False
    return json.loads(json.dumps(saved, default=str)) == json.loads(json.dumps({**settings, "data": data}, default=str))


def _best_val_loss(where: Path) -> float | None:
    """The validation loss of the model a run keeps: its metrics' where the run reports one (a language model
    mixed with its n-gram model), else its best epoch's."""
    kept = read_json(where, "metrics.json").get("val_loss")
    if kept is not None:
        return float(kept)
    with open(where / "history.csv", newline="") as handle:
        values = [float(row["val_loss"]) for row in csv.DictReader(handle) if row.get("val_loss")]
    values = [v for v in values if math.isfinite(v)]
    return min(values) if values else None


def write_page(job, study, summary: dict, path: Path) -> None:
    """tune.html: best against default on validation and test, Optuna's figures, the trials."""
    from ..report.html import Report

    compared = summary["compared"]
    page = Report(f"Tuning: {job.name}", f"{summary['data']} · {sum(summary['states'].values())} trials "
                  f"({summary['states']['complete']} complete, {summary['states']['pruned']} pruned, "
                  f"{summary['states']['fail']} failed) · pruner {summary['pruner']}")  # fmt: skip
    metrics = [m for m in compared["best"]["test"] if isinstance(compared["best"]["test"][m], (int, float))]
    rows = {f"{name} ({'trial ' + str(summary[name]['trial']) if summary[name]['trial'] is not None else 'defaults'})":
            {"val_loss": compared[name]["val_loss"], **{m: compared[name]["test"].get(m) for m in metrics}}
            for name in RUNS}  # fmt: skip
    page.add_metrics_table("Best against default: validation loss, and the test part (scored once per run)",
                           rows, ["val_loss", *metrics])  # fmt: skip
    changed = summary["best"]["changed"]
    page.add_text("What the best trial changed", ", ".join(f"{k} = {v}" for k, v in changed.items()) if changed
                  else "Nothing: the default settings were the best found.")  # fmt: skip
    for heading, figure in _figures(study):
        if isinstance(figure, str):
            page.add_text(heading, figure)
        else:
            page.add_png(heading, figure)
    page.add_table("Trials", ["trial", "state", "value", "seconds", "params", "reason"], [
        (t.number, t.state.name.lower(), t.value, round(t.user_attrs.get("seconds", 0), 2),
         ", ".join(f"{k}={_short(v)}" for k, v in t.params.items()) or "defaults", t.user_attrs.get("fail_reason", ""))
        for t in study.get_trials(deepcopy=False)])  # fmt: skip
    page.write(path)


def _figures(study):
    """(heading, its PNG or a note why there is none) for the history, importances and parallel coordinates.
    Optuna's plots switch pyplot to its ggplot style for the whole process (`plt.style.use`): they are drawn
    and rendered inside `rc_context`, which puts matplotlib's settings back, so that a report drawn after
    `tune` in the same process looks as one drawn in a fresh process does."""
    import matplotlib

    matplotlib.use("Agg")  # tune runs headless
    from optuna.visualization import matplotlib as plots

    from ..report.html import figure_png

    made = []
    for heading, plot in (("Optimisation history", plots.plot_optimization_history),
                          ("Parameter importances", plots.plot_param_importances),
                          ("Parallel coordinates", plots.plot_parallel_coordinate)):  # fmt: skip
        try:
            with warnings.catch_warnings(), matplotlib.rc_context():
                warnings.simplefilter("ignore")  # ExperimentalWarning, and importance's few-trials warnings
                axes = plot(study)
                made.append((heading, figure_png(getattr(axes, "figure", None) or axes.flat[0].figure)))
        except Exception as error:  # importances need two complete trials with varied settings
            made.append((heading, f"Not shown: {_why(error)}"))
    return made


def _why(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text or "too few complete trials with varied settings to compute it"


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
