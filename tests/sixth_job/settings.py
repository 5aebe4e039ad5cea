from dataclasses import KW_ONLY, dataclass

from lstmkit.settings import setting
from lstmkit.tasks.forecast.settings import ForecastSettings
from lstmkit.tasks.settings import shared


@dataclass(eq=False)
class NowcastSettings(ForecastSettings):
    _: KW_ONLY
    horizon: int = setting(1, "Steps ahead: a nowcast is one.", whole=True, min=1, max=1)
    epochs: int = shared("epochs", 5)
