"""Anomaly detection: the estimator, its scores and threshold, the baseline, the run directory, the demo data."""

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.data import split_by_time
from lstmkit.errors import ConfigError, DataError
from lstmkit.metrics import anomaly_metrics
from lstmkit.rundir import Predictions
from lstmkit.baselines import rolling_zscore, ties
from lstmkit.cli_options import flag
from lstmkit.tasks.anomaly.demo import demo_anomaly_data
from lstmkit.tasks.anomaly.estimator import AnomalyDetector, choose_threshold
from lstmkit.tasks.anomaly.report import run_metrics, verdict
from lstmkit.tasks.run import load_run, train_run
from lstmkit.train.progress import Reporter

N, LOOKBACK = 480, 24
SPIKES = [420, 437, 452, 468]  # all in the test part: the last 72 steps


def _seasonal(seed: int = 0) -> np.ndarray:
    """A clean seasonal series: periods 24 and 8, noise 0.3."""
    rng = np.random.default_rng(seed)
    t = np.arange(N)
    return 10 * np.sin(2 * np.pi * t / 24) + 3 * np.sin(2 * np.pi * t / 8) + rng.normal(0, 0.3, N)


def _write(path, values, labels=None):
    frame = pd.DataFrame({"step": np.arange(len(values)), "value": np.round(values, 4)})
    if labels is not None:
        frame["anomaly"] = labels
    frame.to_csv(path, index=False)
    return path


def _spiked():
    values, labels = _seasonal(), np.zeros(N, dtype=int)
    values[SPIKES] += [6, -6, 6, -6]
    labels[SPIKES] = 1
    return values, labels


def _small(**kwargs):
    return AnomalyDetector(**{"time_col": "step", "lookback": LOOKBACK, "hidden": 16, "epochs": 30, **kwargs})


@pytest.fixture(scope="module")
def labelled_csv(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("data") / "spiked.csv", *_spiked())


@pytest.fixture(scope="module")
def unlabelled_csv(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("data") / "unlabelled.csv", _spiked()[0])


@pytest.fixture(scope="module")
def fitted(labelled_csv):
    return _small(label_col="anomaly").fit(labelled_csv)


@pytest.fixture(scope="module")
def fitted_unlabelled(unlabelled_csv):
    return _small().fit(unlabelled_csv)


def test_every_injected_spike_is_flagged_with_few_false_flags(fitted):
    flagged = set(np.flatnonzero(fitted.flags_).tolist())
    assert set(SPIKES) <= flagged
    _, _, test = split_by_time(N)
    assert len([t for t in flagged - set(SPIKES) if t >= test.start]) <= 1  # in the test part
    assert len(flagged - set(SPIKES)) <= 4  # in all 456 scored steps: under 1 %
    assert fitted.metrics_["recall"] == 1.0


def test_a_dataframe_a_series_or_an_array_is_scored_as_its_csv_is(fitted, labelled_csv):
    frame = pd.read_csv(labelled_csv)
    from_frame = _small(label_col="anomaly").fit(frame)
    assert from_frame.metrics_ == fitted.metrics_
    pd.testing.assert_frame_equal(from_frame.predict(frame), fitted.predict(labelled_csv))
    hours = frame.set_index(pd.date_range("2020-01-01", periods=N, freq="h", name="hour"))["value"]  # a pandas Series
    by_hours = _small(time_col=None, epochs=2).fit(hours)
    assert list(by_hours.predict().columns) == ["hour", "value", "score", "flag"] and by_hours.series_.freq == "h"
    scores = _small(time_col=None, epochs=2).fit(frame["value"].to_numpy()).predict()["score"]
    np.testing.assert_array_equal(scores, by_hours.predict()["score"])
    months = pd.period_range("1900-01", periods=N, freq="M")  # a year's and its month's columns: both written back
    by_months = _small(time_col=["year", "month"], epochs=2).fit(frame[["value"]].assign(year=months.year, month=months.month))
    written = by_months.predict()
    assert list(written.columns[:2]) == ["year", "month"] and by_months.series_.freq == "MS"
    assert list(written["month"].iloc[:14]) == [*range(1, 13), 1, 2] and written["year"].iloc[-1] == months[-1].year
    np.testing.assert_array_equal(written["score"], scores)
    two = _small(time_col=None, epochs=2).fit(np.column_stack([frame["value"], frame["value"] ** 2]))  # (N, F), as scikit-learn's
    assert list(two.predict().columns) == ["x0", "x1", "score", "flag"]
    np.testing.assert_array_equal(by_hours.predict(frame["value"].tolist())["score"], scores)  # a list of numbers, as the array
    np.testing.assert_array_equal(by_hours.predict(frame["value"].to_numpy())["score"], scores)  # unnamed: the model's column
    with pytest.raises(DataError, match="^expected the path of a CSV text file, got list$"):
        _small().fit(["1.0", "2.0"])


