"""Recalibrating the certificates scenario from a drill's kiosks: service time, PIN refusals, other refusals.

Service time, by the busy-gap estimator of `calibration.fit_drill` applied per kiosk: documents
one resident takes in a row at one kiosk are one visit (it ends with the last document); the
gap between the ends of two consecutive visits at one kiosk is the second visit's time at the
kiosk IF someone was waiting. Gaps above `busy_gap_s` (default 900 s, 5x the assumed 180 s
mean) count as idle and are dropped; the lognormal is fitted truncated there. Biases: UP when a
kiosk stood idle for less than the cut (lightly used kiosks: the gap holds idle time too) and by
the walk-up between users; DOWN never from the cut (the truncation accounts for it), but a
visit whose last request was refused leaves no document, so its time is added to the next gap
(up again). The spread is reported, not written: the scenario's `service_sigma` is the counter's
spread too.

PIN: the card checks its PIN itself and signs only after a right one, so a mistyped PIN never
reaches the service unless a kiosk forwards the card's refusal (`wrong_pin`). When such answers
exist, each authentication is one try, as in the scenario (a mistype then a retry is one refusal
and one success: two tries, one wrong), and the share of wrong tries estimates
`pin_mistype_probability` (biased down by mistypes a kiosk did not forward); when none exist it
is not identifiable and keeps its assumed value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from calibration.drill_kiosks import KioskData
from calibration.fit_drill import MIN_GAPS, LognormalFit, fit_truncated_lognormal

KIOSK_BUSY_GAP_S = 900.0
PIN_REFUSAL = "wrong_pin"  # a locked card (pin_locked) is not a try: reported with the other refusals


def visit_gaps(data: KioskData, busy_gap_s: float = KIOSK_BUSY_GAP_S) -> tuple[dict[int, np.ndarray], int, int, int]:
    """Per kiosk, the busy gaps (s) between consecutive visits' ends; and visits, idle and zero gaps dropped."""
    out, visits, idle, zero = {}, 0, 0, 0
    for kiosk in np.unique(data.doc_kiosk):
        at = data.doc_kiosk == kiosk
        order = np.argsort(data.doc_at[at], kind="stable")
        t, who = data.doc_at[at][order], data.doc_resident[at][order]
        last = np.append(who[1:] != who[:-1], True)  # the last document of each visit
        ends = t[last]
        visits += int(ends.size)
        g = np.diff(ends)
        zero += int((g <= 0).sum())
        idle += int((g > busy_gap_s).sum())
        out[int(kiosk)] = g[(g > 0) & (g <= busy_gap_s)]
    return out, visits, idle, zero


@dataclass(frozen=True)
class PinReading:
    """Kiosk authentications and what they say about mistyped PINs."""

    tries: int
    wrong: int
    refusals: dict[str, int]

    @property
    def identifiable(self) -> bool:
        """Whether the journal holds PIN refusals at all."""
        return self.wrong > 0

    def interval(self) -> tuple[float, float]:
        """Exact (Clopper-Pearson) 95 % interval of the wrong-try share."""
        ci = stats.binomtest(self.wrong, self.tries).proportion_ci(0.95, method="exact")
        return float(ci.low), float(ci.high)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out: dict[str, Any] = {"authentications": self.tries, "wrong_pin": self.wrong, "refusals": self.refusals}
        if self.identifiable:
            lo, hi = self.interval()
            out |= {"pin_mistype_probability": self.wrong / self.tries, "interval_95": [lo, hi]}
        return out


