"""Reading a series CSV: every bad file gets one exact line; messy but valid files are read; split and scaler."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.data import (
    Scaler,
    check_length,
    default_lookback,
    min_series_length,
    read_series_csv,
    split_by_time,
)
from lstmkit.errors import ConfigError, DataError

AIRLINE = "Month,Passengers\n1949-01,112\n1949-02,118\n1949-03,132\n1949-04,129\n1949-05,121\n"


def _csv(tmp_path, text, name="data.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def _raises(message, call, error=DataError):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


# --- a good file -----------------------------------------------------------------------------------------


def test_reads_target_time_and_frequency(tmp_path):
    series = read_series_csv(_csv(tmp_path, AIRLINE), "Passengers", time_col="Month")
    assert series.target.tolist() == [112, 118, 132, 129, 121]
    assert series.target.dtype == np.float64
    assert series.covariates.shape == (5, 0)
    assert list(series.time.strftime("%Y-%m")) == ["1949-01", "1949-02", "1949-03", "1949-04", "1949-05"]
    assert series.time[0] == pd.Timestamp("1949-01-01")
    assert (series.freq, series.gaps, len(series)) == ("MS", [], 5)


def test_values_put_the_target_first_then_the_features_as_float32(tmp_path):
    path = _csv(tmp_path, "a,temp,load\n1,10,100\n2,20,200\n")
    series = read_series_csv(path, "load", features=["a", "temp"])
    assert series.values.dtype == np.float32
    assert series.values.tolist() == [[100, 1, 10], [200, 2, 20]]
    assert series.column_names == ["load", "a", "temp"]


def test_features_may_be_a_comma_separated_string(tmp_path):
    series = read_series_csv(_csv(tmp_path, "a,b,y\n1,2,3\n"), "y", features="a, b")
    assert series.feature_names == ["a", "b"]


def test_no_time_column_gives_no_time_and_no_frequency(tmp_path):
    series = read_series_csv(_csv(tmp_path, AIRLINE), "Passengers")
    assert (series.time, series.freq, series.gaps) == (None, None, [])


def test_integer_time_column_of_years_is_a_time_axis(tmp_path):
    path = _csv(tmp_path, "Year,Sunspots\n1700,5\n1701,11\n1702,16\n1703,23\n")
    series = read_series_csv(path, "Sunspots", time_col="Year")
    assert series.time.tolist() == [1700, 1701, 1702, 1703]
    assert series.freq == "1"


def test_years_written_as_whole_decimals_are_integers(tmp_path):
    path = _csv(tmp_path, "year,volume\n1871.0,1120\n1872.0,1160\n1873.00,963\n1874.,1210\n")
    series = read_series_csv(path, "volume", time_col="year")
    assert series.time.tolist() == [1871, 1872, 1873, 1874]
    assert series.freq == "1"


@pytest.mark.parametrize("quarters", [["1970 Q1", "1970 Q2", "1970 Q3", "1970 Q4", "1971 Q1"],
                                      ["Q1 1970", "Q2 1970", "q3 1970", "Q4-1970", "Q1/1971"],
                                      ["1970Q1", "1970Q2", "1970-Q3", "1970-Q4", "1971Q1"]])  # fmt: skip
def test_quarters_are_a_quarterly_axis(tmp_path, quarters):
    # '1970 Q1' as R's tsibble writes it (fpp3's us_change), which pandas alone cannot read
    path = _csv(tmp_path, "Quarter,y\n" + "".join(f"{q},{i}\n" for i, q in enumerate(quarters)))
    series = read_series_csv(path, "y", time_col="Quarter")
    assert list(series.time.strftime("%Y-%m-%d")) == ["1970-01-01", "1970-04-01", "1970-07-01", "1970-10-01", "1971-01-01"]
    assert series.freq == "QS-OCT"


@pytest.mark.parametrize("cells, written, after", [
    (["Jan 1980", "Feb 1980"], "%b %Y", "Mar 1980"),  # pmdarima's wineind
    (["1991 Jul", "1991 Aug"], "%Y %b", "1991 Sep"),  # sktime's PBS_dataset
    (["JANUARY 1980", "FEBRUARY 1980"], "%B %Y", "March 1980"),  # case aside
    (["Oct-79", "Nov-79", "Dec-79"], "%b-%y", "Jan-80"),
    (["1949-01", "1949-02"], "%Y-%m", "1949-03"),
    (["2020/10", "2020/11", "2020/12"], "%Y/%m", "2021/01"),
    (["1965 Q3", "1965 Q4"], "%Y Q%q", "1966 Q1"),
    (["q3 1965", "q4 1965"], "q%q %Y", "q1 1966"),
    (["1965Q3", "1965Q4"], "%YQ%q", "1966Q1"),
    (["13/01/2020", "14/01/2020"], "%d/%m/%Y", "15/01/2020"),
    (["3/12/2020", "3/13/2020"], "%-m/%-d/%Y", "3/14/2020"),
    (["1 Jan 2020", "2 Jan 2020"], "%-d %b %Y", "3 Jan 2020"),
    (["2020-01-01 00:00", "2020-01-01 01:00"], "%Y-%m-%d %H:%M", "2020-01-01 02:00"),
    (["2021-01-01T00:00:00Z", "2021-01-01T01:00:00Z"], "%Y-%m-%dT%H:%M:%SZ", "2021-01-01T02:00:00Z"),  # UTC, ISO 8601's Z
    (["2021-05-01 00:00:00+00:00", "2021-05-01 00:30:00+00:00"], "%Y-%m-%d %H:%M:%S+00:00", "2021-05-01 01:00:00+00:00"),  # sktime's solar.csv
    (["2020-01-01", "2020-01-02"], "%Y-%m-%d", "2020-01-03"),
    (["20200130", "20200131"], "%Y%m%d", "20200201"),  # weather services' compact dates: dates, not integers
    (["199910", "199911", "199912"], "%Y%m", "200001"),
    (["2018-W51", "2018-W52"], "%G-W%V", "2019-W01"),  # ISO weeks, as Eurostat writes them
    (["2020W52", "2020W53"], "%GW%V", "2021W01"),
    (["2020M10", "2020M11", "2020M12"], "%YM%m", "2021M01"),  # months as Eurostat and the IMF write them
    (["1949m10", "1949m11", "1949m12"], "%Ym%-m", "1950m1"),  # and as Stata does
    (["2020-M10", "2020-M11", "2020-M12"], "%Y-M%m", "2021-M01"),  # which pandas read as seconds
])  # fmt: skip
def test_the_format_the_times_are_written_in_writes_the_next_one_alike(tmp_path, cells, written, after):
    from lstmkit.data.timeaxis import format_time, format_times

    path = _csv(tmp_path, "t,y\n" + "".join(f"{c},{i}\n" for i, c in enumerate(cells)))
    series = read_series_csv(path, "y", time_col="t")
    assert series.time_format == written
    following = pd.date_range(series.time[-1], periods=2, freq=series.freq)[1]
    assert format_time(following, written) == after
    assert format_times(series.time, written) == [format_time(t, written) for t in series.time]
    assert [c.lower() for c in format_times(series.time, written)] == [c.lower() for c in cells]


@pytest.mark.parametrize("cells", [["Q1 1970", "Q2 1970", "q3 1970", "Q4-1970", "Q1/1971"],  # mixed
                                   ["2021-05-01 00:00:00+01:00", "2021-05-01 00:30:00+01:00"],  # +0100 in strftime
                                   ["1700", "1701"]])  # fmt: skip
def test_times_no_one_format_writes_back_are_written_as_iso_dates(tmp_path, cells):
    from lstmkit.data.timeaxis import format_time

    series = read_series_csv(_csv(tmp_path, "t,y\n" + "".join(f"{c},{i}\n" for i, c in enumerate(cells))), "y", time_col="t")
    assert series.time_format is None
    assert format_time(series.time[-1], series.time_format) == cells[-1].replace("Q1/1971", "1971-01-01")


@pytest.mark.parametrize("cells, monday", [(["2018-W01", "2018-W02", "2018-W03"], "2018-01-01"),
                                           (["2020W53", "2021W01", "2021W02"], "2020-12-28")])  # fmt: skip
def test_iso_weeks_are_a_weekly_axis_of_their_mondays(tmp_path, cells, monday):
    series = read_series_csv(_csv(tmp_path, "week,y\n" + "".join(f"{c},{i}\n" for i, c in enumerate(cells))), "y", time_col="week")
    assert series.time[0] == pd.Timestamp(monday) and series.freq == "W-MON" and series.gaps == []


def test_whole_numbers_that_are_not_all_compact_dates_stay_integers(tmp_path):
    for cells in (["20200131", "20200132"], ["17001231", "17010101"], ["100001", "100002"]):
        series = read_series_csv(_csv(tmp_path, "t,y\n" + "".join(f"{c},{i}\n" for i, c in enumerate(cells))), "y", time_col="t")
        assert series.time.tolist() == [int(c) for c in cells]


def test_a_week_or_a_month_code_among_other_cells_is_no_time(tmp_path):
    path = _csv(tmp_path, "week,y\n2018-W01,1\n2018-W02,2\n2018-01-15,3\n")
    _raises(f"{path}: column 'week' cannot be read as time at row 4 (value '2018-01-15'); expected an ISO week, as "
            "row 2 has it ('2018-W01')", lambda: read_series_csv(path, "y", time_col="week"))  # fmt: skip
    path = _csv(tmp_path, "month,y\n2018M01,1\n2018M13,2\n", "months.csv")
    _raises(f"{path}: column 'month' cannot be read as time at row 3 (value '2018M13'); expected dates (e.g. 1949-01) "
            "or integers (e.g. years)", lambda: read_series_csv(path, "y", time_col="month"))  # fmt: skip


def test_a_quarter_among_other_cells_is_no_time(tmp_path):
    path = _csv(tmp_path, "Quarter,y\n1970 Q1,1\n1970 Q2,2\n1970 Q5,3\n")
    _raises(f"{path}: column 'Quarter' cannot be read as time at row 4 (value '1970 Q5'); expected a quarter, as "
            "row 2 has it ('1970 Q1')", lambda: read_series_csv(path, "y", time_col="Quarter"))  # fmt: skip


def test_a_row_of_totals_is_named_as_one(tmp_path):
    """A spreadsheet's export ends a table with its totals, or puts a subtotal below each year."""
    path = _csv(tmp_path, "Month,Sales\n2019-01,5\n2019-02,6\nTotal,11\n")
    _raises(f"{path}: column 'Month' cannot be read as time at row 4 (value 'Total'); expected dates (e.g. 1949-01) "
            "or integers (e.g. years); that row looks like a total of the rows above: remove it",
            lambda: read_series_csv(path, "Sales", time_col="Month"))
    path = _csv(tmp_path, "Quarter,y\n2019 Q1,1\n2019 Q2,2\n2019 Total,3\n2020 Q1,4\n", "subtotals.csv")
    _raises(f"{path}: column 'Quarter' cannot be read as time at row 4 (value '2019 Total'); expected a quarter, as "
            "row 2 has it ('2019 Q1'); that row looks like a total of the rows above: remove it",
            lambda: read_series_csv(path, "y", time_col="Quarter"))  # fmt: skip


