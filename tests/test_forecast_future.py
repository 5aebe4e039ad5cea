"""Known-future covariates (`future_features`, `--future-features`; Darts' future_covariates, neuralforecast's
futr_exog_list): read at the forecast's own steps, whose values `predict` takes from `future` (`lstmkit predict
RUN --future FILE`), the HTTP service from each series' "future"; over the past too where `features` names them."""

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli import main
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.run import load_run
from test_forecast import _run  # the command line's exit code, stdout and stderr

LIFT = 0.6  # a promotion sells 60% more


def _promotions(n: int = 200, seed: int = 0, start: str = "2020-01-06") -> pd.DataFrame:
    """Weekly sales: a trend, a 13-week season, noise, and promotions on random weeks that lift them by LIFT."""
    rng = np.random.default_rng(seed)
    promo = (rng.random(n) < 0.15).astype(float)
    level = 100 + 0.2 * np.arange(n)
    sales = level * (1 + 0.1 * np.sin(2 * np.pi * np.arange(n) / 13)) * (1 + LIFT * promo) + rng.normal(0, 2, n)
    return pd.DataFrame({"week": pd.date_range(start, periods=n, freq="W-MON").strftime("%Y-%m-%d"),
                         "sales": sales.round(3), "promo": promo})  # fmt: skip


def _future(frame: pd.DataFrame, promo: list, **columns) -> pd.DataFrame:
    """The weeks after the frame's last, with the given promotions."""
    weeks = pd.date_range(pd.Timestamp(frame["week"].iloc[-1]), periods=len(promo) + 1, freq="W-MON")[1:]
    return pd.DataFrame({**columns, "week": weeks.strftime("%Y-%m-%d"), "promo": promo})


def test_known_future_promotions_beat_the_same_promotions_read_only_in_the_past():
    """The forecast knows which of its weeks are promoted: its test MASE falls well below the model that reads
    the promotions of the past only, and below every baseline that cannot read them. ARIMAX, which regresses
    on the promotions known ahead, is among the baselines where they are known ahead (only there), and
    forecasts from them too: below every other baseline."""
    frame = _promotions()
    settings = {"time_col": "week", "horizon": 8, "season": 13, "seed": 0}
    past = Forecaster("sales", features=["promo"], **settings).fit(frame)
    future = Forecaster("sales", future_features=["promo"], **settings).fit(frame)
    assert future.metrics_["mase"] < 0.6 * past.metrics_["mase"], (future.metrics_, past.metrics_)
    assert "arimax" not in past.baselines_
    blind = {name: b["mase"] for name, b in future.baselines_.items() if name != "arimax"}
    assert future.metrics_["mase"] < min(blind.values())
    assert future.baselines_["arimax"]["mase"] < 0.6 * min(blind.values()), future.baselines_


def test_the_lstm_reads_a_future_feature_over_the_past_only_where_features_names_it_too():
    frame = _promotions(120).assign(price=lambda f: 2.0 + (np.arange(120) % 7) / 10)
    settings = {"time_col": "week", "horizon": 4, "season": 13, "hidden": 8, "epochs": 2}
    alone = Forecaster("sales", future_features=["promo"], features=["price"], **settings).fit(frame)
    both = Forecaster("sales", future_features=["promo"], features=["promo", "price"], **settings).fit(frame)
    assert alone.feature_names_ == ["price", "promo"] and alone.model_.lstm.input_size == 2  # the target and price
    assert both.feature_names_ == ["promo", "price"] and both.model_.lstm.input_size == 3
    x, seasonal = alone._inputs(0, alone.panel_.series[0], np.array([100]), 8, 0)
    np.testing.assert_allclose(x[0, :, 1], alone.covariate_scalers_[0].transform(alone.panel_.series[0].covariates)[92:100, 0])
    promo = frame["promo"].to_numpy()  # the last row of `seasonal`: promo at the horizon less its mean over the last season
    scaler = alone.covariate_scalers_[0]
    scaled = (promo - scaler.mean_[1]) / scaler.scale_[1]
    # (the window read here is 8 steps, shorter than the season of 13: its mean is over all 8)
    np.testing.assert_allclose(seasonal[0, -1], scaled[100:104] - scaled[92:100].mean())


