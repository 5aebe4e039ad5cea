"""Windows are exact, are views, and each belongs to the one part that holds its targets."""

import numpy as np
import pytest
import torch

from lstmkit.data import count_windows, make_windows, split_by_time, window_targets_index
from lstmkit.errors import ConfigError

# values[i] = [i, 10 * i]: every cell says which step it came from.
STEPS = np.stack([np.arange(6.0), 10 * np.arange(6.0)], axis=1)  # (6, 2)


def test_windows_are_exact():
    x, y = make_windows(STEPS, lookback=2, horizon=2)
    assert x.tolist() == [
        [[0, 0], [1, 10]],
        [[1, 10], [2, 20]],
        [[2, 20], [3, 30]],
    ]
    assert y.tolist() == [[2, 3], [3, 4], [4, 5]]


def test_targets_come_from_target_col():
    _, y = make_windows(STEPS, lookback=2, horizon=2, target_col=1)
    assert y.tolist() == [[20, 30], [30, 40], [40, 50]]


def test_window_targets_index_gives_each_first_target_step():
    assert window_targets_index(6, 2, 2).tolist() == [2, 3, 4]
    assert window_targets_index(6, 2, 2, start=3).tolist() == [3, 4]


def test_numpy_windows_are_views():
    x, y = make_windows(STEPS, 2, 2)
    assert np.shares_memory(x, STEPS) and np.shares_memory(y, STEPS)


def test_torch_windows_are_views():
    values = torch.tensor(STEPS)
    x, y = make_windows(values, 2, 2)
    assert x.untyped_storage().data_ptr() == values.untyped_storage().data_ptr()
    assert y.untyped_storage().data_ptr() == values.untyped_storage().data_ptr()
    values[2, 0] = -1.0
    assert (x[1, 1, 0].item(), x[2, 0, 0].item(), y[0, 0].item()) == (-1.0, -1.0, -1.0)


def test_torch_and_numpy_windows_agree():
    values = np.random.default_rng(0).normal(size=(30, 3)).astype(np.float32)
    x_np, y_np = make_windows(values, 5, 3, start=10, stop=25)
    x_t, y_t = make_windows(torch.from_numpy(values), 5, 3, start=10, stop=25)
    assert x_t.shape == (13, 5, 3) and y_t.shape == (13, 3)
    np.testing.assert_array_equal(x_t.numpy(), x_np)
    np.testing.assert_array_equal(y_t.numpy(), y_np)


def test_one_dimensional_values_are_one_column():
    x, y = make_windows(np.arange(5.0), 3, 1)
    assert x.tolist() == [[[0], [1], [2]], [[1], [2], [3]]]
    assert y.tolist() == [[3], [4]]


def test_window_counts_per_part():
    train, val, test = split_by_time(100, 0.15, 0.15)  # 0..70, 70..85, 85..100
    counts = [count_windows(100, 10, 5, start=p.start, stop=p.stop) for p in (train, val, test)]
    assert counts == [70 - 10 - 5 + 1, 15 - 5 + 1, 15 - 5 + 1]
    made = [make_windows(np.zeros((100, 2)), 10, 5, start=p.start, stop=p.stop)[1] for p in (train, val, test)]
    assert [len(y) for y in made] == counts


def test_every_target_of_a_window_lies_in_its_part():
    index = np.arange(100.0)[:, None]  # the value is the step
    for part in split_by_time(100, 0.15, 0.15):
        _, y = make_windows(index, 10, 5, start=part.start, stop=part.stop)
        assert y.min() >= part.start and y.max() < part.stop


def test_train_windows_never_see_a_test_target():
    index = np.arange(100.0)[:, None]
    train, _, test = split_by_time(100, 0.15, 0.15)
    x, y = make_windows(index, 10, 5, start=train.start, stop=train.stop)
    assert max(x.max(), y.max()) < test.start


def test_validation_inputs_reach_back_into_the_training_part():
    index = np.arange(100.0)[:, None]
    _, val, _ = split_by_time(100, 0.15, 0.15)
    x, y = make_windows(index, 10, 5, start=val.start, stop=val.stop)
    assert x[0, :, 0].tolist() == list(range(60, 70)) and y[0].tolist() == [70, 71, 72, 73, 74]


def test_too_short_a_part_gives_no_windows():
    x, y = make_windows(STEPS, 4, 3)
    assert x.shape == (0, 4, 2) and y.shape == (0, 3)
    assert window_targets_index(6, 4, 3).tolist() == []


def test_lookback_must_be_a_positive_integer():
    with pytest.raises(ConfigError) as info:
        make_windows(STEPS, 0, 2)
    assert str(info.value) == "lookback must be a positive integer, got 0"
