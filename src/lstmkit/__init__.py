"""lstmkit: Long Short-Term Memory networks made practical."""

from ._version import __version__
from .errors import ConfigError, DataError, LstmkitError, ShapeError
from .nn import LSTM, GateTrace, LSTMCell

__all__ = ["__version__", "LSTM", "LSTMCell", "GateTrace", "LstmkitError", "ShapeError", "ConfigError", "DataError"]
