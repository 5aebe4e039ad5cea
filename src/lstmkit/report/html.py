"""A self-contained HTML report: one page, no network, readable when opened from disk.

Every run directory gets a `report.html` built with `Report`. The page carries its own CSS, embeds its
figures as `data:image/png;base64,` URIs and forbids every other source through a Content-Security-Policy,
so it shows the same on a laptop with no connection as it does anywhere else. All text passed in is
escaped: a column name or a prompt can never inject markup.
"""

from __future__ import annotations

import base64
import io
import math
import numbers
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from .._version import __version__
from ..fileio import atomic_write_text
from ..metrics import HIGHER_IS_BETTER

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Metrics where a larger value is better; every other metric is taken as lower-is-better (errors, losses).

MISSING = "–"  # shown for a metric that was not computed (None or NaN)

_CSS = """
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; white-space: pre-wrap; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1f2328; background: #fff; margin: 0; line-height: 1.5; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { margin: 0 0 4px; font-size: 1.8em; }
h2 { margin: 32px 0 8px; font-size: 1.3em; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.subtitle { margin: 0; color: #59636e; }
.verdict { margin: 24px 0; padding: 14px 18px; border-radius: 6px; border-left: 8px solid;
           font-size: 1.15em; font-weight: 600; }
.verdict-good { background: #dafbe1; border-color: #1a7f37; color: #0f4a20; }
.verdict-bad { background: #fff1d6; border-color: #bc4c00; color: #6a2500; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; }
th { background: #f6f8fa; }
td.num { text-align: right; }
figure { margin: 8px 0; }
img { max-width: 100%; height: auto; }
footer { margin-top: 40px; color: #59636e; font-size: 0.85em; }
"""

# The page may load nothing: no scripts, no fonts, no styles or images from anywhere but itself.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


class Report:
    """Builds one self-contained HTML page, section by section, in the order the sections are added.

    Each `add_*` method returns the report, so calls can be chained; `render` gives the page as a
    string and `write` puts it on disk atomically.
    """

    def __init__(self, title: str, subtitle: str = ""):
        self.title = title
        self.subtitle = subtitle
        self._sections: list[str | _Drawing] = []  # a figure left to draw when rendered

    def add_text(self, heading: str, text: str | Sequence[str]) -> Report:
        """A section of prose: one string (paragraphs separated by blank lines) or a list of paragraphs."""
        paragraphs = text.split("\n\n") if isinstance(text, str) else list(text)
        body = "".join(f"<p>{escape(p.strip())}</p>" for p in paragraphs if p.strip())
        return self._add(heading, body)

    def add_code(self, heading: str, text: str) -> Report:
        """Text shown exactly as it is, whitespace and line breaks kept (generated code, samples)."""
        return self._add(heading, f"<pre>{escape(text)}</pre>")

    def add_verdict(self, text: str, good: bool) -> Report:
        """A prominent box saying whether the model earned its cost: green when good, amber when not."""
        kind = "good" if good else "bad"
        return self._add("", f'<div class="verdict verdict-{kind}" role="status">{escape(text)}</div>')

    def add_metrics_table(
        self,
        heading: str,
        rows: Mapping[str, Mapping[str, float | None]],
        metrics: Sequence[str],
        lower_is_better: Mapping[str, bool] | None = None,
    ) -> Report:
        """The model and each baseline (rows) against the metrics (columns), best value per column in bold.

        A metric missing from `lower_is_better` is lower-is-better unless its name is in
        `HIGHER_IS_BETTER`. Missing values (None, NaN) show as "–" and never count as best.
        """
        lower = {m: (lower_is_better or {}).get(m, m not in HIGHER_IS_BETTER) for m in metrics}
        best = {m: _best_value([values.get(m) for values in rows.values()], lower[m]) for m in metrics}
        header = "<tr><th></th>" + "".join(f"<th>{escape(m)}</th>" for m in metrics) + "</tr>"
        body = ""
        for name, values in rows.items():
            cells = "".join(_cell(values.get(m), bold=_is_best(values.get(m), best[m])) for m in metrics)
            body += f"<tr><th>{escape(name)}</th>{cells}</tr>"
        return self._add(heading, f'<table class="metrics"><thead>{header}</thead><tbody>{body}</tbody></table>')

    def add_figure(self, heading: str, fig: Figure, alt: str = "") -> Report:
        """Embed a matplotlib figure as a PNG data URI. The figure is rendered now and then closed."""
        return self.add_png(heading, figure_png(fig), alt)

    def add_png(self, heading: str, png: bytes, alt: str = "") -> Report:
        """Embed a PNG image as a data URI."""
        return self._add(heading, _image(png, alt, heading))

    def add_drawing(self, heading: str, builder: str, arguments: dict, alt: str = "") -> Report:
        """A figure of `report/figures.py`, `builder(**arguments)`, drawn when the page is rendered: all the
        page's figures at once, in a helper process that preloaded matplotlib where there is one
        (`drawing.draw`), so the command itself need not import it."""
        self._sections.append(_Drawing(heading, builder, arguments, alt))
        return self

    def add_table(self, heading: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Report:
        """A small generic table, e.g. the run configuration as (setting, value) rows."""
        header = "<tr>" + "".join(f"<th>{escape(str(c))}</th>" for c in columns) + "</tr>"
        body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
        return self._add(heading, f"<table><thead>{header}</thead><tbody>{body}</tbody></table>")

    def render(self) -> str:
        """The whole page as one HTML string."""
        self._draw()
        subtitle = f'<p class="subtitle">{escape(self.subtitle)}</p>' if self.subtitle else ""
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<header><h1>{escape(self.title)}</h1>{subtitle}</header>\n"
            + "\n".join(self._sections)
            + f"\n<footer>Generated by lstmkit {escape(__version__)}</footer>\n</main>\n</body>\n</html>\n"
        )

    def write(self, path: str | os.PathLike) -> Path:
        """Write the page to `path` atomically: a failed write leaves any existing file as it was."""
        path = Path(path)
        atomic_write_text(path, self.render())
        return path

    def _draw(self) -> None:
        """Draw the figures `add_drawing` left for now, each into its place."""
        from .drawing import draw

        waiting = [(k, section) for k, section in enumerate(self._sections) if isinstance(section, _Drawing)]
        if not waiting:
            return
        drawn = draw([(section.builder, section.arguments) for _, section in waiting])
        for (k, section), png in zip(waiting, drawn):
            self._sections[k] = _section(section.heading, _image(png, section.alt, section.heading))

    def _add(self, heading: str, body: str) -> Report:
        self._sections.append(_section(heading, body))
        return self


