"""The classifier's network: token ids or features of each sequence -> class logits."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from ...nn import LSTM, variant_flags


class ClassifierNet(nn.Module):
    """Token ids (B, T) or features (B, T, F), with lengths (B,) -> class logits (B, K).

    text: embedding -> LSTM -> pooling -> dropout -> linear; numeric: the (scaled) features go straight into
    the LSTM. Pooling over the real steps only: "last" takes h_n of the top layer (each direction's final
    state at the sequence's own last step), "mean" the average and "max" the maximum of the top layer's
    outputs.
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
    ):
        super().__init__()
        self.embedding = None if vocab_size is None else nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = LSTM(embedding_dim if vocab_size is not None else n_features, hidden, layers, batch_first=True,
                         dropout=dropout if layers > 1 else 0.0, bidirectional=bidirectional,
                         **variant_flags(variant))  # fmt: skip
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden * self.lstm.num_directions, n_classes)
        self.pooling = pooling

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        if self.embedding is not None:
            x = self.embedding(x)  # (B, T) -> (B, T, E)
        output, (h_n, _) = self.lstm(x, lengths=lengths)  # output (B, T, D*H), zero past each length
        if self.pooling == "last":
            D = self.lstm.num_directions
            pooled = torch.cat(list(h_n[-D:]), dim=1)  # (B, D*H): the top layer, both directions
        elif self.pooling == "mean":
            pooled = output.sum(dim=1) / lengths.to(output.device, output.dtype)[:, None]  # (B, D*H)
        else:
            real = torch.arange(output.size(1), device=output.device)[None, :] < lengths.to(output.device)[:, None]
            pooled = output.masked_fill(~real[:, :, None], float("-inf")).amax(dim=1)  # (B, D*H)
        return self.head(self.dropout(pooled))  # (B, K)
