"""Language modelling: the corpus, truncated BPTT with carried state, the estimator, the run directory."""

import json
import math
import random

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.cli_options import flag
from lstmkit.data.corpus import EOD, read_corpus, split_corpus
from lstmkit.data.text import detokenize, tokenize
from lstmkit.errors import ConfigError, DataError
from lstmkit.baselines import KneserNey, unigram_loss
from lstmkit.tasks.lm.demo import stdlib_corpus
from lstmkit.tasks.lm.estimator import LanguageModel
from lstmkit.tasks.lm.net import CarriedStateLoss, LanguageNet
from lstmkit.tasks.lm.report import verdict
from lstmkit.tasks.run import load_run, train_run
from lstmkit.train.batches import StreamBatches
from lstmkit.train.progress import Reporter

PIZZA = "I like to eat pizza, but I also enjoy"
TINY = dict(hidden=32, layers=1, dropout=0.0, bptt=16, batch_size=4, lr=1e-2, patience=100)


@pytest.fixture(scope="module")
def cat_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("cat") / "cat.txt"
    path.write_text("the cat sat on the mat . " * 200)
    return LanguageModel("word", epochs=40, **TINY).fit(path)


@pytest.fixture(scope="module")
def char_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("char") / "hello.txt"
    path.write_text("hello world, hello moon. " * 60)
    return LanguageModel("char", epochs=60, **TINY).fit(path)


@pytest.fixture(scope="module")
def pizza_model(tmp_path_factory):
    """Which word follows "I also enjoy" depends on the food or pastime seven words back."""
    sentences = [PIZZA + " pasta .", "I like to read books, but I also enjoy films .",
                 "I like to play chess, but I also enjoy cards ."]  # fmt: skip
    order = random.Random(0).choices(sentences, k=120)
    path = tmp_path_factory.mktemp("pizza") / "pizza.txt"
    path.write_text(" ".join(order))
    return LanguageModel("word", epochs=30, tie_weights=True, embedding=16, **TINY).fit(path)


# ---- learning ------------------------------------------------------------------------------------------


def test_word_model_learns_a_repeating_text_and_ranks_the_true_next_word_first(cat_model):
    assert cat_model.metrics_["loss"] < 0.05
    assert cat_model.next_tokens("the cat sat on the")[0][0] == "mat"
    assert cat_model.next_tokens("the mat . the")[0][0] == "cat"


def test_char_model_learns_a_repeating_string(char_model):
    assert char_model.metrics_["loss"] < 0.05
    assert char_model.next_tokens("hello wor")[0][0] == "l"
    assert char_model.next_tokens("hello m")[0][0] == "o"


def test_next_words_for_the_pizza_prompt(pizza_model):
    ranked = pizza_model.next_tokens(PIZZA, k=5)
    assert len(ranked) == 5 and ranked[0][0] == "pasta" and ranked[0][1] > 0.5
    probabilities = [p for _, p in ranked]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-6
    assert not {"<pad>", "<unk>"} & {token for token, _ in ranked}
    assert pizza_model.next_tokens("I like to read books, but I also enjoy", k=1)[0][0] == "films"


# ---- truncated BPTT ------------------------------------------------------------------------------------


def test_batches_are_consecutive_chunks_of_each_stream_and_predict_every_token_once():
    ids = torch.arange(10, 34)  # 24 tokens, 23 (input, next) pairs: streams of 8, 8 and 7
    batches = StreamBatches(ids, streams=3, bptt=3)
    epoch = list(batches.epoch(torch.Generator().manual_seed(0)))
    assert [x.shape[1] for (x, _, _), _ in epoch] == [3, 3, 2]  # the final partial chunk is included
    assert [bool(first) for (_, _, first), _ in epoch] == [True, False, False]
    x = torch.cat([x for (x, _, _), _ in epoch], dim=1)
    y = torch.cat([y for (_, y, _), _ in epoch], dim=1)
    assert x[0].tolist() == list(range(10, 18)) and x[1].tolist() == list(range(18, 26))
    assert x[2, :7].tolist() == list(range(26, 33)) and y[2, 7] == 0  # shorter stream: padded, ignored target
    predicted = y[y != 0]
    assert sorted(predicted.tolist()) == list(range(11, 34))  # every token but the first, exactly once
    assert sum(weight for _, weight in epoch) == len(batches) == 23


