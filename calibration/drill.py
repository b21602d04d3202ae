"""Reading a drill (訓練) back from a live service's stores: the shelter groups' journals.

Each shelter-group actor keeps a SQLite store `shelters_N.sqlite` in the data folder (or, with
`run.py serve --store postgresql://...`, a schema `myna_<instance>_shelters_N`: read by
`calibration.drill_postgres`) with its command journal
(`actors/journal.py`): card taps (`checkin`: readers, serials, at in POSIX s), paper forms
(`paper`: shelter_id, now), desk and face check-ins (`identity_in`: identity.method, shelter_id,
now) and reader status (`online`). The journal has no reader-to-shelter table, so a reader's
shelter is taken from the answers the service gave (each recorded tap answer names its
shelter): the shelter most of its recorded taps were answered for. Reads only; imports no Ray.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.errors import ValidationError

_GROUP = re.compile(r"^shelters_(\d+)\.sqlite$")
JOURNAL_OPS = "('checkin', 'paper', 'identity_in', 'online')"  # check-ins and readers' network changes


@dataclass(frozen=True)
class DrillData:
    """What a drill recorded, as arrays (times in POSIX seconds)."""

    folder: str
    groups: tuple[int, ...]
    tap_reader: np.ndarray  # global reader key: group * 1_000_000 + reader id
    tap_at: np.ndarray
    tap_shelter: np.ndarray  # facility id of the reader's shelter, -1 when no answer names it
    desk_method: tuple[str, ...]  # 'paper' or the identity method (e.g. 'face', 'counter') per desk check-in
    desk_shelter: np.ndarray
    desk_at: np.ndarray
    refusals: dict[str, int]  # refusal code -> count, from the answers
    kind: str = "sqlite"  # where the journals were read: 'sqlite' (folder) or 'postgresql' (folder is the DSN, redacted)
    online: tuple[tuple[int, bool], ...] = ()  # (reader key, online) per journaled network change, in order

    @property
    def taps(self) -> int:
        """Card taps journaled."""
        return int(self.tap_at.size)

    def readers(self) -> np.ndarray:
        """The reader keys that tapped, sorted."""
        return np.unique(self.tap_reader)

    def span(self) -> tuple[float, float]:
        """First and last recorded check-in (POSIX s)."""
        at = np.concatenate([self.tap_at, self.desk_at])
        return float(at.min()), float(at.max())


def shelter_stores(folder: str | Path) -> dict[int, Path]:
    """The shelter-group stores in a data folder, by group; a clear error when there are none."""
    p = Path(folder)
    if not p.exists():
        raise ValidationError(f"drill folder {p} does not exist")
    if not p.is_dir():
        raise ValidationError(f"drill folder {p} is not a folder (give the live service's data folder)")
    found = {int(m.group(1)): f for f in p.iterdir() if (m := _GROUP.match(f.name))}
    if not found:
        _stored_elsewhere(p)
        raise ValidationError(f"{p} holds no shelter-group journals (shelters_N.sqlite); is it a data "
                              "folder of `run.py serve` with the SQLite store?")
    return dict(sorted(found.items()))


def _stored_elsewhere(folder: Path) -> None:
    """A clear error when the folder belongs to a service that kept its journals in PostgreSQL."""
    import json

    try:
        saved = json.loads((folder / "service.json").read_text())
    except (OSError, ValueError):
        return
    if saved.get("store_kind") == "postgresql":
        raise ValidationError(f"the service of {folder} kept its journals in PostgreSQL: give --from-drill its "
                              f"postgresql:// DSN (and --drill-instance {saved.get('instance')} if the database "
                              "holds several services)")


def read_drill(source: str | Path, instance: str | None = None) -> DrillData:
    """Every check-in the drill's shelter groups journaled, with each reader's shelter; `source` is a data
    folder (SQLite stores) or a postgresql:// DSN (`instance` picks the service when it holds several)."""
    from calibration import drill_postgres

    if drill_postgres.is_dsn(source):
        label, journals = drill_postgres.read_journals(str(source), instance)
        return _assemble(label, journals, "postgresql")
    if instance is not None:
        raise ValidationError("a drill instance applies only to a PostgreSQL DSN; a data folder names its own")
    return _assemble(str(source), _sqlite_journals(source), "sqlite")


def _sqlite_journals(folder: str | Path) -> dict[int, tuple[list[tuple[str, str]], list[str]]]:
    """Per shelter group: its check-in commands (op, body) in order and its recorded answers."""
    import sqlite3

    out = {}
    for group, path in shelter_stores(folder).items():
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = con.execute(f"SELECT op, body FROM twin_journal WHERE op IN {JOURNAL_OPS} ORDER BY seq").fetchall()
                answers = [a for (a,) in con.execute("SELECT answer FROM twin_answers")]
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise ValidationError(f"{path} is not a readable shelter journal: {exc}") from exc
        out[group] = (rows, answers)
    return out


def _assemble(label: str, journals: dict[int, tuple[list[tuple[str, str]], list[str]]], kind: str) -> DrillData:
    """The drill's arrays from each group's journal rows and answers (the same for every store)."""
    import json

    readers, ats, shelters, methods, dshelter, dat = [], [], [], [], [], []
    online: list[tuple[int, bool]] = []
    refusals: Counter[str] = Counter()
    for group, (rows, answer_texts) in journals.items():
        answers = [json.loads(a) for a in answer_texts]
        serial_shelter: dict[int, int] = {}
        for a in answers:
            if a.get("status") == "rejected":
                refusals[str(a.get("error"))] += 1
            elif isinstance(a.get("result"), dict) and a["result"].get("card_serial") is not None:
                r = a["result"]
                if r.get("shelter_id") is not None:
                    serial_shelter[int(r["card_serial"])] = int(r["shelter_id"])
        votes: dict[int, Counter[int]] = {}
        start = len(readers)
        tap_serials = []
        for op, text in rows:
            b = json.loads(text)
            if op == "checkin":
                readers += [group * 1_000_000 + int(r) for r in b["readers"]]
                tap_serials += [int(s) for s in b["serials"]]
                ats += [float(t) for t in b["at"]]
            elif op == "online":
                online.append((group * 1_000_000 + int(b["reader_id"]), bool(b["online"])))
            elif op == "paper":
                methods.append("paper")
                dshelter.append(int(b["shelter_id"]))
                dat.append(float(b["now"]))
            else:
                methods.append(str(b["identity"]["method"]))
                dshelter.append(int(b["shelter_id"]))
                dat.append(float(b["now"]))
        for reader, serial in zip(readers[start:], tap_serials, strict=True):
            if serial in serial_shelter:
                votes.setdefault(reader, Counter())[serial_shelter[serial]] += 1
        where = {r: c.most_common(1)[0][0] for r, c in votes.items()}
        shelters += [where.get(r, -1) for r in readers[start:]]
    if not ats and not dat:
        raise ValidationError(f"the shelter journals in {label} record no check-ins: nothing to fit")
    return DrillData(label, tuple(journals), np.asarray(readers, dtype=np.int64), np.asarray(ats, float),
                     np.asarray(shelters, dtype=np.int64), tuple(methods), np.asarray(dshelter, dtype=np.int64),
                     np.asarray(dat, float), dict(sorted(refusals.items())), kind, tuple(online))
