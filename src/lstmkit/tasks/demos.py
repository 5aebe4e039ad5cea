"""Data for `lstmkit demo`: series that ship inside the package, so no demo downloads anything."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from ..rundir import STAGING

FILES = resources.files("lstmkit.data") / "files"


def airline_csv() -> Path:
    """Monthly international airline passengers, 1949-1960 (Box & Jenkins series G)."""
    return Path(str(FILES / "airline_passengers.csv"))


def sunspots_csv() -> Path:
    """Yearly mean sunspot numbers, 1700-2008 (NOAA NGDC)."""
    return Path(str(FILES / "sunspots_yearly.csv"))


def clear_interrupted_demo(out: Path) -> None:
    """An interrupted demo is not worth resuming: drop its staging folder so the demo starts afresh.
    A finished earlier run in `out` stays until the new one succeeds and replaces it."""
    shutil.rmtree(Path(out) / STAGING, ignore_errors=True)
