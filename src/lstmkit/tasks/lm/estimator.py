"""`lstmkit.LanguageModel`: a character- or word-level LSTM language model, with the scikit-learn contract.

Data flow: a text file or folder -> `data.read_corpus` -> contiguous split (train / validation / test) and
a vocabulary built on the training part -> each part cut into `batch_size` parallel streams read in
consecutive `bptt`-step chunks (truncated backpropagation through time, the LSTM state carried from one
chunk to the next) -> `LanguageNet` trained by `train.fit` -> the n-gram model (Kneser-Ney) fitted on the
training part, and the LSTM's weight in their mixture chosen on the validation part (`ngram_mix`) -> loss,
perplexity and bits per character on the test part beside the unigram and n-gram models scored on the very
same tokens.

    lm = LanguageModel(level="word", hidden=256).fit("corpus/")
    lm.next_tokens("I like to eat pizza, but I also enjoy", k=5)   # [("pasta", 0.41), ...]
    lm.generate("I like", length=20, temperature=0.8, seed=1)
"""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from torch import Tensor

from ...baselines import KN_ORDERS, KneserNey, unigram_loss
from ...data.corpus import (DOCUMENT_BREAK, Corpus, CorpusSplit, column_of_texts, join_tokens, read_corpus, split_corpus,
                            tokenize_documents, unit)
from ...data.csv_table import TABLES, format_suffix
from ...data.text import PAD_ID, UNK_ID, Vocabulary
from ...errors import ConfigError, DataError
from ...metrics import lm_metrics
from ...settings import check_temperature, check_whole
from ...train import TrainConfig, evaluate_loss, fit, seed_everything
from ...train.batches import StreamBatches
from ..estimator import Estimator, pop_baseline, saved_whole, with_baseline
from ..gate_input import GateInput, capped, read_text, text_upto, tokens_with_offsets
from .net import CarriedStateLoss, LanguageNet
from .settings import LanguageModelSettings

EVAL_CHUNKS = 8  # evaluation streams hold at least this many bptt chunks each
# the LSTM's weight in the mixture with the n-gram model (`ngram_mix`), chosen on the validation part; 1: the LSTM
# alone. On the language-model demo validation chose 0.45: test perplexity 4.35 against the LSTM's 5.10 and the
# 5-gram model's 5.02
MIX_WEIGHTS = tuple(round(0.05 * k, 2) for k in range(1, 21))
SCORE_CHUNK = 4096  # tokens one model call reads when a text is scored as one stream, at most
SCORE_ELEMENTS = 2**22  # and at most this many logits (tokens x vocabulary) a call: 32 MB of log-probabilities
CHAR_EMBEDDING = 64  # default embedding size at character level: a hundred-odd symbols need no more


MAX_GENERATE = 100_000  # tokens one `generate` call samples at most: a few seconds to minutes on a CPU


