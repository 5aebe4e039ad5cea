"""The HTTP service of `lstmkit serve`: FastAPI on uvicorn, one model, any job of the registry.

    POST /predict    the job's request (`tasks/<job>/serving.py`: its schema, how it splits into items, how a
                     batch of items runs, what the answer holds), micro-batched (`batching.py`)
    GET  /health     alive;  /ready: the model is loaded;  /metadata: job, settings, versions, limits
    GET  /metrics    Prometheus: requests by endpoint and status, latency, batch sizes, errors
    GET  /docs       the OpenAPI page (/openapi.json)

Bad input is a 4xx with a JSON body {"error": one line, "field": where} (413 for a body over the limit, 422
for one that does not fit the schema or the model); a prediction past the per-request timeout is a 504.
The model runs in one thread of its own, so a request never blocks the server's loop.
"""

import asyncio
import gc
import http
import json
import os
import platform
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Optional
from urllib.parse import quote

import click  # typer's and uvicorn's
from fastapi import FastAPI, Request as HttpRequest
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import ValidationError

from .._version import __version__
from ..errors import LstmkitError
from ..launch import usable_cpus
from .batching import MicroBatcher

SETTINGS_ENV = "LSTMKIT_SERVE_SETTINGS"  # how `lstmkit serve --workers N` hands its settings to each worker
# How long the HTTP loop may hold the GIL while the model's thread waits for it (Python's default: 5 ms). Under
# load the loop always has work, so the model thread got the GIL to start a batch or hand its results back only
# once the interval ran out. benchmarks/serve_load.py's classifier at concurrency 32, fresh servers taking turns
# (8 s each, access log on, two to four runs): micro-batched ONNX Runtime 3178-3419 requests/s at 5 ms,
# 3646-3873 at 0.5 ms, PyTorch 2286-2894 and 2754-3063; one request at a time (--max-batch 1) unchanged,
# ONNX Runtime 1286-1441 and 1251-1351.
SWITCH_INTERVAL_S = 0.0005


@dataclass
class ServeSettings:
    run_dir: str
    backend: str = "torch"  # torch | onnx
    max_batch: int = 32  # items a model call takes at most (1: no micro-batching)
    max_wait_ms: float = 0.0  # how long the first request of a batch waits for others (0: none, see batching.py)
    max_body: int = 1 << 20  # bytes
    max_length: int = 10_000  # steps (or tokens) of one sequence
    max_items: int = 256  # sequences, texts, series or prompts in one request
    timeout_s: float = 30.0  # per request, queueing included
    threads: int = 0  # threads a model call runs on (0: `model_threads`)
    access_log: bool = True  # a line on stdout for every answer (`AccessLog`)

    @classmethod
    def from_env(cls) -> "ServeSettings":
        return cls(**json.loads(os.environ[SETTINGS_ENV]))


def error_body(message: str, field: Optional[str] = None) -> dict:
    return {"error": message, **({"field": field} if field else {})}


