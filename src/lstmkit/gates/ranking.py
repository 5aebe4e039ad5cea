"""Which units matter: the ones with the longest memory, and the ones that follow a property of the input.

- Longest memory: the mean forget gate of a unit over the steps, highest first. A forget gate near 1 keeps
  the cell state from step to step (it decays by a factor f a step, so a mean of 0.99 is a memory of about
  a hundred steps); one near 0 wipes it.
- Following a property: the Pearson correlation r between a unit's cell state c (or its output h) and each
  property of the input (`gates.properties`), over the steps. Units are ranked by their largest |r|
  over properties and over c and h, each unit listed once with the property and quantity of that largest
  |r|; r keeps its sign (a unit may fall as indentation rises). A property or unit that is constant over
  the steps correlates with nothing (r = 0), never NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np

from .properties import property_label

QUANTITIES = ("c", "h")  # what is correlated with the properties: the cell state and the unit's output


@dataclass(frozen=True)
class UnitScore:
    """One unit (layer, direction, unit) and why it ranks: its mean forget gate (`quantity` "f",
    `property` None), or its correlation r with `property` through `quantity` ("c" or "h")."""

    layer: int
    direction: int
    unit: int
    quantity: str
    property: Optional[str]
    value: float

    def to_dict(self) -> dict:
        return {"layer": self.layer, "direction": self.direction, "unit": self.unit, "quantity": self.quantity,
                "property": self.property, "value": self.value}  # fmt: skip


def correlations(activations: np.ndarray, properties: Mapping[str, np.ndarray]) -> np.ndarray:
    """Pearson r (P, H) between each property (T,) and each unit of `activations` (T, H), in the order of
    `properties`; 0 where either side is constant."""
    x = np.asarray(activations, dtype=np.float64)  # (T, H)
    p = np.stack([np.asarray(v, dtype=np.float64) for v in properties.values()], axis=1) if properties else np.zeros((len(x), 0))
    xc, pc = x - x.mean(axis=0), p - p.mean(axis=0)  # (T, H), (T, P)
    xn, pn = np.sqrt((xc**2).sum(axis=0)), np.sqrt((pc**2).sum(axis=0))  # (H,), (P,)
    scale = np.outer(pn, xn)  # (P, H)
    tiny = 1e-12 * max(1.0, float(scale.max(initial=0.0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(scale > tiny, (pc.T @ xc) / np.where(scale > tiny, scale, 1.0), 0.0)
    return np.clip(r, -1.0, 1.0)


def varying(properties: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The properties that are not constant over the steps (a constant one says nothing)."""
    return {name: v for name, v in properties.items() if len(v) > 1 and np.ptp(np.asarray(v, dtype=np.float64)) > 0}


def rank_units(trace, properties: Optional[Mapping[str, np.ndarray]] = None, top: Optional[int] = 10) -> list[UnitScore]:
    """The units that best follow a property of the input, largest |r| first, each unit once (module
    docstring). `properties` defaults to `trace.properties()`; `top` None lists every unit."""
    properties = varying(trace.properties() if properties is None else properties)
    if not properties or len(trace) < 3:
        return []
    names = list(properties)
    scores = []
    for layer, directions in enumerate(trace.gates):
        for direction, gates in enumerate(directions):
            found = [(q, correlations(gates[q], properties)) for q in QUANTITIES if q in gates]  # (P, H) each
            r = np.stack([c for _, c in found])  # (Q, P, H)
            flat = np.abs(r).reshape(-1, r.shape[2])  # (Q*P, H)
            best = flat.argmax(axis=0)  # (H,)
            for unit, k in enumerate(best):
                q, p = divmod(int(k), len(names))
                scores.append(UnitScore(layer, direction, unit, found[q][0], names[p], float(r[q, p, unit])))
    scores.sort(key=lambda s: (-abs(s.value), s.layer, s.direction, s.unit))
    return scores if top is None else scores[:top]


def longest_memory(trace, top: Optional[int] = 10) -> list[UnitScore]:
    """The units with the highest mean forget gate over the steps, highest first."""
    scores = []
    for layer, directions in enumerate(trace.gates):
        for direction, gates in enumerate(directions):
            mean = np.asarray(gates["f"], dtype=np.float64).mean(axis=0)  # (H,)
            scores += [UnitScore(layer, direction, unit, "f", None, float(m)) for unit, m in enumerate(mean)]
    scores.sort(key=lambda s: (-s.value, s.layer, s.direction, s.unit))
    return scores if top is None else scores[:top]


def best_per_property(trace, properties: Optional[Mapping[str, np.ndarray]] = None) -> dict[str, UnitScore]:
    """For each (varying) property, the unit and quantity with the largest |r|."""
    properties = varying(trace.properties() if properties is None else properties)
    best: dict[str, UnitScore] = {}
    if not properties or len(trace) < 3:
        return best
    for layer, directions in enumerate(trace.gates):
        for direction, gates in enumerate(directions):
            for q in QUANTITIES:
                if q not in gates:
                    continue
                r = correlations(gates[q], properties)  # (P, H)
                for p, name in enumerate(properties):
                    unit = int(np.abs(r[p]).argmax())
                    if name not in best or abs(r[p, unit]) > abs(best[name].value):
                        best[name] = UnitScore(layer, direction, unit, q, name, float(r[p, unit]))
    return best


def findings(trace, top: int = 12) -> dict:
    """What the page and the command line report about a trace, computed once: `properties` (name -> (T,)),
    `labels` (name -> how to say it), `follows` (`rank_units`), `memory` (`longest_memory`) and `best`
    (`best_per_property`)."""
    properties = trace.properties()
    return {"properties": properties, "labels": {name: property_label(name) for name in properties},
            "follows": rank_units(trace, properties, top=top), "memory": longest_memory(trace, top=top),
            "best": best_per_property(trace, properties)}  # fmt: skip
