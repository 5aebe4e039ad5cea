"""The job registry: every registered job through the same contract, and a sixth job added as one package
and one registry entry, with every command working on it and nothing else changed."""

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sklearn.base

from lstmkit.cli import main
from lstmkit.cli_options import cli_options, flag
from lstmkit.data.shipped import airline_csv
from lstmkit.errors import ConfigError, DataError
from lstmkit.settings import declared
from lstmkit.tasks import JOBS, job_named, job_of
from lstmkit.tasks.run import load_run

# what each tiny run (tests/conftest.py) was trained on
TRAINED_ON = {"forecast": "sales.csv", "classify": "reviews.csv", "lm": "code.py", "anomaly": "sensor.csv",
              "seq2seq": "pairs.tsv"}  # fmt: skip


def test_the_registry_holds_the_five_jobs_under_their_own_names():
    assert list(JOBS) == ["forecast", "classify", "lm", "anomaly", "seq2seq"]
    assert all(job.name == name for name, job in JOBS.items())
    assert [job.a_name for job in JOBS.values()] == ["a forecast", "a classify", "an lm", "an anomaly", "a seq2seq"]
    with pytest.raises(ConfigError, match="names an unknown task 'sing'; lstmkit knows forecast, classify, lm, anomaly, seq2seq"):
        job_named("sing")


@pytest.mark.parametrize("name", list(JOBS))
def test_every_job_keeps_the_estimator_contract(name, tiny_runs):
    job, run = JOBS[name], tiny_runs[name]
    estimator = load_run(run)
    assert type(estimator) is job.estimator and job_of(estimator) is job
    # the constructor takes exactly the declared settings, and scikit-learn can rebuild the estimator from them
    params = estimator.get_params()
    assert list(params) == list(inspect.signature(job.estimator).parameters)
    assert set(params) == {field.name for field in declared(job.settings)}
    assert sklearn.base.clone(estimator).get_params() == params
    # metrics.json: the job's metrics beside its baselines, and a verdict on them
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == name and set(job.metrics) <= set(metrics["test"]) and metrics["baselines"]
    text, good = job.verdict(metrics)
    assert isinstance(text, str) and text.endswith(".") and isinstance(good, bool)
    assert (run / "report.html").stat().st_size > 0


@pytest.mark.parametrize("name", list(JOBS))
def test_every_setting_a_job_offers_is_an_option_of_its_train_command(name, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that no option's name is cut short
    assert main(["train", name, "--help"]) == 0
    shown = capsys.readouterr().out
    for option in cli_options(JOBS[name].settings):
        assert flag(option.name) in shown, option.name


@pytest.mark.parametrize("name", list(JOBS))
def test_every_job_scores_new_data_beside_its_baselines(name, tiny_runs, capsys):
    assert main(["evaluate", str(tiny_runs[name]), "--data", str(tiny_runs["data"] / TRAINED_ON[name]), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["task"] == name and set(JOBS[name].metrics) <= set(metrics["test"])


@pytest.mark.parametrize("name", list(JOBS))
def test_every_job_refuses_a_missing_file_in_one_line(name, tmp_path):
    required = {o.name: "y" for o in cli_options(JOBS[name].settings) if o.default is inspect.Parameter.empty}
    missing = tmp_path / "missing.csv"
    with pytest.raises(DataError, match="no such file"):
        JOBS[name].estimator(**required, epochs=1).fit(missing)


SIXTH_JOB = """
import json, sys
sys.path.insert(0, {tests!r})
import lstmkit, lstmkit.tasks
from sixth_job import JOB
lstmkit.tasks.JOBS[JOB.name] = JOB  # the one line a new job adds to the registry
from lstmkit.cli import main

out = {{}}
for name, argv in {commands!r}:
    code = main(argv)
    out[name] = code
print(json.dumps({{"codes": out, "estimator": lstmkit.Nowcaster.__name__}}))
"""


def test_a_sixth_job_is_one_package_and_one_registry_entry(tmp_path):
    run, csv = tmp_path / "run", str(airline_csv())
    commands = [
        ("help", ["train", "nowcast", "--help"]),
        ("train", ["train", "nowcast", "--data", csv, "--target", "passengers", "--time-col", "month", "--hidden", "8",
                   "--out", str(run), "--quiet", "--json"]),
        ("bad option", ["train", "nowcast", "--data", csv, "--target", "passengers", "--horizon", "2", "--out", str(run)]),
        ("predict", ["predict", str(run), "--json"]),
        ("evaluate", ["evaluate", str(run), "--data", csv, "--json"]),
        ("inspect", ["inspect", str(run), "--data", csv, "--out", str(tmp_path / "inside.html"), "--json"]),
        ("demo", ["demo", "nowcast", "--out", str(tmp_path / "demo"), "--quiet", "--json"]),
        ("export", ["export", str(run)]),  # its estimator extends the forecaster's, and so exports as it does
        ("serve", ["serve", str(run)]),  # its package has no serving.py: one line
    ]  # fmt: skip
    script = SIXTH_JOB.format(tests=str(Path(__file__).parent), commands=commands)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["codes"] == {"help": 0, "train": 0, "bad option": 2, "predict": 0, "evaluate": 0, "inspect": 0,
                                "demo": 0, "export": 0, "serve": 2}, result.stderr  # fmt: skip
    assert (run / "model.onnx").exists() and json.loads((run / "model.onnx.json").read_text())["job"] == "nowcast"
    assert f"lstmkit: error: {run}: a nowcast model cannot be served yet\n" in result.stderr
    assert summary["estimator"] == "Nowcaster"
    assert "Forecast the next step of a series." in result.stdout and "--horizon" in result.stdout
    assert result.stderr.startswith("lstmkit: error: Invalid value for '--horizon'")
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == "nowcast" and config["settings"]["horizon"] == 1
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "nowcast" and {"mae", "mase"} <= set(metrics["test"])
    assert (tmp_path / "inside.html").exists() and (tmp_path / "demo" / "report.html").exists()
