"""Text classification quality on eight labelled corpora this machine already holds, beside TF-IDF with logistic
regression and the majority class, in one run.

    python benchmarks/text_quality.py [--sets languages,messages,docstrings,languages-2,messages-2,libraries,packages,charnames]
        [--levels word,char]
        [--seed 0] [--json benchmarks/results/text_quality.json] [--set-option hidden=128 ...]

The sets are built from files a Debian or Ubuntu machine with Python has (none is downloaded):
- languages: software messages translated into 8 languages (the gettext catalogs under /usr/share/locale),
  1,500 a language: which language a message is in;
- messages: the English source messages of 8 programs' catalogs (their French catalogs' message ids), up to
  1,000 a program, a message found in one program only: which program wrote it;
- docstrings: the first paragraph of the docstrings of the classes and functions of 8 packages of Python's
  standard library, up to 300 a package: which package it documents;
- languages-2, messages-2 and libraries: the same tasks on 8 other languages, 8 other programs, and the
  docstrings of 8 packages installed beside lstmkit (pandas, scikit-learn, NumPy, SciPy, PyTorch, Optuna,
  rich, SymPy; those missing are left out). The first three sets chose the text defaults; these three were
  added after, to check them on texts they were not chosen on;
- packages: the one-line descriptions of the packages of 8 Debian sections in the machine's apt lists (games,
  science, sound, graphics, net, admin, text, web), up to 400 a section: which section a package is filed in.
  Added after the six chose the TF-IDF product (`tfidf_mix`), to check it on texts it was not chosen on; left
  out where the machine keeps no apt lists.
- charnames: the names Unicode gives its characters (Python's `unicodedata`), up to 500 of each of 8 general
  categories (upper-case, lower-case and other letters, marks, digits, other numbers, maths and other symbols):
  which kind of character a name is of. Added with `tfidf_ngrams` (and measured in its choice), as a set of
  short texts whose words tell the class ("small", "digit", "sign"), where reading characters might not help.
Messages are 15-200 characters, without printf formats or line breaks. Each set is split once, stratified,
85% for training and 15% for the test (seed 0). lstmkit's classifier reads the training file with its defaults
at each `--level` (its validation part comes out of the training file) and is scored on the test file; in the
same run it fits its TF-IDF baseline (character 1-4-grams on these short texts, by `tfidf_ngrams` auto; word
1-2-grams with `--set-option tfidf_ngrams=word`; the cell says which) on the texts it
learnt from. Each cell: test accuracy (the seconds lstmkit took to train and score). lstmkit's model is its
LSTM's probabilities multiplied with its own TF-IDF's (`tfidf_mix` auto, the powers chosen on its validation
part); "its LSTM alone" is the same network's before that.
"""

from __future__ import annotations

import argparse
import ast
import gettext
import json
import random
import re
import subprocess
import sysconfig
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

import pandas as pd

from lstmkit import SequenceClassifier

LOCALES = Path("/usr/share/locale")
LANGUAGES = ("fr", "de", "es", "it", "pt", "nl", "sv", "pl")
PROGRAMS = ("postgres-15", "git", "gas", "gnupg2", "coreutils", "libc", "glib20", "dpkg")
PACKAGES = ("tkinter", "asyncio", "distutils", "importlib", "email", "logging", "multiprocessing", "xml")
OTHER_LANGUAGES = ("cs", "da", "fi", "hu", "ro", "tr", "ca", "ru")
OTHER_PROGRAMS = ("apt", "bash", "tar", "wget", "systemd", "shadow", "psql-15", "make")
LIBRARIES = ("pandas", "sklearn", "numpy", "scipy", "torch", "optuna", "rich", "sympy")
APT_LISTS = Path("/var/lib/apt/lists")
SECTIONS = ("games", "science", "sound", "graphics", "net", "admin", "text", "web")
CATEGORIES = ("Lu", "Ll", "Lo", "Mn", "Nd", "No", "Sm", "So")  # letters upper, lower, other; marks; numbers; symbols
NUMBERED_NAMES = ("CJK", "HANGUL SYLLABLE", "TANGUT", "KHITAN", "NUSHU", "EGYPTIAN HIEROGLYPH", "CUNEIFORM",
                  "ANATOLIAN", "BAMUM", "LINEAR B", "YI SYLLABLE")  # a code point's name, or a numbered sign


