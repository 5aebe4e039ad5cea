"""The LSTM cell and layer: equations, variants, stacking, directions, lengths and the gate trace."""

from .cell import LSTMCell
from .lstm import LSTM, VARIANTS, variant_flags
from .spec import CellSpec, GateTrace

__all__ = ["LSTM", "LSTMCell", "CellSpec", "GateTrace", "VARIANTS", "variant_flags"]
