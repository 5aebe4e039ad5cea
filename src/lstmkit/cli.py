"""The `lstmkit` command: parses, calls the library, prints. No training or data logic lives here.

Every job-specific part comes from the job registry (`lstmkit.tasks.JOBS`): one `train` command per job,
its options built from the job's settings (`cli_options.py`), and each job's metrics, verdict and demos.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import interrupt
from ._version import __version__
from .cli_options import choice, cli_options, command, flag, parameter
from .cli_summary import cell, console, fitted, print_summary, print_table
from .errors import ConfigError, LstmkitError, PeerLost, RendezvousError, ReportedElsewhere
from .launch import INTERRUPTED, INTERRUPTED_LINE, LAUNCHED_ENV
from .tasks import JOBS, demos
from .tasks.job import Job
from .tasks.settings import SHARED
from .train.config import SEED_MAX

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

JsonOut = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a summary.")]
RunDir = Annotated[Path, typer.Argument(help="A run directory written by `lstmkit train`.")]
Seed = Annotated[int, typer.Option(min=0, max=SEED_MAX, help="Seed: the same seed repeats a CPU run exactly.")]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress display (the bar or lines on stderr).")]
# --log-json is the run's log, not its display: --quiet leaves it on, and with --json stdout is JSON lines, one
# per epoch, then the summary object as the last line
LogJson = Annotated[bool, typer.Option("--log-json", help="One JSON object per epoch on stdout, even with --quiet; "
                                                          "with --json, the summary object comes last.")]  # fmt: skip
# what every `train` command takes besides the job's settings
RUN_OPTIONS = [
    parameter("resume", Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in --out.")], False),
    parameter("quiet", Quiet, False),
    parameter("log_json", LogJson, False),
    parameter("json_output", JsonOut, False),
    parameter("nproc", Annotated[int, typer.Option(min=1, help="Processes training as one data-parallel run on this "
                                                               "machine (torch.distributed; or start the command "
                                                               "under torchrun).")], 1),  # fmt: skip
]
_argv: list[str] = []  # the command line `main` was given, for `--nproc` to start again in each process


def _rank() -> int:
    """This process's rank in a distributed run (0 outside one), from torchrun's environment alone."""
    return int(os.environ.get("RANK", "0") or 0)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lstmkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """lstmkit: Long Short-Term Memory networks made practical."""


def _train_command(job: Job) -> None:
    """`lstmkit train JOB`: the job's settings as options (its own first, then the shared ones), between
    --data, --out and the run options."""
    options = sorted(cli_options(job.settings), key=lambda o: o.name in SHARED)
    required = [o for o in options if o.default is inspect.Parameter.empty]
    parameters = [
        parameter("data", Annotated[Path, typer.Option(help=job.data_help)]),
        *(parameter(o.name, o.annotation) for o in required),
        parameter("out", Annotated[Path, typer.Option("--out", help="Run directory to write (created if needed).")]),
        *(parameter(o.name, o.annotation, o.default) for o in options if o not in required),
        *RUN_OPTIONS,
    ]

    def train(data: Path, out: Path, resume: bool, quiet: bool, log_json: bool, json_output: bool, nproc: int,
              **given) -> Optional[int]:
        if nproc == 1 and "WORLD_SIZE" not in os.environ and job.warm_up is not None:
            job.warm_up()
        from .tasks.run import train_run
        from .train import make_reporter

        estimator = job.estimator(**{o.name: o.value(given[o.name]) for o in options})
        if nproc > 1 and "WORLD_SIZE" not in os.environ:
            from .launch import launch, without_nproc

            estimator.check_settings()  # bad settings: one line here, before any process starts
            return launch(nproc, without_nproc(_argv), out)
        try:
            metrics = train_run(estimator, data, out, resume=resume, reporter=make_reporter(quiet or json_output, log_json))
        finally:
            _leave_process_group()
        if _rank() == 0:
            print_summary(job, metrics, out, json_output)
        return None

    train_app.command(job.name)(command(train, parameters, job.summary))


tune_app = typer.Typer(help="Search a job's settings with Optuna (TPE, pruning), then train the best and the default.",
                       no_args_is_help=True)  # fmt: skip
app.add_typer(tune_app, name="tune")
Pruner = choice("Pruner", ("median", "hyperband", "none"))  # lstmkit.tuning.study.PRUNERS, without importing it
# what every `tune` command takes besides the job's settings (its own --max-time is the study's budget, not a run's)
TUNE_OPTIONS = [
    parameter("trials", Annotated[int, typer.Option(help="Trials in the study in all (complete, pruned, failed); "
                                                         "running again continues to this total.")]),  # fmt: skip
    parameter("max_time", Annotated[Optional[float], typer.Option(help="Seconds after which no new trial starts.")], None),
    parameter("storage", Annotated[Optional[str], typer.Option(help="Optuna storage URL shared by the workers "
                                                                    "(default: sqlite in --out/study.db).")], None),  # fmt: skip
    parameter("workers", Annotated[int, typer.Option(help="Processes running trials of the one study.")], 1),
    parameter("space", Annotated[Optional[Path], typer.Option(help="JSON file of search entries over the job's "
                                                                   "default space.")], None),  # fmt: skip
    parameter("pruner", Annotated[Pruner, typer.Option(help="Stop poor trials early from their validation loss.")], Pruner("median")),
    parameter("quiet", Quiet, False),
    parameter("json_output", JsonOut, False),
]


def _tune_command(job: Job) -> None:
    """`lstmkit tune JOB`: the job's train options (the defaults the search starts from) and the study's."""
    options = [o for o in sorted(cli_options(job.settings), key=lambda o: o.name in SHARED) if o.name != "max_time"]
    required = [o for o in options if o.default is inspect.Parameter.empty]
    parameters = [
        parameter("data", Annotated[Path, typer.Option(help=job.data_help)]),
        *(parameter(o.name, o.annotation) for o in required),
        parameter("out", Annotated[Path, typer.Option("--out", help="Tuning directory: study.db, best/, default/, "
                                                                    "tune.json, tune.html.")]),  # fmt: skip
        *TUNE_OPTIONS[:1],
        *(parameter(o.name, o.annotation, o.default) for o in options if o not in required),
        *TUNE_OPTIONS[1:],
    ]
    if job.tunes_at_origins:  # the forecaster's: the other jobs' trials are one fit each
        parameters.insert(-2, parameter("origins", Annotated[Optional[int], typer.Option(
            help="Fit each trial at K origins a horizon apart, ending where a run's validation part ends; its value is "
                 "the mean of their validation losses (default 1).")], None))  # fmt: skip

    def tune(data: Path, out: Path, trials: int, max_time, storage, workers: int, space, pruner, quiet: bool,
             json_output: bool, origins: Optional[int] = None, **given) -> None:  # fmt: skip
        from .train import make_reporter
        from .tuning import tune as run_tune

        settings = {o.name: o.value(given[o.name]) for o in options}
        announce = None if quiet or json_output else (lambda line: print(f"lstmkit: {line}", file=sys.stderr, flush=True))
        summary = run_tune(job, data, out, trials=trials, settings=settings, space=space, storage=storage,
                           workers=workers, max_time=max_time, pruner=pruner.value, origins=origins,
                           reporter=make_reporter(quiet or json_output), announce=announce)  # fmt: skip
        if json_output:
            typer.echo(json.dumps(summary, default=str))
            return
        states = summary["states"]
        console.print(f"{states['complete']} complete, {states['pruned']} pruned, {states['fail']} failed; "
                      f"best trial {summary['best']['trial']}: {summary['best']['params']}")  # fmt: skip
        metrics = [m for m in job.metrics if m in summary["compared"]["best"]["test"]]
        print_table("Best against default", ["run", "val_loss", *metrics],
                    [(name, cell(row["val_loss"]), *(cell(row["test"].get(m)) for m in metrics))
                     for name, row in summary["compared"].items()], left=("run",))  # fmt: skip
        console.print(f"page: {out / 'tune.html'}")

    doc = (f"Tune {job.a_name} model's settings with Optuna: trials choose on the validation part only (a "
           f"--val-frac of 0 or none becomes 0.15), then the best and the default settings train into --out/best "
           f"and --out/default, where the test part is scored.")  # fmt: skip
    tune_app.command(job.name)(command(tune, parameters, doc))


for _job in JOBS.values():
    _train_command(_job)
    _tune_command(_job)


@app.command()
def evaluate(
    run_dir: RunDir,
    data: Annotated[Path, typer.Option(help="Labelled data (or text) to score the model on.")],
    json_output: JsonOut = False,
) -> None:
    """Score a trained model on new data, beside the same baselines."""
    job, estimator = _load(run_dir)
    print_summary(job, job.run_metrics(estimator, estimator.evaluate(data)), None, json_output, title=f"{data}")


@app.command()
def predict(
    run_dir: RunDir,
    data: Annotated[Optional[Path], typer.Option(help="Data to predict on (forecast: default the training data's end).")] = None,
    output: Annotated[Optional[Path], typer.Option(help="Write the predictions to this file: CSV, or Parquet or JSON "
                                                        "(.parquet, .jsonl, .json) by its extension.")] = None,
    future: Annotated[Optional[Path], typer.Option(help="Forecast: the values of the run's --future-features at the "
                                                        "steps after each series' end (a CSV: those columns, with the "
                                                        "time and id columns where the data has them).")] = None,  # fmt: skip
    json_output: JsonOut = False,
) -> None:
    """Predict with a trained model: forecasts, labels and class probabilities, or anomaly scores and flags."""
    from .fileio import file_to_write
    from .rundir import Predictions, saved_predictions, trained_data

    job = _job(run_dir)
    if output is not None:
        file_to_write(output, "predictions.csv")
    if not job.predicts:
        raise ConfigError(f"{run_dir}: is {job.a_name} run; use `lstmkit generate {run_dir} --prompt TEXT`")
    if future is not None and job.name != "forecast":
        raise ConfigError(f"--future gives a forecaster known-future values; {run_dir} is {job.a_name} run")
    # a forecast from the training data's end was saved with the run: no model to load, no torch or pandas to import
    predictions = saved_predictions(run_dir, job.predicted_in) if data is None and future is None and job.predicted_in else None
    if predictions is None:
        estimator = job.estimator.load(run_dir)
        if data is None and job.predict_needs_data:  # score the data the run trained on
            data = trained_data(run_dir)
        predictions = Predictions.of(estimator.predict(data) if future is None else estimator.predict(data, future=future))
    if output is not None:
        predictions.write(output)
    if json_output:
        typer.echo(predictions.json)
        return
    shown = f" (first {len(predictions.head)} of {predictions.rows} rows)" if predictions.rows > len(predictions.head) else ""
    columns, rows, left_out = fitted(predictions.columns, [list(map(cell, row)) for row in predictions.head], console.width)
    print_table(f"Predictions of {run_dir}{shown}", columns, rows)
    if left_out:
        console.print(left_out)
    if output is not None:
        console.print(f"written to {output}")


@app.command()
def generate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `lstmkit train lm`.")],
    prompt: Annotated[str, typer.Option(help="Text to continue (default: none, which starts a new document).")] = "",
    length: Annotated[int, typer.Option(help="Tokens to generate (at most 100000).")] = 200,
    temperature: Annotated[float, typer.Option(help="Sampling temperature: lower is more conservative.")] = 1.0,
    top_k: Annotated[Optional[int], typer.Option(min=1, help="Sample from the K most probable tokens only.")] = None,
    seed: Annotated[Optional[int], typer.Option(min=0, max=SEED_MAX, help="Seed: the same seed gives the same text.")] = None,
    next_k: Annotated[Optional[int], typer.Option("--next", min=1, help="Print the K most probable next tokens instead.")] = None,
    json_output: JsonOut = False,
) -> None:
    """Continue a prompt with a trained language model, or list its most probable next tokens."""
    job = _job(run_dir)
    if not job.generates:
        raise ConfigError(f"{run_dir}: is {job.a_name} run; `lstmkit generate` needs a language model (lstmkit train lm)")
    model = job.estimator.load(run_dir)
    if next_k is not None:
        ranked = model.next_tokens(prompt, next_k)
        if json_output:
            typer.echo(json.dumps([{"token": t, "probability": p} for t, p in ranked]))
            return
        shown = [(repr(t) if model.level == "char" else t, f"{p:.4f}") for t, p in ranked]
        print_table(f"Most probable next {'words' if model.level == 'word' else 'characters'}", ["token", "probability"], shown, left=("token",))
        return
    text = model.generate(prompt, length=length, temperature=temperature, top_k=top_k, seed=seed)
    typer.echo(json.dumps({"prompt": prompt, "continuation": text}) if json_output else prompt + text)


def _translator(run_dir: Path, command: str):
    """The sequence-to-sequence model of a run directory; a clear error for a run of another job."""
    job = _job(run_dir)
    if not job.translates:
        raise ConfigError(f"{run_dir}: is {job.a_name} run; `lstmkit {command}` needs a sequence-to-sequence model "
                          "(lstmkit train seq2seq)")  # fmt: skip
    return job, job.estimator.load(run_dir)


Beam = Annotated[Optional[int], typer.Option(min=1, help="Beam size (1: greedy; default: the model's).")]


@app.command()
def translate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `lstmkit train seq2seq`.")],
    text: Annotated[Optional[str], typer.Option(help="One source text to translate.")] = None,
    data: Annotated[Optional[Path], typer.Option(help="A text file of one source a line, or a file of pairs (then scored too).")] = None,
    output: Annotated[Optional[Path], typer.Option(help="Write the outputs here, one a line, in the order of the sources.")] = None,
    beam: Beam = None,
    json_output: JsonOut = False,
) -> None:
    """Translate (summarise, answer) texts with a trained sequence-to-sequence model."""
    from .fileio import atomic_write_text, file_to_write

    if (text is None) == (data is None):
        raise ConfigError("give the source with --text TEXT or with --data FILE" if text is None else "give --text or --data, not both")
    if text is not None and not text.strip():
        raise ConfigError("--text is empty; give text to translate")
    if output is not None:
        file_to_write(output, "outputs.txt")
    job, model = _translator(run_dir, "translate")
    if text is not None:
        result = model.translate([text], beam=beam)[0]
        typer.echo(json.dumps({"source": text, "output": result}) if json_output else result)
        return
    sources, references = model.sources_of(data)
    scored = model.evaluate(data, beam=beam) if references is not None else None
    outputs = scored["outputs"] if scored is not None else model.translate(sources, beam=beam)
    if output is not None:
        atomic_write_text(output, "".join(line.replace("\n", " ") + "\n" for line in outputs))
    if json_output:
        typer.echo(json.dumps({"outputs": outputs, "metrics": None if scored is None else job.run_metrics(model, scored)}))
        return
    if output is None:
        for line in outputs:
            typer.echo(line)
    else:
        console.print(f"{len(outputs)} outputs written to {output}")
    if scored is not None:
        print_summary(job, job.run_metrics(model, scored), None, False, title=f"{data}")


@app.command()
def chat(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `lstmkit train seq2seq`.")],
    beam: Beam = None,
    temperature: Annotated[Optional[float], typer.Option(help="Sample replies at this temperature instead of beam search.")] = None,
    top_k: Annotated[Optional[int], typer.Option(min=1, help="Sample from the K most probable tokens only.")] = None,
    seed: Annotated[Optional[int], typer.Option(min=0, max=SEED_MAX, help="Seed of the sampling.")] = None,
) -> None:
    """Talk to a trained sequence-to-sequence model: a line in, a reply out, until end of input (Ctrl-D)."""
    _, model = _translator(run_dir, "chat")
    interactive = sys.stdin.isatty()
    turn = 0
    while True:
        if interactive:
            typer.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        turn += 1
        typer.echo(model.translate([line.strip()], beam=beam, temperature=temperature, top_k=top_k,
                                   seed=None if seed is None else seed + turn)[0])  # fmt: skip


Part = choice("Part", ("decoder", "encoder"))  # Seq2Seq.lstm_parts, without importing it


@app.command("inspect")
def inspect_run(
    run_dir: RunDir,
    out: Annotated[Path, typer.Option("--out", help="The HTML page to write.")],
    text: Annotated[Optional[str], typer.Option(help="Text for a text model (language model, text classifier) to read.")] = None,
    data: Annotated[Optional[Path], typer.Option(help="A file to read: a CSV series (forecast, anomaly), a text file (text models), a sequence file (numeric classifier). "
                                                      "A forecaster given neither reads the last steps the run keeps, which its next forecast reads.")] = None,
    max_steps: Annotated[int, typer.Option(min=1, help="Read at most the first N steps (characters, words or series steps).")] = 2000,
    part: Annotated[Optional[Part], typer.Option(help="Sequence to sequence: only the decoder writing the output for "
                                                      "--text, with its attention, or only the encoder reading it "
                                                      "(default: both, on one page).")] = None,  # fmt: skip
    target: Annotated[Optional[str], typer.Option(help="Sequence to sequence: the reference output of the pair, for "
                                                        "the decoder to read as training reads it (default: the "
                                                        "model's own output).")] = None,  # fmt: skip
    json_output: JsonOut = False,
) -> None:
    """Run a trained model over a text or series and write a page of what its gates did at every step."""
    from .fileio import file_to_write

    if text is not None and data is not None:
        raise ConfigError("give --text or --data, not both")
    job, estimator = _load(run_dir)
    if text is None and data is None and not estimator.keeps_input:
        raise ConfigError("give the input to inspect with --text TEXT or with --data FILE")
    from . import gates

    file_to_write(out, "inspect.html")
    if text is not None and not estimator.reads_text:
        raise ConfigError(f"{run_dir}: is a {estimator.describe()}, a model of series, not of text; "
                          "give the series with --data FILE, not --text")  # fmt: skip
    if target is not None and not getattr(estimator, "lstm_parts", ()):
        raise ConfigError(f"--target is the output a sequence-to-sequence model's decoder reads; {run_dir} is a "
                          f"{estimator.describe()}, which reads only its input")  # fmt: skip
    given = text if text is not None else data
    if part is None:
        traces = gates.trace_parts(estimator, given, max_steps=max_steps, target=target)
    else:
        traces = [gates.trace(estimator, given, max_steps=max_steps, part=part.value, target=target)]
    source = "the given text" if text is not None else str(data) if data is not None else "the steps the run keeps"
    founds = [gates.findings(t) for t in traces]
    which = "" if len(traces) > 1 or traces[0].lstm == "lstm" else f" · the {traces[0].lstm}"
    gates.write_page(traces, out, title="Inside the LSTM", subtitle=f"{run_dir} · {job.name}{which} · {source}", found=founds)
    parts = [{"part": t.lstm, "steps": len(t), "total_steps": t.total_steps, "follows": f["follows"][:5],
              "memory": f["memory"][:5]} for t, f in zip(traces, founds)]  # fmt: skip
    if json_output:
        shown = [{**p, "follows": [s.to_dict() for s in p["follows"]], "memory": [s.to_dict() for s in p["memory"]]}
                 for p in parts]  # fmt: skip
        if len(shown) == 1:
            del shown[0]["part"]
            typer.echo(json.dumps({"page": str(out), "task": job.name, **shown[0]}))
        else:
            typer.echo(json.dumps({"page": str(out), "task": job.name, "parts": shown}))
        return
    for t, f, p in zip(traces, founds, parts):
        named = "" if t.lstm == "lstm" else f"the {t.lstm}: "
        rows = [(str(s.layer), "backward" if s.direction else "forward", str(s.unit),
                 f"{s.quantity} ~ {f['labels'][s.property]}", f"{s.value:+.2f}") for s in p["follows"]]  # fmt: skip
        title = f"units that follow the input ({len(t)} steps)"
        print_table(f"{named}{title}" if named else title.capitalize(), ["layer", "direction", "unit", "follows", "r"], rows,
                    left=("direction", "follows"))  # fmt: skip
        memory_text = ", ".join(f"unit {s.unit}{_where(s, t)} {s.value:.3f}" for s in p["memory"])
        console.print(f"{named}longest memory (mean forget gate): {memory_text}")
        for note in t.notes:
            if note.startswith("Showing"):
                console.print(f"note: {note}", style="yellow")
    console.print(f"page: {out}")


def _where(score, trace) -> str:
    """Where a unit of a ranking lies, where the LSTM has several layers or directions: " (layer 1, backward)"."""
    where = ([f"layer {score.layer}"] if trace.num_layers > 1 else []) + (
        ["backward" if score.direction else "forward"] if trace.num_directions > 1 else [])  # fmt: skip
    return f" ({', '.join(where)})" if where else ""


DemoName = choice("DemoName", demos())


@app.command()
def demo(
    job: Annotated[DemoName, typer.Argument(help="Which job to demonstrate.")] = DemoName(next(iter(demos()))),
    out: Annotated[Optional[Path], typer.Option(help="Run directory (default: lstmkit-runs/demo-JOB).")] = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    json_output: JsonOut = False,
) -> None:
    """Train on data that ships with lstmkit or the machine, and show the result beside the baselines."""
    owner, shown = demos()[job.value]
    if owner.warm_up is not None:
        owner.warm_up()
    from .train import make_reporter

    out = out or Path("lstmkit-runs") / f"demo-{shown.name}"
    metrics = owner.run_demo(shown.name, out, seed, make_reporter(quiet or json_output))
    print_summary(owner, metrics, out, json_output, title=shown.title)
    if shown.then and not json_output:
        console.print(shown.then, markup=False)


Backend = choice("Backend", ("torch", "onnx"))  # lstmkit.serve.server.BACKENDS, without importing it


@app.command()
def serve(
    run_dir: RunDir,
    host: Annotated[str, typer.Option(help="The address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="The port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Processes serving, each with its own copy of the model.")] = 1,
    backend: Annotated[Backend, typer.Option(help="torch, or onnx: the network exported and run by ONNX "
                                             "Runtime.")] = Backend("torch"),  # fmt: skip
    max_batch: Annotated[int, typer.Option(min=1, help="Micro-batching: items one model call takes at most "
                                           "(1: each request alone).")] = 32,  # fmt: skip
    max_wait_ms: Annotated[float, typer.Option(min=0, help="Micro-batching: how long the first request of a "
                                               "batch waits for others (default 0: a batch starts as soon as the "
                                               "model is free, with every request that came while it was busy).")] = 0.0,  # fmt: skip
    max_body: Annotated[int, typer.Option(min=1, help="Largest request body, in bytes (larger: 413).")] = 1 << 20,
    max_length: Annotated[int, typer.Option(min=1, help="Most steps (or tokens) in one sequence of a request.")] = 10_000,
    max_items: Annotated[int, typer.Option(min=1, help="Most sequences, texts, series or prompts in one request.")] = 256,
    timeout: Annotated[float, typer.Option(min=0.001, help="Seconds a request may take, waiting included "
                                           "(longer: 504).")] = 30.0,  # fmt: skip
    threads: Annotated[Optional[int], typer.Option(min=1, help="Threads a model call runs on (default: each "
                                                   "worker's share of the CPUs, less one for its HTTP loop on "
                                                   "torch).")] = None,  # fmt: skip
    access_log: Annotated[bool, typer.Option(help="A line on stdout for every request, in uvicorn's words "
                                             "(/metrics counts the requests either way).")] = True,  # fmt: skip
) -> None:
    """Serve a trained model over HTTP: POST /predict, GET /health, /ready, /metadata, /metrics and /docs."""
    from .serve.app import ServeSettings
    from .serve.server import serve as run_server

    settings = ServeSettings(str(run_dir), backend.value, max_batch, max_wait_ms, max_body, max_length, max_items, timeout,
                             threads or 0, access_log)  # fmt: skip
    run_server(settings, host, port, workers)


ExportFormat = choice("ExportFormat", ("onnx",))  # lstmkit.export.run.FORMATS, without importing it


@app.command("export")
def export_run(
    run_dir: RunDir,
    format: Annotated[ExportFormat, typer.Option("--format", help="The file format.")] = ExportFormat("onnx"),
    out: Annotated[Optional[Path], typer.Option(help="The file to write (default: RUN_DIR/model.onnx); what "
                                                "predicting needs goes beside it, in OUT.json.")] = None,  # fmt: skip
    json_output: JsonOut = False,
) -> None:
    """Export a trained model's network to ONNX (any batch size and sequence length), checked with ONNX Runtime
    against PyTorch."""
    from .export.run import export_run as export, sidecar_of

    out = run_dir / "model.onnx" if out is None else out
    written = export(run_dir, out, format.value)
    parts = written.get("parts", {None: written})  # a model of several graphs (seq2seq: encoder, decoder)
    files = {part: out.with_name(graph["file"]) if part else out for part, graph in parts.items()}
    if json_output:
        typer.echo(json.dumps({"model": str(out), "files": [str(f) for f in files.values()], "sidecar": str(sidecar_of(out)),
                               **{k: written[k] for k in ("job", "inputs", "outputs", "parts", "checked") if k in written}}))  # fmt: skip
        return
    signature = lambda values: ", ".join(f"{v['name']} {v['shape']}" for v in values)  # noqa: E731
    where = ", ".join(str(f) for f in files.values())
    console.print(f"Exported the {written['job']} network of {run_dir} to {where} (ONNX opset {written['opset']}).")
    for part, graph in parts.items():
        named = f"{part}: " if part else ""
        console.print(f"  {named}inputs:  {signature(graph['inputs'])}")
        console.print(f"  {named}outputs: {signature(graph['outputs'])}")
    console.print(f"  ONNX Runtime agrees with PyTorch to {written['checked']['largest_relative_difference']:.1e} "
                  f"(relative; tolerance {written['checked']['tolerance']:g}) on random batches of several lengths.")
    console.print(f"  What predicting needs (scaler, vocabulary, labels, lookback): {sidecar_of(out)}")


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Two shapes and fewer repetitions: under a minute.")] = False,
    shapes: Annotated[str, typer.Option(help="Comma-separated TxBxIxH, e.g. 100x32x64x128 (default: four shapes).")] = "",
    variants: Annotated[str, typer.Option(help="Comma-separated: vanilla,peephole,cifg,layernorm,zoneout,trace.")] = "",
    modes: Annotated[str, typer.Option(help="Comma-separated: train,infer.")] = "",
    precisions: Annotated[str, typer.Option(help="Comma-separated: fp32,bf16.")] = "",
    budget: Annotated[Optional[float], typer.Option(help="Timed seconds per measurement, above 0 "
                                                    "(default 0.5, with --quick 0.25).")] = None,  # fmt: skip
    threads: Annotated[Optional[int], typer.Option(min=1, help="torch.set_num_threads (default: torch's own).")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Where to write the rows as JSON (default: "
                                                      "benchmarks/results/layer_speed.json in a checkout).")] = None,  # fmt: skip
) -> None:
    """Time lstmkit.LSTM against torch.nn.LSTM in this process: ms, GFLOP/s and the ratio, per shape and variant."""
    from . import bench as layer_speed

    names = {"variants": (variants, tuple(layer_speed.VARIANTS)), "modes": (modes, layer_speed.MODES),
             "precisions": (precisions, layer_speed.PRECISIONS)}  # fmt: skip
    chosen = {name: layer_speed.parse_names(text, allowed, name) if text else allowed
              for name, (text, allowed) in names.items()}  # fmt: skip
    layer_speed.main(shapes=layer_speed.parse_shapes(shapes) if shapes else None, **chosen, quick=quick, budget_s=budget,
                     threads=threads, json_path=json_path)  # fmt: skip


def _job(run_dir: Path) -> Job:
    """The job of a finished run directory."""
    from .tasks.run import run_job

    return run_job(run_dir)


def _load(run_dir: Path):
    """The job and the estimator of a finished run directory."""
    job = _job(run_dir)
    return job, job.estimator.load(run_dir)


def _leave_process_group() -> None:
    """The end of a distributed run's process: leave its process group (torch warns at exit otherwise)."""
    if "WORLD_SIZE" in os.environ and "torch.distributed" in sys.modules:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    """Entry point: bad usage and bad input become one line on stderr and exit code 2; a distributed run
    stopped by the loss of one of its processes, one line and exit code 1."""
    argv = sys.argv[1:] if argv is None else argv
    _argv[:] = argv
    try:
        with interrupt.recorded():  # a Ctrl-C whose KeyboardInterrupt Python loses still stops training
            result = app(args=argv or ["--help"], prog_name="lstmkit", standalone_mode=False)
    except (LstmkitError, UsageError) as error:
        message = error.format_message() if isinstance(error, UsageError) else error.for_command_line(flag)
        if not message.strip():  # a command group called bare: its help is already shown
            return 0
        lost = isinstance(error, PeerLost)
        # in a distributed run, rank 0 speaks for all (the others meet the same bad input), and each process
        # for its own failure to join; a lost process is reported by each survivor under torchrun, by the
        # launcher alone under --nproc
        own = _rank() == 0 or isinstance(error, (PeerLost, RendezvousError))
        if own and not (lost and os.environ.get(LAUNCHED_ENV)) and not isinstance(error, ReportedElsewhere):
            print(f"lstmkit: error: {message}", file=sys.stderr)
        return 1 if lost else 2
    except (typer.Abort, KeyboardInterrupt):
        result = INTERRUPTED
    # typer turns Ctrl-C into this exit code itself (typer.core._main), before we see it; in a distributed run the
    # launcher of --nproc, or else rank 0, says it once
    if result == INTERRUPTED and _rank() == 0 and not os.environ.get(LAUNCHED_ENV):
        print(INTERRUPTED_LINE, file=sys.stderr)
    return result if isinstance(result, int) else 0
