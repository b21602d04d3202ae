"""One-card (ワンカード化): city cards become apps in the card chip's free area (空き領域).

The city's app-management step (アプリ管理) installs and removes the apps; it needs the
city's Art. 18 ordinance for each app. Old city cards (library card, seal-registration card
…) keep working, so residents without a My Number card keep every service. Costs are
accounted: old-card issuance and management saved, fees to the card agency (J-LIS) paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import polars as pl

from twin.design_sections import Costs as _DesignCosts
from twin.errors import Conflict, Forbidden, NotFound, ValidationError
from twin.events import Event, EventLog
from twin.identity import Assurance, Identity
from twin.services._checks import check_identity, params_from_dict

APPS = ("library", "seal", "facility", "hospital")  # names as in twin/card/freearea.py
PIN_APPS = frozenset({"hospital"})  # opens with the user PIN (medical data; the chip's rule)
INSTALL_SESSION = 900.0  # s: the card-and-PIN check at the counter must be this fresh


class OrdinanceMissing(Forbidden):
    """An app the city has enacted no Art. 18 ordinance for (My Number Act Art. 18)."""

    code = "ordinance_missing"


class NotAMember(Forbidden):
    """A card or old card that this app does not know, or that was retired."""

    code = "not_a_member"


_DESIGN_COSTS = _DesignCosts()


@dataclass(frozen=True, slots=True)
class OneCardCosts:
    """Unit costs in yen (assumptions, unverified: the report gives no figures)."""

    old_card_issue_yen: int = 500  # printing, mailing and staff time per old city card
    old_card_manage_yen_per_year: int = 150  # reissue, loss handling and records per card-year
    # the J-LIS figures are the design's (twin/design_sections.py Costs): one figure everywhere
    jlis_fee_per_install_yen: int = _DESIGN_COSTS.card_agency_fee_yen_per_install
    jlis_fee_per_year_yen: int = _DESIGN_COSTS.card_agency_fee_yen_per_year

    def __post_init__(self) -> None:
        for name in (
            "old_card_issue_yen",
            "old_card_manage_yen_per_year",
            "jlis_fee_per_install_yen",
            "jlis_fee_per_year_yen",
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValidationError(f"{name} must be a non-negative int of yen, got {v!r}")


@dataclass(frozen=True, slots=True)
class OneCardParams:
    """Which apps, which Art. 18 ordinances, whether old cards stay valid, and unit costs."""

    apps: tuple[str, ...] = ("library", "seal", "facility")
    art18_ordinances: tuple[str, ...] = ()  # apps the city has enacted an ordinance for
    keep_old_cards: bool = True  # an installed resident's old card stays valid
    use_jlis_app_system: bool = True
    costs: OneCardCosts = field(default_factory=OneCardCosts)

    def __post_init__(self) -> None:
        for name in ("apps", "art18_ordinances"):
            value = tuple(getattr(self, name))
            bad = [a for a in value if a not in APPS]
            if bad:
                raise ValidationError(
                    f"onecard.{name}: unknown app {bad[0]!r}; known: {', '.join(APPS)}"
                )
            object.__setattr__(self, name, value)
        if isinstance(self.costs, dict):
            object.__setattr__(
                self, "costs", params_from_dict(OneCardCosts, self.costs, "onecard.costs")
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OneCardParams:
        """Parameters from a design table; unknown keys are errors."""
        return params_from_dict(cls, data, "onecard")

    @classmethod
    def from_design(cls, section: Any, costs: OneCardCosts | None = None) -> OneCardParams:
        """Parameters from a design's `onecard` section: an enabled section enacts its apps' ordinances."""
        apps = tuple(a for a in section.apps if a in APPS)  # other free-area apps belong elsewhere
        return cls(
            apps=apps,
            art18_ordinances=apps if section.enabled else (),
            keep_old_cards=section.keep_old_cards,
            use_jlis_app_system=section.use_jlis_app_system,
            costs=costs or OneCardCosts(),
        )


@dataclass(frozen=True, slots=True)
class OldCard:
    """An old city card (library card, seal-registration card …) and its number."""

    app: str
    number: int


@dataclass(frozen=True, slots=True)
class AppInstalled(Event):
    """An app was written to a card's free area through app management."""

    resident_id: int
    card_serial: int
    app: str
    retired_old_card: bool
    kind: ClassVar[str] = "onecard_app_installed"


