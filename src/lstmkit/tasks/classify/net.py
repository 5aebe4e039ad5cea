"""The classifier's networks: token ids or features of each sequence -> class logits.

    lstm        embedding (text) -> LSTM -> pooling over the real steps -> dropout -> linear
    lstm-fcn    an LSTM branch beside a fully convolutional branch, concatenated before the linear head
                (Karim et al. 2017); with several channels the FCN branch has squeeze-and-excitation
                blocks, as MLSTM-FCN (Karim et al. 2019)
    alstm-fcn   the same with attention pooling over the LSTM branch's steps (ALSTM-FCN)

Every part sees the real steps only: convolutions read zeros past a sequence's end (the zeros "same"
padding would give it alone), batch normalisation takes its statistics over real steps, and every pooling
(max, mean, attention, global average, squeeze) ignores the padding. So padding a sequence in a batch never
changes its logits.

The LSTM branch of the FCN archs reads the series in segments (Karim's "dimension shuffle" taken part way):
one LSTM step holds `segment` consecutive steps of every channel, so a long series is a few dozen LSTM steps
(`segment` 1 for short series and text). It is `lstmkit.LSTM` (variants, `lengths`, the gate trace).
The FCN branch reads a series longer than FCN_STEPS as the means of windows of `fcn_stride` steps, so no
series costs it more than about FCN_STEPS steps. It reads the series at each time scale of FCN_SCALES with
its own convolutions: at scale 4, means of 4 of those steps, so its kernels (8, 5, 3) see 4 times as far, for
a quarter of the cost. Measured by benchmarks/classify_quality.py: a second scale of 4 raised ACSF1 from 0.75
to 0.84 and OSULeaf from 0.90 to 0.91-0.94 over seeds 0-1, where scales (1, 2), (1, 8) and (1, 4, 16) did
no better.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn

from ...nn import LSTM, variant_flags
FCN_FILTERS = (64, 128, 64)  # a quarter of the CPU cost of Karim's 128-256-128 (not compared for accuracy)
FCN_KERNELS = (8, 5, 3)  # as published (Wang et al. 2017's FCN)
SE_REDUCTION = 16  # squeeze-and-excitation bottleneck, as MLSTM-FCN
LSTM_BRANCH_STEPS = 64  # the FCN archs' LSTM branch reads a long series as at most this many segments
FCN_STEPS = 512  # the FCN branch reads a longer series averaged over windows of `fcn_stride` steps
# (measured at seeds 0-1: 256 gave ACSF1 0.75 and 0.76, PLAID 0.845 and 0.847, against 512's 0.84, 0.84, 0.898 and
# 0.879; 1024, with first differences as extra channels, gave ACSF1 0.74 and 0.78 against 512's 0.76 and 0.85)
FCN_SCALES = (1, 4)  # the FCN branch's time scales: one set of convolutions per scale, reading window means


def step_mask(lengths: Tensor, steps: int, device) -> Tensor:
    """(B, T) bool, True at the real steps of each sequence."""
    return torch.arange(steps, device=device)[None, :] < lengths.to(device)[:, None]


def segment_of(longest: int) -> int:
    """How many series steps one step of the FCN archs' LSTM branch holds, for a longest training sequence."""
    return max(1, math.ceil(longest / LSTM_BRANCH_STEPS))


def fcn_stride_of(longest: int) -> int:
    """How many series steps one step of the FCN branch averages, for a longest training sequence."""
    return max(1, math.ceil(longest / FCN_STEPS))


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch normalisation over channels of (B, C, T) whose statistics, while training, come from the real
    steps only (`mask` (B, T); None: every step is real); in eval mode the running statistics, as
    `nn.BatchNorm1d`."""

    def forward(self, x: Tensor, mask: Optional[Tensor]) -> Tensor:
        if not self.training or mask is None:
            return super().forward(x)
        m = mask[:, None, :].to(x.dtype)  # (B, 1, T)
        n = m.sum().clamp_min(2)
        mean = (x * m).sum(dim=(0, 2)) / n  # (C,)
        var = (((x - mean[None, :, None]) * m) ** 2).sum(dim=(0, 2)) / n  # (C,) biased, as BatchNorm normalises
        with torch.no_grad():
            self.num_batches_tracked += 1
            # momentum None: the cumulative mean of the batches' statistics, as nn.BatchNorm1d keeps it
            factor = 1 / int(self.num_batches_tracked) if self.momentum is None else self.momentum
            self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
            self.running_var.lerp_((var * n / (n - 1)).to(self.running_var.dtype), factor)
        scale = self.weight / torch.sqrt(var + self.eps)  # (C,)
        return (x - mean[None, :, None]) * scale[None, :, None] + self.bias[None, :, None]


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018) over (B, C, T): each channel rescaled by a gate computed
    from every channel's mean over the real steps."""

    def __init__(self, channels: int, reduction: int = SE_REDUCTION):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x: Tensor, mask: Optional[Tensor]) -> Tensor:
        return x * self.gate(masked_mean(x, mask))[:, :, None]  # (B, C, T)


