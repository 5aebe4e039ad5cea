"""`lstmkit serve` for a language model: a prompt -> a sampled continuation, as `lstmkit generate` writes it."""

from __future__ import annotations

from typing import Annotated, Optional

import torch
from pydantic import BaseModel, ConfigDict, Field

from ...errors import FieldError
from .estimator import MAX_GENERATE

SUMMARY = "Continue a prompt"


def example(estimator) -> dict:
    """A request in the model's own language: the start of its test part, where its report's sample
    generations start ("The" for a run saved before it was kept)."""
    return {"prompt": getattr(estimator, "sample_prompt_", None) or "The", "length": 40, "temperature": 0.8,
            "top_k": 20, "seed": 0}  # fmt: skip


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field("", description="The text to continue (empty: a new document, from its start).")
    length: int = Field(100, ge=1, le=MAX_GENERATE, description="Tokens to generate.")
    temperature: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 1.0
    top_k: Optional[int] = Field(None, ge=1, description="Sample from the k most probable tokens.")
    seed: Optional[int] = Field(None, ge=0, le=2**63 - 1, description="The same seed gives the same text.")


def items(estimator, request: Request, limits) -> list:
    if len(request.prompt) > limits.max_length * 16:
        raise FieldError("prompt", f"is longer than {limits.max_length * 16} characters")
    if request.length > limits.max_length:
        raise FieldError("length", f"is above the limit of {limits.max_length} tokens")
    return [request]


def run(estimator, batch: list) -> list:
    return [estimator.generate(r.prompt, r.length, r.temperature, r.top_k, r.seed) for r in batch]


def respond(estimator, request: Request, results: list) -> dict:
    return {"prompt": request.prompt, "continuation": results[0]}


class _Stateful:
    """ONNX Runtime in the place of `LanguageNet`: (ids, state or None) -> (logits, (h, c))."""

    def __init__(self, net, layers: int, hidden: int):
        self.net, self.layers, self.hidden = net, layers, hidden

    def eval(self):
        return self

    def __call__(self, ids, state=None):
        if state is None:
            zeros = torch.zeros(self.layers, ids.shape[0], self.hidden)
            state = (zeros, zeros)
        logits, h, c = self.net(ids, *state)
        return logits, (h, c)


def onnx(estimator, net) -> None:
    lstm = estimator.model_.lstm
    estimator.model_ = _Stateful(net, lstm.num_layers, lstm.hidden_size)