def test_the_state_after_one_batch_is_the_initial_state_of_the_next():
    torch.manual_seed(0)
    net = LanguageNet(12, embedding=8, hidden=16).eval()
    (first, _), (second, _) = list(StreamBatches(torch.randint(2, 12, (41,)), streams=2, bptt=10).epoch(None))[:2]
    loss = CarriedStateLoss()
    with torch.no_grad():
        loss(net, first)
        carried = loss(net, second)
        _, state = net(first[0])
        logits, _ = net(second[0], state)
        expected = torch.nn.functional.cross_entropy(logits.flatten(0, 1), second[1].flatten())
        logits, _ = net(second[0])
        from_zeros = torch.nn.functional.cross_entropy(logits.flatten(0, 1), second[1].flatten())
        restarted = loss(net, first)  # the first batch of an epoch starts from zeros again
        logits, _ = net(first[0])
        fresh = torch.nn.functional.cross_entropy(logits.flatten(0, 1), first[1].flatten())
    assert torch.allclose(carried, expected) and not torch.allclose(carried, from_zeros)
    assert torch.allclose(restarted, fresh)


class ResetEveryBatch(CarriedStateLoss):
    def __call__(self, model, batch):
        self.state = None
        return super().__call__(model, batch)


def test_carried_state_predicts_better_than_resetting_at_each_chunk(cat_model):
    """After a reset the model sees "the" with no past and cannot tell "cat" from "mat"."""
    ids = torch.tensor(cat_model.vocab_.encode(("the cat sat on the mat . " * 40).split()))
    batches = StreamBatches(ids, streams=4, bptt=5)

    def mean_loss(loss_fn):
        with torch.no_grad():
            return sum(loss_fn(cat_model.model_, b).item() * w for b, w in batches.epoch(None)) / len(batches)

    carried, reset = mean_loss(CarriedStateLoss()), mean_loss(ResetEveryBatch())
    assert carried < 0.05 and reset > carried + 0.05


# ---- generation ----------------------------------------------------------------------------------------


def test_generate_repeats_with_a_seed_and_differs_across_seeds(pizza_model):
    first = pizza_model.generate("I like", length=30, temperature=1.5, seed=1)
    assert first == pizza_model.generate("I like", length=30, temperature=1.5, seed=1)
    assert first != pizza_model.generate("I like", length=30, temperature=1.5, seed=2)
    assert first.startswith(" ") and "<pad>" not in first and "<unk>" not in first


def test_top_k_1_is_greedy(pizza_model):
    tokens = ["I", "like"]
    for _ in range(12):  # the most probable word each time
        probabilities = pizza_model.predict_proba(detokenize(tokens, "word"))
        probabilities[:2] = 0  # never <pad> or <unk>
        tokens.append(pizza_model.vocab_.tokens[int(np.argmax(probabilities))])
    greedy = pizza_model.generate("I like", length=12, top_k=1, seed=1)
    assert tokenize("I like" + greedy, "word") == tokens
    assert greedy == pizza_model.generate("I like", length=12, top_k=1, seed=7)


def test_bad_prompts_and_temperatures_are_config_errors(cat_model, char_model):
    with pytest.raises(ConfigError, match="^the prompt must be a str, got int$"):
        cat_model.next_tokens(3)
    with pytest.raises(ConfigError, match="temperature must be a finite number above 0, got 0"):
        cat_model.generate("the", temperature=0)
    assert cat_model.next_tokens("zebra unicorn")[0][1] > 0  # unknown words read as <unk>, no error


def test_an_empty_prompt_starts_a_new_document(tmp_path):
    """As a language model without a prompt starts from its beginning-of-text token: the model reads what
    comes after a document in its training stream (the EOD token, or a blank line), so it writes how its
    documents begin. Here every letter begins with "Dear", and no other word is ever "Dear"."""
    folder = tmp_path / "letters"
    folder.mkdir()
    for k in range(30):
        (folder / f"{k:02d}.txt").write_text(f"Dear {['Ann', 'Bob', 'Cy'][k % 3]} , the cat sat on the mat .")
    words = LanguageModel("word", epochs=40, **TINY).fit(folder)
    assert words.next_tokens("")[0][0] == words.next_tokens("  ")[0][0] == "Dear"
    assert words.generate("", length=1, top_k=1).startswith("Dear")
    chars = LanguageModel("char", epochs=60, **TINY).fit(folder)
    assert chars.generate("", length=4, top_k=1) == "Dear"


