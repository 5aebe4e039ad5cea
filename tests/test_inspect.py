"""Seeing inside a trained model: the input properties, the unit rankings, the trace of each job, the
inspector page and `lstmkit inspect` (the page in a real browser: tests/browser/)."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit import gates
from lstmkit.cli import main
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.run import load_run
from lstmkit.gates import Trace, correlations, longest_memory, rank_units, series_properties, text_properties

CODE = "def f(x):\n    if x:\n        return [x, 'y']  # it's\n    return (x)\n"


def _run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------------------------------------------------
# Properties of a text


def test_indentation_is_the_leading_spaces_of_the_line_at_every_character():
    assert text_properties("    x = 'a'")["indentation"].tolist() == [4] * 11


def test_indentation_starts_again_on_each_line_and_a_tab_goes_to_the_next_multiple_of_8():
    assert text_properties("  a\nb\n\tc\n")["indentation"].tolist() == [2, 2, 2, 2, 0, 0, 8, 8, 8]


def test_column_is_the_position_in_the_line():
    assert text_properties("ab\ncd\n")["column"].tolist() == [0, 1, 2, 0, 1, 2]


def test_a_string_literal_is_marked_with_its_quotes():
    assert text_properties("    x = 'a'")["in_string"].tolist() == [0] * 8 + [1, 1, 1]


def test_escaped_quotes_and_triple_quotes_stay_inside_the_string():
    assert text_properties(r"'a\'b' c")["in_string"].tolist() == [1, 1, 1, 1, 1, 1, 0, 0]
    found = text_properties('x"""a\n"b"""y')["in_string"].tolist()
    assert found == [0] + [1] * 10 + [0]


def test_an_apostrophe_opens_no_string_but_a_string_prefix_does():
    assert text_properties("don't")["in_string"].tolist() == [0] * 5
    assert text_properties("f'x'")["in_string"].tolist() == [0, 1, 1, 1]


def test_a_comment_runs_to_the_end_of_its_line_and_its_quotes_open_nothing():
    found = text_properties("a # 'b\nc")
    assert found["in_comment"].tolist() == [0, 0, 1, 1, 1, 1, 0, 0]
    assert found["in_string"].sum() == 0


def test_bracket_depth_counts_open_brackets_outside_strings():
    found = text_properties("f(a[1], '(')")
    assert found["bracket_depth"].tolist() == [0, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1]
    assert found["in_brackets"].tolist() == [0] + [1] * 11


def test_an_unmatched_closing_bracket_never_goes_below_zero():
    assert text_properties(")a(")["bracket_depth"].tolist() == [0, 0, 1]


def test_word_level_properties_are_read_at_the_first_character_of_each_word():
    found = text_properties("a\n    b 'c'", offsets=[0, 6, 8])
    assert found["indentation"].tolist() == [0, 4, 4] and found["column"].tolist() == [0, 4, 6]
    assert found["in_string"].tolist() == [0, 0, 1]


# ---------------------------------------------------------------------------------------------------------
# Properties of a series


def test_series_level_and_slope_over_a_window():
    found = series_properties(np.arange(10.0)[:, None], ["x"], window=3)
    assert found["x"].tolist() == list(range(10))
    assert found["level"][:4].tolist() == [0, 0.5, 1, 2] and found["level"][9] == 8
    assert found["slope"].tolist() == [0] + [1] * 9


def test_series_properties_name_every_column():
    found = series_properties(np.ones((5, 2)), ["sales", "level"], window=2)
    assert list(found) == ["sales", "level (column)", "level", "slope"]


# ---------------------------------------------------------------------------------------------------------
# Ranking units


def _trace_of(c: np.ndarray, text: str, f=None) -> Trace:
    T, H = c.shape
    values = {name: np.zeros((T, H), dtype=np.float32) for name in gates.GATES}
    values["c"], values["h"] = c, np.tanh(c) * 0.0
    if f is not None:
        values["f"] = f
    return Trace("lm", "text", [[values]], list(text), text, np.arange(len(text)), total_steps=len(text))


def test_a_unit_that_equals_the_indentation_ranks_first_with_r_1():
    text = CODE * 3
    rng = np.random.default_rng(0)
    c = rng.normal(0, 1, (len(text), 8))
    c[:, 3] = text_properties(text)["indentation"]
    best = rank_units(_trace_of(c, text))[0]
    assert (best.layer, best.direction, best.unit, best.quantity, best.property) == (0, 0, 3, "c", "indentation")
    assert best.value == pytest.approx(1.0)


def test_a_unit_that_falls_as_the_column_rises_keeps_the_sign_of_r():
    text = CODE
    c = np.zeros((len(text), 2))
    c[:, 1] = -2 * text_properties(text)["column"] + 1
    best = rank_units(_trace_of(c, text))[0]
    assert best.unit == 1 and best.property == "column" and best.value == pytest.approx(-1.0)


