"""The live service's trust root: an attacker who knows city, seed, scale and the code gets nothing accepted."""

from __future__ import annotations

import os
import stat
import uuid

import pytest

from actors import world
from devices import contract
from tests.actors.live_helpers import b64, face_json, tap_id
from twin.card import CardRegistry
from twin.pki import CertificateAuthority


def attacker(spec):
    """What anyone rebuilds from public inputs (city, seed, scale, build instant) and the code."""
    ca = CertificateAuthority(seed=spec.seed, algorithm="p256")
    return ca, CardRegistry.from_city(world.city(spec), ca, spec.built_at)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_login_signed_with_a_card_key_derived_from_the_seed_gets_no_session(live):
    who = live.holders(1, skip=1700).row(0, named=True)
    _, reg = attacker(live.spec)
    chal = live.http.get("/v1/residents/challenge").json()["challenge"]
    card, now = reg.card(who["card_serial"]), live.now()
    card.verify_pin("user", reg.pins(who["card_serial"]).user, now)
    body = {"certificate": b64(card.certificate()), "challenge": chal,
            "signature": b64(card.sign(bytes.fromhex(chal), now))}
    r = live.http.post("/v1/residents/sessions", json=body)
    assert r.status_code == 403 and r.json()["error"] == "forged", r.text
    assert live.login(who["card_serial"])["Authorization"].startswith("Bearer ")  # the real card still logs in


def test_a_kiosk_tap_or_a_face_record_made_with_the_seed_s_authority_is_refused(live):
    who = live.holders(1, skip=1701).row(0, named=True)
    serial = who["card_serial"]
    _, reg = attacker(live.spec)
    kiosk = live.device("kiosk")
    card, tid, when, nonce = reg.card(serial), tap_id(), round(live.now(), 3), uuid.uuid4().hex
    card.verify_pin("user", reg.pins(serial).user, when)
    sig = card.sign(contract.challenge(tid, kiosk["device_id"], kiosk["site_id"], when, nonce), when)
    tap = {"tap_id": tid, "device_id": kiosk["device_id"], "site_id": kiosk["site_id"], "kind": "kiosk_auth",
           "at": when, "card": {"card_serial": serial},
           "auth": {"certificate": b64(card.certificate()), "nonce": nonce, "signature": b64(sig)}}
    r = live.http.post(contract.TAPS_PATH, json=tap, headers=live.headers(kiosk))
    assert r.status_code == 403 and r.json()["error"] == "forged", r.text
    shelter = live.device("shelter", group=0)
    forged = {**live.tap(shelter, serial), "card": {"card_serial": serial, "face": face_json(card.read_face())}}
    r = live.http.post(contract.TAPS_PATH, json=forged, headers=live.headers(shelter))
    assert r.status_code == 403 and r.json()["error"] == "forged", r.text
    r = live.http.post(contract.TAPS_PATH, json=live.kiosk_tap(kiosk, serial), headers=live.headers(kiosk))
    assert r.status_code == 201, r.text  # the card the service issued is accepted


def test_the_secret_is_owner_only_in_an_owner_only_folder_and_appears_in_no_other_file(live):
    from actors import trust_root

    folder = live.spec.folder
    path = trust_root.path_of(folder)
    assert (mode(folder), mode(path.parent), mode(path)) == (0o700, 0o700, 0o600)
    secret = path.read_bytes()
    assert len(secret) == trust_root.SECRET_BYTES and secret == live.spec.secret
    for p in folder.rglob("*"):
        if p.is_file() and p != path:
            data = p.read_bytes()
            assert secret not in data and secret.hex().encode() not in data, p


def test_a_folder_keeps_its_secret_two_folders_differ_and_a_readable_secret_is_refused(tmp_path):
    from actors import trust_root
    from twin.errors import Conflict

    a = trust_root.load_or_create(tmp_path / "a")
    assert trust_root.load_or_create(tmp_path / "a") == a != trust_root.load_or_create(tmp_path / "b")
    os.chmod(trust_root.path_of(tmp_path / "a"), 0o644)
    with pytest.raises(Conflict, match="chmod 600"):
        trust_root.load_or_create(tmp_path / "a")
    assert trust_root.derive(a, "authority") != trust_root.derive(a, "pins")
