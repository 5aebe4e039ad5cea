"""`lstmkit serve`: a real server on 127.0.0.1 answering real HTTP requests. Each job's /predict answers what
its Python `predict` (or `generate`, `translate`) answers, on PyTorch and on ONNX Runtime; malformed requests
get a 4xx naming the field and never a 5xx; concurrent requests share model calls; SIGTERM finishes the
requests in flight."""

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmkit.launch import free_port
from lstmkit.tasks.run import load_run

SCRIPT = Path(sys.executable).parent / "lstmkit"
PORT_TRIES = 3


@contextlib.contextmanager
def served(run: Path, *options: str, env=None, log=None):
    """`lstmkit serve RUN` on a free port of 127.0.0.1, ready; yields (client, process); stopped with SIGTERM.
    A port taken between `free_port` and the server's bind (by an outgoing connection of another test: their
    ports come from the same range) makes the server exit with "Address already in use"; another is tried.
    The server's output goes to `log` (a file the caller reads afterwards), or to a temporary file."""
    for _ in range(PORT_TRIES):
        port = free_port()
        output = log or tempfile.TemporaryFile(mode="w+")  # not a pipe: a server's access log would fill it and block the server
        process = subprocess.Popen([str(SCRIPT), "serve", str(run), "--port", str(port), *options], stdout=output,
                                   stderr=subprocess.STDOUT, text=True, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})  # fmt: skip
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        if _ready(client, process):
            break
        client.close()
        written = output.seek(0) or output.read()
        if log is None:
            output.close()
        assert "Address already in use" in written, written
    else:
        raise AssertionError(f"every port of {PORT_TRIES} tries was taken before the server bound it")
    try:
        yield client, process
    finally:
        client.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log is None:
            output.close()


def _ready(client: httpx.Client, process: subprocess.Popen) -> bool:
    """True once the server answers /ready; False if it exits first."""
    deadline = time.monotonic() + 120
    while process.poll() is None:
        try:
            if client.get("/ready").status_code == 200:
                return True
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not become ready"
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def classify_server(tiny_runs):
    with served(tiny_runs["classify"], "--max-body", "20000", "--max-items", "8", "--max-wait-ms", "20") as (client, _):
        yield client


# ---- each job answers what Python answers -----------------------------------------------------------------


def test_classifier_answers_predict_proba(classify_server, tiny_runs):
    texts = ["a good film", "that awful film", "this great great film unseen"]
    response = classify_server.post("/predict", json={"texts": texts})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    expected = load_run(tiny_runs["classify"]).predict(texts)
    assert [p["label"] for p in predictions] == list(expected["label"])
    np.testing.assert_allclose([[p["probabilities"]["neg"], p["probabilities"]["pos"]] for p in predictions],
                               expected[["p_neg", "p_pos"]].to_numpy(), atol=1e-9)  # fmt: skip


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_forecaster_answers_predict(tiny_runs, backend):
    """The training data's last values, sent without a start, are forecast as `predict()` forecasts the end
    of the training data; on ONNX Runtime within 1e-5."""
    forecaster = load_run(tiny_runs["forecast"])
    history = pd.read_csv(tiny_runs["data"] / "sales.csv")["sales"].tolist()
    with served(tiny_runs["forecast"], "--backend", backend, "--threads", "3") as (client, _):
        response = client.post("/predict", json={"series": [{"values": history[-forecaster.lookback_ :]}]})
        assert response.status_code == 200, response.text
        answer = response.json()["predictions"][0]
        expected = forecaster.predict()
        np.testing.assert_allclose(answer["forecast"], expected["sales"], rtol=1e-5)
        assert answer["times"] == expected["month"].tolist() == [120, 121, 122]  # the steps after the training data's
        meta = client.get("/metadata").json()
        assert meta["job"] == "forecast" and meta["backend"] == backend and meta["settings"]["horizon"] == 3
        assert meta["limits"]["threads"] == 3
        assert client.post("/predict", json={"series": [{"values": [1.0, 2.0], "covariates": {"price": [1, 2]}}]}).json() == {
            "error": "series.0.covariates: needs the covariates [], got ['price']", "field": "series.0.covariates"}


