"""Typed domain events and the log that collects them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened at time `at` (POSIX seconds); subclasses add fields."""

    at: float

    kind: ClassVar[str] = "event"

    def as_row(self) -> dict[str, Any]:
        """The event as a flat dict with its kind."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        row["kind"] = self.kind
        return row


class EventLog:
    """An append-only list of events; entities append, the outside reads."""

    __slots__ = ("_events",)

    def __init__(self) -> None:
        self._events: list[Event] = []

    def append(self, event: Event) -> None:
        """Record one event."""
        self._events.append(event)

    def extend(self, events: Iterable[Event]) -> None:
        """Record several events in order."""
        self._events.extend(events)

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def of(self, *types: type[Event]) -> list[Event]:
        """The events of the given types, in order."""
        return [e for e in self._events if isinstance(e, types)]

    def drain(self) -> list[Event]:
        """Return and forget every event recorded so far (for consumers that persist them)."""
        out, self._events = self._events, []
        return out

    def to_frame(self) -> pl.DataFrame:
        """All events as one polars frame (columns: the union of fields, plus `kind`)."""
        rows = [e.as_row() for e in self._events]
        if not rows:
            return pl.DataFrame(schema={"at": pl.Float64, "kind": pl.Utf8})
        return pl.from_dicts(rows, infer_schema_length=None)
