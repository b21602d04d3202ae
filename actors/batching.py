"""Callers batch: single requests that arrive together go to an actor as one call.

A replica handles many requests at once; sending each tap as its own actor call would pay the
call and a journal commit per tap. `Batcher` sends an item at once when nothing is in
flight; items that arrive while a call is in flight wait for it and then go together (up to
`max_size` per call), in arrival order, so the actor does one batched domain call and one
commit for all of them (a group commit). Alone, a request waits for nobody; under load, the
calls grow instead of queueing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


class Batcher:
    """Gathers items for `send(items) -> results` (one result per item, same order)."""

    def __init__(self, send: Callable[[list[Any]], Awaitable[list[Any]]], max_size: int = 500) -> None:
        self.send, self.max_size = send, max_size
        self._items: list[Any] = []
        self._futures: list[asyncio.Future] = []
        self._busy = False

    @property
    def waiting(self) -> int:
        """Items queued and not yet sent."""
        return len(self._items)

    async def submit(self, item: Any) -> Any:
        """Queue one item and wait for its result (an exception from `send` is raised for every item)."""
        future = asyncio.get_running_loop().create_future()
        self._items.append(item)
        self._futures.append(future)
        if not self._busy:
            self._next()
        return await future

    def _next(self) -> None:
        """Send what waits (at most max_size), if anything does."""
        if not self._items:
            self._busy = False
            return
        self._busy = True
        items, futures = self._items[: self.max_size], self._futures[: self.max_size]
        del self._items[: self.max_size], self._futures[: self.max_size]
        asyncio.ensure_future(self._deliver(items, futures))

    async def _deliver(self, items: list[Any], futures: list[asyncio.Future]) -> None:
        try:
            results = await self.send(items)
        except BaseException as err:  # every waiter hears of the failure
            for f in futures:
                if not f.done():
                    f.set_exception(err)
        else:
            for f, r in zip(futures, results, strict=True):
                if not f.done():
                    f.set_result(r)
        finally:
            self._next()