def test_a_first_column_of_row_numbers_or_ids_or_a_counter_is_not_watched(tmp_path):
    from lstmkit.data.anomaly_csv import read_anomaly_csv

    values = pd.DataFrame({"value": np.sin(np.arange(50)), "load": np.cos(np.arange(50))})
    values.to_csv(tmp_path / "indexed.csv")  # pandas' index, unnamed: 0, 1, 2, ...
    values.rename_axis("sample_id").to_csv(tmp_path / "ids.csv")
    for name in ("indexed.csv", "ids.csv"):
        series, _ = read_anomaly_csv(tmp_path / name)
        assert series.column_names == ["value", "load"] and series.time is None
    hours = pd.DataFrame({"value": np.sin(np.arange(300)), "load": np.cos(np.arange(300))},
                         index=pd.date_range("2024-01-01", periods=300, freq="h"))  # an unnamed index of times: the time
    hours.to_csv(tmp_path / "hours.csv")
    detector = AnomalyDetector(lookback=LOOKBACK, hidden=4, epochs=1).fit(tmp_path / "hours.csv")
    assert detector.series_.freq == "h" and list(detector.predict().columns[:3]) == ["time", "value", "load"]
    from lstmkit.tasks.anomaly.report import run_metrics

    assert run_metrics(detector)["notes"] == ["the first column, unnamed (as pandas' to_csv writes an index), holds the "
                                              "times (2024-01-01 00:00:00 to 2024-01-13 11:00:00): read as the time "
                                              "column, 'time'"]  # fmt: skip
    values.assign(id=1).to_csv(tmp_path / "same.csv", index=False)  # the same on every row: a value like any other
    assert read_anomaly_csv(tmp_path / "same.csv")[0].column_names == ["value", "load", "id"]
    # sktime's Longley.csv: an observation number and the year among the values, both counting the rows
    values.assign(Obs=np.arange(1, 51), YEAR=np.arange(1947, 1997)).to_csv(tmp_path / "counted.csv", index=False)
    assert read_anomaly_csv(tmp_path / "counted.csv")[0].column_names == ["value", "load"]
    assert read_anomaly_csv(tmp_path / "counted.csv", columns="value,YEAR")[0].column_names == ["value", "YEAR"]


