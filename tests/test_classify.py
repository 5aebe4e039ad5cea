"""Sequence and text classification end to end: the estimator, the run directory, the verdict and the demo data."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.class_weight import compute_class_weight

from lstmkit.data import LabelledSequences
from lstmkit.errors import ConfigError, DataError
from lstmkit.train.progress import Reporter
from lstmkit.tasks.classify.demo import SYMBOLS, temporal_order_data, temporal_order_example
from lstmkit.tasks.classify.estimator import SequenceClassifier
from lstmkit.tasks.classify.report import roc_curves, run_metrics, verdict
from lstmkit.tasks.run import load_run, train_run

TINY = dict(hidden=12, embedding_dim=12, epochs=25, lr=1e-2, min_freq=1)
FILLER = "the a film movie was really quite very plot acting story it".split()


def _sentences(n: int, seed: int, extra=lambda i: []) -> pd.DataFrame:
    """Short sentences of filler words; 'good' in the 'pos' ones, 'bad' in the 'neg' ones, anywhere."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 else "neg"
        words = list(rng.choice(FILLER, size=rng.integers(2, 9))) + extra(i)
        words.insert(int(rng.integers(0, len(words) + 1)), "good" if label == "pos" else "bad")
        rows.append((" ".join(words), label))
    return pd.DataFrame(rows, columns=["review", "label"])


def _csv(frame: pd.DataFrame, path):
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def text_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text")
    return _csv(_sentences(100, 0), folder / "train.csv"), _csv(_sentences(40, 1), folder / "test.csv")


@pytest.fixture(scope="module")
def text_model(text_files):
    train, test = text_files
    return SequenceClassifier("review", test=test, **TINY).fit(train)


def _rising_and_falling(n: int, seed: int) -> LabelledSequences:
    """Univariate sequences of 4 to 15 steps that either rise or fall, with noise."""
    rng = np.random.default_rng(seed)
    sequences, labels = [], []
    for i in range(n):
        steps = np.cumsum(rng.uniform(0.2, 1.0, int(rng.integers(4, 16))))
        sign = 1 if i % 2 else -1
        sequences.append((sign * steps + rng.normal(0, 0.1, len(steps)))[:, None].astype(np.float32))
        labels.append("up" if sign > 0 else "down")
    return LabelledSequences(sequences, labels, f"rising-or-falling({n}, {seed})", "numeric")


def test_an_npz_of_a_published_split_is_trained_on_its_training_arrays_and_scored_on_its_test_arrays(tmp_path):
    train, test = _rising_and_falling(40, 0), _rising_and_falling(10, 1)
    path = tmp_path / "split.npz"
    padded = {name: np.stack([np.pad(s[:, 0], (0, 15 - len(s)), constant_values=np.nan) for s in part.sequences])
              for name, part in (("X_train", train), ("X_test", test))}  # fmt: skip
    np.savez(path, **padded, y_train=np.array(train.labels), y_test=np.array(test.labels))
    model = SequenceClassifier(hidden=4, epochs=10, arch="lstm", seed=0).fit(path)
    same = SequenceClassifier(hidden=4, epochs=10, arch="lstm", seed=0).fit(train, test=test)
    assert model.metrics_ == same.metrics_ and sum(map(sum, model.metrics_["confusion_matrix"])) == 10
    assert model.evaluate(path)["test"] == same.metrics_ and model.evaluate(path)["n"] == 10
    assert list(model.predict(path)["label"]) == list(same.predict(test)["label"])


def test_a_folder_of_recordings_trains_and_predict_reads_the_channels_it_learnt(tmp_path):
    data = _rising_and_falling(40, 0)
    for k, (sequence, label) in enumerate(zip(data.sequences, data.labels)):
        (tmp_path / "train" / label).mkdir(parents=True, exist_ok=True)
        steps = np.arange(len(sequence))
        pd.DataFrame({"t": steps, "x": sequence[:, 0], "noise": np.cos(steps)}).to_csv(tmp_path / "train" / label / f"{k}.csv", index=False)
    model = SequenceClassifier(hidden=4, epochs=10, arch="lstm", seed=0, columns="x").fit(tmp_path / "train")
    assert model.columns_ == ["x"]
    predicted = model.predict(tmp_path / "train" / "up")  # a folder of files alone: no labels, read by the channel it learnt
    assert list(predicted.columns[:2]) == ["file", "label"] and len(predicted) == 20


def test_fit_takes_arrays_or_texts_and_their_labels_as_scikit_learn_and_keras_do():
    from sklearn.model_selection import cross_val_score

    train, test = _rising_and_falling(40, 0), _rising_and_falling(10, 1)
    X = np.stack([np.pad(s[:, 0], (0, 15 - len(s)), constant_values=np.nan) for s in train.sequences])  # (N, T), NaN-padded
    X_test = [s[:, 0] for s in test.sequences]  # a list of (T_i,)
    model = SequenceClassifier(hidden=4, epochs=10, arch="lstm", seed=0).fit(X, np.array(train.labels), test=(X_test, test.labels))
    same = SequenceClassifier(hidden=4, epochs=10, arch="lstm", seed=0).fit(train, test=test)
    assert model.metrics_ == same.metrics_
    assert model.evaluate(X_test, test.labels)["test"] == same.metrics_ == model.evaluate(test)["test"]
    assert model.score(X_test, test.labels) == same.metrics_["accuracy"]
    assert list(model.predict(X[:5])["label"]) == list(same.predict(train.subset(range(5)))["label"])
    scores = cross_val_score(SequenceClassifier(hidden=4, epochs=2, arch="lstm", seed=0), X, np.array(train.labels), cv=2)
    assert scores.shape == (2,) and ((0 <= scores) & (scores <= 1)).all()
    texts = SequenceClassifier(hidden=4, epochs=2, min_freq=1).fit(["good film", "bad film", "great", "awful"] * 5, ["p", "n", "p", "n"] * 5)
    assert texts.kind_ == "text" and list(texts.predict(["good"]).columns) == ["label", "p_n", "p_p"]
    reviews, labels = pd.Series(["good film", "bad film", "great", "awful"] * 5), pd.Series(["p", "n", "p", "n"] * 5)
    for given in (labels, labels.astype("string"), labels.astype("category")):  # df["label"]: objects, strings, categories
        same = SequenceClassifier(hidden=4, epochs=2, min_freq=1).fit(reviews, given)
        assert same.classes_ == ["n", "p"] and same.metrics_ == texts.metrics_
    with pytest.raises(DataError, match=r"^the training data: y\[5\] is nan; every sequence needs its class, an integer or a string$"):
        SequenceClassifier(epochs=1).fit(reviews, labels.where(labels.index != 5))
    with pytest.raises(DataError, match=r"^the training data: text 3 is missing \(None\); every sequence needs a text$"):
        SequenceClassifier(epochs=1).fit(reviews.where(reviews.index != 3, None), labels)
    with pytest.raises(DataError, match=r"^the training data: 40 sequences but y has shape \(39,\); expected one label a sequence$"):
        SequenceClassifier(epochs=1).fit(X, train.labels[:39])
    with pytest.raises(DataError, match="^this model classifies numeric sequences: pass arrays"):
        model.predict(["a text"])


