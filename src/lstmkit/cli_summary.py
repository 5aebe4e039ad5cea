"""What the command line prints: a run's metrics beside its baselines (the best of each in bold), the
verdict, and plain tables, drawn by rich."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from .tasks.job import Job

# long paths and sentences stay on one line; no pattern highlighting of numbers and paths, whose regular
# expressions took 0.1-0.15 s of every command's summary, for colours the styles already give
console = Console(soft_wrap=True, highlight=False)


def print_summary(job: Job, metrics: dict, out: Optional[Path], json_output: bool, title: str = "") -> None:
    if json_output:
        typer.echo(json.dumps(metrics))
        return
    names = [m for m in job.metrics if m in metrics["test"]]
    if names:  # an unlabelled anomaly run has nothing to score against
        rows = job.summary_rows(metrics)  # the model by its name where the job has several (the classifier's archs)
        best = {m: _best([values.get(m) for values in rows.values()], m in job.higher_is_better) for m in names}
        shown = [(name, *(cell(values.get(m), values.get(m) == best[m]) for m in names)) for name, values in rows.items()]
        print_table(title or None, ["model", *names], shown, left=("model",))
    text, good = job.verdict(metrics)
    console.print(text, style="green" if good else "bold yellow")
    for note in metrics.get("notes", [])[:3]:
        console.print(f"note: {note}", style="yellow")
    if out is not None:
        console.print(f"report: {Path(out) / 'report.html'}")


def print_table(title: Optional[str], columns: list, rows, left: tuple = ()) -> None:
    """A rich table: the `left` columns left-aligned, the others (numbers) right-aligned."""
    table = Table(title=title)
    for column in columns:
        table.add_column(str(column), justify="left" if column in left else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def cell(value, bold: bool = False) -> str:
    if value is None:
        return "–"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"[bold]{text}[/bold]" if bold else text


def _best(values: list, higher: bool):
    """The best of a column's numbers (the largest where higher is better), None when it has none."""
    numbers = [v for v in values if isinstance(v, (int, float)) and v == v]
    return (max if higher else min)(numbers, default=None)