def test_a_file_of_one_value_a_line_is_read_whole_its_first_line_a_value_not_a_name(tmp_path, capsys):
    # the UCR anomaly archive (KDD Cup 2021): a value a line, no header; its first line had been taken for a
    # column name, which lost the first value and moved every step (and the anomaly's place) by one
    from lstmkit.cli import main
    from lstmkit.data.anomaly_csv import read_anomaly_csv

    values = _seasonal()[:300]
    path = tmp_path / "135_UCR_Anomaly_1200_4187_4199.txt"
    np.savetxt(path, values, fmt="%15.7e")
    series, labels = read_anomaly_csv(path)
    np.testing.assert_allclose(series.target, values, rtol=1e-6)
    assert series.column_names == ["value"] and labels is None
    assert series.notes == ["the first line holds values, not column names: read as row 1, into the column 'value'"]
    assert read_anomaly_csv(path, columns="value")[0].column_names == ["value"]
    with pytest.raises(DataError) as info:  # a label column asked for: none without a header
        read_anomaly_csv(path, label_col="is_anomaly")
    assert str(info.value) == (f"{path}: no column 'is_anomaly': its first line holds values ({values[0]:.7e}), not "
                               "column names; add a header line naming the columns")  # fmt: skip
    np.savetxt(tmp_path / "two.csv", np.column_stack([values, values[::-1]]), delimiter=",", fmt="%.5f")
    assert read_anomaly_csv(tmp_path / "two.csv")[0].column_names == ["column1", "column2"]
    code = main(["train", "anomaly", "--data", str(path), "--lookback", str(LOOKBACK), "--hidden", "4", "--epochs", "1",
                 "--quiet", "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 0
    assert "note: the first line holds values, not column names: read as row 1, into the column 'value'" in capsys.readouterr().out
    code = main(["predict", str(tmp_path / "run"), "--data", str(path), "--output", str(tmp_path / "scores.csv")])
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert code == 0 and list(scores.columns) == ["value", "score", "flag"]
    np.testing.assert_allclose(scores["value"], values, rtol=1e-6)


def test_steps_inside_the_first_lookback_have_no_score_and_no_flag(fitted, labelled_csv):
    frame = fitted.predict(labelled_csv)
    assert list(frame.columns) == ["step", "value", "anomaly", "score", "flag"] and len(frame) == N
    assert frame["score"][:LOOKBACK].isna().all() and (frame["flag"][:LOOKBACK] == 0).all()
    assert np.isfinite(frame["score"][LOOKBACK:]).all()


def test_an_anomaly_in_one_of_two_columns_is_flagged(tmp_path):
    rng = np.random.default_rng(1)
    t = np.arange(N)
    a = 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, N)
    b = 5 * np.cos(2 * np.pi * t / 12) + 0.5 * a + rng.normal(0, 0.3, N)
    a[430] += 5
    b[[450, 465]] += [4, -4]
    hours = pd.date_range("2020-01-01", periods=N, freq="h").strftime("%Y-%m-%d %H:%M")
    path = tmp_path / "two.csv"
    pd.DataFrame({"hour": hours, "a": a.round(4), "b": b.round(4)}).to_csv(path, index=False)
    detector = AnomalyDetector(time_col="hour", lookback=LOOKBACK, hidden=16, epochs=30).fit(path)
    assert detector.columns_ == ["a", "b"]
    _, _, test = split_by_time(N)
    assert np.flatnonzero(detector.flags_[test]).tolist() == [430 - test.start, 450 - test.start, 465 - test.start]
    assert list(detector.predict(path).columns) == ["hour", "a", "b", "score", "flag"]
    written = pd.read_csv(io.StringIO(Predictions.of(detector.predict(path)).csv), dtype={"hour": str})
    assert list(written["hour"]) == list(hours)  # `predict --output` writes the times as the data has them


def test_a_lasting_level_shift_stops_being_flagged_about_a_lookback_after(tmp_path):
    values = _seasonal()
    values[410:] += 8
    detector = _small().fit(_write(tmp_path / "shift.csv", values))
    assert detector.flags_[410:420].all()  # the shift is flagged
    assert not detector.flags_[410 + 2 * LOOKBACK :].any()  # and then accepted as the new level


def test_the_threshold_comes_from_the_validation_scores_only(fitted, tmp_path):
    values, labels = _spiked()
    _, _, test = split_by_time(N)
    values[test] = np.random.default_rng(5).normal(0, 50, test.stop - test.start)  # another test part entirely
    other = _small(label_col="anomaly").fit(_write(tmp_path / "other.csv", values, labels))
    assert other.threshold_ == fitted.threshold_ and other.baseline_threshold_ == fitted.baseline_threshold_
    np.testing.assert_array_equal(other.validation_scores_, fitted.validation_scores_)


def test_the_threshold_rule_is_robust_to_an_outlier_among_the_validation_scores():
    scores = np.abs(np.random.default_rng(0).normal(size=200))
    median = np.median(scores)
    expected = median + 4 * 1.4826 * np.median(np.abs(scores - median))
    assert choose_threshold(scores) == pytest.approx(expected)
    assert choose_threshold(np.append(scores, 1e6)) == pytest.approx(expected, rel=0.02)
    assert choose_threshold(scores, contamination=0.05) == pytest.approx(np.quantile(scores, 0.95))


def test_labels_never_influence_training(fitted, fitted_unlabelled):
    with_labels, without = fitted.model_.state_dict(), fitted_unlabelled.model_.state_dict()
    assert all(torch.equal(with_labels[name], without[name]) for name in with_labels)
    assert fitted.threshold_ == fitted_unlabelled.threshold_
    np.testing.assert_array_equal(fitted.scores_, fitted_unlabelled.scores_)


def test_metrics_with_labels_sit_beside_the_zscore_rule_on_the_same_test_steps(fitted):
    metrics = run_metrics(fitted)
    assert metrics["task"] == "anomaly" and set(metrics["test"]) == {"precision", "recall", "f1", "roc_auc"}
    _, _, test = split_by_time(N)
    steps = np.arange(test.start, test.stop)
    assert metrics["steps"] == len(steps) and metrics["anomalies"] == len(SPIKES)
    baseline = rolling_zscore(fitted.scaler_.transform(fitted.series_.values), LOOKBACK)[steps]
    labels = _spiked()[1][steps]
    expected = anomaly_metrics(labels, baseline, baseline > metrics["baseline_thresholds"]["rolling_zscore"])
    assert metrics["baselines"] == {"rolling_zscore": expected}
    f1 = metrics["test"]["f1"]
    assert metrics["beats_baselines"] == {"rolling_zscore": f1 > expected["f1"] and not ties(f1, expected["f1"])}


def test_rolling_zscore_by_hand():
    values = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0], [10.0, 0.0]])  # (5, 2)
    scores = rolling_zscore(values, window=3)
    std = math.sqrt(2 / 3)  # population std of 1, 2, 3
    z3 = np.array([(4 - 2) / std, (1 - 1 / 3) / math.sqrt(2 / 9)])  # step 3 against steps 0..2
    z4 = np.array([(10 - 3) / std, (0 - 2 / 3) / math.sqrt(2 / 9)])  # step 4 against steps 1..3
    assert np.isnan(scores[:3]).all()
    np.testing.assert_allclose(scores[3:], [math.sqrt(np.mean(z3**2)), math.sqrt(np.mean(z4**2))])


