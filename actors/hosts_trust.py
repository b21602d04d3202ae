"""The card registry and certificate authority (J-LIS role) as one actor: every trust check.

Built from the city (seed and build instant) and the data folder's secret (`actors.trust_root`),
so its keys and certificates are the ones the folder's virtual cards carry and nobody else can
derive them. It checks what readers post (the authority's seal on a
twin card's face record; a kiosk card's certificate chain, signature and revocation, through
`devices.twin_judge.TwinJudge`) and residents' logins (challenge, signature with the card's
user key behind its PIN: `twin.reader.Reader.verify_response`; the challenges themselves are issued and
checked statelessly by the ingress, `actors.challenges`). Kiosk authentications are
kept by tap id, durably, so a kiosk can name the one its certificate request rests on. A drill
with real cards adds its card CA and enrolled cards to both checks (`actors.drill`).
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from actors import drill, trust_root, world
from actors.host import Host
from actors.hosts_safety import identity_json
from actors.journal import Answer
from actors.replies import from_error, recorded
from actors.spec import ServiceSpec
from devices import contract
from devices.twin_judge import TwinJudge
from twin.card import CardRegistry
from twin.errors import NotFound, TwinError, ValidationError
from twin.pki import SIGNING, USER, CertificateAuthority
from twin.trust_errors import NoSigningCertificate, WrongHolder

CA_ALGORITHM = "p256"  # the card signs digests over APDUs, which Ed25519 cannot


def authority(spec: ServiceSpec) -> tuple[CertificateAuthority, CardRegistry]:
    """The service's authority and card registry, keyed from the data folder's secret (not from the seed)."""
    root = spec.trust_root()
    ca = CertificateAuthority(seed=trust_root.derive(root, "authority"), algorithm=CA_ALGORITHM)
    return ca, CardRegistry.from_city(world.city(spec), ca, spec.built_at, pin_secret=trust_root.derive(root, "pins"))


def without_certificate(raw: dict[str, Any]) -> dict[str, Any]:
    """A kiosk tap as journaled: the card's certificate by its SHA-256 fingerprint only, no signature (a real drill
    card's certificate names a real person; the checks are not replayed, their answers are kept)."""
    auth = raw.get("auth")
    if not isinstance(auth, dict) or "certificate" not in auth:
        return raw
    try:
        digest = hashlib.sha256(base64.b64decode(auth["certificate"])).hexdigest()
    except (ValueError, TypeError):
        digest = ""
    kept = {k: v for k, v in auth.items() if k not in ("certificate", "signature")}
    return {**raw, "auth": {**kept, "certificate_sha256": digest}}


