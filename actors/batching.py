"""Callers batch: single requests that arrive together go to an actor as one call.

A replica handles many requests at once; sending each tap as its own actor call would pay the
call and a journal commit per tap. `Batcher` collects what arrives within a couple of
milliseconds (or up to `max_size` items) and sends it as one call, in arrival order, so the
actor does one batched domain call and one commit for all of them (a group commit).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


class Batcher:
    """Gathers items for `send(items) -> results` (one result per item, same order)."""

    def __init__(self, send: Callable[[list[Any]], Awaitable[list[Any]]], max_size: int = 256,
                 max_wait_s: float = 0.002) -> None:
        self.send, self.max_size, self.max_wait_s = send, max_size, max_wait_s
        self._items: list[Any] = []
        self._futures: list[asyncio.Future] = []
        self._timer: asyncio.TimerHandle | None = None

    async def submit(self, item: Any) -> Any:
        """Queue one item and wait for its result (an exception from `send` is raised for every item)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._items.append(item)
        self._futures.append(future)
        if len(self._items) >= self.max_size:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        items, futures = self._items, self._futures
        self._items, self._futures = [], []
        if items:
            asyncio.ensure_future(self._deliver(items, futures))

    async def _deliver(self, items: list[Any], futures: list[asyncio.Future]) -> None:
        try:
            results = await self.send(items)
        except BaseException as err:  # every waiter hears of the failure
            for f in futures:
                if not f.done():
                    f.set_exception(err)
            return
        for f, r in zip(futures, results, strict=True):
            if not f.done():
                f.set_result(r)
