"""Backups of a live service's data folder while it runs, and restoring one into a new folder.

A backup is one owner-only `.tar.gz` holding: each SQLite store copied through SQLite's online
backup API (a consistent copy of that store, taken while its actor keeps writing; its write-ahead
log is folded in), or for a PostgreSQL data folder a `pg_dump` of the folder's schemas; and every
other file of the folder as it is (the manifest, credentials, secrets), with its permissions.
Each store is consistent on its own; stores are copied one after another, so a command that
spans actors (a loss report told to every shelter group) may be in one copy and not yet in
another, which is the state a restart finds too and finishes the same way.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actors.spec import MANIFEST
from twin.errors import Conflict, ValidationError

INDEX = "backup.json"
PG_DUMP = "stores.pgdump"
SKIP_SUFFIXES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds."""

    path: str
    created_at: float
    store_kind: str
    stores: tuple[str, ...]
    files: tuple[str, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"path": self.path, "created_at": self.created_at, "store_kind": self.store_kind,
                "stores": list(self.stores), "files": list(self.files),
                "seconds": round(self.seconds, 3)}


def _manifest(folder: Path) -> dict[str, Any]:
    """The data folder's manifest, or a clear error if the folder is not a service's."""
    path = folder / MANIFEST
    if not path.is_file():
        raise ValidationError(f"{folder} is not a myna-twin data folder (no {MANIFEST}); give the "
                              "--data folder `run.py serve` uses")
    return json.loads(path.read_text())


def _copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite store through the online backup API."""
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30) as source, \
            sqlite3.connect(dst) as target:
        source.backup(target)
    target.close()
    source.close()
    with sqlite3.connect(dst) as check:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
    check.close()
    if ok != "ok":
        raise ValidationError(f"the copy of {src.name} fails SQLite's integrity check: {ok}")


def _pg_dump(dsn: str, instance: str, dst: Path) -> None:
    """pg_dump of this folder's schemas (custom format)."""
    if shutil.which("pg_dump") is None:
        raise ValidationError("pg_dump is not installed here (Debian: postgresql-client); it is needed "
                              "to back up a PostgreSQL data folder")
    cmd = ["pg_dump", "--dbname", dsn, "--format=custom", "--schema", f"myna_{instance}_*",
           "--file", str(dst)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if run.returncode:
        raise ValidationError(f"pg_dump failed: {run.stderr.strip()[:300]}")


def backup(data: str | Path, to: str | Path, dsn: str | None = None) -> BackupInfo:
    """Back up data folder `data` into the file `to` (owner-only); never overwrites a file."""
    started = time.perf_counter()
    folder, target = Path(data).expanduser(), Path(to).expanduser()
    manifest = _manifest(folder)
    if target.exists():
        raise Conflict(f"{target} exists already; a backup never overwrites a file")
    kind = manifest.get("store_kind", "sqlite")
    if kind == "postgresql" and not dsn:
        raise ValidationError("this data folder keeps its state in PostgreSQL: give --store with the "
                              "DSN the service runs with")
    with tempfile.TemporaryDirectory(prefix="myna-backup-") as tmp:
        staging = Path(tmp)
        stores: list[str] = []
        if kind == "sqlite":
            for src in sorted(folder.glob("*.sqlite")):
                _copy_sqlite(src, staging / src.name)
                stores.append(src.name)
        else:
            _pg_dump(dsn, str(manifest["instance"]), staging / PG_DUMP)
            stores.append(PG_DUMP)
        files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".sqlite"
                 and not p.name.endswith(SKIP_SUFFIXES) and p.relative_to(folder).parts[0] != "logs"]
        index = {"created_at": time.time(), "store_kind": kind, "stores": stores,
                 "files": [str(p.relative_to(folder)) for p in files], "manifest": manifest}
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            blob = json.dumps(index, indent=2).encode()
            entry = tarfile.TarInfo(INDEX)
            entry.size, entry.mode, entry.mtime = len(blob), 0o600, int(time.time())
            tar.addfile(entry, io.BytesIO(blob))
            for name in stores:
                tar.add(staging / name, arcname=name)
            for p in files:
                tar.add(p, arcname=str(p.relative_to(folder)))
    return BackupInfo(str(target), index["created_at"], kind, tuple(stores), tuple(index["files"]),
                      time.perf_counter() - started)


def _members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's regular files, refusing any path that would leave the target folder."""
    out = []
    for m in tar.getmembers():
        p = Path(m.name)
        if p.is_absolute() or ".." in p.parts or not (m.isfile() or m.isdir()):
            raise ValidationError(f"the backup holds an unsafe entry {m.name!r}; not restored")
        if m.isfile():
            out.append(m)
    return out


def restore(source: str | Path, data: str | Path, dsn: str | None = None) -> BackupInfo:
    """Restore backup `source` into `data`, a new or empty folder; nothing present is overwritten."""
    started = time.perf_counter()
    src, folder = Path(source).expanduser(), Path(data).expanduser()
    if not src.is_file():
        raise ValidationError(f"no backup file at {src}")
    if folder.exists() and any(folder.iterdir()):
        raise Conflict(f"{folder} is not empty; restore into a new folder (nothing there is overwritten)")
    try:
        tar = tarfile.open(src, mode="r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise ValidationError(f"{src} is not a myna-twin backup ({exc})") from None
    with tar:
        members = _members(tar)
        names = {m.name for m in members}
        if INDEX not in names:
            raise ValidationError(f"{src} is not a myna-twin backup (no {INDEX})")
        index = json.loads(tar.extractfile(INDEX).read())
        if index["store_kind"] == "postgresql" and not dsn:
            raise ValidationError("this backup holds PostgreSQL stores: give --store with the DSN of "
                                  "a database where the folder's schemas do not exist yet")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
        for m in members:
            if m.name == INDEX or m.name == PG_DUMP:
                continue
            out = folder / m.name
            out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with tar.extractfile(m) as f, open(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                                       m.mode & 0o700 or 0o600), "wb") as w:
                shutil.copyfileobj(f, w)
        if index["store_kind"] == "postgresql":
            with tempfile.TemporaryDirectory() as tmp:
                tar.extract(PG_DUMP, tmp, filter="data")
                _pg_restore(dsn, Path(tmp) / PG_DUMP)
    return BackupInfo(str(folder), index["created_at"], index["store_kind"], tuple(index["stores"]),
                      tuple(index["files"]), time.perf_counter() - started)


def _pg_restore(dsn: str, dump: Path) -> None:
    """pg_restore into a database that has none of the dump's schemas yet."""
    if shutil.which("pg_restore") is None:
        raise ValidationError("pg_restore is not installed here (Debian: postgresql-client)")
    run = subprocess.run(["pg_restore", "--dbname", dsn, "--exit-on-error", str(dump)],
                         capture_output=True, text=True, timeout=3600)
    if run.returncode:
        raise ValidationError(f"pg_restore failed (do the schemas exist already there?): "
                              f"{run.stderr.strip()[:300]}")
