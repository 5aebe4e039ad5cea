"""The HTML report of a run and the figures it shows."""

from .figures import (
    attention_figure,
    confusion_matrix_figure,
    forecast_vs_actual,
    loss_curves,
    perplexity_curves,
    roc_curve_figure,
    series_with_anomalies,
)
from .html import HIGHER_IS_BETTER, Report, atomic_write_text, figure_png

__all__ = [
    "Report",
    "HIGHER_IS_BETTER",
    "atomic_write_text",
    "figure_png",
    "loss_curves",
    "perplexity_curves",
    "forecast_vs_actual",
    "confusion_matrix_figure",
    "roc_curve_figure",
    "attention_figure",
    "series_with_anomalies",
]
