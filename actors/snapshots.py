"""Journal snapshots (スナップショット): a host's aggregate at a journal position, so a restart replays only the rest.

A snapshot is the state `build()` created (the twin aggregate), pickled at journal position
`seq` and written to the host's own store (`twin_snapshots`) in its own transaction after the
command commit. On start the newest usable snapshot is restored and only the commands after
its seq are replayed; one that cannot be used (unreadable, another format, another city,
design, layout or code) is skipped with a warning, and with none usable the host is built
from the city and the whole journal replayed, as without snapshots.

What is pickled: the attributes `build()` set. Objects the host shares rather than owns —
the host itself (bound methods such as a notify callback), its store, journal and spec, the
city and its frames, the design — are written as references and resolved against the
restarted host, so a snapshot neither drags a shared city frame nor a database connection.
Caches of the store's own state (the ledger's balance cache) come back empty. Snapshots are
pickles sealed with AES-256-GCM under a key derived from the data folder's secret
(`actors.trust_root`): the store never holds the aggregate's My Numbers or keys in the clear,
and a snapshot altered in the store, or sealed under another secret, is refused before it is
unpickled (it is skipped and the journal replayed).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import pickle
import platform
import time
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from actors import metrics, trust_root, world
from twin.errors import TwinError
from twin.services.ledger_cache import BalanceCache

if TYPE_CHECKING:
    from actors.host import Host

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS twin_snapshots (seq ID PRIMARY KEY, format TEXT NOT NULL, layout TEXT NOT NULL, "
    "blob BLOB NOT NULL, size BIGINT NOT NULL, at REAL NOT NULL)",
)
FORMAT = "pickle5+zlib1+aesgcm/v2"  # change the version when the payload's shape changes
KEEP = 3  # snapshots kept per host (the newest; an unreadable newest falls back to the one before)
FRESH = {BalanceCache: BalanceCache}  # caches of the store's state: restored empty, refilled from the store
_CODE_DIRS = ("twin", "actors")
log = logging.getLogger(__name__)


class SnapshotFailed(TwinError):
    """The aggregate could not be snapshotted (e.g. it holds an object that cannot be pickled)."""

    code = "snapshot_failed"
    status = 500


@dataclass(frozen=True)
class SnapshotInfo:
    """One snapshot written: its journal position, compressed size, when, and how long it took."""

    seq: int
    size: int
    at: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """As JSON."""
        return dataclasses.asdict(self)


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the twin's and actors' source: a snapshot from other code is not restored."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for sub in _CODE_DIRS:
        for path in sorted((root / sub).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def fingerprint(host: Host) -> dict[str, Any]:
    """What a snapshot must match to be restored: format, host, layout, design, code, library versions."""
    design = hashlib.sha256(repr(world.design(host.spec)).encode()).hexdigest()[:16]
    return {"format": FORMAT, "host": f"{type(host).__module__}.{type(host).__qualname__}", "name": host.name,
            "layout": host.spec.layout(), "design": design, "code": code_digest(),
            "python": platform.python_version(), "numpy": np.__version__, "polars": pl.__version__}


def _encode(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _shared(host: Host) -> dict[str, Any]:
    """The objects a snapshot refers to instead of holding, by name."""
    refs: dict[str, Any] = {"host": host, "store": host.store, "journal": host.journal, "spec": host.spec}
    c = world.city(host.spec)
    refs["city"], refs["design"] = c, world.design(host.spec)
    for f in dataclasses.fields(c):
        value = getattr(c, f.name)
        if isinstance(value, pl.DataFrame | pl.Series | np.ndarray):
            refs[f"city.{f.name}"] = value
    return refs


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: dict[str, Any]) -> None:
        super().__init__(file, protocol=5)
        self._ids = {id(v): k for k, v in shared.items()}
        self._keep = list(shared.values())  # the ids stay valid while pickling

    def persistent_id(self, obj: Any) -> Any:
        name = self._ids.get(id(obj))
        if name is not None:
            return name
        if type(obj) in FRESH:
            return ("fresh", type(obj).__module__, type(obj).__qualname__)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, host: Host) -> None:
        super().__init__(file)
        self._host = host
        self._shared: dict[str, Any] | None = None

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and pid[0] == "fresh":
            cls = next(c for c in FRESH if (c.__module__, c.__qualname__) == (pid[1], pid[2]))
            return FRESH[cls]()
        if self._shared is None:
            self._shared = _shared(self._host)  # the city only when a snapshot refers to it
        if pid not in self._shared:
            raise pickle.UnpicklingError(f"the snapshot refers to {pid!r}, which this host does not have")
        return self._shared[pid]


def _sealer(host: Host) -> AESGCM:
    """The AEAD that seals this service's snapshots, keyed from the data folder's secret."""
    return AESGCM(trust_root.derive(host.spec.trust_root(), "snapshots"))


def _aad(host: Host) -> bytes:
    return f"{FORMAT}|{host.name}|{host.spec.instance}".encode()


def dumps(host: Host, built: list[str], state: dict[str, Any]) -> bytes:
    """The sealed, compressed pickle of a host's state (shared objects as references): AES-256-GCM, so
    no My Number, key or other personal datum reaches the store in the clear."""
    buf = io.BytesIO()
    _Pickler(buf, _shared(host)).dump({"built": list(built), "state": state})
    nonce = os.urandom(12)
    return nonce + _sealer(host).encrypt(nonce, zlib.compress(buf.getvalue(), 1), _aad(host))


def loads(host: Host, blob: bytes) -> tuple[list[str], dict[str, Any]]:
    """The (build attribute names, state) of a sealed pickle, references resolved against `host`
    (a snapshot sealed under another secret, or altered, is refused before it is unpickled)."""
    raw = bytes(blob)
    plain = _sealer(host).decrypt(raw[:12], raw[12:], _aad(host))
    payload = _Unpickler(io.BytesIO(zlib.decompress(plain)), host).load()
    if not isinstance(payload, dict) or not isinstance(payload.get("state"), dict) \
            or not isinstance(payload.get("built"), list):
        raise pickle.UnpicklingError("the snapshot does not hold a host state")
    return [str(n) for n in payload["built"]], payload["state"]


def _differs(saved: str, current: dict[str, Any]) -> str:
    """Which part of the fingerprint differs, for the warning."""
    try:
        old = json.loads(saved)
    except ValueError:
        return "its fingerprint is unreadable"
    keys = sorted(k for k in set(old) | set(current) if old.get(k) != current.get(k))
    if "layout" in keys:
        lay = old.get("layout") or {}
        keys += [f"layout.{k}" for k in sorted(current["layout"]) if lay.get(k) != current["layout"][k]]
    return "it was made for another " + ", ".join(keys)


SPACING = 100  # automatic snapshots take at most 1 % of an actor's time


class Snapshots:
    """One host's snapshots: restore on start, take every `snapshot_every` commands and on demand."""

    def __init__(self, host: Host) -> None:
        self.host = host
        host.store.ensure_schema("snapshots", SCHEMA)
        self.built: list[str] = []  # the attributes build() set (or the restored snapshot held)
        self.restored_seq = 0  # the journal position the host started from
        self.base = 0  # the position of the last snapshot restored, taken or attempted
        self.last: SnapshotInfo | None = None
        self.unpicklable = ""  # why this host's aggregate cannot be snapshotted (automatic ones stop)
        self.not_before = 0.0  # monotonic time before which no automatic snapshot is taken

    # -- start --------------------------------------------------------------------------------------
    def start(self) -> int:
        """Restore the newest usable snapshot (or build), replay the rest; the commands replayed."""
        host = self.host
        self.restored_seq = self.base = self.restore()
        try:
            replayed = host._replay(self.restored_seq)
        except Exception:
            if not self.restored_seq:
                raise
            log.warning("%s: replay after snapshot %d failed; rebuilding and replaying the whole journal",
                        host.name, self.restored_seq, exc_info=True)
            self.build()
            self.restored_seq = self.base = 0
            replayed = host._replay(0)
        if host.spec.snapshot_every and replayed >= host.spec.snapshot_every:
            self._auto()  # a long replay now is a short one next time
        return replayed

    def build(self) -> None:
        """Build the aggregate from the city, noting which attributes `build()` set."""
        host = self.host
        before = {k: v for k, v in vars(host).items() if k not in self.built}  # a rebuild sets those again
        host.build()
        self.built = [k for k, v in vars(host).items() if k not in before or before[k] is not v]

    def restore(self) -> int:
        """Put the newest usable snapshot in place (building first if it holds only part); its seq, or 0."""
        host, current = self.host, fingerprint(self.host)
        wanted, journal = _encode(current), len(self.host.journal)
        for seq, fmt, layout in self._listed():
            why = ("it is past the journal's end" if seq > journal else
                   f"its format is {fmt!r}, not {FORMAT!r}" if fmt != FORMAT else
                   _differs(layout, current) if layout != wanted else "")
            if not why:
                try:
                    built, state = loads(host, self._blob(seq))
                except Exception as exc:  # noqa: BLE001 - any unreadable snapshot is skipped
                    why = f"it cannot be read ({type(exc).__name__}: {exc})"
            if why:
                log.warning("%s: not restoring snapshot %d: %s", host.name, seq, why)
                continue
            if set(state) == set(built):
                self.built = built  # the whole aggregate: no build needed
            else:
                self.build()  # the host snapshots part of it: build the rest
            host.restore_state(state)
            return seq
        self.build()
        return 0

    # -- taking -------------------------------------------------------------------------------------
    def take(self) -> SnapshotInfo:
        """Snapshot the aggregate at the journal's position now, in its own transaction; keep the newest few."""
        host, started = self.host, time.perf_counter()
        seq = len(host.journal)
        try:
            blob = dumps(host, self.built, host.snapshot_state())
        except Exception as exc:
            raise SnapshotFailed(f"{host.name}: cannot snapshot the aggregate ({type(exc).__name__}: {exc}); "
                                 "it replays its whole journal on restart") from exc
        at = time.time()
        with host.store.transaction() as tx:
            tx.execute("DELETE FROM twin_snapshots WHERE seq = ?", (seq,))
            tx.execute("INSERT INTO twin_snapshots (seq, format, layout, blob, size, at) VALUES (?, ?, ?, ?, ?, ?)",
                       (seq, FORMAT, _encode(fingerprint(host)), blob, len(blob), at))
            tx.execute("DELETE FROM twin_snapshots WHERE seq NOT IN "
                       "(SELECT seq FROM twin_snapshots ORDER BY seq DESC LIMIT ?)", (KEEP,))
        self.base = seq
        self.last = SnapshotInfo(seq, len(blob), at, round(time.perf_counter() - started, 4))
        metrics.record("snapshot_seconds", self.last.seconds, actor=host.name)
        return self.last

    def after_commit(self) -> None:
        """Snapshot when `snapshot_every` commands were journaled since the last one."""
        every = self.host.spec.snapshot_every
        if (every and not self.unpicklable and len(self.host.journal) - self.base >= every
                and time.monotonic() >= self.not_before):
            self._auto()

    def _auto(self) -> None:
        """An automatic snapshot: a failure is logged (the next try is `snapshot_every` later), never raised.
        The next one waits at least SPACING times as long as this one took, so snapshots (which hold the
        actor while they are written, and grow with its state) take at most 1/SPACING of its time."""
        self.base = len(self.host.journal)
        started = time.monotonic()
        try:
            self.take()
        except SnapshotFailed as exc:
            self.unpicklable = str(exc)
            log.warning("%s (automatic snapshots stop until the actor restarts)", exc)
        except Exception as exc:  # noqa: BLE001 - the command is committed; a snapshot is an optimisation
            log.warning("%s: snapshot at %d failed, next try in %d commands: %s", self.host.name, self.base,
                        self.host.spec.snapshot_every, exc)
        finally:
            now = time.monotonic()
            self.not_before = now + SPACING * (now - started)

    # -- the table ----------------------------------------------------------------------------------
    def listed(self) -> list[dict[str, Any]]:
        """The stored snapshots, newest first: seq, size (bytes) and when."""
        with self.host.store.reading() as tx:
            rows = tx.query("SELECT seq, size, at FROM twin_snapshots ORDER BY seq DESC")
        return [{"seq": int(s), "size": int(n), "at": float(a)} for s, n, a in rows]

    def _listed(self) -> list[tuple[int, str, str]]:
        with self.host.store.reading() as tx:
            rows = tx.query("SELECT seq, format, layout FROM twin_snapshots ORDER BY seq DESC")
        return [(int(s), str(f), str(lay)) for s, f, lay in rows]

    def _blob(self, seq: int) -> bytes:
        with self.host.store.reading() as tx:
            return bytes(tx.scalar("SELECT blob FROM twin_snapshots WHERE seq = ?", (seq,)))
