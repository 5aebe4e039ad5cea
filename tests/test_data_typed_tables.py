"""Parquet and JSON files, as pandas, Arrow and Hugging Face datasets write tables: every reader of a table
reads one as it reads the same table written as CSV; a file no reader can take is one line."""

import gzip
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import read_anomaly_csv, read_corpus, read_sequences, read_series_csv
from lstmkit.data.csv_table import read_csv_table, read_text_file
from lstmkit.data.pairs import read_pairs
from lstmkit.data.panel import read_panel_csv
from lstmkit.errors import DataError



def _parquet():
    pytest.importorskip("pyarrow")  # statsforecast's dependencies bring it; pandas reads Parquet with it


def _both(tmp_path, frame: pd.DataFrame, name: str = "data", index: bool = False):
    """The frame written as Parquet and as CSV: the two paths."""
    _parquet()
    parquet, csv = tmp_path / f"{name}.parquet", tmp_path / f"{name}.csv"
    frame.to_parquet(parquet, index=index)
    frame.to_csv(csv, index=index)
    return parquet, csv


def _raises(message, call):
    with pytest.raises(DataError) as info:
        call()
    assert str(info.value) == message


def _monthly(n=48, seed=0):
    rng = np.random.default_rng(seed)
    months = pd.date_range("2015-01-01", periods=n, freq="MS")
    return pd.DataFrame({"month": months, "sales": 100 + 10 * np.sin(np.arange(n) * np.pi / 6) + rng.normal(0, 1, n)})


def test_a_series_reads_as_its_csv_with_dates_typed_and_missing_values_kept(tmp_path):
    frame = _monthly()
    frame.loc[5, "sales"] = np.nan
    parquet, csv = _both(tmp_path, frame)
    got = read_series_csv(parquet, "sales", time_col="month", fill="interpolate")
    want = read_series_csv(csv, "sales", time_col="month", fill="interpolate")
    np.testing.assert_array_equal(got.target, want.target)
    assert list(got.time) == list(want.time) and got.freq == want.freq == "MS"
    assert np.isnan(read_csv_table(parquet)[0]["sales"].replace("", np.nan).astype(float)[5])


def test_an_index_pandas_kept_is_a_column_and_a_plain_one_is_not(tmp_path):
    frame = _monthly()
    path = tmp_path / "indexed.parquet"
    frame.set_index("month").to_parquet(path)  # to_parquet keeps a named index
    table, rows = read_csv_table(path)
    assert list(table.columns) == ["month", "sales"] and table["month"][0] == "2015-01-01"
    unnamed = tmp_path / "unnamed.parquet"
    frame.set_index("month").rename_axis(None).to_parquet(unnamed)
    assert list(read_csv_table(unnamed)[0].columns) == ["time", "sales"]
    filtered = tmp_path / "filtered.parquet"
    frame[frame.sales > 0].iloc[3:].to_parquet(filtered)  # an index of row numbers, not from 0
    table, rows = read_csv_table(filtered)
    assert list(table.columns) == ["month", "sales"] and list(rows[:2]) == [0, 1]  # positions, as a DataFrame's


def test_a_panel_reads_as_its_csv_and_a_bad_cell_is_named_at_its_position(tmp_path):
    rows = [(f"s{k}", t, float(10 * k + t)) for k in range(3) for t in range(30)]
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    parquet, csv = _both(tmp_path, frame)
    got, want = read_panel_csv(parquet, "y", id_col="unique_id", time_col="ds"), read_panel_csv(csv, "y", id_col="unique_id", time_col="ds")
    assert got.ids == want.ids == ["s0", "s1", "s2"]
    for a, b in zip(got.series, want.series):
        np.testing.assert_array_equal(a.target, b.target)
    frame["y"] = frame["y"].astype(str)
    frame.loc[33, "y"] = "abc"
    bad = tmp_path / "bad.parquet"
    frame.to_parquet(bad)
    _raises(f"{bad}, series 's1': column 'y' has a non-numeric value 'abc' at row 33",
            lambda: read_panel_csv(bad, "y", id_col="unique_id", time_col="ds"))


