"""lstmkit: Long Short-Term Memory networks made practical."""

from ._version import __version__
from .errors import ConfigError, DataError, LstmkitError, ShapeError, TrainingError
from .nn import LSTM, GateTrace, LSTMCell

__all__ = ["__version__", "LSTM", "LSTMCell", "GateTrace", "Forecaster", "SequenceClassifier", "LanguageModel",
           "AnomalyDetector", "gates", "LstmkitError", "ShapeError", "ConfigError", "DataError", "TrainingError"]  # fmt: skip


def __getattr__(name: str):
    # the job estimators pull in pandas and scikit-learn: import them on first use, not with the layer
    if name == "gates":  # lstmkit.gates.trace(model, data) after a plain `import lstmkit`
        import lstmkit.gates as gates  # the submodule itself (`from . import` would ask this function again)

        return gates
    if name.startswith("__"):
        raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")
    from .tasks import JOBS

    for job in JOBS.values():
        if job.estimator.__name__ == name:
            return job.estimator
    raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")