def _section(heading: str, body: str) -> str:
    title = f"<h2>{escape(heading)}</h2>" if heading else ""
    return f"<section>{title}{body}</section>"


def _image(png: bytes, alt: str, heading: str) -> str:
    """A PNG as a data URI in a <figure>, described by `alt` (by default the heading)."""
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return f'<figure><img src="{uri}" alt="{escape(alt or heading or "figure")}"></figure>'


@dataclass(frozen=True)
class _Drawing:
    """A figure `Report.add_drawing` left to be drawn when the page is rendered."""

    heading: str
    builder: str
    arguments: dict
    alt: str


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """Render a figure to PNG bytes with the Agg canvas (no display needed) and close it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_figure(buffer, format="png", dpi=dpi, metadata={"Software": None})
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # a figure made with pyplot stays registered there until closed
        pyplot.close(fig)
    return buffer.getvalue()


def format_value(value: object) -> str:
    """A table cell's text: floats to 4 significant digits (one decimal from 1,000 up), ints as they are,
    None and NaN as "–", anything else as its escaped str()."""
    if value is None or _is_number(value) and math.isnan(value):
        return MISSING
    if not _is_number(value):
        return escape(str(value))
    if isinstance(value, numbers.Integral):
        return str(value)
    if abs(value) >= 1_000:
        return f"{value:,.1f}"
    return f"{value:#.4g}".removesuffix(".")  # 1.000, not 1: the digits of a column line up


def _cell(value: object, bold: bool = False) -> str:
    """One <td>: numbers right-aligned, optionally in bold."""
    text = format_value(value)
    text = f"<strong>{text}</strong>" if bold else text
    return f'<td class="num">{text}</td>' if _is_number(value) else f"<td>{text}</td>"


def _is_number(value: object) -> bool:
    """True for ints and floats, numpy's included; False for bools."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_best(value: object, best: float | None) -> bool:
    return best is not None and _is_number(value) and value == best


def _best_value(values: list[object], lower: bool) -> float | None:
    """The best finite value among `values`, or None when there is none."""
    finite = [v for v in values if _is_number(v) and math.isfinite(v)]
    if not finite:
        return None
    return min(finite) if lower else max(finite)
