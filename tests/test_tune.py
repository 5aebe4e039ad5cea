"""`lstmkit tune`: a tiny study of every job runs, selects on validation only (the test part is scored by the
best and default runs alone), records failed and pruned trials and goes on, resumes after a kill to exactly
its trial count, and refuses bad input in one line with exit code 2."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import lstmkit
from conftest import write_tiny_data
from lstmkit import Forecaster
from lstmkit.cli import main
from lstmkit.errors import ConfigError
from lstmkit.tasks import JOBS
from lstmkit.tasks.run import load_run
from lstmkit.tuning import prepare, run, study as study_module

SRC = str(Path(lstmkit.__file__).resolve().parents[1])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Each job's tiny data, as tests/conftest.py's tiny_runs trains on it."""
    return write_tiny_data(tmp_path_factory.mktemp("tune-data"))


def one(value):
    return {"type": "categorical", "choices": [value]}


# per job: the settings the search starts from, a tiny space over the default one, and the method that scores
# the test part (spied on: never called while trials run)
CASES = {
    "forecast": ({"target": "sales", "time_col": "month", "horizon": 3, "lookback": 12, "hidden": 8, "epochs": 2},
                 {"hidden": {"type": "int", "low": 4, "high": 8}, "layers": one(1), "lookback": {"type": "int", "low": 8, "high": 16},
                  "batch_size": one(32)}, "_score"),
    "classify": ({"text_col": "text", "label_col": "label", "hidden": 8, "min_freq": 1, "epochs": 2},
                 {"hidden": {"type": "int", "low": 4, "high": 8}, "layers": one(1), "arch": one("lstm"), "batch_size": one(32)},
                 "_score_encoded"),
    "lm": ({"hidden": 16, "layers": 1, "embedding": 8, "bptt": 16, "batch_size": 4, "epochs": 1},
           {"hidden": {"type": "int", "low": 8, "high": 16}, "layers": one(1), "bptt": {"type": "int", "low": 8, "high": 16},
            "batch_size": one(4)}, "_score"),
    "anomaly": ({"time_col": "t", "label_col": "anomaly", "lookback": 20, "hidden": 8, "epochs": 2},
                {"hidden": {"type": "int", "low": 4, "high": 8}, "layers": one(1), "lookback": {"type": "int", "low": 10, "high": 20},
                 "batch_size": one(32)}, "_summary"),
    "seq2seq": ({"level": "word", "hidden": 8, "epochs": 2, "beam": 2},
                {"hidden": {"type": "int", "low": 8, "high": 16, "step": 8}, "layers": one(1), "batch_size": one(32)}, "_score"),
}  # fmt: skip


def finished(summary_or_states: dict) -> int:
    states = summary_or_states.get("states", summary_or_states)
    return states["complete"] + states["pruned"] + states["fail"]


@pytest.mark.parametrize("job", list(CASES))
def test_a_tiny_study_selects_on_validation_and_leaves_a_normal_best_run(job, data, tmp_path, monkeypatch):
    settings, space, scorer = CASES[job]
    during = {"trial": False}
    calls = {"trial": 0, "after": 0}
    real_trial, estimator = study_module.run_trial, JOBS[job].estimator
    real_scorer = getattr(estimator, scorer)

    def tracked_trial(*args, **kwargs):
        during["trial"] = True
        try:
            return real_trial(*args, **kwargs)
        finally:
            during["trial"] = False

    def spy(self, *args, **kwargs):
        calls["trial" if during["trial"] else "after"] += 1
        return real_scorer(self, *args, **kwargs)

    monkeypatch.setattr(study_module, "run_trial", tracked_trial)
    monkeypatch.setattr(estimator, scorer, spy)
    out = tmp_path / "tuning"
    summary = lstmkit.tune(job, data[job], out, trials=2, settings=settings, space=space, pruner="none")

    assert calls == {"trial": 0, "after": calls["after"]} and calls["after"] >= 1  # test scored by the final runs only
    assert finished(summary) == 2 and summary["states"]["complete"] >= 1
    assert summary["default"]["trial"] == 0 and summary["best"]["value"] <= summary["default"]["value"]
    # the best run trains the best trial's settings again, to the same validation loss
    assert summary["compared"]["best"]["val_loss"] == pytest.approx(summary["best"]["value"], rel=1e-4)
    assert summary["compared"]["default"]["val_loss"] == pytest.approx(summary["default"]["value"], rel=1e-4)
    assert json.loads((out / "tune.json").read_text())["best"]["params"] == summary["best"]["params"]
    best = load_run(out / "best")  # a normal run directory, through the normal loader
    assert all(getattr(best, name) == value for name, value in summary["best"]["params"].items())
    assert (out / "default" / "metrics.json").exists()
    page = (out / "tune.html").read_text()
    for heading in ("Best against default", "Optimisation history", "Parameter importances", "Parallel coordinates", "Trials"):
        assert f"<h2>{heading}" in page
    assert page.count("data:image/png;base64,") >= 2  # history and parallel coordinates at least