class TrustHost(Host):
    """The authority, the registry, a judge for posted taps and a reader for resident logins."""

    kind = "trust"

    def __init__(self, spec: ServiceSpec) -> None:
        self._replaying = True
        super().__init__(spec, "trust")
        self._replaying = False

    def build(self) -> None:
        """The authority and registry; the judge keeps a current revocation list."""
        self.ca, self.registry = authority(self.spec)
        self.judge = TwinJudge(self.ca, self.registry)
        self.login_reader = self.judge.reader  # one reader: challenges, seen signatures, refusals
        self.ended: dict[str, float] = {}  # session id -> its expiry: sessions ended by a logout
        drill.check_enrolment(self.spec, world.city(self.spec).residents)
        drill.configure(self.judge.reader.verifier, self.spec, self.registry)

    def restore_state(self, state: dict[str, Any]) -> None:
        """A snapshot's state, with this start's drill cards (the files may have changed since)."""
        super().restore_state(state)
        drill.configure(self.judge.reader.verifier, self.spec, self.registry)

    def ops(self) -> dict:
        return {"kiosk_auth": self._kiosk_auth, "loss": self._loss, "logout": self._logout}

    def _logout(self, body: dict, at: float) -> None:
        """End a session (kept until it would have expired anyway)."""
        self.ended[str(body["sid"])] = float(body["exp"])

    def _kiosk_auth(self, body: dict, at: float) -> list[dict | TwinError]:
        """Check kiosk taps (skipped on replay: a check changes no state; the answers are kept)."""
        if self._replaying:
            return []
        out: list[dict | TwinError] = []
        for raw in body["taps"]:
            try:
                out.append(self.judge(contract.Tap.from_json(raw)))
            except TwinError as err:
                out.append(err)
            except (ValueError, OverflowError, TypeError) as err:  # input no card could produce: its own 422
                out.append(ValidationError(f"the tap cannot be read: {type(err).__name__}"))
        body["taps"] = [without_certificate(raw) for raw in body["taps"]]  # what the journal keeps
        return out

    def _loss(self, body: dict, at: float) -> dict | TwinError:
        """A loss report (紛失届) through the registry's rule: the card suspended, its certificates revoked, all
        or nothing; one dated before the newest revocation list is effective from its time and listed next.

        A refusal (unknown card, a card not active, another resident's card) is returned, not raised,
        so it is kept under the report's key like an answer."""
        serial, when, holder = int(body["card_serial"]), float(body["at"]), body.get("holder")
        try:
            if holder is not None and self.registry.holder_of(serial) != int(holder):
                raise WrongHolder(f"card {serial} is not resident {holder}'s card; a resident reports only "
                                  "their own card (or at a city counter with photo ID)")
            self.registry.report_loss(serial, when, recorded_at=body.get("recorded_at"))
        except TwinError as err:
            return err
        row = self.registry.row_of(serial)
        return {"card_serial": serial, "resident_id": int(self.registry.resident[row]), "suspended_at": when,
                "card_status": self.registry.status_name(row, when),
                "revoked_certificates": self._revoked_certificates(row)}

    def _revoked_certificates(self, row: int) -> list[str]:
        """The card's current certificates the authority holds as revoked (hex serials, user first)."""
        out = []
        for purpose in (USER, SIGNING):
            try:
                cert = self.registry.cert_request(row, purpose).cert_serial
            except NoSigningCertificate:
                continue
            if self.ca.revocation_of(cert) is not None:
                out.append(f"{cert:x}")
        return out

    def report_loss(self, key: str, fingerprint: str, card_serial: int, at: float,
                    holder: int | None = None) -> tuple[dict, int]:
        """A loss report, applied once per key (a repeat gets the first answer, a changed one 409);
        with `holder`, only that resident's own card. (answer, HTTP status)."""
        body = {"card_serial": int(card_serial), "at": float(at), "holder": None if holder is None else int(holder),
                "recorded_at": self.spec.now()}  # when the authority learns of it: journaled, so a replay agrees

        def answers(res: dict | TwinError, fresh: list[int]) -> list[Answer]:
            return [from_error(key, fingerprint, res) if isinstance(res, TwinError) else recorded(key, fingerprint, res)]

        (reply,) = self.once([f"loss:{key}"], [fingerprint], "loss", lambda fresh: body, answers, time.time())
        return reply

    # -- reader taps ------------------------------------------------------------------------------
    def check_faces(self, taps: list[dict[str, Any]]) -> list[dict | tuple[str, int, str]]:
        """Shelter taps with a face record: the identity, or (code, HTTP status, detail) if refused."""
        out: list[dict | tuple[str, int, str]] = []
        for raw in taps:
            try:
                out.append(self.judge(contract.Tap.from_json(raw)))
            except TwinError as err:
                out.append((err.code, int(err.status), str(err)))
            except (ValueError, OverflowError, TypeError) as err:  # a record no card could carry: its own 422
                out.append(("invalid_input", 422, f"the face record cannot be read: {type(err).__name__}"))
        return out

    def kiosk_taps(self, taps: list[dict[str, Any]], fingerprints: list[str]) -> list[tuple[dict, int]]:
        """Kiosk authentications, each checked once by tap id; (answer, HTTP status) per tap."""
        keys = [f"kiosk:{t['tap_id']}" for t in taps]

        def answers(results: list, fresh: list[int]) -> list[Answer]:
            out = []
            for i, res in zip(fresh, results, strict=True):
                tap_id, fp = taps[i]["tap_id"], fingerprints[i]
                if isinstance(res, TwinError):
                    out.append(from_error(tap_id, fp, res))
                else:
                    out.append(recorded(tap_id, fp, {**res, "at": float(taps[i]["at"]),
                                                     "device_id": taps[i]["device_id"]}))
            return out

        return self.once(keys, fingerprints, "kiosk_auth", lambda fresh: {"taps": [taps[i] for i in fresh]},
                         answers, time.time())

    def kiosk_identity(self, tap_id: str, device_id: str) -> dict[str, Any]:
        """The identity a recorded kiosk authentication established, for the same kiosk only, while its card is usable."""
        prior = self.answers.get(f"kiosk:{tap_id}")
        if prior is None or prior.answer.get("status") != "recorded":
            raise NotFound(f"no recorded kiosk authentication with tap id {tap_id!r}; authenticate with the "
                           "card and PIN at the kiosk first")
        res = prior.answer["result"]
        if res["device_id"] != device_id:
            raise NotFound(f"kiosk authentication {tap_id} was made at another kiosk; authenticate here")
        # the card's status now, online: a card reported lost since the authentication gets nothing
        self.registry.check_usable(self.registry.row_of(int(res["card_serial"])), self.spec.now(), "kiosk")
        return {"resident_id": res["resident_id"], "method": res["method"], "assurance": res["assurance"],
                "at": res["at"], "card_serial": res["card_serial"]}

    # -- resident logins ----------------------------------------------------------------------------
    def login(self, certificate_b64: str, challenge_hex: str, signature_b64: str, now: float,
              challenge_expires: float | None = None) -> dict[str, Any]:
        """The identity (Assurance HIGH) of a card that signed our challenge behind its PIN (a challenge the
        ingress checked statelessly comes with its expiry; each is accepted once)."""
        try:
            cert = base64.b64decode(certificate_b64, validate=True)
            sig = base64.b64decode(signature_b64, validate=True)
            chal = bytes.fromhex(challenge_hex)
        except ValueError as exc:
            raise ValidationError(f"certificate and signature must be base64 and the challenge hex: {exc}") from None
        if challenge_expires is not None:
            self.login_reader.admit(chal, float(challenge_expires), now)
        ident = self.login_reader.verify_response(cert, chal, sig, now)
        # the authority knows at once what its revocation list says only from the next publication
        self.registry.check_usable(self.registry.row_of(ident.card_serial), now, "login")
        return identity_json(ident)

    def session_check(self, sid: str | None, card_serial: int | None, now: float, card_in_use: bool = True) -> None:
        """Refuse (401) a session that was logged out, or (with `card_in_use`) whose card is no longer usable
        (reported lost)."""
        from actors.auth import Unauthorized

        if sid is not None and sid in self.ended:
            raise Unauthorized("this session was ended (logged out); log in with the card again")
        if card_serial is not None and card_in_use:
            status = self.registry.status_name(self.registry.row_of(int(card_serial)), now)
            if status != "active":
                raise Unauthorized(f"the card of this session is {status} (a loss report ends its sessions); the "
                                   "session has ended")

    def logout(self, sid: str, exp: float, now: float) -> None:
        """End session `sid` (journaled, so a restart keeps it ended); expired entries are dropped."""
        for gone in [k for k, e in self.ended.items() if e <= now]:
            del self.ended[gone]
        self.run("logout", {"sid": str(sid), "exp": float(exp)}, time.time())

    def resident_of_serial(self, serial: int, now: float) -> int:
        """The holder of a usable card (refusals as the registry's errors)."""
        return self.registry.resident_of(int(serial), now)
