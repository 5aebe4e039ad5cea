"""`lstmkit demo classify`: the temporal-order task of Hochreiter & Schmidhuber (1997, experiment 6a)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ...data import LabelledSequences
from ...rundir import clear_interrupted_demo
from ..run import train_run
from .estimator import SequenceClassifier

SYMBOLS = "EBabcdXY"  # start, trigger (end), four distractors, the two relevant symbols
DISTRACTORS = "abcd"
LENGTHS = (100, 110)  # sequence length, both ends included
FIRST_AT, SECOND_AT = (10, 20), (50, 60)  # positions (from 0) of the relevant symbols, both ends included


def temporal_order_example(rng: np.random.Generator, *, length: Optional[int] = None,
                           positions: Optional[tuple[int, int]] = None,
                           relevant: Optional[tuple[str, str]] = None) -> tuple[str, str]:  # fmt: skip
    """One sequence of the temporal-order task as a string of symbols, and its class.

    The sequence starts with E, ends with B, holds X or Y at positions t1 in [10, 20] and t2 in [50, 60],
    and random distractors a-d elsewhere; its class is the order of the two relevant symbols: XX, XY, YX or
    YY (the paper's Q, R, S, U). Any of length, positions and relevant may be placed by hand."""
    length = int(rng.integers(LENGTHS[0], LENGTHS[1] + 1)) if length is None else length
    if positions is None:
        positions = (int(rng.integers(FIRST_AT[0], FIRST_AT[1] + 1)), int(rng.integers(SECOND_AT[0], SECOND_AT[1] + 1)))
    relevant = tuple(rng.choice(["X", "Y"], size=2)) if relevant is None else relevant
    symbols = ["E"] + list(rng.choice(list(DISTRACTORS), size=length - 2)) + ["B"]
    for position, symbol in zip(positions, relevant):
        symbols[position] = symbol
    return "".join(symbols), "".join(relevant)


def one_hot(symbols: str) -> np.ndarray:
    """A string of SYMBOLS -> (T, 8) float32, one 1 a row: the paper's local input representation."""
    return np.eye(len(SYMBOLS), dtype=np.float32)[[SYMBOLS.index(s) for s in symbols]]


def temporal_order_data(n: int, seed: int = 0) -> LabelledSequences:
    """n sequences of the temporal-order task as one-hot numeric sequences (T_i, 8), T_i in [100, 110].

    Numeric one-hot rather than text tokens: it is the task exactly as published (locally represented
    inputs), and it runs the numeric path (.npz / .ts data: scaling, unequal lengths) that the text demos
    of the other jobs do not."""
    rng = np.random.default_rng(seed)
    examples = [temporal_order_example(rng) for _ in range(n)]
    description = f"temporal-order task (Hochreiter & Schmidhuber 1997, experiment 6a; {n} sequences, seed {seed})"
    return LabelledSequences([one_hot(s) for s, _ in examples], [label for _, label in examples], description, "numeric")


DEMO_SEQUENCES = 2000  # 1400 to train on, 300 to validate, 300 to test
# otherwise the defaults (max pooling, Adam at 3e-3, batch 32); the plain LSTM, whose own task this is: an order
# of two symbols 30 to 50 steps apart, what a recurrent state carries and a convolution's window does not
DEMO_SETTINGS = dict(hidden=32, epochs=12, arch="lstm")


def demo_classifier(seed: int = 0) -> SequenceClassifier:
    """The demo's classifier: the default one, smaller and with fewer epochs, so it learns the task in about
    15 seconds on a laptop CPU (with max pooling it is solved within 5 epochs; through the last state alone,
    2000 sequences are too few and it needs three times as many)."""
    return SequenceClassifier(seed=seed, **DEMO_SETTINGS)


def demo(out, seed: int = 0, reporter=None) -> dict:
    """Train on the temporal-order task into run directory `out`; returns metrics.json's content."""
    clear_interrupted_demo(out)
    return train_run(demo_classifier(seed), temporal_order_data(DEMO_SEQUENCES, seed), out, reporter=reporter)
