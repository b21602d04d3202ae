"""Opening each actor's durable store: a SQLite file in the data folder, or a PostgreSQL schema."""

from __future__ import annotations

import os
import re
from pathlib import Path

from actors.spec import ServiceSpec
from twin.errors import ValidationError
from twin.store import Store

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def schema_of(spec: ServiceSpec, name: str) -> str:
    """The PostgreSQL schema of store `name` in this data folder."""
    return f"myna_{spec.instance}_{name}"


def open_store(spec: ServiceSpec, name: str) -> Store:
    """Store `name` (e.g. 'shelters_0') of the service: durable, one per actor."""
    if not _NAME.match(name):
        raise ValidationError(f"store name must be lower-case letters, digits and _, got {name!r}")
    if spec.store_kind == "sqlite":
        path = spec.folder / f"{name}.sqlite"
        _owner_only(path)
        return Store.sqlite(path, synchronous=spec.synchronous)
    return Store.postgres(spec.store, schema=schema_of(spec, name))


def _owner_only(path: Path) -> None:
    """Create the store file readable by its owner only (SQLite gives its -wal and -shm files the same mode)."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
