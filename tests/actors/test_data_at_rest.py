"""Personal data at rest: after a small drill, no My Number in any byte of the data folder, every file owner-only."""

from __future__ import annotations

import re
import sqlite3
import stat
import zlib

import numpy as np

from devices import contract
from twin.ids import is_valid_my_number

DIGITS = re.compile(rb"(?<![0-9])[0-9]{12}(?![0-9])")


def drill(live) -> None:
    """A few minutes of a drill: check-ins, a kiosk authentication, a login, a top-up, a linkage ask."""
    who = live.holders(6, skip=1750).rows(named=True)
    shelter, kiosk = live.device("shelter", group=0), live.device("kiosk")
    taps = [live.tap(shelter, w["card_serial"]) for w in who[:4]]
    assert live.http.post(contract.BATCH_PATH, json={"taps": taps}, headers=live.headers(shelter)).status_code == 200
    assert live.http.post(contract.TAPS_PATH, json=live.kiosk_tap(kiosk, who[4]["card_serial"]),
                          headers=live.headers(kiosk)).status_code == 201
    me = live.login(who[5]["card_serial"])
    top = {"key": "rest-1", "resident_id": who[5]["resident_id"], "amount": 500}
    assert live.http.post("/v1/payments/top-ups", json=top, headers=live.headers(kiosk)).status_code == 201
    live.http.post("/v1/me/linkage/applications", json={"agency": "city.child_care", "task": "child_allowance"},
                   headers=me)
    ask = {"resident_id": who[5]["resident_id"], "task": "child_allowance", "items": ["resident_tax_income"],
           "provider": "city.tax"}
    live.http.post("/v1/linkage/requests", json=ask, headers=live.agency_headers("city.child_care"))


def snapshot_every_actor(live) -> int:
    """Ask every actor for a snapshot now (one that cannot be pickled is skipped); how many were taken."""
    import ray

    taken = 0
    for p in live.service.supervisor.ping():
        actor = ray.get_actor(p["name"], namespace=live.spec.namespace)
        try:
            ray.get(actor.snapshot.remote(), timeout=120)
            taken += 1
        except Exception:  # noqa: BLE001 - an aggregate that cannot be pickled replays its journal instead
            pass
    return taken


def blobs_of(path) -> list[bytes]:
    """Every BLOB and text value of a SQLite file, and the zlib-inflated form of any that inflates."""
    out: list[bytes] = []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            for row in conn.execute(f'SELECT * FROM "{t}"'):
                for v in row:
                    raw = v if isinstance(v, bytes) else str(v).encode()
                    out.append(raw)
                    try:
                        out.append(zlib.decompress(raw))
                    except zlib.error:
                        pass
    return out


def found_in(data: bytes, numbers: set[int], binary: np.ndarray) -> list[str]:
    """My Numbers in `data`: as 12 ASCII digits (any valid one), or as the city's int64 values."""
    hits = [m.group().decode() for m in DIGITS.finditer(data) if is_valid_my_number(m.group().decode())]
    hits = [h for h in hits if int(h) in numbers]
    for shift in range(8):
        usable = (len(data) - shift) // 8 * 8
        if usable > 0:
            words = np.frombuffer(data[shift:shift + usable], dtype="<i8")
            hits += [str(int(v)) for v in words[np.isin(words, binary)]]
    return hits


def test_after_a_drill_no_my_number_is_in_any_byte_of_the_data_folder_and_every_file_is_owner_only(live):
    drill(live)
    assert snapshot_every_actor(live) >= 6
    city = live.city.residents["my_number"].to_numpy().astype(np.int64)
    numbers = set(city.tolist())
    folder = live.spec.folder
    leaks, loose = {}, []
    for p in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        if mode & 0o077:
            loose.append(f"{p.relative_to(folder)} {mode:o}")
        if not p.is_file():
            continue
        parts = [p.read_bytes()]
        if p.suffix == ".sqlite":
            parts += blobs_of(p)
        hits = [h for part in parts for h in found_in(part, numbers, city)]
        if hits:
            leaks[p.name] = len(hits)
    assert (loose, leaks) == ([], {})
    assert any(p.suffix == ".sqlite" for p in folder.iterdir())
