"""Business notices pushed to matching businesses, and license renewals online (許認可の更新)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from twin.clock import DAY, JST, local_date
from twin.errors import Conflict, Forbidden, NotFound, ValidationError
from twin.services._checks import read_table
from twin.services.business import (
    DIVISIONS,
    GRADES,
    INDUSTRIES,
    BusinessPortal,
    RegistrationCredential,
    check_corporate_number,
)

KINDS = ("procurement", "subsidy")


@dataclass(frozen=True, slots=True)
class Notice:
    """A procurement or subsidy notice and whom it is for."""

    notice_id: int
    kind: str
    division: str
    title: str
    industries: frozenset[str]  # empty: any industry
    grades: frozenset[str]  # procurement: the qualification grades invited
    max_employees: int | None  # subsidy: small businesses only
    wards: frozenset[int]  # empty: anywhere


def _qualified(portal: BusinessPortal, cn: str, n: Notice, today: dt.date) -> bool:
    """A procurement notice reaches businesses with a valid qualification in a category and grade."""
    q = portal.section_data(cn, "qualification")
    if q is None or q["valid_until"] < today:
        return False
    cats = set(q["categories"])
    return (not n.industries or bool(cats & n.industries)) and (
        not n.grades or q["grade"] in n.grades
    )


def _eligible(portal: BusinessPortal, cn: str, n: Notice) -> bool:
    """A subsidy notice reaches businesses of the industry, size and ward it names."""
    b = portal.section_data(cn, "basic")
    if b is None:
        return False
    return (
        (not n.industries or b["industry"] in n.industries)
        and (n.max_employees is None or b["employees"] <= n.max_employees)
        and (not n.wards or b["ward"] in n.wards)
    )


class Notices:
    """Publish notices; each is pushed to the inbox of every matching business."""

    def __init__(self, portal: BusinessPortal) -> None:
        self.portal = portal
        self.published: list[Notice] = []

    def publish(
        self,
        division: str,
        kind: str,
        title: str,
        now: float,
        *,
        industries: Iterable[str] = (),
        grades: Iterable[str] = (),
        max_employees: int | None = None,
        wards: Iterable[int] = (),
    ) -> tuple[Notice, list[str]]:
        """Publish a notice; returns it and the corporate numbers it was pushed to."""
        if division not in DIVISIONS:
            raise Forbidden(f"{division!r} is not a division of the city")
        if kind not in KINDS:
            raise ValidationError(f"notice kind must be one of {', '.join(KINDS)}, got {kind!r}")
        ind, gr = frozenset(industries), frozenset(grades)
        if not ind <= set(INDUSTRIES) or not gr <= set(GRADES):
            raise ValidationError("industries must be JSIC groups A-T and grades A-D")
        n = Notice(
            len(self.published) + 1, kind, division, title, ind, gr, max_employees, frozenset(wards)
        )
        self.published.append(n)
        today = local_date(now)
        match = _qualified if kind == "procurement" else (lambda p, cn, n, _t: _eligible(p, cn, n))
        sent = [cn for cn in self.portal.accounts() if match(self.portal, cn, n, today)]
        for cn in sent:
            self.portal.deliver(cn, f"{kind}:{n.notice_id}", title, now)
        self.portal.log("notice", "", division, f"{kind} {n.notice_id} to {len(sent)}", now)
        return n, sent


@dataclass(frozen=True, slots=True)
class LicenseKind:
    """A license the city grants: who grants it, its term, the renewal window, what it used to need."""

    license: str
    name_ja: str
    division: str
    term_years: int
    renewal_window_days: int
    attachments_replaced: tuple[str, ...]


@lru_cache(maxsize=1)
def license_kinds() -> dict[str, LicenseKind]:
    """The licenses of calibration/data/business_licenses.csv."""
    return {
        r["license"]: LicenseKind(
            r["license"],
            r["name_ja"],
            r["division"],
            int(r["term_years"]),
            int(r["renewal_window_days"]),
            tuple(a for a in r["attachments_replaced"].split("|") if a),
        )
        for r in read_table("business_licenses.csv")
    }


def _years_later(at: float, years: int) -> float:
    """The same local date and time `years` later (28 February for a 29 February)."""
    t = dt.datetime.fromtimestamp(at, JST)
    try:
        return t.replace(year=t.year + years).timestamp()
    except ValueError:
        return t.replace(year=t.year + years, day=28).timestamp()


class Licenses:
    """Licenses held by businesses, renewed online when their basic data is on file."""

    def __init__(self, portal: BusinessPortal) -> None:
        self.portal = portal
        self._held: dict[int, list] = {}  # id -> [corporate number, kind, expires]
        self.attachments_avoided: dict[str, int] = {}
        self._reminded: set[tuple[int, float]] = set()

    def grant(self, division: str, corporate_number: str, license: str, now: float) -> int:
        """Grant a license at the counter (the first permit); returns its id."""
        kind = license_kinds().get(license)
        if kind is None:
            raise NotFound(f"unknown license {license!r}; known: {', '.join(license_kinds())}")
        if division != kind.division:
            raise Forbidden(f"{license} is granted by the {kind.division} division, not {division}")
        cn = check_corporate_number(corporate_number)
        lid = len(self._held) + 1
        self._held[lid] = [cn, license, _years_later(now, kind.term_years)]
        return lid

    def expires(self, license_id: int) -> float:
        """When a license expires."""
        if license_id not in self._held:
            raise NotFound(f"no license {license_id}")
        return self._held[license_id][2]

    def renew_online(
        self, credential: RegistrationCredential, license_id: int, now: float
    ) -> float:
        """Renew one's own license within its window; returns the new expiry."""
        cn = self.portal.account_of(credential, now)
        held = self._held.get(license_id)
        if held is None or held[0] != cn:
            raise NotFound(f"license {license_id} is not held by corporate number {cn}")
        kind = license_kinds()[held[1]]
        opens = held[2] - kind.renewal_window_days * DAY
        if now >= held[2]:
            raise Conflict(
                f"license {license_id} expired; apply for a new permit at the {kind.division} counter"
            )
        if now < opens:
            raise Conflict(
                f"renewal of license {license_id} opens {kind.renewal_window_days} days before expiry"
            )
        if not self.portal.has(cn, "basic"):
            raise Forbidden("register your basic data first: it replaces the registry certificate")
        held[2] = _years_later(held[2], kind.term_years)
        for a in kind.attachments_replaced:
            self.attachments_avoided[a] = self.attachments_avoided.get(a, 0) + 1
        self.portal.log("renewed", cn, kind.division, f"license {license_id}", now)
        return held[2]

    def remind(self, now: float) -> int:
        """Push one reminder per license when its renewal window is open; returns how many were sent."""
        sent = 0
        for lid, (cn, license, expires) in self._held.items():
            kind = license_kinds()[license]
            window_open = expires - kind.renewal_window_days * DAY <= now < expires
            if window_open and self.portal.has_account(cn) and (lid, expires) not in self._reminded:
                self._reminded.add((lid, expires))
                self.portal.deliver(
                    cn, f"renewal:{lid}", f"Your {license} license can be renewed online.", now
                )
                sent += 1
        return sent

    def frame(self) -> pl.DataFrame:
        """Every license held."""
        rows = [(lid, cn, lic, exp) for lid, (cn, lic, exp) in sorted(self._held.items())]
        return pl.DataFrame(
            rows,
            orient="row",
            schema={
                "license_id": pl.Int64,
                "corporate_number": pl.Utf8,
                "license": pl.Utf8,
                "expires": pl.Float64,
            },
        )