def test_classification_tables_anomaly_texts_and_pairs_read_as_their_csvs(tmp_path):
    rng = np.random.default_rng(1)
    wide = pd.DataFrame(rng.normal(size=(6, 5)).round(3), columns=[f"t{k}" for k in range(5)])
    wide.insert(0, "label", list("ababab"))
    parquet, csv = _both(tmp_path, wide, "wide")
    got, want = read_sequences(parquet), read_sequences(csv)
    assert got.labels == want.labels and got.kind == want.kind == "numeric"
    for a, b in zip(got.sequences, want.sequences):
        np.testing.assert_array_equal(a, b)

    texts = pd.DataFrame({"review": ["a fine film", "a dull, slow film", "loved it"], "label": ["pos", "neg", "pos"]})
    parquet, csv = _both(tmp_path, texts, "texts")
    got, want = read_sequences(parquet, text_col="review"), read_sequences(csv, text_col="review")
    assert got.sequences == want.sequences == list(texts.review) and got.labels == want.labels
    corpus = read_corpus(parquet, "word")  # the one column of texts, a row a document
    assert corpus.tokens == read_corpus(csv, "word").tokens and "dull" in corpus.tokens

    pairs = pd.DataFrame({"en": ["one", "two", "three"], "fr": ["un", "deux", "trois"]})
    parquet, csv = _both(tmp_path, pairs, "pairs")
    got = read_pairs(parquet, min_pairs=1)
    assert (got.sources, got.targets) == (read_pairs(csv, min_pairs=1).sources, ["un", "deux", "trois"])

    watched = _monthly(60)
    watched["flag"] = (np.arange(60) == 40).astype(int)
    parquet, csv = _both(tmp_path, watched, "watched")
    (got, labels), (want, _) = (read_anomaly_csv(p, time_col="month", label_col="flag") for p in (parquet, csv))
    np.testing.assert_array_equal(got.values, want.values)
    assert labels.sum() == 1 and labels[40] == 1


def test_a_series_a_row_in_lists_is_read_as_a_long_table(tmp_path):
    """Chronos' and GluonTS' data sets on the Hugging Face hub: an id, then the times and values in lists."""
    frame = _monthly(40)
    rows = [{"id": f"s{k}", "timestamp": list(frame.month[: 30 + k]), "target": list(frame.sales[: 30 + k] * (k + 1))}
            for k in range(3)]
    path = tmp_path / "chronos.parquet"
    pd.DataFrame(rows).to_parquet(path)
    panel = read_panel_csv(path, "target", id_col="id", time_col="timestamp")
    assert panel.ids == ["s0", "s1", "s2"] and [len(s) for s in panel.series] == [30, 31, 32]
    np.testing.assert_allclose(panel.series[2].target, frame.sales[:32] * 3)
    assert panel.series[1].freq == "MS" and panel.series[1].time[-1] == pd.Timestamp("2017-07-01")
    assert read_csv_table(path)[0].attrs["notes"] == [
        "each row holds a series, its lists ('timestamp' and 'target') a value a step: 3 rows read as 93 steps, "
        "the other cells repeated on each"]
    _raises(f"{path}: holds a series a row in lists, 3 rows: give the column that names each row's series as "
            "id_col ('id' holds a different value on each row)", lambda: read_series_csv(path, "target"))
    _raises(f"{path}: holds a series a row in lists, 3 rows; this reads one series: give a file of one row",
            lambda: read_anomaly_csv(path, columns="target"))
    monash = tmp_path / "monash.parquet"  # the hub's Monash sets: a static feature in a list beside each series
    pd.DataFrame({"start": [pd.Timestamp("2015-01-01")] * 2, "target": [[1.0, 2.0, 3.0], [4.0, 5.0]],
                  "feat_static_cat": [[0], [1]], "item_id": ["T1", "T2"]}).to_parquet(monash)
    panel = read_panel_csv(monash, "target", id_col="item_id")
    assert panel.ids == ["T1", "T2"] and [list(s.target) for s in panel.series] == [[1, 2, 3], [4, 5]]
    _raises(f"{monash}: holds a series a row in lists, 2 rows: give the column that names each row's series as "
            "id_col ('item_id' holds a different value on each row)", lambda: read_series_csv(monash, "target"))
    one = tmp_path / "one.parquet"
    pd.DataFrame(rows[2:]).to_parquet(one)
    series = read_series_csv(one, "target", time_col="timestamp")
    assert len(series) == 32 and series.freq == "MS"