def test_an_array_of_fewer_steps_than_features_is_read_as_keras_holds_it_with_a_warning_of_channels_first():
    rng = np.random.default_rng(0)
    channels_first = rng.normal(size=(20, 3, 40))  # aeon's and sktime's numpy panels: (N, channels, T)
    labels = np.arange(20) % 2
    with pytest.warns(UserWarning, match=r"^the training data: X of shape \(20, 3, 40\) is read as 3 steps of 40 features "
                                         r"each, .*pass X.transpose\(0, 2, 1\) if these are 3 channels of 40 steps$"):  # fmt: skip
        model = SequenceClassifier(hidden=4, epochs=1, arch="lstm").fit(channels_first, labels)
    assert model.n_features_ == 40
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".* steps of .* features each")  # (N, T, F) with T >= F: no warning
        assert SequenceClassifier(hidden=4, epochs=1, arch="lstm").fit(channels_first.transpose(0, 2, 1), labels).n_features_ == 3


def test_fit_takes_sktimes_nested_dataframe_and_a_dataframe_of_numbers():
    """sktime's nested DataFrame (a row a sequence, a column a channel, a cell a series: `load_UCR_UEA_dataset`
    gives it) and a DataFrame of numbers (N, T) are read as the same sequences as arrays."""
    train, test = _rising_and_falling(40, 0), _rising_and_falling(10, 1)
    X = pd.DataFrame({"dim_0": [pd.Series(s[:, 0]) for s in train.sequences],
                      "dim_1": [pd.Series(-s[:, 0]) for s in train.sequences]})  # fmt: skip
    X_test = pd.DataFrame({"dim_0": [pd.Series(s[:, 0]) for s in test.sequences],
                           "dim_1": [pd.Series(-s[:, 0]) for s in test.sequences]})  # fmt: skip
    settings = dict(hidden=4, epochs=5, arch="lstm", seed=0)
    model = SequenceClassifier(**settings).fit(X, np.array(train.labels), test=(X_test, test.labels))
    lists = [np.column_stack([s[:, 0], -s[:, 0]]) for s in train.sequences]
    same = SequenceClassifier(**settings).fit(lists, np.array(train.labels), test=([np.column_stack([s[:, 0], -s[:, 0]])
                                                                                  for s in test.sequences], test.labels))  # fmt: skip
    assert model.n_features_ == 2 and model.metrics_ == same.metrics_
    pd.testing.assert_frame_equal(model.predict(X_test), same.predict([np.column_stack([s[:, 0], -s[:, 0]]) for s in test.sequences]))
    with pytest.raises(DataError, match=r"^a nested DataFrame \(a cell a series, as sktime holds them\) carries no class labels"):
        SequenceClassifier(**settings).fit(X)
    X.iloc[3, 1] = X.iloc[3, 1][:-1]
    with pytest.raises(DataError, match=r"^the training data: sequence 3's channels have \[\d+, \d+\] steps; each needs the same$"):
        SequenceClassifier(**settings).fit(X, np.array(train.labels))
    shortest = min(len(s) for s in train.sequences)
    wide = pd.DataFrame(np.stack([s[:shortest, 0] for s in train.sequences]))  # (N, T) numbers, as an array
    assert SequenceClassifier(**settings).fit(wide, np.array(train.labels)).metrics_ == \
        SequenceClassifier(**settings).fit(wide.to_numpy(), np.array(train.labels)).metrics_  # fmt: skip


# ---- learning --------------------------------------------------------------------------------------------


def test_text_toy_problem_is_learned_perfectly(text_model):
    assert text_model.metrics_["accuracy"] == 1.0
    assert text_model.baselines_["majority_class"]["accuracy"] == 0.5
    assert list(text_model.predict(["it was a good film", "a bad plot"])["label"]) == ["pos", "neg"]


def test_numeric_toy_problem_is_learned_perfectly():
    model = SequenceClassifier(hidden=12, epochs=12, lr=1e-2).fit(_rising_and_falling(120, 0))
    assert model.metrics_["accuracy"] == 1.0 and model.kind_ == "numeric" and model.classes_ == ["down", "up"]
    assert model.evaluate(_rising_and_falling(40, 1))["test"]["accuracy"] == 1.0


