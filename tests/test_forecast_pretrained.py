"""The forecaster's pretrained start (`start="pretrained"`): the networks shipped in the package, loaded as the
starting weights of a forecaster for a series they never saw, as a user runs it."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.cli import main
from lstmkit.tasks.forecast.estimator import Forecaster
from lstmkit.tasks.forecast.net import ForecastNet
from lstmkit.tasks.forecast.pretrained import load_pretrained, pretrained_seasons

SHIPPED = load_pretrained(1)  # the yearly network: horizon 8, lookback 12


def _yearly(length=60, seed=0, slope=2.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return pd.DataFrame({"year": 1950 + t, "value": (100 + slope * t + rng.normal(0, 1.0, length)).round(3)})


def test_each_shipped_network_is_a_forecasters_network_trained_on_m3():
    assert pretrained_seasons() == [1, 4, 12]
    for season in pretrained_seasons():
        shipped = load_pretrained(season)
        assert shipped.season == season and "M3" in shipped.trained_on and len(shipped.members) >= 1
        assert shipped.lookback == (2 * season if season > 1 else 12) and shipped.horizon == (24 if season == 12 else 8)
        for k in range(len(shipped.members)):
            net = ForecastNet(1, shipped.horizon, season, base="naive2", hidden=shipped.hidden, reads_ets=True)
            net.load_state_dict(shipped.weights(k, 1))  # strict: every weight, of the forecaster's shapes
            assert net.head.weight.abs().sum() > 0  # trained: not the zero start
    assert load_pretrained(7) is None


def test_a_shorter_horizon_forecasts_the_first_steps_of_the_shipped_horizon():
    """The network forecasts the 8 steps it was trained for, reading ETS's forecast of all 8, and gives the
    first `horizon` of them: a forecaster of 3 steps forecasts what one of 8 does for those steps."""
    data = _yearly()
    short = Forecaster("value", time_col="year", horizon=3, start="pretrained", epochs=0).fit(data)
    whole = Forecaster("value", time_col="year", horizon=8, start="pretrained", epochs=0).fit(data)
    assert short.net_horizon_ == whole.net_horizon_ == 8 and short.lookback_ == 12 and short.base_ == "naive2"
    np.testing.assert_allclose(short.predict()["value"], whole.predict()["value"][:3], rtol=1e-6)
    base = Forecaster("value", time_col="year", horizon=8, epochs=0, base="naive2", ets_input="yes").fit(data)
    assert not np.allclose(whole.predict()["value"], base.predict()["value"])  # the shipped network is no zero start


def test_the_untrained_pretrained_network_follows_a_trend_and_every_quantile_starts_at_its_point():
    """A clean trend the network never saw: the shipped network, untrained, forecasts it far better than
    naive (a MASE of about 4.5 here), and each quantile starts where the point forecast is."""
    data = _yearly(slope=2.0)
    forecaster = Forecaster("value", time_col="year", horizon=8, start="pretrained", epochs=0,
                            quantiles=(0.1, 0.5, 0.9)).fit(data)  # fmt: skip
    series = forecaster.panel_.series[0]
    first = forecaster.test_["first"]
    forecasts = forecaster._forecast(forecaster.panel_, np.zeros(len(first), dtype=np.int64), first)  # (W, 8, 3)
    np.testing.assert_allclose(forecasts[..., 0], forecasts[..., 2], rtol=1e-6)
    actual = np.stack([series.target[t : t + 8] for t in first])
    mase = np.abs(forecasts[..., 1] - actual).mean() / np.abs(np.diff(forecaster.train_target_)).mean()
    assert mase < 1.0


def test_epochs_0_scores_and_keeps_the_network_as_it_starts():
    """No training: the members are the shipped weights, the history one row of their losses at epoch 0; from
    the zero start, one series' network is its ETS base, and forecasts what the ETS baseline does."""
    data = _yearly()
    forecaster = Forecaster("value", time_col="year", horizon=4, start="pretrained", epochs=0, ensemble=2).fit(data)
    for k, net in enumerate(forecaster.members_):
        for name, tensor in net.state_dict().items():
            torch.testing.assert_close(tensor, SHIPPED.members[k][name], rtol=0, atol=0)
    assert [row["epoch"] for row in forecaster.history_] == [0, 0] and forecaster.stop_reason_ == "epochs 0"
    assert all(np.isfinite([row["train_loss"], row["val_loss"]]).all() for row in forecaster.history_)
    base = Forecaster("value", time_col="year", horizon=4, epochs=0).fit(data)
    assert base.base_ == "ets" and base.metrics_["mase"] == pytest.approx(base.baselines_["ets"]["mase"], rel=1e-6)