def test_anomaly_metrics_by_hand():
    metrics = anomaly_metrics([0, 0, 1, 1, 0], [0.1, 0.9, 0.8, 0.7, 0.2], [0, 1, 1, 0, 0])
    assert metrics == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "roc_auc": pytest.approx(4 / 6)}
    assert anomaly_metrics([0, 0], [0.1, 0.2], [0, 1])["roc_auc"] is None


def test_a_label_other_than_0_or_1_is_an_exact_data_error(tmp_path):
    path = _write(tmp_path / "bad.csv", _seasonal()[:10], [0, 0, 0, 2, 0, 0, 0, 0, 0, 0])
    with pytest.raises(DataError) as error:
        _small(label_col="anomaly").fit(path)
    assert str(error.value) == f"{path}: column 'anomaly' has the label '2' at row 5; labels must be 0 (normal) or 1 (anomaly)"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"columns": ["valeu"]}, "no column 'valeu'; did you mean 'value'? Columns: step, value, anomaly"),
        ({"time_col": "stpe"}, "no column 'stpe'; did you mean 'step'? Columns: step, value, anomaly"),
        ({"label_col": "anomly"}, "no column 'anomly'; did you mean 'anomaly'? Columns: step, value, anomaly"),
    ],
)
def test_a_misspelled_column_gets_the_data_layers_message(labelled_csv, settings, message):
    detector = AnomalyDetector(**{"time_col": "step", "label_col": "anomaly", **settings})
    with pytest.raises(DataError) as error:
        detector.fit(labelled_csv)
    assert str(error.value) == f"{labelled_csv}: {message}"


