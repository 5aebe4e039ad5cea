"""The parameters of one LSTM layer: their names, shapes and default initialisation.

Shared by `LSTMCell` (names as they are) and `LSTM` (names with torch's `_l{k}` / `_reverse` suffix), so
both modules store exactly the same tensors for the same spec.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .spec import CellSpec


def parameter_shapes(spec: CellSpec) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter the spec needs, in `torch.nn.LSTM`'s order first."""
    gh = spec.num_gates * spec.hidden_size
    h = spec.hidden_size
    shapes: dict[str, tuple[int, ...]] = {
        "weight_ih": (gh, spec.input_size),
        "weight_hh": (gh, spec.output_size),
    }
    if spec.bias:
        shapes["bias_ih"] = (gh,)
        shapes["bias_hh"] = (gh,)
    if spec.proj_size > 0:
        shapes["weight_hr"] = (spec.proj_size, h)
    if spec.peephole:
        if not spec.cifg:  # with cifg there is no input gate to peep into
            shapes["weight_ci"] = (h,)
        shapes["weight_cf"] = (h,)
        shapes["weight_co"] = (h,)
    if spec.layernorm:
        shapes["ln_gain_ih"] = (gh,)
        shapes["ln_gain_hh"] = (gh,)
        shapes["ln_gain_c"] = (h,)
        shapes["ln_bias_c"] = (h,)
    return shapes


def make_parameters(spec: CellSpec, device=None, dtype=None) -> dict[str, nn.Parameter]:
    """Fresh, initialised parameters for one layer and direction."""
    params = {
        name: nn.Parameter(torch.empty(shape, device=device, dtype=dtype))
        for name, shape in parameter_shapes(spec).items()
    }
    init_parameters(spec, params)
    return params


@torch.no_grad()
def init_parameters(spec: CellSpec, params: dict[str, Tensor]) -> None:
    """lstmkit's default initialisation, gate block by gate block.

    - weight_ih: Xavier-uniform per gate block (each gate is its own H x I layer);
    - weight_hh: orthogonal per gate block, so each gate's recurrence neither grows nor shrinks h;
    - biases zero except the forget gate's, 1.0 in bias_ih (Jozefowicz et al. 2015), so the cell
      remembers by default at the start of training;
    - weight_hr: Xavier-uniform; peephole weights zero (the cell starts as a vanilla one);
    - layer-norm gains one and biases zero (the identity normalisation).
    """
    h = spec.hidden_size
    for block in params["weight_ih"].split(h, dim=0):
        nn.init.xavier_uniform_(block)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the QR factorisation rounds differently on other thread counts
    try:
        for block in params["weight_hh"].split(h, dim=0):
            nn.init.orthogonal_(block)
    finally:
        torch.set_num_threads(threads)
    if spec.bias:
        params["bias_ih"].zero_()
        params["bias_hh"].zero_()
        forget = spec.gate_names.index("f")
        params["bias_ih"][forget * h : (forget + 1) * h] = 1.0
    if "weight_hr" in params:
        nn.init.xavier_uniform_(params["weight_hr"])
    for name in ("weight_ci", "weight_cf", "weight_co", "ln_bias_c"):
        if name in params:
            params[name].zero_()
    for name in ("ln_gain_ih", "ln_gain_hh", "ln_gain_c"):
        if name in params:
            params[name].fill_(1.0)