def _message(text) -> bool:
    return isinstance(text, str) and 15 <= len(text) <= 200 and "%" not in text and "\n" not in text


def _catalog(path: Path) -> dict:
    try:
        with open(path, "rb") as file:
            return gettext.GNUTranslations(file)._catalog
    except (OSError, ValueError):  # unreadable, or not UTF-8 (UnicodeDecodeError is a ValueError)
        return {}


def _sample(texts_by_label: dict[str, set], most: int) -> list[tuple[str, str]]:
    rng, rows = random.Random(0), []
    for label, texts in texts_by_label.items():
        chosen = sorted(texts)
        rng.shuffle(chosen)
        rows += [(text.strip(), label) for text in chosen[:most]]
    return rows


def languages(names=None) -> list[tuple[str, str]]:
    found = {lang: {v for mo in sorted((LOCALES / lang / "LC_MESSAGES").glob("*.mo")) for v in _catalog(mo).values()
                    if _message(v)} for lang in names or LANGUAGES}  # fmt: skip
    return _sample(found, 1500)


def messages(programs=None) -> list[tuple[str, str]]:
    found = {program: {k for k in _catalog(LOCALES / "fr" / "LC_MESSAGES" / f"{program}.mo") if _message(k)}
             for program in programs or PROGRAMS}  # fmt: skip
    owners = defaultdict(set)
    for program, texts in found.items():
        for text in texts:
            owners[text].add(program)
    return _sample({p: {t for t in texts if len(owners[t]) == 1} for p, texts in found.items()}, 1000)


def docstrings(packages=None, where: str = "stdlib") -> list[tuple[str, str]]:
    """Docstrings of `packages` (default PACKAGES) under the `where` folder of `sysconfig.get_paths()`; a
    package not there is left out."""
    library = Path(sysconfig.get_paths()[where])
    found = {}
    for package in packages or PACKAGES:
        if not (library / package).is_dir():
            continue
        texts = set()
        for path in sorted((library / package).rglob("*.py")):
            if any(part in ("test", "tests") or part.startswith("test_") for part in path.relative_to(library).parts[1:]):
                continue  # a package's tests document tests, not the package
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    doc = ast.get_docstring(node)
                    first = " ".join(doc.split("\n\n")[0].split()) if doc else ""
                    if len(first) >= 20:
                        texts.add(first)
        found[package] = texts
    return _sample(found, 300)


def packages(sections=None, lists: Path = APT_LISTS) -> list[tuple[str, str]]:
    """The one-line descriptions of the packages of 8 Debian sections (`sections`, default SECTIONS) in the apt
    lists of the machine (`Packages` files, plain or compressed as apt keeps them, read with apt-helper): which
    section a package is filed in. A description that two packages share is left out; none without lists."""
    found, seen = defaultdict(set), defaultdict(int)
    for path in sorted(lists.glob("*_Packages*")):
        if path.name.endswith("_Packages"):
            text = path.read_text(encoding="utf-8", errors="replace")
        elif path.name.endswith(("_Packages.lz4", "_Packages.gz", "_Packages.xz")):
            read = ["/usr/lib/apt/apt-helper", "cat-file", str(path)]
            text = subprocess.run(read, capture_output=True, text=True, errors="replace").stdout
        else:
            continue
        for block in text.split("\n\n"):
            section = re.search(r"^Section: (.+)$", block, re.M)
            description = re.search(r"^Description: (.+)$", block, re.M)
            if section and description:
                found[section.group(1).split("/")[-1].strip()].add(description.group(1).strip())
                seen[description.group(1).strip()] += 1
    return _sample({s: {d for d in found[s] if seen[d] == 1} for s in sections or SECTIONS if found[s]}, 400)


