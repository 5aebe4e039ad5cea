"""The `lstmkit` command: parses, calls the library, prints. No training or data logic lives here."""

from __future__ import annotations

import json
import sys
from enum import Enum

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import LstmkitError

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
console = Console()


class Variant(str, Enum):
    vanilla = "vanilla"
    peephole = "peephole"
    cifg = "cifg"
    layernorm = "layernorm"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lstmkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """lstmkit: Long Short-Term Memory networks made practical."""


@app.command()
def demo(
    variant: Variant = typer.Option(Variant.vanilla, help="LSTM variant to train."),
    hidden: int = typer.Option(32, min=1, help="Hidden size H."),
    epochs: int = typer.Option(30, min=1, help="Passes over the training windows."),
    seed: int = typer.Option(0, help="Seed for the data and the weights."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object instead of a summary."),
    quiet: bool = typer.Option(False, "--quiet", help="No per-epoch progress."),
) -> None:
    """Train an lstmkit.LSTM on a generated series and compare it with the naive forecast."""
    from .demo import DemoConfig, run

    def progress(epoch: int, train_loss: float, val_loss: float) -> None:
        if not (quiet or json_output):
            console.print(f"epoch {epoch:3d}  train loss {train_loss:.4f}  val loss {val_loss:.4f}")

    result = run(DemoConfig(variant=variant.value, hidden=hidden, epochs=epochs, seed=seed), progress)
    if json_output:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"Next-step forecast, {result['test_windows']} test windows (lower is better)")
    for column in ("model", "MSE", "RMSE"):
        table.add_column(column, justify="right" if column != "model" else "left")
    table.add_row(f"lstmkit.LSTM ({variant.value}, H={hidden})", f"{result['test']['mse']:.4f}", f"{result['test']['rmse']:.4f}")
    naive = result["baselines"]["naive"]
    table.add_row("naive (last value)", f"{naive['mse']:.4f}", f"{naive['rmse']:.4f}")
    console.print(table)
    verdict = "beats" if result["test"]["mse"] < naive["mse"] else "does NOT beat"
    console.print(
        f"The LSTM {verdict} the naive baseline (noise floor MSE {result['noise_floor_mse']:.2f}); "
        f"trained in {result['seconds']:.1f} s."
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: bad usage and bad input become one line on stderr and exit code 2."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        result = app(args=argv or ["--help"], prog_name="lstmkit", standalone_mode=False)
    except (LstmkitError, UsageError) as error:
        message = error.format_message() if isinstance(error, UsageError) else str(error)
        print(f"lstmkit: error: {message}", file=sys.stderr)
        return 2
    except typer.Abort:
        print("lstmkit: interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0
