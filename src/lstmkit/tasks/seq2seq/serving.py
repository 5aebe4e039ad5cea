"""`lstmkit serve` for a sequence-to-sequence model: source texts -> their outputs, as `lstmkit translate`
writes them. Sources of requests arriving together are decoded in one batch."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from ...errors import FieldError

SUMMARY = "Translate, summarise or answer: one output text per source"


def example(estimator) -> dict:
    """A request this model reads: the shortest of its first hundred training sources."""
    return {"sources": [min(estimator.train_pairs_.sources[:100], key=len)], "beam": 1}


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[str] = Field(description="The source texts.")
    beam: Optional[int] = Field(None, ge=1, le=32, description="Beam width (default the model's; 1: greedy).")


def items(estimator, request: Request, limits) -> list:
    if not request.sources or len(request.sources) > limits.max_items:
        raise FieldError("sources", f"give between 1 and {limits.max_items} sources, got {len(request.sources)}")
    for k, source in enumerate(request.sources):
        if not source.strip():
            raise FieldError(f"sources.{k}", "is empty")
        if len(source) > limits.max_length * 16:
            raise FieldError(f"sources.{k}", f"is longer than {limits.max_length * 16} characters")
    return [(source, request.beam) for source in request.sources]


def run(estimator, batch: list) -> list:
    """One `translate` call for each beam width among the batch's items, outputs back in the items' order."""
    outputs: list = [None] * len(batch)
    for beam in {beam for _, beam in batch}:
        where = [k for k, (_, b) in enumerate(batch) if b == beam]
        for k, text in zip(where, estimator.translate([batch[k][0] for k in where], beam=beam)):
            outputs[k] = text
    return outputs


def respond(estimator, request: Request, results: list) -> dict:
    return {"outputs": results}


def onnx(estimator, nets: dict) -> None:
    """The encoder and the decoder step on ONNX Runtime; greedy and beam search run as before."""
    from .net import OnnxSeq2Seq

    estimator.model_ = OnnxSeq2Seq(nets["encoder"], nets["decoder"], estimator.model_.copies, estimator.model_.target_vocab)
