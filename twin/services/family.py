"""Family look-up (家族の安否照会): a resident sees where their own household members are.

Only members of the asker's household, and only for an asker identified at MEDIUM or above
(a card tap, or a face check with interview). Every look-up, allowed or refused, is logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from twin.errors import Forbidden, NotFound, TwinError, ValidationError
from twin.events import EventLog
from twin.identity import Identity
from twin.services.card_serials import finite_time, id_or_minus_one
from twin.services.procedures import procedure, require_assurance
from twin.services.safety_events import FamilyLookup

if TYPE_CHECKING:
    from twin.services.shelter_history import ShelterHistory
    from twin.services.shelters import ShelterNetwork


class NotHouseholdMember(Forbidden):
    """The person looked up is not in the asker's household."""

    code = "not_household_member"


@dataclass(frozen=True, slots=True)
class MemberLocation:
    """Where the shelter system records a household member (None: not checked in anywhere)."""

    resident_id: int
    shelter_id: int | None
    since: float | None
    as_of: float


@dataclass(frozen=True, slots=True)
class HouseholdIndex:
    """Each resident's household and the residents sorted by household (read-only: directories share it)."""

    household_of: np.ndarray
    members_sorted: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, household_of: np.ndarray) -> HouseholdIndex:
        """The index of these households (copied, sorted once)."""
        hh = np.array(household_of, dtype=np.int64)
        order = np.argsort(hh, kind="stable")
        starts = np.searchsorted(hh[order], np.arange(hh.max(initial=-1) + 2))
        for a in (hh, order, starts):
            a.flags.writeable = False
        return cls(hh, order, starts)


@dataclass(frozen=True, slots=True)
class Askers:
    """Askers checked once (`FamilyDirectory.askers`): resident id (-1 if none), refusal code (0:
    allowed) and the reason of each code."""

    ids: np.ndarray
    code: np.ndarray
    codes: tuple[str, ...]