class AccessLog:
    """A line on stdout for every answer, as uvicorn's access log writes it (`INFO:     127.0.0.1:50632 - "POST
    /predict HTTP/1.1" 200 OK`, coloured where stdout is a terminal), written by the service itself: the lines
    of one turn of the event loop go out in one write. uvicorn's logger makes a log record and a write for
    every request, which under micro-batched load was a quarter of the HTTP loop's CPU (README, "Serve")."""

    COLOURS = {1: "bright_white", 2: "green", 3: "yellow", 4: "red", 5: "bright_red"}  # uvicorn's, by status class
    CHUNK = 4096  # at most this much a write, at a line's end: a pipe keeps such writes whole among N workers'

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stdout
        self.colour = self.stream.isatty()
        self.prefix = (click.style("INFO", fg="green") if self.colour else "INFO") + ":     "
        self.lines: list[str] = []

    def add(self, scope, status: int) -> None:
        """The line of an answer with `status` to the request of `scope`, written at the end of this turn."""
        query = scope.get("query_string") and "?" + scope["query_string"].decode("ascii", "backslashreplace")  # as sent
        path = quote(scope["path"]) + (query or "")
        request = f"{scope['method']} {path} HTTP/{scope['http_version']}"
        try:
            answer = f"{status} {http.HTTPStatus(status).phrase}"
        except ValueError:
            answer = f"{status} "
        if self.colour:
            request, answer = click.style(request, bold=True), click.style(answer, fg=self.COLOURS.get(status // 100))
        client = scope.get("client")
        if not self.lines:
            asyncio.get_running_loop().call_soon(self.flush)
        self.lines.append(f'{self.prefix}{"%s:%d" % tuple(client) if client else ""} - "{request}" {answer}\n')

    def flush(self) -> None:
        lines, self.lines = self.lines, []
        chunks, size = [[]], 0
        for line in lines:
            if chunks[-1] and size + len(line) > self.CHUNK:
                chunks.append([])
                size = 0
            chunks[-1].append(line)
            size += len(line)
        try:
            for chunk in chunks:
                if chunk:
                    self.stream.write("".join(chunk))
                    self.stream.flush()
        except (OSError, ValueError):  # stdout closed or gone: the service goes on without its log
            pass


class Guard:
    """ASGI middleware, outermost of lstmkit's: refuses a request body over `max_body` bytes with 413 before it
    is read whole (declared or chunked), counts every answer (endpoint, status, latency) in `metrics`, and
    writes its line to `access` (an `AccessLog`; None: no line). `predict`, an ASGI app, answers POST /predict
    itself, past the app's routing and middleware. Plain ASGI rather than an `@app.middleware`, which costs a
    task per request."""

    def __init__(self, app, max_body: int, metrics: "Metrics", access: Optional[AccessLog] = None, predict=None):
        self.app, self.max_body, self.metrics, self.access, self.predict = app, max_body, metrics, access, predict

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), {"code": 500}
        endpoint = scope["path"] if scope["path"] in KNOWN_PATHS else "other"

        async def counted(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                if self.access is not None:
                    self.access.add(scope, message["status"])
            await send(message)

        fast = self.predict is not None and scope["path"] == "/predict" and scope["method"] == "POST"
        try:
            await self._limited(scope, receive, counted, self.predict if fast else self.app)
        finally:
            self.metrics.requests.labels(endpoint, str(status["code"])).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)

    async def _limited(self, scope, receive, send, app):
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return await self._refuse(send)
        seen, refused = 0, False

        async def limited():  # the body as the app reads it; past the limit, 413 and a disconnect for the app
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    if not refused:
                        refused = True
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def sent(message):  # once refused, whatever the app answers is dropped
            if not refused:
                await send(message)

        await app(scope, limited, sent)

    async def _refuse(self, send):
        self.metrics.errors.labels("too_large").inc()
        body = json.dumps(error_body(f"the request body is over the limit of {self.max_body} bytes")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})  # the unread rest of the body must not be read as a request
        await send({"type": "http.response.body", "body": body})


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("lstmkit_requests", "HTTP requests by endpoint and status", ["endpoint", "status"], registry=self.registry)
        self.latency = Histogram("lstmkit_request_seconds", "Request latency", ["endpoint"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))  # fmt: skip
        self.batch = Histogram("lstmkit_batch_items", "Items per model call", registry=self.registry,
                               buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))  # fmt: skip
        self.errors = Counter("lstmkit_errors", "Requests answered with an error, by kind", ["kind"], registry=self.registry)


