"""The language model's network, and the loss that carries its state from one chunk of text to the next."""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn
from torch.nn import functional as F

from ...nn import LSTM, variant_flags
from ...data.text import PAD_ID


class LanguageNet(nn.Module):
    """Token ids (B, T) -> next-token logits (B, T, V), carrying the LSTM state (h, c) in and out.

    embedding (V, E) -> dropout -> LSTM (E -> H, `layers` deep) -> dropout -> [projection H -> E] -> linear
    (-> V). With `tie_weights` the output layer shares the embedding matrix (Press & Wolf 2017; Inan et al.
    2017); when H != E a bias-free linear projection maps h_t to size E first.
    """

    def __init__(self, vocab_size: int, *, embedding: int, hidden: int, layers: int = 1, variant: str = "vanilla",
                 dropout: float = 0.0, tie_weights: bool = False):  # fmt: skip
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding)
        self.drop = nn.Dropout(dropout)
        self.lstm = LSTM(embedding, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0,
                         **variant_flags(variant))  # fmt: skip
        self.projection = nn.Linear(hidden, embedding, bias=False) if tie_weights and hidden != embedding else None
        self.decoder = nn.Linear(embedding if tie_weights else hidden, vocab_size)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)  # N(0, 1) would start a tied decoder far too confident
        nn.init.zeros_(self.decoder.bias)
        if tie_weights:
            self.decoder.weight = self.embedding.weight
        self.tied = tie_weights

    def forward(self, x: Tensor, state: Optional[tuple[Tensor, Tensor]] = None):
        e = self.drop(self.embedding(x))  # (B, T, E)
        out, state = self.lstm(e, state)  # (B, T, H); h, c: (layers, B, H)
        out = self.drop(out)
        if self.projection is not None:
            out = self.projection(out)  # (B, T, E)
        return self.decoder(out), state  # (B, T, V)


class StatefulLM(nn.Module):
    """A language model with its state as plain inputs and outputs, as ONNX takes them:
    (ids (B, T), h0 (L, B, H), c0 (L, B, H)) -> logits (B, T, V), h_n, c_n."""

    def __init__(self, model: LanguageNet):
        super().__init__()
        self.model = model

    def forward(self, ids: Tensor, h0: Tensor, c0: Tensor):
        logits, (h, c) = self.model(ids, (h0, c0))
        return logits.float(), h, c


class CarriedStateLoss:
    """Mean cross-entropy (nats per token) of a `StreamBatches` batch, carrying the LSTM state.

    The final (h, c) of one batch, detached so gradients stop at the chunk boundary, is the initial state
    of the next; the first batch of an epoch or of an evaluation pass starts from zeros.
    """

    def __init__(self):
        self.state: Optional[tuple[Tensor, Tensor]] = None

    def __call__(self, model: LanguageNet, batch: tuple[Tensor, ...]) -> Tensor:
        x, y, first = batch
        if bool(first) or self.state is None or self.state[0].shape[1] != x.shape[0]:
            self.state = None
        logits, state = model(x, self.state)  # (B, T, V)
        self.state = (state[0].detach(), state[1].detach())
        return F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), ignore_index=PAD_ID)