def test_a_compressed_parquet_file_is_read_and_others_are_one_line(tmp_path):
    frame = _monthly()
    plain = tmp_path / "sales.parquet"
    frame.to_parquet(plain)
    packed = tmp_path / "sales.parquet.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_csv_table(packed)[0].equals(read_csv_table(plain)[0])

    uneven = tmp_path / "uneven.parquet"
    pd.DataFrame({"id": ["a", "b"], "t": [[1, 2], [1, 2, 3]], "y": [[5.0, 6.0], [7.0, 8.0]]}).to_parquet(uneven)
    _raises(f"{uneven}: row 1 holds lists of different lengths ('t' 3, 'y' 2); a row's lists are a series' steps "
            "side by side, as long as each other", lambda: read_csv_table(uneven))
    records = tmp_path / "records.parquet"
    pd.DataFrame({"id": ["a", "b"], "meta": [{"k": 1}, {"k": 2}]}).to_parquet(records)
    _raises(f"{records}: column 'meta' holds records (row 0); lstmkit reads one value a cell",
            lambda: read_csv_table(records))
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(plain.read_bytes()[:300])
    with pytest.raises(DataError, match=r"^.*damaged\.parquet: is a damaged Parquet file and cannot be read \(.*footer"):
        read_csv_table(damaged)
    empty = tmp_path / "empty.parquet"
    frame.iloc[:0].to_parquet(empty)
    _raises(f"{empty}: has columns but no rows", lambda: read_csv_table(empty))
    _raises(f"{plain}: is a Parquet file, a table; this reads a text file", lambda: read_text_file(plain, "text", "text"))
    misnamed = tmp_path / "corpus.txt"
    misnamed.write_bytes(plain.read_bytes())
    _raises(f"{misnamed}: is a Parquet file, a table; this reads a text file (a table's name ends in .parquet)",
            lambda: read_corpus(misnamed, "word"))