def test_the_best_run_serves_evaluate_and_predict(data, tmp_path):
    settings, space, _ = CASES["classify"]
    lstmkit.tune("classify", data["classify"], tmp_path / "t", trials=1, settings=settings, space=space)
    assert main(["evaluate", str(tmp_path / "t" / "best"), "--data", str(data["classify"]), "--json"]) == 0
    assert main(["predict", str(tmp_path / "t" / "best"), "--data", str(data["classify"]), "--json"]) == 0


def test_a_failing_trial_is_recorded_with_its_reason_and_the_study_goes_on(data, tmp_path):
    settings, space, _ = CASES["forecast"]
    space = {**space, "lookback": {"type": "categorical", "choices": [12, 500]}}
    _, spec, study = prepare("forecast", data["forecast"], tmp_path / "t", trials=3, settings=settings, space=space,
                             pruner="none")  # fmt: skip
    study.enqueue_trial({"lookback": 500})  # too long for 120 steps: the estimator refuses it in fit
    lines = []
    run(spec, pruner="none", announce=lines.append)
    trials = study.get_trials()
    assert [t.state.name for t in trials[:2]] == ["COMPLETE", "FAIL"] and len(trials) == 3
    assert trials[1].params["lookback"] == 500 and "lookback" in trials[1].user_attrs["fail_reason"]
    assert lines[0].startswith("trial 0 complete: val loss ")
    assert lines[1].startswith(f"trial 1 fail: {trials[1].user_attrs['fail_reason']} (")  # the reason, not a traceback
    assert trials[2].state.name in ("COMPLETE", "FAIL")  # ran after the failure


def test_the_pruner_stops_trials_whose_validation_loss_lags(data, tmp_path):
    import optuna

    settings, space, _ = CASES["forecast"]
    space = {**space, "hidden": one(8), "lookback": one(12), "lr": {"type": "float", "low": 1e-7, "high": 1e-6, "log": True},
             "base": one("naive2")}  # untrained, behind the first trial's ETS base from the first epoch on
    pruner = optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0)
    _, spec, study = prepare("forecast", data["forecast"], tmp_path / "t", trials=4,
                             settings={**settings, "epochs": 4}, space=space, pruner=pruner)  # fmt: skip
    run(spec, pruner=pruner)
    pruned = [t for t in study.get_trials() if t.state.name == "PRUNED"]
    assert pruned and all(t.last_step < 4 for t in pruned)  # stopped before their last epoch


