"""The report's figures, built on `matplotlib.figure.Figure` so nothing touches pyplot's global state.

Each builder returns a Figure; `Report.add_figure` renders it to PNG with the Agg canvas and closes it.
An x axis may hold integers (steps, years) or datetimes (pandas DatetimeIndex, numpy datetime64).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import DataError

MODEL_COLOR = "tab:blue"
ACTUAL_COLOR = "black"
FLAG_COLOR = "tab:red"
BASELINE_COLORS = ["tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive"]


def loss_curves(history: pd.DataFrame | Mapping[str, Sequence[float]]) -> Figure:
    """Training and validation loss against epoch, with the best validation epoch marked.

    `history` has columns `epoch`, `train_loss` and optionally `val_loss` (as in `history.csv`). The y axis
    is logarithmic when the losses span more than two decades. Rows tagged with a `member` (ensembles) or a
    `fold` (backtests with refitting) are separate runs: the first run's curves are drawn and marked, the
    others' as faint lines beside them.
    """
    history = pd.DataFrame(history)
    _require_columns(history, ["epoch", "train_loss"], "history")
    fig = Figure(figsize=(8, 3.5), layout="constrained")
    ax = fig.add_subplot()
    tags = [c for c in ("fold", "member") if c in history]
    runs = [run for _, run in history.groupby(tags, sort=False, dropna=False)] if tags else [history]
    for run in runs[1:]:
        ax.plot(run["epoch"], run["train_loss"], color="tab:blue", alpha=0.25, linewidth=1)
        if "val_loss" in run and run["val_loss"].notna().any():
            ax.plot(run["epoch"], run["val_loss"], color="tab:orange", alpha=0.25, linewidth=1)
    losses = history["train_loss"]
    if "val_loss" in history:
        losses = pd.concat([losses, history["val_loss"].dropna()])
    history = runs[0]
    ax.plot(history["epoch"], history["train_loss"], marker=".", color="tab:blue", label="train loss")
    if "val_loss" in history and history["val_loss"].notna().any():
        ax.plot(history["epoch"], history["val_loss"], marker=".", color="tab:orange", label="validation loss")
        best = history.loc[history["val_loss"].idxmin()]
        ax.axvline(best["epoch"], color="gray", linestyle=":", linewidth=1)
        ax.plot([best["epoch"]], [best["val_loss"]], "o", color="tab:orange", markersize=9, fillstyle="none",
                label=f"best epoch {best['epoch']:g} (val loss {best['val_loss']:.4g})")
    positive = losses[losses > 0]
    if len(positive) and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def perplexity_curves(history: pd.DataFrame) -> Figure:
    """Training and validation perplexity (exp of the mean loss in nats) against epoch."""
    fig = Figure(figsize=(8, 3.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(history["epoch"], np.exp(history["train_loss"]), marker=".", color="tab:blue", label="train")
    if "val_loss" in history and history["val_loss"].notna().any():
        ax.plot(history["epoch"], np.exp(history["val_loss"]), marker=".", color="tab:orange", label="validation")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def forecast_vs_actual(
    x,
    actual,
    predicted,
    *,
    lower=None,
    upper=None,
    baselines: Mapping[str, Sequence[float]] | None = None,
    history_x=None,
    history=None,
    title: str = "",
) -> Figure:
    """The model's forecast against the actual values, with optional interval, baselines and history.

    `lower`/`upper` bound a prediction interval (drawn shaded); each baseline is a thin dashed line;
    `history_x`/`history` are the observations preceding the forecast, drawn in grey.
    """
    x = np.asarray(x)
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax = fig.add_subplot()
    if history is not None:
        if history_x is None:
            raise DataError("history was given without history_x; pass the x values of the history too")
        ax.plot(np.asarray(history_x), _same_length(history, history_x, "history"), color="gray",
                linewidth=1, label="history")
    if lower is not None and upper is not None:
        ax.fill_between(x, _same_length(lower, x, "lower"), _same_length(upper, x, "upper"),
                        color=MODEL_COLOR, alpha=0.2, linewidth=0, label="prediction interval")
    for (name, forecast), color in zip((baselines or {}).items(), itertools.cycle(BASELINE_COLORS)):
        ax.plot(x, _same_length(forecast, x, name), color=color, linestyle="--", linewidth=1, label=name)
    ax.plot(x, _same_length(actual, x, "actual"), color=ACTUAL_COLOR, linewidth=1.5, label="actual")
    ax.plot(x, _same_length(predicted, x, "predicted"), color=MODEL_COLOR, linewidth=1.8, label="forecast")
    if _is_datetime(x):
        fig.autofmt_xdate()
    ax.set_title(title)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return fig


def confusion_matrix_figure(matrix, labels: Sequence[str]) -> Figure:
    """A confusion matrix (rows true, columns predicted) as a heat map annotated with the counts."""
    matrix = np.asarray(matrix)
    n = len(labels)
    if matrix.shape != (n, n):
        raise DataError(f"confusion matrix has shape {matrix.shape}; expected ({n}, {n}) for {n} labels")
    size = min(3 + 0.5 * n, 12)
    fig = Figure(figsize=(size + 1, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    threshold = matrix.max() / 2
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, f"{count:g}", ha="center", va="center",
                color="white" if count > threshold else "black")
    ax.set_xticks(range(n), labels, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return fig


def attention_figure(weights, source_tokens: Sequence[str], output_tokens: Sequence[str]) -> Figure:
    """Attention weights (T, S) as a heat map: a row per output token, a column per source token."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(output_tokens), len(source_tokens)):
        raise DataError(f"attention of shape {weights.shape}; expected ({len(output_tokens)}, {len(source_tokens)}) "
                        "for the output and source tokens")  # fmt: skip
    fig = Figure(figsize=(min(2 + 0.35 * len(source_tokens), 14), min(1.5 + 0.3 * len(output_tokens), 12)), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(weights, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    fig.colorbar(image, ax=ax, shrink=0.8, label="attention")
    ax.set_xticks(range(len(source_tokens)), source_tokens, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(output_tokens)), output_tokens, fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    return fig


def roc_curve_figure(curves: Mapping[str, tuple]) -> Figure:
    """ROC curves, one per name: `curves[name] = (fpr, tpr, auc)`; auc may be None."""
    fig = Figure(figsize=(5, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="gray", linestyle=":", linewidth=1, label="chance")
    for name, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, label=name if auc is None else f"{name} (AUC = {auc:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def series_with_anomalies(x, values, scores, flags, threshold: float, labels=None, test_start=None) -> Figure:
    """Two stacked axes: the series with flagged steps marked, and the anomaly score with its threshold.

    `values` is one series (N,) or several (N, F); `scores` is (N,) and `flags` a boolean (N,). `labels`
    (N,) of 0/1: the labelled anomalies, shaded on the series axes; `test_start`: the step where the test
    part starts, marked there.
    """
    x = np.asarray(x)
    values = np.asarray(values, dtype=float).reshape(len(x), -1)  # (N, F)
    scores = _same_length(scores, x, "scores")
    flags = _same_length(flags, x, "flags").astype(bool)
    fig = Figure(figsize=(10, 5), layout="constrained")
    series_ax, score_ax = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    series_ax.plot(x, values, linewidth=1)
    for column in values.T:
        series_ax.scatter(x[flags], column[flags], color=FLAG_COLOR, s=14, zorder=3)
    series_ax.set_ylabel("value")
    series_ax.set_title(f"{flags.sum()} flagged step{'s' if flags.sum() != 1 else ''}")
    score_ax.plot(x, scores, color="tab:purple", linewidth=1, label="anomaly score")
    score_ax.axhline(threshold, color=FLAG_COLOR, linestyle="--", linewidth=1, label=f"threshold {threshold:.4g}")
    score_ax.set_ylabel("score")
    score_ax.legend(loc="best")
    for ax in (series_ax, score_ax):
        ax.grid(alpha=0.3)
    if labels is not None or test_start is not None:
        _mark_labels(series_ax, x, labels, test_start)
    if _is_datetime(x):
        fig.autofmt_xdate()
    return fig


def _mark_labels(axes, x, labels, test_start) -> None:
    """Shade the labelled anomalies and mark where the test part starts."""
    if labels is not None:
        labels = np.asarray(labels)
        starts = np.flatnonzero(np.diff(np.concatenate([[0], labels])) == 1)
        ends = np.flatnonzero(np.diff(np.concatenate([labels, [0]])) == -1)
        for k, (a, b) in enumerate(zip(starts, ends)):
            left = x[a] if a == 0 else x[a - 1] + (x[a] - x[a - 1]) / 2
            right = x[b] if b == len(x) - 1 else x[b] + (x[b + 1] - x[b]) / 2
            axes.axvspan(left, right, color="tab:orange", alpha=0.25, lw=0, label="labelled anomaly" if k == 0 else None)
    if test_start is not None:
        axes.axvline(x[test_start], color="gray", linestyle=":", linewidth=1, label="test part")
    axes.legend(loc="upper left")


def _same_length(values, x, name: str) -> np.ndarray:
    """`values` as an array, checked to have one entry per x value."""
    values = np.asarray(values)
    if len(values) != len(x):
        raise DataError(f"{name} has {len(values)} values; expected {len(x)}, one per x value")
    return values


def _is_datetime(x: np.ndarray) -> bool:
    """True for numpy datetime64 values and for the Timestamps a time-zone-aware pandas index gives."""
    return np.issubdtype(x.dtype, np.datetime64) or x.dtype == object and len(x) > 0 and isinstance(x[0], pd.Timestamp)


def _require_columns(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise DataError(f"{name} lacks column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}")
