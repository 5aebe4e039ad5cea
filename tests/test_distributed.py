"""Data-parallel training (`train/distributed.py`, `lstmkit train --nproc N`): gloo on this machine's CPU,
real processes on 127.0.0.1, each test stopping what it starts.

- a 2-process step equals one process on the whole batch; uneven and empty slices weigh right;
- every job's 2-process run repeats to the same metrics, and only rank 0 writes;
- a killed rank stops the run in one line, and the checkpoint resumes (under 2 processes or 1);
- a port in use and an unreachable rendezvous are one line and exit code 2.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import write_tiny_data
from lstmkit.launch import PEER_LOST, _first_cause, free_port, rank_threads
from lstmkit.train.batches import BucketedBatches, PairBatches, StreamBatches, TensorBatches
from lstmkit.train.distributed import Context, shard, slice_bounds

HERE = Path(__file__).parent
TIMEOUT = 240  # seconds any command here may take before the test fails


def rank_env(rank: int, world: int, port: int, **extra) -> dict:
    return {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world),
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1", **extra}  # fmt: skip


def rank_script(tmp_path, world: int, rows: int, batch: int, epochs: int, optimizer: str) -> dict:
    """tests/distributed_rank.py in `world` processes (1: alone, no process group): rank 0's result."""
    out = tmp_path / f"world{world}-{rows}-{batch}-{epochs}-{optimizer}.json"
    args = [sys.executable, str(HERE / "distributed_rank.py"), str(out), str(rows), str(batch), str(epochs), optimizer]
    if world == 1:
        env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
        subprocess.run(args, env={**env, "OMP_NUM_THREADS": "1"}, check=True, timeout=TIMEOUT)
    else:
        port = free_port()
        ranks = [subprocess.Popen(args, env=rank_env(r, world, port)) for r in range(world)]
        try:
            assert [p.wait(timeout=TIMEOUT) for p in ranks] == [0] * world
        finally:
            for p in ranks:
                p.kill()
    return json.loads(out.read_text())


def max_difference(a: dict, b: dict) -> float:
    return max(max(abs(x - y) for x, y in zip(a["params"][name], b["params"][name])) for name in a["params"])


def test_one_step_of_two_processes_equals_one_process_on_the_whole_batch(tmp_path):
    alone = rank_script(tmp_path, 1, rows=16, batch=16, epochs=1, optimizer="sgd")
    two = rank_script(tmp_path, 2, rows=16, batch=16, epochs=1, optimizer="sgd")
    moved = max(max(abs(v) for v in values) for values in alone["params"].values())
    assert moved > 0.01  # a real step was taken
    assert max_difference(alone, two) < 1e-6
    assert two["losses"][0] == pytest.approx(alone["losses"][0], rel=1e-6)


def test_uneven_and_empty_slices_weigh_by_their_examples(tmp_path):
    """17 rows in batches of 8: slices of 4+4 (2 ranks) or 3+3+2, and a last batch of 1 row, which leaves
    the other ranks with none (they join the step at scale 0). Three epochs of Adam."""
    alone = rank_script(tmp_path, 1, rows=17, batch=8, epochs=3, optimizer="adam")
    for world in (2, 3):
        many = rank_script(tmp_path, world, rows=17, batch=8, epochs=3, optimizer="adam")
        assert max_difference(alone, many) < 1e-5, world
        assert many["losses"] == pytest.approx(alone["losses"], rel=1e-6), world


