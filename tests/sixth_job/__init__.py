"""A sixth job, written the way a new job is added: this package, and one entry in the registry.

`nowcast` forecasts the next step of a series. It reuses the forecaster's machinery, but to lstmkit it is a
job of its own: its own name, settings, estimator, metrics and demo. `tests/test_registry.py` registers it
(the one line `lstmkit/tasks/__init__.py` would hold) and runs every command on it, with nothing else added.
"""

from lstmkit.tasks.job import Demo, Job, JobParts

from .settings import NowcastSettings


def _parts() -> JobParts:
    from . import estimator, report

    return JobParts.of(estimator.Nowcaster, report, {"nowcast": report.demo})


JOB = Job(
    name="nowcast",
    summary="Forecast the next step of a series.",
    settings=NowcastSettings,
    data_help="CSV file with the series.",
    metrics=("mae", "mase"),
    load_parts=_parts,
    demos=(Demo("nowcast", "Monthly airline passengers, one month ahead"),),
    predict_needs_data=False,
)