def test_a_year_with_a_fraction_is_no_time(tmp_path):
    path = _csv(tmp_path, "year,volume\n1871.0,1120\n1871.5,1160\n")
    _raises(f"{path}: column 'year' cannot be read as time at row 3 (value '1871.5'): a number of time steps "
            "must be whole (e.g. years)", lambda: read_series_csv(path, "volume", time_col="year"))


def test_missing_years_are_reported_as_gaps(tmp_path):
    path = _csv(tmp_path, "Year,Sunspots\n1700,5\n1701,11\n1702,16\n1705,23\n1706,1\n1708,2\n")
    series = read_series_csv(path, "Sunspots", time_col="Year")
    assert series.freq == "1"
    assert series.gaps == ["2 missing steps between 1702 and 1705", "1 missing step between 1706 and 1708"]


def test_missing_months_are_reported_as_gaps_and_the_frequency_still_found(tmp_path):
    text = "Month,Passengers\n" + "".join(
        f"1950-{m:02d}-01,{100 + m}\n" for m in (1, 2, 3, 7, 8, 9, 11, 12)
    )
    series = read_series_csv(_csv(tmp_path, text), "Passengers", time_col="Month")
    assert series.freq == "MS"
    assert series.gaps == [
        "3 missing steps between 1950-03-01 and 1950-07-01",
        "1 missing step between 1950-09-01 and 1950-11-01",
    ]


def test_short_hourly_series_with_a_gap_gets_the_most_common_step(tmp_path):
    path = _csv(tmp_path, "ts,y\n2020-01-01 00:00,1\n2020-01-01 01:00,2\n2020-01-01 03:00,3\n2020-01-01 04:00,4\n")
    series = read_series_csv(path, "y", time_col="ts")
    assert series.freq == "h"
    assert series.gaps == ["1 missing step between 2020-01-01 01:00:00 and 2020-01-01 03:00:00"]


def test_trading_days_with_a_holiday_are_business_days_whose_next_step_is_a_weekday(tmp_path):
    """A stock's closes (pmdarima's msft): weekdays only, 3 July 2015 a holiday. pandas infers no frequency,
    and most three-day stretches are one day apart; the weekends are no gaps, the holiday is one, and the
    step after a Friday is the Monday."""
    from lstmkit.tasks.forecast.timing import future_times

    days = pd.bdate_range("2015-06-15", "2015-07-31").drop(pd.Timestamp("2015-07-03"))
    path = _csv(tmp_path, "Date,Close\n" + "".join(f"{d:%Y-%m-%d},{40 + i / 10}\n" for i, d in enumerate(days)))
    series = read_series_csv(path, "Close", time_col="Date")
    assert (series.freq, series.gaps) == ("B", ["1 missing step between 2015-07-02 and 2015-07-06"])
    assert future_times(series, 3) == list(pd.to_datetime(["2015-08-03", "2015-08-04", "2015-08-05"]))
    every_day = pd.date_range("2015-06-15", "2015-07-31").drop(pd.Timestamp("2015-07-03"))  # weekends too: days
    path = _csv(tmp_path, "Date,y\n" + "".join(f"{d:%Y-%m-%d},{i}\n" for i, d in enumerate(every_day)), "daily.csv")
    assert read_series_csv(path, "y", time_col="Date").freq == "D"


def test_hours_across_a_clock_change_read_with_their_offsets_as_utc_and_without_them_repeat_with_a_hint(tmp_path):
    """Hourly local times over the end of summer time in Berlin: with their UTC offsets (+0200, then +0100) they
    are one hourly axis in UTC; without them, 02:00 comes twice, and the message says what to write."""
    hours = pd.date_range("2021-10-30 20:00", "2021-10-31 06:00", freq="h", tz="Europe/Berlin")
    path = _csv(tmp_path, "time,load\n" + "".join(f"{t:%Y-%m-%d %H:%M:%S%z},{i}\n" for i, t in enumerate(hours)))
    series = read_series_csv(path, "load", time_col="time")
    assert (series.freq, series.gaps, str(series.time.tz)) == ("h", [], "UTC") and len(series) == 12
    assert list(series.time) == list(hours.tz_convert("UTC"))
    path = _csv(tmp_path, "time,load\n" + "".join(f"{t:%Y-%m-%d %H:%M:%S},{i}\n" for i, t in enumerate(hours)), "local.csv")
    _raises(f"{path}: column 'time' has the time 2021-10-31 02:00:00 twice (rows 8 and 9); if these are local times "
            "where the clocks went back an hour, write each with its UTC offset (2021-10-31 02:00+02:00 the first time "
            "and +01:00 the second, in Central Europe) or in UTC", lambda: read_series_csv(path, "load", time_col="time"))  # fmt: skip
    days = "".join(f"2017-01-{d:02d},{d}\n" for d in range(1, 11))  # a daily axis given twice: its midnights repeat
    path = _csv(tmp_path, "date,sales\n" + days + days, "twice.csv")
    _raises(f"{path}: column 'date' has the time 2017-01-01 twice (rows 2 and 12)", lambda: read_series_csv(path, "sales", time_col="date"))


def test_irregular_times_have_no_frequency_and_no_gaps(tmp_path):
    path = _csv(tmp_path, "ts,y\n2020-01-01,1\n2020-01-05,2\n2020-01-06,3\n2020-02-17,4\n")
    series = read_series_csv(path, "y", time_col="ts")
    assert (series.freq, series.gaps) == (None, [])


def test_yearly_dates_get_a_yearly_frequency(tmp_path):
    path = _csv(tmp_path, "date,y\n2001-01-01,1\n2002-01-01,2\n2003-01-01,3\n")
    assert read_series_csv(path, "y", time_col="date").freq == "YS-JAN"


def test_unsorted_time_is_sorted_with_its_values(tmp_path):
    path = _csv(tmp_path, "Month,Passengers,x\n1949-03,132,3\n1949-01,112,1\n1949-02,118,2\n")
    series = read_series_csv(path, "Passengers", time_col="Month", features=["x"])
    assert list(series.time.strftime("%Y-%m")) == ["1949-01", "1949-02", "1949-03"]
    assert series.target.tolist() == [112, 118, 132]
    assert series.covariates[:, 0].tolist() == [1, 2, 3]


# --- messy but valid files -------------------------------------------------------------------------------


def test_spaces_around_header_names_and_cells_are_stripped(tmp_path):
    path = _csv(tmp_path, " Month , Passengers \n1949-01, 112 \n1949-02,118\n")
    series = read_series_csv(path, "Passengers", time_col="Month")
    assert series.target.tolist() == [112, 118]


def test_windows_line_endings_and_trailing_empty_lines(tmp_path):
    path = _csv(tmp_path, "Month,Passengers\r\n1949-01,112\r\n1949-02,118\r\n\r\n\r\n")
    assert read_series_csv(path, "Passengers", time_col="Month").target.tolist() == [112, 118]


def test_quoted_numbers_are_numbers(tmp_path):
    path = _csv(tmp_path, 'Month,Passengers\n"1949-01","112"\n"1949-02","118.5"\n')
    assert read_series_csv(path, "Passengers", time_col="Month").target.tolist() == [112, 118.5]


def test_semicolon_separated_file(tmp_path):
    path = _csv(tmp_path, "Month;Passengers\n1949-01;112\n1949-02;118\n")
    assert read_series_csv(path, "Passengers", time_col="Month").target.tolist() == [112, 118]


