"""Forecasting end to end: the estimator, the run directory and the commands, as a user runs them."""

import html
import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.baselines import beats_baseline
from lstmkit.cli import main
from lstmkit.data import split_by_time
from lstmkit.errors import DataError
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.report import verdict
from lstmkit.tasks.run import train_run
from lstmkit.train.progress import Reporter

SMALL = ["--hidden", "8", "--epochs", "4", "--horizon", "3", "--lookback", "12", "--quiet"]


@pytest.fixture
def series_csv(tmp_path):
    """150 months of a seasonal series with a trend and a covariate that leads it by one step."""
    rng = np.random.default_rng(0)
    t = np.arange(150)
    level = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 150)
    frame = pd.DataFrame({"month": pd.date_range("2000-01-01", periods=150, freq="MS").strftime("%Y-%m"),
                          "sales": level.round(3), "promo": np.roll(level, -1).round(3)})  # fmt: skip
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=False)
    return path


def _small(**kwargs):
    return Forecaster("sales", **{"time_col": "month", "horizon": 3, "lookback": 12, "hidden": 8, "epochs": 4, **kwargs})


def _run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_predict_evaluate_round_trip_through_the_cli(series_csv, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = _run(capsys, "train", "forecast", "--data", series_csv, "--target", "sales", "--time-col", "month",
                           "--features", "promo", "--quantiles", "0.1,0.5,0.9", "--out", out, *SMALL)  # fmt: skip
    assert code == 0 and "seasonal naive" in stdout and f"report: {out / 'report.html'}" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    refit = ["checkpoint-full.pt"] if metrics["refit_epochs"] != [0] else []  # the refit's own checkpoint
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["config.json", "model.safetensors", "forecaster.json", "checkpoint.pt", "history.csv", "metrics.json", "report.html", *refit]
    )
    assert metrics["task"] == "forecast" and set(metrics["test"]) == {"mse", "rmse", "mae", "mape", "smape", "mase", "rmsse", "owa"}
    assert set(metrics["baselines"]) == {"naive", "seasonal_naive", "naive2", "ets", "theta"} and metrics["season"] == 12
    config = json.loads((out / "config.json").read_text())
    assert config["settings"]["features"] == ["promo"] and config["versions"]["torch"]
    assert list(pd.read_csv(out / "history.csv").columns) == ["epoch", "train_loss", "val_loss", "lr", "seconds", "windows_per_s"]

    predictions = tmp_path / "next.csv"
    code, stdout, _ = _run(capsys, "predict", out, "--data", series_csv, "--output", predictions)
    frame = pd.read_csv(predictions)
    assert code == 0 and list(frame.columns) == ["month", "step", "sales", "q0.1", "q0.5", "q0.9", "lower", "upper"]
    assert list(frame["month"]) == ["2012-07", "2012-08", "2012-09"]  # the 3 months after the data, written as it has them
    assert (frame["q0.1"] <= frame["q0.5"]).all() and (frame["q0.5"] <= frame["q0.9"]).all()

    code, stdout, _ = _run(capsys, "evaluate", out, "--data", series_csv, "--json")
    scored = json.loads(stdout)
    assert code == 0 and scored["test"]["rmse"] > 0 and scored["baselines"]["naive"]["rmse"] > 0


def test_a_half_hourly_series_gets_an_ets_baseline_that_follows_its_day_and_the_report_says_how(tmp_path, capsys):
    rng = np.random.default_rng(0)
    t = np.arange(48 * 21)  # three weeks of half-hours: season 48, longer than ETS is given itself
    demand = 300 * (1 + 0.3 * np.sin(2 * np.pi * t / 48)) + 0.2 * t + rng.normal(0, 4, len(t))
    path = tmp_path / "demand.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=len(t), freq="30min"), "mw": demand.round(2)}).to_csv(path, index=False)
    out = tmp_path / "run"
    code, _, _ = _run(capsys, "train", "forecast", "--data", path, "--target", "mw", "--time-col", "time", "--horizon", "12",
                      "--hidden", "8", "--epochs", "1", "--quiet", "--out", out)  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert code == 0 and metrics["season"] == 48
    baselines = {name: values["mase"] for name, values in metrics["baselines"].items()}
    assert baselines["ets"] < 0.5 * baselines["naive"]  # the day's shape forecast, not a flat line
    assert ("How the baselines were fitted</h2><p>ets: a season of 48 steps is more than ETS is given (24, as R&#x27;s "
            "forecast::ets): ETS forecast the series deseasonalised") in (out / "report.html").read_text()


def test_predict_writes_the_forecast_times_as_the_data_writes_its_times(tmp_path, capsys):
    """Quarters written '1990 Q1' (R's tsibble, many spreadsheets) come back as '2019 Q3' in the CSV and the table,
    whether the forecast was saved with the run or made from new data; the JSON keeps ISO timestamps."""
    rng = np.random.default_rng(0)
    quarters = pd.period_range("1990Q1", periods=120, freq="Q")
    frame = pd.DataFrame({"quarter": [f"{q.year} Q{q.quarter}" for q in quarters],
                          "sales": (100 + 10 * np.sin(np.arange(120) * np.pi / 2) + rng.normal(0, 1, 120)).round(3)})  # fmt: skip
    data = tmp_path / "quarters.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    code, _, _ = _run(capsys, "train", "forecast", "--data", data, "--target", "sales", "--time-col", "quarter", "--out", out, *SMALL)
    assert code == 0
    for extra, name in (([], "saved.csv"), (["--data", data], "new.csv")):
        code, stdout, _ = _run(capsys, "predict", out, *extra, "--output", tmp_path / name)
        assert code == 0 and "2020 Q1" in stdout
        assert list(pd.read_csv(tmp_path / name)["quarter"]) == ["2020 Q1", "2020 Q2", "2020 Q3"]
    code, stdout, _ = _run(capsys, "predict", out, "--json")
    assert [row["quarter"][:10] for row in json.loads(stdout)] == ["2020-01-01", "2020-04-01", "2020-07-01"]
    assert list(Forecaster.load(out).predict()["quarter"]) == list(pd.to_datetime(["2020-01-01", "2020-04-01", "2020-07-01"]))