def test_constant_units_and_properties_correlate_with_nothing():
    r = correlations(np.ones((6, 2)), {"flat": np.zeros(6), "ramp": np.arange(6.0)})
    assert np.array_equal(r, np.zeros((2, 2)))
    text = "abcdef"  # no string, comment, bracket or indentation: only the column varies
    ranked = rank_units(_trace_of(np.arange(12.0).reshape(6, 2), text), top=None)
    assert {s.property for s in ranked} == {"column"}


def test_longest_memory_ranks_units_by_mean_forget_gate():
    f = np.array([[0.2, 0.99, 0.5]] * 5, dtype=np.float32)
    ranked = longest_memory(_trace_of(np.zeros((5, 3)), "abcde", f=f))
    assert [s.unit for s in ranked] == [1, 2, 0] and ranked[0].value == pytest.approx(0.99)


# ---------------------------------------------------------------------------------------------------------
# The trace of each job is the model's own computation


def test_language_model_trace_is_the_lstm_trace_of_the_embedded_text(tiny_runs):
    model = load_run(tiny_runs["lm"])
    found = gates.trace(model, CODE)
    ids = torch.tensor(model.vocab_.encode(list(CODE)))[None]  # (1, T)
    with torch.no_grad():
        output, _, expected = model.model_.lstm(model.model_.embedding(ids), return_trace=True)
    assert found.num_layers == 2 and found.num_directions == 1 and len(found) == len(CODE)
    for layer in range(2):
        for name in "ifgoc":
            assert found.gate(name, layer).shape == (len(CODE), 16)
            np.testing.assert_array_equal(found.gate(name, layer), getattr(expected[layer][0], name)[:, 0].numpy())
    np.testing.assert_allclose(found.gate("h", 1), output[0].numpy(), atol=1e-6)  # the top layer's h is the output
    assert found.tokens == list(CODE) and found.text == CODE


def test_forecaster_trace_reads_the_whole_series_as_one_deseasonalised_scaled_window(tiny_runs):
    model = load_run(tiny_runs["forecast"])
    csv = tiny_runs["data"] / "sales.csv"
    found = gates.trace(model, csv)
    values = pd.read_csv(csv)["sales"].to_numpy()[:, None]
    factors = model.indices_[0][np.arange(len(values)) % len(model.indices_[0])]
    x = torch.from_numpy((values[:, 0] / factors).astype(np.float32))[None]  # (1, N) deseasonalised
    z = x / model.model_.scale(x)  # scaled by the level of its last season
    with torch.no_grad():
        _, _, expected = model.model_.lstm((z - z[:, -1:]).unsqueeze(-1), return_trace=True)
    np.testing.assert_allclose(found.gate("c"), expected[0][0].c[:, 0].numpy(), atol=1e-5)
    np.testing.assert_allclose(found.values[:, 0], values[:, 0])
    assert found.columns == ["sales"] and found.kind == "series" and len(found) == 120


def test_a_forecaster_given_no_input_reads_the_steps_its_next_forecast_reads(tiny_runs, tmp_path, capsys):
    model = load_run(tiny_runs["forecast"])  # loaded: it keeps each series' last `lookback` (24) steps of 120
    found = gates.trace(model, None)
    values = pd.read_csv(tiny_runs["data"] / "sales.csv")["sales"].to_numpy()[-24:]
    factors = model.indices_[0][(96 + np.arange(24)) % len(model.indices_[0])]  # at their place in the season
    x = torch.from_numpy((values / factors).astype(np.float32))[None]
    z = x / model.model_.scale(x)
    with torch.no_grad():
        _, _, expected = model.model_.lstm((z - z[:, -1:]).unsqueeze(-1), return_trace=True)
    np.testing.assert_allclose(found.gate("c"), expected[0][0].c[:, 0].numpy(), atol=1e-5)
    np.testing.assert_allclose(found.values[:, 0], values)
    assert "here it read the last 24 steps of the series, which the run keeps and its next forecast reads" in found.notes[0]
    code, out, _ = _run(capsys, "inspect", tiny_runs["forecast"], "--out", tmp_path / "p.html", "--json")
    assert code == 0 and json.loads(out)["steps"] == 24 and (tmp_path / "p.html").stat().st_size > 0


def test_series_trace_takes_a_dataframe_or_an_array_alike(tiny_runs):
    model = load_run(tiny_runs["anomaly"])
    frame = pd.read_csv(tiny_runs["data"] / "sensor.csv")
    from_frame = gates.trace(model, frame)
    from_array = gates.trace(model, frame["value"].to_numpy())
    np.testing.assert_array_equal(from_frame.gate("f"), from_array.gate("f"))
    assert set(from_frame.properties()) == {"value", "level", "slope"}


