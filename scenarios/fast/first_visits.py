"""Every arrival group's first desk visits, worked out as columns before the fast disaster run.

A group reaches its shelter and each of its check-in methods' members (a part) joins that
method's desk there (the face-check desk of its ward) at the group's arrival; a group's parts in
the order their methods first appear among its members (as `arrive_group` splits a group). A
part's desk time is its members' times added one after another, as `sum` of `desk_times` adds
them (the same float operations). `arrival_clock` gives the groups' arrival times as SimPy's clock
reaches them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scenarios.fast import first_runs
from scenarios.fast.desk_plan import seat_planned_all
from twin.errors import ValidationError


def arrival_clock(at: np.ndarray, horizon: float, passes: int = 32) -> np.ndarray:
    """SimPy's clock at each arrival up to the first one after `horizon`: from 0.0, each arrival is
    `now + (at - now)` (a timeout of the gap from the previous one), the same float operations.

    Worked out as the fixed point of that step over the whole array (start: the arrival times
    themselves, which the step keeps wherever the gap is exact, as it is whenever an arrival is at
    most twice the previous one): one bit-equal fixed point of every step at once is the
    sequential result (each time follows from the one before it, from 0.0), and each pass makes at
    least one more time final. Arrivals that keep it moving past `passes` passes (many gaps
    rounded) fall back to the sequential loop."""
    a = np.asarray(at, dtype=np.float64)
    later = np.flatnonzero(a > horizon)  # SimPy's source stops at the first arrival past it
    a = a[:int(later[0]) if later.size else a.size]
    now = a.copy()
    for _ in range(passes):
        prev = np.concatenate(([0.0], now[:-1]))
        step = prev + (a - prev)
        if np.array_equal(step.view(np.int64), now.view(np.int64)):
            return now
        now = step
    now_s, out = 0.0, []
    for t in a.tolist():
        now_s = now_s + (t - now_s)
        out.append(now_s)
    return np.asarray(out, dtype=np.float64)


class FirstVisits:
    """The parts in joining order (group by group): group (an array), method, shelter, desk index (into
    `desks`), desk time, first member and size, and the members of parts whose members are not
    consecutive (`members`, by part: any other part is head, head + 1, ..., head + size - 1); as
    arrays, every member part by part (`people`, part p's from `start[p]`) and their desk times."""

    __slots__ = ("group", "members", "method", "desk", "total", "head", "size", "shelter", "people", "start", "d")

    def __init__(self, model: Any, groups: int, desks: list[Any]) -> None:
        ev = model.ev
        starts = ev.group_start[:groups + 1]
        n = int(starts[-1])  # members of the groups within the horizon
        group = np.repeat(np.arange(groups), np.diff(starts))
        method = np.asarray(ev.member_method[:n], dtype=np.int64)
        # a part per (group, method), in order of its first member (members are in group order)
        key = group * 3 + method
        _, first, which = np.unique(key, return_index=True, return_inverse=True)
        by_first = np.argsort(first, kind="stable")
        part_of = np.empty(by_first.size, np.int64)
        part_of[by_first] = np.arange(by_first.size)
        part = part_of[which.ravel()]  # each member's part
        people = np.argsort(part, kind="stable")  # members part by part, in their order
        size = np.bincount(part, minlength=by_first.size)
        start = np.cumsum(size) - size
        head = people[start]  # each part's first member
        g, how = group[head], method[head]
        shelter = ev.group_shelter[:groups][g]
        index = {id(d): i for i, d in enumerate(desks)}
        n_s = len(model.stretch_of[0])
        desk_of = np.array([[index.get(id(d), -1) for d in model.desk_of[k]] or [-1] * n_s
                            for k in (0, 1, 2)])
        desk = desk_of[how, shelter]
        if (desk < 0).any():
            raise ValidationError("some evacuees check in by a method their shelter has no desk for "
                                  "(face checks enabled with no face-check staff?)")
        stretch = np.array([model.stretch_of[k] for k in (0, 1, 2)], dtype=np.float64)
        d = model.duration_s[people] * np.repeat(stretch[how, shelter], size)
        total = d[start]
        for pos in range(1, int(size.max()) if size.size else 0):  # + the next member's, in order
            more = size > pos
            total[more] = total[more] + d[start[more] + pos]
        # listed: the parts whose members are not head, head + 1, ... (a group's methods interleaved)
        apart = people - np.arange(people.size) != np.repeat(head - start, size)
        listed = np.flatnonzero(np.logical_or.reduceat(apart, start)) if start.size else start
        self.members = {p: people[a:a + k].tolist() for p, a, k in
                        zip(listed.tolist(), start[listed].tolist(), size[listed].tolist(), strict=True)}
        self.group = g
        self.method = how.tolist()
        self.desk = desk
        self.total = total
        self.head, self.size, self.shelter = head.tolist(), size.tolist(), shelter.tolist()
        # every member part by part (part p's: people[start[p]:start[p] + size[p]]) and desk time
        self.people, self.start, self.d = people, start, d

    def plan(self, desks: list[Any], times: np.ndarray) -> np.ndarray:
        """Give each desk its parts (in joining order) and seat them; each part's planned finish."""
        key = self.desk.astype(np.uint16) if len(desks) < 2**16 else self.desk  # (a radix sort)
        by_desk = np.argsort(key, kind="stable")
        bounds = np.searchsorted(self.desk[by_desk], np.arange(len(desks) + 1)).tolist()
        finish = np.empty(by_desk.size)
        finish[by_desk] = seat_planned_all(desks, times[self.group[by_desk]], self.total[by_desk], by_desk, bounds,
                                           first_runs.compiled_for(self.people.size))  # (the runs' rule)
        return finish