def test_a_killed_study_resumes_to_exactly_its_trial_count(data, tmp_path):
    out = tmp_path / "t"
    space = tmp_path / "space.json"
    space.write_text(json.dumps({**CASES["classify"][1], "hidden": {"type": "int", "low": 8, "high": 32}}))
    command = [sys.executable, "-m", "lstmkit", "tune", "classify", "--data", str(data["classify"]), "--text-col", "text",
               "--min-freq", "1", "--epochs", "40", "--trials", "4", "--space", str(space), "--out", str(out), "--quiet"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600  # the first trial ends in seconds on an idle machine; a loaded one may take minutes
    while time.time() < deadline and first.poll() is None and _finished_in(out / "study.db") < 1:
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL  # killed mid-study, not finished
    assert 1 <= _finished_in(out / "study.db") < 4
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    summary = json.loads((out / "tune.json").read_text())
    assert finished(summary) == 4 and summary["states"]["running"] == 0
    assert (out / "best" / "model.safetensors").exists()


def _finished_in(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("select count(*) from trials where state in ('COMPLETE', 'PRUNED', 'FAIL')").fetchone()[0]
    except sqlite3.OperationalError:  # the tables are not made yet
        return 0


BAD_SPACES = [
    ({"hiddn": {"type": "int", "low": 8, "high": 16}}, "'hiddn' is not a setting of forecast; did you mean 'hidden'?"),
    ({"seed": {"type": "int", "low": 0, "high": 9}}, "'seed' is not searched: it sets how a run executes, not the "
                                                     "model; give it as an option instead"),
    ({"hidden": {"type": "integer", "low": 8, "high": 16}}, "'hidden' has type 'integer'; the types are int, float and categorical"),
    ({"hidden": {"type": "int", "low": 8, "high": 8}}, "'hidden' has an empty range: low 8 must be below high 8"),
    ({"hidden": {"type": "int", "low": 64, "high": 8}}, "'hidden' has an inverted range: low 64 must be below high 8"),
    ({"lr": {"type": "float", "low": 0, "high": 0.1, "log": True}}, "'lr' is log-scaled, so 'low' must be above 0, got 0"),
    ({"variant": {"type": "categorical", "choices": ["vanila"]}},
     "'variant' choice 'vanila' is not allowed; it must be vanilla, peephole, cifg or layernorm"),
    ({"hidden": {"type": "int", "low": 0, "high": 8}}, "'hidden' range [0, 8] goes outside what it allows: it must be "
                                                       "a whole number of at least 1"),
    ("{", "is not valid JSON (line 1, column 2: Expecting property name enclosed in double quotes)"),
]  # fmt: skip


def tune_args(data, out, *extra):
    return ["tune", "forecast", "--data", str(data["forecast"]), "--target", "sales", "--out", str(out), *extra]


@pytest.mark.parametrize("space, message", BAD_SPACES)
def test_a_bad_space_is_one_line_and_exit_code_2(space, message, data, tmp_path, capsys):
    path = tmp_path / "space.json"
    path.write_text(space if isinstance(space, str) else json.dumps(space))
    assert main(tune_args(data, tmp_path / "t", "--trials", "2", "--space", str(path))) == 2
    assert capsys.readouterr().err == f"lstmkit: error: {path}: {message}\n"


@pytest.mark.parametrize("extra, message", [
    (["--trials", "0"], "--trials must be a whole number of at least 1, got 0"),
    (["--trials", "2", "--workers", "0"], "--workers must be a whole number of at least 1, got 0"),
    (["--trials", "2", "--storage", "sqlite:////no-such-folder/deeper/study.db"],
     "--storage 'sqlite:////no-such-folder/deeper/study.db' cannot be opened (OperationalError: unable to open "
     "database file)"),
    (["--trials", "2", "--storage", "nosuchdb://host/study"],
     "--storage 'nosuchdb://host/study' cannot be opened (NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:nosuchdb)"),
])  # fmt: skip
def test_bad_tune_options_are_one_line_and_exit_code_2(extra, message, data, tmp_path, capsys):
    assert main(tune_args(data, tmp_path / "t", *extra)) == 2
    assert capsys.readouterr().err == f"lstmkit: error: {message}\n"


def test_settings_the_data_cannot_train_stop_the_study_before_it_starts_as_train_stops(data, tmp_path, capsys):
    """The first trial is the starting settings and the default run trains them after the trials: a series too
    short for them is train's one line and exit code 2, before a folder or a trial."""
    assert main(["train", "forecast", "--data", str(data["forecast"]), "--target", "sales", "--horizon", "40",
                 "--out", str(tmp_path / "r")]) == 2  # fmt: skip
    refused = capsys.readouterr().err
    assert refused.startswith(f"lstmkit: error: {data['forecast']}: has ") and "--horizon 40" in refused
    assert main(tune_args(data, tmp_path / "t", "--trials", "2", "--horizon", "40")) == 2
    assert capsys.readouterr().err == refused and not (tmp_path / "t").exists()


def test_two_workers_share_one_study_up_to_its_trial_count(data, tmp_path):
    import optuna

    settings, space, _ = CASES["classify"]
    summary = lstmkit.tune("classify", data["classify"], tmp_path / "t", trials=3, settings=settings, space=space,
                           workers=2, pruner="none")  # fmt: skip
    assert finished(summary) == 3 and summary["states"]["running"] == 0
    study = optuna.load_study(study_name="lstmkit-classify", storage=f"sqlite:///{tmp_path / 't' / 'study.db'}")
    assert sorted(t.number for t in study.trials) == [0, 1, 2]


def test_hyperband_is_a_pruner_too(data, tmp_path):
    settings, space, _ = CASES["anomaly"]
    _, spec, study = prepare("anomaly", data["anomaly"], tmp_path / "t", trials=2, settings=settings, space=space,
                             pruner="hyperband")  # fmt: skip
    run(spec, pruner="hyperband")
    assert type(study.pruner).__name__ == "HyperbandPruner" and len(study.get_trials()) == 2


def test_a_larger_trial_count_extends_the_study_and_the_same_one_adds_nothing(data, tmp_path):
    settings, space, _ = CASES["anomaly"]
    for trials, expected in ((2, 2), (2, 2), (3, 3)):
        _, spec, study = prepare("anomaly", data["anomaly"], tmp_path / "t", trials=trials, settings=settings,
                                 space=space, pruner="none")  # fmt: skip
        run(spec, pruner="none")
        found = study.get_trials()
        assert len(found) == expected
    assert [t.user_attrs.get("default") is not None for t in found] == [True, False, False]  # defaults ran once


def test_an_int_range_the_data_cannot_take_is_lowered_to_the_largest_value_that_fits(data):
    from lstmkit.tuning.space import fits_the_data, fitted_to_data

    job, settings = JOBS["forecast"], {**CASES["forecast"][0], "val_frac": 0.15}
    space = {"lookback": {"type": "int", "low": 8, "high": 200}, "hidden": {"type": "int", "low": 4, "high": 8},
             "layers": {"type": "int", "low": 1, "high": 2}}  # fmt: skip
    fitted, lowered = fitted_to_data(job, space, settings, data["forecast"])
    largest = fitted["lookback"]["high"]
    assert 8 < largest < 200 and lowered == {"lookback": (200, largest)}
    assert fits_the_data(job, {**settings, "lookback": largest}, data["forecast"])
    assert not fits_the_data(job, {**settings, "lookback": largest + 1}, data["forecast"])
    assert fitted["hidden"] == space["hidden"] and fitted["layers"] == space["layers"] and space["lookback"]["high"] == 200
    hopeless = {"lookback": {"type": "int", "low": 150, "high": 200}}  # fails at its lower end: kept, trials say why
    assert fitted_to_data(job, hopeless, settings, data["forecast"]) == (hopeless, {})


def test_a_pretrained_start_searches_around_the_shipped_networks_shape(data, tmp_path, capsys):
    """`start` pretrained fixes the network's size, lookback and inputs: the default space leaves them out, so
    every trial can load the shipped network, and a space file that names one is refused before any trial."""
    settings = {"target": "sales", "time_col": "month", "horizon": 3, "epochs": 1, "start": "pretrained"}
    _, spec, study = prepare("forecast", data["forecast"], tmp_path / "t", trials=2, settings=settings, pruner="none")
    fixed = {"hidden", "layers", "variant", "bidirectional", "lookback", "base", "ets_input"}
    assert not fixed & set(spec.space) and {"lr", "batch_size", "dropout"} <= set(spec.space)
    run(spec, pruner="none")
    assert [t.state.name for t in study.get_trials()] == ["COMPLETE", "COMPLETE"]
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"lookback": {"type": "int", "low": 8, "high": 16}}))
    args = tune_args(data, tmp_path / "u", "--horizon", "3", "--start", "pretrained", "--trials", "2", "--space", str(path))
    assert main(args) == 2 and not (tmp_path / "u").exists()
    assert capsys.readouterr().err == (f"lstmkit: error: {path}: 'lookback' is not searched here: --start pretrained "
                                       "loads a network of fixed size, lookback and inputs\n")


