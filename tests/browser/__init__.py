"""Tests that open lstmkit's HTML pages in headless Chromium (a package, so its conftest does not shadow tests/conftest.py)."""