# ---- metrics -------------------------------------------------------------------------------------------


def test_metrics_hold_loss_perplexity_and_bits_per_char_at_char_level(char_model, cat_model):
    m = char_model.metrics_
    assert set(m) == set(char_model.baselines_["unigram"]) == {"loss", "perplexity", "bits_per_char"}
    assert m["bits_per_char"] == pytest.approx(m["loss"] / math.log(2))
    assert m["perplexity"] == pytest.approx(math.exp(m["loss"]))
    assert set(cat_model.metrics_) == {"loss", "perplexity"}


def test_unigram_baseline_uses_add_one_training_counts(tmp_path):
    # counts over <pad>, <unk>, a, b: p(a) = (2 + 1) / (3 + 3), p(b) = (1 + 1) / 6
    expected = -(math.log(3 / 6) + math.log(2 / 6)) / 2
    assert unigram_loss(np.array([0, 0, 2, 1]), np.array([2, 3])) == pytest.approx(expected)
    path = tmp_path / "ab.txt"
    path.write_text("ab" * 50)  # train: 40 a and 40 b; test: "ababababab"
    lm = LanguageModel("char", hidden=8, layers=1, bptt=8, batch_size=2, epochs=1).fit(path)
    assert lm.baselines_["unigram"]["loss"] == pytest.approx(math.log(83 / 41))  # p = (40 + 1) / (80 + 3)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_kneser_ney_gives_every_token_a_probability_summing_to_one(order):
    train = np.random.default_rng(order).integers(2, 9, size=400)
    model = KneserNey(train, 10, order)
    for history in ([2, 3], [-1, 4], [-1, -1], [8, 8], [9, 9]):  # 9: never seen in training
        p = model.probabilities(np.array([history] * 10), np.arange(10))
        assert p.min() > 0 and p.sum() == pytest.approx(1.0)


def test_kneser_ney_by_hand():
    # bigrams (2,3) x2, (3,2) x2, (2,4): each of 2, 3, 4 continues one distinct bigram, so the unigram level
    # gives each (1 - 0.75 + 0.75 * 3 / 5) / 3 and the unseen 0 and 1 (0.75 * 3 / 5) / 3
    model = KneserNey(np.array([2, 3, 2, 3, 2, 4]), 5, 2)
    unigram = (1 - 0.75 + 0.75 * 3 / 5) / 3
    p = model.probabilities(np.array([[2], [2], [-1], [4]]), np.array([3, 0, 3, 3]))
    np.testing.assert_allclose(p, [(2 - 0.75) / 3 + 0.75 * 2 / 3 * unigram,  # after 2: c(2 3) = 2 of c(2 .) = 3
                                   0.75 * 2 / 3 * (0.75 * 3 / 5) / 3,       # 0 never followed 2
                                   unigram, unigram])  # no history, and 4 never followed by anything
    after_3 = 0.75 * 1 / 2 * (0.75 * 3 / 5) / 3  # 3 was followed by 2 alone, twice
    assert model.loss(np.array([2, 3, 0])) == pytest.approx(-(np.log(p[0]) + np.log(after_3)) / 2)


def test_a_run_directory_holds_metrics_against_the_unigram_model_and_a_report(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("to be or not to be, that is the question. " * 30)
    metrics = train_run(LanguageModel("char", epochs=3, **TINY), path, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics)) and saved["task"] == "lm"
    assert set(saved["test"]) == set(saved["baselines"]["unigram"]) == {"loss", "perplexity", "bits_per_char"}
    # a repeated sentence: the 5-gram model knows every next character; three epochs of a tiny LSTM do not
    assert saved["beats_baselines"] == {"unigram": True, "kneser_ney": False} and saved["ngram_order"] == 5
    # validation gives the LSTM the least weight in the mixture with the n-gram model; even so, on test, below
    # the n-gram model alone
    assert saved["lstm_weight"] == 0.05 and saved["model"] == "LSTM + 5-gram"
    assert verdict(saved) == (f"The model (the LSTM mixed with the 5-gram model (Kneser-Ney), weight 0.05 on the LSTM's "
                              f"probabilities, chosen on the validation part) beats the unigram model but NOT the 5-gram "
                              f"model (Kneser-Ney) on perplexity ({saved['test']['perplexity']:.3g} against "
                              f"{saved['baselines']['unigram']['perplexity']:.3g} and "
                              f"{saved['baselines']['kneser_ney']['perplexity']:.3g}; the LSTM alone "
                              f"{saved['lstm']['perplexity']:.3g}): counting what followed the last 4 characters in "
                              "training predicts this text as well.", False)  # fmt: skip
    report = (tmp_path / "run" / "report.html").read_text()
    assert "beats the unigram" in report and "n-gram (Kneser-Ney)" in report and "Perplexity per epoch" in report
    assert "Sample generation at temperature 0.5" in report
    lm = load_run(tmp_path / "run")
    assert lm.metrics_ == saved["test"] and lm.next_tokens("to be or not to b", k=1)[0][0] == "e"


