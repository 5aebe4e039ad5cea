"""Every HTML page lstmkit writes, opened in headless Chromium: the gate inspector works as a user works
it, and every job's report.html loads with its images."""

import pytest

from lstmkit import gates

CODE = "def f(x):\n    if x:\n        return [x, 'y']\n    return (x)\n"
ROUNDING = 0.5e-4 + 1e-7  # the page shows values to 4 decimal places


@pytest.fixture(scope="module")
def lm_page(tiny_runs, tmp_path_factory):
    """The inspector page of the two-layer language model over CODE, and the Python trace behind it."""
    trace = gates.trace(tiny_runs["lm"], CODE)
    path = tmp_path_factory.mktemp("pages") / "lm.html"
    gates.write_page(trace, path, title="Inside the LSTM")
    return path, trace


def _colours(page) -> list[str]:
    return page.eval_on_selector_all(".step", "els => els.map(e => e.style.backgroundColor || e.getAttribute('fill'))")


def _other(page, select: str) -> str:
    """A value of the <select> other than the one chosen now."""
    current = page.input_value(select)
    values = page.eval_on_selector_all(f"{select} option", "els => els.map(e => e.value)")
    return next(v for v in values if v != current)


def test_inspector_page_loads_without_console_errors(open_page, lm_page):
    page, problems = open_page(lm_page[0])
    assert page.locator(".step").count() == len(CODE)
    assert page.text_content("#selection").strip() != ""
    assert problems == []


@pytest.mark.parametrize("control", ["#unit", "#gate", "#layer"])
def test_switching_a_control_changes_the_colours_shown(open_page, lm_page, control):
    page, problems = open_page(lm_page[0])
    before = _colours(page)
    page.select_option(control, _other(page, control))
    assert _colours(page) != before and problems == []


def test_hovering_a_step_shows_the_value_of_the_python_trace(open_page, lm_page):
    path, trace = lm_page
    page, problems = open_page(path)
    page.select_option("#layer", "1")
    page.select_option("#unit", "5")
    page.select_option("#gate", "c")
    page.hover('.step[data-step="17"]')
    assert page.is_visible("#value") and page.get_attribute("#value", "data-step") == "17"
    for gate in ("f", "i", "o", "c", "h"):
        shown = float(page.text_content(f'#value .v[data-gate="{gate}"]'))
        assert shown == pytest.approx(float(trace.gate(gate, layer=1)[17, 5]), abs=ROUNDING), gate
    assert problems == []


def test_clicking_a_ranked_unit_selects_it(open_page, lm_page):
    page, problems = open_page(lm_page[0])
    button = page.locator("#memory button.pick").nth(2)
    unit, layer = button.get_attribute("data-unit"), button.get_attribute("data-layer")
    button.click()
    assert (page.input_value("#unit"), page.input_value("#layer"), page.input_value("#gate")) == (unit, layer, "f")
    assert "active" in button.get_attribute("class") and problems == []


def test_series_page_hover_shows_the_value_of_the_python_trace(open_page, tiny_runs, tmp_path):
    trace = gates.trace(tiny_runs["forecast"], tiny_runs["data"] / "sales.csv")
    page, problems = open_page(gates.write_page(trace, tmp_path / "forecast.html"))
    page.select_option("#unit", "3")
    page.select_option("#gate", "f")
    page.hover('rect.step[data-step="40"]')
    assert float(page.text_content('#value .v[data-gate="f"]')) == pytest.approx(float(trace.gate("f")[40, 3]), abs=ROUNDING)
    assert page.locator("polyline").count() >= 1 and problems == []


def test_backward_direction_shows_the_backward_trace(open_page, tiny_runs, tmp_path):
    trace = gates.trace(tiny_runs["classify"], "the good film")
    page, problems = open_page(gates.write_page(trace, tmp_path / "classify.html"))
    page.select_option("#direction", "1")
    page.select_option("#unit", "2")
    page.select_option("#gate", "o")
    page.hover('.step[data-step="1"]')
    shown = float(page.text_content('#value .v[data-gate="o"]'))
    assert shown == pytest.approx(float(trace.gate("o", direction=1)[1, 2]), abs=ROUNDING) and problems == []


@pytest.mark.parametrize("job", ["forecast", "classify", "lm", "anomaly", "seq2seq"])
def test_every_report_loads_with_every_image_decoded(open_page, tiny_runs, job):
    page, problems = open_page(tiny_runs[job] / "report.html")
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
    assert images, "the report shows no image"
    assert all(complete and width > 0 for complete, width in images), images
    assert problems == []


def test_the_seq2seq_inspector_page_shows_the_decoders_steps_and_its_attention(open_page, tiny_runs, tmp_path):
    trace = gates.trace(tiny_runs["seq2seq"], "red green blue")
    path = tmp_path / "seq2seq.html"
    gates.write_page(trace, path, title="Inside the decoder")
    page, problems = open_page(path)
    assert page.eval_on_selector_all(".step", "els => els.length") == len(trace)
    assert page.eval_on_selector_all("table.attention tbody tr", "els => els.length") == len(trace) and problems == []


def test_the_seq2seq_page_of_a_pair_works_each_panel_on_its_own(open_page, tiny_runs, tmp_path):
    encoder, decoder = gates.trace_parts(tiny_runs["seq2seq"], "red green blue")
    page, problems = open_page(gates.write_page([encoder, decoder], tmp_path / "pair.html"))
    assert page.locator("#encoder-panel .step").count() == len(encoder) == 3
    assert page.locator("#decoder-panel .step").count() == len(decoder)
    assert page.locator("#decoder-panel table.attention tbody tr").count() == len(decoder)
    assert page.text_content("#encoder-selection").startswith("forward · unit") or "backward" in page.text_content("#encoder-selection")
    decoder_colours = page.eval_on_selector_all("#decoder-panel .step", "els => els.map(e => e.style.backgroundColor)")
    page.select_option("#encoder-direction", "1")
    page.select_option("#encoder-unit", "2")
    page.select_option("#encoder-gate", "o")
    page.hover('#encoder-panel .step[data-step="1"]')
    assert page.get_attribute("#value", "data-panel") == "encoder-"
    assert float(page.text_content('#value .v[data-gate="o"]')) == pytest.approx(float(encoder.gate("o", 0, 1)[1, 2]), abs=ROUNDING)
    assert page.eval_on_selector_all("#decoder-panel .step", "els => els.map(e => e.style.backgroundColor)") == decoder_colours
    page.select_option("#decoder-unit", "4")
    page.select_option("#decoder-gate", "f")
    page.hover('#decoder-panel .step[data-step="0"]')
    assert page.get_attribute("#value", "data-panel") == "decoder-"
    assert page.eval_on_selector_all("table.attention tr.hover", "els => els.map(e => e.dataset.step)") == ["0"]
    assert float(page.text_content('#value .v[data-gate="f"]')) == pytest.approx(float(decoder.gate("f")[0, 4]), abs=ROUNDING)
    assert problems == []
