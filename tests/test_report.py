"""The HTML report: one self-contained page, escaped text, honest metrics table, atomic writes."""

import base64
import io
import os
import struct
from html.parser import HTMLParser

import matplotlib.dates
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import DataError
from lstmkit.report import (
    Report,
    confusion_matrix_figure,
    forecast_vs_actual,
    loss_curves,
    roc_curve_figure,
    series_with_anomalies,
)
from lstmkit.report import html as report_html

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Links(HTMLParser):
    """Collects every src and href attribute of a page."""

    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        self.links += [(name, value) for name, value in attrs if name in ("src", "href")]


class _TableCells(HTMLParser):
    """Collects the rows of the first table as lists of (text, bold)."""

    def __init__(self):
        super().__init__()
        self.rows, self._in_cell = [], False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._in_cell = True
            self.rows[-1].append(["", False])
        elif tag == "strong":
            self.rows[-1][-1][1] = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.rows[-1][-1][0] += data


def _table(page: str) -> dict[str, dict[str, tuple[str, bool]]]:
    """The metrics table of a page as {row name: {column: (text, bold)}}."""
    parser = _TableCells()
    parser.feed(page)
    header, *rows = parser.rows
    columns = [text for text, _ in header[1:]]
    return {row[0][0]: dict(zip(columns, map(tuple, row[1:]))) for row in rows}


