"""Every arrival group's first desk visits, worked out as columns before the fast disaster run.

A group reaches its shelter and each of its check-in methods' members (a part) joins that
method's desk there (the face-check desk of its ward) at the group's arrival. For the parts of
the groups whose members share one method (most) the desk and desk time come from columns; the
desk time is the members' times added one after another, as `sum` of `desk_times` adds them (the
same float operations). The other groups are split as `arrive_group` splits them (parts in the
order their methods first appear).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.errors import ValidationError


class FirstVisits:
    """The parts in joining order (group by group): group, members (None: the whole group),
    method, desk index (into `desks`) and desk time."""

    __slots__ = ("group", "members", "method", "desk", "total")

    def __init__(self, model: Any, groups: int, desks: list[Any]) -> None:
        ev = model.ev
        starts = ev.group_start[:groups + 1]
        first, sizes = starts[:-1], np.diff(starts)
        method = np.asarray(ev.member_method[:starts[-1]], dtype=np.int64)
        one = (np.maximum.reduceat(method, first) == np.minimum.reduceat(method, first)
               if groups else np.zeros(0, bool))
        shelter = ev.group_shelter[:groups]
        how = method[first] if groups else np.zeros(0, np.int64)
        index = {id(d): i for i, d in enumerate(desks)}
        n_s = len(model.stretch_of[0])
        desk_of = np.array([[index.get(id(d), -1) for d in model.desk_of[k]] or [-1] * n_s
                            for k in (0, 1, 2)])
        stretch = np.array([model.stretch_of[k] for k in (0, 1, 2)], dtype=np.float64)
        k = stretch[how, shelter]
        durations = np.asarray(model.durations, dtype=np.float64)[:starts[-1]]
        d = durations * np.repeat(k, sizes)  # each member's desk time: durations[m] * stretch
        total = d[first] if groups else np.zeros(0)
        for pos in range(1, int(sizes.max()) if groups else 0):  # + the next member's, in order
            more = sizes > pos
            total[more] = total[more] + d[first[more] + pos]
        g_one = np.flatnonzero(one)
        rows = [(g_one, np.zeros(g_one.size, np.int64), how[one], desk_of[how[one], shelter[one]],
                 total[one])]
        split = _split_parts(model, np.flatnonzero(~one).tolist(), starts.tolist(), desk_of)
        members: dict[int, list[int]] = {}
        if split[0]:
            rows.append(tuple(np.asarray(c) for c in split[:5]))
        g, part, h, desk, t = (np.concatenate(c) for c in zip(*rows, strict=True))
        if (desk < 0).any():
            raise ValidationError("some evacuees check in by a method their shelter has no desk for "
                                  "(face checks enabled with no face-check staff?)")
        order = np.lexsort((part, g))
        if split[0]:  # the split parts' members, by their place in joining order
            where = np.empty(order.size, np.int64)
            where[order] = np.arange(order.size)
            members = dict(zip(where[g_one.size:].tolist(), split[5], strict=True))
        self.group = g[order].tolist()
        self.method = h[order].tolist()
        self.desk = desk[order]
        self.total = t[order]
        self.members = members

    def plan(self, desks: list[Any], times: np.ndarray) -> None:
        """Give each desk its parts (in joining order) and seat them."""
        by_desk = np.argsort(self.desk, kind="stable")
        bounds = np.searchsorted(self.desk[by_desk], np.arange(len(desks) + 1))
        group = np.asarray(self.group, dtype=np.int64)
        for i, desk in enumerate(desks):
            part = by_desk[bounds[i]:bounds[i + 1]]
            desk.plan_all(times[group[part]].tolist(), self.total[part].tolist(),
                          group[part].tolist(), part.tolist())
            desk.seat_planned()


def _split_parts(model: Any, groups: list[int], starts: list[int], desk_of: np.ndarray
                 ) -> tuple[list[int], list[int], list[int], list[int], list[float], list[list[int]]]:
    """The parts of groups whose members use several methods: group, part number, method, desk,
    desk time and members."""
    method, shelter_of = model.method, model.group_shelter
    cols: tuple[list, ...] = ([], [], [], [], [], [])
    for g in groups:
        s = shelter_of[g]
        by: dict[int, list[int]] = {}
        for m in range(starts[g], starts[g + 1]):
            by.setdefault(method[m], []).append(m)
        for k, (how, part) in enumerate(by.items()):
            for col, v in zip(cols, (g, k, how, int(desk_of[how, s]),
                                     sum(model.desk_times(part, how, s)), part), strict=True):
                col.append(v)
    return cols
