"""A Ctrl-C is never lost: one whose KeyboardInterrupt Python swallows (in a weakref's callback, as the
import system runs one at the end of every import) still stops training at its next step."""

import gc
import signal
import sys
import weakref

import pytest

from lstmkit import interrupt


class _Collectable:
    pass


@pytest.fixture(autouse=True)
def _python_handles_sigint():
    """Python's own SIGINT handler, as in a terminal: a shell's background job (CI) starts with it ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _swallowed_interrupt() -> None:
    """A SIGINT handled inside a weakref's callback, where Python ignores the KeyboardInterrupt it raises."""
    swallowed, hook = [], sys.unraisablehook
    sys.unraisablehook = lambda unraisable: swallowed.append(unraisable.exc_type)  # where Python reports it
    try:
        thing = _Collectable()
        keep = weakref.ref(thing, lambda ref: signal.raise_signal(signal.SIGINT))
        del thing
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert keep() is None and swallowed == [KeyboardInterrupt]


def test_a_swallowed_interrupt_is_raised_by_the_next_check():
    with interrupt.recorded():
        interrupt.check()  # nothing pending
        _swallowed_interrupt()  # no KeyboardInterrupt arrives here
        with pytest.raises(KeyboardInterrupt):
            interrupt.check()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    interrupt.check()  # outside: forgotten


def test_training_stops_at_its_next_step_for_a_swallowed_interrupt():
    import torch

    from lstmkit.train import TrainConfig, fit

    model = torch.nn.Linear(2, 1)
    x, y = torch.randn(16, 2), torch.randn(16, 1)
    loss = lambda net, batch: torch.nn.functional.mse_loss(net(batch[0]), batch[1])  # noqa: E731
    config = TrainConfig(epochs=3, batch_size=4, threads=1)
    with interrupt.recorded():
        _swallowed_interrupt()
        with pytest.raises(KeyboardInterrupt):
            fit(model, loss, (x, y), None, config)


def test_a_callers_own_handler_is_left_in_place():
    def mine(signum, frame):
        raise RuntimeError("the caller's")

    previous = signal.signal(signal.SIGINT, mine)
    try:
        with interrupt.recorded():
            assert signal.getsignal(signal.SIGINT) is mine
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, previous)