def test_bidirectional_classifier_trace_has_both_directions(tiny_runs):
    found = gates.trace(tiny_runs["classify"], "This GOOD film")  # a run directory works as well
    assert found.num_directions == 2 and found.tokens == ["this", "good", "film"]
    assert found.gate("f", direction=1).shape == (3, 8)


def test_numeric_classifier_trace_reads_one_sequence_scaled_as_in_training():
    from lstmkit import SequenceClassifier
    from lstmkit.data import LabelledSequences

    rng = np.random.default_rng(0)
    sequences = [np.cumsum(rng.normal(0, 1, (8, 2)), axis=0).astype(np.float32) for _ in range(12)]
    model = SequenceClassifier(hidden=4, epochs=1).fit(LabelledSequences(sequences, ["a", "b"] * 6, "mem", "numeric"))
    found = gates.trace(model, sequences[3])
    x = torch.from_numpy(model.scaler_.transform(sequences[3]).astype(np.float32))[None]  # (1, 8, 2)
    with torch.no_grad():
        _, _, expected = model.model_.lstm(x, return_trace=True)
    np.testing.assert_array_equal(found.gate("i"), expected[0][0].i[:, 0].numpy())
    assert found.kind == "series" and found.columns == ["x0", "x1"] and found.values.shape == (8, 2)
    assert set(found.properties()) == {"x0", "x1", "level", "slope"}


def test_layer_norm_trace_h_is_the_layer_output(tmp_path):
    from lstmkit import LanguageModel

    (tmp_path / "code.py").write_text(CODE * 5)
    lm = LanguageModel("char", hidden=8, layers=1, embedding=4, variant="layernorm", bptt=8, batch_size=2, epochs=1)
    lm.fit(tmp_path / "code.py")
    found = gates.trace(lm, CODE)
    ids = torch.tensor(lm.vocab_.encode(list(CODE)))[None]
    with torch.no_grad():
        output, _ = lm.model_.lstm(lm.model_.embedding(ids))
    np.testing.assert_allclose(found.gate("h"), output[0].numpy(), atol=1e-5)


def test_max_steps_caps_the_input_and_says_so(tiny_runs):
    found = gates.trace(tiny_runs["lm"], CODE, max_steps=10)
    assert len(found) == 10 and found.total_steps == len(CODE) and found.text == CODE[:10]
    assert f"Showing the first 10 of {len(CODE)} characters: the model read only these." in found.notes


def test_to_frame_is_long_with_one_row_per_step_unit_and_gate(tiny_runs):
    found = gates.trace(tiny_runs["lm"], "def f")
    frame = found.to_frame()
    assert list(frame.columns) == ["step", "token", "layer", "direction", "unit", "gate", "value"]
    assert len(frame) == 5 * 2 * 16 * len(gates.GATES)
    row = frame[(frame.step == 2) & (frame.layer == 1) & (frame.unit == 7) & (frame.gate == "c")]
    assert row.token.item() == "f" and row.value.item() == found.gate("c", 1)[2, 7]


def test_series_trace_to_frame_carries_the_input_value(tiny_runs):
    found = gates.trace(tiny_runs["forecast"], tiny_runs["data"] / "sales.csv", max_steps=4)
    frame = found.to_frame()
    assert list(frame.columns) == ["step", "input", "layer", "direction", "unit", "gate", "value"]
    assert frame[frame.step == 3].input.iloc[0] == found.values[3, 0]


@pytest.mark.parametrize("data, error, message", [
    ("", DataError, "the text to inspect is empty; give some text"),
    (["a"], DataError, "this model reads text"),
])  # fmt: skip
def test_bad_text_input_is_a_clear_error(tiny_runs, data, error, message):
    with pytest.raises(error, match=re.escape(message)):
        gates.trace(tiny_runs["lm"], data)


def test_a_series_of_the_wrong_shape_is_a_clear_error(tiny_runs):
    with pytest.raises(DataError, match=re.escape("expected values of shape (N, 1) with N >= 1 (columns 'sales'), got shape (3, 2)")):
        gates.trace(tiny_runs["forecast"], np.ones((3, 2)))


def test_an_unfitted_estimator_is_a_clear_error():
    from lstmkit import Forecaster

    with pytest.raises(ConfigError, match="not fitted"):
        gates.trace(Forecaster("y"), np.ones(5))


# ---------------------------------------------------------------------------------------------------------
# The page


def test_page_is_self_contained(tiny_runs):
    page = gates.page_html(gates.trace(tiny_runs["lm"], CODE + "<script>alert(1)</script> http://x"))
    assert "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "<link" not in page and "<script src" not in page
    assert "<script>alert(1)" not in page  # the user's text is escaped, in the markup and in the data


