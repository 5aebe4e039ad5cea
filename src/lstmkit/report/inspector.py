"""The gate inspector page: one self-contained HTML file of what an LSTM's gates did at every step.

The page shows the input (text as its characters or words, a series as line charts), and under each step
the colour of one gate or the cell state of one unit, chosen with the controls; hovering a step shows the
exact values. Beside it, the units with the longest memory and the units that follow a property of the
input, each a click away. A page can hold several LSTMs of one model, a panel each with its own controls
(a sequence-to-sequence model's encoder reading a source, then its decoder writing the output with its
attention over the source). Like the run report it loads nothing: its CSS, script and data are inline and a
Content-Security-Policy forbids every other source, so it opens from disk with no network.

The data rides in a `<script type="application/json">` block: the activations as little-endian integers
of value * 10^4 (int16 where they fit, else int32), base64-encoded, unit by unit. So the page shows each
value rounded to 4 decimal places, exactly as `round(value, 4)` in Python, at about a third of the size of
the same numbers written out as JSON.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

import numpy as np

from .._version import __version__
from ..fileio import atomic_write_text, file_to_write
from .html import _CSS

DIGITS = 4  # decimal places the page shows
SCALE = 10**DIGITS
PAGE_GATES = {"f": "forget gate f", "i": "input gate i", "o": "output gate o", "c": "cell state c", "h": "output h"}
TOP = 12  # units listed in each ranking

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

_INSPECTOR_CSS = """
main { max-width: 1200px; }
.panel > h2 { font-size: 1.5em; margin-top: 40px; }
table.attention { border-collapse: collapse; font-size: 12px; margin-top: 8px; }
table.attention th, table.attention td { padding: 2px 6px; text-align: center; border: 1px solid #eee; }
table.attention tr.hover { outline: 2px solid #000; }
.note { background: #fff8c5; border-left: 4px solid #d4a72c; padding: 6px 12px; margin: 8px 0; }
.controls { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; margin: 12px 0; }
.controls label { font-weight: 600; }
select { font: inherit; padding: 2px 4px; }
.selection { font-weight: 600; margin: 6px 0; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 330px; gap: 20px; align-items: start; }
.input-view { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px;
         line-height: 1.55; white-space: pre-wrap; word-break: break-all; border: 1px solid #d0d7de;
         border-radius: 6px; padding: 10px; max-height: 640px; overflow-y: auto; tab-size: 8;
         box-sizing: border-box; width: 100%; }
.input-view .step { border-radius: 2px; cursor: crosshair; }
.input-view .step.nl { color: #8c959f; }
.input-view .step.hover { outline: 2px solid #000; }
svg rect.step.hover { stroke: #000; stroke-width: 1.5; }
svg { display: block; width: 100%; height: auto; }
svg text { font-size: 11px; fill: #59636e; }
.unit-chart { margin-top: 10px; border: 1px solid #d0d7de; border-radius: 6px; }
#value { position: fixed; display: none; z-index: 10; background: #fff; border: 1px solid #8c959f;
         border-radius: 6px; padding: 6px 10px; box-shadow: 0 3px 12px rgba(0,0,0,.15); font-size: 13px;
         pointer-events: none; font-variant-numeric: tabular-nums; }
#value table { margin: 4px 0 0; }
#value td, #value th { border: none; padding: 0 8px 0 0; }
#value .chosen { font-weight: 700; }
.legend { display: flex; align-items: center; gap: 8px; font-size: 13px; color: #59636e; }
.legend .bar { width: 180px; height: 12px; border: 1px solid #d0d7de; }
aside h2 { margin-top: 0; }
aside ol { padding-left: 1.6em; margin: 4px 0 16px; }
aside li { margin: 2px 0; }
button.pick { font: inherit; font-size: 13px; background: none; border: 1px solid transparent; border-radius: 4px;
              padding: 1px 4px; cursor: pointer; text-align: left; color: #0969da; }
button.pick:hover, button.pick.active { border-color: #0969da; background: #ddf4ff; }
.muted { color: #59636e; font-size: 0.9em; }
"""

_SCRIPT = r"""
"use strict";
// Each LSTM on the page is a panel: its controls, steps and rankings carry ids that start with the panel's
// prefix ("" on a page of one LSTM; "encoder-", "decoder-" on a sequence-to-sequence page) and its data
// rides in the <script class="inspector-data" data-prefix=...> block of that prefix.
const byId = (id) => document.getElementById(id);
function panel(P, D) {
  const T = D.steps, SCALE = D.scale, root = byId(P + "panel");
  const $ = (id) => byId(P + id);
  const cache = {};
  function column(layer, direction, gate) {
    const key = layer + "-" + direction + "-" + gate;
    if (!cache[key]) {
      const block = D.gates[layer + "-" + direction][gate];
      const bin = atob(block.b64), bytes = new Uint8Array(bin.length);
      for (let k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
      cache[key] = block.dtype === "int16" ? new Int16Array(bytes.buffer) : new Int32Array(bytes.buffer);
    }
    return cache[key];
  }
  function value(gate, step, s) {
    s = s || state();
    return column(s.layer, s.direction, gate)[s.unit * T + step] / SCALE;
  }
  function state() {
    return { layer: +$("layer").value, direction: +$("direction").value, unit: +$("unit").value, gate: $("gate").value };
  }
  function range(s) {
    if (s.gate !== "c") return 1;
    let m = 1e-9;
    for (let k = 0; k < T; k++) m = Math.max(m, Math.abs(value("c", k, s)));
    return m;
  }
  function unitName(layer, direction, unit) {
    let name = "unit " + unit;
    if (D.directions > 1) name = (direction ? "backward" : "forward") + " · " + name;
    if (D.layers > 1) name = "layer " + layer + " · " + name;
    return name;
  }
  function draw() {
    const s = state(), m = range(s);
    root.querySelectorAll(".step").forEach((el) => {
      const c = colour(value(s.gate, +el.dataset.step, s), s.gate, m);
      if (el.tagName === "rect") el.setAttribute("fill", c); else el.style.backgroundColor = c;
    });
    $("selection").textContent = unitName(s.layer, s.direction, s.unit) + " · " + D.gateNames[s.gate];
    const lo = s.gate === "c" || s.gate === "h" ? -m : 0;
    $("legend").innerHTML = "";
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.background = "linear-gradient(to right, " + colour(lo, s.gate, m) + ", " + colour((lo + m) / 2, s.gate, m) + ", " + colour(m, s.gate, m) + ")";
    const left = document.createElement("span"), right = document.createElement("span");
    left.textContent = lo.toFixed(D.digits);
    right.textContent = m.toFixed(D.digits) + (s.gate === "c" ? " (this unit's largest |c|)" : "");
    $("legend").append(left, bar, right);
    drawUnitChart(s);
    root.querySelectorAll("button.pick").forEach((b) => {
      b.classList.toggle("active", +b.dataset.layer === s.layer && +b.dataset.direction === s.direction && +b.dataset.unit === s.unit);
    });
  }
  function drawUnitChart(s) {
    const svg = $("unit-chart"), W = 1000, Hc = 90, pad = 4;
    let lo = Infinity, hi = -Infinity;
    const v = [];
    for (let k = 0; k < T; k++) { const x = value(s.gate, k, s); v.push(x); lo = Math.min(lo, x); hi = Math.max(hi, x); }
    if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    const pts = v.map((x, k) => ((T > 1 ? k / (T - 1) : 0.5) * W).toFixed(1) + "," + (pad + (1 - (x - lo) / (hi - lo)) * (Hc - 2 * pad)).toFixed(1));
    svg.innerHTML = '<polyline fill="none" stroke="#0969da" stroke-width="1.2" points="' + pts.join(" ") + '"></polyline>' +
      '<text x="4" y="12">' + hi.toFixed(D.digits) + '</text><text x="4" y="' + (Hc - 4) + '">' + lo.toFixed(D.digits) + '</text>';
  }
  function select(layer, direction, unit, gate) {
    $("layer").value = layer; $("direction").value = direction; $("unit").value = unit;
    if (gate) $("gate").value = gate;
    draw();
  }
  function showValue(event, step) {
    const s = state(), box = byId("value");
    let head = "step " + step;
    if (D.kind === "text") head += " · " + JSON.stringify(D.tokens[step]);
    else head += " · " + D.columns.map((c, k) => c + " = " + D.values[k][step]).join(", ");
    let rows = "";
    for (const g of Object.keys(D.gateNames)) {
      rows += '<tr class="' + (g === s.gate ? "chosen" : "") + '"><td>' + D.gateNames[g] + '</td><td class="v" data-gate="' + g + '">' + value(g, step, s).toFixed(D.digits) + "</td></tr>";
    }
    for (const [name, label] of Object.entries(D.propertyNames)) {
      rows += '<tr class="muted"><td>' + label + '</td><td class="p" data-property="' + name + '">' + D.properties[name][step] + "</td></tr>";
    }
    box.innerHTML = "<div>" + head.replace(/&/g, "&amp;").replace(/</g, "&lt;") + "</div><div class=\"muted\">" + unitName(s.layer, s.direction, s.unit) + "</div><table>" + rows + "</table>";
    box.dataset.step = step;
    box.dataset.panel = P;
    box.style.display = "block";
    const x = Math.min(event.clientX + 14, window.innerWidth - box.offsetWidth - 8);
    const y = event.clientY + 16 + box.offsetHeight > window.innerHeight ? event.clientY - box.offsetHeight - 10 : event.clientY + 16;
    box.style.left = x + "px"; box.style.top = y + "px";
  }
  for (const id of ["layer", "direction", "unit", "gate"]) $(id).addEventListener("change", draw);
  root.querySelectorAll("button.pick").forEach((b) => b.addEventListener("click", () =>
    select(b.dataset.layer, b.dataset.direction, b.dataset.unit, b.dataset.gate)));
  select(D.initial.layer, D.initial.direction, D.initial.unit, D.initial.gate);
  return { root, showValue };
}
function colour(v, gate, range) {
  let r, g, b, t;
  if (gate === "c" || gate === "h") {
    t = Math.max(-1, Math.min(1, v / range));
    const end = t < 0 ? [178, 24, 43] : [33, 102, 172];
    t = Math.abs(t);
    [r, g, b] = end.map((e) => Math.round(255 + (e - 255) * t));
  } else {
    t = Math.max(0, Math.min(1, v));
    [r, g, b] = [33, 102, 172].map((e) => Math.round(255 + (e - 255) * t));
  }
  return "rgb(" + r + "," + g + "," + b + ")";
}
const panels = [...document.querySelectorAll("script.inspector-data")].map((block) =>
  panel(block.dataset.prefix, JSON.parse(block.textContent)));
document.addEventListener("mouseover", (event) => {
  const el = event.target.closest ? event.target.closest(".step") : null;
  document.querySelectorAll(".step.hover, table.attention tr.hover").forEach((e) => e.classList.remove("hover"));
  const owner = el ? panels.find((p) => p.root.contains(el)) : null;
  if (!owner) { byId("value").style.display = "none"; return; }
  el.classList.add("hover");
  const row = owner.root.querySelector('table.attention tr[data-step="' + el.dataset.step + '"]');
  if (row) row.classList.add("hover");  // a decoder's step: its row of attention over the source
  owner.showValue(event, +el.dataset.step);
});
"""


PART_HEADINGS = {"encoder": "The encoder reading the source", "decoder": "The decoder writing the output"}


def inspector_html(trace, found, *, title: str = "", subtitle: str = "") -> str:
    """The whole inspector page as one HTML string: of one `lstmkit.gates.Trace`, with `found` what
    `lstmkit.gates.findings` says of it (the properties, their labels and the ranked units); or of several
    traces of one model's LSTMs (a sequence-to-sequence model's encoder and decoder, for one source) with a
    list of their findings, one panel each, in that order."""
    traces, founds = (list(trace), list(found)) if isinstance(trace, (list, tuple)) else ([trace], [found])
    if not traces or len(traces) != len(founds):
        raise ValueError(f"{len(traces)} traces and {len(founds)} findings; give one finding per trace")
    if len(traces) == 1:
        panels = [_panel("", traces[0], founds[0], heading=False)]
    else:
        names = [t.lstm for t in traces]
        if len(set(names)) != len(names):
            raise ValueError(f"the traces of one page must be of different LSTMs, got {names}")
        panels = [_panel(f"{t.lstm}-", t, f, heading=True) for t, f in zip(traces, founds)]
    title = title or "Inside the LSTM"
    body = "\n".join([
        f"<header><h1>{escape(title)}</h1>" + (f'<p class="subtitle">{escape(subtitle)}</p>' if subtitle else "") + "</header>",
        *(markup for markup, _ in panels),
        '<div id="value" role="tooltip"></div>',
        f"<footer>Generated by lstmkit {escape(__version__)}</footer>",
    ])  # fmt: skip
    data = "".join(payload for _, payload in panels)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}{_INSPECTOR_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n{data}"
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def write_inspector_page(trace, found, path, *, title: str = "", subtitle: str = "") -> Path:
    """Write the inspector page (of one trace, or of several: see `inspector_html`) to `path` atomically
    (its folder created if needed); returns the path."""
    path = file_to_write(path, "inspect.html")
    atomic_write_text(path, inspector_html(trace, found, title=title, subtitle=subtitle))
    return path


def _panel(prefix: str, trace, found: dict, *, heading: bool) -> tuple[str, str]:
    """One LSTM's panel: its markup, every id starting with `prefix`, and its data block."""
    properties, labels, follows, memory = found["properties"], found["labels"], found["follows"], found["memory"]
    first = follows[0] if follows else memory[0]
    data = {
        "kind": trace.kind, "steps": len(trace), "hidden": trace.hidden_size, "layers": trace.num_layers,
        "directions": trace.num_directions, "scale": SCALE, "digits": DIGITS, "gateNames": PAGE_GATES,
        "gates": {f"{layer}-{direction}": {name: _encode(gates[name]) for name in PAGE_GATES}
                  for layer, directions in enumerate(trace.gates) for direction, gates in enumerate(directions)},
        "propertyNames": labels,
        "properties": {name: [_number(v) for v in values] for name, values in properties.items()},
        "initial": {"layer": first.layer, "direction": first.direction, "unit": first.unit,
                    "gate": first.quantity},
    }  # fmt: skip
    if trace.kind == "text":
        data["tokens"] = list(trace.tokens)
    else:
        data["columns"] = list(trace.columns)
        data["values"] = [[_number(v) for v in trace.values[:, k]] for k in range(trace.values.shape[1])]
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    title = PART_HEADINGS.get(trace.lstm, f"The {trace.lstm}")
    markup = "\n".join([
        f'<section class="panel" id="{prefix}panel">',
        f"<h2>{escape(title)}</h2>" if heading else "",
        "".join(f'<p class="note">{escape(note)}</p>' for note in trace.notes if note.startswith("Showing")),
        "".join(f'<p class="muted">{escape(note)}</p>' for note in trace.notes if not note.startswith("Showing")),
        _controls(prefix, trace),
        '<div class="layout"><div>',
        f'<div id="{prefix}selection" class="selection" role="status"></div><div id="{prefix}legend" class="legend"></div>',
        _input_view(prefix, trace),
        f'<svg id="{prefix}unit-chart" class="unit-chart" viewBox="0 0 1000 90" preserveAspectRatio="none" role="img" '
        'aria-label="the chosen unit over the steps"></svg>',
        f'<p class="muted">Above: the chosen value of the chosen unit at every step. Colour under each step: '
        f"gates from 0 (white) to 1 (blue); the cell state c and the output h from negative (red) through 0 "
        f"(white) to positive (blue). Hover a step for the exact values, rounded to {DIGITS} decimal places.</p>",
        _attention_view(trace),
        "</div>",
        _rankings(prefix, follows, memory, found["best"], trace, labels),
        "</div></section>",
    ])  # fmt: skip
    block = (f'<script type="application/json" class="inspector-data" id="{prefix}inspector-data" '
             f'data-prefix="{prefix}">{payload}</script>\n')  # fmt: skip
    return markup, block


def _encode(values: np.ndarray) -> dict:
    """(T, H) activations -> {"dtype", "b64"}: value * 10^4 rounded, unit by unit (H, T), little-endian."""
    q = np.rint(np.asarray(values, dtype=np.float64).T * SCALE)  # (H, T)
    dtype = "<i2" if np.abs(q).max(initial=0) <= np.iinfo(np.int16).max else "<i4"
    return {"dtype": "int16" if dtype == "<i2" else "int32",
            "b64": base64.b64encode(np.ascontiguousarray(q.astype(dtype)).tobytes()).decode("ascii")}  # fmt: skip


def _number(v: float):
    """A property or series value as the page shows it: whole numbers as ints, others to 6 significant digits."""
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2**53 else float(f"{v:.6g}")


def _controls(prefix: str, trace) -> str:
    layers = "".join(f'<option value="{k}">{k}</option>' for k in range(trace.num_layers))
    directions = "".join(f'<option value="{d}">{"backward" if d else "forward"}</option>' for d in range(trace.num_directions))
    units = "".join(f'<option value="{u}">{u}</option>' for u in range(trace.hidden_size))
    gates = "".join(f'<option value="{g}">{escape(name)}</option>' for g, name in PAGE_GATES.items())
    return ('<div class="controls">'
            f'<span><label for="{prefix}layer">Layer</label> <select id="{prefix}layer">{layers}</select></span>'
            f'<span><label for="{prefix}direction">Direction</label> <select id="{prefix}direction">{directions}</select></span>'
            f'<span><label for="{prefix}unit">Unit</label> <select id="{prefix}unit">{units}</select></span>'
            f'<span><label for="{prefix}gate">Show</label> <select id="{prefix}gate">{gates}</select></span>'
            "</div>")  # fmt: skip


def _input_view(prefix: str, trace) -> str:
    if trace.kind == "text":
        return f'<div id="{prefix}input" class="input-view">{_text_spans(trace)}</div>'
    return _series_charts(prefix, trace)


def _attention_view(trace) -> str:
    """A decoder's attention as a table: a row per step (the token written), a column per source token, each
    cell shaded by its weight (white 0, blue 1) and holding it to two decimals."""
    if getattr(trace, "attention", None) is None:
        return ""
    head = "".join(f"<th>{escape(token)}</th>" for token in trace.source_tokens)
    rows = []
    for token, weights in zip(trace.tokens, trace.attention):
        cells = "".join(f'<td style="background: rgba(33, 102, 172, {w:.3f}); color: {"#fff" if w > 0.55 else "#111"}">'
                        f"{w:.2f}</td>" for w in weights)  # fmt: skip
        rows.append(f'<tr data-step="{len(rows)}"><th>{escape(token)}</th>{cells}</tr>')
    return ('<h2>Attention over the source</h2><p class="muted">Each row: the token the decoder wrote at that '
            "step; each column: a source token; the weight the decoder gave it (each row sums to 1). Hovering a step "
            "of the output outlines its row.</p>"
            f'<table class="attention"><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _text_spans(trace) -> str:
    """The text, each token a span.step[data-step]; what lies between tokens as plain text. A newline
    token shows as ↵ and then breaks the line."""
    parts, end = [], 0
    for k, (token, start) in enumerate(zip(trace.tokens, trace.offsets)):
        start = int(start)
        parts.append(escape(trace.text[end:start]))
        if token == "\n":
            parts.append(f'<span class="step nl" data-step="{k}">↵</span>\n')
        else:
            parts.append(f'<span class="step" data-step="{k}">{escape(token)}</span>')
        end = start + len(token)
    return "".join(parts)


def _series_charts(prefix: str, trace) -> str:
    """One line chart per input column and, under them, a strip of one rect.step[data-step] a step."""
    T, W, Hc, strip = len(trace), 1000, 110, 26
    step = W / T
    charts = []
    for k, name in enumerate(trace.columns):
        v = trace.values[:, k]
        lo, hi = float(v.min()), float(v.max())
        span = hi - lo if hi > lo else 1.0
        points = " ".join(f"{(t + 0.5) * step:.2f},{6 + (1 - (x - lo) / span) * (Hc - 12):.2f}" for t, x in enumerate(v))
        charts.append(f'<polyline fill="none" stroke="#1f2328" stroke-width="1.3" points="{points}" transform="translate(0,{k * Hc})"></polyline>'
                      f'<text x="4" y="{k * Hc + 14}">{escape(str(name))} ({_number(lo)} to {_number(hi)})</text>')  # fmt: skip
    top = len(trace.columns) * Hc
    rects = "".join(f'<rect class="step" data-step="{t}" x="{t * step:.3f}" y="{top + 4}" width="{step:.3f}" '
                    f'height="{strip}"></rect>' for t in range(T))  # fmt: skip
    return (f'<svg id="{prefix}input" class="input-view series" viewBox="0 0 {W} {top + strip + 8}" preserveAspectRatio="none" '
            f'role="img" aria-label="the input series">{"".join(charts)}{rects}</svg>')  # fmt: skip


def _rankings(prefix: str, follows, memory, best, trace, labels: dict) -> str:
    def pick(score, text: str) -> str:
        return (f'<button class="pick" data-layer="{score.layer}" data-direction="{score.direction}" '
                f'data-unit="{score.unit}" data-gate="{score.quantity}">{escape(text)}</button>')  # fmt: skip

    def name(score) -> str:
        parts = ([f"layer {score.layer}"] if trace.num_layers > 1 else []) + (
            ["backward" if score.direction else "forward"] if trace.num_directions > 1 else []) + [f"unit {score.unit}"]  # fmt: skip
        return " · ".join(parts)

    items = "".join(f"<li>{pick(s, f'{name(s)}: {s.quantity} ~ {labels[s.property]}, r = {s.value:+.2f}')}</li>"
                    for s in follows)  # fmt: skip
    follow_list = (f'<ol id="{prefix}follows" class="follows">{items}</ol>' if items
                   else f'<p id="{prefix}follows" class="follows muted">Too few steps, or no property varies, to correlate.</p>')  # fmt: skip
    memory_items = "".join(f"<li>{pick(s, f'{name(s)}: mean forget gate {s.value:.4f}')}</li>" for s in memory)
    best_rows = "".join(f"<li>{pick(s, f'{labels[p]}: {name(s)} ({s.quantity}), r = {s.value:+.2f}')}</li>"
                        for p, s in best.items())  # fmt: skip
    return ("<aside>"
            "<h2>Units that follow the input</h2>"
            '<p class="muted">Pearson r between the unit\'s cell state c (or output h) and a property of the '
            "input, over the steps shown; the largest |r| of each unit. Click to show it.</p>"
            f"{follow_list}"
            f'<h2>Best unit for each property</h2><ol id="{prefix}best">{best_rows}</ol>'
            "<h2>Longest memory</h2>"
            '<p class="muted">The mean forget gate over the steps: near 1, the unit keeps its cell state from '
            "step to step.</p>"
            f'<ol id="{prefix}memory">{memory_items}</ol>'
            "</aside>")  # fmt: skip
