"""Helper processes (`lstmkit.helper`): calls computed in a fresh interpreter that preloaded what they need,
answered in order, failures raised as `HelperFailed`; the report's figures drawn there (`report.drawing`)."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lstmkit import helper
from lstmkit.report import drawing


@pytest.fixture(autouse=True)
def empty_pool():
    """Each test here starts with no idle helper and leaves none: they count what the pool holds."""
    helper._close_pool()
    yield
    helper._close_pool()


def test_calls_are_answered_in_order_and_a_failure_is_one_line():
    worker = helper.Helper(["json"])
    try:
        worker.submit(json.dumps, {"b": 1, "a": [2]})
        worker.submit(divmod, 17, 5)
        worker.submit(divmod, 1, 0)
        worker.submit(os.getpid)
        assert worker.result() == '{"b": 1, "a": [2]}'
        assert worker.result() == (3, 2)
        with pytest.raises(helper.HelperFailed, match="^ZeroDivisionError: integer division or modulo by zero$"):
            worker.result()
        pid = worker.result()  # the helper lives on after a call that raised
        assert pid == worker._process.pid != os.getpid()
    finally:
        worker.close()


def test_a_helper_that_ended_raises_and_the_pool_drops_it():
    worker = helper.Helper()
    worker._process.kill()
    worker._process.wait()
    worker.submit(divmod, 7, 2)  # to a helper that has ended: no error here
    with pytest.raises(helper.HelperFailed, match="the helper process ended"):
        worker.result()
    helper.give_back(worker)
    assert helper.take("anything") is None and worker not in helper._pool


def test_the_pool_gives_a_helper_to_a_caller_that_needs_what_it_preloaded():
    try:
        helper.start(["json", "colorsys:__name__"])  # a "module:function" preload that fails is skipped
        helper.start(["json"])  # one that preloads it is idle already: none started
        assert len(helper._pool) == 1
        assert helper.take("csv") is None and len(helper._pool) == 1
        worker = helper.take("colorsys")
        assert worker is not None and helper._pool == []
        worker.submit(divmod, 9, 4)
        assert worker.result() == (2, 1)
        helper.give_back(worker)
        assert helper._pool == [worker] and helper.take("json") is worker
        worker.submit(divmod, 9, 4)  # a call in flight: not idle, so it is stopped rather than pooled
        helper.give_back(worker)
        assert helper._pool == [] and not worker.alive()
    finally:
        helper._close_pool()


def test_a_helper_ends_when_its_input_closes():
    """As when the command that started it exits or is killed: its end of the pipe closes."""
    worker = helper.Helper(["json"])
    worker._process.stdin.close()
    assert worker._process.wait(timeout=60) == 0


def test_an_idle_helper_ends_by_itself_and_the_pool_does_not_give_it_out():
    """An idle helper of a long Python session does not linger: it ends after `idle` seconds without a call."""
    worker = helper.Helper(["json"], idle=1.0)
    worker.submit(divmod, 5, 2)
    assert worker.result() == (2, 1)  # answered well inside the idle time
    helper.give_back(worker)
    assert worker._process.wait(timeout=60) == 0
    assert helper.take("json") is None


FIGURES = [
    ("forecast_vs_actual", {"x": pd.date_range("2000-01", periods=6, freq="MS"), "actual": np.arange(6.0),
                            "predicted": np.arange(6.0) + 0.5, "baselines": {"seasonal naive": np.ones(6)},
                            "title": "six months"}),  # fmt: skip
    ("loss_curves", {"history": pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 1.5], "val_loss": [3.5, 2.5, 2.6]})}),
    ("roc_curve_figure", {"curves": {"model": (np.array([0, 0.5, 1]), np.array([0, 0.8, 1]), 0.9)}}),
]


def test_figures_drawn_in_a_helper_and_its_forks_are_the_ones_drawn_here():
    here = [drawing.png(builder, arguments) for builder, arguments in FIGURES]
    assert all(png.startswith(b"\x89PNG") for png in here) and len(set(here)) == 3
    try:
        helper.start([drawing.PRELOAD])
        drawn = drawing.draw(FIGURES)  # in the helper: the first figure there, the others in forks of it
        assert drawn == here and len(helper._pool) == 1  # and the helper is back in the pool
    finally:
        helper._close_pool()
    assert drawing.draw(FIGURES[:1]) == here[:1]  # no helper: drawn here


def test_a_figure_that_fails_in_the_helper_fails_here_with_its_own_error():
    from lstmkit.errors import DataError

    bad = ("forecast_vs_actual", {"x": np.arange(3), "actual": np.arange(3.0), "predicted": np.arange(2.0)})
    try:
        helper.start([drawing.PRELOAD])
        with pytest.raises(DataError, match="predicted has 2 values; expected 3"):
            drawing.draw([FIGURES[1], bad])
        assert helper._pool == []  # the helper that failed was stopped
    finally:
        helper._close_pool()


def test_train_forecast_draws_its_report_without_importing_matplotlib(tmp_path):
    """The command's helper imported statsforecast for the baselines and matplotlib for the report while the
    command trained; the command itself imports neither (with the Naive2 base: the ETS base, auto's choice for
    one series, is fitted by the command itself)."""
    path = tmp_path / "s.csv"
    t = np.arange(120)
    pd.DataFrame({"y": (10 + 3 * np.sin(2 * np.pi * t / 12) + 0.1 * t).round(3)}).to_csv(path, index=False)
    code = ("import sys; from lstmkit.cli import main; code = main(sys.argv[1:]); "
            "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'statsforecast'}))")
    done = subprocess.run([sys.executable, "-c", code, "train", "forecast", "--data", str(path), "--target", "y",
                           "--horizon", "6", "--epochs", "3", "--base", "naive2", "--out", str(tmp_path / "run"), "--quiet"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "0 []", done.stderr
    report = (tmp_path / "run" / "report.html").read_text()
    assert report.count('<img src="data:image/png;base64,') == 2
