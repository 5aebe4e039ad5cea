"""Micro-batching: the items of requests that arrive together run as one call of the model.

A request is a list of items (sequences, texts, series, prompts). `MicroBatcher.submit` queues it; one loop
takes the first waiting request, then more until `max_batch` items are gathered or `max_wait_s` has passed
since the first, and runs them as one call in the model's own thread. With `max_wait_s` 0 (`lstmkit serve`'s
default) a batch starts as soon as the model is free and holds the requests that came while it was busy: one
request alone runs at once, and under load the batches grow by themselves. Measured by
benchmarks/serve_load.py against a 5 ms wait: as many or more requests per second at concurrency 1, 8 and 32
on both backends but ONNX Runtime at 32 (797 against 884), and no 5 ms added to a lone request (one thread: PyTorch and ONNX Runtime
parallelise inside a call, and calls never compete for the cores). Each request gets its own items' results.
If the call fails on a batch of several requests, each request is run again alone, so one bad request never
fails the others. A request's timeout is a timer on the loop (`submit`), not a task of asyncio.wait_for.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class _Waiting:
    items: list
    future: asyncio.Future
    since: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """`run(items) -> results` (one result per item, in order), called on batches of up to `max_batch` items
    gathered for at most `max_wait_s`; `max_batch` 1 runs each request alone, as it comes.
    `observe(size)`: called with each batch's item count (the service's batch-size histogram);
    `initializer()`: called once in the model's thread before its first call (its thread count)."""

    def __init__(self, run: Callable[[list], list], max_batch: int, max_wait_s: float,
                 observe: Optional[Callable[[int], None]] = None, initializer: Optional[Callable[[], None]] = None):  # fmt: skip
        self.run, self.max_batch, self.max_wait_s = run, max_batch, max_wait_s
        self.observe = observe or (lambda size: None)
        self.queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmkit-model", initializer=initializer)
        self.task: Optional[asyncio.Task] = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """After the requests in flight are answered (the server waits for them before it stops us)."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self.executor.shutdown(wait=True)

    async def submit(self, items: list, timeout_s: Optional[float] = None) -> list:
        """The items' results; asyncio.TimeoutError past `timeout_s` seconds, queueing included (a request that
        runs out of time while it waits is left out of its batch). A timer on the loop, where asyncio.wait_for
        would wrap each request in a task of its own."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.queue.put_nowait(_Waiting(items, future))
        timer = None if timeout_s is None else loop.call_later(timeout_s, _settle, future, None, asyncio.TimeoutError())
        try:
            return await future
        finally:
            if timer is not None:
                timer.cancel()

    async def _loop(self) -> None:
        while True:
            batch = [await self.queue.get()]
            size = len(batch[0].items)
            deadline = batch[0].since + self.max_wait_s
            while size < self.max_batch:
                left = deadline - time.perf_counter()
                try:
                    waiting = self.queue.get_nowait() if left <= 0 else await asyncio.wait_for(self.queue.get(), left)
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
                batch.append(waiting)
                size += len(waiting.items)
            await self._answer(batch)

    async def _answer(self, batch: list[_Waiting]) -> None:
        batch = [w for w in batch if not w.future.done()]  # a request that timed out or was cancelled meanwhile
        if not batch:
            return
        loop = asyncio.get_running_loop()
        items = [item for w in batch for item in w.items]
        self.observe(len(items))
        try:
            results = await loop.run_in_executor(self.executor, self.run, items)
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0].future, error=error)
                return
            for waiting in batch:  # find which request failed: each alone
                await self._answer([waiting])
            return
        start = 0
        for waiting in batch:
            _settle(waiting.future, result=results[start : start + len(waiting.items)])
            start += len(waiting.items)


def _settle(future: asyncio.Future, result=None, error: Optional[BaseException] = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