def test_a_loaded_model_scores_new_text_beside_the_n_gram_model_it_was_trained_beside(char_model, tmp_path):
    """The n-gram model is saved with the run (its training stream) and fitted again on first use: the loaded
    model's Kneser-Ney perplexity on new text is the trained one's, and is the n-gram model's fitted by hand on
    the training part."""
    new = tmp_path / "new.txt"
    new.write_text("hello moon, hello world. the moon is no world. " * 4)
    char_model.save(tmp_path / "m")
    loaded = LanguageModel.load(tmp_path / "m")
    assert "ngram_" not in vars(loaded)  # not fitted at load: generating or serving never needs it
    scored = loaded.evaluate(new)
    assert scored["baselines"] == char_model.evaluate(new)["baselines"]
    ids = np.asarray(char_model.vocab_.encode(read_corpus(new, "char", lowercase=char_model.lowercase).tokens))
    by_hand = KneserNey(char_model.ngram_.train_ids, len(char_model.vocab_), 5).loss(ids)
    assert scored["baselines"]["kneser_ney"]["loss"] == pytest.approx(by_hand, rel=1e-12)
    assert len(char_model.ngram_.train_ids) == char_model.tokens_["train"]


class Interrupt(Reporter):
    def epoch(self, row):
        if row["epoch"] == 2:
            raise KeyboardInterrupt