def test_page_notes_a_capped_input(tiny_runs):
    page = gates.page_html(gates.trace(tiny_runs["forecast"], tiny_runs["data"] / "sales.csv", max_steps=50))
    assert "Showing the first 50 of 120 steps: the model read only these." in page


# ---------------------------------------------------------------------------------------------------------
# lstmkit inspect


def test_inspect_writes_the_page_and_lists_the_top_units(tiny_runs, tmp_path, capsys):
    page = tmp_path / "pages" / "lm.html"
    code, out, err = _run(capsys, "inspect", tiny_runs["lm"], "--text", CODE, "--out", page)
    assert code == 0 and err == "" and page.exists()
    assert "Units that follow the input" in out and "longest memory (mean forget gate)" in out and f"page: {page}" in out


def test_inspect_json_names_the_units(tiny_runs, tmp_path, capsys):
    code, out, _ = _run(capsys, "inspect", tiny_runs["anomaly"], "--data", tiny_runs["data"] / "sensor.csv",
                        "--out", tmp_path / "a.html", "--max-steps", "150", "--json")  # fmt: skip
    found = json.loads(out)
    assert code == 0 and found["task"] == "anomaly" and found["steps"] == 150 and found["total_steps"] == 200
    assert found["follows"][0]["property"] in ("value", "level", "slope") and len(found["memory"]) == 5


def test_inspect_reads_a_text_file_for_a_text_model(tiny_runs, tmp_path, capsys):
    (tmp_path / "code.py").write_text(CODE)
    code, out, _ = _run(capsys, "inspect", tiny_runs["lm"], "--data", tmp_path / "code.py", "--out", tmp_path / "p.html", "--json")
    assert code == 0 and json.loads(out)["steps"] == len(CODE)


def _error(capsys, *args) -> str:
    code, out, err = _run(capsys, "inspect", *args)
    assert code == 2 and out == "" and err.count("\n") == 1
    return err.removeprefix("lstmkit: error: ").strip()


def test_inspect_errors_are_one_line_and_exit_code_2(tiny_runs, tmp_path, capsys):
    lm, forecast, page = tiny_runs["lm"], tiny_runs["forecast"], tmp_path / "p.html"
    assert _error(capsys, lm, "--out", page) == "give the input to inspect with --text TEXT or with --data FILE"
    assert _error(capsys, lm, "--text", "x", "--data", "f.txt", "--out", page) == "give --text or --data, not both"
    assert _error(capsys, forecast, "--text", "x", "--out", page) == (
        f"{forecast}: is a forecaster, a model of series, not of text; give the series with --data FILE, not --text")
    assert _error(capsys, tmp_path / "nope", "--text", "x", "--out", page) == f"{tmp_path / 'nope'}: no such run directory"
    assert _error(capsys, lm, "--data", tmp_path / "missing.txt", "--out", page) == f"{tmp_path / 'missing.txt'}: no such file"
    assert _error(capsys, lm, "--text", "", "--out", page) == "the text to inspect is empty; give some text"
    assert _error(capsys, lm, "--text", "x", "--out", tmp_path) == (
        f"{tmp_path}: is a directory; give a file name such as {tmp_path / 'inspect.html'}")
    assert not page.exists()


def test_inspect_reports_a_bad_csv_as_training_does(tiny_runs, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("month,sails\n1,2\n2,3\n")
    assert _error(capsys, tiny_runs["forecast"], "--data", bad, "--out", tmp_path / "p.html") == (
        f"{bad}: no column 'sales'; did you mean 'sails'? Columns: month, sails")


@pytest.mark.slow
def test_the_language_model_demo_has_a_unit_that_follows_a_property_of_python_source(tmp_path):
    import textwrap  # not among the files the demo trains on (the first 600 kB of the sorted sources)

    from lstmkit.tasks.lm.demo import demo as demo_lm

    demo_lm(tmp_path / "demo-lm", seed=0)
    found = gates.trace(tmp_path / "demo-lm", Path(textwrap.__file__), max_steps=2000)
    best = gates.best_per_property(found)
    assert max(abs(best[name].value) for name in ("indentation", "in_string", "column")) >= 0.5


def test_gates_is_reachable_from_a_plain_import():
    import lstmkit
    from lstmkit.gates import trace

    assert lstmkit.gates.trace is trace


def test_lstmkit_never_shadows_the_standard_library_inspect():
    import inspect

    import lstmkit

    with pytest.raises(ImportError):
        from lstmkit import inspect as shadow  # noqa: F401
    assert not hasattr(lstmkit, "inspect") and inspect.signature is not None and inspect.__name__ == "inspect"
