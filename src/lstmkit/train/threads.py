"""How many threads each training step runs on: `ThreadGovernor`.

On a quiet machine two threads train faster than one, but beside one other busy process a 2-thread step is
1.8-3.3x slower in the median than a 1-thread step, and single steps stall up to 40x: an OpenMP thread waits
for a sibling the scheduler has put aside. So with no `threads` setting the governor chooses the count per
step from two things it measures:

- the work: in the first steps on a quiet machine it times steps on one thread and on all of them
  (alternating, `CALIBRATION_STEPS` each, after `WARMUP_STEPS`), and keeps all of them only where they are
  faster; a small model may run faster on one;
- the machine, right now: every `CHECK_EVERY` seconds, the CPU time that other processes used on this
  process's CPUs (`CpuLoad`, from /proc/stat, less this process's own CPU time). With `busy` cores' worth in
  use by others, it runs on at most `cpus - ceil(busy - SPARE)` threads, and never fewer than one. (Others
  get less than they ask for while lstmkit competes with them: a busy loop beside two threads shows as about
  two thirds of a core, so any share above SPARE counts as a whole core taken.)

It costs one read of /proc/stat every quarter of a second, and it does not change a run's numbers: lstmkit's
kernel splits a step's rows in blocks fixed by the batch size and the machine, never by the thread count, so
a step computes bit for bit the same on 1 or 16 threads, and inside the training loop vanilla layers train in
that kernel rather than in PyTorch's, whose gradients follow the thread count (`nn.functional.
thread_invariant`). So the same seed repeats a run exactly whatever the load did (tested). `threads=N` fixes the count. Where
/proc/stat cannot be read (not Linux), only the work decides.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch

CHECK_EVERY = 0.25  # seconds between readings of the machine's load
FIRST_READING = 0.1  # seconds the first reading covers at least: /proc/stat counts in 10 ms ticks
WARMUP_STEPS = 2  # steps before calibration: the first ones pay for allocation and kernel set-up
CALIBRATION_STEPS = 4  # timed steps on each thread count
SPARE = 0.25  # cores' worth another process may use before a thread is given up for it


def _proc_stat() -> Optional[str]:
    try:
        return Path("/proc/stat").read_text()
    except OSError:
        return None


class CpuLoad:
    """How many cores' worth of CPU time other processes used on this process's CPUs between two readings.

    From the per-CPU lines of /proc/stat (user, nice, system, irq, softirq and steal count as busy; idle and
    iowait as free), less this process's own CPU time (all its threads). `read` is the source of the
    /proc/stat text (None where there is none), `clock` the wall clock, `own` this process's CPU seconds and
    `cpus` the CPUs counted (default: those this process may run on).
    """

    def __init__(
        self,
        read: Callable[[], Optional[str]] = _proc_stat,
        clock: Callable[[], float] = time.monotonic,
        own: Callable[[], float] = time.process_time,
        cpus: Optional[Sequence[int]] = None,
    ) -> None:
        self._read, self._clock, self._own = read, clock, own
        if cpus is None:
            cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
        self.cpus = list(cpus)
        self._last = self._sample()

    @property
    def available(self) -> bool:
        return self._last is not None

    def age(self) -> float:
        """Seconds since the last reading."""
        return self._clock() - self._last[0] if self._last is not None else math.inf

    def others_busy(self) -> Optional[float]:
        """Cores' worth used by other processes since the last call (or since creation); None where unknown."""
        sample = self._sample()
        if sample is None or self._last is None:
            return None
        (wall0, busy0, total0, own0, _), (wall1, busy1, total1, own1, cpus) = self._last, sample
        self._last = sample
        if total1 <= total0 or wall1 <= wall0:
            return None
        busy_cores = (busy1 - busy0) / (total1 - total0) * cpus
        return max(0.0, busy_cores - (own1 - own0) / (wall1 - wall0))

    def _sample(self) -> Optional[tuple[float, int, int, float, int]]:
        """(wall clock, busy ticks, all ticks, own CPU seconds, CPUs counted), or None."""
        text = self._read()
        if not text:
            return None
        busy = total = cpus = 0
        for line in text.splitlines():
            name, *fields = line.split()
            if not name.startswith("cpu") or name == "cpu" or len(fields) < 5:
                continue
            if int(name[3:]) not in self.cpus:
                continue
            ticks = [int(v) for v in fields[:8]]
            idle = ticks[3] + ticks[4]  # idle, iowait
            busy += sum(ticks) - idle
            total += sum(ticks)
            cpus += 1
        return (self._clock(), busy, total, self._own(), cpus) if cpus else None


