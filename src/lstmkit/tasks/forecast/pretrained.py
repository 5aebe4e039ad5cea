"""The forecaster's pretrained networks (`start="pretrained"`): one per seasonal period, each fitted as one global
model over a competition's series, shipped in the package (`lstmkit/data/files/pretrained/`), and loaded as the
starting weights of the forecaster's network for a series it never saw.

One short series teaches a network little; thousands teach it what a correction of the statistics looks like
(Oreshkin et al. 2021: N-BEATS trained on M4 forecast M3 and Tourism zero-shot). A file holds the members of
an ensemble fitted by `Forecaster` itself (base naive2, every member reading the ETS forecast), with what
they were trained with in its metadata: the season, the horizon, the lookback, the hidden size and the data.
`tools/pretrain_forecast.py` writes them.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import Path
from typing import Optional

import torch

from ...errors import ConfigError

PRETRAINED = resources.files("lstmkit.data") / "files" / "pretrained"


@dataclasses.dataclass
class Pretrained:
    """A shipped ensemble: its members' weights, and the settings a forecaster needs to load them."""

    season: int
    horizon: int  # the steps each member forecasts: a forecaster's horizon may be shorter
    lookback: int
    hidden: int
    members: list[dict[str, torch.Tensor]]
    trained_on: str

    def weights(self, k: int, n_quantiles: int) -> dict[str, torch.Tensor]:
        """Member k's weights (the members repeat for a larger ensemble), its head's outputs repeated for each
        of `n_quantiles` quantiles: every quantile starts at the point forecast the member learned."""
        state = dict(self.members[k % len(self.members)])
        weight, bias = state["head.weight"], state["head.bias"]  # (H, inputs), (H,): output h * Q + q is step h's quantile q
        state["head.weight"] = weight.repeat_interleave(n_quantiles, dim=0)
        state["head.bias"] = bias.repeat_interleave(n_quantiles)
        return state


def path_for(season: int) -> Path:
    return Path(str(PRETRAINED / f"forecast-season{season}.safetensors"))


def pretrained_seasons() -> list[int]:
    """The seasonal periods a pretrained network ships for."""
    return sorted(int(p.stem.removeprefix("forecast-season")) for p in Path(str(PRETRAINED)).glob("forecast-season*.safetensors"))


def load_pretrained(season: int) -> Optional[Pretrained]:
    """The shipped ensemble for `season`, or None where none ships."""
    from safetensors import safe_open

    path = path_for(season)
    if not path.is_file():
        return None
    with safe_open(str(path), "pt") as file:
        meta = json.loads(file.metadata()["lstmkit"])
        tensors = {name: file.get_tensor(name) for name in file.keys()}
    members = [{name.split(".", 1)[1]: t.float() for name, t in tensors.items() if name.startswith(f"member{k}.")}
               for k in range(meta["members"])]  # fmt: skip
    return Pretrained(meta["season"], meta["horizon"], meta["lookback"], meta["hidden"], members, meta["trained_on"])


def save_pretrained(forecaster, path: Path, trained_on: str) -> None:
    """A fitted many-series forecaster's members (base naive2, each reading the ETS forecast) as a pretrained file."""
    from safetensors.torch import save_file

    if forecaster.base_ != "naive2" or not all(forecaster.reads_ets_) or forecaster.feature_names_ or forecaster.quantiles_:
        raise ConfigError("a pretrained network is a forecaster with base naive2, every member reading the ETS forecast, "
                          "no covariates and no quantiles")  # fmt: skip
    meta = {"season": forecaster.season_, "horizon": forecaster.horizon, "lookback": forecaster.lookback_,
            "hidden": forecaster.hidden, "members": len(forecaster.members_), "trained_on": trained_on}  # fmt: skip
    tensors = {f"member{k}.{name}": t.detach().to(torch.float32).contiguous()
               for k, net in enumerate(forecaster.members_) for name, t in net.state_dict().items()}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={"lstmkit": json.dumps(meta)})