def test_a_rank_that_dies_mid_step_stops_the_other_with_peer_lost(tmp_path):
    """Rank 1 exits in its 2nd forward: rank 0 meets the loss inside DDP's reduction of the gradients (its
    backward), not in a collective of lstmkit's own, and still stops with PeerLost."""
    out = tmp_path / "died.json"
    args = [sys.executable, str(HERE / "distributed_rank.py"), str(out), "64", "16", "3", "adam", "2"]
    port = free_port()
    ranks = [subprocess.Popen(args, env=rank_env(r, 2, port, LSTMKIT_DIST_TIMEOUT="30")) for r in range(2)]
    try:
        codes = [p.wait(timeout=TIMEOUT) for p in ranks]
    finally:
        for p in ranks:
            p.kill()
    assert codes == [0, 3]
    report = json.loads(out.read_text())
    assert report["error"] == "PeerLost"
    assert report["message"].startswith("another process of the distributed run stopped (")
    assert report["message"].endswith("the last checkpoint is kept: run the same command with resume to continue")


def test_slices_of_every_kind_of_batch_cover_it_once():
    sequences = [torch.randn(n, 2) for n in (3, 5, 4, 7, 2)]
    pairs = PairBatches([torch.tensor([3, 4, 5][:n]) for n in (1, 2, 3, 2, 3)],
                        [torch.tensor([1, 7, 8, 9, 2][: n + 2]) for n in (1, 3, 2, 3, 1)], batch_size=5)  # fmt: skip
    kinds = [
        TensorBatches([torch.randn(7, 4, 2), torch.randn(7)], batch_size=7),
        BucketedBatches(sequences, torch.tensor([0, 1, 0, 1, 1]), batch_size=5),
        StreamBatches(torch.arange(1, 40), streams=5, bptt=6, pad_id=0),
        pairs,
    ]
    for batches in kinds:
        for batch, weight in batches.epoch(None):
            for world in (1, 2, 3, 4):
                parts = [shard(batch, batches.weight, Context(rank, world)) for rank in range(world)]
                assert sum(w for _, w in parts) == weight == batches.weight(batch), type(batches).__name__
                for k, tensor in enumerate(batch):
                    if tensor.dim() == 0:  # the language model's "first chunk" flag goes to every rank whole
                        assert all(part[k] is tensor for part, _ in parts)
                    else:
                        assert torch.equal(torch.cat([part[k] for part, _ in parts]), tensor)


def test_slice_bounds_are_contiguous_and_near_equal():
    assert [slice_bounds(10, Context(r, 3)) for r in range(3)] == [(0, 4), (4, 7), (7, 10)]
    assert [slice_bounds(1, Context(r, 2)) for r in range(2)] == [(0, 1), (1, 1)]


