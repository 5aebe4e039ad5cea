from lstmkit.tasks.forecast.estimator import Forecaster

from .settings import NowcastSettings


class Nowcaster(NowcastSettings, Forecaster):
    """The next step of a series."""

    noun = "nowcaster"