@dataclass(frozen=True)
class KioskFit:
    """The kiosk service time (pooled and per kiosk) and the PIN reading; None where not identifiable."""

    service: LognormalFit | None
    per_kiosk: dict[int, LognormalFit]
    visits: int
    documents: int
    kiosks: int
    pin: PinReading
    busy_gap_s: float
    not_fitted: dict[str, str]

    def overrides(self) -> dict[str, float]:
        """The certificates scenario parameters the drill replaces."""
        out = {} if self.service is None else {"kiosk_service_mean_s": self.service.mean_s}
        if self.pin.identifiable:
            out["pin_mistype_probability"] = self.pin.wrong / self.pin.tries
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the estimator stated."""
        return {"service_time": None if self.service is None else self.service.to_dict(),
                "per_kiosk": {str(k): v.to_dict() for k, v in sorted(self.per_kiosk.items())},
                "documents": self.documents, "visits": self.visits, "kiosks": self.kiosks,
                "busy_gap_s": self.busy_gap_s, "authentications": self.pin.to_dict(),
                "estimator": "gaps between the ends of consecutive visits (a resident's documents in a row) at "
                             "one kiosk, kept when <= busy_gap_s, lognormal fitted by maximum likelihood "
                             "truncated at busy_gap_s"}


def fit_kiosks(data: KioskData, busy_gap_s: float = KIOSK_BUSY_GAP_S) -> KioskFit:
    """Fit what the kiosk side of a drill identifies; say why for what it does not."""
    gaps, visits, idle, zero = visit_gaps(data, busy_gap_s)
    pooled = np.concatenate(list(gaps.values())) if gaps else np.array([])
    why: dict[str, str] = {}
    service = None
    if pooled.size >= MIN_GAPS:
        service = fit_truncated_lognormal(pooled, busy_gap_s, idle, zero)
    else:
        why["kiosk_service_mean_s"] = (f"only {pooled.size} busy gaps between kiosk visits (need {MIN_GAPS}): "
                                       "the published value stays")
    per = {k: fit_truncated_lognormal(g, busy_gap_s) for k, g in gaps.items() if g.size >= MIN_GAPS}
    wrong = data.auth_refusals.get(PIN_REFUSAL, 0)
    pin = PinReading(data.authentications, wrong, data.auth_refusals)
    if not pin.identifiable:
        why["pin_mistype_probability"] = (
            f"not identifiable: {pin.tries} kiosk authentications, none refused for a wrong PIN (the card checks "
            "its PIN itself and signs only after a right one, so a mistype never reaches the service); the "
            "assumed value stays")
    why["service_sigma"] = ("the kiosk spread is reported, not written: the scenario's service_sigma is the "
                            "counter's spread too")
    return KioskFit(service, per, visits, data.documents, int(np.unique(data.doc_kiosk).size), pin, busy_gap_s, why)


def kiosk_rows(fit: KioskFit) -> list[dict[str, Any]]:
    """Rows for the validation table: kiosk mean (twin's assumed value beside the drill's) and the PIN share."""
    from calibration.params import fitted

    rows = []
    if fit.service is not None:
        rows.append({"figure": "kiosk transaction mean (s)", "published_s": None,
                     "twin_s": fitted().kiosk.service_time.mean_s, "drill_s": fit.service.mean_s,
                     "source": "twin: assumption (calibration/params.py); drill: busy gaps between kiosk visits",
                     "nearest_to_drill": False})
    if fit.pin.identifiable:
        from scenarios.certificates_params import CertificatesParams

        assumed = {f.name: f.default for f in dataclasses.fields(CertificatesParams)}["pin_mistype_probability"]
        rows.append({"figure": "kiosk PIN tries mistyped (share)", "published_s": None, "twin_s": assumed, "drill_s": fit.pin.wrong / fit.pin.tries,
                     "source": "twin: assumption; drill: wrong_pin answers / kiosk authentications",
                     "nearest_to_drill": False})
    return rows


def kiosk_text(fit: KioskFit) -> str:
    """One or two lines for the CLI."""
    if fit.service is None:
        head = f"kiosk service time: not fitted ({fit.not_fitted['kiosk_service_mean_s']})"
    else:
        s = fit.service
        head = (f"kiosk service time: lognormal mu {s.mu:.3f} +- {s.mu_se:.3f}, sigma {s.sigma:.3f} (mean "
                f"{s.mean_s:.1f} s) from {s.n} busy gaps between {fit.visits} visits at {fit.kiosks} kiosks "
                f"({fit.documents} documents); {s.dropped_idle} idle gaps dropped; KS p = {s.ks_pvalue:.3f}")
    p = fit.pin
    refused = ", ".join(f"{k} {v}" for k, v in p.refusals.items()) or "none"
    if p.identifiable:
        lo, hi = p.interval()
        pin = (f"PIN mistyped in {p.wrong} of {p.tries} kiosk authentications: share {p.wrong / p.tries:.3f} "
               f"(95 % {lo:.3f}-{hi:.3f})")
    else:
        pin = f"pin_mistype_probability {fit.not_fitted['pin_mistype_probability']}"
    return "\n".join([head, pin, f"kiosk authentication refusals: {refused}"])
