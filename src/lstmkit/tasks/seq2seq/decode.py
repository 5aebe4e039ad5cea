"""Decoding a batch of sources: greedy, beam search and sampling, each for a whole batch at once.

Every function takes the network in eval mode, source ids (B, S) and their lengths (B,) (and with copy
attention `copy_ids` (B, S), see `net.Memory`), and returns one list of target ids per source (without
<s>, ending before </s>; with copying, an id past the target vocabulary is a copied source token). A
hypothesis ends at </s> or at its `max_len`, which may differ per source.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from ...data.text import PAD_ID, UNK_ID
from .net import Seq2SeqNet
from .tokens import BOS_ID, EOS_ID

NEVER = (PAD_ID, UNK_ID, BOS_ID)  # tokens no decoder emits: padding, the unknown token, a second <s>


def _masked(logits: Tensor) -> Tensor:
    """Log-probabilities (B, V) with the tokens no decoder emits ruled out."""
    never = torch.tensor(NEVER, device=logits.device)
    return torch.log_softmax(logits.float().index_fill(1, never, -math.inf), dim=-1)


@torch.no_grad()
def greedy(net: Seq2SeqNet, source: Tensor, lengths: Tensor, max_len: Tensor,
           copy_ids: Optional[Tensor] = None) -> list[list[int]]:  # fmt: skip
    """The most probable token at every step. max_len (B,): the most tokens each output may hold."""
    return sample(net, source, lengths, max_len, temperature=0.0, copy_ids=copy_ids)


@torch.no_grad()
def sample(net: Seq2SeqNet, source: Tensor, lengths: Tensor, max_len: Tensor, *, temperature: float = 1.0,
           top_k: Optional[int] = None, generator: Optional[torch.Generator] = None,
           copy_ids: Optional[Tensor] = None) -> list[list[int]]:  # fmt: skip
    """Each token drawn from the model's distribution divided by `temperature` (0: the most probable) and cut
    to the `top_k` most probable (None: all)."""
    memory, state = net.encode(source, lengths, copy_ids)
    B = source.size(0)
    previous = torch.full((B,), BOS_ID, dtype=torch.long, device=source.device)
    outputs = torch.full((B, int(max_len.max())), PAD_ID, dtype=torch.long)
    done = torch.zeros(B, dtype=torch.bool)
    for t in range(outputs.size(1)):
        logits, state, _ = net.step(previous, state, memory)
        scores = _masked(logits)
        if temperature == 0:
            token = scores.argmax(dim=-1)
        else:
            scores = scores / temperature
            if top_k is not None and top_k < scores.size(1):
                kth = scores.topk(top_k, dim=-1).values[:, -1:]
                scores = scores.masked_fill(scores < kth, -math.inf)
            token = torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=generator)[:, 0]
        token = token.cpu()
        done |= t >= max_len  # past a source's own limit: nothing more is kept
        outputs[:, t] = token.masked_fill(done, PAD_ID)
        done |= token == EOS_ID
        if bool(done.all()):
            break
        previous = token.to(source.device)
    return [_until_eos(row) for row in outputs.tolist()]


@torch.no_grad()
def beam_search(net: Seq2SeqNet, source: Tensor, lengths: Tensor, max_len: Tensor, *, beam: int = 5,
                length_penalty: float = 0.6, copy_ids: Optional[Tensor] = None) -> list[list[int]]:  # fmt: skip
    """The hypothesis with the best normalised log-probability among `beam` kept at every step.

    A hypothesis of n tokens (</s> included) scores log p / ((5 + n) / 6) ** length_penalty (Wu et al. 2016;
    0: the plain log-probability). An ending enters the finished list only among the `beam` best candidates
    of its step. A source's search ends at its max_len (the hypotheses still open end there as they are),
    or once `beam` hypotheses have ended and no open one can still beat the worst of the best `beam` of
    them: log p only falls as a hypothesis grows, so an open one's best is its log p now over the penalty
    of max_len tokens. With beam 1 and no length penalty this is greedy decoding."""
    memory, state = net.encode(source, lengths, copy_ids)
    B, K = source.size(0), beam
    memory, state = memory.repeat(K), state.select(torch.arange(B).repeat_interleave(K))
    scores = torch.full((B, K), -math.inf)
    scores[:, 0] = 0.0  # the K copies of a source start as one hypothesis
    hypotheses: list[list[int]] = [[] for _ in range(B * K)]  # the tokens of each open hypothesis, row by row
    previous = torch.full((B * K,), BOS_ID, dtype=torch.long, device=source.device)
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
    open_ = [True] * B  # sources still searching
    limits = max_len.tolist()
    for t in range(max(limits)):
        logits, state, _ = net.step(previous, state, memory)
        logp = _masked(logits).cpu()  # (B*K, V)
        V = logp.size(1)
        best, flat = (scores.view(B * K, 1) + logp).view(B, K * V).topk(2 * K, dim=1)  # (B, 2K): K stay open after any that end
        best, origin, token = best.tolist(), (flat // V).tolist(), (flat % V).tolist()
        next_scores = [[-math.inf] * K for _ in range(B)]
        next_rows, next_tokens = [[b * K] * K for b in range(B)], [[PAD_ID] * K for _ in range(B)]
        for b in range(B):
            if not open_[b]:
                continue
            last, kept = t + 1 >= limits[b], 0  # this step is the source's last
            for j in range(2 * K):
                score = best[b][j]
                if score == -math.inf:
                    break
                row = b * K + origin[b][j]
                ended = token[b][j] == EOS_ID
                if ended or last:
                    if j < K:  # only an ending among the K best candidates: no unlikely early stop crowds the list
                        hypothesis = hypotheses[row] + ([] if ended else [token[b][j]])
                        finished[b].append((score / _penalty(len(hypothesis) + 1, length_penalty), hypothesis))
                    continue
                next_scores[b][kept], next_rows[b][kept], next_tokens[b][kept] = score, row, token[b][j]
                kept += 1
                if kept == K:
                    break
            if last or kept == 0 or _settled(finished[b], K, next_scores[b][0], limits[b], length_penalty):
                open_[b] = False
                next_scores[b] = [-math.inf] * K
        if not any(open_):
            break
        rows = [row for chosen in next_rows for row in chosen]
        hypotheses = [hypotheses[row] + [tok] for row, tok in zip(rows, (t for chosen in next_tokens for t in chosen))]
        state = state.select(torch.tensor(rows, device=source.device))
        scores = torch.tensor(next_scores)
        previous = torch.tensor(next_tokens, device=source.device).view(-1)
    return [max(f, key=lambda h: h[0])[1] if f else [] for f in finished]


def _penalty(n: int, alpha: float) -> float:
    """GNMT's length normalisation of a hypothesis of n tokens."""
    return ((5 + n) / 6) ** alpha


def _settled(finished: list, beam: int, best_open: float, limit: int, alpha: float) -> bool:
    """Whether no open hypothesis (the best of them at log p `best_open`) can beat the worst of the `beam` best
    finished ones."""
    if len(finished) < beam:
        return False
    worst_kept = sorted((score for score, _ in finished), reverse=True)[beam - 1]
    return best_open / _penalty(limit + 1, alpha) <= worst_kept


def _until_eos(row: list[int]) -> list[int]:
    return row[: row.index(EOS_ID)] if EOS_ID in row else [t for t in row if t != PAD_ID]
