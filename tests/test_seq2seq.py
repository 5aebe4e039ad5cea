"""Sequence to sequence: reading pairs, each side's tokens, the attention network, decoding, scoring beside
the copy and retrieval baselines, and the commands (train, translate, chat, predict, evaluate)."""

import gettext
import json
import math
import re
import struct

import numpy as np
import pandas as pd
import pytest
import sacrebleu
import torch

from lstmkit import Seq2Seq
from lstmkit.baselines import copy_outputs, retrieval_outputs
from lstmkit.cli import main
from lstmkit.data.pairs import Pairs, read_pairs
from lstmkit.errors import ConfigError, DataError
from lstmkit.metrics import translation_metrics
from lstmkit.tasks.seq2seq.decode import beam_search, greedy
from lstmkit.tasks.seq2seq.net import Seq2SeqNet
from lstmkit.tasks.run import load_run
from lstmkit.tasks.seq2seq.tokens import SideTokens

WORDS = ["red", "green", "blue", "stone", "river", "cloud", "north", "south"]


def copy_pairs(n: int, seed: int = 0) -> Pairs:
    """A task with a known answer: the target is the source (2 to 5 different words)."""
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, size=int(rng.integers(2, 6)), replace=False)) for _ in range(n)]
    return Pairs(texts, list(texts), "copy task")


def write_mo(path, catalog: dict, encoding: str = "utf-8") -> None:
    """A gettext .mo file of msgid -> msgstr (the GNU format: a header, then two tables of (length, offset)),
    its strings in `encoding`."""
    keys = sorted(catalog)
    ids = b"".join(k.encode(encoding) + b"\0" for k in keys)
    strs = b"".join(catalog[k].encode(encoding) + b"\0" for k in keys)
    start = 7 * 4 + 16 * len(keys)
    offsets, at = [], 0
    for k in keys:
        offsets.append((len(k.encode(encoding)), start + at))
        at += len(k.encode(encoding)) + 1
    string_offsets, at = [], 0
    for k in keys:
        string_offsets.append((len(catalog[k].encode(encoding)), start + len(ids) + at))
        at += len(catalog[k].encode(encoding)) + 1
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0)
    tables = b"".join(struct.pack("ii", *o) for o in offsets) + b"".join(struct.pack("ii", *o) for o in string_offsets)
    path.write_bytes(header + tables + ids + strs)


# ---- reading pairs -------------------------------------------------------------------------------------
def test_a_tsv_file_gives_its_pairs_and_ignores_columns_after_the_second(tmp_path):
    path = tmp_path / "fra.tsv"
    path.write_text("".join(f"Go {i}.\tVa {i} !\tCC-BY 2.0 (France)\n" for i in range(12)) + "\n")
    pairs = read_pairs(path)
    assert len(pairs) == 12 and pairs.sources[3] == "Go 3." and pairs.targets[3] == "Va 3 !"


@pytest.mark.parametrize("text, message", [
    ("a\tb\n" * 11 + "no tab here\n", "line 12 has no tab; each line must be source<TAB>target"),
    ("a\tb\n" * 11 + " \tb\n", "line 12: the source is empty"),
    ("a\tb\n" * 11 + "a\t \n", "line 12: the target is empty"),
    ("a\tb\n" * 9, "holds 9 pairs; training needs at least 10"),
])  # fmt: skip
def test_bad_tsv_files_are_refused_in_one_line(tmp_path, text, message):
    path = tmp_path / "pairs.tsv"
    path.write_text(text)
    with pytest.raises(DataError, match=f"^{path}: {message}$"):
        read_pairs(path)


