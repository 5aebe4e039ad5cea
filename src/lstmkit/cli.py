"""The `lstmkit` command: parses, calls the library, prints. No training or data logic lives here."""

from __future__ import annotations

import importlib
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import ConfigError, LstmkitError
from .train.progress import make_reporter

try:  # typer >= 0.22 carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer runs on click itself
    from click.exceptions import UsageError

app = typer.Typer(
    help="lstmkit: Long Short-Term Memory networks made practical.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(help="Train a model for one of the jobs into a run directory.", no_args_is_help=True)
app.add_typer(train_app, name="train")
console = Console(soft_wrap=True)  # long paths and sentences stay on one line


class Variant(str, Enum):
    vanilla = "vanilla"
    peephole = "peephole"
    cifg = "cifg"
    layernorm = "layernorm"


class Optimizer(str, Enum):
    adam = "adam"
    adamw = "adamw"
    sgd = "sgd"
    rmsprop = "rmsprop"


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"
    auto = "auto"


class Precision(str, Enum):
    fp32 = "fp32"
    bf16 = "bf16"
    auto = "auto"


class Level(str, Enum):
    char = "char"
    word = "word"


class Fill(str, Enum):
    ffill = "ffill"
    bfill = "bfill"
    interpolate = "interpolate"
    zero = "zero"


# the options every `train` command shares, declared once
Out = Annotated[Path, typer.Option("--out", help="Run directory to write (created if needed).")]
Hidden = Annotated[int, typer.Option(min=1, help="LSTM hidden size H.")]
Layers = Annotated[int, typer.Option(min=1, help="Stacked LSTM layers.")]
VariantOpt = Annotated[Variant, typer.Option(help="LSTM variant.")]
Dropout = Annotated[float, typer.Option(min=0.0, max=0.99, help="Dropout between LSTM layers.")]
Bidirectional = Annotated[bool, typer.Option("--bidirectional", help="Also read each window backwards.")]
Epochs = Annotated[int, typer.Option(min=1, help="Most epochs (early stopping usually ends sooner).")]
BatchSize = Annotated[int, typer.Option(min=1, help="Windows per mini-batch.")]
Lr = Annotated[float, typer.Option(min=0.0, help="Learning rate.")]
OptimizerOpt = Annotated[Optimizer, typer.Option(help="Optimiser.")]
Patience = Annotated[int, typer.Option(min=1, help="Epochs without a better validation loss before stopping.")]
MaxTime = Annotated[Optional[float], typer.Option(help="Time budget in seconds.")]
Seed = Annotated[int, typer.Option(help="Seed: the same seed repeats a CPU run exactly.")]
DeviceOpt = Annotated[Device, typer.Option(help="Where to train.")]
PrecisionOpt = Annotated[Precision, typer.Option(help="fp32, bf16 autocast, or auto (bf16 where native).")]
ValFrac = Annotated[float, typer.Option(help="Fraction of the data for validation.")]
TestFrac = Annotated[float, typer.Option(help="Fraction of the data for the test part (the end of a series).")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in --out.")]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress output.")]
LogJson = Annotated[bool, typer.Option("--log-json", help="One JSON object per epoch on stdout.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a summary.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lstmkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """lstmkit: Long Short-Term Memory networks made practical."""


@train_app.command("forecast")
def train_forecast(
    data: Annotated[Path, typer.Option(help="CSV file with the series.")],
    target: Annotated[str, typer.Option(help="Column to forecast.")],
    out: Out,
    time_col: Annotated[Optional[str], typer.Option(help="Time column (dates or integers such as years).")] = None,
    features: Annotated[str, typer.Option(help="Covariate columns, comma-separated.")] = "",
    season: Annotated[Optional[int], typer.Option(min=1, help="Seasonal period (detected when absent).")] = None,
    horizon: Annotated[int, typer.Option(min=1, help="Steps to forecast.")] = 1,
    lookback: Annotated[Optional[int], typer.Option(min=1, help="Steps the model reads (default: two seasons, at least 24).")] = None,
    quantiles: Annotated[str, typer.Option(help="Quantiles for prediction intervals, e.g. 0.1,0.5,0.9.")] = "",
    fill: Annotated[Optional[Fill], typer.Option(help="Fill missing values instead of stopping.")] = None,
    hidden: Hidden = 64,
    layers: Layers = 1,
    variant: VariantOpt = Variant.vanilla,
    dropout: Dropout = 0.0,
    bidirectional: Bidirectional = False,
    epochs: Epochs = 300,
    batch_size: BatchSize = 32,
    lr: Lr = 3e-3,
    optimizer: OptimizerOpt = Optimizer.adam,
    patience: Patience = 30,
    max_time: MaxTime = None,
    seed: Seed = 0,
    device: DeviceOpt = Device.cpu,
    precision: PrecisionOpt = Precision.fp32,
    val_frac: ValFrac = 0.15,
    test_frac: TestFrac = 0.15,
    resume: Resume = False,
    quiet: Quiet = False,
    log_json: LogJson = False,
    json_output: JsonOut = False,
) -> None:
    """Train a forecaster on a CSV series and score it beside the naive baselines."""
    from .tasks.forecast import Forecaster
    from .tasks.forecast_run import train_forecast as run

    forecaster = Forecaster(
        target, time_col=time_col, features=_names(features), horizon=horizon, lookback=lookback,
        quantiles=_floats(quantiles, "--quantiles"), season=season, hidden=hidden, layers=layers,
        variant=variant.value, dropout=dropout, bidirectional=bidirectional, val_frac=val_frac, test_frac=test_frac,
        fill=fill.value if fill else None, epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer.value,
        patience=patience, max_time=max_time, seed=seed, device=device.value, precision=precision.value,
    )  # fmt: skip
    metrics = run(forecaster, data, out, resume=resume, reporter=make_reporter(quiet or json_output, log_json))
    _print_summary(metrics, out, json_output)


class Pooling(str, Enum):
    last = "last"
    mean = "mean"
    max = "max"


@train_app.command("classify")
def train_classify(
    data: Annotated[Path, typer.Option(help="CSV (text or one sequence a row), .npz (X, y) or UCR/UEA .ts file.")],
    out: Out,
    text_col: Annotated[Optional[str], typer.Option(help="Column of texts (text mode); absent: numeric sequences.")] = None,
    label_col: Annotated[str, typer.Option(help="Column of labels (CSV).")] = "label",
    test: Annotated[Optional[Path], typer.Option(help="A labelled test file (UCR/UEA ship one); default: hold out --test-frac.")] = None,
    level: Annotated[Level, typer.Option(help="Text mode: tokens are words or characters.")] = Level.word,
    max_len: Annotated[int, typer.Option(min=1, help="Text mode: keep the first N tokens.")] = 400,
    min_freq: Annotated[int, typer.Option(min=1, help="Text mode: tokens seen fewer times in training become <unk>.")] = 2,
    pooling: Annotated[Pooling, typer.Option(help="How the LSTM's steps become one vector.")] = Pooling.max,
    class_weights: Annotated[bool, typer.Option("--class-weights", help="Weight classes inversely to their frequency.")] = False,
    hidden: Hidden = 64,
    layers: Layers = 1,
    variant: VariantOpt = Variant.vanilla,
    dropout: Dropout = 0.0,
    bidirectional: Bidirectional = False,
    epochs: Epochs = 100,
    batch_size: BatchSize = 32,
    lr: Lr = 3e-3,
    optimizer: OptimizerOpt = Optimizer.adam,
    patience: Annotated[int, typer.Option(min=1, help="Epochs without a better validation loss before stopping.")] = 10,
    max_time: MaxTime = None,
    seed: Seed = 0,
    device: DeviceOpt = Device.cpu,
    precision: PrecisionOpt = Precision.fp32,
    val_frac: ValFrac = 0.15,
    test_frac: TestFrac = 0.15,
    resume: Resume = False,
    quiet: Quiet = False,
    log_json: LogJson = False,
    json_output: JsonOut = False,
) -> None:
    """Train a sequence or text classifier and score it beside the majority class."""
    from .tasks.classify import SequenceClassifier
    from .tasks.classify_run import train_classify as run

    classifier = SequenceClassifier(
        text_col, label_col=label_col, level=level.value, max_len=max_len, min_freq=min_freq, pooling=pooling.value,
        class_weights="balanced" if class_weights else None, hidden=hidden, layers=layers, variant=variant.value,
        dropout=dropout, bidirectional=bidirectional, val_frac=val_frac, test_frac=test_frac, epochs=epochs,
        batch_size=batch_size, lr=lr, optimizer=optimizer.value, patience=patience, max_time=max_time, seed=seed,
        device=device.value, precision=precision.value,
    )  # fmt: skip
    metrics = run(classifier, data, out, test=test, resume=resume, reporter=make_reporter(quiet or json_output, log_json))
    _print_summary(metrics, out, json_output)


@train_app.command("lm")
def train_lm(
    data: Annotated[Path, typer.Option(help="A text file, or a folder of text files.")],
    out: Out,
    level: Annotated[Level, typer.Option(help="Model characters or words.")] = Level.char,
    bptt: Annotated[int, typer.Option(min=1, help="Steps of truncated backpropagation through time.")] = 64,
    embedding: Annotated[Optional[int], typer.Option(min=1, help="Embedding size (default: 64 for char, hidden for word).")] = None,
    tie_weights: Annotated[bool, typer.Option("--tie-weights", help="Share the embedding and output weights.")] = False,
    min_freq: Annotated[int, typer.Option(min=1, help="Tokens seen fewer times in training become <unk>.")] = 1,
    max_vocab: Annotated[Optional[int], typer.Option(min=3, help="Largest vocabulary.")] = None,
    lowercase: Annotated[bool, typer.Option("--lowercase", help="Lowercase the text first.")] = False,
    hidden: Hidden = 256,
    layers: Layers = 2,
    variant: VariantOpt = Variant.vanilla,
    dropout: Dropout = 0.1,
    epochs: Epochs = 30,
    batch_size: BatchSize = 32,
    lr: Lr = 2e-3,
    optimizer: OptimizerOpt = Optimizer.adam,
    patience: Patience = 3,
    max_time: MaxTime = None,
    seed: Seed = 0,
    device: DeviceOpt = Device.cpu,
    precision: PrecisionOpt = Precision.fp32,
    val_frac: Annotated[float, typer.Option(help="Fraction of the text for validation.")] = 0.1,
    test_frac: Annotated[float, typer.Option(help="Fraction of the text for the test part (its end).")] = 0.1,
    resume: Resume = False,
    quiet: Quiet = False,
    log_json: LogJson = False,
    json_output: JsonOut = False,
) -> None:
    """Train a character- or word-level language model and score it beside the unigram model."""
    from .tasks.lm import LanguageModel
    from .tasks.lm_run import train_lm as run

    model = LanguageModel(
        level.value, hidden=hidden, layers=layers, embedding=embedding, variant=variant.value, dropout=dropout,
        tie_weights=tie_weights, bptt=bptt, lowercase=lowercase, min_freq=min_freq, max_vocab=max_vocab,
        val_frac=val_frac, test_frac=test_frac, epochs=epochs, batch_size=batch_size, lr=lr,
        optimizer=optimizer.value, patience=patience, max_time=max_time, seed=seed, device=device.value,
        precision=precision.value,
    )  # fmt: skip
    metrics = run(model, data, out, resume=resume, reporter=make_reporter(quiet or json_output, log_json))
    _print_summary(metrics, out, json_output)


@train_app.command("anomaly")
def train_anomaly(
    data: Annotated[Path, typer.Option(help="CSV file with one or more numeric columns.")],
    out: Out,
    columns: Annotated[str, typer.Option(help="Columns to watch, comma-separated (default: every numeric one).")] = "",
    time_col: Annotated[Optional[str], typer.Option(help="Time column (dates or integers such as years).")] = None,
    label_col: Annotated[Optional[str], typer.Option(help="0/1 column of known anomalies, used only for scoring.")] = None,
    lookback: Annotated[Optional[int], typer.Option(min=1, help="Steps the predictor reads.")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="Score above which a step is flagged (default: chosen on validation data).")] = None,
    contamination: Annotated[Optional[float], typer.Option(help="Flag this fraction of validation steps instead of the robust rule.")] = None,
    fill: Annotated[Optional[Fill], typer.Option(help="Fill missing values instead of stopping.")] = None,
    hidden: Hidden = 64,
    layers: Layers = 1,
    variant: VariantOpt = Variant.vanilla,
    dropout: Dropout = 0.0,
    bidirectional: Bidirectional = False,
    epochs: Epochs = 300,
    batch_size: BatchSize = 32,
    lr: Lr = 3e-3,
    optimizer: OptimizerOpt = Optimizer.adam,
    patience: Patience = 30,
    max_time: MaxTime = None,
    seed: Seed = 0,
    device: DeviceOpt = Device.cpu,
    precision: PrecisionOpt = Precision.fp32,
    val_frac: ValFrac = 0.15,
    test_frac: TestFrac = 0.15,
    resume: Resume = False,
    quiet: Quiet = False,
    log_json: LogJson = False,
    json_output: JsonOut = False,
) -> None:
    """Train an LSTM predictor whose error scores every step, and flag the steps above a threshold."""
    from .tasks.anomaly import AnomalyDetector
    from .tasks.anomaly_run import train_anomaly as run

    detector = AnomalyDetector(
        columns=_names(columns) or None, time_col=time_col, label_col=label_col, lookback=lookback,
        threshold=threshold, contamination=contamination, hidden=hidden, layers=layers, variant=variant.value,
        dropout=dropout, bidirectional=bidirectional, val_frac=val_frac, test_frac=test_frac,
        fill=fill.value if fill else None, epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer.value,
        patience=patience, max_time=max_time, seed=seed, device=device.value, precision=precision.value,
    )  # fmt: skip
    metrics = run(detector, data, out, resume=resume, reporter=make_reporter(quiet or json_output, log_json))
    _print_summary(metrics, out, json_output)


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `lstmkit train`.")],
    data: Annotated[Path, typer.Option(help="Labelled data (or text) to score the model on.")],
    json_output: JsonOut = False,
) -> None:
    """Score a trained model on new data, beside the same baselines."""
    job, estimator = _load(run_dir)
    metrics = job_module(job.task).run_metrics(estimator, estimator.evaluate(data))
    _print_summary(metrics, None, json_output, title=f"{data}")


@app.command()
def predict(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `lstmkit train`.")],
    data: Annotated[Optional[Path], typer.Option(help="Data to predict on (forecast: default the training data's end).")] = None,
    output: Annotated[Optional[Path], typer.Option(help="Write the predictions to this CSV file.")] = None,
    json_output: JsonOut = False,
) -> None:
    """Predict with a trained model: forecasts, labels and class probabilities, or anomaly scores and flags."""
    from .fileio import atomic_write_text

    job, estimator = _load(run_dir)
    if job.task == "lm":
        raise ConfigError(f"{run_dir}: is a language model; use `lstmkit generate {run_dir} --prompt TEXT`")
    if data is None and job.task != "forecast":  # score the data the run trained on
        from .rundir import read_json

        data = Path(read_json(run_dir, "config.json")["settings"]["data"])
    frame = estimator.predict(data)
    if output is not None:
        atomic_write_text(output, frame.to_csv(index=False))
    if json_output:
        typer.echo(frame.to_json(orient="records", date_format="iso"))
        return
    table = Table(title=f"Predictions of {run_dir}" + (f" (first 20 of {len(frame)} rows)" if len(frame) > 20 else ""))
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for row in frame.head(20).itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console.print(table)
    if output is not None:
        console.print(f"written to {output}")


@app.command()
def generate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `lstmkit train lm`.")],
    prompt: Annotated[str, typer.Option(help="Text to continue.")],
    length: Annotated[int, typer.Option(min=1, help="Tokens to generate.")] = 200,
    temperature: Annotated[float, typer.Option(help="Sampling temperature: lower is more conservative.")] = 1.0,
    top_k: Annotated[Optional[int], typer.Option(min=1, help="Sample from the K most probable tokens only.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed: the same seed gives the same text.")] = None,
    next_k: Annotated[Optional[int], typer.Option("--next", min=1, help="Print the K most probable next tokens instead.")] = None,
    json_output: JsonOut = False,
) -> None:
    """Continue a prompt with a trained language model, or list its most probable next tokens."""
    from .tasks.run import run_task

    task = run_task(run_dir)
    if task != "lm":
        raise ConfigError(f"{run_dir}: is a {task} run; `lstmkit generate` needs a language model (lstmkit train lm)")
    _, model = _load(run_dir)
    if next_k is not None:
        ranked = model.next_tokens(prompt, next_k)
        if json_output:
            typer.echo(json.dumps([{"token": t, "probability": p} for t, p in ranked]))
            return
        table = Table(title=f"Most probable next {'words' if model.level == 'word' else 'characters'}")
        table.add_column("token")
        table.add_column("probability", justify="right")
        for token, probability in ranked:
            table.add_row(repr(token) if model.level == "char" else token, f"{probability:.4f}")
        console.print(table)
        return
    text = model.generate(prompt, length=length, temperature=temperature, top_k=top_k, seed=seed)
    typer.echo(json.dumps({"prompt": prompt, "continuation": text}) if json_output else prompt + text)


@app.command("inspect")
def inspect_run(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `lstmkit train`.")],
    out: Annotated[Path, typer.Option("--out", help="The HTML page to write.")],
    text: Annotated[Optional[str], typer.Option(help="Text for a text model (language model, text classifier) to read.")] = None,
    data: Annotated[Optional[Path], typer.Option(help="A file to read: a CSV series (forecast, anomaly), a text file (text models), a sequence file (numeric classifier).")] = None,
    max_steps: Annotated[int, typer.Option(min=1, help="Read at most the first N steps (characters, words or series steps).")] = 2000,
    json_output: JsonOut = False,
) -> None:
    """Run a trained model over a text or series and write a page of what its gates did at every step."""
    from . import inspect as gates

    if (text is None) == (data is None):
        raise ConfigError("give the input to inspect with --text TEXT or with --data FILE" if text is None
                          else "give --text or --data, not both")  # fmt: skip
    job, estimator = _load(run_dir)
    if text is not None and not gates.reads_text(estimator):
        what = {"forecast": "forecaster", "anomaly": "anomaly detector"}.get(job.task, "classifier of numeric sequences")
        wanted = "the series with --data F.csv" if job.task != "classify" else "a sequence file with --data F"
        raise ConfigError(f"{run_dir}: is a {what}, a model of series, not of text; give {wanted}, not --text")
    trace = gates.trace(estimator, text if text is not None else data, max_steps=max_steps)
    source = "the given text" if text is not None else str(data)
    found = gates.findings(trace)
    gates.write_page(trace, out, title="Inside the LSTM", subtitle=f"{run_dir} · {job.task} · {source}", found=found)
    follows, memory = found["follows"][:5], found["memory"][:5]
    if json_output:
        typer.echo(json.dumps({"page": str(out), "task": job.task, "steps": len(trace), "total_steps": trace.total_steps,
                               "follows": [s.to_dict() for s in follows], "memory": [s.to_dict() for s in memory]}))  # fmt: skip
        return
    table = Table(title=f"Units that follow the input ({len(trace)} steps)")
    for name, justify in (("layer", "right"), ("direction", "left"), ("unit", "right"), ("follows", "left"), ("r", "right")):
        table.add_column(name, justify=justify)
    for s in follows:
        table.add_row(str(s.layer), "backward" if s.direction else "forward", str(s.unit),
                      f"{s.quantity} ~ {found['labels'][s.property]}", f"{s.value:+.2f}")  # fmt: skip
    console.print(table)
    memory_text = ", ".join(f"unit {s.unit}{f' (layer {s.layer})' if trace.num_layers > 1 else ''} {s.value:.3f}" for s in memory)
    console.print(f"longest memory (mean forget gate): {memory_text}")
    for note in trace.notes:
        if note.startswith("Showing"):
            console.print(f"note: {note}", style="yellow")
    console.print(f"page: {out}")


class DemoJob(str, Enum):
    forecast = "forecast"
    classify = "classify"
    lm = "lm"
    anomaly = "anomaly"


DEMO_TITLES = {
    "forecast": "Monthly airline passengers 1949-1960, forecast 12 months ahead",
    "classify": "The temporal-order task (Hochreiter & Schmidhuber 1997): the order of two symbols among distractors",
    "lm": "Character-level model of the Python standard library's own source",
    "anomaly": "Yearly sunspots 1700-2008 with injected, labelled anomalies in the last quarter",
}


@app.command()
def demo(
    job: Annotated[DemoJob, typer.Argument(help="Which job to demonstrate.")] = DemoJob.forecast,
    out: Annotated[Optional[Path], typer.Option(help="Run directory (default: lstmkit-runs/demo-JOB).")] = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    json_output: JsonOut = False,
) -> None:
    """Train on data that ships with lstmkit or the machine, and show the result beside the baselines."""
    out = out or Path("lstmkit-runs") / f"demo-{job.value}"
    run_demo = getattr(job_module(job.value), f"demo_{job.value}")
    metrics = run_demo(out, seed, make_reporter(quiet or json_output))
    _print_summary(metrics, out, json_output, title=DEMO_TITLES[job.value])


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Two shapes and fewer repetitions: under a minute.")] = False,
    shapes: Annotated[str, typer.Option(help="Comma-separated TxBxIxH, e.g. 100x32x64x128.")] = "",
    variants: Annotated[str, typer.Option(help="Comma-separated: vanilla,peephole,cifg,layernorm,zoneout,trace.")] = "",
    precisions: Annotated[str, typer.Option(help="Comma-separated: fp32,bf16.")] = "",
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Where to write the rows as JSON.")] = None,
) -> None:
    """Time lstmkit.LSTM against torch.nn.LSTM in this process: ms, GFLOP/s and the ratio, per shape and variant."""
    from .bench import main as run_bench

    argv = ["--quick"] if quick else []
    for flag, value in (("--shapes", shapes), ("--variants", variants), ("--precisions", precisions)):
        argv += [flag, value] if value else []
    argv += ["--json", str(json_path)] if json_path else []
    run_bench(argv)


# what each job's summary table shows
TASK_METRICS = {
    "forecast": ["mse", "rmse", "mae", "mape", "smape", "mase"],
    "classify": ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"],
    "lm": ["loss", "perplexity", "bits_per_char"],
    "anomaly": ["precision", "recall", "f1", "roc_auc"],
}


def job_module(task: str):
    """The `tasks/<task>_run.py` module of a job: its Job, run_metrics, verdict and demo."""
    return importlib.import_module(f"lstmkit.tasks.{task}_run")


def _load(run_dir: Path):
    from .tasks.run import load_run, run_task

    task = run_task(run_dir)
    if task not in TASK_METRICS:
        raise ConfigError(f"{run_dir}: config.json names an unknown task {task!r}")
    job = getattr(job_module(task), task.upper())
    return job, load_run(run_dir, job)


def _print_summary(metrics: dict, out: Optional[Path], json_output: bool, title: str = "") -> None:
    if json_output:
        typer.echo(json.dumps(metrics))
        return
    names = [m for m in TASK_METRICS[metrics["task"]] if m in metrics["test"]]
    if names:  # an unlabelled anomaly run has nothing to score against
        table = Table(title=title or None)
        table.add_column("model")
        for name in names:
            table.add_column(name, justify="right")
        rows = {"LSTM": metrics["test"], **{k.replace("_", " "): v for k, v in metrics["baselines"].items()}}
        for name, values in rows.items():
            table.add_row(name, *(_cell(values.get(m)) for m in names))
        console.print(table)
    text, good = job_module(metrics["task"]).verdict(metrics)
    console.print(text, style="green" if good else "bold yellow")
    for note in metrics.get("notes", [])[:3]:
        console.print(f"note: {note}", style="yellow")
    if out is not None:
        console.print(f"report: {Path(out) / 'report.html'}")


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _floats(text: str, option: str) -> Optional[list[float]]:
    if not text.strip():
        return None
    try:
        return [float(v) for v in _names(text)]
    except ValueError:
        raise ConfigError(f"{option} must be comma-separated numbers such as 0.1,0.5,0.9, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    """Entry point: bad usage and bad input become one line on stderr and exit code 2."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        result = app(args=argv or ["--help"], prog_name="lstmkit", standalone_mode=False)
    except (LstmkitError, UsageError) as error:
        message = error.format_message() if isinstance(error, UsageError) else str(error)
        if not message.strip():  # a command group called bare: its help is already shown
            return 0
        print(f"lstmkit: error: {message}", file=sys.stderr)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        print("lstmkit: interrupted; continue a training run with --resume", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0
