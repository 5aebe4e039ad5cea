"""What one LSTM layer is: its variant (`VARIANTS`, `variant_flags`), its sizes and variant flags
(`CellSpec`) and its weights (`CellWeights`).

Both are plain containers handed from the modules (`LSTM`, `LSTMCell`) to the kernels, so a kernel needs
to know nothing about `nn.Module`s, parameter names or stacking. Importing this module needs no torch: the
settings (and so the command line's options) name the variants from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Optional

from ..errors import ConfigError

if TYPE_CHECKING:
    from torch import Tensor

VARIANTS = ("vanilla", "peephole", "cifg", "layernorm")


def variant_flags(variant: str) -> dict[str, bool]:
    """The `LSTM` keyword arguments of a variant named as the command line names it ('vanilla': none)."""
    if variant not in VARIANTS:
        raise ConfigError(f"`variant` must be vanilla, peephole, cifg or layernorm, got {variant!r}")
    return {} if variant == "vanilla" else {variant: True}


@dataclass(frozen=True)
class CellSpec:
    """Sizes and variant flags of one LSTM layer (one direction)."""

    input_size: int  # I: features per step entering the layer
    hidden_size: int  # H: size of the cell state c and of the gates
    proj_size: int = 0  # P: LSTMP projection of h (0 = none, h has size H)
    bias: bool = True  # learnable bias_ih and bias_hh
    peephole: bool = False  # i, f see c_{t-1}; o sees c_t (diagonal weights)
    cifg: bool = False  # coupled input-forget gate: i = 1 - f, no input-gate weights
    layernorm: bool = False  # layer norm of both pre-activations and of c_t before tanh

    @property
    def num_gates(self) -> int:
        """Gate blocks stored in weight_ih / weight_hh: 4 (i, f, g, o), or 3 (f, g, o) with cifg."""
        return 3 if self.cifg else 4

    @property
    def output_size(self) -> int:
        """Size of h: P with a projection, else H."""
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    @property
    def is_vanilla(self) -> bool:
        """True when the layer computes exactly what `torch.nn.LSTM` computes."""
        return not (self.peephole or self.cifg or self.layernorm)

    @property
    def gate_names(self) -> tuple[str, ...]:
        return ("f", "g", "o") if self.cifg else ("i", "f", "g", "o")


class CellWeights(NamedTuple):
    """The tensors of one layer and direction; `None` where the spec has no such weight.

    Shapes, with G = spec.num_gates and P = spec.output_size:
        weight_ih (G*H, I), weight_hh (G*H, P), bias_ih (G*H), bias_hh (G*H), weight_hr (P, H),
        weight_ci, weight_cf, weight_co (H) peephole diagonals,
        ln_gain_ih, ln_gain_hh (G*H) and ln_gain_c, ln_bias_c (H) layer-norm parameters.
    """

    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Optional[Tensor] = None
    bias_hh: Optional[Tensor] = None
    weight_hr: Optional[Tensor] = None
    weight_ci: Optional[Tensor] = None
    weight_cf: Optional[Tensor] = None
    weight_co: Optional[Tensor] = None
    ln_gain_ih: Optional[Tensor] = None
    ln_gain_hh: Optional[Tensor] = None
    ln_gain_c: Optional[Tensor] = None
    ln_bias_c: Optional[Tensor] = None


class GateTrace(NamedTuple):
    """Gate activations and cell state of one layer and direction at every step, each (T, B, H).

    Steps past a sequence's length (see `lengths`) are zero. With `cifg`, `i` is `1 - f`.
    `c` is the cell state the layer carries to the next step (after zoneout, before layer norm).
    """

    i: Tensor  # input gate
    f: Tensor  # forget gate
    g: Tensor  # candidate cell values
    o: Tensor  # output gate
    c: Tensor  # cell state
