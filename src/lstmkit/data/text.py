"""Text into tokens and tokens into ids: the tokenisers and the vocabulary every text job saves with its model.

    tokens = tokenize("I like pizza, a lot.", "word")     # ['I', 'like', 'pizza', ',', 'a', 'lot', '.']
    vocab = Vocabulary.build([tokens], min_freq=1)        # built on the training part only
    ids = vocab.encode(tokens)                            # unknown tokens map to vocab.unk_id
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

from ..errors import ConfigError, DataError

LEVELS = ("char", "word")
PAD_ID, UNK_ID = 0, 1  # the ids of PAD and UNK in every `Vocabulary`
PAD, UNK = "<pad>", "<unk>"
WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]")  # words (with an inner apostrophe), and each punctuation mark
NO_SPACE_BEFORE = set(".,;:!?)]}'\"%")
NO_SPACE_AFTER = set("([{")


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ConfigError(f"`level` must be char or word, got {level!r}")
    return level


def tokenize(text: str, level: str, *, lowercase: bool = False) -> list[str]:
    """Characters (every one, spaces and newlines included), or words and punctuation marks."""
    check_level(level)
    if lowercase:
        text = text.lower()
    return list(text) if level == "char" else WORD.findall(text)


def detokenize(tokens: Sequence[str], level: str) -> str:
    """Tokens back into text: characters joined as they are; words with spaces, none before punctuation."""
    if check_level(level) == "char":
        return "".join(tokens)
    text = ""
    for token in tokens:
        glue = not text or token in NO_SPACE_BEFORE or text[-1] in NO_SPACE_AFTER
        text += token if glue else " " + token
    return text


@dataclass
class Vocabulary:
    """Tokens by id. Id 0 is padding and id 1 the unknown token; the rest by falling frequency."""

    tokens: list[str] = field(default_factory=lambda: [PAD, UNK])

    def __post_init__(self):
        self.index = {token: i for i, token in enumerate(self.tokens)}
        if self.tokens[:2] != [PAD, UNK] or len(self.index) != len(self.tokens):
            raise DataError("a vocabulary must start with <pad>, <unk> and hold each token once")

    @classmethod
    def build(cls, streams: Iterable[Iterable[str]], *, min_freq: int = 1, max_size: Optional[int] = None) -> "Vocabulary":
        """From token streams of the training part only; tokens seen fewer than min_freq times are unknown."""
        if min_freq < 1:
            raise ConfigError(f"`min_freq` must be at least 1, got {min_freq}")
        counts = Counter(token for stream in streams for token in stream)
        kept = sorted((t for t, n in counts.items() if n >= min_freq and t not in (PAD, UNK)), key=lambda t: (-counts[t], t))
        return cls([PAD, UNK] + kept[: None if max_size is None else max(0, max_size - 2)])

    @property
    def pad_id(self) -> int:
        return PAD_ID

    @property
    def unk_id(self) -> int:
        return UNK_ID

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return [self.index.get(token, UNK_ID) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def to_dict(self) -> dict:
        return {"tokens": self.tokens}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocabulary":
        try:
            return cls(list(data["tokens"]))
        except (KeyError, TypeError):
            raise DataError("the saved vocabulary is not valid; train the run again") from None
