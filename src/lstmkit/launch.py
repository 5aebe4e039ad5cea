"""`lstmkit train ... --nproc N`: the same command in N processes on this machine, started by torch's elastic
launcher (what `torchrun --standalone --nproc-per-node N` runs), each a rank of one data-parallel run
(`train/distributed.py`).

The launcher watches the ranks: when one fails, torch's agent stops the others, and this reports the first
failure in one line. A rank's own error for bad input (exit code 2) is already printed by rank 0, so the
launcher then only passes the code on.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import uuid
from pathlib import Path

LAUNCHED_ENV = "LSTMKIT_LAUNCHED"  # set for the ranks `--nproc` starts: the launcher, not they, reports a lost rank
PEER_LOST = 1  # the exit code of a run stopped because one of its processes did
INTERRUPTED = 130  # the exit code of a command ended by Ctrl-C (128 + SIGINT), every lstmkit command's
INTERRUPTED_LINE = "lstmkit: interrupted; continue a training run with --resume"


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the platform has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def rank_threads(nproc: int) -> int:
    """Each rank's share of the CPUs this process may run on (not of the machine's: a container or `taskset`
    may allow fewer), at least 1; set as OMP_NUM_THREADS, as torchrun does, and the thread governor works
    within it."""
    return max(1, usable_cpus() // nproc)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(nproc: int, args: list[str], out: Path) -> int:
    """Run `python -m lstmkit *args` as `nproc` ranks on this machine; the exit code of the run."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(
        min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=uuid.uuid4().hex, rdzv_backend="c10d",
        rdzv_endpoint=f"127.0.0.1:{free_port()}", max_restarts=0, monitor_interval=0.2,
    )  # fmt: skip
    # the ranks' environment, this process's own again once they are done (a Python caller goes on)
    saved = {name: os.environ.get(name) for name in (LAUNCHED_ENV, "OMP_NUM_THREADS")}
    os.environ[LAUNCHED_ENV] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", str(rank_threads(nproc)))
    # the agent's own log lines (its modules' loggers set their own levels); a failure is reported below in one line
    quiet = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
             if name.startswith(("torch.distributed.elastic", "torch.distributed.launcher"))]  # fmt: skip
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        elastic_launch(config, sys.executable)("-m", "lstmkit", *args)
    except (SignalException, KeyboardInterrupt):  # Ctrl-C (or a SIGTERM): the agent has stopped the ranks
        return INTERRUPTED  # the command's line is the command line's (`cli.main`), written once
    except ChildFailedError as error:
        rank, failure = _first_cause(error.failures)
        if failure.exitcode == 2:  # bad input: rank 0 said why
            return 2
        if failure.exitcode in (INTERRUPTED, -signal.SIGINT):  # Ctrl-C reached the ranks before the agent saw it
            return INTERRUPTED
        print(f"lstmkit: error: rank {rank} of {nproc} stopped ({_how(failure.exitcode)}), so the run stopped; the "
              f"last checkpoint in {out} is kept: run the same command with --resume to continue",
              file=sys.stderr)  # fmt: skip
        return PEER_LOST
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return 0


def _first_cause(failures: dict) -> tuple:
    """The rank whose failure stopped the run, and its failure: where there is one, a failure that is neither
    a lost peer's (exit code PEER_LOST, which another rank's failure causes) nor the agent's own SIGTERM;
    then the earliest (the agent stamps each failure with the second it saw it); then the lowest rank.
    torch's `get_first_failure` takes the earliest and then the lowest rank, and so named rank 0, which
    stops within milliseconds of rank 1's death and is seen in the same second, for it."""
    stopped = (PEER_LOST, -signal.SIGTERM)  # a lost peer, or the agent's own stop of the ranks left
    return min(failures.items(), key=lambda item: (item[1].exitcode in stopped, item[1].timestamp, item[0]))


def _how(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def without_nproc(argv: list[str]) -> list[str]:
    """The command line without its `--nproc N` (or `--nproc=N`)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            kept.append(arg)
    return kept
