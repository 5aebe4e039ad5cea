"""A headless Chromium for the browser tests, started once per session through Playwright.

The browser is Debian's `chromium` (`sh tools/install-chromium` installs it); Playwright drives it and
never downloads a browser of its own. Where Chromium or Playwright is missing, or Chromium cannot start,
every browser test skips with the reason, and the summary at the end of the run (`tests/conftest.py`) says
which happened: "browser tests: N ran in Chromium <version>" or "browser tests: N skipped: <reason>".
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LSTMKIT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
STATUS: dict = {"reason": None}


def _unavailable() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (install it with: sh tools/install-chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"Playwright is not importable ({error}); install the test extra: pip install -e '.[test]'"
    return None


def _skip(reason: str):
    STATUS["reason"] = reason
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    reason = STATUS["reason"] or _unavailable()
    if reason:
        _skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
    except Exception as error:  # noqa: BLE001 - any failure to start is a reason to skip, given in full
        playwright.stop()
        _skip(f"Chromium at {CHROMIUM} failed to start: {_launch_error(error)}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def open_page(browser, request):
    """open_page(path) -> (page, problems): the file opened at 1200 x 900, and a list that collects every
    console error, uncaught page error and request to anywhere but the page itself. The test's report
    carries Chromium's version (for the run's last lines, written where the reports end up)."""
    request.node.user_properties.append(("chromium", browser.version))
    pages = []

    def open_(path):
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        problems: list[str] = []
        page.on("console", lambda message: problems.append(f"console error: {message.text}") if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("request", lambda request: None if request.url.startswith(("file:", "data:"))
                else problems.append(f"network request: {request.url}"))  # fmt: skip
        page.goto(Path(path).resolve().as_uri())
        pages.append(page)
        return page, problems

    yield open_
    for page in pages:
        page.close()


def _launch_error(error: Exception) -> str:
    """Playwright's first line, and what Chromium itself printed to stderr (its log, one line a message)."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    said = [line.split("[err] ", 1)[1].strip() for line in lines if "[err] " in line and not line.lstrip().startswith("-")]
    return lines[0] + (f" (Chromium said: {'; '.join(said[:3])})" if said else "")