def charnames(categories=None) -> list[tuple[str, str]]:
    """The names Unicode gives its characters (Python's `unicodedata`: "latin small letter a with grave", "vai
    digit four"), up to 500 of each of 8 general categories (`categories`, default CATEGORIES): which kind of
    character a name is of. Names made from a code point (CJK ideographs, Hangul syllables, ...) are left out."""
    found = defaultdict(set)
    for point in range(0x20, 0x30000):
        name = unicodedata.name(chr(point), "")
        if name and not name.startswith(NUMBERED_NAMES):
            found[unicodedata.category(chr(point))].add(name.lower())
    return _sample({category: found[category] for category in categories or CATEGORIES}, 500)


SETS = {"languages": languages, "messages": messages, "docstrings": docstrings,
        "languages-2": lambda: languages(OTHER_LANGUAGES), "messages-2": lambda: messages(OTHER_PROGRAMS),
        "libraries": lambda: docstrings(LIBRARIES, "purelib"), "packages": packages, "charnames": charnames}


def split(rows: list[tuple[str, str]], folder: Path, name: str) -> tuple[Path, Path, int]:
    from sklearn.model_selection import train_test_split

    frame = pd.DataFrame(rows, columns=["text", "label"])
    train, test = train_test_split(frame, test_size=0.15, stratify=frame["label"], random_state=0)
    paths = folder / f"{name}_train.csv", folder / f"{name}_test.csv"
    train.to_csv(paths[0], index=False)
    test.to_csv(paths[1], index=False)
    return *paths, len(frame)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--levels", default="word,char")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--set-option", action="append", default=[], metavar="NAME=VALUE",
                        help="a classifier setting for every lstmkit run (a number or text)")  # fmt: skip
    args = parser.parse_args(argv)
    options = {}
    for item in args.set_option:
        name, value = item.split("=", 1)
        try:
            options[name] = json.loads(value)  # a number, true or false
        except json.JSONDecodeError:
            options[name] = value
    levels = args.levels.split(",")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.sets.split(","):
            rows = SETS[name]()
            if not rows:
                print(f"{name}: no texts on this machine; left out", flush=True)
                continue
            train, test, n = split(rows, Path(folder), name)
            row = {"set": name, "texts": n, "classes": pd.read_csv(train)["label"].nunique()}
            for level in levels:
                start = time.perf_counter()
                model = SequenceClassifier("text", level=level, test=test, seed=args.seed, **options).fit(train)
                row[f"lstmkit {level}"] = model.metrics_["accuracy"]
                row[f"TF-IDF n-grams {level}"] = model.tfidf_ngrams_  # tfidf_ngrams "auto": char for short texts
                row[f"lstmkit {level} seconds"] = time.perf_counter() - start
                row[f"LSTM alone {level}"] = (model.test_.get("lstm") or model.metrics_)["accuracy"]  # before the TF-IDF mix
                row[f"TF-IDF {level}"] = model.baselines_["tfidf_logistic_regression"]["accuracy"]
                row["majority class"] = model.baselines_["majority_class"]["accuracy"]
            results.append(row)
            print(json.dumps(row), flush=True)
    print(table(results, levels))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


def _ngrams(row: dict, level: str) -> str:
    """" (char)" or " (word)": the n-grams the TF-IDF model of the cell read (rows of runs before it: "")."""
    return f" ({row[f'TF-IDF n-grams {level}']})" if f"TF-IDF n-grams {level}" in row else ""


def table(results: list[dict], levels: list[str]) -> str:
    head = (["set (texts, classes)"] + [f"lstmkit {lv}" for lv in levels] + [f"its LSTM alone, {lv}" for lv in levels]
            + [f"TF-IDF + LR, {lv}" for lv in levels] + ["majority class"])  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [f"{r['set']} ({r['texts']}, {r['classes']})"]
        cells += [f"{r[f'lstmkit {lv}']:.3f} ({r[f'lstmkit {lv} seconds']:.0f} s)" for lv in levels]
        cells += [f"{r[f'LSTM alone {lv}']:.3f}" for lv in levels]
        cells += [f"{r[f'TF-IDF {lv}']:.3f}{_ngrams(r, lv)}" for lv in levels] + [f"{r['majority class']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    keys = [f"{name} {lv}" for name in ("lstmkit", "LSTM alone", "TF-IDF") for lv in levels] + ["majority class"]
    means = [sum(r[k] for r in results) / len(results) for k in keys]
    lines.append("| mean | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
