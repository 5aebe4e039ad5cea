"""`lstmkit.LSTMCell`: one step of the LSTM, with the same variants as `lstmkit.LSTM`."""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from ..errors import ConfigError, ShapeError
from . import checks
from .kernels.reference import cell_step, input_preactivations
from .parameters import init_parameters, make_parameters, parameter_shapes
from .spec import CellSpec, CellWeights


class LSTMCell(nn.Module):
    r"""A long short-term memory (LSTM) cell: one time step.

    .. math::
        \begin{array}{ll}
        i = \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) \\
        f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
        g = \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\
        o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
        c' = f \odot c + i \odot g \\
        h' = o \odot \tanh(c')
        \end{array}

    with the variants ``peephole``, ``cifg``, ``layernorm`` and ``proj_size`` defined exactly as in
    :class:`lstmkit.LSTM` (all combinable). For a whole sequence use :class:`lstmkit.LSTM`, which also has
    the regularisers, ``lengths``, the gate trace and the fast kernels.

    Args:
        input_size: features I of the input.
        hidden_size: size H of the cell state.
        bias: learn ``bias_ih`` and ``bias_hh``. Default: ``True``
        proj_size, peephole, cifg, layernorm: as in :class:`lstmkit.LSTM`.

    Inputs: input, (h_0, c_0)
        - **input**: (B, I) or (I,) for one unbatched step.
        - **h_0**: (B, P) or (P,); zeros if not given.
        - **c_0**: (B, H) or (H,); zeros if not given.

    Outputs: (h_1, c_1)
        - **h_1**: (B, P) or (P,), the next hidden state.
        - **c_1**: (B, H) or (H,), the next cell state.

    where P = proj_size if > 0 else H.

    Attributes:
        weight_ih (G*H, I), weight_hh (G*H, P), bias_ih (G*H), bias_hh (G*H), with G = 4 (3 with cifg), and
        the variant parameters named as in :class:`lstmkit.LSTM` without the layer suffix.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        proj_size: int = 0,
        peephole: bool = False,
        cifg: bool = False,
        layernorm: bool = False,
    ) -> None:
        super().__init__()
        owner = "lstmkit.LSTMCell"
        self.input_size = checks.positive_int("input_size", input_size, owner)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size, owner)
        checks.proj_size(proj_size, hidden_size, owner)
        self.spec = CellSpec(input_size, hidden_size, proj_size, bool(bias), bool(peephole), bool(cifg), bool(layernorm))
        for name, param in make_parameters(self.spec, device, dtype).items():
            self.register_parameter(name, param)

    @property
    def bias(self) -> bool:
        return self.spec.bias

    @property
    def proj_size(self) -> int:
        return self.spec.proj_size

    def reset_parameters(self) -> None:
        init_parameters(self.spec, dict(self.named_parameters()))

    def _weights(self) -> CellWeights:
        return CellWeights(**{name: getattr(self, name) for name in parameter_shapes(self.spec)})

    def forward(self, input: Tensor, hx: Optional[tuple[Tensor, Tensor]] = None) -> tuple[Tensor, Tensor]:
        owner = "lstmkit.LSTMCell"
        if not isinstance(input, Tensor) or input.dim() not in (1, 2) or input.size(-1) != self.input_size:
            got = checks.shape_str(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise ShapeError(
                f"{owner} expected input of shape (B, I) or (I,) with I = input_size = {self.input_size}, got {got}; "
                "for whole sequences use lstmkit.LSTM"
            )
        checks.same_dtype(input, self.weight_ih, owner)
        unbatched = input.dim() == 1
        x = input.unsqueeze(0) if unbatched else input  # (B, I)
        B, P, H = x.size(0), self.spec.output_size, self.hidden_size
        if hx is None:
            h = x.new_zeros(B, P)
            c = x.new_zeros(B, H)
        else:
            h, c = (v.unsqueeze(0) if unbatched else v for v in hx)
            checks.state("h_0", h, (B, P), "(B, proj_size or hidden_size)", owner)
            checks.state("c_0", c, (B, H), "(B, hidden_size)", owner)
        w = self._weights()
        h, c, _ = cell_step(input_preactivations(x, w, self.spec), h, c, w, self.spec)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)

    @classmethod
    def from_torch(cls, module: nn.LSTMCell) -> "LSTMCell":
        """An `lstmkit.LSTMCell` with the configuration and weights of a `torch.nn.LSTMCell`."""
        if not isinstance(module, nn.LSTMCell):
            raise ConfigError(f"LSTMCell.from_torch expected a torch.nn.LSTMCell, got {type(module).__name__}")
        w = module.weight_ih
        cell = cls(module.input_size, module.hidden_size, module.bias, device=w.device, dtype=w.dtype)
        cell.load_state_dict(module.state_dict())
        return cell

    def to_torch(self) -> nn.LSTMCell:
        """The same cell as a `torch.nn.LSTMCell` (vanilla cells without projection only)."""
        if not self.spec.is_vanilla or self.proj_size:
            raise ConfigError("LSTMCell.to_torch: torch.nn.LSTMCell has no variants or projection")
        w = self.weight_ih
        module = nn.LSTMCell(self.input_size, self.hidden_size, self.bias, device=w.device, dtype=w.dtype)
        module.load_state_dict(self.state_dict())
        return module

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        for name in ("proj_size", "peephole", "cifg", "layernorm"):
            if getattr(self.spec, name):
                s += f", {name}={getattr(self.spec, name)}"
        return s
