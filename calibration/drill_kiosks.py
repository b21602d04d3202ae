"""Reading a drill's kiosk side back: documents issued at kiosks and the kiosk card authentications.

The kiosk fleet's store (`kiosks.sqlite` in the data folder, or the schema `myna_<instance>_kiosks`
with `run.py serve --store postgresql://...`) keeps the audit register `certificate_documents`:
one row per document with its channel, site (the kiosk's facility id), resident and time. The
trust actor's store (`trust.sqlite` / `myna_<instance>_trust`) keeps one answer per kiosk
authentication under the key `kiosk:<tap id>`: recorded, or rejected with the refusal code.
A drill without the certificates service has neither: `read_kiosks` then returns None.
Reads only; imports no Ray.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.errors import ValidationError

_DOCS = "SELECT site, resident_id, at FROM certificate_documents WHERE channel = 'kiosk' ORDER BY seq"
_AUTHS = "SELECT answer FROM twin_answers WHERE idem_key LIKE 'kiosk:%'"
Rows = tuple[list[tuple[int, int, float]], list[str]]  # (kiosk documents, kiosk authentication answers)


@dataclass(frozen=True)
class KioskData:
    """The kiosk documents (site, resident, time) and the kiosk authentications' outcomes."""

    doc_kiosk: np.ndarray
    doc_resident: np.ndarray
    doc_at: np.ndarray
    auth_recorded: int
    auth_refusals: dict[str, int]  # refusal code -> count

    @property
    def documents(self) -> int:
        """Documents issued at kiosks."""
        return int(self.doc_at.size)

    @property
    def authentications(self) -> int:
        """Kiosk card authentications answered (recorded or refused)."""
        return self.auth_recorded + sum(self.auth_refusals.values())


def read_kiosks(source: str | Path, instance: str | None = None) -> KioskData | None:
    """The kiosk side of a drill in a data folder or a postgresql:// DSN; None if it ran no kiosks."""
    from calibration.drill_postgres import is_dsn

    rows = _postgres_rows(str(source), instance) if is_dsn(source) else _sqlite_rows(Path(source))
    return None if rows is None else assemble(*rows)


def assemble(docs: list[tuple[int, int, float]], answers: list[str]) -> KioskData:
    """The arrays and counts from the stores' rows."""
    recorded, refusals = 0, Counter()
    for text in answers:
        a = json.loads(text)
        if a.get("status") == "rejected":
            refusals[str(a.get("error"))] += 1
        else:
            recorded += 1
    arr = np.asarray(docs, dtype=float).reshape(-1, 3)
    return KioskData(arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2],
                     recorded, dict(sorted(refusals.items())))


def _sqlite_rows(folder: Path) -> Rows | None:
    """The rows from the folder's kiosks and trust stores (None when there is no kiosks store)."""
    import sqlite3

    path = folder / "kiosks.sqlite"
    if not path.exists():
        return None
    out: list = []
    for p, query in ((path, _DOCS), (folder / "trust.sqlite", _AUTHS)):
        if not p.exists():
            out.append([])
            continue
        try:
            con = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
            try:
                out.append(con.execute(query).fetchall())
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise ValidationError(f"{p} is not a readable kiosk or trust store: {exc}") from exc
    return [(int(s), int(r), float(t)) for s, r, t in out[0]], [str(a) for (a,) in out[1]]


def _postgres_rows(dsn: str, instance: str | None) -> Rows | None:
    """The same rows from the service's kiosks and trust schemas, in one read-only snapshot."""
    import psycopg

    from calibration.drill_postgres import _pick, _scrub, where

    place = where(dsn)
    try:
        conn = psycopg.connect(dsn, connect_timeout=5)
    except psycopg.Error as exc:
        raise ValidationError(f"cannot connect to PostgreSQL at {place}: {_scrub(str(exc).strip(), dsn)}") from None
    try:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            names = {n for (n,) in conn.execute("SELECT nspname FROM pg_namespace")}
            chosen, _ = _pick(place, sorted(names), instance)
            kiosks, trust = f"myna_{chosen}_kiosks", f"myna_{chosen}_trust"
            if kiosks not in names:
                return None
            try:
                docs = conn.execute(_DOCS.replace("FROM ", f'FROM "{kiosks}".')).fetchall()
                answers = conn.execute(_AUTHS.replace("FROM ", f'FROM "{trust}".')).fetchall() \
                    if trust in names else []
            except psycopg.Error as exc:
                raise ValidationError(f"schema {kiosks} or {trust} at {place} is not readable: "
                                      f"{_scrub(str(exc).strip(), dsn)}") from None
    finally:
        conn.close()
    return [(int(s), int(r), float(t)) for s, r, t in docs], [str(a) for (a,) in answers]
