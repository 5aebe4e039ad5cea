"""The encoder-decoder with attention (Luong et al. 2015; Bahdanau et al. 2015), on `lstmkit.LSTM`.

    encoder   source embedding -> dropout -> LSTM, bidirectional by default (each direction H/2, so the
              memory and the final states are H wide, as OpenNMT's brnn): memory (B, S, H)
    decoder   target embedding [+ the previous attentional output, "input feeding"] -> dropout -> LSTM
              (H, the encoder's final states as its initial state) -> h_t
    attention score(h_t, m_s) over the real source steps: dot h.m, general h.W m, additive v.tanh(W h + U m);
              a_t = softmax_s(score); context c_t = sum_s a_ts m_s
    output    attentional output h~_t = tanh(W_c [c_t; h_t]) -> dropout -> linear -> logits over the targets
              (with tie_embeddings, the output layer is the target embedding, through a projection H -> E
              when they differ)
    copy      (pointer-generator, See et al. 2017) p_gen = sigmoid(w [c_t; h_t; x_t]); the output is the
              log of p_gen softmax(logits) + (1 - p_gen) a_t summed onto each source token's target id, so
              the decoder can write a source token the target vocabulary lacks (ids past V, one per
              such token of the source)

Every step of the decoder runs through `lstmkit.LSTM` (so the fused kernel, the variants and the gate
trace), one step at a time with input feeding, all steps in one call without it. Padding never changes a
pair's outputs: the encoder reads each source to its own length, attention gives padding no weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor, nn

from ...nn import LSTM, variant_flags
from ...data.text import PAD_ID, UNK_ID


@dataclass
class Memory:
    """What the decoder reads from an encoded batch of sources."""

    values: Tensor  # (B, S, H) the encoder's outputs
    keys: Tensor  # (B, S, H) what the attention scores against (values, or their projection)
    mask: Tensor  # (B, S) bool, True at real source steps
    # copy attention: (B, S) each source token's id among the targets, past the target vocabulary (V + k) for
    # the k-th token of its source that the target vocabulary lacks; None: no copying
    copy_ids: Optional[Tensor] = None

    def repeat(self, k: int) -> "Memory":
        """Each source k times in a row (beam search: B sources -> B*k hypotheses)."""
        return Memory(*(None if t is None else t.repeat_interleave(k, dim=0)
                        for t in (self.values, self.keys, self.mask, self.copy_ids)))  # fmt: skip


@dataclass
class DecoderState:
    """The decoder's recurrent state between steps: the LSTM's (h, c) and the last attentional output."""

    lstm: tuple[Tensor, Tensor]  # each (layers, B, H)
    feed: Tensor  # (B, H)

    def select(self, index: Tensor) -> "DecoderState":
        return DecoderState((self.lstm[0][:, index], self.lstm[1][:, index]), self.feed[index])


class Attention(nn.Module):
    """Scores of a query against the memory's keys, masked to the real steps, and the context they weigh."""

    def __init__(self, size: int, kind: str):
        super().__init__()
        self.kind = kind
        self.key = None if kind == "dot" else nn.Linear(size, size, bias=False)  # general: W m; additive: U m
        self.query = nn.Linear(size, size) if kind == "additive" else None
        self.score = nn.Linear(size, 1, bias=False) if kind == "additive" else None

    def keys(self, values: Tensor) -> Tensor:
        return values if self.key is None else self.key(values)  # (B, S, H): once per source, not per step

    def forward(self, query: Tensor, memory: Memory) -> tuple[Tensor, Tensor]:
        """query (B, T, H) -> context (B, T, H) and weights (B, T, S), zero on padding, summing to 1."""
        if self.kind == "additive":
            scores = self.score(torch.tanh(self.query(query)[:, :, None] + memory.keys[:, None])).squeeze(-1)
        else:
            scores = query @ memory.keys.transpose(1, 2)  # (B, T, S)
        weights = torch.softmax(scores.float().masked_fill(~memory.mask[:, None, :], float("-inf")), dim=-1)
        weights = weights.to(memory.values.dtype)
        return weights @ memory.values, weights


