"""How a run reports its epochs: a rich bar on a terminal, plain lines elsewhere, JSON lines, or nothing."""

from __future__ import annotations

import json
import sys
from typing import Optional

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Reporter:
    """Silent: the base every reporter extends (also what --quiet uses without --log-json)."""

    def start(self, epochs: int, first_epoch: int = 1) -> None:
        pass

    def batch(self, done: int, total: int) -> None:
        pass

    def epoch(self, row: dict) -> None:
        pass

    def close(self) -> None:
        pass

    def final(self, val_loss: float) -> None:
        """The validation loss of the weights the run keeps, where they are no epoch's (averaged weights)."""

    def note(self, text: str) -> None:
        """A line the user should read whatever the display (even with --quiet): on stderr."""
        print(f"lstmkit: {text}", file=sys.stderr, flush=True)

    def phase(self, name: str) -> "Reporter":
        """The reporter of a phase that trains before the model is (the classifier's pretraining): shown as this
        reporter shows the model's epochs, each row saying `"phase": name`."""
        return PhaseReporter(self, name)


class PhaseReporter(Reporter):
    """A phase's epochs, shown by the run's reporter, tagged with the phase."""

    def __init__(self, inner: Reporter, name: str):
        self.inner, self.name = inner, name

    def start(self, epochs: int, first_epoch: int = 1) -> None:
        self.inner.start(epochs, first_epoch)

    def batch(self, done: int, total: int) -> None:
        self.inner.batch(done, total)

    def epoch(self, row: dict) -> None:
        self.inner.epoch({"phase": self.name, **row})

    def close(self) -> None:
        self.inner.close()

    def note(self, text: str) -> None:
        self.inner.note(text)


class Mute(Reporter):
    """Says nothing at all, notes included: a distributed run's processes other than rank 0, which speaks for them."""

    def note(self, text: str) -> None:
        pass


def _summary(row: dict) -> str:
    """One epoch in a line; a refit's (`"phase": "refit"`, no validation loss) says so."""
    validation = f"  val loss {row['val_loss']:.5g}" if "val_loss" in row else ""
    return (
        f"{_phase(row)}epoch {row['epoch']}  train loss {row['train_loss']:.5g}{validation}  "
        f"lr {row['lr']:.3g}  {row['windows_per_s']:.0f} windows/s"
    )


def _phase(row: dict) -> str:
    return f"{row['phase']} " if "phase" in row else ""


class LineReporter(Reporter):
    """One plain line per epoch, for logs and pipes."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr

    def epoch(self, row: dict) -> None:
        print(_summary(row), file=self.stream, flush=True)


class JsonReporter(Reporter):
    """One JSON object per epoch (--log-json), on stdout so it can be redirected to a .jsonl file."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def epoch(self, row: dict) -> None:
        print(json.dumps(row), file=self.stream, flush=True)


class BarReporter(Reporter):
    """A rich progress bar over epochs with the latest losses and throughput."""

    def __init__(self, console: Optional[Console] = None):
        self.console = console or Console(stderr=True)
        self.bar: Optional[Progress] = None

    def start(self, epochs: int, first_epoch: int = 1) -> None:
        self.bar = Progress(
            TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(), console=self.console, transient=False,
        )  # fmt: skip
        self.bar.start()
        self.task = self.bar.add_task("train", total=epochs, completed=first_epoch - 1, status="")

    def epoch(self, row: dict) -> None:
        validation = f"  val {row['val_loss']:.4g}" if "val_loss" in row else ""
        status = f"{_phase(row)}train {row['train_loss']:.4g}{validation}  {row['windows_per_s']:.0f} win/s"
        self.bar.update(self.task, completed=row["epoch"], status=status)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def make_reporter(quiet: bool = False, log_json: bool = False, stream=None) -> Reporter:
    """--log-json: JSON lines on stdout, with or without --quiet (they are the run's log, not its display);
    --quiet: nothing; else on a terminal the bar, elsewhere one line per epoch (both on stderr)."""
    if log_json:
        return JsonReporter()
    if quiet:
        return Reporter()
    stream = stream or sys.stderr
    if stream.isatty():
        return BarReporter(Console(file=stream))
    return LineReporter(stream)