def test_predict_lifts_the_promoted_weeks_by_the_promotions_lift():
    frame = _promotions()
    model = Forecaster("sales", time_col="week", horizon=8, season=13, future_features=["promo"], seed=0).fit(frame)
    promo = [0, 1, 0, 0, 1, 0, 0, 0]
    with_promo = model.predict(future=_future(frame, promo))
    without = model.predict(future=_future(frame, [0] * 8))
    assert list(with_promo["week"].dt.strftime("%Y-%m-%d")) == list(_future(frame, promo)["week"])
    ratio = with_promo["sales"].to_numpy() / without["sales"].to_numpy()
    promoted = np.array(promo, dtype=bool)
    assert np.all(np.abs(ratio[promoted] - (1 + LIFT)) < 0.2), ratio
    assert np.all(np.abs(ratio[~promoted] - 1) < 0.05), ratio


def test_the_cli_trains_saves_and_predicts_with_a_future_file(tmp_path, capsys):
    frame = _promotions(120)
    data, out = tmp_path / "sales.csv", tmp_path / "run"
    frame.to_csv(data, index=False)
    code, stdout, _ = _run(capsys, "train", "forecast", "--data", data, "--target", "sales", "--time-col", "week",
                           "--horizon", "4", "--season", "13", "--future-features", "promo", "--hidden", "8",
                           "--epochs", "5", "--quiet", "--out", out)  # fmt: skip
    assert code == 0, stdout
    assert json.loads((out / "config.json").read_text())["settings"]["future_features"] == ["promo"]
    future = tmp_path / "future.csv"
    _future(frame, [1, 0, 0, 1]).to_csv(future, index=False)
    written = tmp_path / "next.csv"
    code, stdout, err = _run(capsys, "predict", out, "--future", future, "--output", written)
    assert code == 0, err
    expected = Forecaster.load(out).predict(future=future)
    got = pd.read_csv(written)
    assert list(got.columns) == ["week", "step", "sales", "lower", "upper"]
    np.testing.assert_allclose(got["sales"], expected["sales"], rtol=1e-6)
    # a file of the whole plan, past weeks too: the rows at the forecast's weeks are read, the others left
    whole = tmp_path / "plan.csv"
    pd.concat([frame.drop(columns="sales"), _future(frame, [1, 0, 0, 1])]).to_csv(whole, index=False)
    code, _, err = _run(capsys, "predict", out, "--future", whole, "--output", written)
    assert code == 0 and np.allclose(pd.read_csv(written)["sales"], expected["sales"], rtol=1e-6), err
    # the values after the end of new data: the weeks after its last
    code, _, err = _run(capsys, "predict", out, "--data", data, "--future", future, "--output", written)
    assert code == 0 and np.allclose(pd.read_csv(written)["sales"], expected["sales"], rtol=1e-6), err


@pytest.fixture(scope="module")
def future_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("future-run")
    frame = _promotions(120)
    frame.to_csv(folder / "sales.csv", index=False)
    assert main([str(a) for a in ["train", "forecast", "--data", folder / "sales.csv", "--target", "sales", "--time-col",
                                  "week", "--horizon", "4", "--season", "13", "--future-features", "promo", "--hidden", "8",
                                  "--epochs", "3", "--quiet", "--out", folder / "run"]]) == 0  # fmt: skip
    _future(frame, [1, 0, 0, 1]).to_csv(folder / "future.csv", index=False)
    return folder


@pytest.mark.parametrize("case", ["no future", "too few rows", "a gap", "no column", "a missing value", "not a future model"])
def test_bad_future_input_is_one_line_and_exit_code_2(case, future_run, tmp_path, capsys):
    run, future = future_run / "run", pd.read_csv(future_run / "future.csv")
    path = tmp_path / "future.csv"
    {
        "no future": lambda: None,
        "too few rows": lambda: future.head(2).to_csv(path, index=False),
        "a gap": lambda: future.drop(index=1).to_csv(path, index=False),
        "no column": lambda: future.drop(columns="promo").assign(promotion=1).to_csv(path, index=False),
        "a missing value": lambda: future.assign(promo=[1, None, 0, 1]).to_csv(path, index=False),
        "not a future model": lambda: future.to_csv(path, index=False),
    }[case]()
    if case == "not a future model":  # a forecaster trained without future features is given some
        other = tmp_path / "plain"
        pd.read_csv(future_run / "sales.csv").to_csv(tmp_path / "sales.csv", index=False)
        assert main([str(a) for a in ["train", "forecast", "--data", tmp_path / "sales.csv", "--target", "sales", "--time-col",
                                      "week", "--horizon", "4", "--hidden", "8", "--epochs", "2", "--quiet", "--out", other]]) == 0  # fmt: skip
        run = other
    code, stdout, err = _run(capsys, "predict", run, *([] if case == "no future" else ["--future", path]))
    expected = {
        "no future": "lstmkit: error: the forecaster reads the future values of promo: give them for the 4 steps after "
                     "the end of each series with --future",
        "too few rows": f"lstmkit: error: {path}: has no row for 2022-05-09; the forecast needs the values of promo at "
                        "the 4 steps after the series' last time 2022-04-18, from 2022-04-25 to 2022-05-16",
        "a gap": f"lstmkit: error: {path}: has no row for 2022-05-02; the forecast needs the values of promo at the 4 "
                 "steps after the series' last time 2022-04-18, from 2022-04-25 to 2022-05-16",
        "no column": f"lstmkit: error: {path}: no column 'promo'; did you mean 'promotion'? Columns: week, promotion",
        "a missing value": f"lstmkit: error: {path}: column 'promo' has no value at row 3; a forecast needs every future "
                           "value of it",
        "not a future model": "lstmkit: error: the forecaster was trained without --future-features, so it reads no "
                              "future values; leave --future out",
    }[case]  # fmt: skip
    assert code == 2 and err.strip() == expected and "Traceback" not in err + stdout


