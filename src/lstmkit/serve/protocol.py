"""uvicorn's HTTP protocol (httptools where installed, else h11), with each connection's writes of one turn of
the event loop joined into one (`JoinedWrites`). uvicorn writes a response's head and its body one after the
other, and each write is a send(2) that wakes the client: two where one does. Under micro-batched load
(benchmarks/serve_load.py's ONNX Runtime rows, concurrency 32, fresh servers taking turns, 8 s each, four runs
each) the HTTP loop's CPU a request went from 127 µs to 123 (medians) and the throughput from 4117-4259
requests/s to 4169-4583."""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class JoinedWrites:
    """A connection's transport whose writes within one turn of the event loop go out as one write, at the
    start of the next turn (or when the connection is closed); everything else is the transport's own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport, self._loop, self._pending = transport, loop, []

    def write(self, data) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))  # bytes as they are; a bytearray or memoryview the caller may reuse, copied

    def writelines(self, lines) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():  # closed meanwhile (aborted, or the client left): nothing to send to
            self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(data) for data in self._pending)

    def __getattr__(self, name):
        return getattr(self._transport, name)


class Protocol(AutoHTTPProtocol):
    """The HTTP protocol `lstmkit serve` gives uvicorn: its own, writing through `JoinedWrites`."""

    def connection_made(self, transport) -> None:
        super().connection_made(JoinedWrites(transport, self.loop))
