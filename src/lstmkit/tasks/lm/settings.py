"""The language model's settings: its own, then those every job shares (`tasks/settings.py`)."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Optional

from ...data.text import LEVELS
from ...settings import setting
from ..settings import SharedSettings, shared


@dataclass(eq=False)
class LanguageModelSettings(SharedSettings):
    level: str = setting("char", "Model characters or words.", choices=LEVELS)
    _: KW_ONLY
    bptt: int = setting(64, "Steps of truncated backpropagation through time.", whole=True, min=1)
    # default: `hidden` with tie_weights, else 64 at character level and `hidden` at word level
    embedding: Optional[int] = setting(None, "Embedding size (default: 64 for char, hidden for word).", whole=True, min=1)
    # the output layer uses the embedding; None: tied for words, not for characters (`LanguageModel.tied_`)
    tie_weights: Optional[bool] = setting(None, "Share the embedding and output weights; default: on for words, off for "
                                          "characters.")  # fmt: skip
    min_freq: int = setting(1, "Tokens seen fewer times in training become <unk>.", whole=True, min=1)
    max_vocab: Optional[int] = setting(None, "Largest vocabulary.", whole=True, min=3)  # <pad> and <unk> included
    lowercase: bool = setting(False, "Lowercase the text first.")
    text_col: Optional[str] = setting(None, "The column of texts of a CSV file, a row a document (default: its one "
                                      "column of texts).")  # fmt: skip
    ngram_mix: str = setting("auto", "auto: mix the LSTM's next-token probabilities with the n-gram model's (Kneser-Ney, "
                             "fitted on the training part), the LSTM's weight chosen on the validation part; no: the "
                             "LSTM alone.", choices=("auto", "no"))  # fmt: skip
    hidden: int = shared("hidden", 256)
    layers: int = shared("layers", 2)
    dropout: float = shared("dropout", 0.1)  # on the embeddings, between LSTM layers and on the LSTM's output
    # a language model predicts each token from those before it: it cannot also read the text backwards
    bidirectional: bool = shared("bidirectional", False, choices=(False,), cli=False)
    val_frac: float = shared("val_frac", 0.1, help="Fraction of the text for validation.")
    test_frac: float = shared("test_frac", 0.1, help="Fraction of the text for the test part (its end).")
    epochs: int = shared("epochs", 30)
    batch_size: int = shared("batch_size", help="Parallel streams of text per mini-batch.")
    lr: float = shared("lr", 2e-3)
    patience: int = shared("patience", 3)
