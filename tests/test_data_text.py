"""Tokenisers and the vocabulary."""

import pytest

from lstmkit.data import Vocabulary, detokenize, tokenize
from lstmkit.errors import ConfigError


def test_word_tokens_are_words_and_punctuation():
    assert tokenize("I like pizza, don't you?", "word") == ["I", "like", "pizza", ",", "don't", "you", "?"]


def test_char_tokens_keep_every_character():
    assert tokenize("a b\n", "char") == ["a", " ", "b", "\n"]


@pytest.mark.parametrize("text", ["I like pizza, a lot (really). Yes!", "def f(x):\n    return x\n"])
def test_detokenize_inverts_tokenize(text):
    assert detokenize(tokenize(text, "char"), "char") == text
    words = "I like pizza, a lot (really). Yes!"
    assert detokenize(tokenize(words, "word"), "word") == words


def test_vocabulary_orders_by_frequency_and_maps_unknowns():
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]], min_freq=2)
    assert vocab.tokens == ["<pad>", "<unk>", "b", "a"]
    assert vocab.encode(["a", "c", "zzz"]) == [3, 1, 1]
    assert Vocabulary.from_dict(vocab.to_dict()).tokens == vocab.tokens


def test_bad_level_is_a_clear_error():
    with pytest.raises(ConfigError, match="level must be char or word, got 'byte'"):
        tokenize("x", "byte")