def model_threads(threads: int = 0, workers: int = 1, backend: str = "torch") -> int:
    """The threads each model call runs on: `threads`, or by default a worker's share of the CPUs, less the
    one its HTTP loop needs on PyTorch. Measured on 2 cores with benchmarks/serve_load.py's load at
    concurrency 32, 15 s a server: a PyTorch call on 2 threads waits for the core the loop holds (OpenMP), and
    on 1 thread PyTorch serves 205-263 requests/s one at a time against 120-150, and 570-645 micro-batched
    against 454-634; ONNX Runtime's own pool does better on both cores (498-515 against 318-391 one at a
    time, 703-818 against 693-733 micro-batched)."""
    return threads or max(1, usable_cpus() // workers - (backend == "torch"))


def _set_threads(threads: int, backend: str = "torch") -> None:
    """In the model's thread: its calls run on `threads` threads (OpenMP keeps the count per thread). On ONNX
    Runtime, whose session runs the network on `threads` of its own, PyTorch's part of a call (reading the
    items, the softmax) runs on one: PyTorch's OpenMP threads wait spinning after each operation, and on 2
    cores they took the cores from ONNX Runtime's threads. Measured in one process on a batch of 32 sequences
    of 60 steps (the LSTM-FCN of benchmarks/serve_load.py), ONNX Runtime on 2 threads: 5.7 ms with PyTorch on 1
    thread, 15.8 ms with PyTorch on 2 (batch 8: 1.7 against 8.0 ms)."""
    import torch

    torch.set_num_threads(threads if backend == "torch" else 1)


def load_model(settings: ServeSettings):
    """(job, estimator, its serving module) of the run; the estimator on the chosen backend."""
    from ..errors import ConfigError
    from ..tasks.run import run_job

    job = run_job(Path(settings.run_dir))
    if job.parts.serving is None:
        raise ConfigError(f"{settings.run_dir}: {job.a_name} model cannot be served yet")
    serving = job.parts.serving()
    estimator = job.estimator.load(settings.run_dir)
    if settings.backend == "onnx":
        from .backends import use_onnx

        use_onnx(estimator, serving, settings.threads)
    return job, estimator, serving


def create_app(settings: Optional[ServeSettings] = None) -> FastAPI:
    """The service of one run directory (`settings`, or those `lstmkit serve` put in SETTINGS_ENV)."""
    settings = settings or ServeSettings.from_env()
    settings = replace(settings, threads=model_threads(settings.threads, 1, settings.backend))  # as /metadata shows them
    job, estimator, serving = load_model(settings)
    metrics = Metrics()
    access = AccessLog() if settings.access_log else None
    state = {"ready": False}

    def run(items: list) -> list:
        return serving.run(estimator, items)

    batcher = MicroBatcher(run, settings.max_batch, settings.max_wait_ms / 1000, metrics.batch.observe,
                           initializer=lambda: _set_threads(settings.threads, settings.backend))  # fmt: skip

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        # what is loaded by now lives as long as the server: out of the cyclic collector's reach, whose full
        # passes would walk it again and again under load (micro-batched ONNX Runtime at concurrency 32:
        # 2584-2607 requests/s before, 3124-4082 after; README)
        gc.collect()
        gc.freeze()
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        state["ready"] = True
        try:
            yield
        finally:
            state["ready"] = False
            sys.setswitchinterval(switch)
            await batcher.stop()
            if access is not None:
                access.flush()

    app = FastAPI(title=f"lstmkit {job.name} service", version=__version__, lifespan=lifespan,
                  description=f"{job.summary} Served from {settings.run_dir} ({settings.backend} backend).")  # fmt: skip
    Request = serving.Request  # the job's schema
    # the example the OpenAPI page offers: the model's own where the job makes one (its columns and series)
    body_doc, schemas = documented_body(Request, serving.example(estimator) if hasattr(serving, "example") else serving.EXAMPLE)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: HttpRequest, error: StarletteHTTPException):  # a wrong path or method
        metrics.errors.labels("invalid").inc()
        return JSONResponse(error_body(str(error.detail)), status_code=error.status_code, headers=error.headers)

    def defect(error: Exception) -> JSONResponse:  # a defect of lstmkit's, never the client's input
        return JSONResponse(error_body(f"internal error ({type(error).__name__})"), status_code=500)

    @app.exception_handler(Exception)  # Starlette's ServerErrorMiddleware, outermost, calls it, then re-raises for uvicorn's log
    async def internal(request: HttpRequest, error: Exception):
        metrics.errors.labels("internal").inc()
        return defect(error)

    async def answer(raw: Optional[bytes]) -> JSONResponse:
        """The answer to a /predict body (None: it never arrived whole)."""
        if raw is None:  # over --max-body (Guard answered 413) or the client left
            metrics.errors.labels("invalid").inc()
            return JSONResponse(error_body("the request body could not be read"), status_code=400)
        try:  # parsed and checked against the schema in one pass of pydantic-core (see documented_body)
            body = Request.model_validate_json(raw)
        except ValidationError as error:
            metrics.errors.labels("invalid").inc()
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "body"
            return JSONResponse(error_body(f"{field}: {first['msg']}", field), status_code=422)
        try:
            items = serving.items(estimator, body, settings)  # its max_items and max_length
            results = await batcher.submit(items, settings.timeout_s)
            return JSONResponse(serving.respond(estimator, body, results))  # plain JSON values: no encoder pass
        except LstmkitError as error:
            metrics.errors.labels("rejected").inc()
            return JSONResponse(error_body(str(error), getattr(error, "field", None)), status_code=422)
        except asyncio.TimeoutError:
            metrics.errors.labels("timeout").inc()
            return JSONResponse(error_body(f"the prediction took longer than the {settings.timeout_s:g} s limit"), status_code=504)

    async def predict_asgi(scope, receive, send) -> None:
        """POST /predict as plain ASGI: Guard calls it in place of FastAPI's routing and middleware, which cost
        the HTTP loop a third of its CPU a request under micro-batched load (README, "Serve")."""
        chunks, raw = [], None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                raw = b"".join(chunks)
                break
        try:
            response = await answer(raw)
        except Exception as error:  # the 500 sent here, inside the guard, which logs and counts it; `internal` counts
            await defect(error)(scope, receive, send)  # the error as the exception passes ServerErrorMiddleware
            raise
        await response(scope, receive, send)

    # the route documents /predict on the OpenAPI page and answers as `predict_asgi` does, with the same `answer`
    @app.post("/predict", summary=serving.SUMMARY, openapi_extra={"requestBody": body_doc})
    async def predict(request: HttpRequest):
        try:
            raw = await request.body()
        except ClientDisconnect:
            raw = None
        return await answer(raw)

    @app.get("/health")
    async def health():
        return {"status": "alive"}

    @app.get("/ready")
    async def ready():
        if not state["ready"]:
            return JSONResponse({"status": "loading"}, status_code=503)
        return {"status": "ready"}

    @app.get("/metadata")
    async def metadata():
        return _metadata(job, estimator, settings)

    @app.get("/metrics")
    async def prometheus():
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(Guard, max_body=settings.max_body, metrics=metrics, access=access, predict=predict_asgi)  # before anything reads the body
    openapi = app.openapi

    def openapi_with_schemas() -> dict:  # the schemas /predict's body refers to, which FastAPI did not see
        document = openapi()
        document.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
        return document

    app.openapi = openapi_with_schemas
    return app