def test_an_interrupted_run_resumes_to_the_result_of_an_uninterrupted_one(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("to be or not to be, that is the question. " * 30)
    settings = dict(TINY, layers=2, dropout=0.2, epochs=3, checkpoint_every=0)  # dropout: the random state must resume too
    expected = train_run(LanguageModel("char", **settings), path, tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):  # at epoch 2, after its checkpoint
        train_run(LanguageModel("char", **settings), path, tmp_path / "cut", reporter=Interrupt())
    assert (tmp_path / "cut" / ".incomplete" / "checkpoint.pt").exists()
    assert train_run(LanguageModel("char", **settings), path, tmp_path / "cut", resume=True) == expected


def test_save_and_load_give_identical_next_token_probabilities(pizza_model, tmp_path):
    pizza_model.save(tmp_path)
    loaded = LanguageModel.load(tmp_path)
    assert np.array_equal(loaded.predict_proba(PIZZA), pizza_model.predict_proba(PIZZA))
    assert loaded.get_params() == pizza_model.get_params() and loaded.vocab_.tokens == pizza_model.vocab_.tokens


def test_words_share_the_embedding_and_output_weights_by_default_and_characters_do_not(cat_model, char_model, tmp_path):
    assert cat_model.tie_weights is None and cat_model.tied_ and cat_model.model_.tied
    assert cat_model.model_.decoder.weight is cat_model.model_.embedding.weight
    assert char_model.tie_weights is None and not char_model.tied_ and not char_model.model_.tied
    assert LanguageModel("word", tie_weights=False).tied_ is False and LanguageModel("char", tie_weights=True).tied_ is True
    cat_model.save(tmp_path)  # the shared matrix is stored once and shared again on loading
    loaded = LanguageModel.load(tmp_path)
    assert loaded.model_.decoder.weight is loaded.model_.embedding.weight
    assert np.array_equal(loaded.predict_proba("the cat sat on the"), cat_model.predict_proba("the cat sat on the"))


# ---- the corpus ----------------------------------------------------------------------------------------


def test_documents_are_separated_by_a_blank_line_or_an_end_of_document_token(tmp_path):
    (tmp_path / "a.txt").write_text("one two\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("three\r\nfour\n")
    (tmp_path / ".hidden").write_text("never read")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\x00\x01")
    assert "".join(read_corpus(tmp_path, "char").tokens) == "one two\n\nthree\nfour"
    words = read_corpus(tmp_path, "word")
    assert words.tokens == ["one", "two", EOD, "three", "four"] and words.skipped == [str(tmp_path / "image.png")]


def test_split_is_by_position_and_the_vocabulary_comes_from_the_training_part(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("a b " * 40 + "c d e f g h i j k l m n o p q r s t u v")  # the last 20 words only at the end
    split = split_corpus(read_corpus(path, "word"), val_frac=0.1, test_frac=0.1)
    assert (split.train, split.val, split.test) == (slice(0, 80), slice(80, 90), slice(90, 100))
    assert split.vocab.tokens == ["<pad>", "<unk>", "a", "b"] and set(split.ids[80:].tolist()) == {1}


def test_a_list_of_texts_is_the_corpus_a_folder_of_them_is(tmp_path):
    texts = ["def f(x):\r\n    return x\n", "class A:\n    pass\n"]
    for i, text in enumerate(texts):
        (tmp_path / f"{i}.py").write_bytes(text.encode())
    for level in ("char", "word"):
        from_list, from_folder = read_corpus(texts, level), read_corpus(tmp_path, level)
        assert from_list.tokens == from_folder.tokens and from_list.source == "the given texts"


def test_a_csv_of_texts_is_the_corpus_of_its_column_of_texts_a_row_a_document(tmp_path):
    # a table of jokes or tweets, as Kaggle's are: an id, the text, a label; not the CSV's raw text
    texts = ["Why did the chicken cross the road?", "To get to the other side, of course.", "Knock knock, who is there?"]
    path = tmp_path / "jokes.csv"
    path.write_text("id,joke,likes\n" + "".join(f'{k},"{text}",{k * 3}\n' for k, text in enumerate(texts)) + "3,,0\n")
    for level in ("char", "word"):
        assert read_corpus(path, level).tokens == read_corpus(texts, level).tokens
        assert read_corpus(path, level, text_col="joke").tokens == read_corpus(texts, level).tokens
    lm = LanguageModel("char", epochs=1, text_col="joke", val_frac=0.2, test_frac=0.2, **{**TINY, "batch_size": 1, "bptt": 8})
    assert lm.fit(path).evaluate(path)["test"]["loss"] > 0 and lm.get_params()["text_col"] == "joke"
    # the gate inspector reads the column too, the rows a blank line apart, not the CSV's raw text
    assert lm.gate_input(path).tokens == lm.gate_input("\n\n".join(texts)).tokens
    two = tmp_path / "two.csv"
    two.write_text("title,body\n" + "".join(f'"{text}","{text} again and again"\n' for text in texts))
    with pytest.raises(DataError, match=r"^.*two.csv: is a table; give text_col, the column of its texts, a row a "
                                        r"document \(one of title, body\)$"):  # fmt: skip
        read_corpus(two, "char")
    assert read_corpus(two, "word", text_col="body").tokens[:3] == ["Why", "did", "the"]
    with pytest.raises(DataError, match=r"^text_col names a column of a CSV file \(a row a document\); .*notes.txt is none$"):
        read_corpus(tmp_path / "notes.txt", "char", text_col="joke")
    frame = pd.read_csv(path)  # the same table in memory, and its column alone, a missing text left out
    for level in ("char", "word"):
        assert read_corpus(frame, level).tokens == read_corpus(frame["joke"], level).tokens == read_corpus(texts, level).tokens
    assert read_corpus(frame, "word", text_col="joke").source == "the DataFrame"
    with pytest.raises(DataError, match=r"^the DataFrame: is a table; give text_col, the column of its texts, a row a "
                                        r"document \(one of title, body\)$"):  # fmt: skip
        read_corpus(pd.read_csv(two), "char")


def test_a_table_of_short_texts_is_read_by_its_one_column_of_words(tmp_path):
    """Messages or names of a word or two hold no sentences, yet a table whose one column of words stands
    beside numbers, dates and codes is that column's corpus; a table of none is asked for its column."""
    names = ["Abkhazian", "destination buffer too small", "Afar", "show all", "Zulu", "Yoruba"]
    path = tmp_path / "messages.csv"
    path.write_text("n,day,code,message\n" + "".join(f"{k},2020-01-0{k + 1},A{k},{name}\n" for k, name in enumerate(names)))
    assert read_corpus(path, "word").tokens == read_corpus(names, "word").tokens
    path.write_text("n,day,code\n" + "".join(f"{k},2020-01-0{k + 1},A{k}\n" for k in range(6)))
    with pytest.raises(DataError, match=r"^.*messages.csv: is a table; give text_col, the column of its texts, a row "
                                        r"a document \(its columns: n, day, code\)$"):  # fmt: skip
        read_corpus(path, "char")


def test_empty_binary_and_missing_files_and_empty_folders_are_data_errors(tmp_path):
    empty, binary, folder = tmp_path / "empty.txt", tmp_path / "data.bin", tmp_path / "nothing"
    empty.write_text("  \n")
    binary.write_bytes(b"\x00\x01\x02text")
    folder.mkdir()
    cases = {
        empty: f"{empty}: the file is empty, expected text",
        binary: f"{binary}: looks like a binary file, expected a text file",
        folder: f"{folder}: no text files found",
        tmp_path / "missing.txt": f"{tmp_path / 'missing.txt'}: no such file",
    }
    for path, message in cases.items():
        with pytest.raises(DataError) as error:
            LanguageModel("char").fit(path)
        assert str(error.value) == message
    with pytest.raises(DataError, match="^expected the path of a text file, got list$"):  # numbers are no text
        LanguageModel("char").fit([1, 2])
    with pytest.raises(DataError, match="^the given texts are all empty$"):
        LanguageModel("char").fit(["", "  "])
    (folder / "blob.bin").write_bytes(b"\x00\x00")  # a folder of binary files only holds no text either
    with pytest.raises(DataError, match="nothing: no text files found$"):
        read_corpus(folder, "word")


def test_a_corpus_too_small_for_the_batches_is_a_data_error_with_the_sizes(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("x" * 100)
    with pytest.raises(DataError) as error:
        LanguageModel("char", batch_size=32, bptt=64).fit(path)
    assert str(error.value) == (
        f"{path}: too small for batch_size 32 x bptt 64: 100 characters split 80 / 10 / 10 with val_frac 0.1 "
        "and test_frac 0.1, and the training part needs at least 2049; use a larger corpus or a smaller "
        "batch_size or bptt"
    )
    assert error.value.for_command_line(flag) == (  # the command line names its flags instead
        f"{path}: too small for --batch-size 32 x --bptt 64: 100 characters split 80 / 10 / 10 with --val-frac 0.1 "
        "and --test-frac 0.1, and the training part needs at least 2049; use a larger corpus or a smaller "
        "--batch-size or --bptt"
    )


def test_the_demo_corpus_is_the_standard_library_without_its_tests(tmp_path):
    folder = stdlib_corpus(30_000, cache=tmp_path)
    files = sorted(p for p in folder.rglob("*.py"))
    assert files and sum(p.stat().st_size for p in files) <= 30_000
    assert not any({"test", "tests", "site-packages"} & set(p.relative_to(folder).parts) for p in files)
    assert stdlib_corpus(30_000, cache=tmp_path) == folder and len(read_corpus(folder, "char").files) == len(files)


# ---- the LSTM mixed with the n-gram model --------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_model(tmp_path_factory):
    """Random sentences of a small grammar: neither the LSTM nor the 5-gram model knows what comes next."""
    rng = random.Random(3)
    subjects, verbs, objects = ["the cat", "a dog", "my old bird", "her fish"], ["sees", "eats", "likes"], ["milk", "a red ball", "the moon", "bread"]
    path = tmp_path_factory.mktemp("mixed") / "grammar.txt"
    path.write_text(" ".join(f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}." for _ in range(500)))
    return LanguageModel("char", epochs=4, **TINY).fit(path), path


def _by_hand_log_probs(lm, ids):
    x = torch.as_tensor(ids)
    with torch.no_grad():
        logits, _ = lm.model_(x[None, :-1])  # the whole part in one call
    return torch.log_softmax(logits[0].double(), dim=-1)[torch.arange(len(x) - 1), x[1:]].numpy()


def test_the_lstm_is_mixed_with_the_n_gram_model_by_the_weight_validation_chose(mixed_model):
    from lstmkit.tasks.lm.estimator import MIX_WEIGHTS

    lm, path = mixed_model
    split = split_corpus(read_corpus(path, "char"), val_frac=lm.val_frac, test_frac=lm.test_frac, min_freq=lm.min_freq)
    losses = {}
    for name, part in (("val", split.val), ("test", split.test)):
        ids = split.ids[part.start - 1 : part.stop]
        lstm, ngram = np.exp(_by_hand_log_probs(lm, ids)), lm.ngram_.token_probabilities(ids)
        losses[name] = {w: -np.log(w * lstm + (1 - w) * ngram).mean() for w in MIX_WEIGHTS}
    chosen = min(losses["val"], key=losses["val"].get)
    assert 0.05 < lm.lstm_weight_ == chosen < 1  # a real mixture: each model adds what the other misses
    assert lm.metrics_["loss"] == pytest.approx(losses["test"][chosen], rel=1e-9)
    assert lm.lstm_metrics_["loss"] == pytest.approx(-_by_hand_log_probs(lm, ids).mean(), rel=1e-6)  # the same LSTM
    assert lm.metrics_["loss"] < min(lm.lstm_metrics_["loss"], lm.baselines_["kneser_ney"]["loss"])
    # the next-token distribution is the same mixture
    prompt = "the cat sees a r"
    logits, _ = lm.model_(lm._encode_prompt(prompt)[None])
    expected = chosen * torch.softmax(logits[0, -1].double(), 0).detach().numpy() + (1 - chosen) * lm.ngram_.next_probabilities(
        lm._encode_prompt(prompt).tolist())
    np.testing.assert_allclose(lm.predict_proba(prompt), expected, rtol=1e-5)  # the LSTM in float32
    assert lm.next_tokens(prompt, k=1)[0][0] == "e"


def test_a_text_is_scored_as_one_stream_whatever_the_chunks(mixed_model, monkeypatch):
    """Read in chunks, the state carried, a text gives the log-probabilities of one call over all of it; a large
    vocabulary makes the chunks shorter, so no call holds more than SCORE_ELEMENTS logits."""
    from lstmkit.tasks.lm import estimator

    lm, _ = mixed_model
    ids = np.asarray(lm.vocab_.encode(list("the cat sees the moon. a dog eats bread. " * 3)))
    whole = _by_hand_log_probs(lm, ids)
    monkeypatch.setattr(estimator, "SCORE_ELEMENTS", 7 * len(lm.vocab_))  # chunks of 7 tokens
    np.testing.assert_allclose(lm._lstm_log_probs(ids), whole, rtol=1e-5)


def test_a_mixed_model_saved_and_loaded_predicts_and_generates_the_same(mixed_model, tmp_path):
    lm, _ = mixed_model
    lm.save(tmp_path / "m")
    loaded = LanguageModel.load(tmp_path / "m")
    assert loaded.lstm_weight_ == lm.lstm_weight_ and loaded.evaluate() == lm.evaluate()
    np.testing.assert_array_equal(loaded.predict_proba("my old b"), lm.predict_proba("my old b"))
    assert loaded.generate("her fish ", 40, temperature=0.7, seed=2) == lm.generate("her fish ", 40, temperature=0.7, seed=2)


def test_without_the_mixture_the_model_is_the_lstm_alone(mixed_model):
    lm, path = mixed_model
    alone = LanguageModel("char", epochs=4, ngram_mix="no", **TINY).fit(path)
    assert alone.lstm_weight_ == 1.0 and alone.lstm_metrics_ is None
    for mine, theirs in zip(alone.model_.state_dict().values(), lm.model_.state_dict().values()):
        assert torch.equal(mine, theirs)  # the same LSTM as the mixed model's: the mixture changes no training
    assert lm.metrics_["loss"] < alone.metrics_["loss"]  # the mixture beats it
    logits, _ = alone.model_(alone._encode_prompt("a dog")[None])
    np.testing.assert_allclose(alone.predict_proba("a dog"), torch.softmax(logits[0, -1], 0).detach().numpy(), rtol=1e-5)