class LanguageModel(LanguageModelSettings, Estimator):
    """A character- or word-level LSTM language model.

    Parameters (`LanguageModelSettings`) are stored as given; what `fit` learns ends in an underscore (`vocab_`, `model_`,
    `embedding_`, `history_`, `metrics_`, `baselines_`, `unigram_counts_`, `tokens_`, `ngram_`, `lstm_weight_`:
    the LSTM's weight in its mixture with the n-gram model, 1 for the LSTM alone, and `lstm_metrics_`).

    `min_freq` / `max_vocab`: tokens of the training part seen fewer times, or beyond the `max_vocab` most
    frequent (<pad> and <unk> included in the count), become <unk>, which the model learns to predict like
    any token; validation and test tokens never seen in training are <unk> too, for the model and the
    unigram baseline alike. `embedding`: default `hidden` with `tie_weights`, else 64 at character level and
    `hidden` at word level.
    """

    noun = "language model"
    state_file = "lm.json"
    reads_text = True

    # ---- settings ----------------------------------------------------------------------------------
    def _check_settings(self) -> None:
        """Every setting checked before any data is read."""
        self.check_settings()
        if not self.test_frac > 0:
            raise ConfigError(f"`test_frac` must be above 0 (the metrics come from the test part), got {self.test_frac}")

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, data: Union[str, Path, Corpus], *, checkpoint=None, resume: bool = False,
            reporter=None, score_test: bool = True) -> "LanguageModel":  # fmt: skip
        """Read and split the corpus, train with truncated BPTT, then score the test part beside the
        unigram model (score_test False, a tuning trial: the test part stays held out but is not scored)."""
        self._check_settings()
        config = self.train_config()
        corpus = data if isinstance(data, Corpus) else read_corpus(data, self.level, lowercase=self.lowercase, text_col=self.text_col)
        split = split_corpus(corpus, val_frac=self.val_frac, test_frac=self.test_frac,
                             min_freq=self.min_freq, max_vocab=self.max_vocab)  # fmt: skip
        self._check_sizes(corpus, split)
        self.vocab_ = split.vocab
        self.embedding_ = self._resolved_embedding()
        ids = torch.from_numpy(split.ids)
        train = StreamBatches(ids[split.train], self.batch_size, self.bptt, PAD_ID)
        val = self._eval_batches(ids[split.val.start - 1 : split.val.stop]) if _size(split.val) else None

        seed_everything(self.seed)
        self.model_ = self._build_model()
        result = fit(self.model_, CarriedStateLoss(), train, val, config,
                     checkpoint=checkpoint, resume=resume, reporter=reporter)  # fmt: skip
        self.model_.cpu().eval()
        self.history_, self.best_epoch_, self.stop_reason_ = result.history, result.best_epoch, result.stop_reason
        self.unigram_counts_ = np.bincount(split.ids[split.train], minlength=len(self.vocab_))
        # the n-gram baseline, saved with the run; a tuning trial, which scores no test part, fits it only to mix
        mixing = self.ngram_mix == "auto" and _size(split.val) > 0
        self.ngram_ = KneserNey(split.ids[split.train], len(self.vocab_), KN_ORDERS[self.level]) if score_test or mixing else None
        self.lstm_weight_, self.val_loss_ = 1.0, None
        if mixing:
            self.lstm_weight_, self.val_loss_ = self._choose_weight(split.ids[split.val.start - 1 : split.val.stop])
            if reporter is not None:  # a tuning trial is worth the loss of the model the run reports: the mixture's
                reporter.final(self.val_loss_)
        self.tokens_ = {"train": _size(split.train), "val": _size(split.val), "test": _size(split.test)}
        self.files_, self.skipped_ = len(corpus.files), list(corpus.skipped)
        if not score_test:
            self.metrics_ = self.baselines_ = self.lstm_metrics_ = None
            return self
        # every test token is predicted, the first one from the last token before it
        scored = self._score(split.ids[split.test.start - 1 : split.test.stop])
        self.metrics_, self.baselines_, self.lstm_metrics_ = scored["test"], scored["baselines"], scored["lstm"]
        prompt = corpus.tokens[split.test.start : split.test.start + self._prompt_tokens()]
        self.sample_prompt_ = join_tokens(prompt, self.level)  # where the report's sample generations start
        return self

    def _check_sizes(self, corpus: Corpus, split: CorpusSplit) -> None:
        """A DataError with the sizes unless every part can be used: the training part must fill one
        `bptt` chunk in each of the `batch_size` streams, validation and test must hold a token each."""
        n_train, n_val, n_test = _size(split.train), _size(split.val), _size(split.test)
        needed = self.batch_size * self.bptt + 1
        sizes = (f"{len(corpus)} {unit(self.level)} split {n_train} / {n_val} / {n_test} "
                 f"with `val_frac` {self.val_frac} and `test_frac` {self.test_frac}")  # fmt: skip
        if n_train < needed:
            raise DataError(
                f"{corpus.source}: too small for `batch_size` {self.batch_size} x `bptt` {self.bptt}: {sizes}, "
                f"and the training part needs at least {needed}; "
                "use a larger corpus or a smaller `batch_size` or `bptt`"
            )
        if n_test < 1 or (self.val_frac > 0 and n_val < 1):
            raise DataError(f"{corpus.source}: too small to split: {sizes}; "
                            "the validation and test parts need at least one each")  # fmt: skip

    @property
    def tied_(self) -> bool:
        """`tie_weights`, where None is on for words and off for characters. Measured at word level (the defaults:
        two layers of 256 units, 30 epochs; seed 0; test perplexity of the LSTM mixed with its 3-gram model, and of
        the LSTM alone), untied -> tied: 145 KB of licence texts 264.0 -> 262.7 (760 -> 1041), 400 KB of
        Python's documentation topics 28.8 -> 26.6 (49.3 -> 38.9), 400 KB of the standard library's
        docstrings 235.7 -> 223.5 (396 -> 362), 400 KB of Debian package descriptions 895.1 -> 886.7 (2477
        -> 1807); a vocabulary of words is large beside a small corpus, and sharing the matrix halves the
        parameters that learn it (Press & Wolf 2017, Inan et al. 2017). Then checked on what played no part
        in the choice: 200 KB of Debian changelogs 16.32 -> 15.39 (21.4 -> 19.5), the topics at seed 1 28.18
        -> 26.73 (46.3 -> 40.2). Dropout 0.3 instead of 0.1 gave the licences 266.1 untied and 264.0 tied.
        Characters keep their small embedding, untied."""
        return self.tie_weights if self.tie_weights is not None else self.level == "word"

    def _resolved_embedding(self) -> int:
        if self.embedding is not None:
            return self.embedding
        return self.hidden if self.tied_ or self.level == "word" else min(self.hidden, CHAR_EMBEDDING)

    def _build_model(self) -> LanguageNet:
        return LanguageNet(len(self.vocab_), embedding=self.embedding_, hidden=self.hidden, layers=self.layers,
                           variant=self.variant, dropout=self.dropout, tie_weights=self.tied_)  # fmt: skip

    def _eval_batches(self, ids: Tensor) -> StreamBatches:
        """Validation and test: as many streams as the batch size, but no more than leave each stream
        EVAL_CHUNKS chunks, so few predictions are made from the zero state a stream starts with."""
        streams = min(self.batch_size, max(1, (len(ids) - 1) // (EVAL_CHUNKS * self.bptt)))
        return StreamBatches(ids, streams, self.bptt, PAD_ID)

    def _prompt_tokens(self) -> int:
        return 40 if self.level == "char" else 8

    # ---- score -----------------------------------------------------------------------------------
    @cached_property
    def ngram_(self) -> Optional[KneserNey]:
        """The n-gram model: the baseline, and the LSTM's partner in the mixture (`lstm_weight_`). `fit` sets
        it; a loaded model fits it again from the saved training stream on first use (a model of the LSTM alone
        needs it only to score)."""
        saved = getattr(self, "_ngram_saved", None)
        return None if saved is None else KneserNey.from_saved(*saved)

    def _score(self, ids: np.ndarray) -> dict:
        """The model and the baselines on every token of `ids` but the first. The LSTM alone reads `ids` in
        parallel streams (`_eval_batches`, as validation during training); mixed with the n-gram model
        (`lstm_weight_` below 1), it reads them as one stream, as generating does, and "lstm" holds its metrics
        alone, scored on the very probabilities the mixture mixes."""
        baselines = {"unigram": lm_metrics(unigram_loss(self.unigram_counts_, ids[1:]), self.level)}
        scored = {"lstm": None, "baselines": baselines, "tokens": len(ids) - 1}
        ngram = None if self.ngram_ is None else self.ngram_.token_probabilities(ids)  # (N - 1,)
        if ngram is not None:
            baselines["kneser_ney"] = lm_metrics(float(-np.log(ngram).mean()), self.level)
        if ngram is not None and self.lstm_weight_ < 1:
            lstm = self._lstm_log_probs(ids)
            scored["lstm"] = lm_metrics(float(-lstm.mean()), self.level)
            scored["test"] = lm_metrics(_mixture_loss(lstm, ngram, self.lstm_weight_), self.level)
        else:
            batches = self._eval_batches(torch.from_numpy(np.asarray(ids, dtype=np.int64)))
            loss = evaluate_loss(self.model_, CarriedStateLoss(), batches, self._scoring_config(), torch.device("cpu"))
            scored["test"] = lm_metrics(loss, self.level)
        return {"test": scored.pop("test"), **scored}

    @torch.no_grad()
    def _lstm_log_probs(self, ids: np.ndarray) -> np.ndarray:
        """The LSTM's log-probability of every token of `ids` but the first, reading `ids` as one stream (in
        chunks of SCORE_CHUNK tokens, fewer for a large vocabulary, the state carried): (N - 1,) float64."""
        self.model_.eval()
        x, state, out = torch.as_tensor(np.asarray(ids, dtype=np.int64)), None, []
        size = max(1, min(SCORE_CHUNK, SCORE_ELEMENTS // len(self.vocab_)))
        for start in range(0, len(x) - 1, size):
            chunk = x[start : start + size + 1]
            logits, state = self.model_(chunk[None, :-1], state)  # (1, T, V)
            out.append(torch.log_softmax(logits[0].double(), dim=-1).gather(1, chunk[1:, None])[:, 0])
        return torch.cat(out).numpy()

    def _choose_weight(self, ids: np.ndarray) -> tuple[float, float]:
        """The LSTM's weight of MIX_WEIGHTS whose mixture with the n-gram model has the lowest loss on `ids`
        (the validation part; 1, the LSTM alone, where no mixture is lower), and that loss."""
        lstm, ngram = self._lstm_log_probs(ids), self.ngram_.token_probabilities(ids)
        loss, weight = min((_mixture_loss(lstm, ngram, w), -w) for w in MIX_WEIGHTS)
        return -weight, loss

    def _next_log_probs(self, logits: Tensor, history: list[int]) -> Tensor:
        """A mixed model's log-probabilities (V,) of the next token after the token ids `history`, from the
        LSTM's logits (V,) there mixed with the n-gram model's probabilities (`lstm_weight_` below 1)."""
        log_p = torch.log_softmax(logits.double(), dim=0)
        ngram = torch.from_numpy(self.ngram_.next_probabilities(history))
        return torch.log(self.lstm_weight_ * log_p.exp() + (1 - self.lstm_weight_) * ngram)

    def _scoring_config(self) -> TrainConfig:
        """Scoring runs in the training precision; a bf16 model read on a machine without native bf16 is
        scored in fp32 ("auto" resolves to bf16 only where the CPU has it)."""
        precision = "auto" if self.precision == "bf16" else self.precision
        return TrainConfig(batch_size=self.batch_size, precision=precision).resolved()

    def evaluate(self, data=None) -> dict:
        """Metrics beside the baselines (and the LSTM's alone where it is mixed with the n-gram model): on the
        test part of the training corpus (no argument), or on every token but the first of new text (a file, a
        folder or a `Corpus`)."""
        if data is None:
            return {"test": self.metrics_, "lstm": self.lstm_metrics_, "baselines": self.baselines_, "tokens": self.tokens_["test"]}
        corpus = data if isinstance(data, Corpus) else read_corpus(data, self.level, lowercase=self.lowercase, text_col=self.text_col)
        if len(corpus) < 2:
            raise DataError(f"{corpus.source}: holds {len(corpus)} {unit(self.level)}; scoring needs at least 2")
        ids = np.asarray(self.vocab_.encode(corpus.tokens), dtype=np.int64)
        if (ids[1:] == self.vocab_.unk_id).all():  # no claim can rest on tokens the model never saw
            raise DataError(f"{corpus.source}: every {unit(self.level, 1)} scored is one the model never saw in "
                            "training (all unknown), so there is nothing to compare; evaluate on text like its "
                            "training text")  # fmt: skip
        return self._score(ids)

    # ---- predict and generate --------------------------------------------------------------------
    def _encode_prompt(self, prompt: str) -> Tensor:
        """The prompt's token ids (T,), unknown tokens as <unk>. A prompt of no tokens ("", or white space at
        word level) is the start of a new document: what comes after one in the training stream, a blank line
        (characters) or the `EOD` token (words), as a language model without a prompt starts from its
        beginning-of-text token."""
        if not isinstance(prompt, str):
            raise ConfigError(f"the prompt must be a str, got {type(prompt).__name__}")
        tokens = tokenize_documents([prompt], self.level, lowercase=self.lowercase) or tokenize_documents(
            ["", ""], self.level)  # the break between two documents
        return torch.tensor(self.vocab_.encode(tokens), dtype=torch.long)

    @torch.no_grad()
    def _read_prompt(self, prompt: str) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """The logits (V,) for the token after the prompt, and the state after it."""
        self.model_.eval()
        logits, state = self.model_(self._encode_prompt(prompt)[None])  # (1, T, V)
        return logits[0, -1].float(), state

    def predict_proba(self, prompt: str) -> np.ndarray:
        """The model's probability of each vocabulary token (`vocab_.tokens`) coming next: (V,); mixed with
        the n-gram model's where the model is (`lstm_weight_` below 1)."""
        logits, _ = self._read_prompt(prompt)
        if self.lstm_weight_ >= 1:
            return torch.softmax(logits, dim=0).numpy()
        return self._next_log_probs(logits, self._encode_prompt(prompt).tolist()).exp().numpy()

    def next_tokens(self, prompt: str, k: int = 5) -> list[tuple[str, float]]:
        """The k most probable next tokens (words or characters) with their probabilities, most probable
        first. <pad> and <unk> are never listed; the probabilities are the model's own, not renormalised
        over what is listed."""
        check_whole("k", k)
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
        if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= MAX_GENERATE:
            raise ConfigError(f"`length` must be a whole number in [1, {MAX_GENERATE}], got {length!r}")
        check_temperature(temperature)
        if top_k is not None:
            check_whole("top_k", top_k)
        generator = torch.Generator()  # local: sampling never moves the global random state
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        logits, state = self._read_prompt(prompt)
        mixed = self.lstm_weight_ < 1
        history = self._encode_prompt(prompt).tolist() if mixed else []  # what the n-gram model reads: the prompt, then each token sampled
        sampled: list[int] = []
        for _ in range(length):
            scores = (self._next_log_probs(logits, history).float() if mixed else logits) / temperature  # (V,)
            scores[[PAD_ID, UNK_ID]] = -math.inf
            if top_k is not None and top_k < len(scores):
                kth = scores.topk(top_k).values[-1]
                scores[scores < kth] = -math.inf
            token = torch.multinomial(torch.softmax(scores, dim=0), 1, generator=generator)  # (1,)
            sampled.append(int(token))
            if mixed:
                history.append(int(token))
            out, state = self.model_(token.view(1, 1), state)  # (1, 1, V)
            logits = out[0, -1].float()
        return self._continuation(prompt, self.vocab_.decode(sampled))

    def _continuation(self, prompt: str, tokens: list[str]) -> str:
        if self.level == "char":
            return "".join(tokens)
        words = tokenize_documents([prompt], "word")
        if not words:  # a new document: the continuation is the text itself
            return join_tokens(tokens, "word")
        last = words[-1]  # glue the continuation to the prompt's last word
        return join_tokens([last, *tokens], "word")[len(last) :]

    # ---- the gate inspector ---------------------------------------------------------------------
    def gate_input(self, data, max_steps: Optional[int] = None) -> GateInput:
        """The text (a str, or a `pathlib.Path` to a text file, or to a CSV file whose column of texts it reads
        as training does, a row a document) tokenised as the model tokenises (lowercased when it lowercases),
        read from a zero state as `generate` reads a prompt; unknown tokens are <unk>."""
        if isinstance(data, Path) and format_suffix(data) in TABLES:  # a CSV's column of texts, as training reads it
            text = DOCUMENT_BREAK.join(column_of_texts(data, self.text_col))
        else:
            text = read_text(data)
        text = text.lower() if self.lowercase else text
        tokens, offsets = tokens_with_offsets(text, self.level)
        what = unit(self.level)
        notes = [f"The language model read these {what} from a zero state, as it reads a prompt."]
        shown = capped(len(tokens), max_steps, notes, what)
        ids = self.vocab_.encode(tokens[:shown])
        unknown = sum(i == UNK_ID for i in ids)
        if unknown:
            notes.append(f"{unknown} of them are not in the model's vocabulary and were read as <unk>.")
        return GateInput((torch.tensor(ids, dtype=torch.long)[None],), "text", tokens[:shown],
                         text_upto(text, offsets, tokens, shown), offsets[:shown], total_steps=len(tokens), notes=notes)  # fmt: skip

    # ---- export -----------------------------------------------------------------------------------
    def export_graph(self):
        """ids (batch, time) token ids of the vocabulary; h0, c0 (layers, batch, hidden) the state to start from
        (zeros for a new text) -> logits (batch, time, vocabulary) of the token after each step, and the state
        after the last step (h_n, c_n), to carry on from."""
        from ...export.onnx import Graph
        from .net import StatefulLM

        lstm = self.model_.lstm
        V = len(self.vocab_)

        def sample(batch: int, steps: int) -> dict:
            state = lambda size: 0.5 * torch.randn(lstm.num_layers, batch, size)  # noqa: E731
            return {"ids": torch.randint(0, V, (batch, steps)), "h0": state(lstm.output_size), "c0": state(lstm.hidden_size)}

        return Graph(StatefulLM(self.model_), sample(2, 5), ["logits", "h_n", "c_n"],
                     {"ids": {0: "batch", 1: "time"}, "h0": {1: "batch"}, "c0": {1: "batch"}}, sample)  # fmt: skip

    # ---- save and load --------------------------------------------------------------------------
    def _tensors(self) -> dict:
        """The network's weights, and the n-gram baseline's training stream (`with_baseline`)."""
        tensors = dict(self.model_.state_dict())
        if self.model_.tied:  # safetensors stores no shared tensors: the output layer's weight is the embedding's
            del tensors["decoder.weight"]
        return with_baseline(tensors, {} if self.ngram_ is None else self.ngram_.saved()[1])

    def _state(self) -> dict:
        return {
            "vocab": self.vocab_.to_dict(), "embedding": self.embedding_,
            "unigram_counts": self.unigram_counts_.tolist(), "tokens": self.tokens_, "metrics": self.metrics_,
            "baselines": self.baselines_, "best_epoch": self.best_epoch_,
            "ngram": None if self.ngram_ is None else self.ngram_.saved()[0], "lstm_weight": self.lstm_weight_,
            "lstm_metrics": self.lstm_metrics_, "sample_prompt": getattr(self, "sample_prompt_", None),
        }  # fmt: skip

    def _restore(self, state: dict, tensors: dict, directory: Path) -> None:
        self.vocab_ = Vocabulary.from_dict(state["vocab"])
        self.embedding_, self.tokens_, self.best_epoch_ = saved_whole(state, "embedding", 1), state["tokens"], state["best_epoch"]
        self.unigram_counts_ = np.asarray(state["unigram_counts"], dtype=np.int64)
        self.metrics_, self.baselines_, self.lstm_metrics_ = state["metrics"], state["baselines"], state.get("lstm_metrics")
        self.sample_prompt_ = state.get("sample_prompt")  # the serve page's example; runs saved before: none
        # fitted again on first use (`ngram_`); runs saved before the baseline travelled with them: none
        self._ngram_saved = (state["ngram"], pop_baseline(tensors)) if state.get("ngram") else None
        self.lstm_weight_ = float(state.get("lstm_weight", 1.0)) if self._ngram_saved else 1.0  # runs saved before: the LSTM alone
        self.model_ = self._build_model()
        if self.model_.tied:
            tensors["decoder.weight"] = tensors["embedding.weight"]
        self.model_.load_state_dict(tensors)


def _size(part: slice) -> int:
    return part.stop - part.start


def _mixture_loss(lstm_log_probs: np.ndarray, ngram_probs: np.ndarray, weight: float) -> float:
    """Mean cross-entropy (nats per token) of the mixture weight * P_lstm + (1 - weight) * P_ngram."""
    return float(-np.log(weight * np.exp(lstm_log_probs) + (1 - weight) * ngram_probs).mean())
