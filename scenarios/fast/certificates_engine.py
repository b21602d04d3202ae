"""The certificate peak on the fast engine: a lean event loop and Kiefer-Wolfowitz service points.

`CertificateModel` keeps its visits as generator functions; the fast engine runs the same
generators on `FastEnv` (SimPy's order of events: a process started now takes its first step before
anything else due now, in the order started, kept as a queue drained first; timeouts in a heap by time,
then scheduling order) with `FastPoint`s in place of `ServicePoint`s. A
`FastPoint` seats a customer with the kernel's online FIFO stage when they join, so a customer
costs one timeout (to the end of service, or to the moment they give up) instead of a turn
event, a condition and a timeout; the line length a newcomer sees is the number who joined
earlier and have not yet left the line. Times are the same floating-point operations SimPy
makes (now + delay; start + duration; arrival + patience), so both engines seat every customer
at the same instants and the twin's kiosks, counters, reader and ledger decide the same outcomes.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Generator
from types import GeneratorType
from typing import Any

from scenarios.certificate_demand import COUNTER, KIOSK
from scenarios.fast.certificates_deferred import DeferredServices
from scenarios.fast.kernel import RENEGED, FifoStage
from twin.errors import ValidationError


class Event:
    """Something that happens at an instant; callbacks(event) run when it does."""

    __slots__ = ("callbacks",)

    def __init__(self) -> None:
        self.callbacks: list[Callable[[Event], None] | Generator[Event, Any, Any]] = []


class FastEnv:
    """The subset of `simpy.Environment` the certificate model uses, without SimPy's machinery."""

    __slots__ = ("now", "_heap", "_seq", "events", "_starting", "arrivals")

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, Event]] = []  # timeouts: (time, scheduling order, event)
        self._seq = 0
        self.events = 0
        # processes started now, in order: SimPy's urgent events, which all fall at the current instant and
        # come before anything else due then, so a queue drained before the next timeout is their order
        self._starting: deque[Generator[Event, Any, Any]] = deque()
        # the next arrival of a feed of arrivals (`Arrivals`): a timeout kept out of the heap, taken in
        # its turn by (time, scheduling order) as if it were in it
        self.arrivals: Arrivals | None = None

    def _at(self, t: float) -> Event:
        ev = Event()
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, ev))
        return ev

    def timeout(self, delay: float) -> Event:
        """An event `delay` seconds from now."""
        return self._at(self.now + delay)

    def until(self, t: float) -> Event:
        """An event at the instant `t` (a time the kernel computed)."""
        return self._at(t)

    def process(self, generator: Generator[Event, Any, Any]) -> None:
        """Run a generator as a process: it starts at this instant, before any timeout due now."""
        self._starting.append(generator)

    def run(self) -> None:
        """Run every event in order until none is left: a process waiting on it takes its next step
        (a process is kept in the callbacks as itself: no closure per step), a callback is called;
        the next arrival of a feed fires when its (time, scheduling order) comes before the heap's first.
        A step is written out in the loop, as `step` does it, rather than called: once per callback."""
        heap, pop, push, starting = self._heap, heapq.heappop, heapq.heappush, self._starting
        while heap or starting or self.arrivals is not None:
            if starting:  # a process started at this instant takes its first step
                self.step(starting.popleft())
                continue
            feed = self.arrivals
            if feed is not None and (not heap or feed.t < heap[0][0] or (feed.t == heap[0][0] and feed.seq < heap[0][1])):
                self.now = feed.t
                self.events += 1
                feed.fire()
                continue
            t, _seq, ev = pop(heap)
            self.now = t
            self.events += 1
            if type(ev) is GeneratorType:  # a process that yielded the instant it resumes at waits as itself
                try:
                    nxt = next(ev)
                except StopIteration:
                    continue
                if type(nxt) is float:
                    self._seq += 1
                    push(heap, (nxt, self._seq, ev))
                else:
                    nxt.callbacks.append(ev)
                continue
            for callback in ev.callbacks:
                if type(callback) is GeneratorType:
                    try:
                        nxt = next(callback)
                    except StopIteration:
                        continue
                    if type(nxt) is float:
                        self._seq += 1
                        push(heap, (nxt, self._seq, callback))
                    else:
                        nxt.callbacks.append(callback)
                else:
                    callback(ev)

    def step(self, process: Generator[Event | float, Any, Any]) -> None:
        """A process takes its next step now (an event of its own): it waits on the event it yields, or
        until the instant (a float) it yields, kept in the heap as itself (no event object)."""
        self.events += 1
        try:
            nxt = next(process)
        except StopIteration:
            return
        if type(nxt) is float:
            self._seq += 1
            heapq.heappush(self._heap, (nxt, self._seq, process))
        else:
            nxt.callbacks.append(process)