def test_a_file_that_is_not_utf8_is_refused_in_one_line(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_bytes("caf\u00e9\tcafe\n".encode("latin-1") * 12)
    with pytest.raises(DataError, match="cannot be read as UTF-8 text"):
        read_pairs(path)


def test_compressed_pairs_are_read_by_the_format_before_the_compression(tmp_path):
    import gzip

    csv = tmp_path / "pairs.csv.gz"  # a CSV (its named columns), not a TSV, for the .csv before .gz
    csv.write_bytes(gzip.compress(("en,fr\n" + "".join(f"cat {i},chat {i}\n" for i in range(12))).encode()))
    tsv = tmp_path / "pairs.tsv.gz"
    tsv.write_bytes(gzip.compress("".join(f"cat {i}\tchat {i}\n" for i in range(12)).encode()))
    for pairs in (read_pairs(csv, source_col="en", target_col="fr"), read_pairs(tsv)):
        assert len(pairs) == 12 and pairs.sources[0] == "cat 0" and pairs.targets[11] == "chat 11"


def test_a_csv_file_reads_the_named_columns_and_names_an_unknown_one(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("en,fr\n" + "".join(f"cat {i},chat {i}\n" for i in range(12)))
    pairs = read_pairs(path, source_col="en", target_col="fr")
    assert pairs.sources[0] == "cat 0" and pairs.targets[11] == "chat 11"
    with pytest.raises(DataError, match="no column 'english'"):
        read_pairs(path, source_col="english", target_col="fr")
    # two columns and no names given: the first the source, the second the target, as a TSV's lines
    assert read_pairs(path).sources == pairs.sources and read_pairs(path).targets == pairs.targets
    path.write_text("en,fr,de\n" + "".join(f"cat {i},chat {i},Katze {i}\n" for i in range(12)))
    with pytest.raises(DataError) as info:  # Alpaca's instruction,input,output: which is which is the user's to say
        read_pairs(path)
    assert str(info.value) == (f"{path}: has no column 'source'; name the column of the sources with source_col "
                               "(its columns: 'en', 'fr', 'de')")
    with pytest.raises(DataError) as info:
        read_pairs(path, source_col="en")
    assert str(info.value).endswith("has no column 'target'; name the column of the targets with target_col "
                                    "(its columns: 'en', 'fr', 'de')")
    assert read_pairs(path, source_col="en", target_col="de").targets[0] == "Katze 0"


def test_a_po_catalog_gives_translated_entries_without_fuzzy_or_header(tmp_path):
    entries = "".join(f'msgid "file {i}"\nmsgstr "fichier {i}"\n\n' for i in range(10))
    path = tmp_path / "fr.po"
    path.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        + entries
        + '#, fuzzy\nmsgid "guess"\nmsgstr "devinette"\n\n'
        + 'msgid "untranslated"\nmsgstr ""\n\n'
        + 'msgid ""\n"two "\n"lines"\nmsgstr "deux "\n"lignes \\"citées\\""\n\n'
        + 'msgid "one file"\nmsgid_plural "%d files"\nmsgstr[0] "un fichier"\nmsgstr[1] "%d fichiers"\n'
    )
    read = read_pairs(path)
    pairs = dict(zip(read.sources, read.targets))
    assert pairs["two lines"] == 'deux lignes "citées"' and pairs["one file"] == "un fichier"
    assert pairs["file 3"] == "fichier 3" and "guess" not in pairs and "untranslated" not in pairs and len(pairs) == 12


def test_mo_catalogs_and_a_folder_of_them_are_read_through_gettext(tmp_path):
    write_mo(tmp_path / "a.mo", {"": "Content-Type: text/plain; charset=UTF-8\n",
                                 **{f"open {i}": f"ouvrir {i}" for i in range(8)}})  # fmt: skip
    write_mo(tmp_path / "b.mo", {"": "Content-Type: text/plain; charset=UTF-8\n", "open 0": "ouvrir zéro",
                                 "close": "fermer", "save": "enregistrer"})  # fmt: skip
    one = read_pairs(tmp_path / "a.mo", min_pairs=1)
    assert dict(zip(one.sources, one.targets))["open 2"] == "ouvrir 2" and len(one) == 8
    both = read_pairs(tmp_path)
    found = dict(zip(both.sources, both.targets))
    assert len(both) == 10 and found["open 0"] == "ouvrir 0" and found["close"] == "fermer"  # the first catalog's wins
    (tmp_path / "bad.mo").write_bytes(b"not a catalog")
    with pytest.raises(DataError, match="bad.mo: is not a gettext .mo catalog"):
        read_pairs(tmp_path / "bad.mo")


def test_a_latin_1_catalog_whose_header_is_not_utf_8_is_read_in_its_own_charset(tmp_path):
    """The standard library reads a header as UTF-8 before its charset: a translator named in ISO-8859-1
    (as in Debian's German net-tools catalog) made the whole catalog unreadable."""
    header = "Last-Translator: Ralf Bächle\nContent-Type: text/plain; charset=ISO-8859-1\n"
    write_mo(tmp_path / "de.mo", {"": header, "Flags": "Flaggen", "device": "Gerät"}, encoding="latin-1")
    with pytest.raises(UnicodeDecodeError):  # what gettext alone does with it
        gettext.GNUTranslations(open(tmp_path / "de.mo", "rb"))
    pairs = read_pairs(tmp_path / "de.mo", min_pairs=1)
    assert dict(zip(pairs.sources, pairs.targets)) == {"Flags": "Flaggen", "device": "Gerät"}


# ---- tokens ------------------------------------------------------------------------------------------
def test_subword_tokens_decode_back_to_the_text_with_its_own_spacing():
    texts = ["Erreur : fichier « %s » introuvable", "Impossible d'ouvrir le fichier", "Le fichier 123 existe déjà"] * 20
    side = SideTokens.learn(texts, "subword", vocab_size=120, min_freq=1, lowercase=False)
    for text in texts[:3] + ["Le fichier 7 existe"]:
        assert side.decode(side.encode(text)) == text
    restored = SideTokens.from_dict(json.loads(json.dumps(side.to_dict())))
    assert restored.encode(texts[0]) == side.encode(texts[0])


# ---- the network -----------------------------------------------------------------------------------
@pytest.mark.parametrize("attention", ["dot", "general", "additive"])
@pytest.mark.parametrize("input_feed", [True, False])
def test_attention_sums_to_one_over_the_real_source_steps_and_padding_changes_nothing(attention, input_feed):
    net = Seq2SeqNet(20, 20, embedding=8, hidden=8, attention=attention, input_feed=input_feed).eval()
    source = torch.randint(4, 20, (3, 6))
    lengths = torch.tensor([6, 4, 2])
    source[1, 4:], source[2, 2:] = 0, 0
    target = torch.randint(4, 20, (3, 5))
    logits, weights = net(source, lengths, target, return_attention=True)  # (3, 5, V), (3, 5, 6)
    assert torch.allclose(weights.sum(-1), torch.ones(3, 5), atol=1e-6)
    assert (weights[1, :, 4:] == 0).all() and (weights[2, :, 2:] == 0).all()
    alone = net(source[2:, :2], lengths[2:], target[2:])
    assert torch.allclose(alone, logits[2:], atol=1e-5)


def _trained_copy_model(**settings) -> Seq2Seq:
    return Seq2Seq(level="word", hidden=64, epochs=20, lr=1e-2, batch_size=32, dropout=0.0, label_smoothing=0.0,
                   input_feed=False, val_frac=0.1, test_frac=0.1, seed=0, **settings).fit(copy_pairs(600))  # fmt: skip


@pytest.fixture(scope="module")
def copy_model():
    return _trained_copy_model()


def test_a_copy_task_is_learnt_to_exact_match_and_beats_both_baselines_on_what_they_share(copy_model):
    assert copy_model.metrics_["exact_match"] == 1.0 and copy_model.metrics_["bleu"] == pytest.approx(100.0)
    assert copy_model.baselines_["copy"]["exact_match"] == 1.0  # the copy baseline is right here too: a sanity check
    assert copy_model.translate(["north river blue"]) == ["north river blue"]


def test_beam_size_one_is_greedy_and_batched_decoding_equals_one_by_one(copy_model):
    net = copy_model.model_
    sources = ["red green", "blue stone river cloud north", "south", "green green blue"]
    encoded = [torch.tensor(copy_model._encode_source(s)[0]) for s in sources]
    batch = torch.nn.utils.rnn.pad_sequence(encoded, batch_first=True)
    lengths = torch.tensor([len(e) for e in encoded])
    limit = torch.full((4,), 12)
    assert beam_search(net, batch, lengths, limit, beam=1, length_penalty=0.0) == greedy(net, batch, lengths, limit)
    together = beam_search(net, batch, lengths, limit, beam=3)
    alone = [beam_search(net, e[None], e.new_tensor([len(e)]), limit[:1], beam=3)[0] for e in encoded]
    assert together == alone
    assert greedy(net, batch, lengths, limit) == [greedy(net, e[None], e.new_tensor([len(e)]), limit[:1])[0] for e in encoded]


def test_a_beam_wide_enough_to_keep_every_hypothesis_finds_the_best_one():
    """Two real tokens and at most 3 steps: 15 hypotheses, none pruned by a beam of 8, so beam search must
    return the one with the best length-normalised log-probability, found here by enumerating them all."""
    import itertools

    from lstmkit.tasks.seq2seq.decode import _masked

    net = Seq2SeqNet(6, 6, embedding=8, hidden=8, input_feed=False)
    torch.manual_seed(19)  # weights where greedy, a beam of 2 and the best hypothesis all differ
    for p in net.parameters():
        p.data.normal_(0, 0.5)
    net.eval().requires_grad_(False)
    source, lengths, limit, alpha = torch.tensor([[4, 5, 4]]), torch.tensor([3]), torch.tensor([3]), 0.6

    def score(tokens):
        ended = len(tokens) < 3
        steps = [*tokens, 3] if ended else list(tokens)
        log_p = torch.stack([_masked(row[None])[0] for row in net(source, lengths, torch.tensor([[2, *steps[:-1]]]))[0]])
        total = float(sum(log_p[t, token] for t, token in enumerate(steps)))
        return total / ((5 + len(tokens) + 1) / 6) ** alpha

    every = [list(c) for n in range(4) for c in itertools.product([4, 5], repeat=n)]
    best = max(every, key=score)
    assert beam_search(net, source, lengths, limit, beam=8, length_penalty=alpha) == [best]
    assert greedy(net, source, lengths, limit) != [best]  # the search had something to find


def test_sampling_repeats_with_a_seed_and_top_k_one_is_greedy(copy_model):
    sources = ["red green blue", "stone river"]
    a = copy_model.translate(sources, temperature=1.5, seed=4)
    assert a == copy_model.translate(sources, temperature=1.5, seed=4)
    assert copy_model.translate(sources, temperature=1.0, top_k=1) == copy_model.translate(sources, beam=1)


def test_copy_attention_writes_a_source_word_the_vocabularies_never_held():
    """Each name appears once, so with min_freq 2 it is <unk> on both sides: only copying can write it."""
    rng = np.random.default_rng(0)
    names = ["".join(rng.choice(list("bcdfgklmnprstvz"), size=5)) for _ in range(500)]
    greetings = {"hello": "bonjour", "goodbye": "au revoir", "thanks": "merci"}
    sources, targets = [], []
    for k, name in enumerate(names):
        english, french = list(greetings.items())[k % 3]
        sources.append(f"{english} {name}")
        targets.append(f"{french} {name}, ami")
    settings = dict(level="word", min_freq=2, hidden=32, epochs=15, lr=1e-2, batch_size=32, dropout=0.0,
                    label_smoothing=0.0, seed=0)  # fmt: skip
    model = Seq2Seq(copy=True, **settings).fit(Pairs(sources, targets, "greetings"))
    assert "zebra" not in model.target_tokens_.vocab.index and "zebra" not in model.source_tokens_.vocab.index
    assert model.translate(["hello zebra", "thanks qwerty"]) == ["bonjour zebra, ami", "merci qwerty, ami"]
    assert model.metrics_["exact_match"] == 1.0
    weights, source_tokens, output_tokens = model.attention_of("hello zebra", "bonjour zebra, ami")
    assert source_tokens == ["hello", "zebra"] and output_tokens == ["bonjour", "zebra", ",", "ami", "</s>"]
    assert weights[1].argmax() == 1  # writing "zebra", it looks at "zebra"
    plain = Seq2Seq(copy=False, **settings).fit(Pairs(sources, targets, "greetings"))
    assert "zebra" not in plain.translate(["hello zebra"])[0]  # without copying the name cannot be written


# ---- metrics and baselines ----------------------------------------------------------------------------
def test_bleu_and_chrf_are_sacrebleus_and_exact_match_counts_equal_outputs():
    hypotheses = ["the cat sat on the mat", "a dog", "hello world"]
    references = ["the cat sat on the mat", "the dog ran", "hello  world "]
    got = translation_metrics(hypotheses, references, loss=math.log(4.0))
    assert got["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [references]).score)
    assert got["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hypotheses, [references]).score)
    assert got["exact_match"] == pytest.approx(1 / 3) and got["perplexity"] == pytest.approx(4.0)
    assert translation_metrics(references, references)["bleu"] == pytest.approx(100.0)


def test_retrieval_returns_the_target_of_the_most_similar_training_source():
    sources = ["open the file", "close the window", "save the document"]
    targets = ["ouvrir le fichier", "fermer la fenêtre", "enregistrer le document"]
    assert retrieval_outputs(sources, targets, ["please close this window", "open file"]) == ["fermer la fenêtre", "ouvrir le fichier"]
    assert copy_outputs(["a b"]) == ["a b"]


# ---- settings and the commands ------------------------------------------------------------------------
def test_bad_settings_and_arguments_are_refused_in_one_line(copy_model):
    with pytest.raises(ConfigError, match="hidden must be even with a bidirectional encoder"):
        Seq2Seq(hidden=7).fit(copy_pairs(20))
    with pytest.raises(DataError, match="source 2 is empty; give text to translate"):
        copy_model.translate(["red", "  "])
    with pytest.raises(ConfigError, match="beam must be a whole number of at least 1, got 0"):
        copy_model.translate(["red"], beam=0)


def test_a_run_translates_chats_predicts_and_scores_from_the_command_line(tmp_path, capsys, monkeypatch):
    pairs = copy_pairs(300, seed=1)
    data = tmp_path / "pairs.tsv"
    data.write_text("".join(f"{s}\t{t}\n" for s, t in zip(pairs.sources, pairs.targets)))
    run = tmp_path / "run"
    assert main(["train", "seq2seq", "--data", str(data), "--out", str(run), "--level", "word", "--hidden", "32",
                 "--epochs", "2", "--quiet", "--json"]) == 0  # fmt: skip
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"bleu", "chrf", "exact_match", "perplexity"} <= set(metrics["test"]) and set(metrics["baselines"]) == {"copy", "retrieval"}
    assert main(["translate", str(run), "--text", "red green", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == "red green"
    lines = tmp_path / "sources.txt"
    lines.write_text("red green\n\nblue stone\n")
    out = tmp_path / "out.txt"
    assert main(["translate", str(run), "--data", str(lines), "--output", str(out), "--beam", "1"]) == 0
    assert len(out.read_text().splitlines()) == 2
    assert main(["translate", str(run), "--data", str(data), "--json"]) == 0  # pairs: scored as well
    scored = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(scored["outputs"]) == 300 and scored["metrics"]["test_pairs"] == 300
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("red green\n\nblue\n"))
    assert main(["chat", str(run)]) == 0
    assert capsys.readouterr().out.count("\n") == 2  # a reply a line, the blank input line skipped
    assert main(["predict", str(run), "--data", str(lines), "--json"]) == 0
    assert [row["source"] for row in json.loads(capsys.readouterr().out)] == ["red green", "blue stone"]


def test_translate_and_chat_refuse_bad_use_in_one_line(tiny_runs, capsys):
    assert main(["translate", str(tiny_runs["seq2seq"]), "--text", "  "]) == 2
    assert capsys.readouterr().err.strip() == "lstmkit: error: --text is empty; give text to translate"
    assert main(["translate", str(tiny_runs["lm"]), "--text", "red"]) == 2
    assert "is an lm run; `lstmkit translate` needs a sequence-to-sequence model" in capsys.readouterr().err
    assert main(["chat", str(tiny_runs["forecast"])]) == 2
    assert "is a forecast run; `lstmkit chat` needs a sequence-to-sequence model" in capsys.readouterr().err
    assert main(["translate", str(tiny_runs["seq2seq"])]) == 2
    assert "give the source with --text TEXT or with --data FILE" in capsys.readouterr().err


def test_the_training_cuts_long_pairs_and_says_how_many(capsys):
    pairs = copy_pairs(60)
    pairs.sources[0] = pairs.targets[0] = " ".join(["red"] * 30)
    from lstmkit.train.progress import Reporter

    model = Seq2Seq(level="word", hidden=8, epochs=1, max_len=10).fit(pairs, reporter=Reporter())
    assert model.cut_ == 1
    assert "1 of 48 training pairs are longer than max_len 10 tokens on a side and were cut to it" in capsys.readouterr().err


def test_fit_and_evaluate_take_source_and_target_texts_as_scikit_learn_takes_x_and_y():
    pairs = copy_pairs(40)
    settings = dict(level="word", hidden=8, epochs=2, max_len=10, seed=0)
    model = Seq2Seq(**settings).fit(pairs.sources, pairs.targets)
    assert model.metrics_ == Seq2Seq(**settings).fit(pairs).metrics_
    assert model.evaluate(pairs.sources[:5], pairs.targets[:5])["test"] == model.evaluate(Pairs(pairs.sources[:5], pairs.targets[:5], "five"))["test"]
    with pytest.raises(DataError, match="^the given texts: 40 sources but 39 targets; give one target a source$"):
        Seq2Seq(**settings).fit(pairs.sources, pairs.targets[:39])
    with pytest.raises(DataError, match="^the given texts: pair 1: the target is empty$"):
        Seq2Seq(**settings).fit(["a b", "c d"], ["a b", " "])
    sources, targets = pd.Series(pairs.sources), pd.Series(pairs.targets)  # a DataFrame's columns, as pandas users hold them
    assert Seq2Seq(**settings).fit(sources, targets).metrics_ == model.metrics_
    with pytest.raises(DataError, match="^the given texts: pair 2: the target is empty$"):  # NaN, a missing cell: not "nan"
        Seq2Seq(**settings).fit(sources, targets.where(targets.index != 2))
    expected = model.predict(pairs.sources[:3])
    pd.testing.assert_frame_equal(model.predict(sources[:3]), expected)
    pd.testing.assert_frame_equal(model.predict(pd.DataFrame({"source": sources[:3]})), expected)
    both = model.predict(pd.DataFrame({"source": sources[:3], "target": targets[:3]}))
    assert list(both.columns) == ["source", "output", "reference"] and list(both["output"]) == list(expected["output"])
    with pytest.raises(DataError, match=r"^the given texts: source 1: the text is empty$"):
        model.predict(["a b", None])
    with pytest.raises(DataError, match=r"^expected texts \(a list or a pandas Series\), a DataFrame or a file, got dict$"):
        model.predict({"a": 1})


def test_a_saved_model_translates_as_before(copy_model, tmp_path):
    copy_model.save(tmp_path)
    again = Seq2Seq.load(tmp_path)
    sources = ["red green blue", "cloud"]
    assert again.translate(sources) == copy_model.translate(sources)


def test_the_inspector_shows_the_decoder_with_its_attention_and_the_encoder_on_request(tiny_runs, tmp_path, capsys):
    from lstmkit import gates

    model = load_run(tiny_runs["seq2seq"])
    output = model.translate(["red green blue"])[0]
    decoder = gates.trace(model, "red green blue")
    assert decoder.lstm == "decoder" and decoder.tokens == [*output.split(), "</s>"]
    assert decoder.attention.shape == (len(decoder), 3) and decoder.source_tokens == ["red", "green", "blue"]
    assert np.allclose(decoder.attention.sum(axis=1), 1, atol=1e-5)
    encoder = gates.trace(model, "red green blue", part="encoder")
    assert encoder.lstm == "encoder" and encoder.tokens == ["red", "green", "blue"] and encoder.num_directions == 2
    page = tmp_path / "p.html"
    assert main(["inspect", str(tiny_runs["seq2seq"]), "--text", "red green blue", "--part", "decoder", "--out", str(page)]) == 0
    html = page.read_text()
    assert "Attention over the source" in html and "the decoder" in html and 'id="encoder-panel"' not in html
    assert main(["inspect", str(tiny_runs["lm"]), "--text", "def f", "--part", "encoder", "--out", str(page)]) == 2
    assert "part chooses the LSTM of a sequence-to-sequence model; this language model has one" in capsys.readouterr().err


def test_the_inspector_page_of_a_pair_shows_the_encoder_the_attention_and_the_decoder(tiny_runs, tmp_path, capsys):
    from lstmkit import gates

    model = load_run(tiny_runs["seq2seq"])
    encoder, decoder = gates.trace_parts(model, "red green blue")
    assert (encoder.lstm, decoder.lstm) == ("encoder", "decoder") and encoder.tokens == ["red", "green", "blue"]
    assert decoder.tokens == [*model.translate(["red green blue"])[0].split(), "</s>"]
    page = tmp_path / "pair.html"
    assert main(["inspect", str(tiny_runs["seq2seq"]), "--text", "red green blue", "--out", str(page), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [p["part"] for p in found["parts"]] == ["encoder", "decoder"]
    assert [p["steps"] for p in found["parts"]] == [3, len(decoder)] and all(len(p["memory"]) == 5 for p in found["parts"])
    html = page.read_text()
    assert html.index('id="encoder-panel"') < html.index("Attention over the source") < html.index("</section>", html.index('id="decoder-panel"'))
    assert html.count('<script type="application/json" class="inspector-data"') == 2 and html.count('class="step"') == 3 + len(decoder)
    assert main(["inspect", str(tiny_runs["seq2seq"]), "--text", "red green blue", "--out", str(page)]) == 0
    lines = capsys.readouterr().out.splitlines()
    encoder_memory = next(line for line in lines if line.startswith("the encoder: longest memory"))
    decoder_memory = next(line for line in lines if line.startswith("the decoder: longest memory"))
    assert re.search(r"unit \d+ \((forward|backward)\) 0\.\d{3}", encoder_memory) and "ward)" not in decoder_memory


def test_the_decoder_reads_the_reference_of_a_pair_when_given_one(tiny_runs, tmp_path, capsys):
    from lstmkit import gates

    model = load_run(tiny_runs["seq2seq"])
    decoder = gates.trace(model, "red green blue", target="blue green red")
    assert decoder.tokens == ["blue", "green", "red", "</s>"] and decoder.attention.shape == (4, 3)
    weights, _, _ = model.attention_of("red green blue", "blue green red")
    assert np.allclose(decoder.attention, weights)
    assert "read this target" in decoder.notes[0]
    page = tmp_path / "pair.html"
    args = ["inspect", str(tiny_runs["seq2seq"]), "--text", "red green blue", "--out", str(page)]
    assert main([*args, "--target", "blue green red", "--json"]) == 0
    assert [p["steps"] for p in json.loads(capsys.readouterr().out)["parts"]] == [3, 4]
    assert main([*args, "--target", "blue", "--part", "encoder"]) == 2
    assert capsys.readouterr().err.strip() == ("lstmkit: error: --target is what the decoder reads; the encoder reads "
                                               "only the source (leave out --part, or make it decoder)")
    assert main([*args, "--target", "  "]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "the target text is empty; give the reference output for the decoder to read, or leave it out")
    assert main(["inspect", str(tiny_runs["lm"]), "--text", "def f", "--target", "x", "--out", str(page)]) == 2
    assert "--target is the output a sequence-to-sequence model's decoder reads" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="target is the output a sequence-to-sequence model's decoder reads; this "
                                          "language model reads only its input"):
        gates.trace(tiny_runs["lm"], "def f", target="x")


def test_a_step_by_step_decoder_is_traced_over_every_step(tmp_path):
    model = Seq2Seq(level="word", hidden=16, epochs=1, input_feed=True, beam=2).fit(copy_pairs(60))
    from lstmkit import gates

    trace = gates.trace(model, "red green")
    output = model.translate(["red green"])[0]
    assert len(trace) == len(output.split()) + 1 and np.isfinite(trace.gate("c")).all()


def test_a_run_killed_after_a_checkpoint_resumes_to_the_uninterrupted_result(tmp_path):
    from lstmkit.train.progress import Reporter

    class Killed(Reporter):
        def epoch(self, row):
            if row["epoch"] == 2:
                raise KeyboardInterrupt

    # one thread: a run repeats exactly for a given thread count, and the machine's load must not choose it
    pairs, settings = copy_pairs(200), dict(level="word", hidden=16, epochs=4, seed=3, checkpoint_every=0, beam=2, threads=1)
    whole = Seq2Seq(**settings).fit(pairs)
    with pytest.raises(KeyboardInterrupt):
        Seq2Seq(**settings).fit(pairs, checkpoint=tmp_path / "c.pt", reporter=Killed())
    resumed = Seq2Seq(**settings).fit(pairs, checkpoint=tmp_path / "c.pt", resume=True)
    assert [r["train_loss"] for r in resumed.history_] == [r["train_loss"] for r in whole.history_]
    assert resumed.metrics_ == whole.metrics_
    assert all(torch.equal(p, q) for p, q in zip(whole.model_.state_dict().values(), resumed.model_.state_dict().values()))


def test_the_layers_variants_and_regularisers_train_and_predict_the_same_twice():
    pairs = copy_pairs(60)
    model = Seq2Seq(level="word", hidden=16, epochs=2, variant="layernorm", zoneout=0.1, weight_dropout=0.2,
                    attention="additive", tie_embeddings=True, beam=2).fit(pairs)  # fmt: skip
    assert math.isfinite(model.metrics_["perplexity"]) and model.model_.decoder.zoneout and model.model_.tied
    assert model.translate(["red green"]) == model.translate(["red green"])  # eval: no zoneout or dropout noise
