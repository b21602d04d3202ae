"""The linkage broker and the agencies' systems (情報提供ネットワーク) as one actor.

Hosts the twin's `LinkageNetwork`: the broker (codes, permission table, exchange record),
the intermediate servers with the city's synthetic copies, and one business system per
agency. An agency, with its own credential, asks for items about a resident it serves; the
broker checks the permission table and the design's ordinances and logs the exchange, which
the resident reads on the portal. An agency asks only about residents who applied to it for
the task (`open_case`, from the resident's session); any other ask is refused and logged for
the resident. The broker's master key is derived from the data folder's secret
(`actors.trust_root`), never stored, so a restarted broker issues the same codes; asks and
applications are journaled and replayed.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np

from actors import trust_root, world
from actors.host import Host
from actors.hosts_safety import identity_of
from actors.spec import ServiceSpec
from twin.errors import TwinError
from twin.services.linkage import DISCLOSURE_KIND
from twin.services.linkage_network import LinkageNetwork, seed_copies
from twin.services.linkage_tables import LinkageScope
from twin.services.portal import Portal

REFUSALS_PER_SUBJECT = 20  # refused asks an agency may make about one resident in an hour (each is journaled)
REFUSALS_PER_AGENCY = 5_000  # refused asks an agency may make in an hour, all residents together
HOUR = 3600.0


class TooManyRefusals(TwinError):
    """An agency keeps asking what it is refused: it is throttled for the hour, and nothing is recorded."""

    code = "rate_limited"
    status = 429


class LinkageHost(Host):
    """The broker, the agencies and a portal view of the exchange record."""

    kind = "linkage"

    def __init__(self, spec: ServiceSpec) -> None:
        self._refused: dict[tuple[str, int | None], deque[float]] = {}  # (agency, resident|None) -> refusal times
        super().__init__(spec, "linkage")

    def build(self) -> None:
        """The network for the city with its copies; the broker key from the store."""
        c, d = world.city(self.spec), world.design(self.spec)
        key = trust_root.derive(self.spec.trust_root(), "linkage/broker")  # never stored: derived on each start
        self.network = LinkageNetwork.build(c.residents, LinkageScope.from_design(d.linkage), master_key=key,
                                            cases_required=True)
        seed_copies(self.network, c.residents, np.random.default_rng([self.spec.seed, 0x11A6E]), self.spec.built_at)
        self.portal = Portal(broker=self.network.broker)

    def ops(self) -> dict:
        return {"ask": self._ask, "case": self._case}

    def _case(self, b: dict, at: float) -> dict[str, Any]:
        internal = self.network.system(b["agency"]).open_case(int(b["resident_id"]), b["task"])
        return {"agency": b["agency"], "task": b["task"], "resident_id": int(b["resident_id"]),
                "internal_number": internal}

    def _ask(self, b: dict, at: float) -> dict[str, Any]:
        system = self.network.system(b["agency"])
        res = system.ask(int(b["resident_id"]), b["task"], tuple(b["items"]), b["provider"], float(b["now"]))
        return {"request_id": res.request_id, "requester": res.requester, "provider": res.provider,
                "task": res.task, "subject": res.subject.value, "values": res.as_dict(),
                "missing": list(res.missing), "at": res.at}

    def agencies(self) -> list[str]:
        """Every agency that may ask on the network (each gets a credential; the portal only discloses)."""
        table = self.network.broker.table
        return sorted(a for a in self.network.systems if table.agency(a).kind != DISCLOSURE_KIND)

    def ask(self, agency: str, resident_id: int, task: str, items: list[str], provider: str,
            now: float) -> dict[str, Any]:
        """`agency` asks `provider` for items about a resident it serves (refusals raised and logged)."""
        body = {"agency": agency, "resident_id": int(resident_id), "task": task, "items": list(items),
                "provider": provider, "now": float(now)}
        self._throttle(agency, int(resident_id), time.monotonic())
        try:
            return self.run("ask", body, time.time())
        except TwinError:  # a refusal is journaled (the resident sees it); count it against the bounds
            t = time.monotonic()
            for key in ((agency, int(resident_id)), (agency, None)):
                self._refused.setdefault(key, deque()).append(t)
            raise

    def _throttle(self, agency: str, resident_id: int, t: float) -> None:
        """Refuse, unrecorded, an agency past its hourly bound of refused asks (per resident, and in all)."""
        for key, bound in (((agency, resident_id), REFUSALS_PER_SUBJECT), ((agency, None), REFUSALS_PER_AGENCY)):
            times = self._refused.get(key)
            while times and times[0] <= t - HOUR:
                times.popleft()
            if times is not None and not times:
                del self._refused[key]
            elif times is not None and len(times) >= bound:
                raise TooManyRefusals(f"agency {agency} was refused {len(times)} times in the last hour"
                                      f"{'' if key[1] is None else ' about this resident'}; it may ask again in "
                                      f"{times[0] + HOUR - t:.0f} s (nothing was recorded)")

    def open_case(self, agency: str, resident_id: int, task: str) -> dict[str, Any]:
        """A resident applies to `agency` for `task`: from now on the agency may ask about them for it."""
        self.network.system(agency)  # an unknown agency is refused before anything is journaled
        return self.run("case", {"agency": agency, "resident_id": int(resident_id), "task": task}, time.time())

    def linkage_log(self, identity: dict, now: float) -> list[dict[str, Any]]:
        """The exchanges about the resident, as the portal shows them to the resident."""
        return self.portal.linkage_log(identity_of(identity), now).to_dicts()
