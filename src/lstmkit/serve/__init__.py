"""`lstmkit serve DIR`: a trained model behind HTTP (FastAPI on uvicorn).

    app.py        the service: /predict with the job's schema, /health, /ready, /metadata, /metrics, /docs
    batching.py   micro-batching of concurrent requests
    backends.py   `--backend onnx`: the network on ONNX Runtime
    server.py     the command: checks, then uvicorn with N workers; SIGTERM finishes the requests in flight
    protocol.py   uvicorn's HTTP protocol, a response's head and body joined into one write
    fields.py     field types the jobs' request schemas share (a finite number; a union's one error)

Each job says how it is served in its own `tasks/<job>/serving.py`, reached through the job registry.
"""

from .._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {".server": ("serve",)})