def test_a_time_split_over_a_year_and_a_quarter_column_comes_back_in_those_columns(tmp_path, capsys):
    """statsmodels' macrodata writes a year and its quarter in two columns: `--time-col year,qtr` reads them as
    one quarterly axis (its calendar's season 4), and predict writes the quarters after the data in the two
    columns, as the data has them; a future plan is read by them too. In Python, a list names them."""
    rng = np.random.default_rng(0)
    quarters = pd.period_range("1990Q1", periods=80, freq="Q")
    frame = pd.DataFrame({"year": quarters.year, "qtr": [f"Q{q}" for q in quarters.quarter],
                          "promo": rng.integers(0, 2, 80),
                          "sales": (100 + 10 * np.sin(np.arange(80) * np.pi / 2) + rng.normal(0, 1, 80)).round(3)})  # fmt: skip
    data, out = tmp_path / "quarters.csv", tmp_path / "run"
    frame.to_csv(data, index=False)
    code, _, err = _run(capsys, "train", "forecast", "--data", data, "--target", "sales", "--time-col", "year,qtr",
                        "--future-features", "promo", "--out", out, *SMALL)  # fmt: skip
    assert code == 0, err
    plan = tmp_path / "plan.csv"
    pd.DataFrame({"year": [2010, 2010, 2010], "qtr": ["Q1", "Q2", "Q3"], "promo": [1, 0, 1]}).to_csv(plan, index=False)
    code, stdout, err = _run(capsys, "predict", out, "--future", plan, "--output", tmp_path / "next.csv")
    written = pd.read_csv(tmp_path / "next.csv")
    assert code == 0 and list(written.columns[:3]) == ["year", "qtr", "step"], err
    assert list(written["year"]) == [2010, 2010, 2010] and list(written["qtr"]) == ["Q1", "Q2", "Q3"]
    from test_serve import served  # the HTTP service reads a start as the data wrote its times, the quarter alone too

    request = {"values": frame["sales"].tolist()[-24:-4], "covariates": {"promo": frame["promo"].tolist()[-24:-4]},
               "future": {"promo": [1, 0, 1]}}  # 2004 Q1 to 2008 Q4
    with served(tmp_path / "run") as (client, _):
        for start in ("2004,Q1", "2004,1", "2004-01-01"):
            answer = client.post("/predict", json={"series": [{**request, "start": start}]})
            assert answer.status_code == 200, answer.text
            assert answer.json()["predictions"][0]["times"][0] == "2009-01-01T00:00:00", start
        bad = client.post("/predict", json={"series": [{**request, "start": "2004,Q7"}]})
        assert bad.status_code == 422 and bad.json()["field"] == "series.0.start"
    fitted = Forecaster("sales", time_col=["year", "qtr"], future_features=["promo"], horizon=3, lookback=12, hidden=8,
                        epochs=2).fit(frame.assign(qtr=quarters.quarter))  # fmt: skip
    assert fitted.season_ == 4 and fitted.time_col == "year,qtr"
    predicted = fitted.predict(future=plan)
    assert list(predicted.columns[:3]) == ["year", "qtr", "step"] and list(predicted["qtr"]) == [1, 2, 3]


def test_a_frame_or_series_indexed_by_dates_or_periods_reads_its_index_as_the_time_column(series_csv):
    """As pandas users keep a series (and Darts' from_dataframe reads it): the index is the time axis, so the
    calendar's season and the forecast's dates are there, as with the same data's time column."""
    frame = pd.read_csv(series_csv)
    with_column = _small().fit(frame)
    by_dates = frame.assign(month=pd.to_datetime(frame["month"])).set_index("month")
    for indexed in (by_dates, by_dates.to_period("M")):
        fitted = Forecaster("sales", horizon=3, lookback=12, hidden=8, epochs=4).fit(indexed)
        assert fitted.metrics_ == pytest.approx(with_column.metrics_) and fitted.season_ == with_column.season_ == 12
        pd.testing.assert_frame_equal(fitted.predict(), with_column.predict())
    one = Forecaster("sales", horizon=3, lookback=12, hidden=8, epochs=4).fit(by_dates["sales"])  # a pandas Series
    pd.testing.assert_frame_equal(one.predict(), with_column.predict())
    values = Forecaster("sales", horizon=3, lookback=12, hidden=8, epochs=2, season=12)
    assert values.fit(frame["sales"].tolist()).metrics_ == values.fit(frame["sales"].to_numpy()).metrics_  # a list of numbers
    with pytest.raises(DataError, match="^expected a CSV path, a pandas DataFrame or Series, or a 1-D array, got list$"):
        Forecaster("sales").fit(["1.0", "2.0", "3.0"])
    unnamed = by_dates.rename_axis(None)
    assert list(Forecaster("sales", horizon=3, lookback=12, hidden=8, epochs=1).fit(unnamed).predict().columns[:2]) == ["time", "step"]


def test_same_seed_repeats_history_and_metrics(series_csv, tmp_path):
    first = train_run(_small(), series_csv, tmp_path / "a")
    second = train_run(_small(), series_csv, tmp_path / "b")
    assert first == second
    histories = [pd.read_csv(tmp_path / name / "history.csv").drop(columns=["seconds", "windows_per_s"]) for name in "ab"]
    pd.testing.assert_frame_equal(*histories)


class Interrupt(Reporter):
    def epoch(self, row):
        if row["epoch"] == 2:
            raise KeyboardInterrupt


def test_resume_after_an_interruption_equals_an_uninterrupted_run(series_csv, tmp_path):
    expected = train_run(_small(checkpoint_every=0), series_csv, tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):  # at epoch 2, after its checkpoint
        train_run(_small(checkpoint_every=0), series_csv, tmp_path / "cut", reporter=Interrupt())
    assert not (tmp_path / "cut" / "metrics.json").exists() and (tmp_path / "cut" / ".incomplete" / "checkpoint.pt").exists()
    resumed = train_run(_small(checkpoint_every=0), series_csv, tmp_path / "cut", resume=True)
    assert resumed == expected
    assert not (tmp_path / "cut" / ".incomplete").exists()


class InterruptRefit(Reporter):
    """Ctrl-C at the second epoch of the second fit: the refit."""

    def __init__(self):
        self.fits = 0

    def start(self, epochs, first_epoch=1):
        self.fits += 1

    def epoch(self, row):
        if self.fits == 2 and row["epoch"] == 2:
            raise KeyboardInterrupt


REFITTED = {"epochs": 8, "checkpoint_every": 0, "base": "naive2"}  # a base the LSTM improves on for more than 2 epochs here


