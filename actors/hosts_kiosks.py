"""The kiosk fleet (キオスク端末群) and ward counters: certificate issuance on one durable store.

Hosts the twin's `CertificateService` (eligibility, fee and numbered audit record in one
transaction) with one `Kiosk` per store or public kiosk site and one `CounterOffice` per
ward. A kiosk request rests on a card authentication the same kiosk recorded (a kiosk_auth
tap, checked by the trust actor). Live kiosks report real faults themselves, so the
simulated fault rates are zero here; the fleet takes cash into the store's clearing account
(wallet payments go through the resident's own shard: `/v1/me/payments`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import polars as pl

from actors import world
from actors.host import Host
from actors.hosts_safety import identity_of
from actors.spec import ServiceSpec
from twin.errors import NotFound, ValidationError
from twin.services.certificate_rules import CertificateParams
from twin.services.certificates import CertificateService
from twin.services.payments import Ledger

KIOSK_SITES = {"store": "store", "public_kiosk_site": "public"}


def certificate_params(section: Any) -> CertificateParams:
    """The design's certificates section as the service's parameters (no simulated faults)."""
    return CertificateParams(
        kiosk_certificate_types=tuple(section.kiosk_certificate_types), kiosk_fee_yen=section.kiosk_fee_yen,
        counter_fee_yen=section.counter_fee_yen, kiosk_open_hour=section.kiosk_open_hour,
        kiosk_close_hour=section.kiosk_close_hour, kiosk_closed_new_year=section.kiosk_closed_new_year,
        family_register_weekdays_only=section.family_register_weekdays_only,
        counter_windows_per_ward=section.counter_windows_per_ward, kiosk_p_network_down=0.0, kiosk_p_paper_out=0.0)


def kiosk_sites(city: Any, section: Any) -> pl.DataFrame:
    """Facilities that hold a kiosk: convenience stores (if the design has store kiosks) and public sites."""
    kinds = ["public_kiosk_site"] + (["store"] if section.store_kiosks else [])
    return city.facilities.filter(pl.col("kind").is_in(kinds)).select("facility_id", "kind", "ward")


class KioskHost(Host):
    """Every kiosk and ward counter of the city over one certificate service."""

    kind = "kiosks"

    def __init__(self, spec: ServiceSpec) -> None:
        super().__init__(spec, "kiosks")

    def build(self) -> None:
        """The service on this actor's store; a kiosk per site, a counter per ward."""
        c, d = world.city(self.spec), world.design(self.spec)
        self.params = certificate_params(d.certificates)
        self.service = CertificateService(c.residents, Ledger(self.store), self.params)
        sites = kiosk_sites(c, d.certificates)
        self.kiosks = {int(f): self.service.kiosk(int(f), int(w), KIOSK_SITES[k])
                       for f, k, w in sites.iter_rows()}
        wards = c.facilities.filter(pl.col("kind") == "counter")["ward"].unique().sort().to_list()
        self.counters = {int(w): self.service.counter(int(w)) for w in wards}
        self.rng = np.random.default_rng(0)  # the fault draws (at rate 0) need one

    def sites(self) -> dict[str, list[int]]:
        """Kiosk ids (facility ids) and counter wards."""
        return {"kiosks": sorted(self.kiosks), "counters": sorted(self.counters)}

    def kiosk_request(self, kiosk_id: int, identity: dict, cert_type: str, now: float, *, request_key: str,
                      copies: int = 1) -> dict[str, Any]:
        """Issue at a kiosk (idempotent by request key), or raise the refusal."""
        kiosk = self.kiosks.get(int(kiosk_id))
        if kiosk is None:
            raise NotFound(f"no kiosk {kiosk_id} in this city")
        doc = kiosk.request(identity_of(identity), cert_type, now, self.rng, request_key=request_key, copies=copies)
        return _doc(doc)

    def counter_request(self, ward: int, identity: dict, cert_type: str, now: float, *, request_key: str,
                        window: int, copies: int = 1, method: str = "cash") -> dict[str, Any]:
        """Issue at a ward counter's staff window (idempotent by request key), or raise the refusal."""
        office = self.counters.get(int(ward))
        if office is None:
            raise NotFound(f"no counter in ward {ward}")
        if method != "cash":
            raise ValidationError("the live counter takes cash; wallet payments go through /v1/me/payments")
        doc = office.request(identity_of(identity), cert_type, now, request_key=request_key, window=window,
                             copies=copies, method=method)
        return _doc(doc)

    def documents(self) -> pl.DataFrame:
        """The audit register of every document issued."""
        return self.service.documents()

    def reconcile(self) -> dict[str, Any]:
        """The fleet ledger's reconciliation report."""
        return self.service.ledger.reconcile().to_dict()


def _doc(doc: Any) -> dict[str, Any]:
    return {f.name: getattr(doc, f.name) for f in dataclasses.fields(doc)}
