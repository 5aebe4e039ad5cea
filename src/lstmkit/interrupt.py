"""Ctrl-C that is never lost.

Python raises KeyboardInterrupt wherever the main thread is when it handles the signal. Where that is a
callback whose exceptions Python ignores, the interrupt is printed as "Exception ignored in: ..." and
lost. A weakref's callback is one such place, and the import system runs one as each import finishes (it
drops the module's lock). A Ctrl-C during the imports at the start of training then left the run training
on. While a command runs (`recorded`), lstmkit's handler also records the interrupt, and the training loop
raises it again at its next step (`check`).
"""

from __future__ import annotations

import contextlib
import signal
import threading

_pending = False  # a SIGINT arrived while `recorded`


def _record_and_raise(signum, frame):
    global _pending
    _pending = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def recorded():
    """While inside, a SIGINT is recorded for `check` as well as raised, where Python's own handler is the
    one installed (not where the signal is ignored, as in a shell's background job, or has a handler of the
    caller's) and this is the main thread."""
    global _pending
    _pending = False
    on_main_thread = threading.current_thread() is threading.main_thread()
    if not on_main_thread or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    signal.signal(signal.SIGINT, _record_and_raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _pending = False


def check() -> None:
    """Raise KeyboardInterrupt if a SIGINT arrived, even one whose KeyboardInterrupt was lost."""
    if _pending:
        raise KeyboardInterrupt
