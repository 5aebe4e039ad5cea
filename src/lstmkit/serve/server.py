"""`lstmkit serve`: check what can be checked before listening (the extra is installed, the run loads, the
port is free), then run uvicorn. One worker serves the app built here; N workers each build their own from
the settings in SETTINGS_ENV (uvicorn's factory), sharing the port."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import signal
import socket

from ..errors import ConfigError

PACKAGES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "prometheus_client": "prometheus-client"}  # the serve extra
BACKENDS = ("torch", "onnx")


def serve(settings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, log_level: str = "info") -> None:
    missing = [package for module, package in PACKAGES.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise ConfigError(f"serving needs {', '.join(missing)}: pip install 'lstmkit[serve]'")
    if settings.backend not in BACKENDS:
        raise ConfigError(f"`backend` must be one of {', '.join(BACKENDS)}, got {settings.backend!r}")
    import uvicorn

    from .app import SETTINGS_ENV, create_app, model_threads
    from .protocol import Protocol

    settings = dataclasses.replace(settings, threads=model_threads(settings.threads, workers, settings.backend))
    app = create_app(settings)  # a run that cannot be served fails here, before the port is taken
    _check_port(host, port)
    # uvicorn finishes the requests in flight on SIGTERM, then raises the signal again for the handler it found:
    # this one, so a stop that went well ends with exit code 0
    signal.signal(signal.SIGTERM, lambda number, frame: None)
    # the access log is the service's own (`app.AccessLog`, its `access_log` setting), in uvicorn's words
    options = {"host": host, "port": port, "log_level": log_level, "timeout_graceful_shutdown": int(settings.timeout_s) + 5,
               "access_log": False, "http": Protocol}  # a response's head and body in one write (protocol.py)
    if workers == 1:
        uvicorn.run(app, **options)
        return
    os.environ[SETTINGS_ENV] = json.dumps(dataclasses.asdict(settings))
    uvicorn.run("lstmkit.serve.app:create_app", factory=True, workers=workers, **options)


def _check_port(host: str, port: int) -> None:
    """One line for an address that cannot be listened on (in use, not this machine's), not uvicorn's log."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