def test_every_default_space_is_valid_and_the_forecast_one_reaches_every_statistical_start():
    """The search can draw the default's own choices: base auto and ets (auto's pick for one series) and the
    ETS input, beside naive2, snaive and none."""
    from lstmkit.tasks.forecast.settings import BASES, ETS_INPUTS
    from lstmkit.tuning.space import search_space

    spaces = {name: search_space(job) for name, job in JOBS.items()}  # each entry checked against its settings
    assert set(spaces["forecast"]["base"]["choices"]) == set(BASES)
    assert set(spaces["forecast"]["ets_input"]["choices"]) == set(ETS_INPUTS)


def test_running_trials_of_live_processes_are_left_alone_and_those_of_dead_ones_fail_as_interrupted(tmp_path):
    """Two commands may share a study: a command fails as interrupted only the running trials whose process
    is gone (a dead process id on this machine; no heartbeat for GRACE_S elsewhere)."""
    import optuna

    storage = study_module.open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    study = optuna.create_study(study_name="s", storage=storage)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    here = study_module.socket.gethostname()
    owners = {"live here": [here, sleeper.pid], "dead here": [here, dead.pid],
              "fresh elsewhere": ["elsewhere", 1, time.time()], "stale elsewhere": ["elsewhere", 1, time.time() - 61]}  # fmt: skip
    try:
        for name, (host, pid, *beat) in owners.items():
            trial = study.ask()
            trial.set_user_attr("name", name)
            trial.set_user_attr("owner", [host, pid])
            if beat:
                trial.set_user_attr("heartbeat", beat[0])
        study_module.fail_interrupted(study, storage)
        states = {t.user_attrs["name"]: (t.state.name, t.user_attrs.get("fail_reason")) for t in study.get_trials()}
    finally:
        sleeper.kill()
        sleeper.wait()
    assert states == {"live here": ("RUNNING", None), "dead here": ("FAIL", study_module.INTERRUPTED),
                      "fresh elsewhere": ("RUNNING", None), "stale elsewhere": ("FAIL", study_module.INTERRUPTED)}  # fmt: skip


