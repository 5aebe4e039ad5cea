"""lstmkit: Long Short-Term Memory networks made practical.

`import lstmkit` is cheap: the layer (torch) and the job estimators (pandas, scikit-learn) are imported on
first use (PEP 562), so `lstmkit --help` starts at once and `from lstmkit import LSTM, Forecaster` works."""

from importlib import import_module as _import_module
from importlib.util import find_spec as _find_spec

from ._version import __version__
from .errors import ConfigError, DataError, LstmkitError, ShapeError, TrainingError

_LAYER = ("LSTM", "LSTMCell", "GateTrace")  # from lstmkit.nn
__all__ = ["__version__", "LSTM", "LSTMCell", "GateTrace", "Forecaster", "SequenceClassifier", "LanguageModel", "Seq2Seq",
           "AnomalyDetector", "gates", "tune", "LstmkitError", "ShapeError", "ConfigError", "DataError", "TrainingError"]  # fmt: skip


def __getattr__(name: str):
    # import_module rather than `from . import`, which would ask this function again for the submodule's name
    if name in _LAYER:
        return getattr(_import_module(".nn", __name__), name)
    if name == "tune":  # lstmkit.tune(...): Optuna's search over a job's settings (lstmkit.tuning)
        return _import_module(".tuning", __name__).tune
    if name.startswith("__"):
        raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")
    if _find_spec(f"{__name__}.{name}") is not None:  # a submodule: lstmkit.gates.trace(...)
        return _import_module(f".{name}", __name__)
    from .tasks import JOBS

    for job in JOBS.values():  # a job's estimator: its job's heavy side is imported with it
        if job.estimator.__name__ == name:
            return job.estimator
    raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
