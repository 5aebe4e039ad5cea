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
one LSTM step holds `segment` consecutive steps of every channel, so a long series is at most LSTM_BRANCH_STEPS
LSTM steps (`segment` 1 for short series and text). It is `lstmkit.LSTM` (variants, `lengths`, the gate trace).
The FCN branch reads the series at each time scale of FCN_SCALES with convolutions of its own. At every scale
the first block (convolution, batch norm, ReLU) reads every step of the series, and the maximum of each window
of `pool` of its output steps goes on to the other two blocks: `fcn_stride` steps at scale 1, so no series
costs the costly blocks more than about FCN_STEPS steps, and 4 times as many at scale 4, whose kernels (5, 3)
then see 4 times as far for a quarter of the cost. The maximum keeps what the first filters found anywhere in
a window (a spike, an edge, one cycle of a waveform), which a mean of the raw series blurs before any filter
sees it. Batch norm and ReLU are monotone in each channel, so the pooled block is computed as the block
applied to each window's peak of the convolution's output (`first_block_maxima`): the same values and
gradients, with no step but the peaks normalised: 16-23% off an ACSF1 training step (1460 steps, one channel)
timed alone, 5-10% off a whole ACSF1 fit, and less on OSULeaf (427 steps, where only scale 4 pools).
Measured on benchmarks/classify_quality.py's sets at seeds 0-2, against reading window means of the series
first (the earlier design, which runs saved with it still use): ACSF1 0.90, 0.85, 0.91 against 0.85, 0.85,
0.82; OSULeaf 0.959, 0.963, 0.955 against 0.934, 0.930, 0.921; PLAID 0.909, 0.905, 0.901 against 0.890, 0.873,
0.868; ArrowHead 0.863, 0.874, 0.880 against 0.863, 0.846, 0.874; the five short sets within 0.005 of it
(seeds 0-1). The nine sets' mean: 0.943, 0.939 and 0.944 at seeds 0-2, against 0.933 and 0.928 at seeds 0-1.
It costs 10-45% more time on the long sets, the first block now reading every step twice. Max pooling after
the first convolution, before its batch norm and ReLU, costs less but measured lower (ACSF1 0.80, 0.84, 0.76).
Before it, a second scale of 4 raised ACSF1 from 0.75 to 0.84 and OSULeaf from 0.90 to 0.91-0.94 over seeds
0-1, where scales (1, 2), (1, 8) and (1, 4, 16) did no better.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn

from ...data.text import PAD_ID, UNK_ID
from ...nn import LSTM, variant_flags

FCN_FILTERS = (64, 128, 64)  # a quarter of the CPU cost of Karim's 128-256-128 (not compared for accuracy)
FCN_KERNELS = (8, 5, 3)  # as published (Wang et al. 2017's FCN)
# Cheaper costly blocks measured lower, with FCN_STEPS 512 (nine sets' mean at seeds 0-1, against 0.941 and
# 0.940): filters 64-96-64 0.934 and 0.932 (ACSF1 0.83 and 0.83 against 0.88 and 0.88); kernels (8, 3, 3) 0.934
# and 0.929 (ACSF1 0.83 and 0.81)
SE_REDUCTION = 16  # squeeze-and-excitation bottleneck, as MLSTM-FCN
LSTM_BRANCH_STEPS = 128  # the FCN archs' LSTM branch reads a long series as at most this many segments
# Over benchmarks/classify_quality.py's nine sets at seeds 0-2 (one thread, the AVX2 EPYC), against 64: the mean
# 0.943, 0.945 and 0.947 against 0.942, 0.937 and 0.942, for 0-6% more time; OSULeaf (427 steps) 0.971, 0.979 and
# 0.979 against 0.955, 0.967 and 0.934, ArrowHead (251) 0.851, 0.851 and 0.869 against 0.840, 0.834 and 0.874,
# PLAID 0.888, 0.901 and 0.909 against 0.907, 0.898 and 0.907. 32 gave 0.926 at seed 0 (ArrowHead 0.760). The five
# held-out sets (--held-out, seed 0): 0.925 against 0.927 (PigCVP 0.750 against 0.736, WatchExercises 0.881 against 0.905).
FCN_STEPS = 256  # past the first block, the FCN branch reads a longer series pooled over windows of `fcn_stride` steps
# With max pooling after the first block, over benchmarks/classify_quality.py's sets at seeds 0-2 (only ACSF1,
# 1460 steps, OSULeaf, 427, and PLAID, up to 1344, are longer than 256): ACSF1 0.91, 0.92, 0.89 against 512's
# 0.88, 0.88, 0.91; OSULeaf 0.955, 0.967, 0.934 against 0.959, 0.963, 0.955; PLAID 0.907, 0.899, 0.898 against
# 0.909, 0.896, 0.898. The nine sets' mean 0.944, 0.945, 0.939 against 0.941, 0.940, 0.944, for 24% (ACSF1), 43%
# (OSULeaf) and 28% (PLAID) less time a training step (one thread, AVX-512). 384 gave the nine's mean 0.942, 0.945
# and 0.938 (OSULeaf at 2 steps a window, as 256); 128 gave 0.938, 0.942 and 0.939, ArrowHead (251 steps, now
# pooled) 0.834-0.857 against 0.863-0.869. 1024 gave PLAID 0.899 and ACSF1 0.85 against 512's 0.909 and 0.90
# (seed 0, an earlier default). When the FCN branch read window means of the series, 256 had lost (ACSF1 0.75 and
# 0.76, PLAID 0.845 and 0.847 against 512's 0.84, 0.84, 0.898 and 0.879, seeds 0-1): a window's mean blurs what
# its maximum keeps.
PRETRAIN_DROPOUT = 0.2  # on the embeddings and the outputs of `TextLanguageModels`
PRETRAIN_OUTPUTS = 2000  # the tokens `TextLanguageModels` predicts
FCN_SCALES = (1, 4)  # the FCN branch's time scales: one set of convolutions per scale
FIRST_BLOCK_POOL = "max"  # how each time scale reduces the series: "max" over its first block's output;
# "means": the series' window means before the first block (runs saved before "max" existed)