class FamilyDirectory:
    """Answers look-ups from the shelter records, limited to the asker's household."""

    def __init__(self, network: ShelterNetwork, household_of: np.ndarray | HouseholdIndex,
                 events: EventLog | None = None) -> None:
        self.network = network
        index = household_of if isinstance(household_of, HouseholdIndex) else HouseholdIndex.of(household_of)
        self.household_of = index.household_of
        self.events = events if events is not None else network.events
        self._members_sorted, self._starts = index.members_sorted, index.starts

    @classmethod
    def from_city(cls, city, network: ShelterNetwork, events: EventLog | None = None) -> FamilyDirectory:
        """The directory over a city's households."""
        return cls(network, city.residents["household_id"].to_numpy(), events)

    def members(self, resident_id: int) -> list[int]:
        """Everyone in `resident_id`'s household, the resident included, in id order."""
        h = int(self.household_of[self.network.resident_index(resident_id)])
        return sorted(self._members_sorted[self._starts[h]:self._starts[h + 1]].tolist())

    def _log(self, now: float, asker: int, target: int, allowed: bool, reason: str) -> None:
        self.events.append(FamilyLookup(now, asker, target, allowed, reason))

    def locate(self, asker: Identity, target_id: int, now: float) -> MemberLocation:
        """Where household member `target_id` is; anyone outside the household is refused."""
        return self.locate_many(asker, [target_id], now)[0]

    def locate_many(self, asker: Identity, target_ids: list[int], now: float) -> list[MemberLocation]:
        """`locate` for each target in order (one logged look-up each); the first refused one raises."""
        t = finite_time(now)
        net = self.network
        since, fids = net.since, net.facility_ids
        return [MemberLocation(target, None, None, t) if s < 0
                else MemberLocation(target, int(fids[s]), float(since[target]), t)
                for target, s in self._lookups(asker, target_ids, t)]

    def unplaced(self, asker: Identity, target_ids: list[int], now: float) -> list[bool]:
        """`locate_many` answering a column: whether each target is at no shelter in the system."""
        return [s < 0 for _target, s in self._lookups(asker, target_ids, finite_time(now))]

    def askers(self, identities: Sequence[Identity]) -> Askers:
        """Check each asker once, as `locate` checks the asker on every call (a column call can then
        reuse the answer for many rounds of asks)."""
        n = self.network.where.size
        need = procedure("family_lookup").required
        codes = [""]  # reason per code; 0: allowed
        ids, code = [], []
        for ident in identities:
            rid = ident.resident_id
            if type(rid) is int and 0 <= rid < n and ident.assurance >= need:  # the common case
                ids.append(rid)
                code.append(0)
                continue
            try:
                require_assurance(ident, "family_lookup")
                ids.append(self.network.resident_index(rid))
                code.append(0)
            except TwinError as e:
                ids.append(id_or_minus_one(rid))
                code.append(_code(codes, e.code))
        return Askers(np.asarray(ids, dtype=np.int64), np.asarray(code, dtype=np.int64), tuple(codes))

    def locate_columns(self, askers: Askers | Sequence[Identity], asker_of: np.ndarray, targets: np.ndarray,
                       at: np.ndarray, records: ShelterHistory) -> dict[str, np.ndarray]:
        """`locate` of one target per row (asker `askers[asker_of[row]]`, at the row's time), answered
        from `records` (the network's history) as they were then; rows logged in order as `locate`
        logs them. Never raises for a refusal: the row answers allowed False with the reason.
        Columns: allowed, reason, shelter_id (facility id; -1: not recorded anywhere or refused)."""
        checked = askers if isinstance(askers, Askers) else self.askers(askers)
        which = np.asarray(asker_of, dtype=np.int64)
        target = np.asarray(targets, dtype=np.int64)
        t = np.asarray(at, dtype=np.float64)
        if not which.size == target.size == t.size:
            raise ValidationError("look-up columns must have one length")
        if not np.isfinite(t).all():
            finite_time(float(t[~np.isfinite(t)][0]))  # raises naming the value
        if which.size and not (0 <= which.min() and which.max() < checked.ids.size):
            raise ValidationError(f"asker_of must index the {checked.ids.size} askers given")
        net, hh, n = self.network, self.household_of, self.network.where.size
        codes = list(checked.codes)
        aid, code = checked.ids[which], checked.code[which]
        code[(code == 0) & ((target < 0) | (target >= n))] = _code(codes, NotFound.code)
        safe = np.clip(target, 0, max(n - 1, 0))
        outsider = (code == 0) & (hh[safe] != hh[np.clip(aid, 0, max(n - 1, 0))])
        code[outsider] = _code(codes, NotHouseholdMember.code)
        allowed = code == 0
        shelter = np.full(target.size, -1, dtype=np.int64)
        if allowed.any():
            s = records.where_at(target[allowed], t[allowed])
            shelter[allowed] = np.where(s >= 0, net.facility_ids[np.maximum(s, 0)], -1)
        reason = np.asarray(codes)[code]
        self.events.extend_columns(FamilyLookup, t, aid, target, allowed,  # (one "" shared when all allowed)
                                   [""] * t.size if allowed.all() else reason)
        return {"allowed": allowed, "reason": reason, "shelter_id": shelter}

    def _lookups(self, asker: Identity, target_ids: list[int], t: float) -> list[tuple[int, int]]:
        """(target, shelter index or -1) per target, each checked and logged; the first refusal raises."""
        net, hh = self.network, self.household_of
        try:
            require_assurance(asker, "family_lookup")
            asker_id = net.resident_index(asker.resident_id)
        except TwinError as e:
            first = target_ids[0] if len(target_ids) else -1
            self._log(t, id_or_minus_one(asker.resident_id), id_or_minus_one(first), False, e.code)
            raise
        home = hh[asker_id]
        where = net.where
        n, out, log = where.size, [], self.events.append
        for target in target_ids:
            if not isinstance(target, (int, np.integer)) or not 0 <= target < n:
                self._log(t, asker_id, id_or_minus_one(target), False, NotFound.code)
                net.resident_index(target)  # raises NotFound with its message
            target = int(target)
            if hh[target] != home:
                self._log(t, asker_id, target, False, NotHouseholdMember.code)
                raise NotHouseholdMember(f"resident {target} is not in the household of resident "
                                         f"{asker_id}; only own household members can be looked up "
                                         "(ask the shelter desk or the police for others)")
            log(FamilyLookup(t, asker_id, target, True, ""))
            out.append((target, int(where[target])))
        return out

    def household(self, asker: Identity, now: float) -> list[MemberLocation]:
        """Where every other member of the asker's household is (one logged look-up each)."""
        try:
            mates = self.members(asker.resident_id)
        except NotFound:
            self._log(finite_time(now), int(asker.resident_id), -1, False, NotFound.code)
            raise
        return self.locate_many(asker, [m for m in mates if m != asker.resident_id], now)


def _code(codes: list[str], reason: str) -> int:
    """The code of a refusal reason in `codes` (added when new)."""
    if reason not in codes:
        codes.append(reason)
    return codes.index(reason)
