"""lstmkit: Long Short-Term Memory networks made practical."""

from ._version import __version__
from .errors import ConfigError, DataError, LstmkitError, ShapeError, TrainingError
from .nn import LSTM, GateTrace, LSTMCell

__all__ = ["__version__", "LSTM", "LSTMCell", "GateTrace", "Forecaster", "SequenceClassifier", "LanguageModel", "AnomalyDetector",
           "inspect", "LstmkitError", "ShapeError", "ConfigError", "DataError", "TrainingError"]  # fmt: skip


def __getattr__(name: str):
    # the job estimators pull in pandas and scikit-learn: import them on first use, not with the layer
    if name == "Forecaster":
        from .tasks.forecast import Forecaster

        return Forecaster
    if name == "SequenceClassifier":
        from .tasks.classify import SequenceClassifier

        return SequenceClassifier
    if name == "AnomalyDetector":
        from .tasks.anomaly import AnomalyDetector

        return AnomalyDetector
    if name == "LanguageModel":
        from .tasks.lm import LanguageModel

        return LanguageModel
    if name == "inspect":  # lstmkit.inspect.trace(model, data) after a plain `import lstmkit`
        import importlib

        return importlib.import_module(".inspect", __name__)
    raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")
