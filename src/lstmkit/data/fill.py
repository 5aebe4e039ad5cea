"""Missing values filled: the ways a `fill` setting names (`FILL_CHOICES`) and `fill_missing`.

The choices are a setting's, so the command line builds its options from them: this module imports pandas
only when it fills."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

FILL_CHOICES = ("ffill", "bfill", "interpolate", "zero")


def fill_missing(x: np.ndarray, how: str) -> np.ndarray:
    """(N,) -> (N,) with no NaN left (given at least one value): ffill / bfill (then the other way for the
    ends), interpolate (linear in the row position; the ends take the nearest value), or zero."""
    import numpy as np
    import pandas as pd

    s = pd.Series(x)
    if how == "ffill":
        s = s.ffill().bfill()
    elif how == "bfill":
        s = s.bfill().ffill()
    elif how == "interpolate":
        s = s.interpolate(method="linear", limit_direction="both")
    else:
        s = s.fillna(0.0)
    return s.to_numpy(dtype=np.float64)