@dataclass(frozen=True, slots=True)
class AppRemoved(Event):
    """An app was removed from a card."""

    resident_id: int
    card_serial: int
    app: str
    kind: ClassVar[str] = "onecard_app_removed"


@dataclass(frozen=True, slots=True)
class OldCardIssued(Event):
    """An old city card was issued (the path for residents without a My Number card)."""

    resident_id: int
    app: str
    number: int
    kind: ClassVar[str] = "onecard_old_card_issued"


@dataclass(frozen=True, slots=True)
class OneCardRefused(Event):
    """A one-card step was refused; `reason` says why."""

    resident_id: int
    app: str
    action: str
    reason: str
    kind: ClassVar[str] = "onecard_refused"


class Chip(Protocol):
    """The card's chip as app management writes to it (a `twin.card.Card`)."""

    serial: int

    def install_app(self, app: str, now: float, where: str = ...) -> None: ...
    def remove_app(self, app: str, now: float) -> None: ...


Credential = Identity | OldCard


class OneCard:
    """App management and the member tables the city's apps share."""

    def __init__(self, params: OneCardParams | None = None, events: EventLog | None = None) -> None:
        self.params = params or OneCardParams()
        self.events = events if events is not None else EventLog()
        self._links: dict[str, dict[int, int]] = {a: {} for a in APPS}  # app -> serial -> resident
        self._old: dict[
            tuple[str, int], tuple[int, bool]
        ] = {}  # (app, number) -> (resident, valid)
        self._old_of: dict[tuple[str, int], int] = {}  # (app, resident) -> number
        self.counts = {
            "installs": 0,
            "removals": 0,
            "old_issued": 0,
            "old_retired": 0,
            "installs_without_old_card": 0,
        }

    def _refuse(
        self, err: Exception, resident_id: int, app: str, action: str, now: float
    ) -> Exception:
        """Log a refusal and hand the error back for raising."""
        self.events.append(OneCardRefused(now, int(resident_id), app, action, str(err)))
        return err

    def _check_app(self, app: str, resident_id: int, action: str, now: float) -> None:
        """Refuse an app the design does not offer, or one without its Art. 18 ordinance."""
        if app not in APPS:
            raise ValidationError(f"unknown app {app!r}; known: {', '.join(APPS)}")
        if app not in self.params.apps:
            raise self._refuse(
                Forbidden(f"the city does not offer the {app} app on the card"),
                resident_id,
                app,
                action,
                now,
            )
        if app not in self.params.art18_ordinances:
            raise self._refuse(
                OrdinanceMissing(
                    f"the {app} app cannot be installed: the city has enacted no Art. 18 ordinance for it "
                    f"(enacted: {', '.join(self.params.art18_ordinances) or 'none'}); old cards keep working"
                ),
                resident_id,
                app,
                action,
                now,
            )

    def install(self, identity: Identity, app: str, now: float, chip: Chip | None = None) -> None:
        """Install an app on the holder's card at the counter (card and PIN, Art. 18 ordinance)."""
        rid = identity.resident_id
        self._check_app(app, rid, "install", now)
        try:
            check_identity(identity, now, Assurance.HIGH, INSTALL_SESSION, f"install the {app} app")
            if identity.card_serial is None or (
                chip is not None and chip.serial != identity.card_serial
            ):
                raise Forbidden(
                    "the app goes on the card that was authenticated; present that card"
                )
        except Forbidden as e:
            raise self._refuse(e, rid, app, "install", now) from None
        if chip is not None:
            chip.install_app(app, now, "counter")
        serial = int(identity.card_serial)
        if self._links[app].get(serial) == rid:
            return
        self._links[app][serial] = rid
        retired = self._retire_old(app, rid, now) if not self.params.keep_old_cards else False
        self.counts["installs"] += 1
        self.counts["installs_without_old_card"] += (app, rid) not in self._old_of
        self.events.append(AppInstalled(now, rid, serial, app, retired))

    def remove(self, identity: Identity, app: str, now: float, chip: Chip | None = None) -> None:
        """Remove an app from the holder's card (card and PIN)."""
        check_identity(identity, now, Assurance.HIGH, INSTALL_SESSION, f"remove the {app} app")
        serial = identity.card_serial
        if serial is None or self._links.get(app, {}).get(int(serial)) != identity.resident_id:
            raise NotFound(
                f"the {app} app is not installed on resident {identity.resident_id}'s card"
            )
        if chip is not None:
            chip.remove_app(app, now)
        del self._links[app][int(serial)]
        self.counts["removals"] += 1
        self.events.append(AppRemoved(now, identity.resident_id, int(serial), app))

    def installed(self, app: str) -> int:
        """How many cards carry `app`."""
        return len(self._links[app])

    # --- old cards -----------------------------------------------------------------------------
    def issue_old_card(self, resident_id: int, app: str, now: float) -> OldCard:
        """Issue an old city card (kept for residents without a My Number card, or by choice)."""
        if app not in APPS:
            raise ValidationError(f"unknown app {app!r}; known: {', '.join(APPS)}")
        key = (app, int(resident_id))
        if key in self._old_of and self._old[(app, self._old_of[key])][1]:
            raise Conflict(f"resident {resident_id} already holds a valid old {app} card")
        number = len(self._old) + 1
        self._old[(app, number)] = (int(resident_id), True)
        self._old_of[key] = number
        self.counts["old_issued"] += 1
        self.events.append(OldCardIssued(now, int(resident_id), app, number))
        return OldCard(app, number)

    def _retire_old(self, app: str, resident_id: int, now: float) -> bool:
        """Invalidate a resident's old card for `app` (the card replaces it); whether one was retired."""
        number = self._old_of.get((app, resident_id))
        if number is None or not self._old[(app, number)][1]:
            return False
        self._old[(app, number)] = (resident_id, False)
        self.counts["old_retired"] += 1
        return True

    # --- using a card ----------------------------------------------------------------------------
    def holder(self, app: str, credential: Credential, now: float) -> int:
        """The resident a card tap or an old card stands for at this app's desk."""
        if isinstance(credential, OldCard):
            entry = self._old.get((app, credential.number)) if credential.app == app else None
            if entry is None or not entry[1]:
                why = (
                    "was retired when the app was installed on the My Number card"
                    if entry
                    else "is unknown"
                )
                raise self._refuse(
                    NotAMember(f"old {app} card {credential.number} {why}"),
                    entry[0] if entry else -1,
                    app,
                    "use",
                    now,
                )
            return entry[0]
        if not isinstance(credential, Identity) or credential.card_serial is None:
            raise ValidationError(
                f"present a card tap (Identity with a card serial) or an old card, got {credential!r}"
            )
        rid = self._links.get(app, {}).get(int(credential.card_serial))
        if rid is None or rid != credential.resident_id:
            raise self._refuse(
                NotAMember(f"card {credential.card_serial} carries no {app} app"),
                credential.resident_id,
                app,
                "use",
                now,
            )
        need = Assurance.HIGH if app in PIN_APPS else Assurance.MEDIUM
        check_identity(credential, now, need, INSTALL_SESSION, f"open the {app} app")
        return rid

    # --- costs -----------------------------------------------------------------------------------
    def costs(self, years: float) -> pl.DataFrame:
        """Yen saved and paid over `years` for the installs and retirements so far."""
        return cost_account(
            self.params,
            self.counts["installs_without_old_card"],
            self.counts["old_retired"],
            self.counts["installs"],
            years,
        )


def cost_account(
    params: OneCardParams,
    installs_without_old_card: int,
    old_retired: int,
    installs: int,
    years: float,
) -> pl.DataFrame:
    """Issuance saved (no old card needed), management saved (old cards retired), J-LIS fees."""
    c = params.costs
    issue_saved = installs_without_old_card * c.old_card_issue_yen
    manage_saved = int(round(old_retired * c.old_card_manage_yen_per_year * years))
    fees = (
        installs * c.jlis_fee_per_install_yen + int(round(c.jlis_fee_per_year_yen * years))
        if params.use_jlis_app_system
        else 0
    )
    rows = [
        ("old card issuance saved", issue_saved),
        ("old card management saved", manage_saved),
        ("fees to the card agency (J-LIS)", -fees),
        ("net", issue_saved + manage_saved - fees),
    ]
    return pl.DataFrame(rows, schema={"item": pl.Utf8, "yen": pl.Int64}, orient="row")
