"""Seeing inside a trained LSTM (SPEC §6): what its gates did at every step of an input, and which units
matter. The `lstmkit inspect` command is built on this module.

    from lstmkit import gates
    t = gates.trace("runs/notes", "def f(x):\n    return [x, 'y']\n")   # a run directory, or an estimator
    t.gate("f", layer=0)                     # (T, H) forget gate of every unit at every step
    t.to_frame()                             # step, token, layer, direction, unit, gate, value
    gates.rank_units(t)                      # units whose cell state follows indentation, strings, ...
    gates.longest_memory(t)                  # units with the mean forget gate nearest 1
    gates.write_page(t, "inside.html")       # the page `lstmkit inspect` writes
"""

from __future__ import annotations

from .properties import property_label, series_properties, text_properties
from .ranking import UnitScore, best_per_property, correlations, findings, longest_memory, rank_units
from .trace import GATES, Trace, trace

__all__ = ["trace", "Trace", "GATES", "text_properties", "series_properties", "property_label", "rank_units",
           "longest_memory", "best_per_property", "correlations", "findings", "UnitScore", "page_html", "write_page"]  # fmt: skip


def page_html(trace: Trace, *, title: str = "", subtitle: str = "", found: dict | None = None) -> str:
    """The inspector page of `trace` as one HTML string (`found`: its `findings`, computed when not given)."""
    from ..report.inspector import inspector_html

    return inspector_html(trace, found or findings(trace), title=title, subtitle=subtitle)


def write_page(trace: Trace, path, *, title: str = "", subtitle: str = "", found: dict | None = None):
    """Write the inspector page of `trace` to `path` atomically (its folder created if needed); returns the path."""
    from ..report.inspector import write_inspector_page

    return write_inspector_page(trace, found or findings(trace), path, title=title, subtitle=subtitle)
