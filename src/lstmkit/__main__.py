"""`python -m lstmkit` and the `lstmkit` console script."""

import atexit
import gc
import os
import sys
import threading

from .cli import main


def run() -> None:
    leave(main())


def leave(code) -> None:
    """End the process with exit code `code` once the command is done.

    The interpreter's finalization after a command that imported torch takes 0.2-0.9 s on two cores: cycle
    collections over every object torch, pandas and the command made, then the teardown of every module
    (torch's op libraries deregister one by one) and C++'s static destructors. None of it writes anything.
    What a normal exit does that matters is done here: the exit handlers (`atexit`: helper processes stopped,
    temporary folders removed, logs flushed) and the flush of Python's and C's output buffers; then the
    process ends at once (`os._exit`). Where another Python thread still runs, which a normal exit would wait
    for, or the code is not a number, it exits normally, with the cycle collections left out (`gc.freeze`)."""
    gc.freeze()
    if not isinstance(code, (int, type(None))) or threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a reader that went away (a closed pipe): the normal exit says so
        sys.exit(code)
    _flush_c_streams()
    os._exit(code or 0)


def _flush_c_streams() -> None:
    """fflush(NULL): what C code (a library's printf) left in the C library's buffers, as exit() would."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library to load by name (Windows): nothing buffered there
        pass


if __name__ == "__main__":
    run()