class Seq2SeqNet(nn.Module):
    def __init__(self, source_vocab: int, target_vocab: int, *, embedding: int, hidden: int, layers: int = 1,
                 variant: str = "vanilla", dropout: float = 0.0, bidirectional: bool = True,
                 attention: str = "general", input_feed: bool = True, tie_embeddings: bool = False,
                 copy: bool = False, zoneout: float = 0.0, weight_dropout: float = 0.0):  # fmt: skip
        super().__init__()
        self.hidden, self.layers, self.input_feed, self.target_vocab = hidden, layers, input_feed, target_vocab
        flags = {**variant_flags(variant), "zoneout": zoneout, "weight_dropout": weight_dropout}
        between = dropout if layers > 1 else 0.0
        self.source_embedding = nn.Embedding(source_vocab, embedding, padding_idx=PAD_ID)
        self.target_embedding = nn.Embedding(target_vocab, embedding, padding_idx=PAD_ID)
        directions = 2 if bidirectional else 1
        self.encoder = LSTM(embedding, hidden // directions, layers, batch_first=True, dropout=between,
                            bidirectional=bidirectional, **flags)  # fmt: skip
        self.decoder = LSTM(embedding + hidden * input_feed, hidden, layers, batch_first=True, dropout=between, **flags)
        self.attention = Attention(hidden, attention)
        self.combine = nn.Linear(2 * hidden, hidden, bias=False)
        self.drop = nn.Dropout(dropout)
        self.projection = nn.Linear(hidden, embedding, bias=False) if tie_embeddings and hidden != embedding else None
        self.output = nn.Linear(embedding if tie_embeddings else hidden, target_vocab)
        if tie_embeddings:
            self.output.weight = self.target_embedding.weight
        self.tied = tie_embeddings
        self.copy_gate = nn.Linear(2 * hidden + embedding, 1) if copy else None

    @property
    def copies(self) -> bool:
        """Whether the network has copy attention: it then returns log-probabilities, not logits."""
        return self.copy_gate is not None

    @property
    def lstm(self) -> LSTM:
        """The encoder: what the gate inspector reads by default."""
        return self.encoder

    # ---- encode -------------------------------------------------------------------------------------
    def encode(self, source: Tensor, lengths: Tensor, copy_ids: Optional[Tensor] = None) -> tuple[Memory, DecoderState]:
        """source (B, S) ids, lengths (B,) [, copy_ids (B, S)] -> the memory, and the decoder's initial state."""
        values, (h, c) = self.encoder(self.drop(self.source_embedding(source)), lengths=lengths)  # (B, S, H)
        if self.encoder.num_directions == 2:  # (2L, B, H/2) -> (L, B, H): each layer's two directions side by side
            h, c = (torch.cat([s[0::2], s[1::2]], dim=2) for s in (h, c))
        mask = torch.arange(source.size(1), device=source.device)[None, :] < lengths.to(source.device)[:, None]
        memory = Memory(values, self.attention.keys(values), mask, copy_ids if self.copies else None)
        return memory, DecoderState((h.contiguous(), c.contiguous()), values.new_zeros(source.size(0), self.hidden))

    # ---- decode -------------------------------------------------------------------------------------
    def forward(self, source: Tensor, lengths: Tensor, target_in: Tensor, copy_ids: Optional[Tensor] = None,
                return_attention: bool = False):  # fmt: skip
        """Teacher forcing: target_in (B, T) (<s> then the target) -> logits (B, T, V) [and weights (B, T, S)];
        with copy attention and copy_ids, log-probabilities (B, T, V + extra) instead."""
        memory, state = self.encode(source, lengths, copy_ids)
        if self.input_feed:
            outputs, attended = [], []
            for t in range(target_in.size(1)):
                step_logits, state, step_weights = self.step(target_in[:, t], state, memory)
                outputs.append(step_logits)
                attended.append(step_weights)
            logits, weights = torch.stack(outputs, dim=1), torch.stack(attended, dim=1)  # (B, T, V), (B, T, S)
        else:
            x = self._embed(target_in)  # (B, T, E)
            h, _ = self.decoder(self.drop(x), state.lstm)  # (B, T, H)
            logits, weights, _ = self._output(h, x, memory)
        return (logits, weights) if return_attention else logits

    def step(self, previous: Tensor, state: DecoderState, memory: Memory,
             full_width: bool = False) -> tuple[Tensor, DecoderState, Tensor]:  # fmt: skip
        """One decoder step: previous (B,) token ids -> logits (B, V) (with copying, log-probabilities over
        V + extra; with `full_width`, over V + S, as many extra ids as a source can have: the width an
        exported graph can know without reading the ids), the next state, weights (B, S)."""
        x = self._embed(previous)  # (B, E)
        inputs = torch.cat([x, state.feed], dim=1) if self.input_feed else x
        h, lstm_state = self.decoder(self.drop(inputs)[:, None], state.lstm)  # (B, 1, H)
        logits, weights, attentional = self._output(h, x[:, None], memory, full_width)
        return logits[:, 0], DecoderState(lstm_state, attentional[:, 0]), weights[:, 0]

    def _embed(self, ids: Tensor) -> Tensor:
        """Target ids -> embeddings; a copied token past the vocabulary is read as <unk>."""
        return self.target_embedding(ids.masked_fill(ids >= self.target_vocab, UNK_ID))

    def _output(self, h: Tensor, x: Tensor, memory: Memory, full_width: bool = False) -> tuple[Tensor, Tensor, Tensor]:
        """Decoder outputs h (B, T, H) and inputs x (B, T, E) -> logits or copy log-probabilities (B, T, .),
        attention weights (B, T, S), attentional outputs (B, T, H)."""
        context, weights = self.attention(h, memory)  # (B, T, H), (B, T, S)
        attentional = torch.tanh(self.combine(torch.cat([context, h], dim=2)))
        logits = self._logits(attentional)
        if memory.copy_ids is None:
            return logits, weights, attentional
        p_gen = torch.sigmoid(self.copy_gate(torch.cat([context, h, x], dim=2))).float()  # (B, T, 1)
        generated = torch.softmax(logits.float(), dim=-1) * p_gen  # (B, T, V)
        extra = memory.copy_ids.size(1) if full_width else copy_extra(memory.copy_ids, self.target_vocab)
        index = memory.copy_ids[:, None, :].expand(-1, h.size(1), -1)  # (B, T, S)
        mixed = nn.functional.pad(generated, (0, extra)).scatter_add(2, index, (1 - p_gen) * weights.float())
        return torch.log(mixed.clamp_min(1e-12)), weights, attentional

    def _logits(self, attentional: Tensor) -> Tensor:
        out = self.drop(attentional)
        if self.projection is not None:
            out = self.projection(out)
        return self.output(out)