def test_a_pretrained_run_trains_saves_loads_predicts_and_exports(tmp_path, capsys):
    from lstmkit.export.onnx import check, to_onnx

    path = tmp_path / "yearly.csv"
    _yearly().to_csv(path, index=False)
    run = tmp_path / "run"
    assert main(["train", "forecast", "--data", str(path), "--target", "value", "--time-col", "year", "--horizon", "5",
                 "--start", "pretrained", "--epochs", "3", "--out", str(run), "--quiet"]) == 0  # fmt: skip
    loaded = Forecaster.load(run)
    assert loaded.net_horizon_ == 8 and loaded.horizon == 5 and loaded.model_.head.out_features == 8
    predicted = loaded.predict()
    assert len(predicted) == 5 and np.isfinite(predicted["value"]).all()
    capsys.readouterr()
    assert main(["predict", str(run)]) == 0
    assert f"{predicted['value'].iloc[0]:.4g}"[:4] in capsys.readouterr().out
    graph = loaded.export_graph()
    to_onnx(graph, tmp_path / "f.onnx")
    assert check(graph, tmp_path / "f.onnx") <= 1e-5
    # the HTTP service's forecast of the series' last values, ending where training ended, is predict's
    from lstmkit.tasks.forecast import serving

    request = serving.Request(series=[serving.SeriesIn(values=_yearly()["value"].tolist()[-30:])])
    served = serving.run(loaded, serving.items(loaded, request, type("Limits", (), {"max_items": 8, "max_length": 1000})))
    np.testing.assert_allclose(served[0]["forecast"], predicted["value"], rtol=1e-5)