def test_many_series_each_take_their_own_future_values(tmp_path, capsys):
    frames = [_promotions(110, seed=k).assign(store=name) for k, name in enumerate(["a", "b", "c"])]
    data = tmp_path / "stores.csv"
    pd.concat(frames).to_csv(data, index=False)
    out = tmp_path / "run"
    assert main([str(a) for a in ["train", "forecast", "--data", data, "--id-col", "store", "--target", "sales", "--time-col",
                                  "week", "--horizon", "4", "--season", "13", "--future-features", "promo", "--hidden", "8",
                                  "--epochs", "5", "--quiet", "--out", out]]) == 0  # fmt: skip
    model = Forecaster.load(out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["baselines"]) == {"naive", "seasonal_naive", "naive2", "ets", "theta", "arimax"}  # ARIMAX: each series' promotions
    plans = {"a": [1, 0, 0, 0], "b": [0, 0, 0, 0], "c": [0, 0, 1, 1]}
    future = pd.concat([_future(frames[0], promo, store=name) for name, promo in plans.items()])
    got = model.predict(future=future)
    none = model.predict(future=pd.concat([_future(frames[0], [0, 0, 0, 0], store=name) for name in plans]))
    for name, promo in plans.items():
        mine = got[got["store"] == name]["sales"].to_numpy()
        same = none[none["store"] == name]["sales"].to_numpy()
        promoted = np.array(promo, dtype=bool)
        np.testing.assert_allclose(mine[~promoted], same[~promoted], rtol=1e-6)  # a step reads its own values only
        assert np.all(mine[promoted] != same[promoted])
    from types import SimpleNamespace

    from lstmkit.tasks.forecast import serving

    request = serving.Request.model_validate(serving.example(model))  # the OpenAPI page's example: a series it knows
    (i, series, known), = serving.items(model, request, SimpleNamespace(max_items=8, max_length=10_000))
    assert request.series[0].id == "a" and i == 0 and known.shape == (4, 1) and len(series) == model.lookback_
    path = tmp_path / "future.csv"
    future[future["store"] != "c"].to_csv(path, index=False)
    code, _, err = _run(capsys, "predict", out, "--future", path)
    assert code == 2 and err.strip() == (f"lstmkit: error: {path}: has no rows for series 'c', whose next 4 steps need "
                                         "the values of promo")  # fmt: skip