def step_mask(lengths: Tensor, steps: int, device) -> Tensor:
    """(B, T) bool, True at the real steps of each sequence."""
    return torch.arange(steps, device=device)[None, :] < lengths.to(device)[:, None]


def segment_of(longest: int) -> int:
    """How many series steps one step of the FCN archs' LSTM branch holds, for a longest training sequence."""
    return max(1, math.ceil(longest / LSTM_BRANCH_STEPS))


def fcn_stride_of(longest: int) -> int:
    """How many series steps one step of the FCN branch past its first block pools, for a longest training sequence."""
    return max(1, math.ceil(longest / FCN_STEPS))


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch normalisation over channels of (B, C, T) whose statistics, while training, come from the real
    steps only (`mask` (B, T); None: every step is real); in eval mode the running statistics, as
    `nn.BatchNorm1d`."""

    def forward(self, x: Tensor, mask: Optional[Tensor]) -> Tensor:
        if not self.training or mask is None:
            return super().forward(x)
        y, mean, var, n = MaskedNorm.apply(x, self.weight, self.bias, mask[:, None, :].to(x.dtype), self.eps)
        self.track(mean, var, n)
        return y

    def track(self, mean: Tensor, var: Tensor, n: Tensor) -> None:
        """Fold one training batch's mean and biased variance (C,), over `n` steps, into the running statistics."""
        with torch.no_grad():
            self.num_batches_tracked += 1
            # momentum None: the cumulative mean of the batches' statistics, as nn.BatchNorm1d keeps it
            factor = 1 / int(self.num_batches_tracked) if self.momentum is None else self.momentum
            self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
            self.running_var.lerp_((var * n / (n - 1)).to(self.running_var.dtype), factor)