def test_a_run_interrupted_in_its_refit_resumes_to_the_uninterrupted_result(series_csv, tmp_path):
    expected = train_run(_small(**REFITTED), series_csv, tmp_path / "whole")
    assert expected["refit_epochs"] == [expected["best_epoch"]] and expected["best_epoch"] > 2
    with pytest.raises(KeyboardInterrupt):
        train_run(_small(**REFITTED), series_csv, tmp_path / "cut", reporter=InterruptRefit())
    assert (tmp_path / "cut" / ".incomplete" / "checkpoint-full.pt").exists()
    resumed = train_run(_small(**REFITTED), series_csv, tmp_path / "cut", resume=True)
    assert resumed == expected


def test_resume_with_other_settings_is_refused(series_csv, tmp_path, capsys):
    with pytest.raises(KeyboardInterrupt):  # checkpoint_every may change on resume: the command leaves it at 30
        train_run(_small(checkpoint_every=0), series_csv, tmp_path / "cut", reporter=Interrupt())
    code, _, err = _run(capsys, "train", "forecast", "--data", series_csv, "--target", "sales", "--time-col", "month",
                        "--out", tmp_path / "cut", "--resume", *SMALL[:-1], "--hidden", "16")  # fmt: skip
    assert code == 2 and "the interrupted run used hidden=8, this command hidden=16" in err


def test_resuming_takes_none_for_a_setting_saved_as_none_and_refuses_another_value(tmp_path):
    from lstmkit.tasks.run import _check_same_settings

    _check_same_settings({"augment": None, "features": ["a"]}, {"augment": "none", "features": ("a",)}, tmp_path)
    with pytest.raises(DataError, match="the interrupted run used augment=None, this command augment='auto'; resume"):
        _check_same_settings({"augment": None}, {"augment": "auto"}, tmp_path)