def test_tab_separated_file(tmp_path):
    path = _csv(tmp_path, "Month\tPassengers\n1949-01\t112\n1949-02\t118\n")
    assert read_series_csv(path, "Passengers", time_col="Month").target.tolist() == [112, 118]


def test_utf8_with_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfMonth,Passengers\n1949-01,112\n")
    assert read_series_csv(str(path), "Passengers", time_col="Month").target_name == "Passengers"


def test_na_cells_count_as_missing_values(tmp_path):
    path = _csv(tmp_path, "y\n1\nNA\nnan\n4\n")
    assert read_series_csv(path, "y", fill="interpolate").target.tolist() == [1, 2, 3, 4]


def test_freds_dot_counts_as_a_missing_value(tmp_path):
    # FRED's CSVs (DGS10, daily ten-year yields) mark a holiday without an observation with '.'
    path = _csv(tmp_path, "observation_date,DGS10\n2023-01-13,3.51\n2023-01-16,.\n2023-01-17,3.53\n")
    _raises(f"{path}: column 'DGS10' has 1 missing value (at row 3); fill it with fill=ffill|bfill|interpolate|zero "
            "or remove that row", lambda: read_series_csv(path, "DGS10", time_col="observation_date"))  # fmt: skip
    assert read_series_csv(path, "DGS10", fill="interpolate").target.tolist() == pytest.approx([3.51, 3.52, 3.53])


# --- the file itself -------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.csv")
    _raises(f"{path}: no such file", lambda: read_series_csv(path, "y"))


def test_directory(tmp_path):
    _raises(f"{tmp_path}: is a directory, expected a CSV file", lambda: read_series_csv(str(tmp_path), "y"))


def test_empty_file(tmp_path):
    path = _csv(tmp_path, "")
    _raises(f"{path}: the file is empty, expected a header row and data rows", lambda: read_series_csv(path, "y"))


def test_whitespace_only_file(tmp_path):
    path = _csv(tmp_path, "  \n\t\n\n")
    _raises(f"{path}: the file is empty, expected a header row and data rows", lambda: read_series_csv(path, "y"))


def test_header_only(tmp_path):
    path = _csv(tmp_path, "Month,Passengers\n\n")
    _raises(f"{path}: has a header but no data rows", lambda: read_series_csv(path, "Passengers"))


