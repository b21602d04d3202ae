"""Safety confirmation by card tap (カードによる安否確認): the entry point of the `safety` service.

The parts, each in its own module:

- shelters (`shelters.ShelterNetwork`): capacity, readers, check-in by card serial (never the
  My Number) one tap at a time (`tap`) or in batches (`check_in_many`), by an identity from a
  reader, counter or face check (`check_in_identity`), or by paper form (`paper_form`, entered
  later by `reconcile_paper`); check-out; a second tap is idempotent; a full shelter redirects
  to the nearest one with room.
- readers offline (`shelter_offline`): taps journaled before the beep, synced exactly once.
- family look-up (`family.FamilyDirectory`): own household only, every look-up logged.
- head counts (`headcount.DisasterHQ`): shelters report; the HQ view ages and has an error
  against the truth.
- child watch (`childwatch.ChildWatch`): school and cram-school taps notify the consenting
  guardian through the portal within a deadline; records deleted after retention.

`Safety.from_city` wires them together on one event log (the composition a scenario or an
actor uses); the serial resolver defaults to a `SerialIndex` of the city's cards and can be
the card registry (`CardRegistry.resident_of`) instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.events import EventLog
from twin.services.card_serials import CardRevoked, SerialIndex, SerialResolver, UnknownCard
from twin.services.childwatch import ChildWatch, ChildWatchParams, Notify
from twin.services.family import FamilyDirectory, HouseholdIndex, MemberLocation, NotHouseholdMember
from twin.services.headcount import DisasterHQ, HeadcountAccuracy, ShelterReport, shelter_reports
from twin.services.shelter_offline import JsonlJournal, MemoryJournal, SyncReport, TapQueue
from twin.services.shelter_outcomes import Outcome
from twin.services.shelter_paper import PaperReport
from twin.services.shelters import (
    ReaderOffline,
    ShelterNetwork,
    ShelterParams,
    TapResult,
    UnknownReader,
)

__all__ = [
    "CardRevoked", "ChildWatch", "ChildWatchParams", "DisasterHQ", "FamilyDirectory", "HeadcountAccuracy",
    "JsonlJournal", "MemberLocation", "MemoryJournal", "NotHouseholdMember", "Outcome", "PaperReport",
    "ReaderOffline", "Safety", "SerialIndex", "SerialResolver", "ShelterNetwork", "ShelterParams",
    "ShelterReport", "SyncReport", "TapQueue", "TapResult", "UnknownCard", "UnknownReader", "shelter_reports",
]


@dataclass(frozen=True)
class Safety:
    """The safety-confirmation service of one city: shelters, family look-up, HQ, child watch."""

    shelters: ShelterNetwork
    family: FamilyDirectory
    hq: DisasterHQ
    child_watch: ChildWatch | None
    events: EventLog

    @classmethod
    def from_city(cls, city, now: float, resolver: SerialResolver | None = None, notify: Notify | None = None,
                  shelter_params: ShelterParams | None = None,
                  child_params: ChildWatchParams | None = None,
                  households: HouseholdIndex | None = None) -> Safety:
        """Wire the service for a city; child watch only when a `notify` (e.g. `Portal.deliver`) is given.

        `households`: the city's household index when the caller keeps one (else sorted here)."""
        events = EventLog()
        resolver = resolver or SerialIndex.from_residents(city.residents)
        net = ShelterNetwork.from_city(city, resolver, shelter_params, now, events)
        watch = None if notify is None else ChildWatch.from_city(city, notify, resolver, child_params, events)
        family = (FamilyDirectory.from_city(city, net, events) if households is None
                  else FamilyDirectory(net, households, events))
        return cls(net, family, DisasterHQ.for_network(net, events), watch, events)

    def report_headcounts(self, now: float) -> int:
        """Every shelter reports its head count to the HQ now; returns how many reports were taken."""
        return self.hq.receive(shelter_reports(self.shelters, now), now)