def test_padding_does_not_change_a_prediction(text_model):
    short = "good"
    alone = text_model.predict_proba([short])
    padded = text_model.predict_proba([short, "the film was really quite a very good film", "bad " * 30])
    np.testing.assert_allclose(padded[0], alone[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_padding_does_not_change_a_prediction_with_any_pooling(pooling):
    model = SequenceClassifier(pooling=pooling, bidirectional=True, hidden=6, epochs=1).fit(_rising_and_falling(40, 0))
    short, long = np.array([1.0, 2.0]), np.arange(20.0)
    np.testing.assert_allclose(model.predict_proba([short, long])[0], model.predict_proba([short])[0], rtol=0, atol=1e-6)


def test_vocabulary_comes_from_the_training_part_only(tmp_path):
    frame = _sentences(60, 0, extra=lambda i: [f"w{i}"])  # a word of its own in every row
    model = SequenceClassifier("review", **{**TINY, "epochs": 1}).fit(_csv(frame, tmp_path / "d.csv"))
    own = {f"w{i}": part for part, rows in model.split_.items() for i in rows}
    assert {word for word, part in own.items() if part == "train"} <= set(model.vocab_.tokens)
    assert not {word for word, part in own.items() if part != "train"} & set(model.vocab_.tokens)


def test_tfidf_reads_character_ngrams_where_the_texts_are_short_and_word_ngrams_where_they_are_long(tmp_path):
    """tfidf_ngrams "auto": character 1-4-grams where 90% of the training texts hold at most 400 characters,
    word 1-2-grams otherwise, whatever tokens the LSTM reads."""
    short = _sentences(60, 0)  # 7-60 characters each
    model = SequenceClassifier("review", **{**TINY, "epochs": 1}).fit(_csv(short, tmp_path / "short.csv"))
    assert model.tfidf_ngrams_ == "char" and model.text_baseline_.level == "char"
    assert "the" in model.vocab_.tokens  # the LSTM still reads words
    longer = short.assign(review=[text + " " + "it " * 150 * (i % 5 == 0) for i, text in enumerate(short["review"])])
    assert (longer["review"].str.len() > 400).mean() == 0.2  # a fifth of the texts beyond 400 characters: words
    model = SequenceClassifier("review", **{**TINY, "epochs": 1}).fit(_csv(longer, tmp_path / "long.csv"))
    assert model.tfidf_ngrams_ == "word" and model.text_baseline_.level == "word"
    assert SequenceClassifier("review", tfidf_ngrams="char", **{**TINY, "epochs": 1}).fit(tmp_path / "long.csv").tfidf_ngrams_ == "char"


def test_split_is_stratified_70_15_15():
    model = SequenceClassifier(hidden=4, epochs=1, arch="lstm").fit(_rising_and_falling(100, 0))
    sizes = {part: len(rows) for part, rows in model.split_.items()}
    assert sizes == {"train": 70, "val": 15, "test": 15}
    assert sorted(np.concatenate(list(model.split_.values()))) == list(range(100))
    labels = np.array(_rising_and_falling(100, 0).labels)
    assert all(set(labels[rows]) == {"up", "down"} for rows in model.split_.values())


def test_the_cosine_recipe_learns_from_the_validation_part_unless_one_is_asked_for():
    data = _rising_and_falling(100, 0)
    model = SequenceClassifier(hidden=4, epochs=1, arch="lstm-fcn").fit(data)  # cosine: nothing chosen on val
    assert {part: len(rows) for part, rows in model.split_.items()} == {"train": 85, "val": 0, "test": 15}
    assert model.val_frac_ == 0 and all(row["val_loss"] == row["train_loss"] for row in model.history_)
    asked = SequenceClassifier(hidden=4, epochs=1, arch="lstm-fcn", val_frac=0.2).fit(data)
    assert {part: len(rows) for part, rows in asked.split_.items()} == {"train": 65, "val": 20, "test": 15}


def test_balanced_class_weights_are_scikit_learns():
    data = _rising_and_falling(90, 0)
    keep = [i for i, label in enumerate(data.labels) if label == "up" or i % 3 == 0]  # fewer 'down'
    model = SequenceClassifier(class_weights="balanced", hidden=4, epochs=1).fit(data.subset(keep))
    y_train = [model.classes_.index(data.subset(keep).labels[i]) for i in model.split_["train"]]
    np.testing.assert_allclose(model.class_weights_, compute_class_weight("balanced", classes=np.arange(2), y=y_train))
    assert model.class_weights_[0] > model.class_weights_[1]  # the rarer 'down' weighs more


def test_same_seed_repeats_the_run():
    first = SequenceClassifier(hidden=6, epochs=2).fit(_rising_and_falling(60, 0))
    second = SequenceClassifier(hidden=6, epochs=2).fit(_rising_and_falling(60, 0))
    assert first.history_[-1]["train_loss"] == second.history_[-1]["train_loss"] and first.metrics_ == second.metrics_


# ---- predict, evaluate, save and load --------------------------------------------------------------------


def test_predict_gives_the_label_and_a_probability_per_class(text_model, text_files):
    frame = text_model.predict(text_files[1])
    assert list(frame.columns) == ["label", "p_neg", "p_pos"] and len(frame) == 40
    np.testing.assert_allclose(frame[["p_neg", "p_pos"]].sum(axis=1), 1.0)
    assert list(frame["label"]) == list(pd.read_csv(text_files[1])["label"])


def test_predict_needs_no_label_column(text_model, tmp_path):
    path = _csv(pd.DataFrame({"review": ["good good", "bad"]}), tmp_path / "new.csv")
    assert list(text_model.predict(path)["label"]) == ["pos", "neg"]
    path = _csv(pd.DataFrame({"review_id": [17, 4], "review": ["good good", "bad"]}), tmp_path / "new.csv")
    frame = text_model.predict(path)  # as a Kaggle test file: each row's id beside its label
    assert list(frame.columns[:2]) == ["review_id", "label"] and list(frame["review_id"]) == ["17", "4"]
    (tmp_path / "new").mkdir()  # a folder of text files, a text each
    (tmp_path / "new" / "a.txt").write_text("good good")
    (tmp_path / "new" / "b.txt").write_text("bad")
    assert text_model.predict(tmp_path / "new")[["file", "label"]].values.tolist() == [["a.txt", "pos"], ["b.txt", "neg"]]


def test_unseen_labels_at_evaluation_are_an_error(text_model, tmp_path):
    frame = pd.DataFrame({"review": ["good", "bad", "meh", "so so"], "label": ["pos", "neg", "y", "x"]})
    path = _csv(frame, tmp_path / "new.csv")
    with pytest.raises(DataError) as caught:
        text_model.evaluate(path)
    assert str(caught.value) == f"{path}: labels never seen in training: 'x', 'y' (training had 'neg', 'pos')"


def test_unseen_labels_in_a_test_file_stop_training_before_it_starts(text_files, tmp_path):
    test = _csv(pd.DataFrame({"review": ["good", "meh"], "label": ["pos", "meh"]}), tmp_path / "test.csv")
    with pytest.raises(DataError, match="labels never seen in training: 'meh'"):
        SequenceClassifier("review", test=test, epochs=10**6).fit(text_files[0])


def test_save_and_load_give_identical_probabilities(text_model, text_files, tmp_path):
    text_model.save(tmp_path / "model")
    loaded = SequenceClassifier.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict_proba(text_files[1]), text_model.predict_proba(text_files[1]))
    assert loaded.get_params() == text_model.get_params() and loaded.vocab_.tokens == text_model.vocab_.tokens


def test_numeric_save_and_load_keep_the_scaler(tmp_path):
    model = SequenceClassifier(hidden=4, epochs=1).fit(_rising_and_falling(40, 0))
    model.save(tmp_path / "m")
    loaded = SequenceClassifier.load(tmp_path / "m")
    data = _rising_and_falling(10, 3)
    np.testing.assert_array_equal(loaded.predict_proba(data), model.predict_proba(data))
    np.testing.assert_array_equal(loaded.scaler_.mean_, model.scaler_.mean_)


def test_loading_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="is not a complete run of a classifier \\(classifier.json is missing\\); train it again"):
        SequenceClassifier.load(tmp_path)


