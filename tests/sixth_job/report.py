from lstmkit.data.shipped import airline_csv
from lstmkit.tasks.forecast import report as forecast
from lstmkit.tasks.run import train_run

from .estimator import Nowcaster

verdict, write_report, resolved = forecast.verdict, forecast.write_report, forecast.resolved


def run_metrics(nowcaster, scored=None) -> dict:
    return {**forecast.run_metrics(nowcaster, scored), "task": "nowcast"}


def demo(out, seed: int = 0, reporter=None) -> dict:
    return train_run(Nowcaster("passengers", time_col="month", hidden=8, seed=seed), airline_csv(), out, reporter=reporter)
