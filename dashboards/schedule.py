"""Which replication the page's workers run next: the scenario with the least work left first.

Shortest remaining work first minimises the mean time until each scenario's comparison appears
(the classic shortest-processing-time rule), so the planner's first result comes early. A
scenario whose cost per replication is not known yet runs one replication first (a probe);
costs are remembered per (scenario, scale, settings) for the server's later runs. The order
changes when results arrive, never what they are: every replication has its own seed stream.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import MutableMapping, Sequence
from typing import Any

Item = tuple[str, int, int, dict[str, Any]]  # scenario, design index, replication, cache key
CostKey = tuple[str, float, str]  # scenario, population scale, scenario settings (JSON)
SMOOTHING = 0.3  # weight of the newest replication in a scenario's cost per replication


def cost_key(item: Item) -> CostKey:
    """What a replication's cost depends on: the scenario, the scale and its settings."""
    key = item[3]
    return (item[0], float(key["scale"]), str(key["overrides_json"]))


class Scheduler:
    """The replications still to start, handed out shortest remaining work first."""

    def __init__(self, items: Sequence[Item], costs: MutableMapping[CostKey, float]) -> None:
        self.queues: dict[str, deque[Item]] = {}
        for item in items:
            self.queues.setdefault(item[0], deque()).append(item)
        self.keys = {s: cost_key(q[0]) for s, q in self.queues.items()}
        self.running: Counter[str] = Counter()
        self.costs = costs

    def __bool__(self) -> bool:
        return any(self.queues.values())

    def estimate(self, scenario: str) -> float | None:
        """Seconds per replication of the scenario seen so far (None: not measured yet)."""
        return self.costs.get(self.keys[scenario])

    def next(self) -> Item:
        """The replication to start now (raises IndexError when none is left)."""
        waiting = [s for s, q in self.queues.items() if q]
        if not waiting:
            raise IndexError("no replication left to start")
        unknown = [s for s in waiting if self.estimate(s) is None]
        probes = [s for s in unknown if not self.running[s]]
        known = [s for s in waiting if s not in unknown]
        if probes:
            pick = probes[0]
        elif known:
            pick = min(known, key=lambda s: (self.estimate(s) or 0.0)
                       * (len(self.queues[s]) + self.running[s]))
        else:  # every scenario left is being probed: keep the worker busy
            pick = waiting[0]
        self.running[pick] += 1
        return self.queues[pick].popleft()

    def finished(self, item: Item, seconds: float) -> None:
        """A replication finished after `seconds` of work: update its scenario's cost."""
        self.running[item[0]] -= 1
        key = cost_key(item)
        old = self.costs.get(key)
        self.costs[key] = seconds if old is None else (1 - SMOOTHING) * old + SMOOTHING * seconds