# ---- settings and data problems --------------------------------------------------------------------------


def test_a_class_too_rare_to_split_is_an_error():
    data = _rising_and_falling(20, 0)
    data.labels[0] = "flat"
    with pytest.raises(DataError) as caught:
        SequenceClassifier(epochs=1, val_frac=0.15).fit(data)
    assert str(caught.value) == (f"{data.path}: class 'flat' has only 1 sequence; the stratified split into training, "
                                 "validation and test parts needs at least 3 of each class")  # fmt: skip


def test_bad_settings_are_config_errors():
    data = _rising_and_falling(20, 0)
    with pytest.raises(ConfigError, match="pooling must be last, mean or max, got 'sum'"):
        SequenceClassifier(pooling="sum").fit(data)
    with pytest.raises(ConfigError, match="test_frac is 0 and no test file was given"):
        SequenceClassifier(test_frac=0).fit(data)


# ---- the run directory and the verdict -------------------------------------------------------------------


def test_train_classify_writes_the_run_directory(text_files, tmp_path):
    out = tmp_path / "run"
    metrics = train_run(SequenceClassifier("review", test=text_files[1], **{**TINY, "epochs": 3}), text_files[0], out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["config.json", "model.safetensors", "classifier.json", "checkpoint.pt", "checkpoint-pretrain.pt", "history.csv",
         "metrics.json", "report.html"]
    )
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics)) and saved["task"] == "classify"
    assert {"accuracy", "precision", "recall", "f1", "roc_auc", "confusion_matrix", "log_loss", "per_class"} <= set(saved["test"])
    assert saved["baselines"]["majority_class"]["accuracy"] == 0.5 and saved["test_sequences"] == 40
    assert np.sum(saved["test"]["confusion_matrix"]) == 40
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "classify" and config["settings"]["test"] == str(text_files[1])
    assert config["resolved"]["classes"] == ["neg", "pos"] and config["resolved"]["vocab_size"] > 10
    report = (out / "report.html").read_text()
    assert "majority class" in report and "Confusion matrix" in report and "ROC curve" in report
    loaded = load_run(out)
    np.testing.assert_array_equal(loaded.predict_proba(text_files[1]), SequenceClassifier.load(out).predict_proba(text_files[1]))


class Interrupt(Reporter):
    """Ctrl-C at epoch 2 of the model's training, or of the phase named (its pretraining)."""

    def __init__(self, phase=None):
        self.phase_name = phase

    def epoch(self, row):
        if row["epoch"] == 2 and row.get("phase") == self.phase_name:
            raise KeyboardInterrupt


def test_resume_after_an_interruption_equals_an_uninterrupted_run(text_files, tmp_path):
    def small():
        return SequenceClassifier("review", test=text_files[1], **{**TINY, "epochs": 4, "checkpoint_every": 0})

    expected = train_run(small(), text_files[0], tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        train_run(small(), text_files[0], tmp_path / "cut", reporter=Interrupt())
    assert (tmp_path / "cut" / ".incomplete" / "checkpoint.pt").exists()
    assert train_run(small(), text_files[0], tmp_path / "cut", resume=True) == expected


# ---- pretraining a text model as language models ---------------------------------------------------------


@pytest.mark.parametrize("bidirectional, outputs", [(True, 20), (False, 20), (True, 10)])
def test_the_language_models_loss_is_each_direction_predicting_the_real_tokens_of_each_text(bidirectional, outputs, monkeypatch):
    """Padded in one batch, the loss equals the one computed text by text, unpadded: forwards each token but
    the last predicts the next; backwards each but the first predicts the one before. A padded step predicts
    nothing, the backward direction's first step past a text's end included. Tokens past the `outputs` most
    frequent (ids from `outputs` up) are predicted as <unk>."""
    import torch
    from torch.nn import functional as F
    from torch.nn.utils.rnn import pad_sequence

    from lstmkit.data.text import UNK_ID
    from lstmkit.tasks.classify import net as nets
    from lstmkit.tasks.classify.net import ClassifierNet, TextLanguageModels

    monkeypatch.setattr(nets, "PRETRAIN_OUTPUTS", outputs)
    torch.manual_seed(0)
    net = ClassifierNet(2, vocab_size=20, embedding_dim=8, hidden=6, bidirectional=bidirectional)
    models = TextLanguageModels(net, 20).eval()
    assert models.outputs[0].out_features == outputs
    texts = [torch.randint(2, 20, (n,)) for n in (7, 4, 2)]
    loss = models(pad_sequence(texts, batch_first=True), torch.tensor([7, 4, 2]))
    sums = [0.0, 0.0]
    for ids in texts:
        output, _ = net.lstm(net.embedding(ids[None]))  # (1, T, D*H)
        predicted = torch.where(ids < outputs, ids, UNK_ID)
        sums[0] += F.cross_entropy(models.outputs[0](output[0, :-1, :6]), predicted[1:], reduction="sum")
        if bidirectional:
            sums[1] += F.cross_entropy(models.outputs[1](output[0, 1:, 6:]), predicted[:-1], reduction="sum")
    by_hand = sum(sums[: len(models.outputs)]) / (6 + 3 + 1) / len(models.outputs)
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-5)


