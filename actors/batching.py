"""Callers batch: single requests that arrive together go to an actor as one call.

A replica handles many requests at once; sending each tap as its own actor call would pay the
call and a journal commit per tap. `Batcher` sends an item at once when nothing is in
flight; items that arrive while a call is in flight wait for it and then go together (up to
`max_size` per call), in arrival order, so the actor does one batched domain call and one
commit for all of them (a group commit). Under load, the calls grow instead of queueing. With
`window_s` > 0 a call waits that long before it is sent, so single requests arriving together
share it even when nothing was in flight (the live ingress uses 2 ms for single taps: one actor
call for the taps of several readers, at 2 ms of latency).

A failed call never fails its neighbours: when a call of several items raises, each item is
sent again alone, so only the item that fails gets the error (a crafted tap cannot make
every concurrent check-in of its group fail).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


class Batcher:
    """Gathers items for `send(items) -> results` (one result per item, same order)."""

    def __init__(self, send: Callable[[list[Any]], Awaitable[list[Any]]], max_size: int = 500,
                 window_s: float = 0.0) -> None:
        self.send, self.max_size, self.window_s = send, max_size, window_s
        self._items: list[Any] = []
        self._futures: list[asyncio.Future] = []
        self._busy = False

    @property
    def waiting(self) -> int:
        """Items queued and not yet sent."""
        return len(self._items)

    async def submit(self, item: Any) -> Any:
        """Queue one item and wait for its result (or the exception `send` raised for this item alone)."""
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
            if self.window_s > 0 and len(items) < self.max_size:  # let the requests arriving now join
                await asyncio.sleep(self.window_s)
                more = self.max_size - len(items)
                items, futures = items + self._items[:more], futures + self._futures[:more]
                del self._items[:more], self._futures[:more]
            await self._answer(items, futures)
        finally:
            self._next()

    async def _answer(self, items: list[Any], futures: list[asyncio.Future]) -> None:
        """One call for all the items; if it fails and holds several, one call per item (failures isolated)."""
        try:
            results = await self.send(items)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            if len(items) > 1:
                await asyncio.gather(*[self._answer([i], [f]) for i, f in zip(items, futures, strict=True)])
                return
            if not futures[0].done():
                futures[0].set_exception(err)
        else:
            for f, r in zip(futures, results, strict=True):
                if not f.done():
                    f.set_result(r)