def copy_extra(copy_ids: Tensor, vocab: int) -> int:
    """How many ids past the target vocabulary the sources of a batch (copy_ids (B, S)) bring."""
    return max(0, int(copy_ids.max()) + 1 - vocab)


class EncoderGraph(nn.Module):
    """The encoder as an exported graph: (source (B, S), lengths (B,)) -> the memory's values and keys
    (B, S, H) and the decoder's initial state h0, c0 (layers, B, H)."""

    def __init__(self, net: Seq2SeqNet):
        super().__init__()
        self.net = net

    def forward(self, source: Tensor, lengths: Tensor):
        memory, state = self.net.encode(source, lengths)
        return memory.values, memory.keys, state.lstm[0], state.lstm[1]


class DecoderStepGraph(nn.Module):
    """One decoder step as an exported graph: (previous (B,), h, c (layers, B, H), feed (B, H), values,
    keys (B, S, H), lengths (B,)[, copy_ids (B, S)]) -> logits (B, V) (with copy attention, log-probabilities
    over V + S: see `Seq2SeqNet.step`'s full_width), the next h, c and feed, attention weights (B, S)."""

    def __init__(self, net: Seq2SeqNet):
        super().__init__()
        self.net = net

    def forward(self, previous: Tensor, h: Tensor, c: Tensor, feed: Tensor, values: Tensor, keys: Tensor, lengths: Tensor,
                copy_ids: Optional[Tensor] = None):  # fmt: skip
        mask = torch.arange(values.size(1), device=values.device)[None, :] < lengths[:, None]
        logits, state, weights = self.net.step(previous, DecoderState((h, c), feed), Memory(values, keys, mask, copy_ids),
                                               full_width=True)  # fmt: skip
        return logits.float(), state.lstm[0], state.lstm[1], state.feed, weights


class OnnxSeq2Seq:
    """ONNX Runtime in the place of `Seq2SeqNet` for decoding (`encode` and `step`, what greedy, sampling and
    beam search call): `encoder` and `decoder` run the two exported graphs."""

    def __init__(self, encoder, decoder, copies: bool, target_vocab: int):
        self.encoder_graph, self.decoder_graph = encoder, decoder
        self.copies, self.target_vocab = copies, target_vocab

    def eval(self) -> "OnnxSeq2Seq":
        return self

    def encode(self, source: Tensor, lengths: Tensor, copy_ids: Optional[Tensor] = None) -> tuple[Memory, DecoderState]:
        values, keys, h, c = self.encoder_graph(source, lengths)
        mask = torch.arange(source.size(1))[None, :] < lengths[:, None]
        memory = Memory(values, keys, mask, copy_ids if self.copies else None)
        return memory, DecoderState((h, c), values.new_zeros(values.size(0), values.size(2)))

    def step(self, previous: Tensor, state: DecoderState, memory: Memory) -> tuple[Tensor, DecoderState, Tensor]:
        inputs = [previous, *state.lstm, state.feed, memory.values, memory.keys, memory.mask.sum(dim=1)]
        if memory.copy_ids is not None:
            inputs.append(memory.copy_ids)
        logits, h, c, feed, weights = self.decoder_graph(*inputs)
        if memory.copy_ids is not None:  # V + S wide: cut to the ids this batch's sources can have, as the network does
            logits = logits[:, : self.target_vocab + copy_extra(memory.copy_ids, self.target_vocab)]
        return logits, DecoderState((h, c), feed), weights