def moments(x: Tensor, m: Optional[Tensor], dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
    """The mean and biased variance (C,) in `dtype` of (B, C, T) over the steps where `m` (B, 1, T) is 1 (None:
    every step), and their count. Sums in float64, so the variance as the mean square less the squared mean
    keeps its digits."""
    xm = x if m is None else x * m
    if m is None:
        n = torch.tensor(float(x.size(0) * x.size(2)), dtype=torch.float64, device=x.device).clamp_min(2)
    else:
        n = m.sum(dtype=torch.float64).clamp_min(2)
    mean = xm.sum(dim=2, dtype=torch.float64).sum(dim=0) / n
    squares = torch.linalg.vector_norm(xm, dim=2, dtype=torch.float64).square().sum(dim=0) / n
    return mean.to(dtype), (squares - mean * mean).clamp_min(0).to(dtype), n


class MaskedNorm(torch.autograd.Function):
    """Training's batch normalisation of (B, C, T) by the statistics of the real steps (`m` (B, 1, T), 1 at
    them), with a hand-written backward: a few passes over x where autograd through the masked sums makes a
    dozen. Returns the output, the batch's mean and biased variance (C,) and the count of real steps."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor, m: Tensor, eps: float):
        # in the weight's dtype, as batch_norm asks of bf16 input (autocast)
        mean, var, n = moments(x, m, weight.dtype)
        y = torch.batch_norm(x, weight, bias, mean, var, False, 0.0, eps, False)  # (x - mean) * rstd * weight + bias
        rstd = torch.rsqrt(var + eps)
        ctx.save_for_backward(x, weight, mean, rstd, n, m)
        ctx.mark_non_differentiable(mean, var, n)
        return y, mean, var, n

    @staticmethod
    def backward(ctx, grad, *_):
        x, weight, mean, rstd, n, m = ctx.saved_tensors
        grad_bias = grad.sum(dim=2, dtype=weight.dtype).sum(dim=0)  # (C,)
        grad_weight = ((grad * x).sum(dim=2, dtype=weight.dtype).sum(dim=0) - mean * grad_bias) * rstd  # sum grad xhat
        # dL/dx: weight rstd grad at every step; at the real steps also, through the statistics, minus rstd times
        # (the sum of dL/dxhat + xhat times the sum of dL/dxhat xhat) / n
        a, b = weight * grad_bias / n, weight * grad_weight / n
        c1 = -rstd * rstd * b
        c0 = -rstd * a - c1 * mean
        dx = torch.addcmul(c0[None, :, None], x, c1[None, :, None]).mul_(m)
        dx = dx.add_(grad * (weight * rstd)[None, :, None]).to(x.dtype)
        return dx, grad_weight, grad_bias, None, None


class Moments(torch.autograd.Function):
    """`moments` of (B, C, T) in `dtype`, with a hand-written backward, one pass over x: the gradient reaches
    every real step through the mean and the variance."""

    @staticmethod
    def forward(ctx, x: Tensor, m: Optional[Tensor], dtype: torch.dtype):
        mean, var, n = moments(x, m, dtype)
        ctx.save_for_backward(x, mean, n, m)
        ctx.mark_non_differentiable(n)
        return mean, var, n

    @staticmethod
    def backward(ctx, grad_mean, grad_var, _):
        x, mean, n, m = ctx.saved_tensors
        c1 = 2 * grad_var / n  # d var / dx = 2 (x - mean) / n; d mean / dx = 1 / n
        c0 = grad_mean / n - c1 * mean
        dx = torch.addcmul(c0[None, :, None], x, c1[None, :, None])
        return (dx if m is None else dx.mul_(m)).to(x.dtype), None, None


def first_block_maxima(conv: nn.Conv1d, pad: tuple, norm: MaskedBatchNorm1d, excite: nn.Module, h: Tensor,
                       lengths: Tensor, mask: Optional[Tensor], size: int):  # fmt: skip
    """The first block's output, relu(norm(conv(h))) (then squeeze-excite), and of it the maximum over the
    real steps of each window of `size` steps (a window past a sequence's end: zero), without normalising
    every step: the block is a non-decreasing function of s * conv(h) in each channel, s the sign of the
    channel's batch-norm weight, so each window's maximum is the block applied to the window's maximum of
    s * conv(h). The statistics stay those of every real step; the sign goes into the convolution's weights.
    A squeeze-excite `excite` (nn.Identity: none) weighs each channel by a gate above zero, computed from the
    block's output at every real step, which rescales the window's maxima alike. Returns the pooled
    (B, C, ceil(T/size)), the lengths in windows and their mask (None stays None): the values and gradients
    of the block at every step, pooled."""
    sign = torch.where(norm.weight >= 0, 1.0, -1.0).to(norm.weight.dtype).detach()  # (C,)
    bias = None if conv.bias is None else conv.bias * sign
    z = nn.functional.conv1d(nn.functional.pad(h, pad), conv.weight * sign[:, None, None], bias)  # s * conv(h)
    if norm.training:
        m = None if mask is None else mask[:, None, :].to(z.dtype)
        mean, var, n = Moments.apply(z, m, norm.weight.dtype)  # of s * conv(h)
        norm.track(mean * sign, var, n)
    else:
        mean, var = norm.running_mean * sign, norm.running_var
    slope = norm.weight.abs() * torch.rsqrt(var + norm.eps)  # (C,): the block's slope on s * conv(h), never negative
    shift = (norm.bias - mean * slope)[:, None]  # (C, 1)
    gate = None  # (B, C): squeeze-excite's, from the block's output at every real step
    if not isinstance(excite, nn.Identity):
        gate = excite.gate(masked_mean(torch.relu(torch.addcmul(shift, z, slope[:, None])), mask))
    z = z if mask is None else torch.where(mask[:, None, :], z, float("-inf"))  # no padding step is ever a maximum
    steps, lengths = windows(z.size(2), lengths, size)
    exporting = torch.compiler.is_exporting()  # max_pool1d would fix the time axis of an exported graph
    if exporting or z.size(2) % size:  # a last window short of `size` steps (a series shorter than one, too)
        z = nn.functional.pad(z, (0, steps * size - z.size(2)), value=float("-inf"))
    if exporting:
        peaks = z.view(z.size(0), z.size(1), steps, size).amax(dim=3)  # (B, C, steps)
    else:
        peaks = nn.functional.max_pool1d(z, size, size)  # the same, faster
    if mask is not None:
        mask = step_mask(lengths, peaks.size(2), peaks.device)
        peaks = peaks.masked_fill(~mask[:, None, :], 0.0)  # a window past a sequence's end: -inf, now finite
    pooled = torch.relu(torch.addcmul(shift, peaks, slope[:, None]))
    return (pooled if gate is None else pooled * gate[:, :, None]), lengths, mask


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
    `squeeze_excite`), then global average pooling over the real steps: (B, T, F) -> (B, filters[-1]).
    `pool` > 1: the maximum over each window of `pool` steps of the first block's output, over its real
    steps, is what the second block reads."""

    def __init__(self, n_inputs: int, squeeze_excite: bool, filters=None, kernels=None, pool: int = 1):
        super().__init__()
        self.pool = pool
        filters, kernels = filters or FCN_FILTERS, kernels or FCN_KERNELS
        sizes = (n_inputs, *filters)
        self.convs = nn.ModuleList(nn.Conv1d(sizes[k], sizes[k + 1], kernels[k]) for k in range(len(filters)))
        self.pads = [((k - 1) // 2, k // 2) for k in kernels]  # "same" padding, the extra zero on the right
        self.norms = nn.ModuleList(MaskedBatchNorm1d(c) for c in filters)
        self.excite = nn.ModuleList(SqueezeExcite(c) if squeeze_excite and k < len(filters) - 1 else nn.Identity()
                                    for k, c in enumerate(filters))  # fmt: skip
        self.out_features = filters[-1]

    def forward(self, x: Tensor, lengths: Tensor, masked: bool) -> Tensor:
        """x (B, T, F), zero past each of `lengths` (B,); masked False when every sequence of the batch is
        T steps long (no masking to do)."""
        mask = step_mask(lengths, x.size(1), x.device) if masked else None  # (B, T), True at the real steps
        h = x.transpose(1, 2)  # (B, F, T)
        for k, (conv, pad, norm, excite) in enumerate(zip(self.convs, self.pads, self.norms, self.excite)):
            h = h if mask is None else h * mask[:, None, :].to(h.dtype)  # zeros past the end before each conv
            if k == 0 and self.pool > 1:
                h, lengths, mask = first_block_maxima(conv, pad, norm, excite, h, lengths, mask, self.pool)
                continue
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
    pools it with attention) and the FCN branch at each of `fcn_scales`, concatenated -> dropout -> linear.
    first_block_pool "max": each scale's branch reads the series and pools its first block's output over
    windows of `fcn_stride` times the scale steps; "means" (runs saved before "max"): each reads window
    means of the series, of `fcn_stride` steps, then of the scale's number of those.
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
        first_block_pool: str = FIRST_BLOCK_POOL,
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
        self.scales = tuple(fcn_scales[1:]) if arch != "lstm" else ()  # the coarser scales, past the first (1)
        self.first_block_pool = first_block_pool
        # "max": each scale pools its first block's output; "means": the series reaches each scale as window means
        pools = [fcn_stride * s if first_block_pool == "max" else 1 for s in (1, *self.scales)]
        fcns = [FCNBranch(n_inputs, squeeze_excite=n_inputs > 1, pool=p) for p in pools] if arch != "lstm" else [None]
        self.fcn, self.coarse = fcns[0], nn.ModuleList(fcns[1:])
        self.dropout = nn.Dropout(dropout)
        fcn_size = (self.fcn.out_features * (1 + len(self.scales))) if self.fcn is not None else 0
        self.head = nn.Linear(size + fcn_size, n_classes)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        if self.embedding is not None:
            x = self.embedding(x)  # (B, T) -> (B, T, E)
        pooled = self._lstm_branch(x, lengths)  # (B, D*H)
        if self.fcn is not None and self.first_block_pool == "max":  # each branch pools after its first block
            pooled = torch.cat([pooled, *(_fcn_read(fcn, x, lengths) for fcn in (self.fcn, *self.coarse))], dim=1)
        elif self.fcn is not None:  # "means": each branch reads window means of the series
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


class TextLanguageModels(nn.Module):
    """A text classifier's embedding and LSTM read as language models of its training texts, to pretrain them
    before they learn the classes (Dai & Le 2015): the top layer's forward outputs at each step predict the
    next token and, bidirectional, its backward outputs the previous one (as ELMo's two directions, Peters et
    al. 2018). Each direction has an output layer of its own, dropped after pretraining, over the
    PRETRAIN_OUTPUTS most frequent tokens (ids below it: a `Vocabulary` numbers tokens by frequency); a rarer
    one is predicted as <unk>, so a large vocabulary of words costs no more than that.
    (ids (B, T), lengths (B,)) -> the mean cross-entropy of every token predicted, in nats per token (0 where
    no text of the batch has two tokens)."""

    def __init__(self, net: ClassifierNet, vocab_size: int, dropout: float = PRETRAIN_DROPOUT):
        super().__init__()
        self.net, self.drop = net, nn.Dropout(dropout)
        size = net.lstm.output_size  # a direction's output: the hidden or the projection size
        self.classes = min(vocab_size, PRETRAIN_OUTPUTS)
        self.outputs = nn.ModuleList(nn.Linear(size, self.classes) for _ in range(net.lstm.num_directions))

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        output, _ = self.net.lstm(self.drop(self.net.embedding(x)), lengths=lengths)  # (B, T, D*P), zero past each length
        output = self.drop(output).chunk(len(self.outputs), dim=2)  # D of (B, T, P)
        y = x.masked_fill(x >= self.classes, UNK_ID)  # (B, T) what is predicted: a rare token as <unk>
        # forwards, step t predicts token t + 1; a length's last step predicts the padding after it: ignored
        targets = [(output[0][:, :-1], y[:, 1:])]
        if len(self.outputs) == 2:  # backwards, step t predicts token t - 1; no step past a length predicts
            targets.append((output[1][:, 1:], y[:, :-1].masked_fill(x[:, 1:] == PAD_ID, PAD_ID)))
        total = sum(nn.functional.cross_entropy(layer(h).float().flatten(0, 1), t.flatten(), ignore_index=PAD_ID,
                                                reduction="sum") for layer, (h, t) in zip(self.outputs, targets))  # fmt: skip
        predicted = sum(int((t != PAD_ID).sum()) for _, t in targets)
        return total / max(predicted, 1)  # a batch of one-token texts predicts nothing: 0, not 0 / 0


def _fcn_read(fcn: FCNBranch, x: Tensor, lengths: Tensor) -> Tensor:
    # equal lengths: nothing to mask, a third less work; an exported graph takes any lengths, so it masks
    full = not torch.compiler.is_exporting() and bool((lengths == x.size(1)).all())
    return fcn(x, lengths, masked=not full)


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
    steps, lengths = windows(T, lengths, segment)
    x = nn.functional.pad(x, (0, 0, 0, steps * segment - T))  # (B, steps*s, F)
    return x.reshape(B, steps, segment * F), lengths


def windows(steps: int, lengths: Tensor, size: int) -> tuple[int, Tensor]:
    """How many windows of `size` steps cover `steps` steps, and each of `lengths`, a last short window
    counted: ceil(n / size), written (n + size - 1) // size, not -(-n // size), since ONNX's integer division
    truncates where Python's floors, and an exported graph keeps the time axis free."""
    return (steps + size - 1) // size, torch.div(lengths + size - 1, size, rounding_mode="floor")


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