# ---- the command line ------------------------------------------------------------------------------------------
JOB_OPTIONS = {
    "forecast": ["--target", "sales", "--time-col", "month", "--horizon", "3", "--lookback", "24", "--hidden", "8",
                 "--base", "naive2"],  # as the tiny run: trained, it beats its start, so every run refits
    "classify": ["--text-col", "text", "--label-col", "label", "--hidden", "8", "--min-freq", "1"],
    "lm": ["--hidden", "16", "--embedding", "8", "--bptt", "16", "--batch-size", "4"],
    "anomaly": ["--time-col", "t", "--label-col", "anomaly", "--lookback", "20", "--hidden", "8"],
    "seq2seq": ["--level", "word", "--hidden", "8", "--beam", "2"],
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_tiny_data(tmp_path_factory.mktemp("distributed-data"))


def lstmkit(*args, cwd, timeout=TIMEOUT, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lstmkit", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env or {**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip


def train(job, data, out, *extra, cwd) -> subprocess.CompletedProcess:
    return lstmkit("train", job, "--data", data[job], *JOB_OPTIONS[job], "--epochs", "3", "--seed", "0", "--quiet",
                   "--out", out, *extra, cwd=cwd)  # fmt: skip


@pytest.mark.parametrize("job", [job for job in JOB_OPTIONS if job != "forecast"])  # the forecaster: the next test
def test_every_job_repeats_under_two_processes_and_rank_zero_alone_writes(job, data, tmp_path, tiny_runs):
    runs = []
    for out in ("first", "again"):
        done = train(job, data, out, "--nproc", "2", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "error" not in done.stderr.lower(), done.stderr
        runs.append(json.loads((tmp_path / out / "metrics.json").read_text()))
    assert runs[0]["test"] == runs[1]["test"]
    # what rank 0 wrote is what one process writes (the session's one-process run of the job), and no process
    # wrote anything else
    assert sorted(os.listdir(tmp_path / "first")) == sorted(os.listdir(tiny_runs[job]))
    assert sorted(os.listdir(tmp_path)) == ["again", "first"]


def test_two_processes_train_the_forecaster_as_one_does_and_as_torchrun_starts_them(data, tmp_path, tiny_runs):
    """`--nproc 2` and torchrun repeat each other (the previous test's repeat, for the forecaster), match one
    process to the order of the sums, and only rank 0 writes."""
    two = train("forecast", data, "two", "--nproc", "2", cwd=tmp_path)
    one = train("forecast", data, "one", cwd=tmp_path)
    assert two.returncode == one.returncode == 0, two.stderr
    torchrun = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                               "-m", "lstmkit", "train", "forecast", "--data", str(data["forecast"]),
                               *JOB_OPTIONS["forecast"], "--epochs", "3", "--seed", "0", "--quiet", "--out", "torchrun"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    assert torchrun.returncode == 0, torchrun.stderr
    metrics = {out: json.loads((tmp_path / out / "metrics.json").read_text())["test"] for out in ("two", "one", "torchrun")}
    assert metrics["torchrun"] == metrics["two"]
    for out in ("two", "torchrun"):
        assert sorted(os.listdir(tmp_path / out)) == sorted(os.listdir(tiny_runs["forecast"])), out
    assert sorted(os.listdir(tmp_path)) == ["one", "torchrun", "two"]
    for name, value in metrics["one"].items():
        assert metrics["two"][name] == pytest.approx(value, rel=1e-4), name


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def rank_of(pid: int) -> int | None:
    try:
        environ = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return None
    ranks = [int(v.split(b"=", 1)[1]) for v in environ if v.startswith(b"RANK=")]
    return ranks[0] if ranks else None


LONG = ["--epochs", "150", "--patience", "1000", "--checkpoint-every", "0"]


def test_the_rank_named_is_the_one_whose_failure_stopped_the_others():
    """The agent stamps failures to the second: rank 0, stopping within milliseconds of rank 1's death
    (exit code PEER_LOST), is seen in the same second as it, or sometimes the second before."""
    from torch.distributed.elastic.multiprocessing.errors import ProcessFailure

    def failure(rank: int, exitcode: int, second: int) -> ProcessFailure:
        seen = ProcessFailure(local_rank=rank, pid=1000 + rank, exitcode=exitcode, error_file="")
        seen.timestamp = second
        return seen

    killed = -signal.SIGKILL
    assert _first_cause({0: failure(0, PEER_LOST, 100), 1: failure(1, killed, 100)})[0] == 1
    assert _first_cause({0: failure(0, PEER_LOST, 99), 1: failure(1, killed, 100)})[0] == 1
    assert _first_cause({0: failure(0, -signal.SIGTERM, 100), 1: failure(1, killed, 100)})[0] == 1  # the agent's stop
    assert _first_cause({0: failure(0, PEER_LOST, 100), 1: failure(1, PEER_LOST, 101)})[0] == 0  # no other cause
    assert _first_cause({0: failure(0, 2, 100), 1: failure(1, 2, 100)})[1].exitcode == 2  # bad input, both


@pytest.mark.parametrize("codes", [(130, 130), (130, PEER_LOST), (-signal.SIGTERM, 130), (-signal.SIGINT, PEER_LOST)])
def test_ranks_stopped_by_ctrl_c_before_the_agent_saw_it_are_an_interrupted_run(codes, data, monkeypatch, capsys, tmp_path):
    """Ctrl-C signals the launcher and its ranks at once; where the agent sees the ranks end before its own
    signal, the run is still an interrupted one (exit code 130 and its line), not a rank's failure. The
    environment the ranks were given is this process's own again afterwards (a later command here that saw
    it would take itself for a rank)."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure
    from torch.distributed.launcher import api

    from lstmkit import launch
    from lstmkit.cli import main

    failures = {rank: ProcessFailure(local_rank=rank, pid=1000 + rank, exitcode=code, error_file="")
                for rank, code in enumerate(codes)}  # fmt: skip

    def stopped(config, entrypoint):
        def run(*args):
            raise ChildFailedError("lstmkit", failures)

        return run

    monkeypatch.setattr(api, "elastic_launch", stopped)
    monkeypatch.delenv(launch.LAUNCHED_ENV, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    before = dict(os.environ)
    assert main(["train", "forecast", "--data", str(data["forecast"]), *JOB_OPTIONS["forecast"], "--quiet",
                 "--out", str(tmp_path / "run"), "--nproc", "2"]) == 130  # fmt: skip
    assert dict(os.environ) == before
    assert capsys.readouterr().err == "lstmkit: interrupted; continue a training run with --resume\n"  # once


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity masks on this platform")
def test_each_rank_gets_its_share_of_the_cpus_this_process_may_use_not_of_the_machine(monkeypatch):
    """A container or `taskset` that allows 4 of a machine's 64 CPUs: 2 ranks get 2 threads each, not 32."""
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert [rank_threads(n) for n in (1, 2, 3, 4, 8)] == [4, 2, 1, 1, 1]


def test_a_killed_rank_stops_the_run_in_one_line_and_the_checkpoint_resumes(data, tmp_path):
    """Kill -9 rank 1 mid-run: the command ends within a bounded time with one line and exit code 1, the
    checkpoint is whole, and resuming (under 2 processes, or 1) completes. Under 2 it ends exactly as an
    uninterrupted run; under 1 only the order of the sums of the gradients differs."""
    command = [sys.executable, "-m", "lstmkit", "train", "forecast", "--data", str(data["forecast"]),
               *JOB_OPTIONS["forecast"], *LONG, "--seed", "0", "--quiet", "--nproc", "2"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = subprocess.Popen([*command, "--out", "killed"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
    checkpoint = tmp_path / "killed" / ".incomplete" / "checkpoint.pt"
    try:
        deadline = time.monotonic() + TIMEOUT
        while not checkpoint.exists() and time.monotonic() < deadline and launcher.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3)  # a few more epochs
        assert launcher.poll() is None, launcher.communicate()
        victims = [pid for pid in children(launcher.pid) if rank_of(pid) == 1]
        assert len(victims) == 1
        killed_at = time.monotonic()
        os.kill(victims[0], signal.SIGKILL)
        _, stderr = launcher.communicate(timeout=60)
        stopped_in = time.monotonic() - killed_at
    finally:
        launcher.kill()
        for pid in children(launcher.pid):
            os.kill(pid, signal.SIGKILL)
    assert launcher.returncode == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("lstmkit: error: rank 1 of 2 stopped (killed by SIGKILL)"), lines[0]
    assert "--resume" in lines[0] and "killed" in lines[0]
    assert stopped_in < 30
    state = torch.load(checkpoint, weights_only=False)  # whole
    assert 1 <= len(state["result"].history) < 150
    assert not (tmp_path / "killed" / "metrics.json").exists()

    subprocess.run(["cp", "-a", str(tmp_path / "killed"), str(tmp_path / "killed-then-one")], check=True)
    resumed = subprocess.run([*command, "--out", "killed", "--resume"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=TIMEOUT)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    one = [c for c in command if c not in ("--nproc", "2")]
    resumed_one = subprocess.run([*one, "--out", "killed-then-one", "--resume"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=TIMEOUT)  # fmt: skip
    assert resumed_one.returncode == 0, resumed_one.stderr
    whole = subprocess.run([*command, "--out", "whole"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    test = {out: json.loads((tmp_path / out / "metrics.json").read_text())["test"]
            for out in ("killed", "killed-then-one", "whole")}  # fmt: skip
    assert test["killed"] == test["whole"]
    for name, value in test["whole"].items():
        assert test["killed-then-one"][name] == pytest.approx(value, rel=1e-4), name


def test_a_port_in_use_is_one_line_and_exit_code_2(data, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = rank_env(0, 2, port, LSTMKIT_DIST_TIMEOUT="5")
        done = lstmkit("train", "forecast", "--data", data["forecast"], *JOB_OPTIONS["forecast"], "--out", "run",
                       cwd=tmp_path, env=env)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(f"lstmkit: error: cannot join the distributed run as rank 0 of 2 at 127.0.0.1:{port}: ")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "run").exists()


def test_an_unreachable_rendezvous_is_one_line_and_exit_code_2(data, tmp_path):
    port = free_port()  # nobody listens there
    env = rank_env(1, 2, port, LSTMKIT_DIST_TIMEOUT="3")
    started = time.monotonic()
    done = lstmkit("train", "forecast", "--data", data["forecast"], *JOB_OPTIONS["forecast"], "--out", "run",
                   cwd=tmp_path, env=env)  # fmt: skip
    assert done.returncode == 2
    assert time.monotonic() - started < 60
    # rank 1 reports its own failure to join: rank 0 is not there to speak for it
    assert done.stderr.startswith(f"lstmkit: error: cannot join the distributed run as rank 1 of 2 at 127.0.0.1:{port}: ")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "run").exists()


def test_bad_input_under_two_processes_is_rank_zeros_one_line(data, tmp_path):
    done = lstmkit("train", "forecast", "--data", data["forecast"], "--target", "nosuch", "--out", "run", "--nproc", "2",
                   cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == f"lstmkit: error: {data['forecast']}: no column 'nosuch'. Columns: month, sales\n"
    assert not (tmp_path / "run").exists()
    zero = lstmkit("train", "forecast", "--data", data["forecast"], "--target", "sales", "--out", "run", "--nproc", "0",
                   cwd=tmp_path)  # fmt: skip
    assert zero.returncode == 2
    assert zero.stderr == "lstmkit: error: Invalid value for '--nproc': 0 is not in the range x>=1.\n"


def test_ctrl_c_stops_every_process_in_one_line_and_the_run_resumes(data, tmp_path):
    """Ctrl-C reaches the launcher and both ranks (the terminal signals its whole process group): exit code
    130, one line, no process left, and the checkpoint resumes."""
    command = [sys.executable, "-m", "lstmkit", "train", "forecast", "--data", str(data["forecast"]),
               *JOB_OPTIONS["forecast"], *LONG, "--seed", "0", "--quiet", "--nproc", "2", "--out", "run"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)  # fmt: skip
    checkpoint = tmp_path / "run" / ".incomplete" / "checkpoint.pt"
    try:
        deadline = time.monotonic() + TIMEOUT
        while not checkpoint.exists() and time.monotonic() < deadline and launcher.poll() is None:
            time.sleep(0.05)
        ranks = children(launcher.pid)
        os.killpg(launcher.pid, signal.SIGINT)
        _, stderr = launcher.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(launcher.pid, signal.SIGKILL)
    assert launcher.returncode == 130, stderr
    assert stderr == "lstmkit: interrupted; continue a training run with --resume\n"
    assert len(ranks) == 2 and not [pid for pid in ranks if Path(f"/proc/{pid}").exists()]
    resumed = subprocess.run([*command, "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=TIMEOUT)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "run" / "metrics.json").exists()


def test_more_processes_than_gpus_on_a_node_is_one_clear_error(monkeypatch):
    from lstmkit.errors import RendezvousError
    from lstmkit.train import distributed

    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(RendezvousError, match=r"^rank 3 is local rank 1 of its node, which has 1 GPU\(s\): start at most "
                                              r"one process per GPU on each node$"):  # fmt: skip
        distributed.context("cuda")