def test_texts_of_one_token_give_the_language_models_nothing_to_predict_and_a_zero_loss(tmp_path):
    """A batch of one-word texts predicts no token: its loss is 0, not 0 / 0, so a set with such texts (short
    messages, a label per word) pretrains; it once stopped as a diverged run."""
    import torch

    from lstmkit.tasks.classify.net import ClassifierNet, TextLanguageModels

    models = TextLanguageModels(ClassifierNet(2, vocab_size=20, bidirectional=True), 20)
    loss = models(torch.tensor([[5], [7]]), torch.tensor([1, 1]))
    assert loss.item() == 0.0
    loss.backward()  # and it trains: the gradients are zero
    words = [("good", "pos"), ("great", "pos"), ("bad", "neg"), ("awful", "neg")] * 40
    _csv(pd.DataFrame(words + [("a good film", "pos"), ("a bad film", "neg")] * 10, columns=["review", "label"]),
         tmp_path / "words.csv")  # fmt: skip
    model = SequenceClassifier("review", **{**TINY, "epochs": 3, "pretrain": 2}).fit(tmp_path / "words.csv")
    assert np.isfinite([row["train_loss"] for row in model.pretrain_history_]).all()


def test_a_text_model_first_learns_its_texts_as_language_models(text_files, tmp_path):
    """The embedding and the LSTM are pretrained (`pretrain_` epochs) and the language models' validation
    loss falls, its epochs shown as the pretraining's; the classifier still learns the toy task. Texts are pretrained by default, at either level;
    numeric sequences have nothing to pretrain."""
    train, test = text_files
    rows = []
    shown = type("Shown", (Reporter,), {"epoch": lambda self, row: rows.append(row)})()
    model = SequenceClassifier("review", level="char", test=test, **{**TINY, "epochs": 10, "pretrain": 8}).fit(
        train, reporter=shown)
    assert model.pretrain_ == 8 and len(model.pretrain_history_) == 8
    assert [row.get("phase") for row in rows] == ["pretrain"] * 8 + [None] * len(model.history_)  # shown, tagged
    losses = [row["val_loss"] for row in model.pretrain_history_]
    assert losses[-1] < 0.8 * losses[0]
    assert model.metrics_["accuracy"] == 1.0
    model.save(tmp_path / "m")
    assert SequenceClassifier.load(tmp_path / "m").pretrain_ == 8
    defaults = [SequenceClassifier("review", level=level, test=test, **TINY) for level in ("char", "word")]
    defaults.append(SequenceClassifier(**TINY))
    for default, data in zip(defaults, (train, train, _rising_and_falling(20, 0))):
        default._prepare(data, test if default.text_col else None)
    assert [default.pretrain_ for default in defaults] == [10, 10, 0]


def test_pretraining_changes_where_the_classifier_starts_and_resumes_exactly(text_files, tmp_path):
    """Interrupted while pretraining, a resumed run ends where an uninterrupted one does; and a pretrained
    run differs from one that starts untrained."""

    def small(pretrain):
        return SequenceClassifier("review", level="char", test=text_files[1],
                                  **{**TINY, "epochs": 3, "pretrain": pretrain, "checkpoint_every": 0})  # fmt: skip

    expected = train_run(small(3), text_files[0], tmp_path / "whole")
    assert train_run(small(0), text_files[0], tmp_path / "none") != expected
    with pytest.raises(KeyboardInterrupt):
        train_run(small(3), text_files[0], tmp_path / "cut", reporter=Interrupt("pretrain"))
    assert (tmp_path / "cut" / ".incomplete" / "checkpoint-pretrain.pt").exists()
    assert not (tmp_path / "cut" / ".incomplete" / "checkpoint.pt").exists()  # cut while pretraining
    assert train_run(small(3), text_files[0], tmp_path / "cut", resume=True) == expected


def test_pretraining_and_training_share_a_members_time_budget(text_files, monkeypatch):
    """With `max_time`, the pretraining may take half of it, and the training what the pretraining left."""
    from lstmkit.tasks.classify import estimator

    budgets, histories, real_fit = [], [], estimator.fit

    def fit(*args, **kwargs):
        budgets.append(args[4].max_time)
        result = real_fit(*args, **kwargs)
        histories.append(result.history)
        return result

    monkeypatch.setattr(estimator, "fit", fit)
    SequenceClassifier("review", test=text_files[1], **{**TINY, "epochs": 2, "pretrain": 2, "max_time": 30}).fit(text_files[0])
    assert budgets[0] == 15 and budgets[1] == pytest.approx(30 - sum(row["seconds"] for row in histories[0]))
    assert len(histories[0]) == 2 and budgets[1] < 30


def test_pretraining_numeric_sequences_is_a_config_error():
    with pytest.raises(ConfigError, match="^pretrain trains the embedding of a text model's tokens as language "
                                          "models; numeric sequences have none: leave it out$"):  # fmt: skip
        SequenceClassifier(pretrain=3).fit(_rising_and_falling(20, 0))


