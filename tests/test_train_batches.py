"""Batching variable-length sequences by length for the training loop."""

import re

import pytest
import torch

from lstmkit.train import BucketedBatches

LENGTHS = [5, 1, 9, 3, 3, 7, 2, 8, 4, 6, 5, 2, 9, 1]


def _batches(batch_size=3):
    sequences = [torch.full((n,), i + 1) for i, n in enumerate(LENGTHS)]  # item i holds the value i + 1
    return BucketedBatches(sequences, torch.arange(len(LENGTHS)), batch_size, bucket_batches=2)


def test_batches_pad_only_to_their_own_longest_sequence():
    batches = _batches()
    for (x, lengths, targets), weight in batches.epoch(torch.Generator().manual_seed(0)):
        assert x.shape == (weight, int(lengths.max()))
        for row, length, item in zip(x, lengths, targets):
            assert (row[:length] == item + 1).all() and (row[length:] == 0).all()
            assert length == LENGTHS[item]


@pytest.mark.parametrize("generator", [None, torch.Generator().manual_seed(1)])
def test_every_item_is_in_exactly_one_batch_an_epoch(generator):
    batches = _batches()
    seen = [int(t) for (_, _, targets), _ in batches.epoch(generator) for t in targets]
    assert sorted(seen) == list(range(len(LENGTHS))) and len(list(batches.epoch(None))) == batches.num_batches() == 5


def test_evaluation_batches_go_in_order_of_length_and_training_ones_are_shuffled():
    batches = _batches()
    in_order = [lengths.tolist() for (_, lengths, _), _ in batches.epoch(None)]
    assert sum(in_order, []) == sorted(LENGTHS)
    generator = torch.Generator().manual_seed(0)
    epochs = [[targets.tolist() for (_, _, targets), _ in batches.epoch(generator)] for _ in range(3)]
    assert epochs[0] != epochs[1] != epochs[2]  # a new order each epoch ...
    again = torch.Generator().manual_seed(0)
    assert [targets.tolist() for (_, _, targets), _ in batches.epoch(again)] == epochs[0]  # ... repeatable by seed


def test_training_batches_have_near_equal_sizes_never_a_small_remainder():
    batches = BucketedBatches([torch.zeros(4)] * 36, torch.arange(36), 32)
    sizes = [weight for _, weight in batches.epoch(torch.Generator().manual_seed(0))]
    assert sizes == [18, 18] and batches.num_batches() == 2
    batches = BucketedBatches([torch.zeros(4)] * 100, torch.arange(100), 32)
    assert [w for _, w in batches.epoch(torch.Generator().manual_seed(0))] == [25] * 4 == [25] * batches.num_batches()


def test_equal_lengths_mix_freely_across_epochs():
    batches = BucketedBatches([torch.zeros(4)] * 12, torch.arange(12), 3, bucket_batches=1)
    generator = torch.Generator().manual_seed(0)
    partners = {frozenset(t.tolist()) for _ in range(5) for (_, _, t), _ in batches.epoch(generator)}
    assert len(partners) > 4  # not the same four fixed groups every epoch


def test_batch_size_must_be_positive():
    with pytest.raises(Exception, match=re.escape("--batch-size must be at least 1, got 0")):
        BucketedBatches([torch.zeros(2)], None, 0)
