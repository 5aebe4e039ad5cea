"""`lstmkit serve` for a classifier: texts, or numeric sequences of any lengths -> a label and the class
probabilities of each. A request's sequences are items: requests arriving together are classified in one
batch (bucketed by length, as `predict` does)."""

from __future__ import annotations

from typing import Annotated, Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...data import LabelledSequences
from ...errors import FieldError
from ...serve.fields import Either, Number

SUMMARY = "Classify texts or numeric sequences: a label and the class probabilities of each"

# a step: a number (one feature), or one number per feature
Step = Annotated[Union[Number, list[Number]], Either("Input should be a number, or a list of one number per feature")]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: Optional[list[str]] = Field(None, description="A text model's texts.")
    sequences: Optional[list[list[Step]]] = Field(
        None, description="A numeric model's sequences: each a list of steps, a step a number (one feature) or a "
                          "list of one number per feature.")  # fmt: skip


def example(estimator) -> dict:
    """A request this model answers: a text for a text model, else one sequence of 16 steps with as many
    numbers a step as the model reads."""
    if estimator.kind_ == "text":
        return {"texts": ["an example text to classify"]}
    wave = [round(float(np.sin(t / 2)), 3) for t in range(16)]
    features = estimator.n_features_
    return {"sequences": [wave if features == 1 else [[v] * features for v in wave]]}


def items(estimator, request: Request, limits) -> list:
    """The request's texts or sequences (T, F), checked against the model and the limits."""
    text = estimator.kind_ == "text"
    given, wrong = ("texts", "sequences") if text else ("sequences", "texts")
    values = getattr(request, given)
    if getattr(request, wrong) is not None or values is None:
        raise FieldError(given, f"this model classifies {'texts' if text else 'numeric sequences'}: send `{given}`")
    if not values or len(values) > limits.max_items:
        raise FieldError(given, f"give between 1 and {limits.max_items} items, got {len(values)}")
    if text:
        for k, value in enumerate(values):
            if not value.strip():
                raise FieldError(f"texts.{k}", "is empty")
            if len(value) > limits.max_length * 16:
                raise FieldError(f"texts.{k}", f"is longer than {limits.max_length * 16} characters")
        return [value.strip() for value in values]
    return [_sequence(k, s, estimator.n_features_, limits.max_length) for k, s in enumerate(values)]


def _sequence(k: int, steps: list, features: int, max_length: int) -> np.ndarray:
    if not steps or len(steps) > max_length:
        raise FieldError(f"sequences.{k}", f"needs between 1 and {max_length} steps, got {len(steps)}")
    try:  # the usual request in one call: numbers (one feature), or steps of `features` numbers each
        with np.errstate(over="ignore"):  # beyond float32: infinite, and refused below
            array = np.asarray(steps, dtype=np.float32)
        array = array[:, None] if array.ndim == 1 else array
    except ValueError:  # numbers beside lists, or lists of different lengths
        array = None
    if array is None or array.shape[1] != features:  # find the step at fault, or read a mix of 3.0 and [3.0]
        rows = [[step] if isinstance(step, float) else step for step in steps]
        for t, row in enumerate(rows):
            if len(row) != features:
                raise FieldError(f"sequences.{k}.{t}", f"has {len(row)} numbers; the model reads {features} a step")
        with np.errstate(over="ignore"):
            array = np.asarray(rows, dtype=np.float32)
    if not np.isfinite(array).all():
        raise FieldError(f"sequences.{k}", "holds numbers beyond float32's range")
    return array


def run(estimator, batch: list) -> list:
    kind = "text" if estimator.kind_ == "text" else "numeric"
    proba = estimator._proba(estimator._encode(LabelledSequences(batch, None, "the request", kind)),
                             batch if kind == "text" else None)  # (N, K); texts: mixed with TF-IDF's, as predict does  # fmt: skip
    return list(proba)


def respond(estimator, request: Request, results: list) -> dict:
    classes = [str(c) for c in estimator.classes_]
    return {"predictions": [{"label": classes[int(p.argmax())], "probabilities": dict(zip(classes, p.tolist()))}
                            for p in results]}  # fmt: skip


def onnx(estimator, net) -> None:
    """The classifier's network replaced by ONNX Runtime (`net`: the export's inputs in order, its outputs)."""
    net.outputs = ["logits"]
    estimator.model_ = net
