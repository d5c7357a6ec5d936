"""Overlap I/O with computation: Arrow reads and Parquet writes release the GIL."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar, cast

__all__ = ["BackgroundCalls", "prefetched"]

T = TypeVar("T")
_END = object()


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield from ``items`` while a background thread already produces the next ``depth``.

    Exceptions raised by ``items`` reach the consumer at the item that failed.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="clinai-prefetch") as pool:
        pending = deque(pool.submit(next, items, _END) for _ in range(depth))
        while True:
            item = pending.popleft().result()
            if item is _END:
                return
            pending.append(pool.submit(next, items, _END))
            yield cast(T, item)


class BackgroundCalls:
    """Run calls in order on one background thread, at most ``depth`` waiting.

    ``wait()`` returns once every call is done and raises the first exception; use it
    before reading what the calls wrote.
    """

    def __init__(self, depth: int = 2) -> None:
        self.depth = depth
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="clinai-background")
        self._pending: deque[Future[Any]] = deque()

    def submit(self, call: Callable[..., Any], *args: Any) -> None:
        """Queue ``call(*args)``, first waiting while ``depth`` calls are queued."""
        while len(self._pending) >= self.depth:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(call, *args))

    def wait(self) -> None:
        """Wait for every queued call; raise the first exception."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        """Wait for the calls (ignoring their errors) and stop the thread."""
        for future in self._pending:
            future.exception()
        self._pending.clear()
        self._pool.shutdown()
