"""The HTML report of a run and the figures it shows. Its names are imported on first use: `Report` and
`drawing` need no matplotlib, the figures do."""

from .._lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, {
    ".figures": ("loss_curves", "perplexity_curves", "forecast_vs_actual", "confusion_matrix_figure", "roc_curve_figure",
                 "attention_figure", "series_with_anomalies"),
    ".html": ("Report", "HIGHER_IS_BETTER", "atomic_write_text", "figure_png"),
})  # fmt: skip