def test_exported_and_served_forecasts_read_the_future_values(future_run, tmp_path, capsys):
    """The ONNX graph and the HTTP service (on PyTorch and on ONNX Runtime) forecast what `predict` forecasts."""
    from test_export import session
    from test_serve import served

    run, future = future_run / "run", pd.read_csv(future_run / "future.csv")
    forecaster = load_run(run)
    expected = forecaster.predict(future=future)["sales"].to_numpy()
    assert main(["export", str(run), "--out", str(tmp_path / "f.onnx")]) == 0
    capsys.readouterr()
    series = forecaster.panel_.series[0]
    x, seasonal = forecaster._inputs(0, series, np.array([len(series)]), forecaster.lookback_, forecaster._phase(0, series),
                                     future[["promo"]].to_numpy())  # fmt: skip
    onnx = session(tmp_path / "f.onnx").run(None, {"x": x.astype(np.float32), "seasonal": seasonal.astype(np.float32)})[0]
    np.testing.assert_allclose(onnx[0, :, 0], expected, rtol=1e-5)
    history = pd.read_csv(future_run / "sales.csv")
    request = {"values": history["sales"].tolist()[-forecaster.lookback_ :],
               "covariates": {"promo": history["promo"].tolist()[-forecaster.lookback_ :]}}  # fmt: skip
    for backend in ("torch", "onnx"):
        with served(run, "--backend", backend) as (client, _):
            answer = client.post("/predict", json={"series": [{**request, "future": {"promo": future["promo"].tolist()}}]})
            assert answer.status_code == 200, answer.text
            np.testing.assert_allclose(answer.json()["predictions"][0]["forecast"], expected, rtol=1e-5)
            weeks = [t.isoformat() for t in forecaster.predict(future=future)["week"]]  # '2022-04-04T00:00:00'
            assert answer.json()["predictions"][0]["times"] == weeks and weeks[0].endswith("T00:00:00")
            start = str(history["week"].iloc[-forecaster.lookback_ - 1])  # values a week earlier: times a week earlier
            moved = client.post("/predict", json={"series": [{**request, "start": start, "future": {"promo": [1, 0, 0, 1]}}]})
            assert moved.json()["predictions"][0]["times"][0] == (pd.Timestamp(weeks[0]) - pd.Timedelta(weeks=1)).isoformat()
            missing = client.post("/predict", json={"series": [request]})
            assert missing.status_code == 422 and missing.json() == {
                "error": "series.0.future: needs the values of ['promo'] at the 4 steps forecast, got []", "field": "series.0.future"}
            example = client.get("/openapi.json").json()["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["example"]
            assert set(example["series"][0]) == {"values", "covariates", "future"}  # what this model needs, answered
            assert client.post("/predict", json=example).status_code == 200
            short = client.post("/predict", json={"series": [{**request, "future": {"promo": [1, 0]}}]})
            assert short.status_code == 422 and short.json() == {
                "error": "series.0.future.promo: has 2 values, the horizon 4", "field": "series.0.future.promo"}


def test_the_inspector_reads_a_future_model_and_loading_keeps_its_forecast(future_run, tmp_path, capsys):
    run, future = future_run / "run", pd.read_csv(future_run / "future.csv")
    code, stdout, err = _run(capsys, "inspect", run, "--data", future_run / "sales.csv", "--out", tmp_path / "gates.html")
    assert code == 0 and (tmp_path / "gates.html").stat().st_size > 0, err
    forecaster, reloaded = load_run(run), Forecaster.load(run)
    np.testing.assert_allclose(reloaded.predict(future=future)["sales"], forecaster.predict(future=future)["sales"])
    with pytest.raises(ConfigError, match="reads the future values of promo"):
        reloaded.predict()


def test_without_a_time_column_the_future_files_first_rows_are_the_next_steps():
    frame = _promotions(120).drop(columns="week")
    model = Forecaster("sales", horizon=4, season=13, future_features=["promo"], hidden=8, epochs=3).fit(frame)
    got = model.predict(future=pd.DataFrame({"promo": [1, 0, 0, 1, 1, 1]}))  # rows past the horizon are left
    assert list(got["step"]) == [1, 2, 3, 4]
    np.testing.assert_allclose(got["sales"], model.predict(future=pd.DataFrame({"promo": [1, 0, 0, 1]}))["sales"])
    with pytest.raises(DataError, match=r"^the future DataFrame: has 2 rows for the forecast, which needs the values of "
                                        r"promo at the 4 steps after the series' end$"):  # fmt: skip
        model.predict(future=pd.DataFrame({"promo": [1, 0]}))


@pytest.mark.parametrize("given, expected", [
    (["--future-features", "sales"], "the target column 'sales' cannot also be a future feature; remove it from --future-features"),
    (["--future-features", "week"], "the time column 'week' cannot also be a future feature; remove it from --future-features"),
    (["--future-features", "promo,promo"], "the future feature column 'promo' is given twice"),
    (["--future-features", "promotion"], "{data}: no column 'promotion'; did you mean 'promo'? Columns: week, sales, promo"),
])  # fmt: skip
def test_bad_future_features_are_one_line_and_exit_code_2_before_training(given, expected, tmp_path, capsys):
    data = tmp_path / "sales.csv"
    _promotions(60).to_csv(data, index=False)
    code, stdout, err = _run(capsys, "train", "forecast", "--data", data, "--target", "sales", "--time-col", "week",
                             "--horizon", "4", *given, "--out", tmp_path / "run")  # fmt: skip
    assert code == 2 and err.strip() == "lstmkit: error: " + expected.format(data=data) and not (tmp_path / "run").exists()
