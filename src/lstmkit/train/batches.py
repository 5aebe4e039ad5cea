"""Where the training loop's mini-batches come from.

Most jobs hand the loop tensors that share their first dimension (windows, sequences); `TensorBatches`
shuffles and slices them, one batch at a time, so strided window views are copied batch by batch.
Sequences of different lengths come as `BucketedBatches`, each batch padded only to its own longest
sequence. A job whose batches must come in order (truncated BPTT over a corpus, with the state carried from
one batch to the next) hands the loop its own object with the same two members.
"""

from __future__ import annotations

from typing import Iterator, Optional, Protocol, Sequence

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from ..errors import ConfigError, DataError

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


class BucketedBatches:
    """Variable-length sequences as mini-batches that each pad only to their own longest sequence.

    Training (`epoch(generator)`): sort the sequences by length (equal lengths in random order), cut the
    sorted list into buckets of `bucket_batches` batches, shuffle the members within each bucket, cut the
    buckets into batches and shuffle the order of the batches. Neighbours in length share a batch, so little
    is padded, while the batches still differ from epoch to epoch. Evaluation (`epoch(None)`): sorted by
    length, in order, so the same call gives the same batches.

    Each batch is `(x, lengths)` or `(x, lengths, targets)`: x (B, T_max) for token ids or (B, T_max, F)
    for features, padded with `pad_value`; lengths (B,) int64; targets (B,). It satisfies `Batches`.
    """

    def __init__(
        self,
        sequences: Sequence[Tensor],
        targets: Optional[Tensor] = None,
        batch_size: int = 32,
        *,
        bucket_batches: int = 4,
        pad_value: float = 0,
    ):
        if batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
        if targets is not None and len(targets) != len(sequences):
            raise DataError(f"{len(sequences)} sequences but {len(targets)} targets")
        self.sequences, self.targets = list(sequences), targets  # each (T_i,) or (T_i, F)
        self.lengths = torch.tensor([len(s) for s in self.sequences], dtype=torch.int64)  # (N,)
        self.batch_size, self.bucket_batches, self.pad_value = batch_size, max(1, bucket_batches), pad_value

    def __len__(self) -> int:
        return len(self.sequences)

    def num_batches(self) -> int:
        return -(-len(self) // self.batch_size)

    def batch_indices(self, generator: Optional[torch.Generator]) -> list[Tensor]:
        """The members of each batch of one epoch, as index tensors into the sequences."""
        if generator is None:
            return list(torch.sort(self.lengths, stable=True).indices.split(self.batch_size))
        key = self.lengths.double() + torch.rand(len(self), generator=generator, dtype=torch.float64)
        by_length = torch.argsort(key)  # (N,): by length, equal lengths in random order
        batches: list[Tensor] = []
        for bucket in by_length.split(self.batch_size * self.bucket_batches):
            shuffled = bucket[torch.randperm(len(bucket), generator=generator)]
            batches += list(shuffled.split(self.batch_size))
        return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]

    def collate(self, index: Tensor) -> tuple[Tensor, ...]:
        """The batch of the sequences at `index`: (x, lengths[, targets])."""
        x = pad_sequence([self.sequences[i] for i in index.tolist()], batch_first=True, padding_value=self.pad_value)
        batch = (x, self.lengths[index])
        return batch if self.targets is None else (*batch, self.targets[index])

    def epoch(self, generator: Optional[torch.Generator]) -> Iterator[tuple[tuple[Tensor, ...], int]]:
        for index in self.batch_indices(generator):
            yield self.collate(index), len(index)
