"""Parameters of the payment-throughput scenario (`scenarios.payments`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scenarios.params import ScenarioParams, param, parse_jst
from twin.errors import ValidationError

OPS = ("fee", "top_up", "grant", "redeem")
CHANNELS = ("kiosk", "counter", "portal")
FEE_TYPES = ("residence_record", "tax_certificate", "seal_registration", "facility_booking")


@dataclass(frozen=True)
class Params(ScenarioParams):
    """Parameters of the payment-throughput scenario."""

    scenario = "payments"
    start_jst: str = param("2026-04-01T10:00", unit="JST", doc="when the load starts")
    duration_s: float = param(300.0, unit="s", doc="how long requests keep arriving", lo=1.0,
                              hi=86_400.0)
    offered_rate_per_s: float = param(40.0, unit="requests/s", doc="Poisson arrival rate of "
                                      "requests, all channels", lo=0.01, hi=100_000.0)
    op_mix: tuple[float, ...] = param((0.6, 0.1, 0.2, 0.1), unit="shares", doc="fee payments, "
                                      "wallet top-ups, point grants, point redemptions", lo=0.0)
    channel_mix: tuple[float, ...] = param((0.4, 0.3, 0.3), unit="shares",
                                           doc="kiosk, counter, portal", lo=0.0)
    e_payment: bool = param(False, unit="", doc="wallet, top-ups, points and the portal exist "
                            "(design: payments.enabled); without it, fees are paid in cash")
    kiosk_channel: bool = param(True, unit="", doc="fees can be paid at kiosks")
    portal_channel: bool = param(False, unit="", doc="fees can be paid on the portal")
    wallet_share: float = param(0.5, unit="share", doc="share of electronic fee payments made "
                                "from the card wallet (assumption)", lo=0.0, hi=1.0)
    kiosk_fee_yen: int = param(300, unit="yen", doc="fee per certificate at a kiosk", lo=1)
    counter_fee_yen: int = param(300, unit="yen", doc="fee per certificate at a counter", lo=1)
    points_per_grant: int = param(100, unit="points", doc="points per civic activity", lo=1)
    points_per_redemption: int = param(100, unit="points", doc="points redeemed at a time", lo=1)
    payer_pool: int = param(2000, unit="residents", doc="residents who make the requests", lo=1)
    opening_wallet_yen: int = param(3000, unit="yen", doc="wallet balance each payer starts with",
                                    lo=0)
    opening_points: int = param(500, unit="points", doc="points each payer starts with", lo=0)
    network_latency_ms: float = param(30.0, unit="ms", doc="median one-way latency", lo=0.0)
    network_jitter_sigma: float = param(0.5, unit="log-sd", doc="spread of latency", lo=0.0, hi=3.0)
    message_loss_probability: float = param(0.002, unit="probability", doc="chance one message "
                                            "is lost", lo=0.0, hi=0.5)
    network_drop_at_s: tuple[float, ...] = param((120.0,), unit="s", doc="network drops start "
                                                 "(virtual seconds after start)", lo=0.0)
    network_drop_s: float = param(10.0, unit="s", doc="length of each network drop", lo=0.0)
    client_timeout_s: float = param(2.0, unit="s", doc="a client waits this long for a reply",
                                    lo=0.001)
    max_attempts: int = param(8, unit="attempts", doc="tries before a client gives up", lo=1,
                              hi=100)
    retry_backoff_s: float = param(0.5, unit="s", doc="first back-off, doubled per retry "
                                   "(jittered x0.5-1.5)", lo=0.0)
    commit_interval_ms: float = param(50.0, unit="ms", doc="group-commit interval", lo=0.1)
    max_batch: int = param(500, unit="requests", doc="most requests per commit", lo=1)
    commit_base_ms: float = param(2.0, unit="ms", doc="virtual time of one commit", lo=0.0)
    commit_per_request_ms: float = param(0.05, unit="ms", doc="virtual time per request in a "
                                         "commit", lo=0.0)
    writer_kill_before_commit_at_s: tuple[float, ...] = param(
        (60.0,), unit="s", doc="the writer dies with an open transaction at these times", lo=0.0)
    writer_kill_after_commit_at_s: tuple[float, ...] = param(
        (200.0,), unit="s", doc="the writer dies after a commit, before replying", lo=0.0)
    writer_restart_s: float = param(5.0, unit="s", doc="time for a killed writer to restart",
                                    lo=0.0)
    sqlite_synchronous: str = param("NORMAL", unit="", doc="SQLite synchronous level in WAL "
                                    "mode: NORMAL survives a killed process, FULL also power loss",
                                    choices=("NORMAL", "FULL"))
    series_step_s: float = param(5.0, unit="s", doc="time-series step", lo=0.01)

    def validate(self) -> None:
        """Mixes have the right length and some weight; the start parses."""
        for name, mix, n in (("op_mix", self.op_mix, 4), ("channel_mix", self.channel_mix, 3)):
            if len(mix) != n or sum(mix) <= 0:
                raise ValidationError(f"parameter {name!r} needs {n} non-negative shares with a "
                                      f"positive sum, got {list(mix)}")
        parse_jst(self.start_jst, "start_jst")

    @classmethod
    def from_design(cls, design: Any) -> dict[str, Any]:
        """Channels, fees and points from the design's payments and certificates tables."""
        if design is None:
            return {}
        pay, cert = design.payments, design.certificates
        return {"design": design.name, "e_payment": pay.enabled,
                "kiosk_channel": cert.enabled and (not pay.enabled or "kiosk" in pay.channels),
                "portal_channel": pay.enabled and "portal" in pay.channels,
                "kiosk_fee_yen": cert.kiosk_fee_yen, "counter_fee_yen": cert.counter_fee_yen,
                "points_per_grant": pay.points_per_civic_activity}
