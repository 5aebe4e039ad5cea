"""The LSTM cell and layer: equations, variants, stacking, directions, lengths and the gate trace.

The names below are imported on first use (`lstmkit._lazy`): the variants' names need no torch."""

from .._lazy import lazy_exports

_EXPORTS = {".cell": ("LSTMCell",), ".lstm": ("LSTM",), ".spec": ("CellSpec", "GateTrace", "VARIANTS", "variant_flags")}
__all__ = [name for names in _EXPORTS.values() for name in names]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
