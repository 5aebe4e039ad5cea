"""Where the training loop's mini-batches come from.

Most jobs hand the loop tensors that share their first dimension (windows, sequences); `TensorBatches`
shuffles and slices them, one batch at a time, so strided window views are copied batch by batch. A job
whose batches must come in order (truncated BPTT over a corpus, with the state carried from one batch to
the next) hands the loop its own object with the same two members.
"""

from __future__ import annotations

from typing import Iterator, Optional, Protocol, Sequence

import torch
from torch import Tensor

Batch = tuple[Tensor, ...]


class Batches(Protocol):
    def __len__(self) -> int:
        """Examples (windows, sequences, tokens) in one epoch: what a loss is averaged over."""

    def num_batches(self) -> int:
        """Batches (optimiser steps) in one epoch."""

    def epoch(self, generator: Optional[torch.Generator]) -> Iterator[tuple[Batch, int]]:
        """The batches of one epoch, each with its weight (examples in it); shuffled with `generator`
        when given and the source shuffles at all."""


class TensorBatches:
    """Mini-batches of tensors that share their first dimension N."""

    def __init__(self, tensors: Sequence[Tensor], batch_size: int, shuffle: bool = True):
        self.tensors, self.batch_size, self.shuffle = tuple(tensors), batch_size, shuffle

    def __len__(self) -> int:
        return len(self.tensors[0])

    def num_batches(self) -> int:
        return -(-len(self) // self.batch_size)

    def epoch(self, generator: Optional[torch.Generator]) -> Iterator[tuple[Batch, int]]:
        n = len(self)
        order = torch.randperm(n, generator=generator) if self.shuffle and generator is not None else torch.arange(n)
        for index in order.split(self.batch_size):
            yield tuple(t[index] for t in self.tensors), len(index)


def as_batches(data, batch_size: int, shuffle: bool) -> Batches:
    """Tensors become `TensorBatches`; anything with `epoch` is used as it is."""
    return data if hasattr(data, "epoch") else TensorBatches(data, batch_size, shuffle)