def test_a_missing_file_gets_the_data_layers_message(tmp_path):
    with pytest.raises(DataError) as error:
        AnomalyDetector().fit(tmp_path / "nowhere.csv")
    assert str(error.value) == f"{tmp_path / 'nowhere.csv'}: no such file"


def test_an_unnamed_label_column_is_not_taken_for_a_value_column(labelled_csv):
    with pytest.raises(ConfigError, match="name it as the label column \\(label_col 'anomaly'\\)") as error:
        AnomalyDetector(time_col="step").fit(labelled_csv)
    assert "(--label-col 'anomaly'), or list the value columns with --columns" in error.value.for_command_line(flag)


def test_save_and_load_give_identical_scores(fitted, labelled_csv, tmp_path):
    fitted.save(tmp_path / "saved")
    loaded = AnomalyDetector.load(tmp_path / "saved")
    pd.testing.assert_frame_equal(loaded.predict(labelled_csv), fitted.predict(labelled_csv))
    assert loaded.evaluate(labelled_csv) == fitted.evaluate(labelled_csv)


class Interrupt(Reporter):
    def epoch(self, row):
        if row["epoch"] == 2:
            raise KeyboardInterrupt


def test_resume_after_an_interruption_equals_an_uninterrupted_run(labelled_csv, tmp_path):
    with pytest.raises(KeyboardInterrupt):  # at epoch 2, after its checkpoint
        train_run(_small(label_col="anomaly", epochs=4, checkpoint_every=0), labelled_csv, tmp_path / "a", reporter=Interrupt())
    assert (tmp_path / "a" / ".incomplete" / "checkpoint.pt").exists()
    resumed = train_run(_small(label_col="anomaly", epochs=4, checkpoint_every=0), labelled_csv, tmp_path / "a", resume=True)
    assert resumed == train_run(_small(label_col="anomaly", epochs=4, checkpoint_every=0), labelled_csv, tmp_path / "b")


def test_too_short_a_series_says_how_many_rows_it_needs(tmp_path):
    path = _write(tmp_path / "short.csv", _seasonal()[:30])
    with pytest.raises(DataError) as error:
        _small().fit(path)
    assert str(error.value).startswith(f"{path}: has 30 rows, too few for a lookback of 24 steps")
    assert "so at least 35 rows" in str(error.value)  # 25 to train on, 5 to validate, 5 to test


def test_train_anomaly_writes_the_run_directory(labelled_csv, tmp_path):
    out = tmp_path / "run"
    metrics = train_run(_small(label_col="anomaly", epochs=3), labelled_csv, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["config.json", "model.safetensors", "anomaly.json", "checkpoint.pt", "history.csv", "metrics.json", "report.html"]
    )
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert metrics["task"] == "anomaly" and set(metrics["baselines"]) == {"rolling_zscore"}
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "anomaly" and config["resolved"]["lookback"] == LOOKBACK
    assert len(pd.read_csv(out / "history.csv")) == 3
    report = (out / "report.html").read_text()
    assert "rolling z-score" in report and report.count("data:image/png") == 3  # scores, ROC curves, loss curves
    assert load_run(out).threshold_ == metrics["threshold"]