def test_anomaly_detector_answers_predict(tiny_runs, tmp_path):
    detector = load_run(tiny_runs["anomaly"])
    values = pd.read_csv(tiny_runs["data"] / "sensor.csv")["value"].to_numpy()[:120]
    pd.DataFrame({"t": np.arange(120), "value": values}).to_csv(tmp_path / "new.csv", index=False)
    expected = detector.predict(tmp_path / "new.csv")
    with served(tiny_runs["anomaly"], "--backend", "onnx") as (client, _):
        response = client.post("/predict", json={"series": [{"value": values.tolist()}]})
        assert response.status_code == 200, response.text
        answer = response.json()["predictions"][0]
        page = client.get("/openapi.json").json()
        example = page["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["example"]
        offered = client.post("/predict", json=example)  # the page's example: the model's column, past its lookback
    scores = np.array([np.nan if s is None else s for s in answer["scores"]])
    np.testing.assert_allclose(scores, expected["score"].to_numpy(), rtol=1e-4)
    assert answer["flags"] == expected["flag"].tolist()
    (series,) = example["series"]
    assert list(series) == ["value"] and len(series["value"]) == detector.lookback_ + 12 and offered.status_code == 200
    assert offered.json()["predictions"][0]["flags"][-3] == 1  # its spike


def test_predict_answers_alike_past_fastapi_and_through_its_documented_route_and_a_defect_is_a_500(tiny_runs, monkeypatch):
    """The guard answers POST /predict itself; FastAPI's route, which documents it, answers the same way when
    called without the guard. A defect of lstmkit's while answering is a 500 with a JSON error, counted, and the
    service answers on."""
    from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware

    from lstmkit.serve.app import ServeSettings, create_app
    from lstmkit.tasks.classify import serving

    app = create_app(ServeSettings(str(tiny_runs["classify"])))
    body = {"texts": ["a good film", "that awful film"]}

    async def calls():
        async with app.router.lifespan_context(app):  # the model's thread runs
            guarded = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://x")
            route = AsyncExitStackMiddleware(app.router)  # FastAPI's route, without the guard
            routed = httpx.AsyncClient(transport=httpx.ASGITransport(app=route), base_url="http://x")
            answers = [await guarded.post("/predict", json=body), await routed.post("/predict", json=body),
                       await guarded.post("/predict", json={"texts": [1]}), await routed.post("/predict", json={"texts": [1]})]  # fmt: skip
            with monkeypatch.context() as patch:
                patch.setattr(serving, "respond", lambda *args: 1 / 0)
                answers.append(await guarded.post("/predict", json=body))
            answers += [await guarded.post("/predict", json=body), await guarded.get("/metrics")]
            return answers

    fast, routed, bad_fast, bad_routed, defect, after, metrics = asyncio.run(calls())
    assert fast.status_code == routed.status_code == 200 and fast.json() == routed.json() == after.json()
    assert fast.headers["content-type"] == routed.headers["content-type"] == "application/json"
    assert bad_fast.status_code == bad_routed.status_code == 422 and bad_fast.json() == bad_routed.json()
    assert bad_fast.json()["field"] == "texts.0"
    assert defect.status_code == 500 and defect.json() == {"error": "internal error (ZeroDivisionError)"}
    assert 'lstmkit_errors_total{kind="internal"} 1.0' in metrics.text
    assert 'lstmkit_requests_total{endpoint="/predict",status="500"} 1.0' in metrics.text


def test_language_model_and_seq2seq_answer_generate_and_translate(tiny_runs):
    """The language model on PyTorch; the sequence-to-sequence model on ONNX Runtime."""
    lm, seq2seq = load_run(tiny_runs["lm"]), load_run(tiny_runs["seq2seq"])
    with served(tiny_runs["lm"]) as (client, _):
        answer = client.post("/predict", json={"prompt": "def f(x):", "length": 30, "seed": 3, "top_k": 5}).json()
        example = _page_example(client)  # the page's example: a prompt from the model's own test part
        assert example["prompt"] == lm.sample_prompt_ and lm.sample_prompt_.strip()
        offered = client.post("/predict", json=example).json()
        fresh = client.post("/predict", json={"length": 12, "seed": 1}).json()  # no prompt: a new document
    assert answer["continuation"] == lm.generate("def f(x):", 30, top_k=5, seed=3)
    assert fresh == {"prompt": "", "continuation": lm.generate("", 12, seed=1)}
    assert offered["continuation"] == lm.generate(example["prompt"], 40, 0.8, 20, 0)
    sources = ["red green blue", "stone river"]
    with served(tiny_runs["seq2seq"], "--backend", "onnx") as (client, _):  # the encoder and the decoder step
        assert client.post("/predict", json={"sources": sources}).json() == {"outputs": seq2seq.translate(sources)}
        example = _page_example(client)  # a source of its training pairs
        assert example["sources"][0] in seq2seq.train_pairs_.sources
        assert client.post("/predict", json=example).json() == {"outputs": seq2seq.translate(example["sources"], beam=1)}


def _page_example(client) -> dict:
    page = client.get("/openapi.json").json()
    return page["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["example"]


# ---- bad requests -----------------------------------------------------------------------------------------


def test_bad_requests_get_a_4xx_naming_the_field(classify_server):
    cases = [
        ({"texts": ["good", 3]}, 422, "texts.1"),
        ({"sequences": [[1.0, 2.0]]}, 422, "texts"),
        ({"texts": ["  "]}, 422, "texts.0"),
        ({"texts": ["good"] * 9}, 422, "texts"),  # --max-items 8
        ({"texts": ["good"], "extra": 1}, 422, "extra"),
        ({"sequences": [[1.0, None]]}, 422, "sequences.0.1"),  # neither a number nor a list of them: one place
        ([1, 2, 3], 422, "body"),
    ]
    for body, status, field in cases:
        response = classify_server.post("/predict", json=body)
        assert (response.status_code, response.json()["field"]) == (status, field), (body, response.text)
        assert response.json()["error"].startswith(field)
    response = classify_server.post("/predict", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "error" in response.json()
    response = classify_server.post("/predict", json={"texts": ["x" * 30000]})  # --max-body 20000
    assert response.status_code == 413 and response.json() == {"error": "the request body is over the limit of 20000 bytes"}
    with socket.create_connection(("127.0.0.1", classify_server.base_url.port), timeout=30) as raw:  # no length said
        raw.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: "
                    b"chunked\r\n\r\n7530\r\n" + b"[" * 30000 + b"\r\n0\r\n\r\n")  # fmt: skip
        assert raw.recv(200).startswith(b"HTTP/1.1 413 ")
    assert classify_server.get("/health").json() == {"status": "alive"}
    assert classify_server.post("/predict", json={"texts": ["good"]}).status_code == 200
    assert 'kind="internal"' not in classify_server.get("/metrics").text  # a refused body is not lstmkit's defect


JSON = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
                    max_leaves=20)  # fmt: skip
NEAR = st.fixed_dictionaries({}, optional={"texts": JSON, "sequences": JSON, "extra": JSON}) | st.fixed_dictionaries(
    {"texts": st.lists(st.one_of(st.text(max_size=30), JSON), max_size=12)})  # fmt: skip


@settings(max_examples=1100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(body=st.one_of(JSON, NEAR, NEAR, st.binary(max_size=64)))
def test_fuzzed_requests_never_get_a_5xx(classify_server, body):
    """Over a thousand requests drawn from the schema's neighbourhood (its fields with values of any JSON
    type, texts of any content, any JSON document, any bytes): each answer is a 200 or a 4xx with a JSON
    error, never a 5xx; and the server stays up."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()  # NaN and Infinity as Python writes them
    response = classify_server.post("/predict", content=content, headers={"content-type": "application/json"})
    assert response.status_code < 500, (body, response.text)
    assert response.status_code == 200 or "error" in response.json()


# ---- batching, metrics, shutdown ----------------------------------------------------------------------------


def test_concurrent_requests_share_model_calls(classify_server):
    """16 requests at once, one text each: fewer model calls than requests (/metrics' batch histogram), and
    each request gets its own answer."""
    def calls() -> float:
        text = classify_server.get("/metrics").text
        return float(next(line.split()[-1] for line in text.splitlines() if line.startswith("lstmkit_batch_items_count")))

    before = calls()
    texts = [f"{word} film" for word in ["good", "bad", "great", "awful"] * 4]
    answers = [None] * len(texts)

    def send(k):
        answers[k] = classify_server.post("/predict", json={"texts": [texts[k]]}).json()["predictions"][0]["label"]

    threads = [threading.Thread(target=send, args=(k,)) for k in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    alone = [classify_server.post("/predict", json={"texts": [t]}).json()["predictions"][0]["label"] for t in texts]
    assert answers == alone
    assert calls() - before - len(texts) < len(texts)  # the 16 alone took 16 calls; together, fewer
    assert 'lstmkit_requests_total{endpoint="/predict",status="200"}' in classify_server.get("/metrics").text


def _in_a_thread(coroutine):
    """asyncio.run(coroutine()) in a thread of its own, where no event loop of another test's can be running."""
    answered = {}
    caller = threading.Thread(target=lambda: answered.update(result=asyncio.run(coroutine())))
    caller.start()
    caller.join()
    return answered["result"]


def test_a_request_out_of_time_while_it_waits_is_left_out_of_its_batch():
    """`submit`'s timeout: the request waiting behind a slow call fails with TimeoutError at its time, and the
    next call holds only the request still waiting."""
    calls = []

    def run(items: list) -> list:
        calls.append(list(items))
        time.sleep(0.3 if items == ["slow"] else 0.0)
        return [item.upper() for item in items]

    async def requests() -> list:
        from lstmkit.serve.batching import MicroBatcher

        batcher = MicroBatcher(run, 8, 0.0)
        batcher.start()
        try:
            slow = asyncio.ensure_future(batcher.submit(["slow"]))
            await asyncio.sleep(0.05)  # the slow call has begun
            late = asyncio.ensure_future(batcher.submit(["late"], timeout_s=0.05))
            kept = asyncio.ensure_future(batcher.submit(["kept"], timeout_s=10))
            return await asyncio.gather(slow, late, kept, return_exceptions=True)
        finally:
            await batcher.stop()

    slow, late, kept = _in_a_thread(requests)
    assert slow == ["SLOW"] and kept == ["KEPT"] and isinstance(late, asyncio.TimeoutError)
    assert calls == [["slow"], ["kept"]]


def test_the_access_log_has_a_line_a_request_unless_turned_off(tiny_runs, tmp_path):
    for options, lines in (((), 1), (("--no-access-log",), 0)):
        with open(tmp_path / "log", "w+") as log:
            with served(tiny_runs["classify"], *options, log=log) as (client, _):
                assert client.post("/predict", json={"texts": ["a good film"]}).status_code == 200
            log.seek(0)
            assert log.read().count('"POST /predict HTTP/1.1" 200') == lines


def _access_lines(colour: bool, cases) -> list[str]:
    """What `AccessLog` wrote for `cases` ((scope, status), all added in one turn of the loop): its writes."""
    from lstmkit.serve.app import AccessLog

    writes = []

    class Stream:
        def isatty(self):
            return colour

        def write(self, text):
            writes.append(text)

        def flush(self):
            pass

    log = AccessLog(Stream())

    async def turn():
        for scope, status in cases:
            log.add(scope, status)
        assert writes == []  # nothing before the turn ends
        await asyncio.sleep(0)

    asyncio.run(turn())
    return writes


def test_the_access_log_writes_uvicorns_line_for_each_answer_and_a_turns_lines_in_one_write():
    import logging

    from uvicorn.logging import AccessFormatter
    from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

    def scope(method, path, query=b"", client=("127.0.0.1", 50632)):
        return {"type": "http", "method": method, "path": path, "query_string": query, "http_version": "1.1", "client": client}

    cases = [(scope("POST", "/predict"), 200), (scope("GET", "/a b", b"x=1&y=2"), 404),
             (scope("GET", "/metrics", client=None), 500), (scope("POST", "/predict", client=("::1", 8)), 422),
             (scope("GET", "/ready"), 503), (scope("GET", "/odd"), 599)]  # fmt: skip
    for colour in (False, True):
        writes = _access_lines(colour, cases)
        assert len(writes) == 1
        formatter = AccessFormatter('%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=colour)
        expected = [formatter.format(logging.LogRecord(
            "uvicorn.access", logging.INFO, __file__, 0, '%s - "%s %s HTTP/%s" %d',
            (get_client_addr(s), s["method"], get_path_with_query_string(s), s["http_version"], status), None))
            for s, status in cases]  # uvicorn's own formatting of the same answers  # fmt: skip
        assert writes[0] == "".join(line + "\n" for line in expected)

    (odd,) = _access_lines(False, [(scope("GET", "/é", b"q=\xe9"), 404)])  # a byte past ASCII in the query
    assert odd == 'INFO:     127.0.0.1:50632 - "GET /%C3%A9?q=\\xe9 HTTP/1.1" 404 Not Found\n'

    many = [(scope("POST", "/predict"), 200)] * 200  # about 11,000 characters
    writes = _access_lines(False, many)
    assert len(writes) == 3 and all(len(w) <= 4096 and w.endswith("\n") for w in writes)
    assert "".join(writes).count('"POST /predict HTTP/1.1" 200 OK\n') == 200


def test_the_served_protocol_writes_a_whole_response_at_once_and_what_is_pending_before_closing():
    """uvicorn writes a response's head and body apart; through `JoinedWrites` they leave in one write, at the
    next turn of the loop. Closing sends what is pending first; aborting drops it."""
    import uvicorn
    from uvicorn.server import ServerState

    from lstmkit.serve.protocol import JoinedWrites, Protocol

    class Transport:
        def __init__(self):
            self.writes, self.closed = [], False

        def write(self, data):
            self.writes.append(bytes(data))

        def get_extra_info(self, name, default=None):
            return {"peername": ("127.0.0.1", 50632), "sockname": ("127.0.0.1", 8000)}.get(name, default)

        def is_closing(self):
            return self.closed

        def close(self):
            self.closed = True

        abort = close

        def get_write_buffer_size(self):
            return 0

        def pause_reading(self):
            pass

        resume_reading = pause_reading

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def served():
        config = uvicorn.Config(app, http=Protocol, access_log=False, log_level="warning", lifespan="off")
        config.load()
        protocol = config.http_protocol_class(config=config, server_state=ServerState(), app_state={})
        transport = Transport()
        protocol.connection_made(transport)
        protocol.data_received(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        for _ in range(20):
            await asyncio.sleep(0)
        protocol.connection_lost(None)
        return transport.writes

    writes = asyncio.run(served())
    assert len(writes) == 1 and writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"\r\n\r\nok")

    async def direct():
        loop = asyncio.get_running_loop()
        kept, dropped = Transport(), Transport()
        joined, aborted = JoinedWrites(kept, loop), JoinedWrites(dropped, loop)
        joined.write(b"a"), joined.writelines([bytearray(b"b"), memoryview(b"c")]), aborted.write(b"x")
        assert kept.writes == [] and joined.get_write_buffer_size() == 3 and joined.get_extra_info("peername")[1] == 50632
        aborted.abort()  # before the turn ends
        await asyncio.sleep(0)
        joined.write(b"d")
        joined.close()  # before the turn ends
        await asyncio.sleep(0)
        return kept, dropped

    kept, dropped = asyncio.run(direct())
    assert kept.writes == [b"abc", b"d"] and kept.closed and dropped.writes == [] and dropped.closed


def test_model_calls_run_on_the_threads_chosen_for_them(monkeypatch, classify_server):
    """By default a model call runs on a worker's share of the CPUs, less the one its HTTP loop needs on
    PyTorch, at least one; the count is set in the model's own thread (OpenMP keeps one per thread), whatever
    the thread that built the service runs on."""
    import torch

    from lstmkit.serve import app as service
    from lstmkit.serve.batching import MicroBatcher

    for cpus, workers, expected in [(1, 1, 1), (2, 1, 1), (16, 1, 15), (16, 4, 3), (4, 8, 1)]:
        monkeypatch.setattr(service, "usable_cpus", lambda cpus=cpus: cpus)
        assert service.model_threads(0, workers) == expected
        assert service.model_threads(0, workers, "onnx") == max(1, cpus // workers)  # ONNX Runtime: the whole share
    assert service.model_threads(5, 2) == 5
    chosen = torch.get_num_threads() + 1  # not what this thread has

    async def call() -> list:
        batcher = MicroBatcher(lambda items: [torch.get_num_threads()] * len(items), 4, 0.0,
                               initializer=lambda: service._set_threads(chosen))  # fmt: skip
        batcher.start()
        try:
            return await batcher.submit(["a", "b"])
        finally:
            await batcher.stop()

    assert _in_a_thread(call) == [chosen, chosen] and torch.get_num_threads() == chosen - 1
    monkeypatch.undo()
    assert classify_server.get("/metadata").json()["limits"]["threads"] == service.model_threads()


def test_sigterm_finishes_the_request_in_flight(tiny_runs):
    with served(tiny_runs["lm"]) as (client, process):
        result = {}

        def long_request():
            result["response"] = client.post("/predict", json={"prompt": "def", "length": 4000, "seed": 0})

        thread = threading.Thread(target=long_request)
        thread.start()
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        thread.join(timeout=60)
        assert process.wait(timeout=60) == 0
    response = result["response"]
    assert response.status_code == 200 and len(response.json()["continuation"]) > 0


# ---- the command line ---------------------------------------------------------------------------------------


def _serve_fails(*args) -> str:
    done = subprocess.run([str(SCRIPT), "serve", *map(str, args)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def test_serve_errors_are_one_line(tiny_runs, tmp_path):
    assert "nowhere: no such run directory" in _serve_fails(tmp_path / "nowhere")
    with served(tiny_runs["classify"]) as (client, _):
        port = client.base_url.port
        assert f"cannot listen on 127.0.0.1:{port}" in _serve_fails(tiny_runs["classify"], "--port", port)


def test_a_port_taken_before_the_server_binds_it_is_tried_again(tiny_runs, monkeypatch):
    """The helper every server test starts with: a port another process took after `free_port` chose it
    stops the server with one line, and the helper starts it again on another port."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports, any_free = [taken.getsockname()[1]], free_port
        monkeypatch.setitem(globals(), "free_port", lambda: ports.pop() if ports else any_free())
        with served(tiny_runs["lm"]) as (client, _):
            assert not ports and client.base_url.port != taken.getsockname()[1]
            assert client.get("/ready").status_code == 200


def test_two_workers_serve_the_same_model(tiny_runs):
    """--workers 2: uvicorn's workers each build the app from the settings lstmkit serve hands them."""
    texts = ["a good film", "bad"]
    with served(tiny_runs["classify"], "--workers", "2", "--max-items", "4") as (client, process):
        answers = [client.post("/predict", json={"texts": texts}).json() for _ in range(6)]
        assert client.post("/predict", json={"texts": ["x"] * 5}).json()["field"] == "texts"  # the limit reached the workers
    assert all(answer == answers[0] for answer in answers)
    assert [p["label"] for p in answers[0]["predictions"]] == list(load_run(tiny_runs["classify"]).predict(texts)["label"])
    assert process.returncode == 0


def test_a_request_past_the_timeout_is_a_504_and_the_server_stays(tiny_runs):
    with served(tiny_runs["lm"], "--timeout", "0.2") as (client, _):
        response = client.post("/predict", json={"prompt": "def", "length": 4000, "seed": 0})
        assert response.status_code == 504
        assert response.json() == {"error": "the prediction took longer than the 0.2 s limit"}
        assert client.get("/health").json() == {"status": "alive"}
        assert 'lstmkit_errors_total{kind="timeout"} 1.0' in client.get("/metrics").text


# ---- in one process ---------------------------------------------------------------------------------------


def test_the_openapi_pages_example_is_a_request_the_model_answers(classify_server, tiny_runs):
    """A text classifier's page offers texts (the fixed example was numeric sequences, which it refuses)."""
    page = classify_server.get("/openapi.json").json()
    example = page["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["example"]
    assert set(example) == {"texts"}
    assert classify_server.post("/predict", json=example).status_code == 200


def test_the_openapi_page_documents_each_jobs_request(tiny_runs):
    """/predict reads its body by hand, so its schema is documented by lstmkit: the job's fields, and every
    reference (the forecaster's series objects) found among the document's schemas."""
    from lstmkit.serve.app import ServeSettings, create_app

    for job, fields, referred in [("classify", {"texts", "sequences"}, set()), ("forecast", {"series"}, {"SeriesIn"})]:
        document = create_app(ServeSettings(str(tiny_runs[job]))).openapi()
        body = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
        assert set(body["schema"]["properties"]) == fields and body["example"]
        refs = {ref.rsplit("/", 1)[1] for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(body))}
        assert refs == referred
        refs = {ref.rsplit("/", 1)[1] for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(document))}
        assert refs <= set(document["components"]["schemas"]), refs


def test_a_value_that_fits_no_form_of_a_union_is_one_error_at_its_own_place():
    """Not one error a form, each at a place naming the form ("sequences.0.1.float"), the first of which
    would call a list of numbers with a string among them no number."""
    from pydantic import ValidationError

    from lstmkit.tasks.classify.serving import Request as Classify
    from lstmkit.tasks.forecast.serving import Request as Forecast

    cases = [(Classify, {"sequences": [[1.0, [1.0, "x"]]]}, ("sequences", 0, 1),
              "Input should be a number, or a list of one number per feature"),
             (Classify, {"sequences": [[{"a": 1}]]}, ("sequences", 0, 0),
              "Input should be a number, or a list of one number per feature"),
             (Forecast, {"series": [{"values": [1.0], "start": 1.5}]}, ("series", 0, "start"),
              "Input should be a whole number, or a time as text")]  # fmt: skip
    for model, body, place, message in cases:
        with pytest.raises(ValidationError) as caught:
            model.model_validate_json(json.dumps(body))
        assert [(error["loc"], error["msg"]) for error in caught.value.errors()] == [(place, message)]
    assert Classify.model_validate_json('{"sequences": [[1, [2.5, 3]]]}').sequences == [[1.0, [2.5, 3.0]]]
    assert Forecast.model_validate_json('{"series": [{"values": [1], "start": "2020-01"}]}').series[0].start == "2020-01"


def test_numeric_sequences_are_read_in_any_of_their_forms():
    from lstmkit.errors import FieldError
    from lstmkit.tasks.classify.serving import _sequence

    np.testing.assert_array_equal(_sequence(0, [1.0, 2.0, 3.0], 1, 10), [[1.0], [2.0], [3.0]])
    np.testing.assert_array_equal(_sequence(0, [1.0, [2.0]], 1, 10), [[1.0], [2.0]])  # a number or a step of one
    assert _sequence(0, [[1.0, 2.0], [3.0, 4.0]], 2, 10).shape == (2, 2)
    for steps, features, field, message in [([[1.0, 2.0], [3.0]], 2, "sequences.4.1", "has 1 numbers; the model reads 2 a step"),
                                            ([1.0, 2.0], 2, "sequences.4.0", "has 1 numbers; the model reads 2 a step"),
                                            ([[]], 1, "sequences.4.0", "has 0 numbers; the model reads 1 a step"),
                                            ([1e39], 1, "sequences.4", "holds numbers beyond float32's range"),
                                            ([1.0] * 11, 1, "sequences.4", "needs between 1 and 10 steps, got 11")]:  # fmt: skip
        with pytest.raises(FieldError) as caught:
            _sequence(4, steps, features, 10)
        assert (caught.value.field, str(caught.value)) == (field, f"{field}: {message}")


def test_the_service_hands_the_gil_to_the_model_thread_sooner_while_it_runs(tiny_runs):
    """Python's 5 ms switch interval kept the model thread waiting for the GIL behind the busy HTTP loop; the
    service shortens it while it runs and puts back the process's own when it stops."""
    from lstmkit.serve.app import SWITCH_INTERVAL_S, ServeSettings, create_app

    app = create_app(ServeSettings(str(tiny_runs["classify"])))
    before = sys.getswitchinterval()
    seen = []

    async def run() -> None:
        async with app.router.lifespan_context(app):
            seen.append(sys.getswitchinterval())

    asyncio.run(run())
    assert seen == [SWITCH_INTERVAL_S] and SWITCH_INTERVAL_S < before == sys.getswitchinterval()


def test_pytorch_keeps_to_one_thread_beside_onnx_runtime():
    """On ONNX Runtime the model thread's PyTorch part (reading items, the softmax) runs on one thread: its
    spinning OpenMP threads would take the cores from ONNX Runtime's."""
    import torch

    from lstmkit.serve.app import _set_threads

    counts = {}

    def in_a_thread(backend: str) -> None:
        _set_threads(3, backend)
        counts[backend] = torch.get_num_threads()

    for backend in ("torch", "onnx"):
        thread = threading.Thread(target=in_a_thread, args=(backend,))
        thread.start()
        thread.join()
    assert counts == {"torch": 3, "onnx": 1}


@pytest.mark.parametrize("channels", [1, 3])
def test_a_numeric_classifiers_example_has_the_models_channels(channels):
    from types import SimpleNamespace

    from lstmkit import SequenceClassifier
    from lstmkit.data import LabelledSequences
    from lstmkit.tasks.classify import serving

    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(12, channels)).astype(np.float32) for _ in range(20)]
    data = LabelledSequences(sequences, ["a", "b"] * 10, "noise", "numeric")
    model = SequenceClassifier(arch="lstm", hidden=4, epochs=1).fit(data)
    request = serving.Request.model_validate(serving.example(model))
    (sequence,) = serving.items(model, request, SimpleNamespace(max_items=8, max_length=100))
    assert sequence.shape == (16, channels) and len(serving.run(model, [sequence])[0]) == 2