class FCNBranch(nn.Module):
    """Three blocks of convolution -> masked batch norm -> ReLU (-> squeeze-excite after the first two when
    `squeeze_excite`), then global average pooling over the real steps: (B, T, F) -> (B, filters[-1])."""

    def __init__(self, n_inputs: int, squeeze_excite: bool, filters=None, kernels=None):
        super().__init__()
        filters, kernels = filters or FCN_FILTERS, kernels or FCN_KERNELS
        sizes = (n_inputs, *filters)
        self.convs = nn.ModuleList(nn.Conv1d(sizes[k], sizes[k + 1], kernels[k]) for k in range(len(filters)))
        self.pads = [((k - 1) // 2, k // 2) for k in kernels]  # "same" padding, the extra zero on the right
        self.norms = nn.ModuleList(MaskedBatchNorm1d(c) for c in filters)
        self.excite = nn.ModuleList(SqueezeExcite(c) if squeeze_excite and k < len(filters) - 1 else nn.Identity()
                                    for k, c in enumerate(filters))  # fmt: skip
        self.out_features = filters[-1]

    def forward(self, x: Tensor, mask: Optional[Tensor]) -> Tensor:
        """mask (B, T), True at the real steps; None when every step of the batch is real (no masking to do)."""
        m = None if mask is None else mask[:, None, :].to(x.dtype)  # (B, 1, T)
        h = x.transpose(1, 2)  # (B, F, T)
        for conv, pad, norm, excite in zip(self.convs, self.pads, self.norms, self.excite):
            h = h if m is None else h * m  # zeros past the end before each conv
            h = torch.relu(norm(conv(nn.functional.pad(h, pad)), mask))
            h = h if isinstance(excite, nn.Identity) else excite(h, mask)
        return masked_mean(h, mask)  # (B, C): global average over the real steps


def masked_mean(x: Tensor, mask: Optional[Tensor]) -> Tensor:
    """(B, C, T) -> (B, C): the mean over the real steps (`mask` (B, T); None: all of them)."""
    if mask is None:
        return x.mean(dim=2)
    m = mask[:, None, :].to(x.dtype)  # (B, 1, T)
    return (x * m).sum(dim=2) / m.sum(dim=2)


class AttentionPooling(nn.Module):
    """Additive attention over the real steps (Bahdanau et al. 2015): a_t = softmax_t(v . tanh(W h_t)),
    pooled = sum_t a_t h_t; (B, T, D) -> (B, D)."""

    def __init__(self, size: int):
        super().__init__()
        self.project = nn.Linear(size, size)
        self.score = nn.Linear(size, 1, bias=False)

    def forward(self, h: Tensor, mask: Tensor) -> Tensor:
        scores = self.score(torch.tanh(self.project(h))).squeeze(-1)  # (B, T)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)  # (B, T), 0 on padding
        return (weights[:, :, None] * h).sum(dim=1)  # (B, D)


class ClassifierNet(nn.Module):
    """Token ids (B, T) or features (B, T, F), with lengths (B,) -> class logits (B, K).

    arch "lstm": text: embedding -> LSTM -> pooling -> dropout -> linear; numeric: the (scaled) features go
    straight into the LSTM. Pooling over the real steps only: "last" takes h_n of the top layer (each
    direction's final state at the sequence's own last step), "mean" the average and "max" the maximum of
    the top layer's outputs.
    arch "lstm-fcn" / "alstm-fcn": the pooled LSTM branch (read in segments of `segment` steps; alstm-fcn
    pools it with attention) and the FCN branch, concatenated -> dropout -> linear.
    """

    def __init__(
        self,
        n_classes: int,
        *,
        vocab_size: Optional[int] = None,
        n_features: Optional[int] = None,
        embedding_dim: int = 64,
        hidden: int = 64,
        layers: int = 1,
        variant: str = "vanilla",
        dropout: float = 0.0,
        bidirectional: bool = False,
        pooling: str = "max",
        arch: str = "lstm",
        segment: int = 1,
        fcn_stride: int = 1,
        fcn_scales: tuple = (1,),
    ):
        super().__init__()
        self.embedding = None if vocab_size is None else nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        n_inputs = embedding_dim if vocab_size is not None else n_features
        self.arch, self.segment, self.pooling, self.fcn_stride = arch, segment, pooling, fcn_stride
        self.lstm = LSTM(n_inputs * segment, hidden, layers, batch_first=True,
                         dropout=dropout if layers > 1 else 0.0, bidirectional=bidirectional,
                         **variant_flags(variant))  # fmt: skip
        size = hidden * self.lstm.num_directions
        self.attention = AttentionPooling(size) if arch == "alstm-fcn" else None
        self.fcn = FCNBranch(n_inputs, squeeze_excite=n_inputs > 1) if arch != "lstm" else None
        self.scales = tuple(fcn_scales[1:]) if arch != "lstm" else ()  # the coarser scales, past the first (1)
        self.coarse = nn.ModuleList(FCNBranch(n_inputs, squeeze_excite=n_inputs > 1) for _ in self.scales)
        self.dropout = nn.Dropout(dropout)
        fcn_size = (self.fcn.out_features * (1 + len(self.scales))) if self.fcn is not None else 0
        self.head = nn.Linear(size + fcn_size, n_classes)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        if self.embedding is not None:
            x = self.embedding(x)  # (B, T) -> (B, T, E)
        pooled = self._lstm_branch(x, lengths)  # (B, D*H)
        if self.fcn is not None:
            x, lengths = window_means(x, lengths, self.fcn_stride)  # a long series: means of fcn_stride steps
            pooled = [pooled, _fcn_read(self.fcn, x, lengths)]
            for scale, fcn in zip(self.scales, self.coarse):  # the same series, coarser: a wider view
                pooled.append(_fcn_read(fcn, *window_means(x, lengths, scale)))
            pooled = torch.cat(pooled, dim=1)  # (B, D*H + C * scales)
        return self.head(self.dropout(pooled))  # (B, K)

    def _lstm_branch(self, x: Tensor, lengths: Tensor) -> Tensor:
        """(B, T, F) -> (B, D*H): the LSTM over the segments, pooled over the real ones."""
        if self.segment > 1:
            x, lengths = segments(x, lengths, self.segment)  # (B, T/s, s*F)
        output, (h_n, _) = self.lstm(x, lengths=lengths)  # output (B, T, D*H), zero past each length
        mask = step_mask(lengths, output.size(1), output.device)  # (B, T)
        if self.attention is not None:
            return self.attention(output, mask)
        if self.pooling == "last":
            D = self.lstm.num_directions
            return torch.cat(list(h_n[-D:]), dim=1)  # (B, D*H): the top layer, both directions
        if self.pooling == "mean":
            return output.sum(dim=1) / lengths.to(output.device, output.dtype)[:, None]
        return output.masked_fill(~mask[:, :, None], float("-inf")).amax(dim=1)


def _fcn_read(fcn: FCNBranch, x: Tensor, lengths: Tensor) -> Tensor:
    # equal lengths: nothing to mask, a third less work; an exported graph takes any lengths, so it masks
    full = not torch.compiler.is_exporting() and bool((lengths == x.size(1)).all())
    return fcn(x, None if full else step_mask(lengths, x.size(1), x.device))


def window_means(x: Tensor, lengths: Tensor, size: int) -> tuple[Tensor, Tensor]:
    """(B, T, F) -> (B, ceil(T/size), F): the mean of each window of `size` steps (a window past a sequence's
    end counts its zeros), and the lengths in windows."""
    if size == 1:
        return x, lengths
    x, lengths = segments(x, lengths, size)
    return x.view(x.size(0), x.size(1), size, -1).mean(dim=2), lengths


def segments(x: Tensor, lengths: Tensor, segment: int) -> tuple[Tensor, Tensor]:
    """(B, T, F) zero past each length -> (B, ceil(T/s), s*F): step k holds steps [k*s, (k+1)*s) of every
    feature, the last one of a sequence zero-filled past its end; and the lengths in segments."""
    B, T, F = x.shape
    steps = (T + segment - 1) // segment  # not -(-T // s): ONNX's integer division truncates, it does not floor
    x = nn.functional.pad(x, (0, 0, 0, steps * segment - T))  # (B, steps*s, F)
    return x.reshape(B, steps, segment * F), torch.div(lengths + segment - 1, segment, rounding_mode="floor")


class Probabilities(nn.Module):
    """A classifier's logits and class probabilities: (x, lengths) -> (logits (B, K), probabilities (B, K))."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        logits = self.model(x, lengths).float()
        return logits, torch.softmax(logits, dim=-1)


class EnsembleNet(nn.Module):
    """Members trained apart, averaged: (x, lengths) -> log of the members' mean class probabilities, so a
    softmax of the output is that mean. `lstm` is the first member's, for the gate inspector."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    @property
    def lstm(self) -> LSTM:
        return self.members[0].lstm

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        proba = torch.stack([torch.softmax(m(x, lengths).float(), dim=-1) for m in self.members])  # (M, B, K)
        return torch.log(proba.mean(dim=0))  # (B, K)
