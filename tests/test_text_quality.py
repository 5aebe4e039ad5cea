"""benchmarks/text_quality.py: the corpora it builds keep the messages and docstrings its docstring promises
(lengths, no printf formats or line breaks, a message of two programs in neither, no test folders), at most
the stated number a class, and split 85/15 by class. No accuracy or timing is asserted; the machine's
catalogs and library are stood in for here."""

import pandas as pd
import pytest
from conftest import load_benchmark


@pytest.fixture
def bench(monkeypatch, tmp_path):
    module = load_benchmark("text_quality")
    catalogs = {
        "git": {"commit the staged changes now": "", "a message both programs write": "", "%s is not a branch": "",
                "short": "", "two\nlines of text here": ""},
        "dpkg": {"a message both programs write": "", "unpack the archive into place": ""},
    }  # fmt: skip
    monkeypatch.setattr(module, "PROGRAMS", ("git", "dpkg"))
    monkeypatch.setattr(module, "_catalog", lambda path: catalogs.get(path.stem, {}))
    library = tmp_path / "lib"
    for package, text in (("email", "Parse a message into its parts."), ("xml", "Build an element tree from text.")):
        (library / package / "tests").mkdir(parents=True)
        (library / package / "mod.py").write_text(f'def f():\n    """{text}\n\n    More detail."""\n\n'
                                                  'class C:\n    """Short."""\n')  # fmt: skip
        (library / package / "tests" / "test_mod.py").write_text('def t():\n    """A test of the package, left out."""\n')
    monkeypatch.setattr(module, "PACKAGES", ("email", "xml"))
    monkeypatch.setattr(module.sysconfig, "get_paths", lambda: {"stdlib": str(library), "purelib": str(library)})
    return module


def test_messages_keep_one_programs_own_sentences(bench):
    assert sorted(bench.messages()) == [("commit the staged changes now", "git"), ("unpack the archive into place", "dpkg")]


def test_docstrings_keep_first_paragraphs_outside_tests(bench):
    assert sorted(bench.docstrings()) == [("Build an element tree from text.", "xml"), ("Parse a message into its parts.", "email")]


def test_the_libraries_set_reads_the_installed_packages_and_leaves_out_those_missing(bench, monkeypatch):
    monkeypatch.setattr(bench, "LIBRARIES", ("xml", "not_installed"))
    assert bench.SETS["libraries"]() == [("Build an element tree from text.", "xml")]


def test_the_other_sets_ask_for_other_languages_and_programs(bench, monkeypatch):
    asked = []
    monkeypatch.setattr(bench, "_catalog", lambda path: asked.append(path.stem) or {})
    bench.SETS["messages-2"]()
    assert asked == list(bench.OTHER_PROGRAMS)


def test_sampling_keeps_at_most_the_stated_number_a_class_and_always_the_same(bench):
    texts = {"a": {f"text number {i}" for i in range(50)}, "b": {"one text of b"}}
    rows = bench._sample(texts, 20)
    assert [label for _, label in rows].count("a") == 20 and ("one text of b", "b") in rows
    assert rows == bench._sample(texts, 20)


def test_the_split_is_85_15_within_each_class(bench, tmp_path):
    rows = [(f"text {i}", "a" if i % 4 else "b") for i in range(400)]
    train, test, n = bench.split(rows, tmp_path, "toy")
    counts = pd.read_csv(test)["label"].value_counts()
    assert n == 400 and len(pd.read_csv(train)) == 340 and (counts["a"], counts["b"]) == (45, 15)


def test_the_table_gives_each_level_and_the_means(bench):
    row = {"set": "toy", "texts": 10, "classes": 2, "lstmkit word": 0.8, "lstmkit word seconds": 3.2,
           "LSTM alone word": 0.7, "TF-IDF word": 0.9, "majority class": 0.5}  # fmt: skip
    lines = bench.table([row, {**row, "lstmkit word": 0.6}], ["word"]).splitlines()
    assert lines[2] == "| toy (10, 2) | 0.800 (3 s) | 0.700 | 0.900 | 0.500 |"
    assert lines[-1] == "| mean | 0.700 | 0.700 | 0.900 | 0.500 |"


def test_packages_reads_each_sections_descriptions_from_the_apt_lists_and_leaves_out_shared_ones(bench, tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    blocks = ["Package: a\nSection: games\nDescription: a puzzle of falling blocks\n",
              "Package: b\nSection: contrib/games\nDescription: a card game for two\n",
              "Package: c\nSection: net\nDescription: a shared description\n",
              "Package: d\nSection: games\nDescription: a shared description\n",
              "Package: e\nSection: libs\nDescription: a library outside the sections\n",
              "Package: f\nSection: net\nDescription: fetch files over HTTP\n"]  # fmt: skip
    (lists / "deb.example_dists_main_binary-amd64_Packages").write_text("\n".join(blocks))
    (lists / "deb.example_dists_main_i18n_Translation-en").write_text("Description-en: not a Packages file\n")
    rows = bench.packages(("games", "net"), lists)
    assert sorted(rows) == [("a card game for two", "games"), ("a puzzle of falling blocks", "games"),
                            ("fetch files over HTTP", "net")]  # fmt: skip
    assert bench.packages(("games",), tmp_path / "none") == []
