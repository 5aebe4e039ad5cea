"""Each side's tokens: subwords (byte-pair encoding learnt on the training part, through the `tokenizers`
library), words, or characters; and the vocabulary that numbers them. Saved with the model as JSON.

Subwords are the default: every text is covered (a word never seen in training is spelt from pieces, never
<unk>), and decoding gives the text back with its own spacing ("Erreur : fichier" stays so), which BLEU and
chrF score. Words lose the spacing around punctuation; characters make long sequences.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from ...data.text import PAD, UNK, Vocabulary, detokenize, tokenize

BOS, EOS = "<s>", "</s>"
BOS_ID, EOS_ID = 2, 3  # in every side's vocabulary, after <pad> and <unk>
SPECIALS = [PAD, UNK, BOS, EOS]
ALPHABET = string.printable[:94]  # digits, letters and punctuation: always in a subword vocabulary


@dataclass
class SideTokens:
    """How one side's texts become token ids and ids become text again."""

    level: str  # "subword" | "word" | "char"
    vocab: Vocabulary
    lowercase: bool = False
    bpe: Optional[str] = None  # subword: the `tokenizers` BPE model, serialised as JSON

    @classmethod
    def learn(cls, texts: list[str], level: str, *, vocab_size: int, min_freq: int, lowercase: bool) -> "SideTokens":
        """From the training part's texts of one side."""
        if level == "subword":  # the BPE's own vocabulary: its pieces and the whole ALPHABET
            bpe = _learn_bpe(texts, vocab_size, lowercase)
            side = cls(level, Vocabulary(list(SPECIALS)), lowercase, bpe)
            pieces = side._bpe.get_vocab()
            side.vocab = Vocabulary(SPECIALS + [t for t in sorted(pieces, key=pieces.get) if t not in SPECIALS])
            return side
        side = cls(level, Vocabulary(list(SPECIALS)), lowercase)
        built = Vocabulary.build((side.tokens(text) for text in texts), min_freq=min_freq)
        side.vocab = Vocabulary(SPECIALS + [t for t in built.tokens[2:] if t not in (BOS, EOS)])
        return side

    def tokens(self, text: str) -> list[str]:
        if self.level == "subword":
            return self._bpe.encode(text).tokens
        return tokenize(text, self.level, lowercase=self.lowercase)

    def encode(self, text: str) -> list[int]:
        return self.vocab.encode(self.tokens(text))

    def extended(self, tokens: Sequence[str], extra: list[str]) -> list[int]:
        """Copy attention: the ids of `tokens` in this vocabulary extended by `extra`; a token in neither is
        <unk>."""
        size = len(self.vocab)
        return [self.vocab.index[t] if t in self.vocab.index else size + extra.index(t) if t in extra else self.vocab.unk_id
                for t in tokens]  # fmt: skip

    def decode(self, ids: Iterable[int], extra: Sequence[str] = ()) -> str:
        """Ids (without <s>, up to </s>) back to text; <pad> and the markers are dropped. An id past the
        vocabulary is a copied token: `extra[id - len(vocab)]`."""
        size = len(self.vocab)
        tokens = [self.vocab.tokens[i] if i < size else extra[i - size] for i in ids]
        tokens = [t for t in tokens if t not in (PAD, BOS, EOS)]
        if self.level == "subword":
            return self._bpe.decoder.decode(tokens).strip()
        return detokenize(tokens, "char" if self.level == "char" else "word").strip()

    @property
    def _bpe(self):
        if getattr(self, "_loaded", None) is None:
            from tokenizers import Tokenizer

            self._loaded = Tokenizer.from_str(self.bpe)
        return self._loaded

    def to_dict(self) -> dict:
        return {"level": self.level, "vocab": self.vocab.to_dict(), "lowercase": self.lowercase, "bpe": self.bpe}

    @classmethod
    def from_dict(cls, data: dict) -> "SideTokens":
        return cls(data["level"], Vocabulary.from_dict(data["vocab"]), bool(data["lowercase"]), data["bpe"])


def _learn_bpe(texts: list[str], vocab_size: int, lowercase: bool) -> str:
    """A byte-pair encoding of `texts` with at most `vocab_size` tokens, pre-split on spaces the way
    SentencePiece does (a word's first piece carries the "▁" of the space before it), digits one by one, as
    JSON. Every printable ASCII character is a token, seen in training or not; other characters never seen
    are <unk>."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    steps = [normalizers.NFKC()] + ([normalizers.Lowercase()] if lowercase else [])
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(), pre_tokenizers.Digits(individual_digits=True)])
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIALS), show_progress=False,
                                  initial_alphabet=list(ALPHABET))  # fmt: skip
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer.to_str()
