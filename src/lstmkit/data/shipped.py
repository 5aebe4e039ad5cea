"""Data that ships inside the package, so no demo downloads anything."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

FILES = resources.files("lstmkit.data") / "files"


def airline_csv() -> Path:
    """Monthly international airline passengers, 1949-1960 (Box & Jenkins series G)."""
    return Path(str(FILES / "airline_passengers.csv"))


def sunspots_csv() -> Path:
    """Yearly mean sunspot numbers, 1700-2008 (NOAA NGDC)."""
    return Path(str(FILES / "sunspots_yearly.csv"))
