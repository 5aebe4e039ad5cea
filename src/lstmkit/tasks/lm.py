"""`lstmkit.LanguageModel`: a character- or word-level LSTM language model, with the scikit-learn contract.

Data flow: a text file or folder -> `data.read_corpus` -> contiguous split (train / validation / test) and
a vocabulary built on the training part -> each part cut into `batch_size` parallel streams read in
consecutive `bptt`-step chunks (truncated backpropagation through time, the LSTM state carried from one
chunk to the next) -> `LanguageNet` trained by `train.fit` -> loss, perplexity and bits per character on
the test part beside a unigram model scored on the very same tokens.

    lm = LanguageModel(level="word", hidden=256).fit("corpus/")
    lm.next_tokens("I like to eat pizza, but I also enjoy", k=5)   # [("pasta", 0.41), ...]
    lm.generate("I like", length=20, temperature=0.8, seed=1)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator, Optional, Union

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..data.corpus import Corpus, CorpusSplit, join_tokens, read_corpus, split_corpus, tokenize_documents, unit
from ..data.text import Vocabulary, check_level
from ..errors import ConfigError, DataError
from ..nn import LSTM, variant_flags
from ..rundir import load_model, save_model, unreadable
from ..train import TrainConfig, evaluate_loss, fit, seed_everything
from .estimator import Estimator

STATE_FILE = "lm.json"  # beside model.safetensors: what predicting needs besides the weights
PAD_ID, UNK_ID = 0, 1  # as `Vocabulary` numbers them
EVAL_CHUNKS = 8  # evaluation streams hold at least this many bptt chunks each
CHAR_EMBEDDING = 64  # default embedding size at character level: a hundred-odd symbols need no more


# ---------------------------------------------------------------------------------------------------------
# The network


class LanguageNet(nn.Module):
    """Token ids (B, T) -> next-token logits (B, T, V), carrying the LSTM state (h, c) in and out.

    embedding (V, E) -> dropout -> LSTM (E -> H, `layers` deep) -> dropout -> [projection H -> E] -> linear
    (-> V). With `tie_weights` the output layer shares the embedding matrix (Press & Wolf 2017; Inan et al.
    2017); when H != E a bias-free linear projection maps h_t to size E first.
    """

    def __init__(self, vocab_size: int, *, embedding: int, hidden: int, layers: int = 1, variant: str = "vanilla",
                 dropout: float = 0.0, tie_weights: bool = False):  # fmt: skip
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding)
        self.drop = nn.Dropout(dropout)
        self.lstm = LSTM(embedding, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0,
                         **variant_flags(variant))  # fmt: skip
        self.projection = nn.Linear(hidden, embedding, bias=False) if tie_weights and hidden != embedding else None
        self.decoder = nn.Linear(embedding if tie_weights else hidden, vocab_size)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)  # N(0, 1) would start a tied decoder far too confident
        nn.init.zeros_(self.decoder.bias)
        if tie_weights:
            self.decoder.weight = self.embedding.weight
        self.tied = tie_weights

    def forward(self, x: Tensor, state: Optional[tuple[Tensor, Tensor]] = None):
        e = self.drop(self.embedding(x))  # (B, T, E)
        out, state = self.lstm(e, state)  # (B, T, H); h, c: (layers, B, H)
        out = self.drop(out)
        if self.projection is not None:
            out = self.projection(out)  # (B, T, E)
        return self.decoder(out), state  # (B, T, V)


# ---------------------------------------------------------------------------------------------------------
# Truncated BPTT: ordered chunks of parallel streams, and a loss that carries the state between them


class StreamBatches:
    """The token stream of one part, cut into `streams` parallel streams read in `bptt`-step chunks.

    With N tokens there are N - 1 (input, next token) pairs. Stream b holds a contiguous run of them, the
    runs one after another in the text (the first `extra` streams one pair longer when N - 1 does not
    divide evenly), laid out as rows of x, y (streams, width). Batch k is columns [k*bptt, (k+1)*bptt) of
    every stream, in order and never shuffled, the last chunk shorter when bptt does not divide the width;
    the targets a shorter stream lacks are PAD_ID, which the loss ignores. So every token but the first is
    predicted exactly once per epoch, and chunk k+1 of a stream continues where chunk k stopped: the loss
    carries the LSTM state across. Each batch is (x, y, first): x, y (streams, T) int64 and first, a bool
    scalar that is true for the first chunk, where the carried state starts again from zeros.
    """

    def __init__(self, ids: Tensor, streams: int, bptt: int):
        ids = torch.as_tensor(ids, dtype=torch.long)  # (N,)
        pairs = len(ids) - 1
        if pairs < 1:
            raise DataError(f"a part of the corpus holds {len(ids)} tokens; it needs at least 2 to predict one")
        streams = max(1, min(streams, pairs))
        base, extra = divmod(pairs, streams)
        width = base + (extra > 0)
        self.x = torch.full((streams, width), PAD_ID, dtype=torch.long)  # (S, W)
        self.y = torch.full((streams, width), PAD_ID, dtype=torch.long)  # (S, W)
        start = 0
        for b in range(streams):
            length = base + (b < extra)
            self.x[b, :length] = ids[start : start + length]
            self.y[b, :length] = ids[start + 1 : start + length + 1]
            start += length
        self.bptt, self.pairs = bptt, pairs
        self.starts = list(range(0, width, bptt))
        self.weights = [int((self.y[:, s : s + bptt] != PAD_ID).sum()) for s in self.starts]

    def __len__(self) -> int:
        return self.pairs  # tokens predicted per epoch

    @property
    def streams(self) -> int:
        return self.x.shape[0]

    def num_batches(self) -> int:
        return len(self.starts)

    def epoch(self, generator: Optional[torch.Generator] = None) -> Iterator[tuple[tuple[Tensor, ...], int]]:
        for k, (s, weight) in enumerate(zip(self.starts, self.weights)):  # in order: the state runs on
            yield (self.x[:, s : s + self.bptt], self.y[:, s : s + self.bptt], torch.tensor(k == 0)), weight


class CarriedStateLoss:
    """Mean cross-entropy (nats per token) of a `StreamBatches` batch, carrying the LSTM state.

    The final (h, c) of one batch, detached so gradients stop at the chunk boundary, is the initial state
    of the next; the first batch of an epoch or of an evaluation pass starts from zeros.
    """

    def __init__(self):
        self.state: Optional[tuple[Tensor, Tensor]] = None

    def __call__(self, model: LanguageNet, batch: tuple[Tensor, ...]) -> Tensor:
        x, y, first = batch
        if bool(first) or self.state is None or self.state[0].shape[1] != x.shape[0]:
            self.state = None
        logits, state = model(x, self.state)  # (B, T, V)
        self.state = (state[0].detach(), state[1].detach())
        return F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), ignore_index=PAD_ID)


# ---------------------------------------------------------------------------------------------------------
# Metrics and the unigram baseline


def lm_metrics(loss: float, level: str) -> dict:
    """loss (mean cross-entropy, nats per token), perplexity = exp(loss), and at character level
    bits_per_char = loss / ln 2."""
    metrics = {"loss": float(loss), "perplexity": math.exp(min(loss, 700.0))}
    if level == "char":
        metrics["bits_per_char"] = float(loss) / math.log(2)
    return metrics


def unigram_loss(counts: np.ndarray, target_ids: np.ndarray) -> float:
    """Mean cross-entropy (nats per token) of `target_ids` under the unigram model of the training counts
    (V,): p(w) = (count(w) + 1) / (N_train + V - 1) for every token w of the vocabulary but <pad>
    (add-one smoothing; <unk> counts as a token like any other)."""
    counts = np.asarray(counts, dtype=np.float64)
    log_p = np.log(counts + 1) - np.log(counts.sum() - counts[PAD_ID] + len(counts) - 1)  # (V,)
    return float(-log_p[np.asarray(target_ids, dtype=np.int64)].mean())


# ---------------------------------------------------------------------------------------------------------
# The estimator


class LanguageModel(Estimator):
    """A character- or word-level LSTM language model.

    Parameters are stored as given; what `fit` learns ends in an underscore (`vocab_`, `model_`,
    `embedding_`, `history_`, `metrics_`, `baselines_`, `unigram_counts_`, `tokens_`).

    `min_freq` / `max_vocab`: tokens of the training part seen fewer times, or beyond the `max_vocab` most
    frequent (<pad> and <unk> included in the count), become <unk>, which the model learns to predict like
    any token; validation and test tokens never seen in training are <unk> too, for the model and the
    unigram baseline alike. `embedding`: default `hidden` with `tie_weights`, else 64 at character level and
    `hidden` at word level.
    """

    def __init__(
        self,
        level: str = "char",
        *,
        hidden: int = 256,
        layers: int = 2,
        embedding: Optional[int] = None,
        variant: str = "vanilla",
        dropout: float = 0.1,  # on the embeddings, between LSTM layers and on the LSTM's output
        tie_weights: bool = False,  # share the embedding matrix with the output layer
        bptt: int = 64,  # steps per truncated-BPTT chunk
        lowercase: bool = False,
        min_freq: int = 1,
        max_vocab: Optional[int] = None,
        val_frac: float = 0.1,
        test_frac: float = 0.1,
        epochs: int = 30,
        batch_size: int = 32,  # parallel streams
        lr: float = 2e-3,
        optimizer: str = "adam",
        patience: int = 3,
        max_time: Optional[float] = None,
        seed: int = 0,
        device: str = "cpu",
        precision: str = "fp32",
    ):
        self.level, self.hidden, self.layers, self.embedding = level, hidden, layers, embedding
        self.variant, self.dropout, self.tie_weights, self.bptt = variant, dropout, tie_weights, bptt
        self.lowercase, self.min_freq, self.max_vocab = lowercase, min_freq, max_vocab
        self.val_frac, self.test_frac = val_frac, test_frac
        self.epochs, self.batch_size, self.lr, self.optimizer = epochs, batch_size, lr, optimizer
        self.patience, self.max_time, self.seed = patience, max_time, seed
        self.device, self.precision = device, precision

    # ---- settings ----------------------------------------------------------------------------------
    def _check_settings(self) -> None:
        check_level(self.level)
        for name, value in (("hidden", self.hidden), ("layers", self.layers), ("bptt", self.bptt)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"--{name} must be a whole number of at least 1, got {value!r}")
        if self.embedding is not None and (not isinstance(self.embedding, int) or self.embedding < 1):
            raise ConfigError(f"--embedding must be a whole number of at least 1, got {self.embedding!r}")
        variant_flags(self.variant)  # an unknown variant is a one-line error before any data is read
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"--dropout must be in [0, 1), got {self.dropout}")
        if self.max_vocab is not None and self.max_vocab < 3:
            raise ConfigError(f"--max-vocab must be at least 3 (<pad>, <unk> and one token), got {self.max_vocab}")
        if not self.test_frac > 0:
            raise ConfigError(f"--test-frac must be above 0 (the metrics come from the test part), got {self.test_frac}")

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, data: Union[str, Path, Corpus], *, checkpoint=None, resume: bool = False,
            reporter=None) -> "LanguageModel":  # fmt: skip
        """Read and split the corpus, train with truncated BPTT, then score the test part beside the
        unigram model."""
        self._check_settings()
        config = self.train_config()
        corpus = data if isinstance(data, Corpus) else read_corpus(data, self.level, lowercase=self.lowercase)
        split = split_corpus(corpus, val_frac=self.val_frac, test_frac=self.test_frac,
                             min_freq=self.min_freq, max_vocab=self.max_vocab)  # fmt: skip
        self._check_sizes(corpus, split)
        self.vocab_ = split.vocab
        self.embedding_ = self._resolved_embedding()
        ids = torch.from_numpy(split.ids)
        train = StreamBatches(ids[split.train], self.batch_size, self.bptt)
        val = self._eval_batches(ids[split.val.start - 1 : split.val.stop]) if _size(split.val) else None

        seed_everything(self.seed)
        self.model_ = self._build_model()
        result = fit(self.model_, CarriedStateLoss(), train, val, config,
                     checkpoint=checkpoint, resume=resume, reporter=reporter)  # fmt: skip
        self.model_.cpu().eval()
        self.history_, self.best_epoch_, self.stop_reason_ = result.history, result.best_epoch, result.stop_reason
        self.unigram_counts_ = np.bincount(split.ids[split.train], minlength=len(self.vocab_))
        self.tokens_ = {"train": _size(split.train), "val": _size(split.val), "test": _size(split.test)}
        self.files_, self.skipped_ = len(corpus.files), list(corpus.skipped)
        # every test token is predicted, the first one from the last token before it
        scored = self._score(split.ids[split.test.start - 1 : split.test.stop])
        self.metrics_, self.baselines_ = scored["test"], scored["baselines"]
        prompt = corpus.tokens[split.test.start : split.test.start + self._prompt_tokens()]
        self.sample_prompt_ = join_tokens(prompt, self.level)  # where the report's sample generations start
        return self

    def _check_sizes(self, corpus: Corpus, split: CorpusSplit) -> None:
        """A DataError with the sizes unless every part can be used: the training part must fill one
        `bptt` chunk in each of the `batch_size` streams, validation and test must hold a token each."""
        n_train, n_val, n_test = _size(split.train), _size(split.val), _size(split.test)
        needed = self.batch_size * self.bptt + 1
        sizes = (f"{len(corpus)} {unit(self.level)} split {n_train} / {n_val} / {n_test} "
                 f"with val_frac {self.val_frac} and test_frac {self.test_frac}")  # fmt: skip
        if n_train < needed:
            raise DataError(
                f"{corpus.source}: too small for --batch-size {self.batch_size} x --bptt {self.bptt}: {sizes}, "
                f"and the training part needs at least {needed}; "
                "use a larger corpus or a smaller --batch-size or --bptt"
            )
        if n_test < 1 or (self.val_frac > 0 and n_val < 1):
            raise DataError(f"{corpus.source}: too small to split: {sizes}; "
                            "the validation and test parts need at least one each")  # fmt: skip

    def _resolved_embedding(self) -> int:
        if self.embedding is not None:
            return self.embedding
        return self.hidden if self.tie_weights or self.level == "word" else min(self.hidden, CHAR_EMBEDDING)

    def _build_model(self) -> LanguageNet:
        return LanguageNet(len(self.vocab_), embedding=self.embedding_, hidden=self.hidden, layers=self.layers,
                           variant=self.variant, dropout=self.dropout, tie_weights=self.tie_weights)  # fmt: skip

    def _eval_batches(self, ids: Tensor) -> StreamBatches:
        """Validation and test: as many streams as the batch size, but no more than leave each stream
        EVAL_CHUNKS chunks, so few predictions are made from the zero state a stream starts with."""
        streams = min(self.batch_size, max(1, (len(ids) - 1) // (EVAL_CHUNKS * self.bptt)))
        return StreamBatches(ids, streams, self.bptt)

    def _prompt_tokens(self) -> int:
        return 40 if self.level == "char" else 8

    # ---- score -----------------------------------------------------------------------------------
    def _score(self, ids: np.ndarray) -> dict:
        """The model and the unigram baseline on every token of `ids` but the first."""
        batches = self._eval_batches(torch.from_numpy(np.asarray(ids, dtype=np.int64)))
        config = TrainConfig(batch_size=self.batch_size, precision=self.precision)
        loss = evaluate_loss(self.model_, CarriedStateLoss(), batches, config, torch.device("cpu"))
        baseline = unigram_loss(self.unigram_counts_, ids[1:])
        return {"test": lm_metrics(loss, self.level), "baselines": {"unigram": lm_metrics(baseline, self.level)},
                "tokens": len(ids) - 1}  # fmt: skip

    def evaluate(self, data=None) -> dict:
        """Metrics and the unigram baseline: on the test part of the training corpus (no argument), or on
        every token but the first of new text (a file, a folder or a `Corpus`)."""
        if data is None:
            return {"test": self.metrics_, "baselines": self.baselines_, "tokens": self.tokens_["test"]}
        corpus = data if isinstance(data, Corpus) else read_corpus(data, self.level, lowercase=self.lowercase)
        if len(corpus) < 2:
            raise DataError(f"{corpus.source}: holds {len(corpus)} {unit(self.level)}; scoring needs at least 2")
        ids = np.asarray(self.vocab_.encode(corpus.tokens), dtype=np.int64)
        return self._score(ids)

    # ---- predict and generate --------------------------------------------------------------------
    def _encode_prompt(self, prompt: str) -> Tensor:
        tokens = tokenize_documents([prompt], self.level, lowercase=self.lowercase)
        if not tokens:
            raise ConfigError(f"the prompt {prompt!r} holds no {unit(self.level)} to start from; give some text")
        return torch.tensor(self.vocab_.encode(tokens), dtype=torch.long)  # (T,), unknown tokens -> <unk>

    @torch.no_grad()
    def _read_prompt(self, prompt: str) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """The logits (V,) for the token after the prompt, and the state after it."""
        self.model_.eval()
        logits, state = self.model_(self._encode_prompt(prompt)[None])  # (1, T, V)
        return logits[0, -1].float(), state

    def predict_proba(self, prompt: str) -> np.ndarray:
        """The model's probability of each vocabulary token (`vocab_.tokens`) coming next: (V,)."""
        logits, _ = self._read_prompt(prompt)
        return torch.softmax(logits, dim=0).numpy()

    def next_tokens(self, prompt: str, k: int = 5) -> list[tuple[str, float]]:
        """The k most probable next tokens (words or characters) with their probabilities, most probable
        first. <pad> and <unk> are never listed; the probabilities are the model's own, not renormalised
        over what is listed."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"--next must be a whole number of at least 1, got {k!r}")
        probabilities = torch.from_numpy(self.predict_proba(prompt))
        probabilities[[PAD_ID, UNK_ID]] = -1.0
        top = probabilities.topk(min(k, len(probabilities) - 2))
        return [(self.vocab_.tokens[i], float(p)) for p, i in zip(top.values.tolist(), top.indices.tolist())]

    @torch.no_grad()
    def generate(self, prompt: str, length: int = 200, temperature: float = 1.0, top_k: Optional[int] = None,
                 seed: Optional[int] = None) -> str:  # fmt: skip
        """Read the prompt, then sample `length` tokens one at a time, each from the model's distribution
        divided by `temperature` (lower: more conservative) and cut to the `top_k` most probable tokens
        (None: all; 1: greedy). <pad> and <unk> are never sampled. The same seed gives the same text.

        Returns the continuation only, as text that reads on from the prompt (at word level it starts with
        the space that separates it from the prompt's last word, where one belongs)."""
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ConfigError(f"--length must be a whole number of at least 1, got {length!r}")
        if not temperature > 0:
            raise ConfigError(f"--temperature must be above 0, got {temperature}")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise ConfigError(f"--top-k must be a whole number of at least 1, got {top_k!r}")
        generator = torch.Generator()  # local: sampling never moves the global random state
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        logits, state = self._read_prompt(prompt)
        sampled: list[int] = []
        for _ in range(length):
            scores = logits / temperature  # (V,)
            scores[[PAD_ID, UNK_ID]] = -math.inf
            if top_k is not None and top_k < len(scores):
                kth = scores.topk(top_k).values[-1]
                scores[scores < kth] = -math.inf
            token = torch.multinomial(torch.softmax(scores, dim=0), 1, generator=generator)  # (1,)
            sampled.append(int(token))
            out, state = self.model_(token.view(1, 1), state)  # (1, 1, V)
            logits = out[0, -1].float()
        return self._continuation(prompt, self.vocab_.decode(sampled))

    def _continuation(self, prompt: str, tokens: list[str]) -> str:
        if self.level == "char":
            return "".join(tokens)
        last = tokenize_documents([prompt], "word")[-1]  # glue the continuation to the prompt's last word
        return join_tokens([last, *tokens], "word")[len(last) :]

    # ---- save and load --------------------------------------------------------------------------
    def save(self, directory: Union[str, Path]) -> None:
        tensors = dict(self.model_.state_dict())
        if self.model_.tied:  # safetensors stores no shared tensors: the output layer's weight is the embedding's
            del tensors["decoder.weight"]
        state = {
            "params": self.get_params(), "vocab": self.vocab_.to_dict(), "embedding": self.embedding_,
            "unigram_counts": self.unigram_counts_.tolist(), "tokens": self.tokens_, "metrics": self.metrics_,
            "baselines": self.baselines_, "best_epoch": self.best_epoch_,
        }  # fmt: skip
        save_model(directory, tensors, state, STATE_FILE)

    @classmethod
    def load(cls, directory: Union[str, Path]) -> "LanguageModel":
        state, tensors = load_model(directory, STATE_FILE, "language model")
        try:
            self = cls(**state["params"])
            self.vocab_ = Vocabulary.from_dict(state["vocab"])
            self.embedding_, self.tokens_, self.best_epoch_ = state["embedding"], state["tokens"], state["best_epoch"]
            self.unigram_counts_ = np.asarray(state["unigram_counts"], dtype=np.int64)
            self.metrics_, self.baselines_ = state["metrics"], state["baselines"]
            self.model_ = self._build_model()
            if self.model_.tied:
                tensors["decoder.weight"] = tensors["embedding.weight"]
            self.model_.load_state_dict(tensors)
        except (KeyError, TypeError, ValueError, RuntimeError):  # RuntimeError: weights that do not fit the settings
            raise unreadable(directory, "language model") from None
        self.model_.eval()
        return self


def _size(part: slice) -> int:
    return part.stop - part.start