def test_binary_file(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR binary")
    _raises(f"{path}: looks like a binary file, expected a CSV text file", lambda: read_series_csv(str(path), "y"))


def test_latin1_file_names_the_byte_and_its_row_and_how_to_convert_it(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("city,y\nZürich,1\nBern,2\n".encode("latin-1"))
    _raises(
        f"{path}: cannot be read as UTF-8 text (byte 0xfc at position 8, row 2); save it as UTF-8 (read as "
        "Windows-1252, as Excel saves CSV files on Windows, row 2 is 'Zürich,1': if that is right, `iconv -f cp1252 "
        "-t utf-8 latin1.csv > utf8-latin1.csv` converts it)",
        lambda: read_series_csv(str(path), "y"),
    )
    path.write_bytes("city,y\nZ\x81rich,1".encode("latin-1"))  # 0x81: no character in Windows-1252, so no guess
    _raises(f"{path}: cannot be read as UTF-8 text (byte 0x81 at position 8, row 2); save it as UTF-8",
            lambda: read_series_csv(str(path), "y"))


def test_row_with_too_many_fields(tmp_path):
    path = _csv(tmp_path, "Month,Passengers\n1949-01,112\n1949-02,118,7\n")
    _raises(
        f"{path}: row 3 has 3 fields but the header has 2; remove the extra separator or put quotes around values "
        "that contain it",
        lambda: read_series_csv(path, "Passengers"),
    )


def test_a_file_without_a_header_is_named_as_such(tmp_path):
    path = _csv(tmp_path, "1949-01,112\n1949-02,118\n1949-03,132\n")
    _raises(f"{path}: no column 'Passengers': its first line holds values (1949-01, 112), not column names; add a "
            "header line naming the columns", lambda: read_series_csv(path, "Passengers", time_col="Month"))  # fmt: skip


def test_a_file_of_one_value_a_line_without_a_header_is_read_whole_as_the_column_value(tmp_path):
    # the UCR anomaly archive's files (KDD Cup 2021) are so: one value a line, numpy's savetxt spacing
    path = _csv(tmp_path, "  6.3732150e+01\n  6.3350680e+01\n\n  6.3022610e+01\n", "135_UCR_Anomaly_1200_4187_4199.txt")
    series = read_series_csv(path, "value")
    assert list(series.target) == pytest.approx([63.73215, 63.35068, 63.02261]) and series.target_name == "value"
    assert series.notes == ["the first line holds values, not column names: read as row 1, into the column 'value'"]
    path = _csv(tmp_path, "# sensor 3\n12.5\n13.5\nx\n")  # rows are still the file's lines
    _raises(f"{path}: column 'value' has a non-numeric value 'x' at row 4", lambda: read_series_csv(path, "value"))
    path = _csv(tmp_path, "12.5\n13.5\n")
    _raises(f"{path}: no column 'sales': its first line holds values (12.5), not column names; read without a header "
            "line, it has the column 'value' (target value), or add a header line naming the columns",
            lambda: read_series_csv(path, "sales"))  # fmt: skip
    path = _csv(tmp_path, "5,5,7\n6,4,8\n")  # a value twice on the first line: pandas renamed one, so it is not known
    _raises(f"{path}: no column 'value': its first line holds values (5, 5.1, 7), not column names; add a header line "
            "naming the columns", lambda: read_series_csv(path, "value"))  # fmt: skip


def test_a_title_right_above_the_table_is_named(tmp_path):
    path = _csv(tmp_path, "Retail sales\nMonth,Sales\n1949-01,112\n")  # pandas reads a table of one column, 'Retail sales'
    _raises(f"{path}: row 2 has 2 fields but the header (row 1) has 1; if the lines above row 2 are a title or "
            "notes, remove them: the header must be the first line", lambda: read_series_csv(path, "Sales"))  # fmt: skip


def test_lines_of_notes_above_the_table_ended_by_a_blank_line_are_not_read_and_a_note_says_so(tmp_path):
    # as statistics offices export a series: the BLS's 'Series Id: ...' lines (statsmodels' macrodata/src/unemp.csv),
    # a title and a source; the table below may have another separator and a trailing one on its header only
    from lstmkit.data.panel import read_panel_csv

    notes = "Series Id:           LNS14000000Q\n\nSeasonally Adjusted\nSeries title:        (Seas) Unemployment Rate\n\n\n"
    path = _csv(tmp_path, notes + "Series id;Year;Period;Value;\nLNS14000000Q;1959;Q01;5,8\nLNS14000000Q;1959;Q02;5,1\n"
                          "LNS14000000Q;1959;Q03;5,3\n")  # fmt: skip
    series = read_series_csv(path, "Value", time_col="Year,Period")
    assert list(series.target) == [5.8, 5.1, 5.3] and series.freq == "QS-OCT" and series.time_format == "%Y,Q0%q"
    assert series.notes == ["the table starts at row 7, below 3 lines of notes (the first: 'Series Id:           "
                            "LNS14000000Q'), which are not read"]  # fmt: skip
    path = _csv(tmp_path, notes + "Series id;Year;Period;Value\nLNS14000000Q;1959;Q01;x\n")
    _raises(f"{path}: column 'Value' has a non-numeric value 'x' at row 8", lambda: read_series_csv(path, "Value"))
    path = _csv(tmp_path, '"Retail sales, monthly"\n"Source: Office of Statistics"\n\nshop,Month,Sales\n'
                          'a,1949-01,112\na,1949-02,118\nb,1949-01,5\nb,1949-02,6\n')  # fmt: skip
    panel = read_panel_csv(path, "Sales", id_col="shop", time_col="Month")
    assert panel.ids == ["a", "b"] and list(panel.series[1].target) == [5, 6]
    assert [s.notes for s in panel.series] == [[
        "the table starts at row 4, below 2 lines of notes (the first: '\"Retail sales, monthly\"'), which are not read"], []]
    path = _csv(tmp_path, "Sales\n112\n\n118\n")  # one column, with a blank line: no notes
    assert list(read_series_csv(path, "Sales").target) == [112, 118]


def test_comment_lines_above_the_header_are_skipped_and_a_commented_header_is_read(tmp_path):
    # matplotlib's sample Stocks.csv opens with '# Data source: ...'; numpy's savetxt writes '# Month,Passengers'
    body = "1949-01,112\n1949-02,118\n1949-03,132\n"
    for text in (f"# Data source: https://example.org\n#\nMonth,Passengers\n{body}", f"# Month,Passengers\n{body}",
                 f"# Passengers per month\n#  Month,Passengers\n{body}"):  # fmt: skip
        series = read_series_csv(_csv(tmp_path, text), "Passengers", time_col="Month")
        assert list(series.values[:, 0]) == [112, 118, 132] and series.freq == "MS"
    # a first column named '#' (a row number: Kaggle's Pokémon table) is a column, not a comment
    series = read_series_csv(_csv(tmp_path, "#,Name,Total\n1,Bulbasaur,318\n2,Ivysaur,405\n3,Venusaur,525\n"), "Total", time_col="#")
    assert list(series.time) == [1, 2, 3] and list(series.target) == [318, 405, 525]
    path = _csv(tmp_path, "# Month,Passengers\n1949-01,112\n1949-02,x\n")  # rows count as the file's lines
    _raises(f"{path}: column 'Passengers' has a non-numeric value 'x' at row 3", lambda: read_series_csv(path, "Passengers"))
    path = _csv(tmp_path, "# nothing here\n\n#\n")
    _raises(f"{path}: has only comment lines (starting with #), expected a header row and data rows",
            lambda: read_series_csv(path, "Passengers"))


def test_columns_lined_up_by_spaces_are_read_as_r_numpy_and_jmulti_write_them(tmp_path):
    expected = [112, 118, 132]
    texts = [
        '"Month" "Passengers"\n"1" "1949-01" 112\n"2" "1949-02" 118\n"3" "1949-03" 132\n',  # R's write.table: row names
        "# Month Passengers\n1949-01 1.12e+02\n1949-02 1.18e+02\n1949-03 1.32e+02\n",  # numpy's savetxt, with header=
        "  Month    Passengers\n  1949-01         112\n  1949-02         118\n\n  1949-03   132\n",  # a fixed-width table
    ]  # fmt: skip
    for text in texts:
        series = read_series_csv(_csv(tmp_path, text, "data.txt"), "Passengers", time_col="Month")
        assert list(series.target) == expected and series.freq == "MS"
    path = _csv(tmp_path, "Month Passengers\n1949-01 112\n1949-02 x\n", "data.txt")
    _raises(f"{path}: column 'Passengers' has a non-numeric value 'x' at row 3", lambda: read_series_csv(path, "Passengers"))
    path = _csv(tmp_path, "-0.003 0.083\n0.018 0.083\n", "E6_jmulti.dat")  # JMulTi's: no header
    _raises(f"{path}: no column 'Dp': its first line holds values (-0.003, 0.083), not column names; read without a "
            "header line, it has the columns column1 and column2 (target column2), or add a header line naming the "
            "columns", lambda: read_series_csv(path, "Dp"))  # fmt: skip
    series = read_series_csv(path, "column1", features="column2")  # read so, its first line is data
    assert list(series.target) == [-0.003, 0.018] and list(series.covariates[:, 0]) == [0.083, 0.083]
    # one column whose name has a space is no table of two: the lines below are single values
    assert list(read_series_csv(_csv(tmp_path, "Monthly sales\n112\n118\n132\n"), "Monthly sales").target) == expected
    text = "review text,label\ngood film,1\nbad film,0\n"  # commas: the spaces are within the cells
    assert list(read_series_csv(_csv(tmp_path, text), "label").target) == [1, 0]


def test_quote_never_closed(tmp_path):
    path = _csv(tmp_path, 'Month,Passengers\n1949-01,112\n1949-02,"118\n1949-03,132\n')
    _raises(
        f"{path}: row 3 opens a quote that is never closed; close it or remove the quote character",
        lambda: read_series_csv(path, "Passengers"),
    )


def test_utf16_text_with_its_byte_order_mark_is_read(tmp_path):
    """As Excel saves "Unicode Text": UTF-16 (either byte order, with its mark) and tabs."""
    expected = read_series_csv(_csv(tmp_path, AIRLINE), "Passengers", time_col="Month")
    for encoding in ("utf-16", "utf-16-be"):
        path = tmp_path / f"{encoding}.txt"
        text = AIRLINE.replace(",", "\t")
        path.write_bytes(("\ufeff" + text if encoding == "utf-16-be" else text).encode(encoding))
        series = read_series_csv(path, "Passengers", time_col="Month")
        np.testing.assert_array_equal(series.target, expected.target)
    torn = tmp_path / "torn.txt"
    torn.write_bytes("y\n1\n".encode("utf-16") + b"\x00\xd8")  # a high surrogate with nothing after it
    _raises(f"{torn}: starts as UTF-16 text but cannot be read as such (position 10); save it as UTF-8",
            lambda: read_series_csv(torn, "y"))


# --- columns ---------------------------------------------------------------------------------------------


def test_misspelled_target_suggests_the_closest_column(tmp_path):
    path = _csv(tmp_path, AIRLINE)
    _raises(
        f"{path}: no column 'Passangers'; did you mean 'Passengers'? Columns: Month, Passengers",
        lambda: read_series_csv(path, "Passangers"),
    )


def test_column_differing_only_in_case_is_suggested(tmp_path):
    path = _csv(tmp_path, AIRLINE)
    _raises(
        f"{path}: no column 'passengers'; did you mean 'Passengers'? Columns: Month, Passengers",
        lambda: read_series_csv(path, "passengers"),
    )


def test_column_not_close_to_anything_lists_the_columns(tmp_path):
    path = _csv(tmp_path, AIRLINE)
    _raises(f"{path}: no column 'xyz'. Columns: Month, Passengers", lambda: read_series_csv(path, "xyz"))


def test_column_list_is_cut_after_twenty_names(tmp_path):
    names = [f"c{i}" for i in range(25)]
    path = _csv(tmp_path, ",".join(names) + "\n" + ",".join("1" * 25) + "\n")
    _raises(f"{path}: no column 'zzz'. Columns: {', '.join(names[:20])}, ...", lambda: read_series_csv(path, "zzz"))


def test_misspelled_time_column(tmp_path):
    path = _csv(tmp_path, AIRLINE)
    _raises(
        f"{path}: no column 'Mnth'; did you mean 'Month'? Columns: Month, Passengers",
        lambda: read_series_csv(path, "Passengers", time_col="Mnth"),
    )


def test_misspelled_feature(tmp_path):
    path = _csv(tmp_path, "Month,Passengers,Temperature\n1949-01,112,3\n")
    _raises(
        f"{path}: no column 'Temprature'; did you mean 'Temperature'? Columns: Month, Passengers, Temperature",
        lambda: read_series_csv(path, "Passengers", features=["Temprature"]),
    )


def test_target_cannot_be_the_time_column(tmp_path):
    _raises(
        "the target column 'Month' cannot also be the time column; choose another time_col",
        lambda: read_series_csv(_csv(tmp_path, AIRLINE), "Month", time_col="Month"),
    )


def test_target_cannot_be_a_feature(tmp_path):
    _raises(
        "the target column 'Passengers' cannot also be a feature; remove it from features",
        lambda: read_series_csv(_csv(tmp_path, AIRLINE), "Passengers", features=["Passengers"]),
    )


# --- cells -----------------------------------------------------------------------------------------------


def test_non_numeric_cell_names_its_row(tmp_path):
    path = _csv(tmp_path, AIRLINE + "1949-06,abc\n")
    _raises(
        f"{path}: column 'Passengers' has a non-numeric value 'abc' at row 7",
        lambda: read_series_csv(path, "Passengers", time_col="Month"),
    )


def test_a_value_given_as_under_a_limit_is_named_as_such(tmp_path):
    # Google Trends' export: notes above the table, and '<1' for a week's interest under 1
    path = _csv(tmp_path, "Category: All categories\n\nWeek,lstm: (Worldwide)\n2020-01-05,45\n2020-01-12,<1\n")
    _raises(f"{path}: column 'lstm: (Worldwide)' has a non-numeric value '<1' at row 5; '<1' says only that the value "
            "is under a limit: write the number to read in its place (half the limit is a common choice)",
            lambda: read_series_csv(path, "lstm: (Worldwide)", time_col="Week"))  # fmt: skip


def test_number_with_thousands_separator_is_not_a_number(tmp_path):
    path = _csv(tmp_path, 'Month,Passengers\n1949-01,"1,234"\n')
    _raises(
        f"{path}: column 'Passengers' has a non-numeric value '1,234' at row 2; write numbers without thousands "
        "separators and with a dot as the decimal mark",
        lambda: read_series_csv(path, "Passengers"),
    )


def test_thousands_grouped_beside_a_decimal_point_are_read(tmp_path):
    # as a spreadsheet in English formats money: the decimal point says the commas group thousands
    path = _csv(tmp_path, 'Month,Sales\n1949-01,"1,234.50"\n1949-02,999.25\n1949-03,"-12,345,678.0"\n1949-04,\n')
    np.testing.assert_array_equal(read_series_csv(path, "Sales", fill="ffill").target, [1234.5, 999.25, -12345678.0, -12345678.0])
    path = _csv(tmp_path, 'Month,Sales\n1949-01,"1,234"\n1949-02,"1,23.5"\n', "odd.csv")  # no group of three: no number
    _raises(f"{path}: column 'Sales' has a non-numeric value '1,234' at row 2; write numbers without thousands "
            "separators and with a dot as the decimal mark", lambda: read_series_csv(path, "Sales"))  # fmt: skip


def test_a_currency_or_percent_sign_on_every_value_of_a_column_is_read_past(tmp_path):
    # as spreadsheets export formatted cells: money, and rates in percent (kept in percent, as the cells show them)
    path = _csv(tmp_path, 'm,sales,rate\n1,"$1,234.50",5.2%\n2,-$5,-0.1%\n3,$-2.5,NA\n4,$12,10%\n')
    series = read_series_csv(path, "sales", time_col="m", features=["rate"], fill="ffill")
    np.testing.assert_array_equal(series.target, [1234.5, -5, -2.5, 12])
    np.testing.assert_array_equal(series.covariates[:, 0], [5.2, -0.1, -0.1, 10])
    path = _csv(tmp_path, "m,sales\n1,$12\n2,15\n", "mixed.csv")  # a sign on some values only: which are money?
    _raises(f"{path}: column 'sales' has a non-numeric value '$12' at row 2", lambda: read_series_csv(path, "sales"))
    path = _csv(tmp_path, "m,sales\n1,$12\n2,€15\n", "two.csv")
    _raises(f"{path}: column 'sales' has a non-numeric value '$12' at row 2", lambda: read_series_csv(path, "sales"))


def test_a_column_of_true_and_false_is_read_as_one_and_zero(tmp_path):
    # pandas' booleans, as to_csv writes them (and a DataFrame's bool column): a holiday or promotion flag
    path = _csv(tmp_path, "m,sales,holiday,open\n1,10,False,TRUE\n2,12,True,true\n3,11,,false\n")
    series = read_series_csv(path, "sales", time_col="m", features=["holiday", "open"], fill="zero")
    np.testing.assert_array_equal(series.covariates, [[0, 1], [1, 1], [0, 0]])
    path = _csv(tmp_path, "m,sales,holiday\n1,10,True\n2,12,3\n", "mixed.csv")  # a flag beside a number: which is it?
    _raises(f"{path}: column 'holiday' has a non-numeric value 'True' at row 2", lambda: read_series_csv(path, "sales", features=["holiday"]))


def test_a_semicolon_separated_export_with_decimal_commas_is_read(tmp_path):
    """As a spreadsheet in most of Europe exports it: ';' between cells, ',' as the decimal mark, '.' between
    thousands; dates with dots stay dates, and a missing cell stays missing."""
    path = _csv(tmp_path, "Datum;Umsatz;Preis\n13.01.2020;1.234,5;3\n14.01.2020;-7,25;n/a\n15.01.2020;12;4,5e1\n")
    series = read_series_csv(path, "Umsatz", time_col="Datum", features=["Preis"], fill="ffill")
    np.testing.assert_array_equal(series.target, [1234.5, -7.25, 12.0])
    np.testing.assert_array_equal(series.covariates[:, 0], [3.0, 3.0, 45.0])
    assert list(series.time.strftime("%Y-%m-%d")) == ["2020-01-13", "2020-01-14", "2020-01-15"]


def test_commas_that_may_separate_thousands_are_not_read_as_decimal_commas(tmp_path):
    path = _csv(tmp_path, "Month;Passengers\n1949-01;1,234\n1949-02;2,500\n")
    _raises(
        f"{path}: column 'Passengers' has a non-numeric value '1,234' at row 2; write numbers without thousands "
        "separators and with a dot as the decimal mark",
        lambda: read_series_csv(path, "Passengers"),
    )


def test_rows_count_blank_lines_as_in_an_editor(tmp_path):
    path = _csv(tmp_path, "y\n1\n\n2\nabc\n")
    _raises(f"{path}: column 'y' has a non-numeric value 'abc' at row 5", lambda: read_series_csv(path, "y"))


def test_missing_values_are_counted_with_the_first_row(tmp_path):
    path = _csv(tmp_path, "Month,Passengers\n1949-01,112\n1949-02,\n1949-03,\n1949-04,129\n1949-05,\n")
    _raises(
        f"{path}: column 'Passengers' has 3 missing values (first at row 3); fill them with "
        "fill=ffill|bfill|interpolate|zero or remove those rows",
        lambda: read_series_csv(path, "Passengers", time_col="Month"),
    )


def test_one_missing_value(tmp_path):
    path = _csv(tmp_path, "y,x\n1,1\n2,\n")
    _raises(
        f"{path}: column 'x' has 1 missing value (at row 3); fill it with fill=ffill|bfill|interpolate|zero "
        "or remove that row",
        lambda: read_series_csv(path, "y", features=["x"]),
    )


@pytest.mark.parametrize(
    "fill, expected",
    [
        ("ffill", [1, 1, 1, 4, 4, 6, 6]),
        ("bfill", [1, 1, 4, 4, 6, 6, 6]),
        ("interpolate", [1, 1, 2.5, 4, 5, 6, 6]),
        ("zero", [0, 1, 0, 4, 0, 6, 0]),
    ],
)
def test_each_fill_choice_fills_every_missing_value(tmp_path, fill, expected):
    path = _csv(tmp_path, "t,y\n1,\n2,1\n3,\n4,4\n5,\n6,6\n7,\n")
    assert read_series_csv(path, "y", time_col="t", fill=fill).target.tolist() == expected


def test_fill_runs_in_time_order(tmp_path):
    path = _csv(tmp_path, "t,y\n3,3\n1,1\n2,\n")
    assert read_series_csv(path, "y", time_col="t", fill="ffill").target.tolist() == [1, 1, 3]


def test_unknown_fill_lists_the_choices(tmp_path):
    _raises(
        "unknown fill 'mean'; choose one of ffill, bfill, interpolate, zero",
        lambda: read_series_csv(_csv(tmp_path, AIRLINE), "Passengers", fill="mean"),
    )


def test_column_without_any_value(tmp_path):
    path = _csv(tmp_path, "y,x\n1,\n2,\n")
    _raises(
        f"{path}: column 'x' has no values (all 2 cells are empty)",
        lambda: read_series_csv(path, "y", features=["x"], fill="zero"),
    )


def test_infinite_value_is_an_error_even_with_a_fill(tmp_path):
    path = _csv(tmp_path, "y,x\n1,2\n2,\n3,inf\n")
    _raises(
        f"{path}: column 'x' has an infinite value at row 4",
        lambda: read_series_csv(path, "y", features=["x"], fill="ffill"),
    )


# --- the time column -------------------------------------------------------------------------------------


def test_unparsable_time_names_its_row_and_value(tmp_path):
    path = _csv(tmp_path, AIRLINE + "foo,140\n")
    _raises(
        f"{path}: column 'Month' cannot be read as time at row 7 (value 'foo'); expected dates (e.g. 1949-01) "
        "or integers (e.g. years)",
        lambda: read_series_csv(path, "Passengers", time_col="Month"),
    )


def test_empty_time_cell(tmp_path):
    path = _csv(tmp_path, "Month,Passengers\n1949-01,112\n,118\n")
    _raises(
        f"{path}: column 'Month' has no time at row 3 (empty cell); fill it in or remove that row",
        lambda: read_series_csv(path, "Passengers", time_col="Month"),
    )


def test_mixed_date_formats_are_read(tmp_path):
    path = _csv(tmp_path, "date,y\n2020-01-01,1\n2020/01/02,2\nJan 3 2020,3\n")
    series = read_series_csv(path, "y", time_col="date")
    assert list(series.time.strftime("%Y-%m-%d")) == ["2020-01-01", "2020-01-02", "2020-01-03"]
    assert series.freq == "D"


def test_duplicate_time_names_both_rows(tmp_path):
    path = _csv(tmp_path, "Month,Passengers\n1950-01,1\n1950-02,2\n1950-02,3\n")
    _raises(
        f"{path}: column 'Month' has the time 1950-02-01 twice (rows 3 and 4)",
        lambda: read_series_csv(path, "Passengers", time_col="Month"),
    )


def test_time_given_three_times(tmp_path):
    path = _csv(tmp_path, "Year,y\n1700,1\n1701,2\n1700,3\n1700,4\n")
    _raises(
        f"{path}: column 'Year' has the time 1700 3 times (rows 2, 4 and 5)",
        lambda: read_series_csv(path, "y", time_col="Year"),
    )


@pytest.mark.parametrize("sub, cells, what, months, freq", [
    ("qtr", ["1", "2", "3", "4"], "quarter", [1, 4, 7, 10, 1], "QS"),
    ("qtr", ["Q1", "Q2", "q3", "Q4"], "quarter", [1, 4, 7, 10, 1], "QS"),
    ("month", ["1", "4", "7", "10"], "month", [1, 4, 7, 10, 1], "QS"),
    ("month", ["Jan", "feb", "MARCH", "Apr"], "month", [1, 2, 3, 4, 1], "MS"),  # names: months, not quarters
])
def test_a_time_split_over_a_year_and_a_quarter_or_month_column_is_named_and_read(tmp_path, sub, cells, what, months, freq):
    # statsmodels' macrodata and interest_inflation datasets write a year and its quarter so
    rows = "".join(f"{1970 + i // 4},{cells[i % 4]},{i % 7},{10 + i}\n" for i in range(8))
    path = _csv(tmp_path, f"year,{sub},promo,sales\n{rows}")
    if what == "month" and cells[0] == "1":
        _raises(
            f"{path}: column 'year' has the time 1970 4 times (rows 2, 3, 4 and 5); the time seems split over 'year' "
            f"and the {what} in '{sub}': give time_col as year,{sub}",
            lambda: read_series_csv(path, "sales", time_col="year", features=["promo"]),
        )
    series = read_series_csv(path, "sales", time_col=f"year,{sub}", features=["promo"])
    assert series.time.name == f"year,{sub}"
    assert list(series.time.month[:5]) == months and list(series.time.year[[0, 3, 4]]) == [1970, 1970, 1971]
    assert series.freq.startswith(freq)
    assert list(series.values[:, 0]) == [10.0 + i for i in range(8)]


def test_a_time_split_over_a_year_month_and_day_reads_days_and_bad_parts_are_named(tmp_path):
    rows = "".join(f"2020,{1 + d // 31},{1 + d % 31},{d}\n" for d in range(31 + 29))  # January, then February
    path = _csv(tmp_path, "y,m,d,sales\n" + rows)
    series = read_series_csv(path, "sales", time_col="y,m,d")
    assert series.freq == "D" and series.time[-1] == pd.Timestamp("2020-02-29") and series.time_format == "%Y,%-m,%-d"
    for text, message in [
        ("y,q,sales\n2020,Q1,1\n2020,Q5,2\n", "row 3 (value '2020,Q5'); expected a year and its quarter (1-4)"),
        ("y,m,sales\n2020,1,1\n2020,13,2\n", "row 3 (value '2020,13'); expected a year and its month (1-12 or its name)"),
        ("y,m,sales\n2020,Jan,1\n2020,Foo,2\n", "row 3 (value '2020,Foo'); expected a year and its month (1-12 or its name)"),
        ("y,m,d,sales\n2020,2,28,1\n2020,2,30,2\n", "row 3 (value '2020,2,30'); expected dates (e.g. 1949-01) or integers (e.g. years)"),
        ("y,q,sales\n2020,1,1\n20x0,2,2\n", "row 3 (value '20x0,2'); expected a year and its quarter or month, as row 2 has it ('2020,1')"),
    ]:
        path = _csv(tmp_path, text)
        columns = text.split("\n")[0].rsplit(",", 1)[0]
        _raises(f"{path}: column '{columns}' cannot be read as time at {message}",
                lambda: read_series_csv(path, "sales", time_col=columns))
    path = _csv(tmp_path, "y,q,sales\n2020,1,1\n2020,,2\n")
    _raises(f"{path}: column 'y,q' has no time at row 3 (empty cell); fill it in or remove that row",
            lambda: read_series_csv(path, "sales", time_col="y,q"))
    _raises("time_col gives the columns y,q,sales,y; a time split over columns is given as a year's, then its "
            "quarter's or month's (and the month's day's), e.g. year,quarter",
            lambda: read_series_csv(path, "sales", time_col="y,q,sales,y"))
    _raises(f"{path}: no column 'w'. Columns: y, q, sales", lambda: read_series_csv(path, "sales", time_col="y,w"))


def test_a_table_of_a_year_a_row_and_a_month_a_column_is_read_as_one_monthly_series(tmp_path):
    # as statsmodels' elnino, NOAA's and the BLS's tables: this year's months to come are empty
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    rows = [f"{1950 + y},{','.join(str(12 * y + m) for m in range(12))},{y}\n" for y in range(3)]
    path = _csv(tmp_path, f'"YEAR",{",".join(months)},ANNUAL\n' + "".join(rows) + "1953,36,37,,,,,,,,,,,\n")
    series = read_series_csv(path, "temperature")
    assert series.time.name == "month" and series.freq == "MS" and series.time_format == "%Y-%m"
    assert series.time[0] == pd.Timestamp("1950-01-01") and series.time[-1] == pd.Timestamp("1953-02-01")
    assert list(series.target) == list(range(38)) and series.target_name == "temperature"
    assert series.notes == ["a year a row and a month a column ('YEAR', then JAN to DEC): read as one monthly series "
                            "of 38 months, 'temperature'"]  # fmt: skip
    assert read_series_csv(path, "temperature", time_col="YEAR").time.equals(series.time)
    january = read_series_csv(path, "JAN", time_col="YEAR")  # a month's column, named: that month of each year
    assert list(january.time) == [1950, 1951, 1952, 1953] and list(january.target) == [0, 12, 24, 36]
    _raises(f"{path}: has a year a row and a month a column, read as one monthly series of 't'; its time is in the "
            "years' column 'YEAR' and the months', not 'ANNUAL': leave time_col out",
            lambda: read_series_csv(path, "t", time_col="ANNUAL"))  # fmt: skip
    path = _csv(tmp_path, f'"YEAR",{",".join(months)}\n1950,1,2,3,x,5,6,7,8,9,10,11,12\n1951,1,2,3,4,5,6,7,8,9,10,11,12\n')
    _raises(f"{path}: column 't' has a non-numeric value 'x' at row 2", lambda: read_series_csv(path, "t"))


def test_a_table_of_a_series_a_row_and_a_time_a_column_is_read_as_a_series_per_row(tmp_path):
    # as the World Bank's exports (statsmodels' fertility.csv): the years before a series starts and those not yet
    # published are empty, a trailing separator ends each line, and a code and the indicator's name are not values
    from lstmkit.data.panel import read_panel_csv

    header = "Country Name,Country Code,Indicator Name," + ",".join(str(y) for y in range(1990, 1998)) + ",\n"
    lines = ["Aruba,ABW,Fertility,1,2,3,4,5,6,7,,\n", "Andorra,AND,Fertility,,,,10,11,12,13,14,\n",
             "Monaco,MCO,Fertility,,,,,,,,,\n", "Chad,TCD,Fertility,20,21,22,23,24,25,26,27,\n"]  # fmt: skip
    path = _csv(tmp_path, header + "".join(lines))
    panel = read_panel_csv(path, "fertility", id_col="Country Name")
    assert panel.ids == ["Aruba", "Andorra", "Chad"] and panel.id_col == "Country Name"
    aruba, andorra, chad = panel.series
    assert list(aruba.time) == list(range(1990, 1997)) and aruba.time.name == "time" and aruba.freq == "1"
    assert list(andorra.time) == list(range(1993, 1998)) and list(andorra.target) == [10, 11, 12, 13, 14]
    assert list(chad.target) == list(range(20, 28)) and chad.target_name == "fertility" and chad.notes == []
    assert aruba.notes == ["a series a row and a time a column (1990 to 1997): read as 3 series of 'fertility' over "
                           "the times the columns name, 'Country Code' and 'Indicator Name' not read; 1 row with no "
                           "value left out (first: row 4)"]  # fmt: skip
    _raises(f"{path}: has a series a row and a time a column (1990 to 1997), 4 rows: give the column that names "
            "each row's series as id_col ('Country Name' holds a different name on each row)",
            lambda: read_series_csv(path, "fertility"))  # fmt: skip
    _raises(f"{path}: has a series a row and a time a column (1990 to 1997), read as series of 'fertility'; its times "
            "are the columns' names, not a column 'Country Code': leave time_col out",
            lambda: read_panel_csv(path, "fertility", id_col="Country Name", time_col="Country Code"))  # fmt: skip
    with pytest.raises(DataError, match="has a different value on each of its 4 rows"):  # a year's column, named
        read_panel_csv(path, "1991", id_col="Country Name")
    path = _csv(tmp_path, "Country Name,1990,1991,1992\nAruba,1,x,3\nChad,2,3,4\n")
    _raises(f"{path}: column '1991' has a non-numeric value 'x' at row 2",
            lambda: read_panel_csv(path, "fertility", id_col="Country Name"))
    # the M4 competition's files: the id in V1, then a step a column, each series' last steps empty past its end
    path = _csv(tmp_path, '"V1","V2","V3","V4","V5"\n"M1",1,2,3,4\n"M2",5,6,7,\n"M3",8,9,10,\n')
    panel = read_panel_csv(path, "sales", id_col="V1")
    assert panel.ids == ["M1", "M2", "M3"] and list(panel.series[1].time) == [2, 3, 4] and panel.series[1].freq == "1"
    assert panel.series[0].notes == ["a series a row and a time a column (V2 to V5): read as 3 series of 'sales' over "
                                     "the times the columns name"]  # fmt: skip
    # numbered columns of a long table (its ids repeat) are no steps: a target naming no column is named as such
    path = _csv(tmp_path, "store,lag1,lag2,lag3,sales\na,1,2,3,4\na,2,3,4,5\nb,1,2,3,4\n")
    _raises(f"{path}, series 'a': no column 'sails'; did you mean 'sales'? Columns: lag1, lag2, lag3, sales",
            lambda: read_panel_csv(path, "sails", id_col="store"))
    # Eurostat's TSV: the dimensions joined in the first column, a month a column, ':' no value, flags after values
    text = ("freq,unit,geo\\TIME_PERIOD\t2020-01 \t2020-02 \t2020-03 \t2020-04 \nM,PC_ACT,AT\t4.5 \t4.6 p\t: \t5.0 ep\n"
            "M,PC_ACT,DE\t: c\t3.1 \t3.2 \t3.3 \n")  # fmt: skip
    panel = read_panel_csv(_csv(tmp_path, text, "une_rt_m.tsv"), "unemployment", id_col="geo", fill="interpolate")
    assert panel.ids == ["AT", "DE"] and panel.series[0].freq == "MS" and list(panel.series[0].target) == [4.5, 4.6, 4.8, 5.0]
    assert panel.series[1].time[0] == pd.Timestamp("2020-02-01") and list(panel.series[1].target) == [3.1, 3.2, 3.3]
    assert panel.series[0].notes[0] == ("Eurostat's layout: the first column's 3 dimensions (freq, unit, geo) read as "
                                        "columns of their own, ':' as no value, and the flags after values (p, e, b...) "
                                        "not read")  # fmt: skip
    path = _csv(tmp_path, "Indicator,2020M01,2020M02,2020M03,2020M04\nSales,5,6,,8\n")  # one row: one series
    series = read_series_csv(path, "sales", fill="interpolate")
    assert series.freq == "MS" and list(series.target) == [5, 6, 7, 8] and series.time[0] == pd.Timestamp("2020-01-01")


def test_a_series_read_without_its_date_column_gets_a_note_naming_it(tmp_path):
    # R's write.csv writes row numbers first: they are no time axis
    path = _csv(tmp_path, '"","Month","Passengers"\n' + "".join(f'"{m}","1949-{m:02d}",{100 + m}\n' for m in range(1, 13)))
    assert read_series_csv(path, "Passengers").notes == [
        "column 'Month' holds dates (1949-01 to 1949-12), but no time column was given, so the steps are numbered and "
        "the season is read from the values alone: give it as the time column (--time-col Month) to put the steps on its calendar"]  # fmt: skip
    assert read_series_csv(path, "Passengers", time_col="Month").notes == []
    path = _csv(tmp_path, "day,store,sales\n" + "".join(f"{d},s{d % 2},{d}\n" for d in range(1, 13)))  # no dates
    assert read_series_csv(path, "sales").notes == []


def test_an_unnamed_first_column_of_times_is_the_time_column_as_pandas_writes_an_index(tmp_path):
    months = pd.Series(range(100, 112), index=pd.date_range("1949-01-01", periods=12, freq="MS"), name="Passengers")
    months.to_csv(tmp_path / "months.csv")  # ',Passengers' then '1949-01-01,100'
    series = read_series_csv(tmp_path / "months.csv", "Passengers")
    assert series.time.name == "time" and series.freq == "MS" and list(series.target) == list(range(100, 112))
    assert series.notes == ["the first column, unnamed (as pandas' to_csv writes an index), holds the times (1949-01-01 "
                            "to 1949-12-01): read as the time column, 'time'"]  # fmt: skip
    years = pd.Series([269, 321, 585], index=[1821, 1822, 1823]).rename("0")  # sktime's Lynx.csv: ',0' then '1821,269'
    years.to_csv(tmp_path / "years.csv")
    assert list(read_series_csv(tmp_path / "years.csv", "0").time) == [1821, 1822, 1823]
    months.reset_index(drop=True).to_csv(tmp_path / "rows.csv")  # row numbers 0, 1, 2...: no time axis
    assert read_series_csv(tmp_path / "rows.csv", "Passengers").time is None
    path = _csv(tmp_path, '"","Passengers"\n"1",100\n"2",101\n"3",102\n')  # R's write.csv: row names 1, 2, 3...
    assert read_series_csv(path, "Passengers").time is None


def _stores(tmp_path, families=("AUTOMOTIVE", "BEAUTY")):
    """Long-format daily sales, as Favorita's: a row per date, store and product family."""
    rows = [f"2017-01-{d:02d},{store},{family},{10 * store + d}\n" for store in (1, 2) for family in families
            for d in range(1, 11)]  # fmt: skip
    return _csv(tmp_path, "date,store_nbr,family,sales\n" + "".join(rows), "stores.csv")


def test_long_data_read_as_one_series_names_the_columns_that_tell_its_series_apart(tmp_path):
    path = _stores(tmp_path)
    _raises(f"{path}: column 'date' has the time 2017-01-01 4 times (rows 2, 12, 22 and 32); the rows with the same "
            "time differ in 'store_nbr' and 'family': if they name series, give id_col as store_nbr,family", lambda: read_series_csv(path, "sales", time_col="date"))  # fmt: skip
    path = _stores(tmp_path, families=("AUTOMOTIVE",))  # store 1 and store 2 only: not a quarter of the date
    _raises(f"{path}: column 'date' has the time 2017-01-01 twice (rows 2 and 12); the rows with the same time "
            "differ in 'store_nbr': if it says which series a row is of, give it as id_col",
            lambda: read_series_csv(path, "sales", time_col="date"))  # fmt: skip


def test_an_id_column_that_names_part_of_each_series_is_told_what_else_names_it(tmp_path):
    from lstmkit.data.panel import read_panel_csv

    path = _stores(tmp_path)
    _raises(f"{path}, series '1': column 'date' has the time 2017-01-01 twice (rows 2 and 12); the rows with the same "
            "time differ in 'family': if it names series too, give id_col as store_nbr,family", lambda: read_panel_csv(path, "sales", id_col="store_nbr", time_col="date"))  # fmt: skip


def test_a_column_that_does_not_tell_repeated_times_apart_is_no_hint(tmp_path):
    # 'qtr' repeats within 1970, and 'sales' (whole numbers 1-12, unique within the year) is the value read
    path = _csv(tmp_path, "year,qtr,sales\n1970,1,1\n1970,1,2\n1970,2,3\n1971,1,4\n")
    _raises(f"{path}: column 'year' has the time 1970 3 times (rows 2, 3 and 4)",
            lambda: read_series_csv(path, "sales", time_col="year"))


# --- length, split, scaler -------------------------------------------------------------------------------


def test_too_few_rows_for_lookback_and_horizon():
    _raises(
        "air.csv: has 30 rows, too few for lookback 24 + horizon 12; the training part needs at least 45 rows (10 "
        "windows of 36 rows, one step apart) and the validation and test parts at least 12 rows each, so at least 69 "
        "rows with val_frac 0.15 and test_frac 0.15; use a shorter lookback or horizon, or more data",
        lambda: check_length(30, 24, 12, path="air.csv"),
    )


def test_too_few_rows_without_a_validation_part():
    _raises(
        "air.csv: has 10 rows, too few for lookback 6 + horizon 3; the training part needs at least 18 rows (10 "
        "windows of 9 rows, one step apart) and the test part at least 3 rows, so at least 22 rows with val_frac 0 "
        "and test_frac 0.2; use a shorter lookback or horizon, or more data",
        lambda: check_length(10, 6, 3, val_frac=0, test_frac=0.2, path="air.csv"),
    )


def test_too_few_rows_before_a_backtest_counts_every_row_of_the_file():
    # 60 monthly values, horizon 18, one backtest origin: 42 rows before it, which need 53 (ten windows of 26
    # rows and a validation part of one horizon); the file needs 71
    _raises(
        "m1.csv: has 60 rows (42 before the backtest's 18), too few for horizon 18 after the default lookback 8 (its "
        "shortest); the training part needs at least 35 rows (10 windows of 26 rows, one step apart) and the "
        "validation part at least 18 rows, so at least 71 rows with val_frac 0.15 and backtest 1; use a shorter "
        "lookback or horizon, or more data",
        lambda: check_length(60, 8, 18, path="m1.csv", lookback_given=False, backtest=1),
    )
    check_length(71, 8, 18, backtest=1)
    with pytest.raises(DataError):
        check_length(70, 8, 18, backtest=1)


def test_the_training_part_must_hold_ten_windows_not_just_one():
    # 25 rows split 17 / 4 / 4: lookback 8 + horizon 1 fit in 9 rows, so 17 training rows hold 9 windows
    _raises(
        "tiny.csv: has 25 rows, too few for lookback 8 + horizon 1; the training part needs at least 18 rows (10 "
        "windows of 9 rows, one step apart) and the validation and test parts at least 1 row each, so at least 26 "
        "rows with val_frac 0.15 and test_frac 0.15; use a shorter lookback or horizon, or more data",
        lambda: check_length(25, 8, 1, path="tiny.csv"),
    )
    check_length(26, 8, 1)  # split 18 / 4 / 4: ten windows


def test_the_minimum_length_is_exactly_enough():
    n = min_series_length(24, 12, at_least=12)  # check_length's parts: validation and test a horizon at least
    check_length(n, 24, 12)
    with pytest.raises(DataError):
        check_length(n - 1, 24, 12)


def test_the_rows_needed_are_enough_for_every_longer_series_too():
    # 16 rows split 12 / 2 / 2 hold ten windows of 3 rows, 17 rows split 11 / 3 / 3 do not: 18 is the answer
    check_length(16, 2, 1)
    _raises(
        "x.csv: has 17 rows, too few for lookback 2 + horizon 1; the training part needs at least 12 rows (10 "
        "windows of 3 rows, one step apart) and the validation and test parts at least 1 row each, so at least 18 "
        "rows with val_frac 0.15 and test_frac 0.15; use a shorter lookback or horizon, or more data",
        lambda: check_length(17, 2, 1, path="x.csv"),
    )
    for n in range(18, 300):
        check_length(n, 2, 1)


def test_a_part_a_fraction_makes_shorter_than_a_horizon_gets_one_horizon_and_only_such_a_part_changes():
    # 108 months, horizon 18: 0.15 of them is 16 rows, fewer than one window's targets; the part gets 18
    assert split_by_time(108, 0.15, 0.15, at_least=18) == (slice(0, 72), slice(72, 90), slice(90, 108))
    assert split_by_time(108, 0, 0.15, at_least=18) == (slice(0, 90), slice(90, 90), slice(90, 108))  # none asked for
    check_length(108, 24, 18)  # it trains: 72 rows hold ten windows of 42
    for n in range(1, 400):
        for horizon in (1, 4, 12, 18):
            plain = split_by_time(n, 0.15, 0.15)
            if min(len(range(n)[plain[1]]), len(range(n)[plain[2]])) >= horizon:  # a split that already held a window each
                assert split_by_time(n, 0.15, 0.15, at_least=horizon) == plain


@pytest.mark.parametrize("val_frac, test_frac", [(0.15, 0.15), (0.1, 0.3), (0.2, 0), (0, 0.05)])
def test_the_rows_needed_are_the_fewest_from_which_every_length_holds(val_frac, test_frac):
    for lookback, horizon in [(2, 1), (8, 6), (24, 12), (24, 18), (30, 5)]:
        n = min_series_length(lookback, horizon, val_frac, test_frac, at_least=horizon)
        with pytest.raises(DataError):
            check_length(n - 1, lookback, horizon, val_frac=val_frac, test_frac=test_frac)
        for longer in range(n, n + 300):
            check_length(longer, lookback, horizon, val_frac=val_frac, test_frac=test_frac)


def test_fewer_training_windows_only_when_asked_for():
    assert (min_series_length(8, 1), min_series_length(8, 1, train_windows=1)) == (26, 13)
    check_length(13, 8, 1, train_windows=1)


def test_the_default_lookback_is_shortened_to_leave_ten_windows_but_not_below_8():
    assert default_lookback(24, n_train=100, horizon=12) == 24  # the airline: room for 79
    assert default_lookback(24, n_train=40, horizon=12) == 19  # 40 - 12 - 9: ten windows of 31 rows
    assert default_lookback(24, n_train=4, horizon=1) == 8  # the floor; check_length then refuses the series


def test_split_by_time_puts_test_last_and_validation_just_before():
    assert split_by_time(100, 0.15, 0.15) == (slice(0, 70), slice(70, 85), slice(85, 100))
    assert split_by_time(144, 0.15, 0.15) == (slice(0, 100), slice(100, 122), slice(122, 144))


def test_split_without_validation_part():
    assert split_by_time(10, 0, 0.2) == (slice(0, 8), slice(8, 8), slice(8, 10))


@pytest.mark.parametrize(
    "val_frac, test_frac, message",
    [
        (1.0, 0.1, "val_frac must be a number in [0, 1), got 1.0"),
        (0.1, -0.1, "test_frac must be a number in [0, 1), got -0.1"),
        (0.5, 0.5, "val_frac + test_frac must be below 1 to leave rows for training, got 0.5 + 0.5"),
    ],
)
def test_split_fractions_are_checked(val_frac, test_frac, message):
    _raises(message, lambda: split_by_time(100, val_frac, test_frac), error=ConfigError)


def test_scaler_uses_the_training_rows_only():
    values = np.arange(20, dtype=np.float64).reshape(10, 2)
    train, _, _ = split_by_time(10, 0.2, 0.2)
    scaler = Scaler().fit(values[train])
    assert scaler.mean_.tolist() == values[:6].mean(axis=0).tolist()
    assert scaler.scale_.tolist() == values[:6].std(axis=0).tolist()


def test_changing_test_values_does_not_change_the_scaler():
    values = np.random.default_rng(0).normal(size=(50, 3))
    train, _, test = split_by_time(50)
    before = Scaler().fit(values[train]).to_dict()
    values[test] = 1e6
    assert Scaler().fit(values[train]).to_dict() == before


def test_constant_column_gets_scale_one():
    scaler = Scaler().fit(np.array([[5.0, 1.0], [5.0, 3.0]]))
    assert scaler.scale_.tolist() == [1.0, 1.0]
    assert scaler.transform(np.array([[5.0, 2.0]])).tolist() == [[0.0, 0.0]]


def test_inverse_transform_undoes_transform_and_keeps_float32():
    values = np.random.default_rng(1).normal(3, 2, size=(40, 2)).astype(np.float32)
    scaler = Scaler().fit(values)
    scaled = scaler.transform(values)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaler.inverse_transform(scaled), values, rtol=1e-5)


def test_inverse_transform_target_works_on_forecasts_of_any_shape():
    scaler = Scaler().fit(np.array([[0.0, 10.0], [2.0, 30.0]]))  # target mean 1, scale 1
    forecasts = torch.tensor([[0.0, 1.0], [-1.0, 2.0]])  # (W, H) standardised
    assert scaler.inverse_transform_target(forecasts).tolist() == [[1.0, 2.0], [0.0, 3.0]]


def test_scaler_survives_a_json_round_trip():
    scaler = Scaler().fit(np.random.default_rng(2).normal(size=(30, 3)))
    loaded = Scaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    assert loaded.mean_.tolist() == scaler.mean_.tolist()
    assert loaded.scale_.tolist() == scaler.scale_.tolist()


def test_invalid_saved_scaler():
    _raises(
        "the saved scaler is not valid (mean and scale must be lists of the same length)",
        lambda: Scaler.from_dict({"mean": [0.0, 1.0], "scale": [1.0]}),
    )



# --- compressed files and files of other formats -----------------------------------------------------------


def _compressed(tmp_path, name: str, raw: bytes) -> Path:
    """`raw` written to tmp_path/name, compressed as its extension says (a zip: one file, plus the entry a Mac's
    zip adds, which holds no data)."""
    import bz2
    import gzip
    import lzma
    import zipfile

    path = tmp_path / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("airline.csv", raw)
            archive.writestr("__MACOSX/._airline.csv", b"\x00\x05")
    else:
        path.write_bytes({".gz": gzip, ".bz2": bz2, ".xz": lzma}[path.suffix].compress(raw))
    return path


@pytest.mark.parametrize("name", ["data.csv.gz", "data.CSV.bz2", "data.csv.xz", "data.zip"])
def test_a_compressed_csv_is_read_as_the_csv_itself(tmp_path, name):
    plain = read_series_csv(_csv(tmp_path, AIRLINE), "Passengers", time_col="Month")
    read = read_series_csv(_compressed(tmp_path, name, AIRLINE.encode()), "Passengers", time_col="Month")
    np.testing.assert_array_equal(read.target, plain.target)
    assert read.time.equals(plain.time)
    path = _compressed(tmp_path, name, (AIRLINE + "1949-06,abc\n").encode())
    _raises(f"{path}: column 'Passengers' has a non-numeric value 'abc' at row 7",  # a row of the decompressed text
            lambda: read_series_csv(path, "Passengers", time_col="Month"))


def test_files_no_reader_reads_are_named_for_what_they_are(tmp_path):
    import zipfile

    several = tmp_path / "several.zip"
    with zipfile.ZipFile(several, "w") as archive:
        for k in range(4):
            archive.writestr(f"part{k}.csv", AIRLINE)
    workbook = tmp_path / "sales.xlsx"  # what an .xlsx file is: a zip archive of XML parts
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    old_excel = tmp_path / "sales.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    damaged = tmp_path / "sales.csv.gz"
    damaged.write_bytes(__import__("gzip").compress(AIRLINE.encode())[:-12])
    expected = {
        several: "is a zip archive of 4 files (part0.csv, part1.csv, part2.csv, ...); unzip it and give one of them",
        workbook: "is a damaged Excel workbook and cannot be read (File contains no valid workbook part)",
        old_excel: "looks like an Excel workbook (or another Office file); save the sheet as a CSV file (UTF-8) and give that",
        damaged: "is a damaged compressed file and cannot be decompressed (Compressed file ended before the "
                 "end-of-stream marker was reached)",
    }
    for path, message in expected.items():
        _raises(f"{path}: {message}", lambda: read_series_csv(path, "Passengers"))


def test_the_format_of_a_compressed_file_is_its_extension_before_the_compressions():
    from lstmkit.data.csv_table import format_suffix

    assert [format_suffix(p) for p in ("a.csv.gz", "b.TS.xz", "c.2020.csv", "d.zip", "e", "f.tsv")] == [
        ".csv", ".ts", ".csv", "", "", ".tsv"]


# --- the target, where none is named ----------------------------------------------------------------------


def test_the_target_where_none_is_named_is_the_one_numeric_column_besides_the_time_id_and_covariates(tmp_path):
    """As Darts' from_csv reads the columns beside the time column: one numeric column is the series; a pandas
    index, a row counter, a text column and the columns named in other roles are no candidates; several, or
    none, is one line naming them."""
    from lstmkit.data.csv_table import read_csv_table
    from lstmkit.data.series import target_column

    def named(text, skipped=(), **roles):
        path = _csv(tmp_path, text)
        return target_column(*read_csv_table(path), path, skipped, **roles)

    name, note = named(AIRLINE, ["Month"], time_col="Month")
    assert name == "Passengers" and note == ("the target is 'Passengers', the one numeric column besides the time, "
                                             "id and covariate columns (--target chooses another)")  # fmt: skip
    indexed = ",n,month,shop,sales\n" + "".join(f"{i},{i + 1},1949-0{i + 1},north,{100 + i * i}\n" for i in range(5))
    assert named(indexed)[0] == "sales"  # pandas' index, an observation number, the dates and a text column left out
    assert named("112\n118\n132\n129\n121\n")[0] == "value"  # no header: the column as the reader names it
    months = "YEAR,JAN,FEB,MAR,APR,MAY,JUN,JUL,AUG,SEP,OCT,NOV,DEC\n2000," + ",".join(["1.5"] * 12) + "\n"
    assert named(months) == ("value", None)  # a month a column: one series, its own note says how it was read
    two = "date,a,b\n2020-01-01,1,5\n2020-01-02,3,2\n2020-01-03,2,8\n"
    assert named(two, ["b"])[0] == "a"  # b is a covariate
    path = _csv(tmp_path, two)
    _raises(f"{path}: give target, the column to forecast: it has 2 numeric columns (a, b); several, "
            "comma-separated, forecast each", lambda: named(two))  # fmt: skip
    _raises(f"{path}: has no numeric column to forecast besides the time column; columns: date, a, b",
            lambda: named(two, ["a", "b"]))  # fmt: skip
