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

    __slots__ = ("_events", "_unbuilt")

    def __init__(self) -> None:
        self._events: list[Any] = []  # events, and (class, fields) of events recorded by `append_fields`
        self._unbuilt = False

    def append(self, event: Event) -> None:
        """Record one event."""
        self._events.append(event)

    def append_fields(self, kind: type[Event], *fields: Any) -> None:
        """Record one event given as its class and fields; it is built when the log is first read
        (a hot path records many that a simulation never reads: the same event, read or not)."""
        self._events.append((kind, fields))
        self._unbuilt = True

    def extend(self, events: Iterable[Event]) -> None:
        """Record several events in order."""
        self._events.extend(events)

    def _built(self) -> list[Event]:
        """The events, those recorded by fields built now (in place, so a concurrent append is kept)."""
        events = self._events
        if self._unbuilt:
            self._unbuilt = False  # before the pass: one recorded during it sets it again
            _build(events)
        return events

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._built())

    def of(self, *types: type[Event]) -> list[Event]:
        """The events of the given types, in order."""
        return [e for e in self._built() if isinstance(e, types)]

    def drain(self) -> list[Event]:
        """Return and forget every event recorded so far (for consumers that persist them)."""
        out, self._events = self._events, []
        return _build(out)  # every entry, whatever the flag says: one recorded during the swap is built too

    def to_frame(self) -> pl.DataFrame:
        """All events as one polars frame (columns: the union of fields, plus `kind`)."""
        rows = [e.as_row() for e in self._built()]
        if not rows:
            return pl.DataFrame(schema={"at": pl.Float64, "kind": pl.Utf8})
        return pl.from_dicts(rows, infer_schema_length=None)


def _build(events: list[Any]) -> list[Event]:
    """Build in place the events recorded as (class, fields)."""
    for j, e in enumerate(events):
        if type(e) is tuple:
            events[j] = e[0](*e[1])
    return events
