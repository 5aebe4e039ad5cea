"""Helper processes: fresh interpreters (`python -m lstmkit.helper`, one thread each) that import what a
command will need at its end while the command does its own work, then compute the calls it sends them.

A command's slowest imports can be of libraries it needs only late: statsforecast (2-3 s) for the forecast
baselines, matplotlib (half a second, and its fonts on the first figure) for the report. A helper started
first thing (`start`) imports them on another core while the command imports torch and trains. The command
then sends it calls (`Helper.submit(function, *args)`: a module-level function and picklable arguments) and
reads their results in the order sent (`Helper.result()`); between calls a helper waits in this process's
pool (`give_back`) for the next caller that needs what it imported (`take`).

Helpers are fresh interpreters, not forks: nothing of the caller's threads is inherited, and the caller's own
script is never imported again (multiprocessing's spawn would re-run a script without a `__main__` guard). A
helper ends when its input closes (the caller exiting, or killed) or after `IDLE_EXIT` seconds without a
call (an idle helper of a long Python session); the pool's helpers are stopped at exit. A call that fails,
or a helper that ended, raises `HelperFailed`, and the caller computes in its own process. Calls and
replies are pickles, each after its length in 8 bytes.
"""

from __future__ import annotations

import atexit
import importlib
import os
import pickle
import select
import subprocess
import sys
from collections.abc import Callable, Sequence

IDLE_EXIT = 300.0  # seconds a helper waits for a call before it ends
IDLE_ENV = "LSTMKIT_HELPER_IDLE"  # how the helper is told
THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")}


class HelperFailed(Exception):
    """A helper's call raised, or the helper ended: the caller computes in its own process."""


class Helper:
    """One helper process. `preload`: what it imports as it starts, in order, each a module ("pkg.mod") or a
    function to call once ("pkg.mod:function", a warm-up); a call sent before the preloading is done is
    served first. `idle`: the seconds it waits for a call before it ends."""

    def __init__(self, preload: Sequence[str] = (), idle: float = IDLE_EXIT):
        self.preload = tuple(preload)
        self._sent = 0
        env = {**os.environ, **THREADS, IDLE_ENV: str(idle)}
        self._process = subprocess.Popen([sys.executable, "-m", "lstmkit.helper", *self.preload], env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip

    def loaded(self, name: str) -> bool:
        """Whether `name` (a module or a warm-up) is among what it preloads."""
        return any(item == name or item.split(":")[0] == name for item in self.preload)

    def submit(self, function: Callable, *args) -> None:
        """Send `function(*args)`; its result comes from `result()`, in the order sent."""
        self._sent += 1
        try:
            _send(self._process.stdin, (function, args))
        except OSError:  # the helper has ended: `result` says so
            pass

    def result(self):
        """The result of the earliest call not yet read; `HelperFailed` where it raised or the helper ended
        (the helper is then stopped)."""
        self._sent -= 1
        try:
            ok, value = _receive(self._process.stdout.read)
        except Exception:  # noqa: BLE001 - EOF, a torn pickle, a closed pipe: the helper has ended
            self.close()
            raise HelperFailed("the helper process ended") from None
        if not ok:
            raise HelperFailed(value)
        return value

    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        if self.alive():
            self._process.kill()
        self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            try:
                pipe.close()
            except OSError:  # a write to a helper that had ended was still buffered
                pass


_pool: list[Helper] = []  # idle helpers of this process, for `take`; stopped at exit


def start(preload: Sequence[str]) -> None:
    """Start a helper that preloads `preload`, into the pool, unless an idle one there already does."""
    if not any(all(helper.loaded(name) for name in preload) for helper in _pool):
        _pool.append(Helper(preload))


def take(name: str) -> Helper | None:
    """An idle helper that preloads `name`, taken out of the pool; None where there is none."""
    for helper in list(_pool):
        if helper.loaded(name):
            _pool.remove(helper)
            if helper.alive():
                return helper
            helper.close()  # it ended while idle (`IDLE_EXIT`)
    return None


def give_back(helper: Helper) -> None:
    """Put a helper with no call in flight back into the pool for the next `take`; one that ended is dropped."""
    if helper.alive() and helper._sent == 0:
        _pool.append(helper)
    else:
        helper.close()


@atexit.register
def _close_pool() -> None:
    while _pool:
        _pool.pop().close()


def _send(pipe, value) -> None:
    data = pickle.dumps(value)
    pipe.write(len(data).to_bytes(8, "little") + data)
    pipe.flush()


def _receive(read: Callable[[int], bytes]):
    """The next value `_send` wrote, through `read(n)`; EOFError where the writer closed its end."""
    size = int.from_bytes(_exactly(read, 8), "little")
    return pickle.loads(_exactly(read, size))


def _exactly(read: Callable[[int], bytes], n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = read(n - len(data))
        if not more:
            raise EOFError("the other end closed")
        data += more
    return data


# ---- the helper's side -------------------------------------------------------------------------------
def _serve(preload: Sequence[str], idle: float) -> None:
    """Preload, serving any call that arrives meanwhile first; then serve calls until the input closes or
    none comes for `idle` seconds. Each reply is (True, result) or (False, the error's one line)."""
    out = os.fdopen(os.dup(1), "wb")  # the replies' channel; anything else printed goes to stderr
    os.dup2(2, 1)
    calls = sys.stdin.fileno()  # read unbuffered, so that `select` sees every call not yet read
    for item in preload:
        while _waiting(calls, 0):
            if not _answer(calls, out):
                return
        module, _, function = item.partition(":")
        try:
            loaded = importlib.import_module(module)
            if function:
                getattr(loaded, function)()
        except Exception:  # noqa: BLE001 - a call that needs it will fail, and its caller computes itself
            pass
    while _waiting(calls, idle) and _answer(calls, out):
        pass


def _waiting(calls: int, timeout: float) -> bool:
    """Whether a call (or the input's end) waits to be read, within `timeout` seconds. Where a pipe cannot be
    polled (Windows), no call is seen while preloading, and an idle helper waits for its input to close."""
    if os.name == "nt":
        return timeout > 0
    return bool(select.select([calls], [], [], timeout)[0])


def _answer(calls: int, out) -> bool:
    """Read one call and write its reply; False once the input has closed."""
    try:
        function, args = _receive(lambda n: os.read(calls, n))
    except EOFError:
        return False
    try:
        reply = (True, function(*args))
    except Exception as error:  # noqa: BLE001 - any failure goes back to the caller as one line
        reply = (False, f"{type(error).__name__}: {error}")
    _send(out, reply)
    return True


if __name__ == "__main__":  # a Helper: python -m lstmkit.helper [PRELOAD ...]
    _serve(sys.argv[1:], float(os.environ.get(IDLE_ENV, IDLE_EXIT)))
