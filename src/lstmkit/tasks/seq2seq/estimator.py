"""`lstmkit.Seq2Seq`: translate, summarise or reply with an LSTM encoder-decoder and attention, with the
scikit-learn contract.

Data flow: a TSV, CSV, .po or .mo file (or a folder of catalogs) -> `data.read_pairs` -> a seeded random
split (train / validation / test) -> each side's tokens learnt on the training part (`tokens.SideTokens`),
pairs cut to `max_len` tokens -> `PairBatches` -> `Seq2SeqNet` trained by `train.fit` with label-smoothed
cross-entropy -> the test sources decoded (beam search, and greedy beside it) and scored with BLEU, chrF,
exact match and perplexity, beside copying the source and retrieving the target of the most similar
training source, on the very same test pairs.

    model = Seq2Seq().fit("fra.tsv")
    model.translate(["Open the file"], beam=5)            # ["Ouvrir le fichier"]
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch.nn import functional as F

from ...baselines import copy_outputs, retrieval_outputs
from ...data.csv_table import TYPED, WORKBOOKS, format_suffix
from ...data.pairs import Pairs, read_pairs, source_texts, texts_as_pairs
from ...data.text import PAD_ID
from ...errors import ConfigError, DataError
from ...metrics import translation_metrics
from ...settings import check_temperature, check_whole
from ...train import PairBatches, TrainConfig, evaluate_loss, fit, seed_everything
from ..estimator import Estimator
from ..gate_input import GateInput, capped, read_text, text_upto
from .decode import beam_search, sample
from .net import Seq2SeqNet
from .settings import Seq2SeqSettings
from .tokens import BOS_ID, EOS, EOS_ID, SideTokens

DECODE_BATCH = 64  # sources decoded together
SAMPLES = 20  # test pairs shown in the report
OUTPUT_PER_SOURCE, OUTPUT_EXTRA = 2, 10  # an output's default most tokens: 2 per source token, and 10 more


class Seq2Seq(Seq2SeqSettings, Estimator):
    """An LSTM encoder-decoder with attention over pairs of texts.

    Parameters (`Seq2SeqSettings`) are stored as given; what `fit` learns ends in an underscore:
    `source_tokens_`, `target_tokens_`, `model_`, `history_`, `metrics_` (beam search), `greedy_metrics_`,
    `baselines_`, `split_`, `cut_` (pairs cut to `max_len`), `samples_`.

    Defaults, and why:
    - level "subword": BPE of `vocab_size` 4000 per side covers every word (no <unk> for a word never
      seen) and decodes back to the text as written, which BLEU and chrF score.
    - a bidirectional encoder of 1 layer, H 256 (each direction 128), attention "general": Luong et al.'s
      global attention and OpenNMT's RNN defaults, scaled to a CPU. Input feeding off: on the demo's 16k
      pairs it made training twice as slow (the decoder then runs a step at a time) for a validation loss
      no better epoch for epoch (3.42 against 3.35 after 10 epochs).
    - dropout 0.2, label smoothing 0.1, Adam at lr 2e-3, batch 64, up to 30 epochs, patience 3 on the
      validation loss (which is label-smoothed too).
    - beam 5 with GNMT's length normalisation alpha 0.6 for the test translations; greedy is scored beside.
    - copy True: copy attention (pointer-generator) lets the output repeat names, placeholders and rare
      words of the input; on the demo's messages it raised test BLEU by 1.6-2.3 and chrF by 1.8-2.6 over
      seeds 0-1 (benchmarks/seq2seq_quality.py).
    - level "subword" over "word": on the demo, words reached BLEU 27.5 but chrF 46.0 and exact match 0.049
      against subwords' 26.5 / 47.4 / 0.13 (without copying), training 4 times as long.
    """

    noun = "sequence-to-sequence model"
    state_file = "seq2seq.json"
    reads_text = True

    # ---- settings ----------------------------------------------------------------------------------
    def _check_settings(self) -> None:
        self.check_settings()
        if self.val_frac + self.test_frac >= 1:
            raise ConfigError(f"`val_frac` + `test_frac` must be below 1 to leave pairs for training, "
                              f"got {self.val_frac} + {self.test_frac}")  # fmt: skip
        if not self.test_frac > 0:
            raise ConfigError(f"`test_frac` must be above 0 (the metrics come from the test part), got {self.test_frac}")
        if self.bidirectional and self.hidden % 2:
            raise ConfigError(f"`hidden` must be even with a bidirectional encoder (each direction holds half), got {self.hidden}")

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, data, targets=None, *, checkpoint=None, resume: bool = False, reporter=None,
            score_test: bool = True) -> "Seq2Seq":  # fmt: skip
        """Read and split the pairs, learn each side's tokens, train; then decode and score the test part
        beside the copy and retrieval baselines (score_test False, a tuning trial: held out, not scored).
        data: a file of pairs, a DataFrame or `Pairs`; or a list of source texts, with `targets` theirs."""
        self._check_settings()
        config = self.train_config()
        pairs = self._read(data, targets)
        self.split_ = self._split(pairs)
        train, val, test = (pairs.subset(self.split_[name]) for name in ("train", "val", "test"))
        self.source_tokens_ = SideTokens.learn(train.sources, self.level, vocab_size=self.vocab_size,
                                               min_freq=self.min_freq, lowercase=self.lowercase)  # fmt: skip
        self.target_tokens_ = SideTokens.learn(train.targets, self.level, vocab_size=self.vocab_size,
                                               min_freq=self.min_freq, lowercase=self.lowercase)  # fmt: skip
        train_batches, self.cut_ = self._batches(train, config.batch_size)
        if self.cut_ and reporter is not None:
            reporter.note(f"{self.cut_} of {len(train)} training pairs are longer than max_len {self.max_len} "
                          "tokens on a side and were cut to it")  # fmt: skip
        val_batches = self._batches(val, config.batch_size)[0] if len(val) else None

        seed_everything(self.seed)
        self.model_ = self._build_net()
        result = fit(self.model_, self._loss, train_batches, val_batches, config,
                     checkpoint=checkpoint, resume=resume, reporter=reporter)  # fmt: skip
        self.model_.cpu().eval()
        self.history_, self.best_epoch_, self.stop_reason_ = result.history, result.best_epoch, result.stop_reason
        self.train_pairs_ = train
        self.sizes_ = {"train": len(train), "val": len(val), "test": len(test)}
        if not score_test:
            self.metrics_ = self.greedy_metrics_ = self.baselines_ = None
            return self
        scored = self._score(test, greedy_too=True)
        self.metrics_, self.greedy_metrics_, self.baselines_ = scored["test"], scored["greedy"], scored["baselines"]
        self.samples_ = [{"source": s, "reference": r, "output": o}
                         for s, r, o in zip(test.sources[:SAMPLES], test.targets[:SAMPLES], scored["outputs"])]  # fmt: skip
        return self

    def _read(self, data, targets=None) -> Pairs:
        if targets is not None:
            return texts_as_pairs(data, targets)
        if isinstance(data, Pairs):
            return data
        if isinstance(data, pd.DataFrame):
            return self._frame_pairs(data)
        return read_pairs(data, source_col=self.source_col, target_col=self.target_col)

    def _frame_pairs(self, frame: pd.DataFrame) -> Pairs:
        columns = [self.source_col or "source", self.target_col or "target"]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"the DataFrame has no column {missing[0]!r}; its columns are {', '.join(map(str, frame.columns))}")
        return Pairs(*(frame[c].astype(str).str.strip().tolist() for c in columns), "the DataFrame")

    def _split(self, pairs: Pairs) -> dict[str, np.ndarray]:
        """A seeded random split: test_frac and val_frac of the pairs (at least one each), the rest trains."""
        n = len(pairs)
        n_test = max(1, round(n * self.test_frac))
        n_val = max(1, round(n * self.val_frac)) if self.val_frac > 0 else 0
        if n - n_test - n_val < 1:
            raise DataError(f"{pairs.path}: {n} pairs leave none for training after the validation and test parts")
        order = np.random.default_rng(self.seed).permutation(n)
        return {"test": np.sort(order[:n_test]), "val": np.sort(order[n_test : n_test + n_val]),
                "train": np.sort(order[n_test + n_val :])}  # fmt: skip

    def _encode_source(self, text: str) -> tuple[list[int], list[int], list[str]]:
        """A source's ids (its first max_len tokens), and for copy attention their copy ids and extra tokens."""
        tokens = self.source_tokens_.tokens(text)[: self.max_len]
        copy_ids, extra = self._copy_ids(tokens) if self.copy else ([], [])
        return self.source_tokens_.vocab.encode(tokens) or [PAD_ID], copy_ids or [PAD_ID], extra

    def _batches(self, pairs: Pairs, batch_size: int) -> tuple[PairBatches, int]:
        """The pairs as id tensors, each side cut to max_len tokens, the targets framed by <s> and </s>
        (with `copy`, also in the target vocabulary extended by each source's own tokens); and how many pairs
        were cut."""
        sources, targets, copy_sources, copy_targets, cut = [], [], [], [], 0
        for source, target in zip(pairs.sources, pairs.targets):
            s_tokens, t_tokens = self.source_tokens_.tokens(source), self.target_tokens_.tokens(target)
            cut += len(s_tokens) > self.max_len or len(t_tokens) > self.max_len
            s_tokens, t_tokens = s_tokens[: self.max_len], t_tokens[: self.max_len]
            sources.append(torch.tensor(self.source_tokens_.vocab.encode(s_tokens) or [PAD_ID], dtype=torch.long))
            targets.append(torch.tensor([BOS_ID, *self.target_tokens_.vocab.encode(t_tokens), EOS_ID], dtype=torch.long))
            if self.copy:
                ids, extra = self._copy_ids(s_tokens)
                copy_sources.append(torch.tensor(ids or [PAD_ID], dtype=torch.long))
                copy_targets.append(torch.tensor([BOS_ID, *self.target_tokens_.extended(t_tokens, extra), EOS_ID], dtype=torch.long))
        copied = dict(copy_sources=copy_sources, copy_targets=copy_targets) if self.copy else {}
        return PairBatches(sources, targets, batch_size, pad_id=PAD_ID, **copied), cut

    def _copy_ids(self, source_tokens: list[str]) -> tuple[list[int], list[str]]:
        """Copy attention: each source token's id in the target vocabulary, extended by the source's own
        tokens that the target vocabulary lacks (in order of first appearance); and those tokens."""
        extra = list(dict.fromkeys(t for t in source_tokens if t not in self.target_tokens_.vocab.index))
        return self.target_tokens_.extended(source_tokens, extra), extra

    def _build_net(self) -> Seq2SeqNet:
        return Seq2SeqNet(len(self.source_tokens_.vocab), len(self.target_tokens_.vocab),
                          embedding=self.embedding or self.hidden, hidden=self.hidden, layers=self.layers,
                          variant=self.variant, dropout=self.dropout, bidirectional=self.bidirectional,
                          attention=self.attention, input_feed=self.input_feed,
                          tie_embeddings=self.tie_embeddings, copy=self.copy,
                          zoneout=self.zoneout, weight_dropout=self.weight_dropout)  # fmt: skip

    def _loss(self, model: Seq2SeqNet, batch, smoothing: Optional[float] = None) -> Tensor:
        """Mean cross-entropy per target token, label-smoothed (`smoothing`, default the model's) as
        `F.cross_entropy` smooths: (1 - e) * nll + e * the mean of -log p over the target vocabulary."""
        source, lengths, target_in, target_out, *copy_ids = batch
        out = model(source, lengths, target_in, *copy_ids).float()  # (B, T, V) logits, or (B, T, V + extra) log p
        smoothing = self.label_smoothing if smoothing is None else smoothing
        y = target_out.flatten()
        if not model.copies:
            return F.cross_entropy(out.flatten(0, 1), y, ignore_index=PAD_ID, label_smoothing=smoothing)
        log_p = out.flatten(0, 1)
        loss = F.nll_loss(log_p, y, ignore_index=PAD_ID)
        if smoothing:
            real = y != PAD_ID
            loss = (1 - smoothing) * loss - smoothing * log_p[real, : model.target_vocab].mean(dim=1).mean()
        return loss

    # ---- score -----------------------------------------------------------------------------------
    def _score(self, pairs: Pairs, greedy_too: bool = False, beam: Optional[int] = None) -> dict:
        """The model (beam search, and greedy with greedy_too) and both baselines on every pair of `pairs`."""
        outputs = self.translate(pairs.sources, beam=beam)
        batches, _ = self._batches(pairs, DECODE_BATCH)
        config = TrainConfig(batch_size=DECODE_BATCH, precision="auto" if self.precision == "bf16" else self.precision).resolved()
        loss = evaluate_loss(self.model_, lambda m, b: self._loss(m, b, 0.0), batches, config, torch.device("cpu"))
        train = self.train_pairs_
        scored = {
            "test": translation_metrics(outputs, pairs.targets, loss),
            "baselines": {
                "copy": translation_metrics(copy_outputs(pairs.sources), pairs.targets),
                "retrieval": translation_metrics(retrieval_outputs(train.sources, train.targets, pairs.sources), pairs.targets),
            },
            "outputs": outputs, "pairs": len(pairs),
        }  # fmt: skip
        if greedy_too:
            scored["greedy"] = translation_metrics(self.translate(pairs.sources, beam=1), pairs.targets)
        return scored

    def evaluate(self, data=None, targets=None, *, beam: Optional[int] = None) -> dict:
        """Metrics beside the copy and retrieval baselines: on the test part (no argument), or on new pairs
        (a file or `Pairs`, or source texts with their `targets`; then also the `outputs`, decoded with `beam`,
        default the model's)."""
        if data is None:
            return {"test": self.metrics_, "baselines": self.baselines_, "pairs": self.sizes_["test"]}
        scored = self._score(self._read(data, targets), beam=beam)
        return {key: scored[key] for key in ("test", "baselines", "pairs", "outputs")}

    # ---- translate -------------------------------------------------------------------------------
    def translate(self, sources: Union[str, Sequence[str]], *, beam: Optional[int] = None,
                  length_penalty: Optional[float] = None, max_len: Optional[int] = None,
                  temperature: Optional[float] = None, top_k: Optional[int] = None,
                  seed: Optional[int] = None) -> list[str]:  # fmt: skip
        """One output text per source, in order. Beam search of `beam` hypotheses (default the model's
        `beam`; 1: greedy), or, with `temperature`, sampling (`top_k`: from the k most probable tokens; the
        same seed gives the same outputs). An output holds at most `max_len` tokens; by default twice its
        source's tokens and 10 more, and no more than the model's `max_len` (as fairseq's max_len_a and
        max_len_b: a decoder that has lost its way stops instead of repeating itself to the limit)."""
        sources = [sources] if isinstance(sources, str) else list(sources)
        for i, text in enumerate(sources):
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"source {i + 1} is empty; give text to translate")
        beam = check_whole("beam", self.beam if beam is None else beam)
        for name, value in (("max_len", max_len), ("top_k", top_k)):
            if value is not None:
                check_whole(name, value)
        if temperature is not None:
            check_temperature(temperature)
        generator = torch.Generator()
        generator.manual_seed(self.seed if seed is None else seed)
        penalty = self.length_penalty if length_penalty is None else length_penalty
        self.model_.eval()
        read = [self._encode_source(text) for text in sources]
        encoded = [torch.tensor(ids, dtype=torch.long) for ids, _, _ in read]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))  # similar lengths decode together
        outputs: list[Optional[str]] = [None] * len(encoded)
        for start in range(0, len(order), DECODE_BATCH):
            chosen = order[start : start + DECODE_BATCH]
            source = torch.nn.utils.rnn.pad_sequence([encoded[i] for i in chosen], batch_first=True, padding_value=PAD_ID)
            copy_ids = None
            if self.copy:
                copy_ids = torch.nn.utils.rnn.pad_sequence([torch.tensor(read[i][1]) for i in chosen], batch_first=True,
                                                           padding_value=PAD_ID)  # fmt: skip
            lengths = torch.tensor([len(encoded[i]) for i in chosen])
            limit = torch.tensor([max_len or min(self.max_len, OUTPUT_PER_SOURCE * len(encoded[i]) + OUTPUT_EXTRA)
                                  for i in chosen])  # fmt: skip
            if temperature is not None or beam == 1:  # beam 1: greedy, the most probable token at every step
                ids = sample(self.model_, source, lengths, limit, temperature=temperature or 0.0, top_k=top_k,
                             generator=generator, copy_ids=copy_ids)  # fmt: skip
            else:
                ids = beam_search(self.model_, source, lengths, limit, beam=beam, length_penalty=penalty, copy_ids=copy_ids)
            for i, row in zip(chosen, ids):
                outputs[i] = self.target_tokens_.decode(row, read[i][2])
        return outputs

    @torch.no_grad()
    def attention_of(self, source: str, output: str) -> tuple[np.ndarray, list[str], list[str]]:
        """Where the decoder looked while writing `output` from `source`: weights (T, S) over the source's
        tokens for each output token (its </s> last), and the two token lists (subword pieces without the
        "▁" that marks a space before them)."""
        self.model_.eval()
        source_ids, copy_ids, extra = self._encode_source(source)
        output_tokens = self.target_tokens_.tokens(output)[: self.max_len]
        output_ids = self.target_tokens_.extended(output_tokens, extra) + [EOS_ID]
        _, weights = self.model_(torch.tensor([source_ids]), torch.tensor([len(source_ids)]),
                                 torch.tensor([[BOS_ID, *output_ids[:-1]]]), torch.tensor([copy_ids]) if self.copy else None,
                                 return_attention=True)  # fmt: skip
        shown_source = [_shown(t) for t in self.source_tokens_.tokens(source)[: self.max_len]]
        return weights[0].float().numpy(), shown_source, [*map(_shown, output_tokens), EOS]

    # ---- export -----------------------------------------------------------------------------------
    def export_graph(self):
        """Two graphs, run in a loop by the caller (greedy or beam search).
        encoder: source (batch, time) token ids of the source vocabulary, 0 past each end; lengths (batch,) ->
        values, keys (batch, time, hidden): the memory; h0, c0 (layers, batch, hidden): the decoder's start.
        decoder: previous (batch,) the last target id (<s> first); h, c; feed (batch, hidden) (zeros first);
        values, keys, lengths from the encoder; with copy attention, copy_ids (batch, time): each source token's
        target id (vocabulary size + k for the k-th source token the target vocabulary lacks) -> logits (batch,
        target vocabulary) of the next token (with copy attention, log-probabilities over the vocabulary and
        `time` more ids, of which the first k are the source's own), the next h, c and feed, and the attention
        weights (batch, time)."""
        from ...export.onnx import Graph
        from .net import DecoderStepGraph, EncoderGraph

        net = self.model_
        V, H, L = net.source_embedding.num_embeddings, net.hidden, net.layers
        T = net.target_vocab

        def encoder_sample(batch: int, steps: int) -> dict:
            lengths = torch.randint(1, steps + 1, (batch,))
            lengths[0] = steps
            source = torch.randint(4, max(5, V), (batch, steps)) * (torch.arange(steps)[None, :] < lengths[:, None])
            return {"source": source, "lengths": lengths}

        def decoder_sample(batch: int, steps: int) -> dict:
            state = lambda *shape: 0.5 * torch.randn(*shape)  # noqa: E731
            lengths = torch.randint(1, steps + 1, (batch,))
            lengths[0] = steps
            inputs = {"previous": torch.randint(0, T, (batch,)), "h": state(L, batch, H), "c": state(L, batch, H),
                      "feed": state(batch, H), "values": state(batch, steps, H), "keys": state(batch, steps, H),
                      "lengths": lengths}  # fmt: skip
            if net.copies:  # each source token's target id, past the vocabulary for one it lacks
                inputs["copy_ids"] = torch.randint(4, T + steps, (batch, steps))
            return inputs

        batch, time = {0: "batch"}, {0: "batch", 1: "time"}
        return {
            "encoder": Graph(EncoderGraph(net), encoder_sample(2, 6), ["values", "keys", "h0", "c0"],
                             {"source": time, "lengths": batch}, encoder_sample),
            "decoder": Graph(DecoderStepGraph(net), decoder_sample(2, 6), ["logits", "h_n", "c_n", "feed_n", "weights"],
                             {"previous": batch, "h": {1: "batch"}, "c": {1: "batch"}, "feed": batch, "values": time,
                              "keys": time, "lengths": batch, "copy_ids": time}, decoder_sample),
        }  # fmt: skip

    def predict(self, data, *, beam: Optional[int] = None) -> pd.DataFrame:
        """One row a source: `source`, `output` (and `reference` where `data` holds pairs). data: a list of
        texts, a text file of one source a line, or a file of pairs."""
        sources, references = self.sources_of(data)
        frame = pd.DataFrame({"source": sources, "output": self.translate(sources, beam=beam)})
        if references is not None:
            frame["reference"] = references
        return frame

    def sources_of(self, data) -> tuple[list[str], Optional[list[str]]]:
        """The sources of `data` (a text, a list of texts, a text file of one source a line, or a file of
        pairs), and the references where it holds pairs (else None)."""
        if isinstance(data, str) and not Path(data).exists():
            return [data], None
        if isinstance(data, pd.DataFrame):  # pairs, as fit reads a DataFrame; or one column of sources
            if data.shape[1] == 1:
                return source_texts(data.iloc[:, 0], "the DataFrame"), None
            pairs = self._frame_pairs(data)
            return pairs.sources, pairs.targets
        if isinstance(data, (list, tuple, pd.Series, np.ndarray)):  # texts in memory
            return source_texts(data), None
        if not isinstance(data, (str, Path)):
            raise DataError(f"expected texts (a list or a pandas Series), a DataFrame or a file, got {type(data).__name__}")
        path = Path(data)
        if format_suffix(path) in (".csv", *WORKBOOKS, *TYPED, ".po", ".mo") or path.is_dir():
            pairs = read_pairs(path, source_col=self.source_col, target_col=self.target_col, min_pairs=1)
            return pairs.sources, pairs.targets
        text = read_text(path)
        lines = [line for line in text.splitlines() if line.strip()]
        if any("\t" in line for line in lines):
            pairs = read_pairs(path, min_pairs=1)
            return pairs.sources, pairs.targets
        if not lines:
            raise DataError(f"{path}: holds no text to translate")
        return [line.strip() for line in lines], None

    # ---- the gate inspector ---------------------------------------------------------------------
    def describe(self) -> str:
        return "sequence-to-sequence model"

    lstm_parts = ("decoder", "encoder")  # the inspector's choice of LSTM (`gates.trace(..., part=)`), default first

    def gate_input(self, data, max_steps: Optional[int] = None, part: Optional[str] = None,
                   target: Optional[str] = None) -> GateInput:
        """A source text (a str, or a `pathlib.Path` to a text file). part "decoder" (the default): the decoder
        writing, a step a token (the last one </s>), with its attention over the source: the model's own
        output for the source (beam search), or, given a `target`, that text (teacher forcing: the decoder
        reads the reference of a pair as training reads it); "encoder": the encoder reading the source."""
        source = read_text(data).strip()
        if not source:
            raise DataError("the source text is empty; give text for the model to read")
        if target is not None and not target.strip():
            raise DataError("the target text is empty; give the reference output for the decoder to read, or leave it out")
        if (part or "decoder") == "encoder":
            return self._encoder_input(source, max_steps)
        if target is None:
            output = self.translate([source])[0]
            notes = [f"The decoder wrote this output for the source {source!r} (beam {self.beam}), a step a token; "
                     "the last step writes </s>, the end."]  # fmt: skip
        else:
            output = target.strip()
            notes = [f"The decoder read this target for the source {source!r} as training reads it, a step a token "
                     "(each step sees the target's tokens before it); the last step is </s>, the end."]  # fmt: skip
        weights, source_tokens, shown_tokens = self.attention_of(source, output)
        shown = capped(len(shown_tokens), max_steps, notes, "tokens")
        source_ids, copy_ids, extra = self._encode_source(source)
        written = self.target_tokens_.extended(self.target_tokens_.tokens(output)[: self.max_len], extra)
        target_in = torch.tensor([[BOS_ID, *written][:shown]])
        args = (torch.tensor([source_ids]), torch.tensor([len(source_ids)]), target_in,
                torch.tensor([copy_ids]) if self.copy else None)  # fmt: skip
        text = output + " </s>"
        offsets = _offsets(text, shown_tokens)
        return GateInput(args, "text", shown_tokens[:shown], text_upto(text, offsets, shown_tokens, shown), offsets[:shown],
                         total_steps=len(shown_tokens), notes=notes, lstm="decoder", attention=weights[:shown],
                         source_tokens=source_tokens)  # fmt: skip

    def _encoder_input(self, source: str, max_steps: Optional[int]) -> GateInput:
        """The encoder reading the source, tokenised as the model tokenises it."""
        tokens = [_shown(t) for t in self.source_tokens_.tokens(source)]
        offsets = _offsets(source, tokens)
        notes = [f"The encoder read these {self.level} tokens of the source."]
        shown = capped(len(tokens), max_steps, notes, "tokens")
        ids = torch.tensor(self.source_tokens_.vocab.encode(self.source_tokens_.tokens(source)[:shown]), dtype=torch.long)
        args = (ids[None], torch.tensor([shown]), torch.tensor([[BOS_ID]]))  # the network's call: encode, one decoder step
        return GateInput(args, "text", tokens[:shown], text_upto(source, offsets, tokens, shown), offsets[:shown],
                         total_steps=len(tokens), notes=notes, lstm="encoder")  # fmt: skip

    # ---- save and load --------------------------------------------------------------------------
    def _tensors(self) -> dict:
        tensors = dict(self.model_.state_dict())
        if self.model_.tied:  # safetensors stores no shared tensors
            del tensors["output.weight"]
        return tensors

    def _state(self) -> dict:
        return {
            "source_tokens": self.source_tokens_.to_dict(), "target_tokens": self.target_tokens_.to_dict(),
            "train_pairs": {"sources": self.train_pairs_.sources, "targets": self.train_pairs_.targets},
            "metrics": self.metrics_, "greedy_metrics": self.greedy_metrics_, "baselines": self.baselines_,
            "sizes": self.sizes_, "cut": self.cut_, "best_epoch": self.best_epoch_, "samples": getattr(self, "samples_", []),
        }  # fmt: skip

    def _restore(self, state: dict, tensors: dict, directory: Path) -> None:
        self.source_tokens_ = SideTokens.from_dict(state["source_tokens"])
        self.target_tokens_ = SideTokens.from_dict(state["target_tokens"])
        pairs = state["train_pairs"]
        self.train_pairs_ = Pairs(list(pairs["sources"]), list(pairs["targets"]), "the training pairs")
        self.metrics_, self.greedy_metrics_, self.baselines_ = state["metrics"], state["greedy_metrics"], state["baselines"]
        self.sizes_, self.cut_, self.best_epoch_, self.samples_ = state["sizes"], state["cut"], state["best_epoch"], state["samples"]
        self.model_ = self._build_net()
        if self.model_.tied:
            tensors["output.weight"] = tensors["target_embedding.weight"]
        self.model_.load_state_dict(tensors)


def _shown(token: str) -> str:
    """A token as the inspector shows it: a subword piece without the "▁" that marks a space before it."""
    return token.lstrip("▁") or token


def _offsets(text: str, tokens: list[str]) -> np.ndarray:
    """Where each token starts in `text`, searching forwards (a token not found: where the search stands)."""
    offsets, at = [], 0
    for token in tokens:
        found = text.find(token, at)
        found = at if found < 0 else found
        offsets.append(found)
        at = found + len(token) if found >= at else at
    return np.asarray(offsets, dtype=np.int64)
