"""What a job is to the rest of lstmkit: one `Job` object carries everything that differs between jobs.

The command line, the inspector, evaluate/predict and the run directory reach a job only through its `Job`
in `lstmkit.tasks.JOBS`. A `Job` is light to import (names, help, settings, metric names, demo titles); its
heavy side (the estimator and its network, the report writer, the demos' code) is a `JobParts` that the job
package imports on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping, Optional

from ..nn.spec import VARIANTS

# `lstmkit tune`: the entries every job's default space shares (the layer's depth, variant and dropout),
# spread into each `tasks/<job>/space.py` beside the job's own sizes and rates
LAYER_SPACE = {
    "layers": {"type": "int", "low": 1, "high": 3},
    "variant": {"type": "categorical", "choices": list(VARIANTS)},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
}


@dataclass(frozen=True)
class Demo:
    name: str  # `lstmkit demo NAME`
    title: str  # what the demo shows, above its summary table
    then: str = ""  # a line after its summary: what to try next


def _start_drawing() -> None:
    """A helper process that preloads matplotlib, for the report's figures (`report.drawing`)."""
    from .. import helper
    from ..report.drawing import PRELOAD

    helper.start([PRELOAD])


@dataclass(frozen=True)
class JobParts:
    """The heavy side of a job."""

    estimator: type  # the estimator class: fit / predict / evaluate / save / load
    run_metrics: Callable  # (estimator, scored=None) -> metrics.json's content; `scored`: an `evaluate` result
    verdict: Callable  # (metrics) -> (one plain sentence on the LSTM against its baselines, whether it won)
    write_report: Callable  # (estimator, metrics, path, out) -> None: report.html
    resolved: Callable  # (estimator) -> the defaults fit resolved, for config.json
    demos: Mapping[str, Callable] = field(default_factory=dict)  # demo name -> (out, seed, reporter) -> metrics
    # `lstmkit serve`: () -> the job's `serving.py` (Request, SUMMARY, EXAMPLE or example(estimator), items, run,
    # respond, onnx), imported on first use (it needs the serve extra's pydantic); None: the job is not served
    serving: Optional[Callable[[], Any]] = None

    @classmethod
    def of(cls, estimator: type, report, demos: Mapping[str, Callable], serving=None) -> "JobParts":
        """From a job's `report` module, which defines run_metrics, verdict, write_report and resolved, and its
        `serving` module."""
        return cls(estimator, report.run_metrics, report.verdict, report.write_report, report.resolved, demos, serving)


@dataclass(frozen=True)
class Job:
    name: str  # "forecast": the `train` subcommand, and `task` in config.json and metrics.json
    summary: str  # one line: what `lstmkit train NAME` does
    settings: type  # the estimator's settings dataclass (`tasks/<job>/settings.py`)
    data_help: str  # what `--data` reads
    metrics: tuple[str, ...]  # the metrics the summary table shows, in order
    load_parts: Callable[[], JobParts] = field(repr=False)  # imports the heavy side
    demos: tuple[Demo, ...] = ()
    # a baseline's key in metrics.json -> its name in tables and verdicts; a key not named here is shown with
    # spaces for its underscores ("rolling_zscore": "rolling z-score", but "copy" stays "copy")
    baselines: Mapping[str, str] = field(default_factory=dict)
    predicts: bool = True  # `lstmkit predict` runs it (a language model generates instead)
    generates: bool = False  # `lstmkit generate` runs it: it continues a prompt
    translates: bool = False  # `lstmkit translate` and `lstmkit chat` run it: it maps a source text to an output text
    predict_needs_data: bool = True  # False: it predicts from the end of its training data when given none
    # where predict_needs_data is False: the state file whose "predicted" holds the predictions on no data, saved
    # with the run (`rundir.Predictions`), which `lstmkit predict RUN` prints without loading the model or pandas
    predicted_in: Optional[str] = None
    # `lstmkit tune`'s default search space: setting -> {"type": "int" | "float" | "categorical", "low", "high",
    # "log", "step" | "choices"} (`tasks/<job>/space.py`; a --space JSON file overrides or adds entries)
    space: Mapping[str, Mapping] = field(default_factory=dict)
    # `lstmkit tune --origins K`: a trial fitted at K origins a horizon apart, its estimator's `fit(earlier=k)`
    # taking the data as it stood k horizons before its end (the forecaster's)
    tunes_at_origins: bool = False
    # `train` and `demo` call it first, before the heavy side is imported: work that can start at once in
    # another process (by default a helper preloading matplotlib for the report's figures; the forecaster's
    # preloads statsforecast for its baselines first)
    warm_up: Optional[Callable[[], None]] = field(default=_start_drawing, repr=False)

    @cached_property
    def parts(self) -> JobParts:
        return self.load_parts()

    @property
    def estimator(self) -> type:
        return self.parts.estimator

    @property
    def a_name(self) -> str:
        """The name after its indefinite article, as messages write it: "a forecast", "an anomaly", "an lm"."""
        return f"{'an' if self.name[0] in 'aeio' or self.name == 'lm' else 'a'} {self.name}"

    @property
    def higher_is_better(self) -> frozenset[str]:
        """Those of `metrics` where a larger value is better (the rest are errors and losses)."""
        from ..metrics import HIGHER_IS_BETTER

        return frozenset(m for m in self.metrics if m in HIGHER_IS_BETTER)

    def baseline_name(self, key: str) -> str:
        return self.baselines.get(key, key.replace("_", " "))

    def summary_rows(self, metrics: dict, model: Optional[str] = None) -> dict[str, dict]:
        """{row name: metrics} for a table of a run's metrics.json: the model (`model`, else the run's own
        "model" name, else "LSTM"), the LSTM alone where the model mixes it with another (the language model's
        "lstm"), then each baseline by its name."""
        model = model or metrics.get("model", "LSTM")
        alone = {"LSTM alone": metrics["lstm"]} if metrics.get("lstm") else {}
        return {model: metrics["test"], **alone, **{self.baseline_name(k): v for k, v in metrics["baselines"].items()}}

    def run_metrics(self, estimator, scored=None) -> dict:
        return self.parts.run_metrics(estimator, scored)

    def verdict(self, metrics: dict) -> tuple[str, bool]:
        return self.parts.verdict(metrics)

    def write_report(self, estimator, metrics: dict, path, out) -> None:
        self.parts.write_report(estimator, metrics, path, out)

    def resolved(self, estimator) -> dict:
        return self.parts.resolved(estimator)

    def run_demo(self, name: str, out, seed: int = 0, reporter=None) -> dict:
        return self.parts.demos[name](out, seed, reporter)