def test_a_failing_run_leaves_the_existing_run_untouched(series_csv, tmp_path, capsys):
    out = tmp_path / "run"
    train_run(_small(), series_csv, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, err = _run(capsys, "train", "forecast", "--data", series_csv, "--target", "sales", "--time-col", "month",
                        "--out", out, "--lr", "1e38", "--optimizer", "sgd", *SMALL)  # fmt: skip
    assert code == 2 and "training diverged" in err and len(err.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_the_model_beats_the_naive_forecast_on_a_trending_seasonal_series(series_csv):
    model = Forecaster("sales", time_col="month", horizon=3, hidden=16, epochs=60).fit(series_csv)
    assert model.season_ == 12
    assert model.metrics_["mase"] < model.baselines_["naive"]["mase"]


def test_no_test_window_is_seen_in_training(series_csv, monkeypatch):
    seen = []
    from lstmkit.tasks.forecast import estimator as module

    original = module.fit

    def spy(model, loss_fn, train, val, *args, **kwargs):
        seen.append((train, val))
        return original(model, loss_fn, train, val, *args, **kwargs)

    monkeypatch.setattr(module, "fit", spy)
    model = _small(epochs=8).fit(series_csv)
    (_, _, _, train_y), (_, _, _, val_y) = seen[0]
    (_, _, _, refit_y), refit_val = seen[1]  # the refit on the training and validation parts together
    assert len(seen) == 2 and model.refit_epochs_ == [model.best_epoch_] and refit_val is None
    test_start = split_by_time(150)[2].start
    target = model.panel_.series[0].target.astype(np.float32)
    assert len(train_y) + len(val_y) + len(model.test_["first"]) <= 150 and len(refit_y) > len(train_y)
    # every training and validation target lies before the test part
    for y in (train_y, val_y, refit_y):
        for row in y:
            index = int(np.flatnonzero(np.isclose(target, row[0].item()))[0])
            assert index + len(row) <= test_start
    assert model.test_["first"].min() >= test_start


def test_seasonal_factors_and_the_loss_scale_come_from_before_the_test_part_only(series_csv):
    from lstmkit.decompose import seasonal_indices
    from lstmkit.statistical import ETSStates

    model = _small(base="naive2").fit(series_csv)
    train, val, _ = split_by_time(150)
    target = model.panel_.series[0].target
    np.testing.assert_allclose(model.indices_[0], seasonal_indices(target[: train.stop], 12))
    assert not np.allclose(model.indices_[0], seasonal_indices(target, 12))
    assert model.scales_[0] == pytest.approx(np.mean(np.abs(target[12 : val.stop] - target[: val.stop - 12])))
    ets = _small(base="ets").fit(series_csv).ets_[0].to_dict()["model"]  # fitted before the test part, as the ETS baseline
    assert ets == ETSStates.fit(target, 12, val.stop).to_dict()["model"] != ETSStates.fit(target, 12, len(target)).to_dict()["model"]


def test_save_and_load_give_the_same_forecast(series_csv, tmp_path):
    model = _small().fit(series_csv)
    model.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(model.predict(), again.predict())


def test_predict_without_data_prints_the_forecast_saved_with_the_run_and_imports_no_torch(series_csv, tmp_path, capsys):
    """`lstmkit predict RUN` prints what the model predicts from the training data's end, read from the run's
    state: every output (table, --json, --output) equals the model's own, and the command loads no torch,
    nor pandas or numpy."""
    import subprocess
    import sys

    out = tmp_path / "run"
    _run(capsys, "train", "forecast", "--data", series_csv, "--target", "sales", "--time-col", "month", "--features",
         "promo", "--quantiles", "0.1,0.9", "--out", out, *SMALL)  # fmt: skip
    saved = [_run(capsys, "predict", out, *args) for args in ([], ["--json"], ["--output", tmp_path / "saved.csv"])]
    code = ("import sys; from lstmkit.cli import main; code = main(sys.argv[1:]); "
            "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'safetensors', 'matplotlib', 'pandas', 'numpy'}))")
    done = subprocess.run([sys.executable, "-c", code, "predict", str(out), "--json"], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "0 []", done.stderr
    state = json.loads((out / "forecaster.json").read_text())
    assert state.pop("predicted")["columns"] == ["month", "step", "sales", "q0.1", "q0.5", "q0.9", "lower", "upper"]
    (out / "forecaster.json").write_text(json.dumps(state))  # a run saved without it: the model predicts
    loaded = [_run(capsys, "predict", out, *args) for args in ([], ["--json"], ["--output", tmp_path / "loaded.csv"])]
    saved[2] = tuple(part.replace("saved.csv", "loaded.csv") for part in saved[2][1:])
    loaded[2] = loaded[2][1:]
    assert saved == loaded and saved[0][0] == 0 and "2012-07-01" in saved[1][1]
    assert (tmp_path / "saved.csv").read_bytes() == (tmp_path / "loaded.csv").read_bytes()


def test_predictions_saved_with_a_run_print_and_write_what_the_frame_does():
    """`rundir.Predictions`, through the JSON a run saves it in: the CSV and JSON are pandas' own, and every
    table cell is the one the frame's own value gives (floats to 4 digits, times as the CSV writes them, ids as
    text, None as a dash), for times in ns, s and with a time zone, string and integer ids, float32 and NaN."""
    from lstmkit.cli_summary import cell
    from lstmkit.data.timeaxis import format_time
    from lstmkit.rundir import SHOWN, Predictions

    frames = [
        pd.DataFrame({"id": ["a", "b"], "month": pd.to_datetime(["2000-01-01", "2000-02-01"]), "step": [1, 2],
                      "y": [0.1 + 0.2, np.float64(1e-300)]}),  # fmt: skip
        pd.DataFrame({"id": [7, 8], "year": np.array([1860, 1861]), "y": np.float32([1.5, 2.1]), "q": [np.nan, None]}),
        pd.DataFrame({"when": pd.to_datetime(["2000-01-01 10:00:00.123456789"]).astype("datetime64[s]"), "y": [1.0]}),
        pd.DataFrame({"when": pd.to_datetime(["2000-01-01"]).tz_localize("UTC"), "y": [1.0], "note": [None]}),
        pd.DataFrame({"step": np.arange(SHOWN + 5), "y": np.linspace(0, 1, SHOWN + 5)}),
    ]
    for frame in frames:
        saved = Predictions(json.loads(json.dumps(Predictions.of(frame).record())))
        assert saved.csv == frame.to_csv(index=False)
        assert saved.json == frame.to_json(orient="records", date_format="iso")
        assert saved.columns == [str(c) for c in frame.columns] and saved.rows == len(frame)
        own = [[cell(format_time(value) if isinstance(value, pd.Timestamp) else value) for value in row]
               for row in frame.head(SHOWN).itertuples(index=False)]  # fmt: skip
        assert [[cell(value) for value in row] for row in saved.head] == own
    assert len(saved.head) == SHOWN and saved.rows == SHOWN + 5
    assert [cell(v) for v in Predictions.of(frames[1]).head[0]] == ["7", "1860", "1.5", "nan"]
    assert [cell(v) for v in Predictions.of(frames[3]).head[0]] == ["2000-01-01 00:00:00+00:00", "1", "–"]
    assert [cell(v) for v in Predictions.of(frames[0]).head[0]] == ["a", "2000-01-01", "1", "0.3"]  # as the CSV has it
    assert cell(Predictions.of(frames[2]).head[0][0]) == "2000-01-01 10:00:00"


def test_integer_time_column(tmp_path):
    years = np.arange(1700, 1860)
    values = 50 + 40 * np.sin(2 * np.pi * years / 11)
    path = tmp_path / "yearly.csv"
    pd.DataFrame({"year": years, "spots": values}).to_csv(path, index=False)
    model = Forecaster("spots", time_col="year", horizon=2, lookback=22, hidden=8, epochs=3).fit(path)
    assert list(model.predict()["year"]) == [1860, 1861]


BAD_CSV = {
    "missing file": (None, "no such file"),
    "empty file": ("", "the file is empty"),
    "header only": ("month,sales\n", "has a header but no data rows"),
    "misspelled column": ("month,sails\n2000-01,1\n", "no column 'sales'; did you mean 'sails'?"),
    "non-numeric": ("month,sales\n2000-01,1\n2000-02,abc\n", "non-numeric value 'abc' at row 3"),
    "missing value": ("month,sales\n2000-01,1\n2000-02,\n2000-03,3\n", "has 1 missing value (at row 3)"),
    "infinite value": ("month,sales\n2000-01,1\n2000-02,inf\n", "infinite value at row 3"),
    "bad time": ("month,sales\n2000-01,1\nlater,2\n", "cannot be read as time at row 3 (value 'later')"),
    "too few rows": ("month,sales\n" + "".join(f"2000-{m:02d},{m}\n" for m in range(1, 13)), "too few for --lookback 12"),
    "binary": (b"\x00\x01\x02month", "looks like a binary file"),
    "latin-1": ("month,sales\n2000-01,caf\xe9\n".encode("latin-1"), "cannot be read as UTF-8 text"),
}


@pytest.mark.parametrize("case", list(BAD_CSV))
def test_bad_csv_is_one_line_and_exit_code_2(case, tmp_path, capsys):
    content, message = BAD_CSV[case]
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, _, err = _run(capsys, "train", "forecast", "--data", path, "--target", "sales", "--time-col", "month",
                        "--out", tmp_path / "run", *SMALL)  # fmt: skip
    assert code == 2, err
    assert err.startswith(f"lstmkit: error: {path}") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "run" / ".incomplete").exists()


def test_a_series_too_short_for_a_meaningful_model_is_refused_before_training(tmp_path, capsys):
    path = tmp_path / "tiny.csv"
    path.write_text("y\n1\n2\n3\n4\n5\n6\n")
    code, out, err = _run(capsys, "train", "forecast", "--data", path, "--target", "y", "--out", tmp_path / "run")
    assert code == 2 and out == ""
    assert err == (
        f"lstmkit: error: {path}: has 6 rows, too few for --horizon 1 after the default --lookback 8 (its shortest); the training part needs at least "
        "18 rows (10 windows of 9 rows, one step apart) and the validation and test parts at least 1 row each, so at "
        "least 26 rows with --val-frac 0.15 and --test-frac 0.15; use a shorter --lookback or --horizon, or more data; "
        "or forecast it untrained, by lstmkit's pretrained network: --start pretrained, --epochs 0\n"
    )  # one line, and no epoch line before it: training never started
    assert not (tmp_path / "run").exists()  # nothing left behind, not even the folder


def test_the_shortest_series_the_default_lookback_accepts_trains(tmp_path):
    values = pd.DataFrame({"y": np.sin(np.arange(26) / 3).round(3)})
    values.to_csv(tmp_path / "short.csv", index=False)
    model = Forecaster("y", hidden=4, epochs=1).fit(tmp_path / "short.csv")  # split 18 / 4 / 4
    assert model.lookback_ == 8 and len(model.history_) == 1
    values[:25].to_csv(tmp_path / "shorter.csv", index=False)
    with pytest.raises(DataError, match="has 25 rows, too few for horizon 1 after the default lookback 8 "):
        Forecaster("y", hidden=4, epochs=1).fit(tmp_path / "shorter.csv")


def test_nine_years_of_months_forecast_18_ahead_train_with_parts_of_a_horizon_where_15_percent_is_fewer(tmp_path, capsys):
    """108 months, horizon 18: 15% of them (16) holds no window of 18 targets, so validation and test get 18
    each and training the 72 before, ten windows of the default lookback 24 and more; with `backtest` 1 the
    90 months before the test part as well. The M1 and M3 competitions' monthly series are this long."""
    months = pd.date_range("2000-01", periods=108, freq="MS")
    rng = np.random.default_rng(0)
    values = 100 + 10 * np.sin(2 * np.pi * np.arange(108) / 12) + np.arange(108) * 0.3 + rng.normal(0, 1, 108)
    pd.DataFrame({"month": months.strftime("%Y-%m"), "sales": values.round(2)}).to_csv(tmp_path / "m.csv", index=False)
    code, _, err = _run(capsys, "train", "forecast", "--data", tmp_path / "m.csv", "--target", "sales", "--time-col", "month",
                        "--horizon", "18", "--epochs", "2", "--hidden", "8", "--quiet", "--out", tmp_path / "run")  # fmt: skip
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["lookback"] == 24 and metrics["test_windows"] == 1 and metrics["interval_windows"] == 1
    page = html.unescape((tmp_path / "run" / "report.html").read_text())
    assert "calibrated on the validation part's 1 window): " in page and "1 window is too few to rank" in page
    frame = pd.read_csv(tmp_path / "m.csv")
    model = Forecaster("sales", time_col="month", horizon=18, epochs=1, hidden=4).fit(frame)
    assert model.bounds_[0] == (72, 90) and model.test_["first"].tolist() == [90]
    backtested = Forecaster("sales", time_col="month", horizon=18, epochs=1, hidden=4, backtest=1).fit(frame)
    assert backtested.bounds_[0] == (72, 90)


def test_the_report_says_what_the_interval_was_calibrated_on_and_when_too_few_windows_widened_it():
    from lstmkit.tasks.forecast.report import interval_text

    enough = interval_text({"interval": 0.9, "coverage": 0.875, "interval_windows": 20})
    assert enough == "90% conformal interval (calibrated on the validation part's 20 windows): 87.5% of the test values fell inside it."
    few = interval_text({"interval": 0.9, "coverage": 1.0, "interval_windows": 3})
    assert few.endswith("3 windows are too few to rank the errors for a 90% interval, so Student's t with 2 degrees of "
                        "freedom widens it: wide, as so little evidence is.")
    assert interval_text({"interval": 0.8, "coverage": 0.8, "interval_windows": 4}).endswith("fell inside it.")  # rank 4 of 4
    assert "(calibrated on the validation part)" in interval_text({"interval": 0.9, "coverage": 0.9})  # a run saved before


def test_quantiles_without_the_median_learn_it_too_and_it_is_the_point_forecast(series_csv):
    """Asked for 0.1 and 0.9 alone, the forecaster learns the median as well: the point forecast is the 0.5
    quantile, between the two asked for, never the 0.1 quantile (the nearer of the two to the median)."""
    model = Forecaster("sales", time_col="month", horizon=6, epochs=3, hidden=8, quantiles=(0.9, 0.1)).fit(series_csv)
    assert model.quantiles_ == [0.1, 0.5, 0.9]
    forecast = model.predict()
    assert list(forecast.columns)[:5] == ["month", "step", "sales", "q0.1", "q0.5"] and "q0.9" in forecast
    assert np.array_equal(forecast["sales"], forecast["q0.5"])
    assert np.all(forecast["q0.1"] <= forecast["sales"]) and np.all(forecast["sales"] <= forecast["q0.9"])
    assert not np.allclose(forecast["sales"], forecast["q0.1"])


def test_a_run_directory_that_is_not_one_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = _run(capsys, "predict", tmp_path / "empty")
    assert code == 2 and "is not a complete lstmkit run directory (no config.json)" in err


def test_a_truncated_model_file_is_a_clear_error(series_csv, tmp_path, capsys):
    out = tmp_path / "run"
    train_run(_small(), series_csv, out)
    weights = (out / "model.safetensors").read_bytes()
    (out / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    code, _, err = _run(capsys, "predict", out)
    assert code == 2 and err.strip() == f"lstmkit: error: {out}: the saved forecaster is unreadable or truncated; train it again"


def test_progress_is_one_json_object_per_epoch_with_log_json(series_csv, tmp_path, capsys):
    code, out, _ = _run(capsys, "train", "forecast", "--data", series_csv, "--target", "sales", "--time-col", "month",
                        "--out", tmp_path / "run", "--log-json", *SMALL[:-1])  # fmt: skip
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert code == 0 and [row["epoch"] for row in rows if "phase" not in row] == [1, 2, 3, 4]
    assert set(rows[0]) == {"epoch", "train_loss", "val_loss", "lr", "seconds", "windows_per_s"}


def test_a_refit_says_so_in_its_progress_lines_and_has_no_validation_loss(series_csv, tmp_path, capsys):
    code, out, err = _run(capsys, "train", "forecast", "--data", series_csv, "--target", "sales", "--time-col", "month",
                          "--out", tmp_path / "run", "--log-json", *SMALL[:-1], "--epochs", "8")  # fmt: skip
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    best = json.loads((tmp_path / "run" / "metrics.json").read_text())["best_epoch"]
    refit = [row for row in rows if row.get("phase") == "refit"]
    assert code == 0 and best > 0 and [row["epoch"] for row in refit] == list(range(1, best + 1))
    assert set(refit[0]) == {"phase", "epoch", "train_loss", "lr", "seconds", "windows_per_s"}
    code, _, err = _run(capsys, "train", "forecast", "--data", series_csv, "--target", "sales", "--time-col", "month",
                        "--out", tmp_path / "again", *SMALL[:-1], "--epochs", "8")  # fmt: skip
    lines = [line for line in err.splitlines() if line.startswith("refit epoch ")]
    assert code == 0 and len(lines) == best and "val loss" not in lines[0] and "train loss" in lines[0]


def test_progress_is_one_plain_line_per_epoch_when_not_a_terminal(series_csv, tmp_path, capsys):
    code, _, err = _run(capsys, "train", "forecast", "--data", series_csv, "--target", "sales", "--time-col", "month",
                        "--out", tmp_path / "run", *SMALL[:-1])  # fmt: skip
    lines = [line for line in err.splitlines() if line.startswith("epoch ")]
    assert code == 0 and len(lines) == 4 and "windows/s" in lines[0]


# ---- the verdict: a tie is never a win ------------------------------------------------------------------


def _verdict(model_mase, **baseline_mase):
    test, baselines = {"mase": model_mase}, {name: {"mase": value} for name, value in baseline_mase.items()}
    return verdict({"test": test, "baselines": baselines, "beats_baselines": beats_baseline(test, baselines)})


def test_the_verdict_says_the_model_beats_every_baseline_only_when_it_does():
    assert _verdict(0.8, naive=1.0, seasonal_naive=0.9) == (
        "The model beats every baseline on MASE (0.800 against naive 1.000, seasonal naive 0.900).", True)  # fmt: skip


def test_a_model_that_reproduces_the_naive_forecast_ties_it():
    assert _verdict(1.0 - 1e-12, naive=1.0) == (
        "The model ties the naive baseline on MASE (1.000 against naive 1.000): a simpler forecast is as good here.",
        False,
    )


def test_a_tie_and_a_loss_are_both_said():
    assert _verdict(1.0, naive=1.0004, seasonal_naive=0.8) == (
        "The model does NOT beat the seasonal naive baseline and ties the naive baseline on MASE (1.000 against naive "
        "1.000, seasonal naive 0.800): a simpler forecast is as good here.", False)  # fmt: skip


def test_a_win_by_less_than_the_third_decimal_shows_the_decimals_that_make_it_one():
    # shrunk toward its ETS start, a one-series model often lands a few parts in a thousand from ETS
    assert _verdict(0.2608, naive=2.26, ets=0.2612) == (
        "The model beats every baseline on MASE (0.2608 against naive 2.2600, ETS 0.2612).", True)  # fmt: skip
    assert _verdict(0.26154, naive=2.26, ets=0.2615)[0].startswith(  # a tie needs no more decimals than it has
        "The model ties the ETS baseline on MASE (0.262 against naive 2.260, ETS 0.262)")


def test_ties_with_both_baselines_name_both():
    assert _verdict(1.0, naive=1.0, seasonal_naive=0.9995)[0].startswith(
        "The model ties the naive and seasonal naive baselines on MASE (1.000 against naive 1.000, seasonal naive 1.000)"
    )


def test_one_series_corrects_in_units_of_its_steps_where_they_are_tiny_beside_its_level(tmp_path):
    """A window's unit is its level, or 200 of its mean steps where those are fewer: a CO2 record (~350 ppm,
    moving ~0.3 a week) is corrected in units of its steps, so an optimizer step moves its forecast by as
    much as it moves a series that moves. Saved with the run, exported with the graph; a global fit over many
    series keeps the level."""
    import torch

    from lstmkit.export.onnx import check, to_onnx
    from lstmkit.tasks.forecast.net import STEP_UNITS, ForecastNet

    net = ForecastNet(1, 2, 4, base="naive2", hidden=4, step_units=STEP_UNITS)
    windows = torch.tensor([[350.0, 350.5, 350.0, 350.5, 351.0], [1.0, 3.0, 2.0, 4.0, 3.0]])  # steps 0.5; 1.5
    assert torch.allclose(net.scale(windows)[:, 0], torch.tensor([100.0, 3.0]), atol=1e-5)  # 200 * 0.5; the level
    assert torch.allclose(ForecastNet(1, 2, 4, base="naive2", hidden=4).scale(windows)[:, 0], torch.tensor([350.5, 3.0]))
    rng = np.random.default_rng(0)
    t = np.arange(160)
    frame = pd.DataFrame({"month": pd.date_range("2000-01-01", periods=160, freq="MS").strftime("%Y-%m"),
                          "sales": 350 + 0.1 * t + np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.2, 160)})  # fmt: skip
    forecaster = _small(epochs=3).fit(frame)
    assert forecaster.step_units_ == STEP_UNITS and forecaster.model_.step_units == STEP_UNITS
    assert forecaster.gate_input(frame).notes[0] == (
        "The forecaster reads windows of 12 steps, deseasonalised and scaled by their level, or 200 of their mean "
        "steps where those are fewer; here it read the series as one window, from a zero state.")
    forecaster.save(tmp_path / "run")
    loaded = Forecaster.load(tmp_path / "run")
    assert loaded.model_.step_units == STEP_UNITS
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())
    graph = forecaster.export_graph()
    to_onnx(graph, tmp_path / "f.onnx")
    assert check(graph, tmp_path / "f.onnx") <= 1e-5
    state = json.loads((tmp_path / "run" / Forecaster.state_file).read_text())
    del state["step_units"]  # a run saved before: the level alone
    (tmp_path / "run" / Forecaster.state_file).write_text(json.dumps(state))
    assert Forecaster.load(tmp_path / "run").model_.step_units == 0
    frame["store"] = np.where(t < 80, "A", "B")
    panel = Forecaster("sales", id_col="store", time_col="month", horizon=3, lookback=12, hidden=4, epochs=1)
    assert panel.fit(frame.assign(month=np.r_[frame["month"][:80], frame["month"][:80]])).step_units_ == 0


def test_evaluate_on_data_that_continues_the_training_series_fits_the_baselines_on_the_training_values(series_csv, tmp_path):
    """`evaluate` on new data: where the data continues the training series (after its end, or repeating it;
    with a time axis or without), ETS and Theta are fitted on the values the network was trained and validated
    on and filtered on through the new ones, as on the test part, and the windows the network was trained on are
    counted in a note; on another series (other values at times
    the training series has, or more than a season of steps after it), on its own values before the first window."""
    from lstmkit.metrics import forecast_metrics
    from lstmkit.statistical import statistical_forecasts
    from lstmkit.tasks.forecast.scoring import statistical_job

    frame = pd.read_csv(series_csv)
    target, origins = frame["sales"].to_numpy(float), np.arange(12, 38)  # every window of 40 new months
    _small().fit(frame.iloc[:110]).save(tmp_path / "m")
    model = Forecaster.load(tmp_path / "m")  # the run keeps the whole training series
    fitted_on = model.bounds_[0][1]
    assert np.array_equal(model.train_target_, target[: model.bounds_[0][0]])  # MASE's scale, from the kept series

    def job(data):
        return statistical_job(model, model._read(data).series[0], origins)

    later = job(frame.iloc[110:])
    assert np.array_equal(later[0], target) and np.array_equal(later[1], origins + 110) and later[4] == fitted_on
    again = job(frame.iloc[:110])  # the training data itself: fitted on its first `fitted_on` values, as the test part
    assert np.array_equal(again[0], target[:110]) and np.array_equal(again[1], origins) and again[4] == fitted_on
    for other in (frame.iloc[70:110].assign(sales=frame["sales"].iloc[70:110] * 2), frame.iloc[125:]):
        alone = job(other)
        assert np.array_equal(alone[0], other["sales"].to_numpy(float)) and np.array_equal(alone[1], origins) and alone[4] == 12

    scored = model.evaluate(frame.iloc[110:])  # the ETS baseline as statistical_forecasts gives it on the whole series
    direct = statistical_forecasts(target, origins + 110, 3, 12, fitted_on)["ets"]
    y_true = np.stack([target[110 + t : 113 + t] for t in origins])
    expected = forecast_metrics(y_true, direct, y_train=model.train_target_, season=12)["mase"]
    assert scored["windows"] == len(origins) and scored["baselines"]["ets"]["mase"] == pytest.approx(expected)
    assert scored["notes"] == []  # none of its windows was seen in training
    repeats = model.evaluate(frame)  # the windows within the training and validation parts are named as such
    assert repeats["notes"] == [f"{fitted_on - 14} of the 136 windows lie within the data the model was trained and validated "
                                f"on (the training series' first {fitted_on} rows): they score how it fits them, not how it forecasts"]  # fmt: skip

    untimed = Forecaster("sales", horizon=3, lookback=12, hidden=8, epochs=4).fit(frame["sales"].iloc[:110])
    repeated = statistical_job(untimed, untimed._read(frame["sales"]).series[0], origins)
    assert np.array_equal(repeated[0], target) and repeated[4] == untimed.bounds_[0][1]
    assert statistical_job(untimed, untimed._read(frame["sales"].iloc[110:]).series[0], origins)[4] == 12


def test_times_of_another_kind_than_the_trainings_are_one_line_naming_the_file_or_the_field(series_csv, tmp_path, capsys):
    """New data whose times pandas cannot compare with the training data's (integers where it had dates, a
    time zone where it had none) is one line and exit code 2 from `evaluate` and `predict`, and a request's
    `start` so is a 4xx naming the field: never a traceback or a 500."""
    from types import SimpleNamespace

    from lstmkit.errors import FieldError
    from lstmkit.tasks.forecast import serving
    from lstmkit.tasks.forecast.timing import steps_between

    out = tmp_path / "run"
    assert _run(capsys, "train", "forecast", "--data", series_csv, "--target", "sales", "--time-col", "month", "--out", out, *SMALL)[0] == 0
    frame = pd.read_csv(series_csv)
    zoned, counted = tmp_path / "zoned.csv", tmp_path / "counted.csv"
    frame.assign(month=pd.to_datetime(frame["month"]).dt.tz_localize("UTC").astype(str)).to_csv(zoned, index=False)
    frame.assign(month=range(len(frame))).to_csv(counted, index=False)
    for path, kind in ((zoned, "times with a time zone"), (counted, "integers")):
        for command in ("evaluate", "predict"):
            code, _, err = _run(capsys, command, out, "--data", path)
            assert code == 2 and err.strip() == (f"lstmkit: error: {path}: its time column 'month' holds {kind}, where the "
                                                 "training data's held times without a time zone")  # fmt: skip
    paris = pd.Timestamp("2020-01-02", tz="Europe/Paris")  # times in two zones are counted on one clock
    assert steps_between(pd.Timestamp("2020-01-01", tz="UTC"), paris, "h") == 23 == -steps_between(paris, pd.Timestamp("2020-01-01", tz="UTC"), "h")
    model, limits = Forecaster.load(out), SimpleNamespace(max_items=8, max_length=100)
    for start in ("2012-07-01T00:00:00+00:00", "2012-07-01"):
        request = serving.Request.model_validate({"series": [{"values": [100.0] * 12, "start": start}]})
        if start.endswith("+00:00"):
            with pytest.raises(FieldError, match="^series.0.start: gives times with a time zone, where the model's "
                                                 "axis has times without a time zone$"):  # fmt: skip
                serving.items(model, request, limits)
        else:
            assert len(serving.items(model, request, limits)) == 1


def test_one_series_forecasts_the_mean_of_its_refit_network_and_its_early_stopped_self(series_csv, tmp_path):
    """With the refit, one series keeps the network that validation chose beside the refit one, and forecasts
    their mean; a save keeps both. Many series keep the refit network alone."""
    import torch

    both, early = _small(epochs=6).fit(series_csv), _small(epochs=6, refit_full=False).fit(series_csv)
    assert both.best_epoch_ == early.best_epoch_ > 0 and len(both.members_) == 2 and len(early.members_) == 1
    kept, chosen = both.members_[1].state_dict(), early.members_[0].state_dict()
    assert all(torch.equal(kept[name], t) for name, t in chosen.items())
    assert not torch.equal(both.members_[0].state_dict()["head.weight"], chosen["head.weight"])  # the refit's own
    origins, series = np.array([100, 120, 147]), np.zeros(3, dtype=np.int64)
    alone = [both._forecast(both.panel_, series, origins, members=[net]) for net in both.members_]
    assert np.allclose(both._forecast(both.panel_, series, origins), (alone[0] + alone[1]) / 2)
    both.save(tmp_path / "run")
    loaded = Forecaster.load(tmp_path / "run")
    assert len(loaded.members_) == 2 and np.allclose(loaded._forecast(loaded.panel_, series, origins), (alone[0] + alone[1]) / 2)

    frame = pd.read_csv(series_csv)
    panel = pd.concat([frame.assign(store="a"), frame.assign(store="b", sales=frame["sales"] * 1.5)])
    assert len(_small(epochs=6, id_col="store").fit(panel).members_) == 1


def test_one_series_shrinks_its_trained_correction_toward_its_start_by_its_count_of_training_windows(series_csv, tmp_path, capsys):
    """shrink "auto": one series from the ETS start keeps n / (n + 200) of the correction it learned from n
    training windows, the same networks' forecast moved that far back toward the start; "no" keeps it all, and
    many series, the other starts and the LSTM alone (`base` none) are never shrunk. metrics.json and the report
    say what was kept."""
    from lstmkit.tasks.forecast.estimator import SHRINK_WINDOWS

    whole, shrunk = _small(epochs=6, shrink="no").fit(series_csv), _small(epochs=6).fit(series_csv)
    n = len(shrunk._part_windows(shrunk.panel_, "train").origins)
    assert whole.best_epoch_ == shrunk.best_epoch_ > 0 and shrunk.train_windows_ == whole.train_windows_ == n
    assert whole.shrunk_ == 1.0 and shrunk.shrunk_ == pytest.approx(n / (n + SHRINK_WINDOWS)) and 0 < shrunk.shrunk_ < 0.5
    origins, series = np.array([100, 120, 147]), np.zeros(3, dtype=np.int64)
    start = whole._forecast(whole.panel_, series, origins, members=[whole._start_network()])
    trained = whole._forecast(whole.panel_, series, origins)
    assert np.abs(trained - start).max() > 1e-3  # a correction to shrink
    np.testing.assert_allclose(shrunk._forecast(shrunk.panel_, series, origins), start + shrunk.shrunk_ * (trained - start),
                               rtol=1e-5, atol=1e-4)  # fmt: skip
    frame = pd.read_csv(series_csv)
    assert _small(epochs=2, base="none").fit(series_csv).shrunk_ == 1.0  # nothing to shrink toward
    assert _small(epochs=2, base="naive2").fit(series_csv).shrunk_ == 1.0  # a crude start: the correction kept whole
    assert _small(epochs=2, id_col="store").fit(pd.concat([frame.assign(store="a"), frame.assign(store="b")])).shrunk_ == 1.0

    out = tmp_path / "run"
    assert _run(capsys, "train", "forecast", "--data", series_csv, "--target", "sales", "--time-col", "month", "--out", out,
                *SMALL)[0] == 0  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    loaded = Forecaster.load(out)
    assert metrics["correction_kept"] == loaded.shrunk_ == pytest.approx(n / (n + SHRINK_WINDOWS))
    assert metrics["train_windows"] == loaded.train_windows_ == n
    assert (f"The network learned its correction of the {'ETS'} forecast from {n} training windows and keeps "
            f"{loaded.shrunk_:.0%} of it") in (out / "report.html").read_text()


def test_shrinking_a_network_moves_the_common_part_of_its_quantiles_corrections_and_keeps_their_spread():
    """The head's correction shrinks (the mean over the quantiles), the quantiles' spread around it and the
    known-future covariates' effect stay."""
    import torch

    from lstmkit.tasks.forecast.net import ForecastNet

    torch.manual_seed(0)
    net = ForecastNet(2, horizon=3, season=4, base="naive2", hidden=5, n_quantiles=3, n_future=1).eval()
    for parameter in (net.head.weight, net.head.bias, net.future.weight):
        torch.nn.init.normal_(parameter)
    start = ForecastNet(2, horizon=3, season=4, base="naive2", hidden=5, n_quantiles=3, n_future=1).eval()
    start.lstm.load_state_dict(net.lstm.state_dict())
    start.future.load_state_dict(net.future.state_dict())  # the known-future effect: kept whole
    x = torch.randn(6, 10, 2).abs() + 1
    seasonal = torch.cat([torch.ones(6, 1, 3), torch.zeros(6, 1, 3), torch.randn(6, 1, 3)], dim=1)
    with torch.no_grad():
        base, before = start(x, seasonal), net(x, seasonal)
        net.shrink(0.25)
        after = net(x, seasonal)
    correction, shrunk = before - base, after - base  # (B, H, Q)
    torch.testing.assert_close(shrunk.mean(-1), 0.25 * correction.mean(-1), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(shrunk - shrunk.mean(-1, keepdim=True), correction - correction.mean(-1, keepdim=True),
                               rtol=1e-4, atol=1e-4)  # fmt: skip


def test_without_target_the_one_numeric_column_is_forecast_as_if_named(series_csv, tmp_path, capsys):
    """`lstmkit train forecast --data sales.csv` reads its one value column as Darts' from_csv would; where
    the file has several, which one is the user's to say, in one line."""
    frame = pd.read_csv(series_csv).drop(columns="promo")
    frame.to_csv(tmp_path / "one.csv", index=False)
    code, stdout, _ = _run(capsys, "train", "forecast", "--data", tmp_path / "one.csv", "--time-col", "month",
                           "--out", tmp_path / "run", *SMALL)  # fmt: skip
    assert code == 0 and "note: the target is 'sales', the one numeric column besides the time, id and covariate" in stdout
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["settings"]["target"] is None and config["resolved"]["target"] == "sales"  # as given, as read
    named = _small().fit(frame)
    assert Forecaster(time_col="month", horizon=3, lookback=12, hidden=8, epochs=4).fit(frame).metrics_ == named.metrics_
    code, stdout, _ = _run(capsys, "predict", tmp_path / "run", "--json")
    assert code == 0 and json.loads(stdout)[0]["sales"] == pytest.approx(named.predict()["sales"].iloc[0])
    code, _, stderr = _run(capsys, "train", "forecast", "--data", series_csv, "--time-col", "month", "--out",
                           tmp_path / "two", *SMALL)  # fmt: skip
    assert code == 2 and stderr == (f"lstmkit: error: {series_csv}: give --target, the column to forecast: it has 2 "
                                    "numeric columns (sales, promo); several, comma-separated, forecast each\n")  # fmt: skip
    assert not (tmp_path / "two").exists()
    refit = Forecaster(time_col="month", horizon=3, lookback=12, hidden=8, epochs=1)
    assert refit.fit(frame).target == "sales" and refit.fit(frame.rename(columns={"sales": "units"})).target == "units"
