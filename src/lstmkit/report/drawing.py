"""The report's figures drawn to PNG, in a helper process that imported matplotlib while the command trained
(`lstmkit.helper`, `PRELOAD`) where there is one, in this process otherwise: a command that writes a
report then never imports matplotlib itself, nor waits for its fonts to load. In the helper the figures are
drawn side by side, each after the first in a fork of it (`pngs`)."""

from __future__ import annotations

import os
import threading

from .. import helper

PRELOAD = "lstmkit.report.drawing:warm_up"  # what a helper runs before the report's figures arrive


def draw(figures: list[tuple[str, dict]]) -> list[bytes]:
    """The PNG of each `figures.<builder>(**arguments)`, for (builder, arguments) in `figures`, in order."""
    worker = helper.take(PRELOAD)
    if worker is not None:
        worker.submit(pngs, figures)
        try:
            drawn = worker.result()
        except helper.HelperFailed:  # drawn here instead; a builder's DataError is raised here too
            worker.close()
        else:
            helper.give_back(worker)
            return drawn
    return [png(builder, arguments) for builder, arguments in figures]


def pngs(figures: list[tuple[str, dict]]) -> list[bytes]:
    """`png` of each figure. In a process of one thread that can fork (a helper), the figures after the
    first are drawn in forks of it, beside the first; a fork that fails leaves its figure to be drawn here."""
    if len(figures) < 2 or not hasattr(os, "fork") or threading.active_count() > 1:
        return [png(builder, arguments) for builder, arguments in figures]
    forks = [_forked(builder, arguments) for builder, arguments in figures[1:]]
    drawn = [png(*figures[0])]
    for (builder, arguments), (pid, reader) in zip(figures[1:], forks):
        with os.fdopen(reader, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        drawn.append(data if status == 0 else png(builder, arguments))
    return drawn


def _forked(builder: str, arguments: dict) -> tuple[int, int]:
    """A fork drawing `png(builder, arguments)` into a pipe: (its pid, the pipe's reading end)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the fork: draw, write, and leave without running the parent's exit handlers
        code = 1
        try:
            os.close(reader)
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(png(builder, arguments))
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    return pid, reader


def png(builder: str, arguments: dict) -> bytes:
    """The PNG of `figures.<builder>(**arguments)`."""
    from . import figures
    from .html import figure_png

    return figure_png(getattr(figures, builder)(**arguments))


def warm_up() -> None:
    """Import matplotlib and draw one small figure, which loads the fonts a report's figures use."""
    png("loss_curves", {"history": {"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_loss": [1.0, 0.75]}})