class FastPoint:
    """`ServicePoint` on the fast engine: the same records, waits and line length."""

    __slots__ = ("env", "name", "servers", "stage", "_line", "records")

    def __init__(self, env: FastEnv, servers: int, name: str = "") -> None:
        if not (isinstance(servers, int) and servers >= 1):
            raise ValidationError(f"service point {name!r} needs >= 1 server, got {servers!r}")
        self.env, self.name, self.servers = env, name, servers
        self.stage = FifoStage(servers, name)
        self._line: list[float] = []  # when each customer now in line leaves it (served or gone)
        self.records: list[tuple[int, float, float, float]] = []

    @property
    def queue_length(self) -> int:
        """How many customers are waiting in line now."""
        line, now = self._line, self.env.now
        while line and line[0] <= now:
            heapq.heappop(line)
        return len(line)

    def serve(self, who: int, duration: float) -> Generator[Event, Any, float]:
        """Wait for a server, hold it `duration`, release it; returns the wait."""
        arrived = self.env.now
        started, finished, _ = self.stage.arrive(arrived, duration)
        if started > arrived:
            heapq.heappush(self._line, started)
        yield self.env.until(finished)
        self.records.append((who, arrived, started, finished))
        return started - arrived

    def serve_or_renege(self, who: int, duration: float, patience: float
                        ) -> Generator[Event, Any, float | None]:
        """Like `serve`, but leave the line after `patience`; returns the wait, None if reneged."""
        arrived = self.env.now
        started, finished, _ = self.stage.arrive(arrived, duration, patience)
        if started == RENEGED:
            heapq.heappush(self._line, finished)
            yield self.env.until(finished)
            self.records.append((who, arrived, RENEGED, finished))
            return None
        if started > arrived:
            heapq.heappush(self._line, started)
        yield self.env.until(finished)
        self.records.append((who, arrived, started, finished))
        return started - arrived


