"""Series from the Monash forecasting archive's `.tsf` files, read as a user of the archive has them."""

import pandas as pd
import pytest

from lstmkit.data.panel import read_tsf_panel
from lstmkit.errors import DataError

HEADER = """# Dataset Information
# Three monthly series, as the archive writes tourism_monthly_dataset.tsf
#
@relation Tourism
@attribute series_name string
@attribute start_timestamp date
@frequency monthly
@horizon 24
@missing true
@equallength false
@data
"""
SERIES = ["T1:1979-01-01 00-00-00:1,2,3,4,5", "T2:1980-06-01 00-00-00:10,?,12,13",
          "T3:1979-01-01 00-00-00:7.5,8.5,9.5"]  # fmt: skip


def _tsf(tmp_path, text, name="data.tsf"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _raises(message, call):
    with pytest.raises(DataError) as info:
        call()
    assert str(info.value) == message


def test_each_series_is_dated_from_its_start_timestamp_a_frequency_apart(tmp_path):
    path = _tsf(tmp_path, HEADER + "\n".join(SERIES) + "\n")
    panel = read_tsf_panel(path, "visitors", id_col="series_name", fill="interpolate")
    assert panel.ids == ["T1", "T2", "T3"] and panel.id_col == "series_name"
    t1, t2, t3 = panel.series
    assert t1.freq == "MS" and t1.time[0] == pd.Timestamp("1979-01-01") and list(t1.target) == [1, 2, 3, 4, 5]
    assert t2.time[0] == pd.Timestamp("1980-06-01") and list(t2.target) == [10, 11, 12, 13]  # '?': missing, filled
    assert list(t3.target) == [7.5, 8.5, 9.5] and t3.target_name == "visitors"
    assert t1.notes == ["a .tsf file (the Monash archive's format): 3 series of 'visitors', monthly from each series' "
                        "start_timestamp; its @horizon is 24 steps"]  # fmt: skip
    _raises(f"{path}, series 'T2': column 'visitors' has 1 missing value (at row 13); fill it with fill=ffill|bfill|"
            "interpolate|zero or remove that row", lambda: read_tsf_panel(path, "visitors", id_col="series_name"))  # fmt: skip
    _raises(f"{path}: holds 3 series; give the attribute that names each as id_col (series_name)",
            lambda: read_tsf_panel(path, "visitors"))
    _raises(f"{path}: a .tsf file's times come from its series' start_timestamp and its @frequency (or number its "
            "steps), in a column 'time'; leave time_col out",
            lambda: read_tsf_panel(path, "visitors", id_col="series_name", time_col="month"))  # fmt: skip
    _raises(f"{path}: has an attribute 'series_name', the name of the column of its values ('series_name') or of their "
            "times ('time'); give another target", lambda: read_tsf_panel(path, "series_name", id_col="series_name"))  # fmt: skip


def test_series_without_a_start_have_their_steps_numbered_and_one_series_needs_no_id(tmp_path):
    # sktime's UnitTest_Tsf_Loader_hierarchical.tsf: two string attributes, the first names the group
    text = ("@relation test\n@attribute series_group string\n@attribute series_name string\n@frequency yearly\n"
            "@horizon 4\n@data\nG1:T1:1,2,3,4\nG1:T2:5,6,7\nG2:T3:8,9,10\n")  # fmt: skip
    path = _tsf(tmp_path, text)
    panel = read_tsf_panel(path, "value", id_col="series_name")
    assert panel.ids == ["T1", "T2", "T3"] and list(panel.series[1].time) == [1, 2, 3]
    assert panel.series[0].notes[0] == ("a .tsf file (the Monash archive's format): 3 series of 'value', its steps "
                                        "numbered from 1; its @horizon is 4 steps")  # fmt: skip
    _raises(f"{path}: holds 3 series; give the attribute that names each as id_col (series_group)",
            lambda: read_tsf_panel(path, "value"))
    one = read_tsf_panel(_tsf(tmp_path, HEADER + SERIES[0] + "\n"), "visitors")
    assert one.ids == [""] and list(one.series[0].target) == [1, 2, 3, 4, 5] and one.series[0].freq == "MS"


@pytest.mark.parametrize("text, message", [
    ("@relation x\n@attribute series_name string\n", "has no @data line; expected a .tsf file: header lines "
     "(@attribute, @frequency, ...), @data, then a series a line"),
    ("@attribute series_name string\n@frequency fortnightly\n@data\n", "line 2: unknown @frequency 'fortnightly'; "
     "expected one of yearly, quarterly, monthly, weekly, daily, hourly, half_hourly, 10_minutes, minutely, 4_seconds"),
    ("@attribute series_name string\n@attribute start_timestamp date\n@frequency daily\n@data\nT1:1,2,3\n",
     "line 5 has 1 attribute values before its series, the header names 2 (series_name, start_timestamp)"),
    ("@attribute series_name string\n@attribute start_timestamp date\n@frequency daily\n@data\nT1:2020-01-01:1,2\n",
     "line 5: start_timestamp '2020-01-01' is no date written as the archive writes them (1979-01-01 00-00-00)"),
    ("@attribute series_name string\n@horizon 4.5\n@data\n", "line 2: @horizon takes a whole number of steps, got "
     "'@horizon 4.5'"),
    ("@attribute series_name string\n@data\nT1:?,?\n", "line 3 has no value after its attributes"),
    ("@attribute series_name string\n@data\n", "has no series after @data"),
    ("@data\nT1:1,2\n", "line 1: @data comes before any @attribute line; a .tsf file names the attributes of its "
     "series first (@attribute series_name string)"),
    ("@attribute series_name text\n@data\n", "line 1: expected '@attribute NAME TYPE', TYPE one of string, numeric, "
     "date; got '@attribute series_name text'"),
])  # fmt: skip
def test_a_file_that_is_no_tsf_is_one_line_naming_the_line(tmp_path, text, message):
    path = _tsf(tmp_path, text)
    _raises(f"{path}: {message}", lambda: read_tsf_panel(path, "value", id_col="series_name"))