def documented_body(model, example: dict) -> tuple[dict, dict]:
    """The OpenAPI request body of a job's schema, and the schemas it refers to (for the document's components).
    /predict reads its body by hand, `model.model_validate_json`: parsing and checking in one pass of
    pydantic-core instead of `json.loads` then FastAPI's validation of the Python values. FastAPI then no longer
    sees the schema, so it is documented from here. Measured in one process on benchmarks/serve_load.py's
    requests (one sequence of 60 steps), the app called as ASGI by 32 concurrent callers with the model's
    answers fixed: 0.120 ms a request against 0.164 ms through FastAPI's body parameter (with the faster
    reading of numeric sequences in the classifier's `serving._sequence`)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = schema.pop("$defs", {})
    return {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}, schemas


KNOWN_PATHS = {"/predict", "/health", "/ready", "/metadata", "/metrics", "/docs", "/openapi.json"}


def _metadata(job, estimator, settings: ServeSettings) -> dict:
    import torch

    from ..rundir import read_config

    versions = {"lstmkit": __version__, "torch": torch.__version__, "python": platform.python_version()}
    if settings.backend == "onnx":
        from importlib.metadata import version

        versions["onnxruntime"] = version("onnxruntime")
    return {"job": job.name, "model": estimator.describe(), "run_dir": settings.run_dir, "backend": settings.backend,
            "settings": read_config(Path(settings.run_dir))["settings"], "versions": versions, "limits": asdict(settings)}  # fmt: skip