def test_a_trial_whose_command_died_before_naming_itself_fails_once_it_is_a_second_old(tmp_path, monkeypatch):
    """A command asks for a trial and names itself its owner at once, under the study's lock; one killed between
    the two leaves a running trial with no owner, which the next command fails instead of waiting for it."""
    import optuna

    storage = study_module.open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    study = optuna.create_study(study_name="s", storage=storage)
    study.ask()
    started = study.get_trials()[0].datetime_start.timestamp()
    monkeypatch.setattr(study_module.time, "time", lambda: started + study_module.OWNERLESS_S / 2)
    study_module.fail_interrupted(study, storage)
    assert study.get_trials()[0].state.name == "RUNNING"  # just asked: its command may be naming itself now
    monkeypatch.setattr(study_module.time, "time", lambda: started + study_module.OWNERLESS_S + 0.5)
    study_module.fail_interrupted(study, storage)
    trial = study.get_trials()[0]
    assert (trial.state.name, trial.user_attrs.get("fail_reason")) == ("FAIL", study_module.INTERRUPTED)


def test_workers_end_with_a_killed_tune_command_and_the_study_resumes(data, tmp_path):
    out = tmp_path / "t"
    space = tmp_path / "space.json"
    space.write_text(json.dumps({**CASES["classify"][1], "hidden": {"type": "int", "low": 8, "high": 32}}))
    command = [sys.executable, "-m", "lstmkit", "tune", "classify", "--data", str(data["classify"]), "--text-col", "text",
               "--min-freq", "1", "--epochs", "400", "--patience", "400", "--trials", "3", "--space", str(space), "--out", str(out),
               "--workers", "2", "--pruner", "none", "--quiet"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    parent = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and parent.poll() is None and len(_running_owners(out / "study.db")) < 2:
        time.sleep(0.1)
    workers = _running_owners(out / "study.db")
    parent.send_signal(signal.SIGKILL)
    assert parent.wait() == -signal.SIGKILL and len(workers) == 2  # killed while both workers ran a trial
    deadline = time.time() + 30
    while time.time() < deadline and any(study_module._alive(pid) for pid in workers):
        time.sleep(0.2)
    left = [pid for pid in workers if study_module._alive(pid)]
    for pid in left:  # the test leaves no process behind, even when it fails here
        os.kill(pid, signal.SIGKILL)
    assert not left  # the workers ended with their command
    command[command.index("400")] = "2"
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    summary = json.loads((out / "tune.json").read_text())
    assert finished(summary) == 3 and summary["states"]["fail"] == 2  # the two interrupted trials count as run


def _running_owners(path: Path) -> list[int]:
    if not path.exists():
        return []
    try:
        with sqlite3.connect(path, timeout=5) as db:
            rows = db.execute("select value_json from trial_user_attributes join trials using (trial_id) "
                              "where state = 'RUNNING' and key = 'owner'").fetchall()  # fmt: skip
    except sqlite3.OperationalError:  # the tables are not made yet
        return []
    return [json.loads(value)[1] for (value,) in rows]


class _Trial:
    """What a TrialReporter asks of an Optuna trial: report each step, and never prune."""

    def __init__(self):
        self.reported = []

    def report(self, value, step):
        self.reported.append((step, value))

    def should_prune(self):
        return False


def test_a_trial_of_several_fits_is_worth_the_mean_of_what_each_fit_keeps():
    watcher = study_module.TrialReporter(_Trial())
    assert watcher.best == float("inf")
    watcher.start(3)
    for loss in (0.9, 0.5, 0.7):  # member 0 keeps its best epoch: 0.5
        watcher.epoch({"epoch": 1, "val_loss": loss})
    watcher.start(3)
    for loss in (0.8, 0.3, 0.6):
        watcher.epoch({"epoch": 1, "val_loss": loss})
    watcher.final(0.4)  # member 1 keeps averaged weights: their loss, not its best epoch's 0.3
    assert watcher.best == pytest.approx(0.45) and watcher.steps == 6
    assert [step for step, _ in watcher.trial.reported] == [1, 2, 3, 4, 5, 6]


def test_a_language_model_trial_is_worth_its_mixtures_validation_loss(data, tmp_path):
    """The run reports the LSTM mixed with its n-gram model, so its trials are worth the mixture's validation
    loss, which chose the weight; the LSTM's own epochs still reach the pruner."""
    settings, space, _ = CASES["lm"]
    summary = lstmkit.tune("lm", data["lm"], tmp_path / "t", trials=1, settings=settings, space=space, pruner="none")
    metrics = json.loads((tmp_path / "t" / "best" / "metrics.json").read_text())
    with open(tmp_path / "t" / "best" / "history.csv") as handle:
        epochs = [float(line.split(",")[2]) for line in handle.readlines()[1:]]
    assert metrics["val_loss"] is not None and summary["best"]["value"] == pytest.approx(metrics["val_loss"], rel=1e-6)
    assert summary["best"]["value"] < min(epochs)  # the weight chosen on it is at least as good as the LSTM alone
    alone = lstmkit.tune("lm", data["lm"], tmp_path / "u", trials=1, settings={**settings, "ngram_mix": "no"}, space=space,
                         pruner="none")  # fmt: skip
    assert alone["best"]["value"] == pytest.approx(min(epochs), rel=1e-6)


def test_an_ensemble_trial_is_worth_its_members_mean_kept_validation_loss(data, tmp_path):
    settings, space, _ = CASES["forecast"]
    kept = []
    original = study_module.TrialReporter.start

    def spy(self, epochs, first_epoch=1):
        if self.fits:
            kept.append(self.fits[-1])
        original(self, epochs, first_epoch)

    _, spec, study = prepare("forecast", data["forecast"], tmp_path / "t", trials=1,
                             settings={**settings, "ensemble": 2}, space=space, pruner="none")  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(study_module.TrialReporter, "start", spy)
        run(spec, 1, "none")
    trial = study.trials[0]
    losses = [v for _, v in sorted(trial.intermediate_values.items())]
    per_member = [min(losses[:len(losses) // 2]), min(losses[len(losses) // 2:])]
    assert len(kept) == 1 and kept[0] == pytest.approx(per_member[0])
    assert len(losses) == 4 and trial.value == pytest.approx(sum(per_member) / 2)


def _kept(forecaster) -> float:
    """The validation loss a trial's fit keeps: its best epoch's."""
    return min(row["val_loss"] for row in forecaster.history_ if row["epoch"] >= 1)


def test_a_trial_at_three_origins_is_worth_the_mean_of_its_fits_a_horizon_apart(data, tmp_path):
    """`origins` 3: a trial is fitted at three origins, the earliest first, each on the data as it stood k
    horizons before the end, and is worth the mean of what the three fits keep."""
    settings, space, _ = CASES["forecast"]
    _, spec, study = prepare("forecast", data["forecast"], tmp_path / "t", trials=1, settings=settings, space=space,
                             pruner="none", origins=3)  # fmt: skip
    run(spec, 1, "none")
    trial = study.trials[0]
    chosen = {**spec.settings, **trial.params}
    kept = [_kept(Forecaster(**chosen).fit(data["forecast"], score_test=False, earlier=k)) for k in (2, 1, 0)]
    assert len(trial.intermediate_values) == 3 * settings["epochs"] and trial.value == pytest.approx(sum(kept) / 3)
    frame = pd.read_csv(data["forecast"])
    as_it_stood = Forecaster(**chosen).fit(frame.iloc[: len(frame) - 2 * settings["horizon"]], score_test=False)
    assert kept[0] == pytest.approx(_kept(as_it_stood))


def test_origins_fall_to_what_the_series_hold_and_other_jobs_fit_once(data, tmp_path):
    settings, space, _ = CASES["forecast"]
    frame = pd.read_csv(data["forecast"])
    short = tmp_path / "short.csv"
    frame.iloc[:38].to_csv(short, index=False)  # 37 to 39 rows hold two origins for these settings, not three
    lines = []
    _, spec, _ = prepare("forecast", short, tmp_path / "t", trials=1, settings=settings, space=space, origins=3,
                         announce=lines.append)  # fmt: skip
    assert spec.origins == 2
    assert lines[0] == "trials fitted at 2 origins, not 3: the data are too short for the starting settings at an earlier one"
    _, spec, _ = prepare("forecast", short, tmp_path / "u", trials=1, settings=settings, space=space)
    assert spec.origins == 1  # the default
    with pytest.raises(ConfigError, match=r"^origins is for forecasting: a classify trial is one fit, got 2$"):
        prepare("classify", data["classify"], tmp_path / "c", trials=1, settings=CASES["classify"][0], origins=2)


def test_a_backtest_trial_validates_before_every_origin_the_backtest_scores(data, tmp_path):
    """With `refit`, fold f + 1's validation part is fold f's test part: a trial is the first fold's fit alone."""
    settings, space, _ = CASES["forecast"]
    settings = {**settings, "backtest": 2, "refit": True}
    _, spec, study = prepare("forecast", data["forecast"], tmp_path / "t", trials=1, settings=settings, space=space,
                             pruner="none")  # fmt: skip
    run(spec, 1, "none")
    assert len(study.trials[0].intermediate_values) == settings["epochs"]
    trial_fit = Forecaster(**{**spec.settings, **study.trials[0].params}).fit(data["forecast"], score_test=False)
    assert trial_fit.bounds_[0][1] == 120 - 2 * settings["horizon"]  # its validation part ends at the first origin


def test_the_tuning_figures_leave_matplotlib_as_they_found_it():
    """Optuna's plots switch pyplot to the ggplot style for the whole process; tune.html's figures are drawn
    without leaving that behind, so a report drawn after `tune` in one process matches one drawn elsewhere."""
    import matplotlib
    import optuna

    from lstmkit.tuning.report import _figures

    study = optuna.create_study()
    for x in (1.0, 2.0, 3.5):
        study.add_trial(optuna.trial.create_trial(params={"x": x}, value=x * x,
                                                  distributions={"x": optuna.distributions.FloatDistribution(0, 5)}))  # fmt: skip
    def style():  # matplotlib's settings, less the backend, which tune sets to Agg on purpose
        return {key: value for key, value in matplotlib.rcParams.items() if not key.startswith("backend")}

    before = style()
    made = _figures(study)
    assert [heading for heading, _ in made] == ["Optimisation history", "Parameter importances", "Parallel coordinates"]
    assert made[0][1].startswith(b"\x89PNG")
    assert style() == before and before["axes.facecolor"] == "white"  # not ggplot's grey
