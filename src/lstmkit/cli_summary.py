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


def fitted(columns: list, rows: list, width: int) -> tuple[list, list, str]:
    """Predictions' columns and rows (cells as text) cut to what a table `width` characters wide shows whole,
    and a line saying what was left out ("" where nothing was). A rich table narrower than its cells cuts
    every column to "4.…" and "1961…", the time and the label as much as the rest. So: where class
    probabilities (`p_<class>`, beside `label`) do not fit, the label's own probability stands in for them;
    then, as pandas prints a wide frame, the columns that still do not fit are left out from the middle, a "…"
    column in their place, so the first (the time, the id, the label) and the last (an interval's bounds, an
    anomaly's score and flag) stay."""
    def need(names, table):  # rich's default table: each column its widest cell, one space each side, a rule between
        return sum(max([len(str(name))] + [len(row[k]) for row in table]) + 3 for k, name in enumerate(names)) + 1

    if need(columns, rows) <= width:
        return columns, rows, ""
    notes = []
    probabilities = [k for k, name in enumerate(columns) if str(name).startswith("p_")]
    if "label" in columns and len(probabilities) > 1:
        label = columns.index("label")
        where = {columns[k][2:]: k for k in probabilities}
        kept = [k for k in range(len(columns)) if k not in probabilities]
        rows = [[row[k] for k in kept] + [row[where[row[label]]] if row[label] in where else "–"] for row in rows]
        columns = [columns[k] for k in kept] + ["p_label"]
        notes.append(f"p_label: the label's probability, in place of the {len(probabilities)} classes'")
    if need(columns, rows) > width:
        def cut(first, last):  # the first and the last columns, "…" between
            keep = list(range(first)) + list(range(len(columns) - last, len(columns)))
            return [columns[k] for k in keep[:first]] + ["…"] + [columns[k] for k in keep[first:]], \
                [[row[k] for k in keep[:first]] + ["…"] + [row[k] for k in keep[first:]] for row in rows]
        first, last = 1, 0
        while first + last < len(columns) - 1:
            wider = (first + 1, last) if first <= last else (first, last + 1)
            if need(*cut(*wider)) > width:
                break
            first, last = wider
        notes.append(f"…: {len(columns) - first - last} more columns, {', '.join(map(str, columns[first:len(columns) - last]))}")
        columns, rows = cut(first, last)
    return columns, rows, "; ".join(notes) + " (every column: --output F.csv or --json)"


def cell(value, bold: bool = False) -> str:
    if value is None:
        return "–"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"[bold]{text}[/bold]" if bold else text


def _best(values: list, higher: bool):
    """The best of a column's numbers (the largest where higher is better), None when it has none."""
    numbers = [v for v in values if isinstance(v, (int, float)) and v == v]
    return (max if higher else min)(numbers, default=None)
