"""`lstmkit.LSTM`: a drop-in for `torch.nn.LSTM` with variants, regularisers, lengths and a gate trace."""

from __future__ import annotations

import warnings
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from ..errors import ConfigError, ShapeError
from . import checks
from .functional import BACKENDS, Regularisers, flat_weights, lstm
from .parameters import init_parameters, make_parameters, parameter_shapes
from .spec import CellSpec, CellWeights

Flag = Union[bool, Sequence[bool]]


class LSTM(nn.Module):
    r"""A multi-layer long short-term memory (LSTM) network over an input sequence.

    For each element in the input sequence, each layer computes, with gate order i, f, g, o as
    `torch.nn.LSTM` stores them:

    .. math::
        \begin{array}{ll}
        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
        f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t = o_t \odot \tanh(c_t)
        \end{array}

    where :math:`h_t` is the hidden state at time t, :math:`c_t` the cell state, :math:`x_t` the input
    (the previous layer's output, with dropout between layers when ``dropout > 0``), :math:`\sigma` the
    sigmoid and :math:`\odot` the elementwise product. With ``proj_size > 0`` (LSTMP),
    :math:`h_t = W_{hr}(o_t \odot \tanh(c_t))`.

    Variants, each given once for all layers or as one bool per layer, all combinable with each other,
    with ``proj_size``, ``bidirectional``, ``lengths`` and every regulariser:

    - ``peephole`` (Gers & Schmidhuber 2000): :math:`i_t` and :math:`f_t` add :math:`w_{ci} \odot c_{t-1}`
      and :math:`w_{cf} \odot c_{t-1}` to their pre-activations, :math:`o_t` adds :math:`w_{co} \odot c_t`
      (diagonal weights ``weight_ci``, ``weight_cf``, ``weight_co``; with ``cifg`` there is no ``weight_ci``).
    - ``cifg`` (coupled input-forget gate): :math:`i_t = 1 - f_t`; the input-gate rows are dropped, so
      ``weight_ih`` is (3H, I) and ``weight_hh`` is (3H, P) with gate order f, g, o.
    - ``layernorm`` (Ba et al. 2016): the gates are
      :math:`\mathrm{LN}(W_{i\cdot} x_t)\gamma_{ih} + \mathrm{LN}(W_{h\cdot} h_{t-1})\gamma_{hh} + b_{ih} + b_{hh}`,
      each LN over all gate pre-activations of a row, and
      :math:`h_t = o_t \odot \tanh(\mathrm{LN}(c_t)\gamma_c + \beta_c)`; ``bias_ih`` and ``bias_hh`` are the
      normalisations' learned shifts (``ln_gain_ih``, ``ln_gain_hh``, ``ln_gain_c``, ``ln_bias_c``).

    Regularisers, active in training mode only (eval mode computes the plain layer, deterministically):

    - ``recurrent_dropout`` (Gal & Ghahramani 2016): one dropout mask per sequence on :math:`h_{t-1}` as the
      recurrent product sees it, the same at every step;
    - ``zoneout`` (Krueger et al. 2016): each unit of :math:`h_t` and :math:`c_t` keeps its previous value
      with this probability, drawn afresh at every step; one rate or an ``(h, c)`` pair;
    - ``weight_dropout`` (DropConnect on ``weight_hh``, as in AWD-LSTM): one mask per forward call.

    Default initialisation: Xavier-uniform ``weight_ih`` and orthogonal ``weight_hh`` per gate block,
    biases zero but the forget gate's (1.0 in ``bias_ih``), zero peephole weights, identity layer norms.

    A vanilla call (no variant, no trace, no regulariser but ``dropout``) runs PyTorch's own fused LSTM
    (oneDNN on CPU, cuDNN on GPU), so it is as fast as ``torch.nn.LSTM``, except where lstmkit's kernel
    measures faster (training a CPU layer of 256 units or more, in fp32 or under bf16 autocast with bf16
    products). Under bf16 autocast on a CPU without native bf16 (no AVX512-BF16 or AMX, e.g. an AVX2-only AMD
    EPYC), where ``torch.nn.LSTM`` itself fails, every call runs lstmkit's fused kernel with fp32 products
    and fp32 state, and ``backend='native'`` is refused. Anything else runs lstmkit's fused C++ kernel where
    it supports the call (`lstmkit.nn.kernels.fused`: fp32/fp64 and bf16 autocast on the CPU, every
    variant), and the reference implementation (`lstmkit.nn.kernels.reference`) otherwise (GPUs).
    ``backend`` forces one.

    Args:
        input_size: features I of each input step.
        hidden_size: size H of the cell state and the gates.
        num_layers: layers stacked, each reading the previous one's output. Default: 1
        bias: learn ``bias_ih`` and ``bias_hh``. Default: ``True``
        batch_first: input and output are (B, T, feature) instead of (T, B, feature); states are not
            affected. Default: ``False``
        dropout: dropout on each layer's output but the last's, in training. Default: 0
        bidirectional: add a layer that reads each sequence backwards. Default: ``False``
        proj_size: project h to this size (0 < proj_size < hidden_size); 0 for none. Default: 0
        peephole, cifg, layernorm: the variants above. Default: ``False``
        recurrent_dropout, zoneout, weight_dropout: the regularisers above. Default: 0
        backend: ``"auto"``, ``"native"``, ``"fused"`` or ``"reference"``. Default: ``"auto"``

    Inputs: input, (h_0, c_0), lengths, return_trace
        - **input**: (T, B, I), or (B, T, I) with ``batch_first=True``; a ``PackedSequence`` also works.
        - **h_0**: (D * num_layers, B, P), initial hidden state; zeros if not given.
        - **c_0**: (D * num_layers, B, H), initial cell state; zeros if not given.
        - **lengths**: (B,) integers in [1, T], the real length of each sequence in a padded batch. Outputs
          past a sequence's length are zero and its final state is the state at its last real step, in both
          directions (the reverse direction starts at each sequence's own last step). Default: all T.
        - **return_trace**: also return the gate trace. Default: ``False``

    Outputs: output, (h_n, c_n)[, trace]
        - **output**: (T, B, D * P), or (B, T, D * P) with ``batch_first=True``: the last layer's h_t for
          every t, both directions concatenated (forward first).
        - **h_n**: (D * num_layers, B, P), final hidden state of every layer and direction
          (index ``layer * D + direction``).
        - **c_n**: (D * num_layers, B, H), final cell state likewise.
        - **trace**: with ``return_trace=True``, ``trace[layer][direction]`` is a
          :class:`~lstmkit.nn.spec.GateTrace` of tensors ``i, f, g, o, c``, each (T, B, H), computed by the
          same code path as the output; steps past a sequence's length are zero.

    where T = time steps, B = batch size, I = input_size, H = hidden_size, P = proj_size if > 0 else H,
    D = 2 if bidirectional else 1.

    Attributes:
        weight_ih_l[k], weight_hh_l[k], bias_ih_l[k], bias_hh_l[k], weight_hr_l[k]: as in ``torch.nn.LSTM``,
            with suffix ``_reverse`` for the backward direction; variant parameters follow the same naming.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
        *,
        peephole: Flag = False,
        cifg: Flag = False,
        layernorm: Flag = False,
        recurrent_dropout: float = 0.0,
        zoneout: Union[float, tuple[float, float]] = 0.0,
        weight_dropout: float = 0.0,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        owner = "lstmkit.LSTM"
        self.input_size = checks.positive_int("input_size", input_size, owner)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size, owner)
        self.num_layers = checks.positive_int("num_layers", num_layers, owner)
        checks.proj_size(proj_size, hidden_size, owner)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = checks.rate("dropout", dropout, owner, allow_one=True)
        if self.dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout={dropout} acts between layers only, and num_layers=1: it has no effect", stacklevel=2
            )
        self.bidirectional = bool(bidirectional)
        self.proj_size = proj_size
        self.recurrent_dropout = checks.rate("recurrent_dropout", recurrent_dropout, owner)
        self.zoneout = checks.zoneout_rates(zoneout, owner)
        self.weight_dropout = checks.rate("weight_dropout", weight_dropout, owner)
        if backend not in BACKENDS:
            raise ConfigError(f"{owner}: backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.backend = backend

        flags = {
            name: checks.per_layer(name, value, num_layers, owner)
            for name, value in (("peephole", peephole), ("cifg", cifg), ("layernorm", layernorm))
        }
        self.specs: list[CellSpec] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else self.num_directions * self.output_size
            spec = CellSpec(
                layer_input, hidden_size, proj_size, self.bias,
                **{name: values[layer] for name, values in flags.items()},
            )  # fmt: skip
            self.specs.append(spec)
            for direction in range(self.num_directions):
                for name, param in make_parameters(spec, device, dtype).items():
                    self.register_parameter(name + self._suffix(layer, direction), param)

    # ---- sizes and names -------------------------------------------------------------------------
    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """Size of h per direction: proj_size if > 0, else hidden_size."""
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    @property
    def is_vanilla(self) -> bool:
        """True when the layer is exactly a `torch.nn.LSTM` (no variant, no within-layer regulariser)."""
        return all(s.is_vanilla for s in self.specs) and not self._regularisers().active(training=True)

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction == 1 else "")

    def _weights(self) -> list[list[CellWeights]]:
        """weights[layer][direction] for the kernels."""
        return [
            [
                CellWeights(**{name: getattr(self, name + self._suffix(layer, d)) for name in parameter_shapes(spec)})
                for d in range(self.num_directions)
            ]
            for layer, spec in enumerate(self.specs)
        ]

    def _regularisers(self) -> Regularisers:
        return Regularisers(self.recurrent_dropout, self.zoneout[0], self.zoneout[1], self.weight_dropout)

    def reset_parameters(self) -> None:
        """Re-draw every parameter with lstmkit's default initialisation."""
        for layer, spec in enumerate(self.specs):
            for d in range(self.num_directions):
                suffix = self._suffix(layer, d)
                init_parameters(spec, {name: getattr(self, name + suffix) for name in parameter_shapes(spec)})

    def flatten_parameters(self) -> None:
        """On CUDA, lay a vanilla stack's weights out in one buffer as cuDNN wants them, as
        `torch.nn.LSTM.flatten_parameters` does, so cuDNN does not copy them at every call.
        Elsewhere (CPU, variants) there is nothing to do."""
        if not all(spec.is_vanilla for spec in self.specs):
            return
        weights = flat_weights(self._weights(), self.specs[0])
        first = weights[0]
        if not all(
            w.is_cuda and w.dtype == first.dtype and torch.backends.cudnn.is_acceptable(w) for w in weights
        ) or len({w.data_ptr() for w in weights}) != len(weights):
            return
        num_weights = 2 + 2 * self.bias + (self.proj_size > 0)
        from torch.backends.cudnn import rnn

        with torch.cuda.device_of(first), torch.no_grad():
            if torch._use_cudnn_rnn_flatten_weight():
                torch._cudnn_rnn_flatten_weight(
                    weights, num_weights, self.input_size, rnn.get_cudnn_mode("LSTM"),
                    self.hidden_size, self.proj_size, self.num_layers, self.batch_first, self.bidirectional,
                )  # fmt: skip

    def _apply(self, fn, recurse: bool = True):
        result = super()._apply(fn, recurse)
        self.flatten_parameters()  # after .cuda() / .to(): re-lay the weights for cuDNN
        return result

    # ---- the call ----------------------------------------------------------------------------------
    def forward(self, input, hx: Optional[tuple[Tensor, Tensor]] = None, lengths=None, return_trace: bool = False):
        owner = "lstmkit.LSTM"
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ConfigError(f"{owner}: a PackedSequence carries its own lengths; do not pass lengths too")
            padded, lengths = pad_packed_sequence(input, batch_first=self.batch_first)
            output, state, *trace = self.forward(padded, hx, lengths, return_trace)
            packed = pack_padded_sequence(output, lengths, batch_first=self.batch_first, enforce_sorted=False)
            return (packed, state, *trace)

        x = checks.sequence_input(input, self.input_size, self.batch_first, owner)
        checks.same_dtype(x, self.weight_ih_l0, owner)
        T, B = (x.size(1), x.size(0)) if self.batch_first else (x.size(0), x.size(1))
        lengths = checks.sequence_lengths(lengths, T, B, owner)
        if lengths is not None and bool((lengths == T).all()):
            lengths = None  # every sequence is full length: nothing to mask
        hx = self._initial_state(hx, B, x)
        output, state, trace = lstm(
            x, hx, self._weights(), self.specs,
            batch_first=self.batch_first, dropout=self.dropout, training=self.training, lengths=lengths,
            regularisers=self._regularisers(), trace=return_trace, backend=self.backend,
        )  # fmt: skip
        return (output, state, trace) if return_trace else (output, state)

    def _initial_state(self, hx, batch: int, x: Tensor) -> tuple[Tensor, Tensor]:
        LD = self.num_layers * self.num_directions
        if hx is None:
            dtype = self.weight_ih_l0.dtype if torch.is_autocast_enabled(x.device.type) else x.dtype
            h0 = torch.zeros(LD, batch, self.output_size, dtype=dtype, device=x.device)
            c0 = torch.zeros(LD, batch, self.hidden_size, dtype=dtype, device=x.device)
            return h0, c0
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise ShapeError(
                f"lstmkit.LSTM expected the initial state as a pair (h_0, c_0) of tensors, got {type(hx).__name__}"
            )
        where = "(num_layers * num_directions, batch, {})"
        h0 = checks.state("h_0", hx[0], (LD, batch, self.output_size), where.format("proj_size or hidden_size"), "lstmkit.LSTM")
        c0 = checks.state("c_0", hx[1], (LD, batch, self.hidden_size), where.format("hidden_size"), "lstmkit.LSTM")
        return h0, c0

    # ---- interoperability with torch.nn.LSTM -------------------------------------------------------
    @classmethod
    def from_torch(cls, module: nn.LSTM) -> "LSTM":
        """An `lstmkit.LSTM` with exactly the configuration and weights of a `torch.nn.LSTM`."""
        if not isinstance(module, nn.LSTM):
            raise ConfigError(f"LSTM.from_torch expected a torch.nn.LSTM, got {type(module).__name__}")
        weight = module.weight_ih_l0
        layer = cls(
            module.input_size, module.hidden_size, module.num_layers, module.bias, module.batch_first,
            float(module.dropout), module.bidirectional, module.proj_size, device=weight.device, dtype=weight.dtype,
        )  # fmt: skip
        layer.load_state_dict(module.state_dict())
        return layer.train(module.training)

    def to_torch(self) -> nn.LSTM:
        """The same layer as a `torch.nn.LSTM`; only for configurations torch has (no variant or regulariser)."""
        extras = [flag for flag in ("peephole", "cifg", "layernorm") if any(getattr(s, flag) for s in self.specs)]
        extras += self._regularisers().active(training=True)
        if extras:
            raise ConfigError(f"LSTM.to_torch: torch.nn.LSTM has no {', '.join(extras)}; only vanilla layers convert")
        weight = self.weight_ih_l0
        module = nn.LSTM(
            self.input_size, self.hidden_size, self.num_layers, self.bias, self.batch_first, self.dropout,
            self.bidirectional, self.proj_size, device=weight.device, dtype=weight.dtype,
        )  # fmt: skip
        module.load_state_dict(self.state_dict())
        return module.train(self.training)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False),
                              ("proj_size", 0), ("recurrent_dropout", 0.0), ("zoneout", (0.0, 0.0)),
                              ("weight_dropout", 0.0), ("backend", "auto")):  # fmt: skip
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        for flag in ("peephole", "cifg", "layernorm"):
            values = [getattr(spec, flag) for spec in self.specs]
            if any(values):
                s += f", {flag}={values[0] if len(set(values)) == 1 else values}"
        return s
