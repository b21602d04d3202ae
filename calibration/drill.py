"""Reading a drill (訓練) back from a live service's data folder: the shelter groups' journals.

Each shelter-group actor keeps a SQLite store `shelters_N.sqlite` with its command journal
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
        raise ValidationError(f"{p} holds no shelter-group journals (shelters_N.sqlite); is it a data "
                              "folder of `run.py serve` with the SQLite store?")
    return dict(sorted(found.items()))


def read_drill(folder: str | Path) -> DrillData:
    """Every check-in the drill's shelter groups journaled, with each reader's shelter."""
    import json
    import sqlite3

    readers, ats, shelters, methods, dshelter, dat = [], [], [], [], [], []
    refusals: Counter[str] = Counter()
    stores = shelter_stores(folder)
    for group, path in stores.items():
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = con.execute("SELECT op, body FROM twin_journal WHERE op IN "
                                   "('checkin', 'paper', 'identity_in') ORDER BY seq").fetchall()
                answers = [json.loads(a) for (a,) in con.execute("SELECT answer FROM twin_answers")]
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise ValidationError(f"{path} is not a readable shelter journal: {exc}") from exc
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
        raise ValidationError(f"the shelter journals in {folder} record no check-ins: nothing to fit")
    return DrillData(str(folder), tuple(stores), np.asarray(readers, dtype=np.int64), np.asarray(ats, float),
                     np.asarray(shelters, dtype=np.int64), tuple(methods), np.asarray(dshelter, dtype=np.int64),
                     np.asarray(dat, float), dict(sorted(refusals.items())))