def test_the_cli_trains_and_predicts_from_parquet(tmp_path):
    frame = _monthly(72)
    data = tmp_path / "sales.parquet"
    frame.to_parquet(data)
    run, out = tmp_path / "run", tmp_path / "forecast.csv"
    train = [sys.executable, "-m", "lstmkit", "train", "forecast", "--data", str(data), "--target", "sales",
             "--time-col", "month", "--horizon", "3", "--epochs", "2", "--out", str(run), "--quiet"]
    assert subprocess.run(train, capture_output=True, text=True).returncode == 0
    done = subprocess.run([sys.executable, "-m", "lstmkit", "predict", str(run), "--data", str(data), "--output", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(out)
    assert list(written["month"]) == ["2021-01-01", "2021-02-01", "2021-03-01"] and written["sales"].between(80, 120).all()
    readers = {"forecast.parquet": pd.read_parquet, "forecast.jsonl": lambda p: pd.read_json(p, lines=True),
               "forecast.json": pd.read_json}  # --output writes the format its extension names
    for name, read in readers.items():
        command = [sys.executable, "-m", "lstmkit", "predict", str(run), "--output", str(tmp_path / name)]
        assert subprocess.run(command, capture_output=True, text=True).returncode == 0
        again = read(tmp_path / name)
        assert list(again.columns) == list(written.columns)
        np.testing.assert_allclose(again["sales"], written["sales"], rtol=1e-9)
        assert list(pd.to_datetime(again["month"])) == list(pd.to_datetime(written["month"]))


# --- JSON --------------------------------------------------------------------------------------------------


def _lines(path, records):
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_json_lines_a_list_and_a_wrapped_list_read_as_the_csv_does(tmp_path):
    texts = pd.DataFrame({"review": ["a fine film", "a dull, slow film", "loved it", "hated it"], "label": [1, 0, 1, 0]})
    csv = tmp_path / "texts.csv"
    texts.to_csv(csv, index=False)
    records = texts.to_dict("records")
    lines = _lines(tmp_path / "texts.jsonl", records)
    as_list = tmp_path / "texts.json"
    as_list.write_text(json.dumps(records))
    wrapped = tmp_path / "wrapped.json"  # {"version": ..., "data": [...]}
    wrapped.write_text(json.dumps({"version": "1.0", "data": records}))
    hub = _lines(tmp_path / "hub.json", records)  # Hugging Face's Dataset.to_json writes JSON Lines, named .json
    want = read_sequences(csv, text_col="review")
    assert want.labels == ["1", "0", "1", "0"]
    for path in (lines, as_list, wrapped, hub):
        got = read_sequences(path, text_col="review")
        assert (got.sequences, got.labels) == (want.sequences, want.labels)
    assert list(read_csv_table(lines)[1]) == [1, 2, 3, 4] and list(read_csv_table(as_list)[1]) == [0, 1, 2, 3]


def test_an_object_in_a_row_is_columns_named_by_its_path(tmp_path):
    """Hugging Face's translation sets: {"translation": {"en": ..., "fr": ...}} a line."""
    path = _lines(tmp_path / "opus.jsonl", [{"id": str(k), "translation": {"en": en, "fr": fr}}
                                             for k, (en, fr) in enumerate([("one", "un"), ("two", "deux"), ("", "trois")])])
    assert list(read_csv_table(path)[0].columns) == ["id", "translation.en", "translation.fr"]
    with pytest.raises(DataError) as info:
        read_pairs(path, source_col="translation.en", target_col="translation.fr", min_pairs=1)
    assert str(info.value) == f"{path}: row 3: the column 'translation.en' is empty"


def test_json_that_holds_no_table_is_one_line(tmp_path):
    cases = {
        "bad.jsonl": ('{"a": 1}\n{"a": 2\n', "line 2 is not valid JSON (Expecting ',' delimiter at column 8)"),
        "broken.json": ('[{"a": 1},', "is not valid JSON (Expecting value at line 1, column 11)"),
        "numbers.json": ("[1, 2, 3]", "holds no table (row 0); a table in JSON is an object a row: a line each "
                         '({"text": "...", "label": "..."}, JSON Lines) or a list of them'),
        "splits.json": ('{"train": [{"a": 1}], "test": [{"a": 2}]}',
                        "holds 2 lists ('train' and 'test'); a table is one of them, in a file of its own"),
        "empty.json": ("[]", 'holds no table; a table in JSON is an object a row: a line each ({"text": "...", '
                       '"label": "..."}, JSON Lines) or a list of them'),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        _raises(f"{path}: {message}", lambda: read_csv_table(path))


def test_conversations_give_a_pair_for_each_reply(tmp_path):
    chats = [
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"},
                      {"role": "assistant", "content": [{"type": "text", "text": "See you"}]}]},
        {"messages": [{"role": "assistant", "content": "Welcome"}, {"role": "user", "content": "Thanks"},
                      {"role": "user", "content": "Where is it?"}, {"role": "assistant", "content": "Here"}]},
    ]
    path = _lines(tmp_path / "chats.jsonl", chats)
    pairs = read_pairs(path, min_pairs=1)
    assert list(zip(pairs.sources, pairs.targets)) == [("Hi", "Hello"), ("Bye", "See you"), ("Where is it?", "Here")]
    sharegpt = tmp_path / "sharegpt.json"
    sharegpt.write_text(json.dumps([{"id": "a", "conversations": [{"from": "human", "value": "2+2?"},
                                                                   {"from": "gpt", "value": "4"}]}]))
    pairs = read_pairs(sharegpt, min_pairs=1)
    assert (pairs.sources, pairs.targets) == (["2+2?"], ["4"])

    silent = _lines(tmp_path / "silent.jsonl", [{"messages": [{"role": "user", "content": "Hi"}]}])
    _raises(f"{silent}: holds conversations ('messages'), but no user's message followed by a reply",
            lambda: read_pairs(silent, min_pairs=1))
    broken = _lines(tmp_path / "broken.jsonl", [chats[0], {"messages": ["Hi", "Hello"]}])
    _raises(f'{broken}: row 2: \'messages\' holds no list of turns ({{"role": ..., "content": ...}})',
            lambda: read_pairs(broken, min_pairs=1))
    _raises(f"{path}: column 'messages' holds lists of records (row 1); lstmkit reads one value a cell",
            lambda: read_csv_table(path))


def test_a_sequence_a_row_in_lists_is_classified_as_a_wide_table_is(tmp_path):
    """The Hugging Face hub's copies of the UCR/UEA archive: a label, then the sequence (a list a channel)."""
    _parquet()
    rng = np.random.default_rng(2)
    wide = pd.DataFrame(rng.normal(size=(4, 6)).round(3), columns=[f"t{k}" for k in range(6)])
    wide.insert(0, "label", list("abab"))
    csv = tmp_path / "wide.csv"
    wide.to_csv(csv, index=False)
    lists = pd.DataFrame({"id": ["w", "x", "y", "z"], "label": list("abab"), "values": list(wide.iloc[:, 1:].to_numpy())})
    parquet = tmp_path / "lists.parquet"
    lists.to_parquet(parquet)
    got, want = read_sequences(parquet), read_sequences(csv)
    assert got.labels == want.labels and got.ids == ["w", "x", "y", "z"] and got.id_name == "id"
    for a, b in zip(got.sequences, want.sequences):
        np.testing.assert_array_equal(a, b)

    rows = [{"label": "up", "x": [1.0, 2.0, 3.0], "y": [0.5, 0.5, 0.5]}, {"label": "down", "x": [3.0, 2.0], "y": [1.0, 0.0]}]
    channels = _lines(tmp_path / "channels.jsonl", rows)  # two channels, unequal lengths
    got = read_sequences(channels)
    assert [s.shape for s in got.sequences] == [(3, 2), (2, 2)] and got.labels == ["up", "down"]
    np.testing.assert_array_equal(got.sequences[1], [[3.0, 1.0], [2.0, 0.0]])
    long = read_sequences(parquet, id_col="id")  # named ids read the lists as a long table, a row a step
    np.testing.assert_array_equal(long.sequences[2], want.sequences[2])
    assert long.sequences[2].shape == (6, 1)

    gap = _lines(tmp_path / "gap.jsonl", [{"label": "a", "x": [1.0, None, 3.0]}])
    _raises(f"{gap}: row 1: column 'x' has a missing or infinite value at step 2; every step of a sequence needs a "
            "value", lambda: read_sequences(gap))
    words = _lines(tmp_path / "words.jsonl", [{"label": "a", "x": ["up", "down"]}])
    _raises(f"{words}: row 1: column 'x' holds a value that is no number ('['up', 'down']')",
            lambda: read_sequences(words))


def test_times_with_a_time_zone_keep_their_offset_through_a_clock_change(tmp_path):
    """02:00 comes twice in Berlin on 2021-10-31; with their offsets the two are an hour apart."""
    from lstmkit.data.panel import panel_from_frame

    _parquet()
    times = pd.date_range("2021-10-30", periods=72, freq="h", tz="Europe/Berlin")
    frame = pd.DataFrame({"time": times, "load": np.arange(72.0)})
    path = tmp_path / "load.parquet"
    frame.to_parquet(path)
    for series in (read_series_csv(path, "load", time_col="time"), panel_from_frame(frame, "load", time_col="time").series[0]):
        assert len(series) == 72 and series.freq == "h" and not series.gaps
        assert series.time[0] == pd.Timestamp("2021-10-29 22:00", tz="UTC")


# --- Excel -------------------------------------------------------------------------------------------------


def _workbook(path, sheets: dict):
    """An .xlsx file of `sheets` (title: rows of values, row 1 first), as Excel saves one."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
    book.save(path)
    return path


def test_an_excel_sheet_is_read_as_its_csv_with_the_sheets_rows(tmp_path):
    """A title above the table and a second sheet, as a spreadsheet user keeps them; rows are the sheet's."""
    import datetime

    frame = _monthly(40)
    rows = [["Monthly sales, units"], [], ["month", "sales"]]  # a title, a blank row, the table
    rows += [[datetime.datetime(m.year, m.month, 1), float(v)] for m, v in zip(frame.month, frame.sales)]
    path = _workbook(tmp_path / "sales.xlsx", {"Sales": rows, "Notes": [["typed by hand"]]})
    csv = tmp_path / "sales.csv"
    frame.to_csv(csv, index=False)
    got, want = read_series_csv(path, "sales", time_col="month"), read_series_csv(csv, "sales", time_col="month")
    np.testing.assert_allclose(got.target, want.target)
    assert list(got.time) == list(want.time) and got.freq == "MS"
    assert got.notes[:2] == [
        "sheet 'Sales' read, the first of 2 with values (also 'Notes'): save another as a CSV file to read it",
        "the table starts at row 3, below 1 line of notes (the first: 'Monthly sales, units'), which are not read"]
    titled = _workbook(tmp_path / "titled.xlsx", {"Sales": [["Sales by month"], *rows[2:]]})  # the title right above
    assert list(read_series_csv(titled, "sales").target) == list(got.target)
    rows[10][1] = "n/a?"
    bad = _workbook(tmp_path / "bad.xlsx", {"Sales": rows})
    _raises(f"{bad}: column 'sales' has a non-numeric value 'n/a?' at row 11", lambda: read_series_csv(bad, "sales"))
    texts = _workbook(tmp_path / "reviews.xlsx", {"Sheet1": [["review", "label"], ["a fine film", "pos"], ["dull", "neg"]]})
    assert read_sequences(texts).sequences == ["a fine film", "dull"]


def test_a_workbook_that_cannot_be_read_is_one_line(tmp_path, monkeypatch):
    empty = _workbook(tmp_path / "empty.xlsx", {"Sheet1": []})
    _raises(f"{empty}: is an Excel workbook with no values in any sheet", lambda: read_csv_table(empty))
    _raises(f"{empty}: is an Excel workbook; save the sheet as a CSV file (UTF-8) and give that",
            lambda: read_text_file(empty, "text", "text"))
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # installed without its dependencies
    _raises(f"{empty}: is an Excel workbook; reading one needs openpyxl (pip install openpyxl), or save the sheet as "
            "a CSV file (UTF-8) and give that", lambda: read_csv_table(empty))