class FastCertificateModel(DeferredServices):
    """`CertificateModel` with its kiosks and counters seated by the kernel and its settled visits'
    service calls decided in batches (same rules, same calls, same order).

    A visit's first try, when its channel is open as it arrives, is the reference's steps written out in
    one generator (no nested `at_kiosk` / `serve` generators); a first try that must wait for opening hours
    or balks at a line takes the reference's own generators, and every later try is the reference's loop
    (`visits_from`). A change to the reference's first-try steps is made here too (tests/fast holds the
    engines equal)."""

    point_type = FastPoint

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._channel: list[int] = self.v.channel.tolist()

    def visit(self, i: int) -> Generator[Event, Any, None]:
        """The visit's process (see the class docstring)."""
        channel = self._channel[i]
        if self.tries[i] >= self.p.max_visits:
            return self.visits_from(i, channel)
        return self._first_kiosk(i) if channel == KIOSK else self._first_counter(i)

    def _first_kiosk(self, i: int) -> Generator[Event, Any, None]:
        """`visits_from` at a kiosk, its first try's `at_kiosk` and `serve` written out."""
        env = self.env
        self.tries[i] += 1
        k = self.kiosk[i]
        now = self.t_start + env.now
        windows = self.windows
        key = "kiosk_family_register" if self._family[i] else "kiosk"  # (a family-register certificate)
        if key == "kiosk_family_register" and not windows["kiosk"].is_open(now):
            key = "kiosk"
        if not windows[key].is_open(now):  # waits for opening hours: the reference's own steps
            done = yield from self.at_kiosk(i)
        else:
            k2 = self.kiosk2[i]
            if k >= 0 and k2 >= 0 and (self.kiosks[k].paper_out or self.kiosk_points[k].queue_length
                                       >= self.p.kiosk_line_tolerance):
                k = k2
            if k < 0 or self.kiosks[k].paper_out:
                done = False
            else:
                point = self.kiosk_points[k]
                arrived = env.now
                started, finished, _ = point.stage.arrive(arrived, self.kiosk_s.item(i))
                if started > arrived:
                    heapq.heappush(point._line, started)
                yield finished  # resumed at that instant (`FastEnv.step`)
                point.records.append((i, arrived, started, finished))
                self.waited[i] += started - arrived
                done = self._kiosk_service(i, k)
        if not done:
            self.counts["kiosk_fallbacks"] += 1
            yield from self.visits_from(i, COUNTER)

    def _first_counter(self, i: int) -> Generator[Event, Any, None]:
        """`visits_from` at a counter, its first try's `at_counter` and `serve_or_renege` written out."""
        env = self.env
        self.tries[i] += 1
        w = self.ward[i]
        point = self.counter_points[w]
        if not self.windows["counter"].is_open(self.t_start + env.now) or (
                point.queue_length * self.p.counter_service_mean_s / point.servers / 60.0
                > self.p.balk_expected_wait_min):  # waits for opening hours or balks: the reference's steps
            result = yield from self.at_counter(i)
        else:
            arrived = env.now
            started, finished, _ = point.stage.arrive(arrived, self.counter_s.item(i), self.patience.item(i))
            if started == RENEGED:
                heapq.heappush(point._line, finished)
                yield finished
                point.records.append((i, arrived, RENEGED, finished))
                self.counts["reneged"] += 1
                self.waited[i] += self.patience.item(i)
                result = "later"
            else:
                if started > arrived:
                    heapq.heappush(point._line, started)
                yield finished
                point.records.append((i, arrived, started, finished))
                self.waited[i] += started - arrived
                result = self._counter_service(i, w, i % point.servers)
        if result == "done":
            return
        if result == "to_kiosk":
            yield from self.visits_from(i, KIOSK)
            return
        yield from self._come_back_tomorrow(i)
        yield from self.visits_from(i, COUNTER)

    def start(self, indices: list[int]) -> None:
        """`source` without its process (see `Arrivals`); the source's own first step is counted as SimPy counts it."""
        self.env.events += 1
        Arrivals(self, indices).schedule()


class Arrivals:
    """The visits' arrivals as a feed of timeouts: each starts the visit due, then schedules the next arrival,
    as the source process does when its timeout fires (so every event keeps its time and scheduling order).
    The pending arrival waits in `FastEnv.arrivals` rather than in the heap (no event object, no heap push)."""

    __slots__ = ("env", "at", "t0", "visit", "todo", "due", "t", "seq")

    def __init__(self, model: FastCertificateModel, indices: list[int]) -> None:
        self.env, self.at, self.t0, self.visit = model.env, model.at, model.t_start, model.visit
        self.todo, self.due, self.t, self.seq = iter(indices), -1, 0.0, 0

    def fire(self) -> None:
        """The pending arrival is due: start its visit and schedule the next. The visit takes its first step at
        once: processes started at an instant step before anything else due then, and none is waiting now
        (the loop starts them all before it takes the next arrival)."""
        visit = self.visit(self.due)
        self.schedule()  # the next arrival is scheduled first, as the source's next timeout is
        self.env.step(visit)

    def schedule(self) -> None:
        """Take the next visit due and schedule its arrival (the timeout the source would yield)."""
        env = self.env
        due = self.due = next(self.todo, -1)
        if due < 0:
            env.arrivals = None
            return
        delay = self.at[due] - self.t0 - env.now
        self.t = env.now + (0.0 if 0.0 > delay else delay)  # max(delay, 0.0), without the call
        env._seq += 1
        self.seq = env._seq
        env.arrivals = self
