"""Seeing inside a trained LSTM (SPEC §6): what its gates did at every step of an input, and which units
matter. The `lstmkit inspect` command is built on this module.

    from lstmkit import gates
    t = gates.trace("runs/notes", "def f(x):\n    return [x, 'y']\n")   # a run directory, or an estimator
    t.gate("f", layer=0)                     # (T, H) forget gate of every unit at every step
    t.to_frame()                             # step, token, layer, direction, unit, gate, value
    gates.rank_units(t)                      # units whose cell state follows indentation, strings, ...
    gates.longest_memory(t)                  # units with the mean forget gate nearest 1
    gates.write_page(t, "inside.html")       # the page `lstmkit inspect` writes
    parts = gates.trace_parts("runs/s2s", "cannot open %s")  # every LSTM: seq2seq's encoder, then decoder
    gates.write_page(parts, "pair.html")     # one page, a panel each, the decoder's attention under it
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

from .properties import property_label, series_properties, text_properties
from .ranking import UnitScore, best_per_property, correlations, findings, longest_memory, rank_units
from .trace import GATES, Trace, trace, trace_parts

__all__ = ["trace", "trace_parts", "Trace", "GATES", "text_properties", "series_properties", "property_label", "rank_units",
           "longest_memory", "best_per_property", "correlations", "findings", "UnitScore", "page_html", "write_page"]  # fmt: skip


def page_html(trace: Union[Trace, Sequence[Trace]], *, title: str = "", subtitle: str = "",
              found: Union[dict, Sequence[dict], None] = None) -> str:
    """The inspector page of `trace` (or of several traces of one model's LSTMs, a panel each: see
    `trace_parts`) as one HTML string (`found`: their `findings`, computed when not given)."""
    from ..report.inspector import inspector_html

    return inspector_html(*_with_findings(trace, found), title=title, subtitle=subtitle)


def write_page(trace: Union[Trace, Sequence[Trace]], path, *, title: str = "", subtitle: str = "",
               found: Union[dict, Sequence[dict], None] = None):
    """Write the inspector page of `trace` (or of several traces, as `page_html`) to `path` atomically (its
    folder created if needed); returns the path."""
    from ..report.inspector import write_inspector_page

    return write_inspector_page(*_with_findings(trace, found), path, title=title, subtitle=subtitle)


def _with_findings(trace, found):
    """(trace, found), or (traces, founds) for a sequence of traces, with the findings computed where not given."""
    if isinstance(trace, Trace):
        return trace, found or findings(trace)
    traces = list(trace)
    return traces, list(found) if found is not None else [findings(t) for t in traces]