def _full_report() -> Report:
    rng = np.random.default_rng(0)
    times = pd.date_range("2024-01-01", periods=60, freq="D")
    report = Report("Forecast of sales", "run 1")
    report.add_verdict("The model beats both baselines on MASE.", good=True)
    report.add_metrics_table("Test set", {"lstm": {"rmse": 1.0}, "naive": {"rmse": 2.0}}, ["rmse"])
    history = {"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.6, 0.7]}
    report.add_figure("Loss", loss_curves(history))
    report.add_figure("Forecast", forecast_vs_actual(times[48:], rng.normal(size=12), rng.normal(size=12),
                                                     history_x=times[:48], history=rng.normal(size=48)))
    report.add_figure("Confusion", confusion_matrix_figure([[5, 1], [2, 7]], ["cat", "dog"]))
    report.add_figure("ROC", roc_curve_figure({"lstm": ([0, 0.2, 1], [0, 0.8, 1], 0.8)}))
    report.add_figure("Anomalies", series_with_anomalies(np.arange(40), rng.normal(size=40), rng.random(40),
                                                         rng.random(40) > 0.9, 0.9))
    report.add_table("Configuration", ["setting", "value"], [("hidden", 64), ("lr", 0.001)])
    return report


@pytest.fixture(scope="module")
def page() -> str:
    return _full_report().render()


def test_page_loads_nothing_from_the_network(page):
    parser = _Links()
    parser.feed(page)
    assert "http://" not in page and "https://" not in page
    assert len(parser.links) == 5
    assert all(name == "src" and value.startswith("data:image/png;base64,") for name, value in parser.links)


def test_every_embedded_image_is_a_valid_png(page):
    parser = _Links()
    parser.feed(page)
    for _, uri in parser.links:
        png = base64.b64decode(uri.removeprefix("data:image/png;base64,"), validate=True)
        assert png[:8] == PNG_SIGNATURE and png[12:16] == b"IHDR"
        width, height = struct.unpack(">II", png[16:24])
        assert width > 0 and height > 0
        assert matplotlib.image.imread(io.BytesIO(png), format="png").shape[:2] == (height, width)


def test_user_text_is_escaped():
    evil = "<script>alert(1)</script>"
    report = Report(evil, subtitle=evil).add_text(evil, evil).add_verdict(evil, good=False)
    report.add_metrics_table(evil, {evil: {"rmse": 1.0}}, ["rmse"]).add_table(evil, [evil], [[evil]])
    page = report.render()
    assert "<script>" not in page
    # title (in <title> and <h1>), subtitle, 3 headings, paragraph, verdict, row name, column, cell
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 11


@pytest.mark.parametrize("good, css_class", [(True, "verdict-good"), (False, "verdict-bad")])
def test_verdict_box_is_classed_by_whether_the_model_wins(good, css_class):
    text = "The model does NOT beat the naive baseline on MASE (1.12 vs 1.00)."
    page = Report("r").add_verdict(text, good=good).render()
    assert f'<div class="verdict {css_class}" role="status">{text}</div>' in page


def test_metrics_table_bolds_the_best_value_of_each_column():
    rows = {
        "lstm": {"rmse": 1.5, "accuracy": 0.91},
        "naive": {"rmse": 1.2, "accuracy": 0.80},
        "seasonal naive": {"rmse": 1.2, "accuracy": 0.70},
    }
    table = _table(Report("r").add_metrics_table("Test", rows, ["rmse", "accuracy"]).render())
    assert [name for name in table if table[name]["rmse"][1]] == ["naive", "seasonal naive"]  # ties share
    assert [name for name in table if table[name]["accuracy"][1]] == ["lstm"]  # higher is better
    assert table["lstm"]["rmse"] == ("1.500", False)


def test_metrics_table_follows_an_explicit_lower_is_better():
    rows = {"lstm": {"score": 3.0}, "naive": {"score": 5.0}}
    table = _table(Report("r").add_metrics_table("Test", rows, ["score"], {"score": False}).render())
    assert table["naive"]["score"] == ("5.000", True)


def test_metrics_table_shows_missing_values_as_a_dash():
    rows = {"lstm": {"mase": None, "mape": float("nan")}, "naive": {"mase": 1.0}}
    table = _table(Report("r").add_metrics_table("Test", rows, ["mase", "mape"]).render())
    assert table["lstm"] == {"mase": ("–", False), "mape": ("–", False)}
    assert table["naive"] == {"mase": ("1.000", True), "mape": ("–", False)}


def test_write_puts_the_page_on_disk_and_leaves_no_temporary_file(tmp_path):
    report = Report("r").add_text("Notes", "hello")
    path = report.write(tmp_path / "report.html")
    assert path.read_text(encoding="utf-8") == report.render()
    assert os.listdir(tmp_path) == ["report.html"]


def test_failed_render_keeps_the_old_report(tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    path.write_text("old report", encoding="utf-8")

    def broken_render(self):
        raise RuntimeError("render failed")

    monkeypatch.setattr(Report, "render", broken_render)
    with pytest.raises(RuntimeError):
        Report("new").write(path)
    assert path.read_text(encoding="utf-8") == "old report"
    assert os.listdir(tmp_path) == ["report.html"]


def test_failed_write_keeps_the_old_report_and_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    path.write_text("old report", encoding="utf-8")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(report_html.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        Report("new").write(path)
    assert path.read_text(encoding="utf-8") == "old report"
    assert os.listdir(tmp_path) == ["report.html"]


def test_add_figure_closes_a_pyplot_figure():
    pyplot = pytest.importorskip("matplotlib.pyplot")
    fig = pyplot.figure()
    Report("r").add_figure("Plot", fig)
    assert not pyplot.fignum_exists(fig.number)


@pytest.mark.parametrize(
    "x",
    [
        pd.date_range("2024-01-01", periods=8, freq="D"),
        np.arange("2024-01", "2024-09", dtype="datetime64[M]"),
        pd.date_range("2024-01-01", periods=8, freq="h", tz="Europe/Paris"),
    ],
    ids=["DatetimeIndex", "datetime64", "tz-aware"],
)
def test_forecast_vs_actual_takes_a_datetime_axis(x):
    fig = forecast_vs_actual(x, np.arange(8.0), np.arange(8.0) + 0.5, lower=np.arange(8.0) - 1,
                             upper=np.arange(8.0) + 1, baselines={"naive": np.zeros(8)})
    start, _ = fig.axes[0].get_xlim()
    assert matplotlib.dates.num2date(start).year in (2023, 2024)
    assert report_html.figure_png(fig)[:8] == PNG_SIGNATURE


def test_forecast_vs_actual_takes_an_integer_axis():
    years = np.arange(2000, 2008)
    fig = forecast_vs_actual(years, np.arange(8.0), np.arange(8.0) + 0.5, history_x=np.arange(1990, 2000),
                             history=np.zeros(10), baselines={"naive": np.zeros(8)}, title="yearly")
    start, end = fig.axes[0].get_xlim()
    assert start < 1990 and 2007 < end < 2010
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["history", "naive", "actual", "forecast"]
    assert report_html.figure_png(fig)[:8] == PNG_SIGNATURE


def test_forecast_vs_actual_rejects_a_forecast_of_the_wrong_length():
    with pytest.raises(DataError, match="predicted has 7 values; expected 8"):
        forecast_vs_actual(np.arange(8), np.zeros(8), np.zeros(7))


def test_loss_curves_mark_the_best_validation_epoch():
    history = pd.DataFrame(
        {"epoch": [1, 2, 3, 4], "train_loss": [1.0, 0.6, 0.4, 0.3], "val_loss": [1.2, 0.7, 0.8, 0.9]}
    )
    ax = loss_curves(history).axes[0]
    assert any("best epoch 2" in label for label in ax.get_legend_handles_labels()[1])
    assert ax.get_yscale() == "linear"


def test_loss_curves_draw_each_ensemble_member_as_its_own_run_and_mark_the_first():
    first = {"epoch": [1, 2, 3], "train_loss": [1.0, 0.6, 0.4], "val_loss": [1.2, 0.7, 0.8], "member": 0}
    second = {"epoch": [1, 2, 3, 4], "train_loss": [0.9, 0.5, 0.3, 0.2], "val_loss": [1.1, 0.9, 0.6, 0.65], "member": 1}
    ax = loss_curves(pd.concat([pd.DataFrame(first), pd.DataFrame(second)])).axes[0]
    assert sorted(list(line.get_xdata()) for line in ax.lines if len(line.get_xdata()) > 2) == [[1, 2, 3]] * 2 + [[1, 2, 3, 4]] * 2
    assert [label for label in ax.get_legend_handles_labels()[1] if "best" in label] == ["best epoch 2 (val loss 0.7)"]


def test_loss_curves_use_a_log_scale_over_more_than_two_decades():
    ax = loss_curves({"epoch": [1, 2, 3], "train_loss": [10.0, 0.5, 0.01], "val_loss": [9.0, 0.6, 0.05]}).axes[0]
    assert ax.get_yscale() == "log"


def test_confusion_matrix_figure_annotates_every_count():
    ax = confusion_matrix_figure([[5, 1], [2, 7]], ["cat", "dog"]).axes[0]
    assert sorted(text.get_text() for text in ax.texts) == ["1", "2", "5", "7"]


def test_roc_curve_figure_names_each_curve_with_its_auc():
    ax = roc_curve_figure({"lstm": ([0, 0.1, 1], [0, 0.9, 1], 0.9), "majority": ([0, 1], [0, 1], None)}).axes[0]
    assert ax.get_legend_handles_labels()[1] == ["chance", "lstm (AUC = 0.900)", "majority"]


def test_series_with_anomalies_marks_each_flagged_step():
    flags = np.zeros(20, dtype=bool)
    flags[[3, 11]] = True
    fig = series_with_anomalies(np.arange(20), np.random.default_rng(0).normal(size=(20, 2)), np.arange(20.0),
                                flags, threshold=10.0)
    series_ax, score_ax = fig.axes
    marked = np.concatenate([collection.get_offsets()[:, 0] for collection in series_ax.collections])
    assert sorted(marked) == [3, 3, 11, 11]  # both columns, at the flagged steps
    assert any(label.startswith("threshold") for label in score_ax.get_legend_handles_labels()[1])


def test_series_with_anomalies_shades_the_labelled_anomalies_and_marks_the_test_part():
    labels = np.zeros(20, dtype=int)
    labels[[4, 5, 6, 15]] = 1
    fig = series_with_anomalies(np.arange(20), np.zeros(20), np.zeros(20), np.zeros(20, dtype=bool), 1.0,
                                labels=labels, test_start=12)  # fmt: skip
    series_ax = fig.axes[0]
    spans = sorted((p.get_x(), p.get_x() + p.get_width()) for p in series_ax.patches)
    assert spans == [(3.5, 6.5), (14.5, 15.5)]  # each run of labels, to the midpoints around it
    assert [line.get_xdata()[0] for line in series_ax.lines if line.get_linestyle() == ":"] == [12]
    assert series_ax.get_legend_handles_labels()[1] == ["labelled anomaly", "test part"]


def test_a_drawing_is_drawn_at_render_in_its_place_as_the_figure_drawn_at_once():
    """`add_drawing` leaves a figure to draw when the page renders (all at once, in a helper where there is
    one); the page equals the one whose figures were drawn as they were added."""
    from lstmkit.report import figure_png

    history = {"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.6, 0.7]}
    curves = {"lstm": ([0, 0.2, 1], [0, 0.8, 1], 0.8)}
    later = (Report("t").add_drawing("Loss", "loss_curves", {"history": history}).add_text("between", "words")
             .add_drawing("ROC", "roc_curve_figure", {"curves": curves}, alt="two curves"))  # fmt: skip
    now = (Report("t").add_png("Loss", figure_png(loss_curves(history))).add_text("between", "words")
           .add_png("ROC", figure_png(roc_curve_figure(curves)), alt="two curves"))  # fmt: skip
    assert later.render() == now.render()
    assert later.render().index('alt="Loss"') < later.render().index("between") < later.render().index('alt="two curves"')


def test_code_keeps_its_whitespace_and_is_escaped():
    page = Report("t").add_code("sample", "def f():\n    return '<x>'\n").render()
    assert "<pre>def f():\n    return &#x27;&lt;x&gt;&#x27;\n</pre>" in page