def test_without_labels_metrics_still_give_the_threshold_and_the_flagged_steps(fitted_unlabelled):
    metrics = run_metrics(fitted_unlabelled)
    _, _, test = split_by_time(N)
    assert metrics["test"] == {} and metrics["threshold"] == fitted_unlabelled.threshold_
    assert metrics["flagged"] == int(fitted_unlabelled.flags_[test].sum()) and metrics["steps"] == test.stop - test.start
    assert metrics["flagged_frac"] == pytest.approx(metrics["flagged"] / metrics["steps"])
    assert "No labels" in verdict(metrics)[0]


def test_the_verdict_says_when_the_scored_steps_hold_no_labelled_anomaly(fitted, tmp_path):
    values = _seasonal(seed=1)
    values[300] += 40  # unlabelled: whoever flags it flags falsely
    scored = fitted.evaluate(_write(tmp_path / "clean.csv", values, np.zeros(N, dtype=int)))
    metrics = run_metrics(fitted, scored)
    assert metrics["anomalies"] == 0 and metrics["test"]["f1"] == 0 and metrics["flagged"] >= 1
    scaled = fitted.scaler_.transform(values.astype(np.float32).reshape(-1, 1).round(4))
    zscore_flags = int((rolling_zscore(scaled, LOOKBACK)[LOOKBACK:] > fitted.baseline_threshold_).sum())
    assert zscore_flags >= 1  # the spike, for both
    assert metrics["baseline_flagged"] == {"rolling_zscore": zscore_flags}
    text, good = verdict(metrics)
    assert not good and text.startswith(
        f"The {N - LOOKBACK} scored steps hold no labelled anomaly, so F1 cannot compare the detectors: the LSTM "
        f"flagged {metrics['flagged']} of them and the rolling z-score rule {zscore_flags} (any flag there is a false one)."
    )


def test_labelled_anomalies_before_the_test_part_are_located_and_the_test_frac_that_scores_them_is_named(tmp_path):
    values, labels = _seasonal(), np.zeros(N, dtype=int)
    values[[200, 230]] += 6  # in the training part (steps 0-335), where an archive's series often has its anomaly
    labels[[200, 230]] = 1
    path = _write(tmp_path / "early.csv", values, labels)
    metrics = run_metrics(_small(label_col="anomaly", epochs=1).fit(path))
    assert metrics["anomalies"] == 0
    # 280 of the 480 steps from the first on: 0.59 of them (0.58 would leave step 200 in the validation part)
    assert metrics["anomalies_before_test"] == {"steps": 2, "first": 200, "last": 230, "first_time": "200",
                                                "last_time": "230", "test_frac": 0.59}  # fmt: skip
    assert verdict(metrics)[0].endswith(
        "The data's labelled anomalies (2 steps from 200 to 230) all come before the test part, where the detector "
        "took them for normal or chose its threshold on them: --test-frac 0.59 puts them in the test part, or score "
        "a labelled file with `lstmkit evaluate RUN --data FILE`."
    )
    assert run_metrics(_small(label_col="anomaly", epochs=1, test_frac=0.59).fit(path))["anomalies"] == 2


def test_anomalies_too_early_for_a_training_part_before_them_get_no_test_frac(tmp_path):
    values, labels = _seasonal(), np.zeros(N, dtype=int)
    values[30] += 6
    labels[30] = 1
    frame = pd.DataFrame({"value": values.round(4), "anomaly": labels})  # no time column: steps are counted
    frame.to_csv(tmp_path / "first.csv", index=False)
    detector = AnomalyDetector(lookback=LOOKBACK, hidden=16, epochs=1, label_col="anomaly")
    metrics = run_metrics(detector.fit(tmp_path / "first.csv"))
    # 0.94 of the steps from step 30 on, with val_frac 0.15 beside them, leave no training part
    assert metrics["anomalies_before_test"] == {"steps": 1, "first": 30, "last": 30, "first_time": None,
                                                "last_time": None, "test_frac": None}  # fmt: skip
    assert verdict(metrics)[0].endswith(
        "The data's labelled anomalies (1 step at 30, counting steps from 0) all come before the test part, where the "
        "detector took them for normal or chose its threshold on them, too early to leave a training part before them: "
        "score a labelled file with `lstmkit evaluate RUN --data FILE`."
    )


