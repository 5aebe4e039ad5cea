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


def time_kind(value) -> str:
    """What a time axis holds, by one of its values, as a message names it: integers, or times with or
    without a time zone, which pandas cannot compare with each other (times in two zones it can)."""
    if not isinstance(value, pd.Timestamp):
        return "integers"
    return "times with a time zone" if value.tz is not None else "times without a time zone"


def steps_between(start, end, freq) -> int:
    """How many steps of `freq` lead from time `start` to time `end` (negative when end is earlier); 0 when
    the step is unknown."""
    if freq is None:
        return 0
    if not isinstance(start, pd.Timestamp):
        return (int(end) - int(start)) // int(freq)
    if start.tz is not None and end.tz is not None:
        end = end.tz_convert(start.tz)  # the same instant, on start's clock
    first, last = (start, end) if end >= start else (end, start)
    count = len(pd.date_range(first, last, freq=freq)) - 1
    return count if end >= start else -count


# the seasons a calendar step has, in steps: of the hour, the day, the week and the year (pandas' offset aliases,
# their start or end suffix dropped: 'MS' and 'ME' are months)
CALENDAR = {"s": (60, 3600), "min": (60, 1440), "h": (24, 168), "D": (7, 365), "B": (5,), "W": (52,), "SM": (24,),
            "M": (12,), "BM": (12,), "Q": (4,), "BQ": (4,)}  # fmt: skip


def calendar_seasons(freq) -> tuple[int, ...]:
    """The seasonal periods a time axis of `freq` (a pandas offset alias, or an integer step) has in its
    calendar: (12,) for months, (7, 365) for days, (6, 12) for two-monthly steps...; () for integer steps,
    years and series without a time axis, whose calendar has no season (`without_calendar` tells which of
    them have no calendar at all)."""
    if freq is None or str(freq).isdigit():
        return ()
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return ()
    unit = offset.name.split("-")[0]
    unit = unit[:-1] if len(unit) > 1 and unit[-1] in "SE" else unit
    return tuple(period // offset.n for period in CALENDAR.get(unit, ()) if period % offset.n == 0 and period > offset.n)


def without_calendar(series: Series) -> bool:
    """Whether a series' steps carry no calendar to tell a season from a cycle by: no time column, or whole
    numbers that are not years (a count 0, 1, 2, ...). Whole numbers from 1000 to 2999 are read as years,
    which have no season (sunspots' 11 years, the lynx's 10 are cycles)."""
    if series.time is None:
        return True
    if series.freq is None or not str(series.freq).isdigit():
        return False
    return not (1000 <= int(series.time.min()) and int(series.time.max()) <= 2999)


def on_calendar(period: int, freq) -> int:
    """A detected `period` moved onto the nearest season of `freq`'s calendar (`calendar_seasons`) when it lies
    within 1/30 of it: a year of 52.18 weeks or 365.24 days shows its peak at 53 weeks or 366 days as often
    as not, and seasonal naive and ETS repeat the calendar's 52 and 365. Shorter seasons (24 hours, 12
    months) and periods off the calendar (a cycle) are kept as they are."""
    for season in calendar_seasons(freq):
        if abs(period - season) <= season // 30:
            return season
    return period
