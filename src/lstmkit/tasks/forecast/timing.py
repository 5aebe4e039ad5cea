"""Steps on a series' time axis: the times after its end, and how many steps lie between two times."""

from __future__ import annotations

import pandas as pd

from ...data import Series


def future_times(series: Series, horizon: int):
    """Timestamps of the `horizon` steps after the series' end, when the series has a regular time axis."""
    if series.time is None or series.freq is None:
        return None
    last = series.time[-1]
    if pd.api.types.is_integer_dtype(series.time):
        step = int(series.freq)
        return [int(last) + step * (k + 1) for k in range(horizon)]
    return list(pd.date_range(last, periods=horizon + 1, freq=series.freq)[1:])


def steps_between(start, end, freq) -> int:
    """How many steps of `freq` lead from time `start` to time `end` (negative when end is earlier); 0 when
    the step is unknown."""
    if freq is None:
        return 0
    if not isinstance(start, pd.Timestamp):
        return (int(end) - int(start)) // int(freq)
    first, last = (start, end) if end >= start else (end, start)
    count = len(pd.date_range(first, last, freq=freq)) - 1
    return count if end >= start else -count