def test_the_verdict_says_plainly_when_the_zscore_rule_is_as_good():
    metrics = {"labelled": True, "test": {"f1": 0.4}, "baselines": {"rolling_zscore": {"f1": 0.4}},
               "beats_baselines": {"rolling_zscore": False}}  # fmt: skip
    text, good = verdict(metrics)
    assert not good and "does NOT beat the rolling z-score rule on F1 (0.400 against 0.400)" in text


def test_the_demo_data_is_the_sunspots_with_labelled_anomalies_in_the_last_quarter():
    frame = pd.read_csv(demo_anomaly_data(seed=3))
    assert list(frame.columns) == ["year", "sunspots", "anomaly"] and len(frame) == 309
    anomalies = np.flatnonzero(frame["anomaly"])
    assert len(anomalies) == 3 + 6 + 6 + 5 and anomalies.min() >= 309 - 77
    pd.testing.assert_frame_equal(pd.read_csv(demo_anomaly_data(seed=3)), frame)
    assert not pd.read_csv(demo_anomaly_data(seed=4))["anomaly"].equals(frame["anomaly"])


def test_a_long_table_of_several_series_is_refused_with_what_the_detector_can_read(tmp_path):
    """The detector watches one series (its channels in columns) and takes no id column, so the repeated times
    of a long table are told as such, with what to do instead of the forecaster's `id_col`."""
    from lstmkit.data.anomaly_csv import read_anomaly_csv
    from lstmkit.data.series import read_series_csv

    dates = pd.date_range("2000-01-01", periods=6, freq="MS").strftime("%Y-%m-%d")
    long = pd.DataFrame({"symbol": np.repeat(["A", "B"], 6), "date": np.tile(dates, 2), "price": np.sin(np.arange(12.0))})
    long.to_csv(tmp_path / "stocks.csv", index=False)
    path = tmp_path / "stocks.csv"
    where = f"{path}: column 'date' has the time 2000-01-01 twice (rows 2 and 8); the rows with the same time differ in 'symbol': "
    with pytest.raises(DataError) as info:
        read_anomaly_csv(path, time_col="date")
    assert str(info.value) == (where + "if it says which series a row is of, keep one series' rows, or give each series "
                               "columns of its own (a row a time), which are watched together")  # fmt: skip
    with pytest.raises(DataError) as info:
        read_series_csv(path, "price", time_col="date")
    assert str(info.value) == where + "if it says which series a row is of, give it as id_col"


def test_the_columns_left_out_of_the_default_value_columns_are_named_with_those_watched(tmp_path):
    """Every numeric column is watched by default; a text column or a count of the rows is left out, which
    a note says, as the forecaster says which column it forecasts where none is named."""
    from lstmkit.data.anomaly_csv import read_anomaly_csv

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=30).strftime("%Y-%m-%d"), "n": range(30),
                          "temp": rng.normal(size=30).round(3), "wind": rng.normal(size=30).round(3),
                          "weather": rng.choice(["rain", "sun"], 30)})  # fmt: skip
    frame.to_csv(tmp_path / "weather.csv", index=False)
    series, _ = read_anomaly_csv(tmp_path / "weather.csv", time_col="date")
    assert series.notes == ["watching 2 columns (temp, wind); left out, as not numbers or a count of the rows: n, "
                            "weather (--columns chooses)"]  # fmt: skip
    assert read_anomaly_csv(tmp_path / "weather.csv", time_col="date", columns="temp,wind")[0].notes == []
    frame[["date", "temp", "wind"]].to_csv(tmp_path / "numbers.csv", index=False)
    assert read_anomaly_csv(tmp_path / "numbers.csv", time_col="date")[0].notes == []