@pytest.mark.parametrize("args, why", [
    (["--horizon", "9"], "--horizon 9: it forecasts at most 8 steps"),
    (["--horizon", "4", "--lookback", "6"], "--lookback 6: it reads 12 steps"),
    (["--horizon", "4", "--base", "ets"], "--base ets: its base is naive2"),
    (["--horizon", "4", "--hidden", "16"], "--hidden 16: its hidden size is 64"),
    (["--horizon", "4", "--features", "other"], "covariates: it reads the target alone"),
])  # fmt: skip
def test_settings_the_shipped_network_does_not_take_are_one_line(tmp_path, capsys, args, why):
    path = tmp_path / "yearly.csv"
    _yearly().assign(other=1.0).to_csv(path, index=False)
    code = main(["train", "forecast", "--data", str(path), "--target", "value", "--time-col", "year", "--start", "pretrained",
                 *args, "--out", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.strip().splitlines() == [
        f"lstmkit: error: --start pretrained loads the network trained on {SHIPPED.trained_on} for season 1, "
        f"which does not take {why}"]
    assert not (tmp_path / "run").exists()


def test_a_season_without_a_shipped_network_is_one_line(tmp_path, capsys):
    path = tmp_path / "yearly.csv"
    _yearly().to_csv(path, index=False)
    code = main(["train", "forecast", "--data", str(path), "--target", "value", "--time-col", "year", "--horizon", "4",
                 "--season", "5", "--start", "pretrained", "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 2 and capsys.readouterr().err.strip() == (
        "lstmkit: error: --start pretrained: lstmkit ships pretrained networks for the seasons 1, 4 and 12, and this "
        "series' season is 5; give one of those as --season, or --start zero")


def test_many_series_shorter_than_the_shipped_lookback_start_from_it():
    """The shipped network learned from windows padded at the front, as a short series' are: series of 14 years,
    fewer than its lookback 12 + horizon 4, fit and forecast."""
    frames = [_yearly(length=14, seed=i, slope=1.0 + i).assign(id=f"s{i}") for i in range(6)]
    forecaster = Forecaster("value", id_col="id", time_col="year", horizon=4, start="pretrained", epochs=2,
                            val_frac=0).fit(pd.concat(frames))  # fmt: skip
    assert forecaster.lookback_ == 12 and np.isfinite(forecaster.predict()["value"]).all()
    assert torch.isfinite(next(forecaster.model_.parameters())).all()


def test_one_series_too_short_to_train_on_is_forecast_as_it_would_be_among_many():
    """`epochs` 0: nothing is trained, so one series needs only the parts it is scored on. Ten years, the last 4
    the backtest's test part: no window of lookback 12 + horizon 4 fits, and the network forecasts the series
    from its padded past exactly as it does when the series is one of a panel."""
    data = _yearly(length=10, slope=3.0)
    alone = Forecaster("value", time_col="year", horizon=4, start="pretrained", epochs=0, backtest=1, val_frac=0).fit(data)
    assert np.isnan(alone.history_[0]["train_loss"]) and alone.test_["first"].tolist() == [6]
    panel = pd.concat([data.assign(id="a"), _yearly(length=10, seed=1).assign(id="b")])
    among = Forecaster("value", id_col="id", time_col="year", horizon=4, start="pretrained", epochs=0, backtest=1,
                       val_frac=0).fit(panel)  # fmt: skip
    one = among._forecast(among.panel_, np.zeros(1, dtype=np.int64), np.array([6]))
    np.testing.assert_allclose(alone._forecast(alone.panel_, np.zeros(1, dtype=np.int64), np.array([6])), one, rtol=1e-5)
    np.testing.assert_allclose(alone.predict()["value"], among.predict().query("id == 'a'")["value"], rtol=1e-5)


def test_one_series_too_short_even_for_the_scored_parts_is_one_line(tmp_path, capsys):
    path = tmp_path / "yearly.csv"
    _yearly(length=8).to_csv(path, index=False)
    code = main(["train", "forecast", "--data", str(path), "--target", "value", "--time-col", "year", "--horizon", "4",
                 "--start", "pretrained", "--epochs", "0", "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 2 and capsys.readouterr().err.strip() == (
        f"lstmkit: error: {path}: has 8 rows, too few for --horizon 4 with --start pretrained and --epochs 0: it "
        "needs the validation and test parts 4 rows each and the training part 2, so at least 10 rows with "
        "--val-frac 0.15 and --test-frac 0.15; use a shorter --horizon, --val-frac 0 or --test-frac 0, or more data")
    assert not (tmp_path / "run").exists()


def test_a_series_too_short_to_train_on_is_told_the_flags_that_forecast_it_untrained(tmp_path, capsys):
    """Eight years and a horizon of 4: too short to train on. The message names the flags with which the
    shipped network forecasts it as it is, and those flags run; where no shipped network takes the series (a
    season of 5), the message names none."""
    path = tmp_path / "yearly.csv"
    _yearly(length=8).to_csv(path, index=False)  # untrained, scored on a validation and a test part of 4: 10 needed
    args = ["train", "forecast", "--data", str(path), "--target", "value", "--time-col", "year", "--horizon", "4"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    hint = "; or forecast it untrained, by lstmkit's pretrained network: --start pretrained, --epochs 0, --val-frac 0"
    assert err.startswith(f"lstmkit: error: {path}: has 8 rows, too few for --horizon 4") and err.endswith(hint)
    flags = [part for flag in hint.split(": ")[1].split(", ") for part in flag.split(" ")]
    assert main([*args, *flags, "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert (tmp_path / "run" / "metrics.json").exists()
    assert main([*args, "--start", "pretrained", "--out", str(tmp_path / "trained")]) == 2  # to train from it: as short
    err = capsys.readouterr().err.strip()
    assert "too few for --lookback 12 + --horizon 4;" in err and err.endswith(hint)
    assert main([*args, "--season", "5", "--out", str(tmp_path / "other")]) == 2
    assert "pretrained" not in capsys.readouterr().err