# PyTorch's CPU matrix products of a few rows give other sums on two threads than on one (a forecaster's head and
# its gradients, batches of 5-7 and 9-11 rows, measured with hidden 64 and 128): a refit's last partial batch of 11
# windows made the same seed's forecaster differ on 1 and 2 threads (PromoData, test MASE 0.818 against 0.848)
ONE_THREAD_ROWS = 12


class ThreadGovernor:
    """Sets torch's thread count before each training step (see the module's docstring).

    threads: a fixed count for the whole run, or None to choose per step. `close()` gives torch back the
    count it had.
    """

    def __init__(self, threads: Optional[int] = None, load: Optional[CpuLoad] = None) -> None:
        self.initial = torch.get_num_threads()
        self.fixed = threads
        self.most = threads or self.initial
        if threads is not None:
            torch.set_num_threads(threads)
            self.load = None
        else:
            self.load = (load or _shared_load()) if self.most > 1 else None
        self.limit = self.most  # what the machine can give now
        self.quiet_best: Optional[int] = None  # what the work runs fastest on, once measured
        self.times: dict[int, list[float]] = {1: [], self.most: []}
        self.steps = 0
        self._small = False  # the step set up is of fewer than ONE_THREAD_ROWS rows
        self._read = False  # the first reading of the machine's load was taken
        self._current = torch.get_num_threads()

    @property
    def automatic(self) -> bool:
        return self.fixed is None and self.most > 1

    def before_step(self, rows: Optional[int] = None) -> int:
        """Set and return the thread count of the next step; a step of fewer than `ONE_THREAD_ROWS` rows runs on
        one thread, so that its numbers do not depend on the count."""
        self._small = rows is not None and rows < ONE_THREAD_ROWS
        if not self.automatic:
            n = 1 if self._small else self.most
        else:
            if self.load is not None and self.load.available and self.load.age() >= CHECK_EVERY:
                self._update_limit()
            elif self.load is not None and not self._read:  # once: a run of small steps counts no step
                self._first_reading()
            n = 1 if self._small else min(self.limit, self._work_choice())
        if n != self._current:
            torch.set_num_threads(n)
            self._current = n
        return n

    def after_step(self, seconds: float) -> None:
        """Record how long the step set up by `before_step` took (a small step's is no measure of the work)."""
        if self._small:
            return
        self.steps += 1
        calibrating = self.automatic and self.quiet_best is None and self.steps > WARMUP_STEPS
        if calibrating and self.limit >= self.most:  # only a quiet machine tells what the work runs fastest on
            self.times[self._current].append(seconds)
            if all(len(t) >= CALIBRATION_STEPS for t in self.times.values()):
                one, most = (statistics.median(self.times[n]) for n in (1, self.most))
                self.quiet_best = 1 if one <= most else self.most

    def close(self) -> None:
        if torch.get_num_threads() != self.initial:
            torch.set_num_threads(self.initial)
        self._current = self.initial

    def _work_choice(self) -> int:
        if self.quiet_best is not None:
            return self.quiet_best
        if self.steps < WARMUP_STEPS or self.limit < self.most:
            return self.most
        ones, mosts = len(self.times[1]), len(self.times[self.most])
        return 1 if ones < mosts else self.most  # alternate while calibrating

    def _first_reading(self) -> None:
        """The first step's limit, from a reading that covers at least FIRST_READING seconds."""
        wait = FIRST_READING - self.load.age()
        if wait > 0:
            time.sleep(wait)
        self._update_limit()
        self._read = True

    def _update_limit(self) -> None:
        busy = self.load.others_busy()
        if busy is None:
            return
        self.limit = max(1, min(self.most, len(self.load.cpus) - math.ceil(busy - SPARE)))


_LOAD: Optional[CpuLoad] = None


def _shared_load() -> CpuLoad:
    """One `CpuLoad` for the process: a run's ensemble members and folds continue its readings."""
    global _LOAD
    if _LOAD is None:
        _LOAD = CpuLoad()
    return _LOAD