def _ts(path, n: int, seed: int):
    """Rising and falling series of unequal lengths in the UCR/UEA .ts format."""
    data = _rising_and_falling(n, seed)
    lines = ["@problemName UpDown", "@timeStamps false", "@univariate true", "@equalLength false",
             "@classLabel true up down", "@data"]  # fmt: skip
    lines += [",".join(f"{v:.3f}" for v in x[:, 0]) + ":" + label for x, label in zip(data.sequences, data.labels)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ucr_style_train_and_test_files(tmp_path):
    train, test = _ts(tmp_path / "UpDown_TRAIN.ts", 80, 0), _ts(tmp_path / "UpDown_TEST.ts", 30, 1)
    metrics = train_run(SequenceClassifier(test=test, hidden=12, epochs=12, lr=1e-2), train, tmp_path / "run")
    assert metrics["test"]["accuracy"] == 1.0 and metrics["test_sequences"] == 30
    assert metrics["train_sequences"] + metrics["val_sequences"] == 80  # the whole TRAIN file, nothing held out


def _ucr_tsv(path, n: int, seed: int):
    """The sequences `_ts` writes, as the UCR archive (2018) writes a set: no header, the label first, tabs,
    NaN after a shorter sequence's end."""
    data = _rising_and_falling(n, seed)
    longest = max(len(x) for x in data.sequences)
    lines = ["\t".join([label, *(f"{v:.3f}" for v in x[:, 0]), *["NaN"] * (longest - len(x))])
             for x, label in zip(data.sequences, data.labels)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_ucr_archive_tsv_trains_the_model_its_ts_file_trains(tmp_path, capsys):
    from lstmkit.cli import main

    train, test = _ucr_tsv(tmp_path / "UpDown_TRAIN.tsv", 60, 0), _ucr_tsv(tmp_path / "UpDown_TEST.tsv", 20, 1)
    settings = ["--hidden", "8", "--epochs", "3", "--seed", "3", "--quiet"]
    for data, test_file, out in ((train, test, "tsv"), (_ts(tmp_path / "train.ts", 60, 0), _ts(tmp_path / "test.ts", 20, 1), "ts")):
        assert main(["train", "classify", "--data", str(data), "--test", str(test_file), "--out", str(tmp_path / out), *settings]) == 0
    metrics = [json.loads((tmp_path / out / "metrics.json").read_text()) for out in ("tsv", "ts")]
    assert metrics[0]["test"] == metrics[1]["test"] and metrics[0]["test_sequences"] == 20
    for out in ("tsv", "ts"):
        assert main(["predict", str(tmp_path / out), "--data", str(test), "--output", str(tmp_path / f"{out}.csv")]) == 0
    assert (tmp_path / "tsv.csv").read_text() == (tmp_path / "ts.csv").read_text()
    assert list(pd.read_csv(tmp_path / "tsv.csv").columns) == ["label", "p_down", "p_up"]


def _long(path, data: LabelledSequences):
    """`data` as a long-format CSV: one row a step (id, t, x, label), each sequence's steps shuffled."""
    rng = np.random.default_rng(0)
    rows = [(f"s{i:03d}", t, f"{x[t, 0]:.3f}", label) for i, (x, label) in enumerate(zip(data.sequences, data.labels))
            for t in rng.permutation(len(x))]  # fmt: skip
    pd.DataFrame(rows, columns=["seq", "t", "x", "label"]).to_csv(path, index=False)
    return path


def test_a_dataframe_is_read_as_its_csv_is(text_files, text_model, tmp_path):
    """Texts, and numeric sequences in long format: the DataFrame of a CSV trains the model the CSV trains, and
    predicting a DataFrame classifies its rows (it had classified its column names as texts)."""
    train, test = text_files
    from_frame = SequenceClassifier("review", test=test, **TINY).fit(pd.read_csv(train))
    assert from_frame.metrics_ == text_model.metrics_
    pd.testing.assert_frame_equal(from_frame.predict(pd.read_csv(test)), text_model.predict(test))
    long_train, long_test = _long(tmp_path / "train.csv", _rising_and_falling(40, 0)), _long(tmp_path / "test.csv", _rising_and_falling(10, 1))
    settings = dict(id_col="seq", time_col="t", hidden=8, epochs=2, seed=3)
    from_csv = SequenceClassifier(**settings).fit(long_train)
    from_long = SequenceClassifier(**settings).fit(pd.read_csv(long_train))
    assert from_long.metrics_ == from_csv.metrics_
    pd.testing.assert_frame_equal(from_long.predict(pd.read_csv(long_test)), from_csv.predict(long_test))


def test_two_id_columns_name_each_sequence_and_predict_writes_both(tmp_path):
    """A recording per subject and trial: `id_col="subject,trial"` reads the sequences the one id column does."""
    train, test = _rising_and_falling(40, 0), _rising_and_falling(10, 1)
    settings = dict(hidden=8, epochs=2, seed=3)
    for name, data in (("train", train), ("test", test)):
        frame = pd.read_csv(_long(tmp_path / f"{name}.csv", data))
        frame.insert(0, "subject", "p" + (frame["seq"].str[1:].astype(int) // 4).astype(str))
        frame.insert(1, "trial", frame["seq"].str[1:].astype(int) % 4)
        frame.drop(columns="seq").to_csv(tmp_path / f"{name}-two.csv", index=False)
    one = SequenceClassifier(id_col="seq", time_col="t", test=tmp_path / "test.csv", **settings).fit(tmp_path / "train.csv")
    two = SequenceClassifier(id_col="subject,trial", time_col="t", test=tmp_path / "test-two.csv", **settings).fit(tmp_path / "train-two.csv")
    assert two.metrics_ == one.metrics_ and two.columns_ == ["x"]  # the trial number is an id, not a channel
    predicted = two.predict(tmp_path / "test-two.csv")
    assert list(predicted.columns[:3]) == ["subject", "trial", "label"] and predicted.iloc[5, :2].tolist() == ["p1", "1"]


def test_a_long_csv_trains_the_model_its_ts_file_trains(tmp_path):
    """The same sequences as rows of a long CSV (--id-col, --time-col: each one's steps shuffled) and as a .ts
    file: the same model, the same probabilities; predict names each sequence by its id."""
    train, test = _rising_and_falling(60, 0), _rising_and_falling(20, 1)
    long_train, long_test = _long(tmp_path / "train.csv", train), _long(tmp_path / "test.csv", test)
    settings = dict(hidden=8, epochs=3, seed=3)
    from_long = SequenceClassifier(id_col="seq", time_col="t", test=long_test, **settings).fit(long_train)
    from_ts = SequenceClassifier(test=_ts(tmp_path / "test.ts", 20, 1), **settings).fit(_ts(tmp_path / "train.ts", 60, 0))
    assert from_long.metrics_ == from_ts.metrics_ and from_long.metrics_["accuracy"] > 0.5
    predicted = from_long.predict(long_test)
    assert list(predicted.columns) == ["seq", "label", "p_down", "p_up"] and predicted["seq"][19] == "s019"
    np.testing.assert_array_equal(predicted[["p_down", "p_up"]].to_numpy(), from_ts.predict_proba(tmp_path / "test.ts"))
    with pytest.raises(ConfigError, match="time_col and columns read a long-format CSV, one step a row; give id_col"):
        SequenceClassifier(time_col="t").fit(long_train)
    # a later file is read by the channels the model learnt, whatever other numeric columns it has
    frame = pd.read_csv(long_test)
    frame.insert(2, "sensor", 7.0)
    frame.to_csv(tmp_path / "more.csv", index=False)
    assert from_long.columns_ == ["x"] and from_long.predict(tmp_path / "more.csv").equals(predicted)
    from_long.save(tmp_path / "run")
    assert SequenceClassifier.load(tmp_path / "run").predict(tmp_path / "more.csv").equals(predicted)
    with pytest.raises(ConfigError, match="id_col reads numeric sequences in long format"):
        SequenceClassifier("text", id_col="seq").fit(long_train)


def _metrics(accuracy, f1, majority_accuracy, majority_f1):
    return {"test": {"accuracy": accuracy, "f1": f1},
            "baselines": {"majority_class": {"accuracy": majority_accuracy, "f1": majority_f1}}}  # fmt: skip


def test_verdict_says_plainly_when_the_majority_class_is_as_good():
    text, good = verdict(_metrics(0.80, 0.44, 0.80, 0.44))
    assert not good and text.startswith("The model does NOT beat the majority class on accuracy 0.800 against 0.800")
    text, good = verdict(_metrics(0.81, 0.40, 0.80, 0.44))
    assert not good and "does NOT beat the majority class on macro F1 0.400 against 0.440" in text
    text, good = verdict(_metrics(0.95, 0.94, 0.50, 0.33))
    assert good and text == "The model beats the majority class on accuracy 0.950 against 0.500 and on macro F1 0.940 against 0.330."


@pytest.mark.parametrize("ngrams", ["char", "word"])
def test_text_models_are_scored_beside_tfidf_with_logistic_regression(ngrams, text_model, text_files, tmp_path):
    """The baseline is scikit-learn's pipeline fitted on the texts the model learnt from (training and
    validation parts), scored on the test file: of character 1-4-grams within words where the texts are short
    (`tfidf_ngrams` auto: these, of 7-60 characters), of word 1-2-grams where asked for (or the texts are long);
    it is saved with the run, so a loaded model scores new texts beside the very same baseline."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, log_loss

    if ngrams == "word":
        text_model = SequenceClassifier("review", tfidf_ngrams="word", test=text_files[1], **TINY).fit(text_files[0])
    assert text_model.tfidf_ngrams_ == ngrams and run_metrics(text_model)["tfidf_ngrams"] == ngrams
    assert f"TF-IDF of {'character 1-4' if ngrams == 'char' else 'word 1-2'}-grams with logistic regression" in verdict(run_metrics(text_model))[0]
    train, test = (pd.read_csv(path) for path in text_files)
    seen = train.iloc[np.concatenate([text_model.split_["train"], text_model.split_["val"]])]
    vectorizer = (TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b") if ngrams == "word"
                  else TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True))  # fmt: skip
    by_hand = LogisticRegression(max_iter=1000).fit(vectorizer.fit_transform(seen["review"]), seen["label"])
    proba = by_hand.predict_proba(vectorizer.transform(test["review"]))  # columns neg, pos: the classifier's order
    baseline = text_model.baselines_["tfidf_logistic_regression"]
    assert baseline["accuracy"] == accuracy_score(test["label"], by_hand.classes_[proba.argmax(axis=1)])
    assert baseline["log_loss"] == pytest.approx(log_loss(test["label"], proba))
    assert set(run_metrics(text_model)["beats_baselines"]) == {"majority_class", "tfidf_logistic_regression"}
    text_model.save(tmp_path / "m")
    loaded = SequenceClassifier.load(tmp_path / "m")
    assert "text_baseline_" not in vars(loaded)  # not built at load: only what uses it builds it
    assert loaded.tfidf_ngrams_ == ngrams
    assert loaded.evaluate(text_files[1])["baselines"] == text_model.baselines_  # to the last digit
    new = ["a great film", "dull and long", "good good good", "zzz"]
    by_hand_new = by_hand.predict_proba(vectorizer.transform(new))
    np.testing.assert_allclose(loaded.text_baseline_.proba(new), by_hand_new, rtol=1e-12)


def test_a_text_models_verdict_weighs_it_against_tfidf_too():
    metrics = _metrics(0.86, 0.86, 0.125, 0.03)
    metrics["baselines"]["tfidf_logistic_regression"] = {"accuracy": 0.927, "f1": 0.927}
    metrics["beats_baselines"] = {"majority_class": True, "tfidf_logistic_regression": False}
    text, good = verdict(metrics)
    assert not good and text == (
        "The model beats the majority class (accuracy 0.860 against 0.125) but NOT TF-IDF with logistic regression "
        "on accuracy 0.860 against 0.927 and on macro F1 0.860 against 0.927: a linear model of the texts' n-grams "
        "classifies them at least as well.")
    metrics["beats_baselines"]["tfidf_logistic_regression"] = True
    metrics["baselines"]["tfidf_logistic_regression"] = {"accuracy": 0.8, "f1": 0.8}
    assert verdict(metrics) == ("The model beats the majority class and TF-IDF with logistic regression, on accuracy "
                                "0.860 against 0.800 and on macro F1 0.860 against 0.800.", True)  # fmt: skip


def test_verdict_calls_an_accuracy_equal_up_to_floating_noise_no_win():
    text, good = verdict(_metrics(0.8 + 1e-12, 0.9, 0.8, 0.44))
    assert not good and text.startswith("The model does NOT beat the majority class on accuracy 0.800 against 0.800:")


def test_roc_curves_one_per_class_or_one_for_binary():
    y = np.array([0, 1, 2, 0, 1, 2])
    proba = np.eye(3)[[0, 1, 2, 1, 1, 2]] * 0.7 + 0.1
    curves = roc_curves(y, proba, ["a", "b", "c"])
    assert list(curves) == ["a against the rest", "b against the rest", "c against the rest"]
    assert curves["c against the rest"][2] == 1.0
    assert list(roc_curves(np.array([0, 1]), np.array([[0.8, 0.2], [0.3, 0.7]]), ["n", "p"])) == ["p against n"]


# ---- the temporal-order demo data ------------------------------------------------------------------------


@pytest.mark.parametrize("relevant", [("X", "X"), ("X", "Y"), ("Y", "X"), ("Y", "Y")])
def test_temporal_order_class_is_the_order_of_hand_placed_symbols(relevant):
    symbols, label = temporal_order_example(np.random.default_rng(0), length=100, positions=(12, 55), relevant=relevant)
    assert label == "".join(relevant) and symbols[12] == relevant[0] and symbols[55] == relevant[1]
    assert len(symbols) == 100 and symbols[0] == "E" and symbols[-1] == "B"
    assert set(symbols[1:12] + symbols[13:55] + symbols[56:99]) <= set("abcd")


def test_temporal_order_data_is_one_hot_and_labelled_by_its_symbols():
    data = temporal_order_data(50, seed=3)
    assert data.kind == "numeric" and data.n_features == len(SYMBOLS) and set(data.labels) <= {"XX", "XY", "YX", "YY"}
    for x, label in zip(data.sequences, data.labels):
        assert 100 <= len(x) <= 110 and (x.sum(axis=1) == 1).all()
        symbols = "".join(SYMBOLS[i] for i in x.argmax(axis=1))
        positions = [t for t, s in enumerate(symbols) if s in "XY"]
        assert len(positions) == 2 and 10 <= positions[0] <= 20 and 50 <= positions[1] <= 60
        assert "".join(symbols[t] for t in positions) == label
    assert temporal_order_data(50, seed=3).labels == data.labels  # the seed repeats it


def test_a_text_model_multiplies_its_probabilities_with_tfidfs_at_powers_chosen_on_validation(text_files, tmp_path):
    """tfidf_mix "auto": on the validation part, the powers (a, b) of the LSTM's and TF-IDF's probabilities
    (TF-IDF fitted on the training part) whose normalised product has the lowest log loss; the model then
    predicts that product with the baseline fitted on both parts, through fit, predict, a loaded run and a
    served batch, and the metrics keep the LSTM's alone. "no": the LSTM alone."""
    from lstmkit.baselines import TfidfLogisticRegression
    from lstmkit.tasks.classify import serving
    from scipy.special import log_softmax

    from lstmkit.tasks.classify.estimator import MIX_LSTM_POWERS, MIX_TFIDF_POWERS

    train, test = text_files
    # the LSTM half-trained, so both halves have something to add
    model = SequenceClassifier("review", test=test, **{**TINY, "epochs": 3}).fit(train)
    assert model.mix_ is not None
    data = model._read(str(train), labelled=True)
    parts = {name: data.subset(model.split_[name]) for name in ("train", "val")}
    y_val = model._targets(parts["val"]).numpy()
    tfidf = TfidfLogisticRegression.fit(parts["train"].sequences, model._targets(parts["train"]).numpy(), 2, "word", True)
    lstm = np.log(np.clip(model._network_proba(model._encode(parts["val"])), 1e-12, None))
    other = np.log(np.clip(tfidf.proba(parts["val"].sequences), 1e-12, None))
    losses = {(a, b): -np.mean(log_softmax(a * lstm + b * other, axis=1)[np.arange(len(y_val)), y_val])
              for a in MIX_LSTM_POWERS for b in MIX_TFIDF_POWERS}  # fmt: skip
    assert losses[model.mix_] == min(losses.values()) and model.mix_[1] > 0
    texts = pd.read_csv(test)["review"].tolist()
    a, b = model.mix_
    product = model._network_proba(model._encode(model._read(texts, labelled=False))) ** a * model.text_baseline_.proba(texts) ** b
    expected = product / product.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict_proba(texts), expected, rtol=1e-9)
    assert model.test_["lstm"]["accuracy"] == pytest.approx(np.mean(model._network_proba(model._encode(model._read(
        str(test), labelled=True))).argmax(1) == model._targets(model._read(str(test), labelled=True)).numpy()))  # fmt: skip
    assert run_metrics(model)["model"] == "LSTM + TF-IDF" and run_metrics(model)["lstm"] == model.test_["lstm"]
    assert f"Its prediction multiplies the LSTM's class probabilities (to the power {a:g}) with TF-IDF with logistic " \
           f"regression's (to the power {b:g}); the gates shown are the LSTM's." in model.gate_input("a good film").notes
    model.save(tmp_path / "m")
    loaded = SequenceClassifier.load(tmp_path / "m")
    assert loaded.mix_ == model.mix_
    np.testing.assert_allclose(loaded.predict_proba(texts), expected, rtol=1e-9)
    np.testing.assert_allclose(np.array(serving.run(loaded, texts[:5])), expected[:5], rtol=1e-6)  # a batch of five: float sums in another order
    alone = SequenceClassifier("review", test=test, tfidf_mix="no", **{**TINY, "epochs": 3}).fit(train)
    assert alone.mix_ is None and alone.test_["lstm"] is None
    np.testing.assert_allclose(alone.predict_proba(texts), model._network_proba(model._encode(model._read(texts, labelled=False))))
    assert run_metrics(alone)["model"] == "LSTM"
