"""Where the training loop's mini-batches come from: every kind of batch the jobs train on, in one place.

- `TensorBatches`: tensors that share their first dimension (windows of a series), shuffled and sliced one
  batch at a time, so strided window views are copied batch by batch;
- `BucketedBatches`: sequences of different lengths, each batch padded only to its own longest sequence;
- `StreamBatches`: a token stream cut into parallel streams read in order, chunk after chunk, for truncated
  BPTT with the state carried from one batch to the next (the language model);
- `PairBatches`: pairs of token sequences (source, target), bucketed by length like `BucketedBatches`
  (sequence to sequence).

Each has the members of `Batches`, which is all the loop asks of them.
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

    def weight(self, batch: Batch) -> int:
        """The examples in a batch (or in a distributed rank's slice of one, `distributed.shard`)."""


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

    def weight(self, batch: Batch) -> int:
        return len(batch[0])


def as_batches(data, batch_size: int, shuffle: bool) -> Batches:
    """Tensors become `TensorBatches`; anything with `epoch` is used as it is."""
    return data if hasattr(data, "epoch") else TensorBatches(data, batch_size, shuffle)


class BucketedBatches:
    """Variable-length sequences as mini-batches that each pad only to their own longest sequence.

    Training (`epoch(generator)`): sort the sequences by length (equal lengths in random order), cut the
    sorted list into buckets of `bucket_batches` batches, shuffle the members within each bucket, cut the
    buckets into batches of near-equal sizes (36 sequences in batches of 32 are two of 18, not 32 and a
    batch of 4 whose statistics would rule a batch-normalisation step) and shuffle the order of the
    batches. Neighbours in length share a batch, so little
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
        return bucketed(self.lengths, self.batch_size, self.bucket_batches, generator)

    def collate(self, index: Tensor) -> tuple[Tensor, ...]:
        """The batch of the sequences at `index`: (x, lengths[, targets])."""
        x = pad_sequence([self.sequences[i] for i in index.tolist()], batch_first=True, padding_value=self.pad_value)
        batch = (x, self.lengths[index])
        return batch if self.targets is None else (*batch, self.targets[index])

    def epoch(self, generator: Optional[torch.Generator]) -> Iterator[tuple[tuple[Tensor, ...], int]]:
        for index in self.batch_indices(generator):
            yield self.collate(index), len(index)

    def weight(self, batch: Batch) -> int:
        return len(batch[0])


def bucketed(lengths: Tensor, batch_size: int, bucket_batches: int, generator: Optional[torch.Generator]) -> list[Tensor]:
    """`BucketedBatches`' batches of items of these lengths (N,) (any sort key): in order of length without
    a generator; with one, in buckets of similar length, shuffled within and between buckets."""
    if generator is None:
        return list(torch.sort(lengths, stable=True).indices.split(batch_size))
    key = lengths.double() + torch.rand(len(lengths), generator=generator, dtype=torch.float64)
    by_length = torch.argsort(key)  # (N,): by length, equal lengths in random order
    batches: list[Tensor] = []
    for bucket in by_length.split(batch_size * bucket_batches):
        shuffled = bucket[torch.randperm(len(bucket), generator=generator)]
        batches += list(shuffled.tensor_split(-(-len(shuffled) // batch_size)))  # near-equal sizes
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


class StreamBatches:
    """The token stream of one part, cut into `streams` parallel streams read in `bptt`-step chunks, for
    truncated backpropagation through time.

    With N tokens there are N - 1 (input, next token) pairs. Stream b holds a contiguous run of them, the
    runs one after another in the text (the first `extra` streams one pair longer when N - 1 does not
    divide evenly), laid out as rows of x, y (streams, width). Batch k is columns [k*bptt, (k+1)*bptt) of
    every stream, in order and never shuffled, the last chunk shorter when bptt does not divide the width;
    the targets a shorter stream lacks are `pad_id`, which the loss ignores. So every token but the first is
    predicted exactly once per epoch, and chunk k+1 of a stream continues where chunk k stopped: the loss
    carries the LSTM state across. Each batch is (x, y, first): x, y (streams, T) int64 and first, a bool
    scalar that is true for the first chunk, where the carried state starts again from zeros.
    """

    def __init__(self, ids: Tensor, streams: int, bptt: int, pad_id: int = 0):
        ids = torch.as_tensor(ids, dtype=torch.long)  # (N,)
        pairs = len(ids) - 1
        if pairs < 1:
            raise DataError(f"a part of the corpus holds {len(ids)} tokens; it needs at least 2 to predict one")
        streams = max(1, min(streams, pairs))
        base, extra = divmod(pairs, streams)
        width = base + (extra > 0)
        self.x = torch.full((streams, width), pad_id, dtype=torch.long)  # (S, W)
        self.y = torch.full((streams, width), pad_id, dtype=torch.long)  # (S, W)
        start = 0
        for b in range(streams):
            length = base + (b < extra)
            self.x[b, :length] = ids[start : start + length]
            self.y[b, :length] = ids[start + 1 : start + length + 1]
            start += length
        self.bptt, self.pairs, self.pad_id = bptt, pairs, pad_id
        self.starts = list(range(0, width, bptt))
        self.weights = [int((self.y[:, s : s + bptt] != pad_id).sum()) for s in self.starts]

    def __len__(self) -> int:
        return self.pairs  # tokens predicted per epoch

    @property
    def streams(self) -> int:
        return self.x.shape[0]

    def num_batches(self) -> int:
        return len(self.starts)

    def epoch(self, generator: Optional[torch.Generator] = None) -> Iterator[tuple[tuple[Tensor, ...], int]]:
        for k, (s, weight) in enumerate(zip(self.starts, self.weights)):  # in order: the state runs on
            yield (self.x[:, s : s + self.bptt], self.y[:, s : s + self.bptt], torch.tensor(k == 0)), weight

    def weight(self, batch: Batch) -> int:
        return int((batch[1] != self.pad_id).sum())  # the tokens predicted


class PairBatches:
    """Pairs of token-id sequences (source (S_i,), target (T_i,) framed by <s> and </s>) in batches bucketed
    by source length, then target length, as `BucketedBatches` buckets sequences.

    Each batch is (source (B, S), source lengths (B,), target input (B, T-1), target output (B, T-1)): the
    target without its last token and without its first, padded with `pad_id`. An epoch's weight is the
    number of target tokens predicted, so the loss is a mean per token.

    Copy attention: `copy_sources` (each (S_i,)) and `copy_targets` (each (T_i,)) give each pair's ids in the
    target's extended vocabulary; the target output then comes from `copy_targets`, and the source's copy
    ids (B, S) end the batch."""

    def __init__(self, sources: Sequence[Tensor], targets: Sequence[Tensor], batch_size: int = 64, *,
                 pad_id: int = 0, bucket_batches: int = 8, copy_sources: Optional[Sequence[Tensor]] = None,
                 copy_targets: Optional[Sequence[Tensor]] = None):  # fmt: skip
        if len(sources) != len(targets):
            raise DataError(f"{len(sources)} sources but {len(targets)} targets")
        self.sources, self.targets, self.pad_id = list(sources), list(targets), pad_id
        self.copy_sources, self.copy_targets = copy_sources, copy_targets
        if batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
        # by source length, then target length
        self.key = torch.tensor([len(s) * 100_000 + len(t) for s, t in zip(self.sources, self.targets)], dtype=torch.int64)
        self.batch_size, self.bucket_batches = batch_size, bucket_batches
        self.tokens = sum(len(t) - 1 for t in self.targets)

    def __len__(self) -> int:
        return self.tokens

    def num_batches(self) -> int:
        return -(-len(self.sources) // self.batch_size)

    def batch_indices(self, generator: Optional[torch.Generator]) -> list[Tensor]:
        return bucketed(self.key, self.batch_size, self.bucket_batches, generator)

    def collate(self, index: Tensor) -> tuple[Tensor, ...]:
        chosen = index.tolist()
        source = pad_sequence([self.sources[i] for i in chosen], batch_first=True, padding_value=self.pad_id)
        target = pad_sequence([self.targets[i] for i in chosen], batch_first=True, padding_value=self.pad_id)
        lengths = torch.tensor([len(self.sources[i]) for i in chosen], dtype=torch.int64)
        if self.copy_sources is None:
            return source, lengths, target[:, :-1], target[:, 1:]
        copy_source = pad_sequence([self.copy_sources[i] for i in chosen], batch_first=True, padding_value=self.pad_id)
        copy_target = pad_sequence([self.copy_targets[i] for i in chosen], batch_first=True, padding_value=self.pad_id)
        return source, lengths, target[:, :-1], copy_target[:, 1:], copy_source

    def epoch(self, generator: Optional[torch.Generator]) -> Iterator[tuple[tuple[Tensor, ...], int]]:
        for index in self.batch_indices(generator):
            batch = self.collate(index)
            yield batch, self.weight(batch)

    def weight(self, batch: Batch) -> int:
        return int((batch[3] != self.pad_id).sum())  # the target tokens predicted
