"""The live service's settings as one validated value, and its manifest in the data folder.

A data folder belongs to one city build (name, seed, scale), one design, one shard layout
and one build instant: actors rebuild their state from the folder's stores, so reopening it
with other settings would route residents to the wrong shard. `ServiceSpec.open` refuses that
and says which setting differs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from actors import trust_root
from twin.errors import Conflict, ValidationError

STORE_KINDS = ("sqlite", "postgresql")
MANIFEST = "service.json"
LAYOUT = ("city", "seed", "scale", "design", "shelter_groups", "resident_shards", "store_kind", "built_at",
          "instance")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_-]{1,48}$")


@dataclass(frozen=True)
class ServiceSpec:
    """Which city and design to serve, where state lives, and how it is split over actors."""

    data_dir: str
    city: str = "kumamoto"
    seed: int = 1
    scale: float = 0.1
    design: str = "full"  # a shipped design name (designs/NAME.toml) or a TOML path
    store: str = "sqlite"  # "sqlite" (files in data_dir, WAL) or a postgresql:// DSN
    shelter_groups: int = 2  # shelter-group actors; wards are dealt round-robin
    resident_shards: int = 2  # resident-shard actors (wallet, points, mailbox, vital records)
    max_restarts: int = 20  # per actor; state is rebuilt from the store on each restart
    namespace: str = "myna-twin"
    synchronous: str = "FULL"  # SQLite: FULL survives power loss; NORMAL survives process crashes
    built_at: float = 0.0  # the instant the city's cards are issued as of (fixed for the folder)
    spread: bool = True  # place actors over every node of the cluster
    instance: str = ""  # random id of the data folder (names its PostgreSQL schemas)
    time_shift: float = 0.0  # seconds added to the wall clock (a drill run as if at another time)
    snapshot_every: int = 50_000  # snapshot each actor's aggregate every N journaled commands (0: never)
    secret: bytes = field(default=b"", repr=False, compare=False)  # the folder's trust root (actors.trust_root)
    trust_ca: str = field(default="", repr=False)  # PEM of a drill's card CA (actors.drill); "" = none
    drill_cards: str = field(default="", repr=False)  # the drill-cards enrolment CSV (fingerprint,resident_id)
    drill_cards_only: bool = False  # refuse twin-made virtual cards wherever a card signature is checked

    def __post_init__(self) -> None:
        if not isinstance(self.data_dir, str) or not self.data_dir:
            raise ValidationError("data_dir must name a folder for the service's stores")
        _int("seed", self.seed, 0, 2**31 - 1)
        _int("shelter_groups", self.shelter_groups, 1, 64)
        _int("resident_shards", self.resident_shards, 1, 256)
        _int("max_restarts", self.max_restarts, 0, 10_000)
        _int("snapshot_every", self.snapshot_every, 0, 10_000_000)
        if isinstance(self.scale, bool) or not isinstance(self.scale, int | float) or not 0 < self.scale <= 1:
            raise ValidationError(f"scale must be in (0, 1], got {self.scale!r}")
        if not (self.store == "sqlite" or self.store.startswith(("postgresql://", "postgres://"))):
            raise ValidationError(f"store must be 'sqlite' or a postgresql:// DSN, got {self.store.split('@')[-1]!r}")
        if not _NAMESPACE.match(self.namespace):
            raise ValidationError(f"namespace must be 1-48 of A-Z a-z 0-9 _ -, got {self.namespace!r}")
        if isinstance(self.time_shift, bool) or not isinstance(self.time_shift, int | float) \
                or not abs(self.time_shift) < 100 * 365 * 86400:
            raise ValidationError(f"time_shift must be seconds (under a century), got {self.time_shift!r}")
        if bool(self.trust_ca) != bool(self.drill_cards):
            raise ValidationError("a drill with real cards needs both the CA certificate (--trust-ca) and the "
                                  "enrolment of its cards (--drill-cards)")
        if self.drill_cards_only and not self.trust_ca:
            raise ValidationError("drill_cards_only (--drill-cards-only) needs --trust-ca and --drill-cards")
        if self.synchronous not in ("FULL", "NORMAL"):
            raise ValidationError(f"synchronous must be FULL or NORMAL, got {self.synchronous!r}")

    def now(self) -> float:
        """The service's clock: POSIX seconds (the wall clock plus `time_shift`)."""
        return time.time() + self.time_shift

    @property
    def store_kind(self) -> str:
        """'sqlite' or 'postgresql'."""
        return "sqlite" if self.store == "sqlite" else "postgresql"

    @property
    def folder(self) -> Path:
        """The data folder as a path."""
        return Path(self.data_dir)

    def trust_root(self) -> bytes:
        """The data folder's secret (read, or created owner-only on first use); never from public inputs."""
        return self.secret or trust_root.load_or_create(self.folder)

    def public(self) -> dict[str, object]:
        """The settings without the secret (what the HTTP ingress and other programs may hold)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "secret"}

    def layout(self) -> dict[str, object]:
        """The settings a data folder is bound to."""
        return {k: getattr(self, k) for k in LAYOUT}

    def open(self) -> ServiceSpec:
        """Create or reopen the data folder: a new one records this layout; an old one must match it."""
        folder = trust_root.private_folder(self.folder)
        path = folder / MANIFEST
        secret = self.secret or trust_root.load_or_create(folder)
        if not path.exists():
            spec = dataclasses.replace(self, data_dir=str(folder), built_at=self.built_at or round(self.now(), 3),
                                       instance=self.instance or secrets.token_hex(4), secret=secret)
            _write_private(path, json.dumps(spec.layout(), indent=2))
            return spec
        saved = json.loads(path.read_text())
        spec = dataclasses.replace(self, data_dir=str(folder), built_at=self.built_at or float(saved.get("built_at", 0)),
                                   instance=self.instance or str(saved.get("instance", "")), secret=secret)
        for key, value in spec.layout().items():
            if saved.get(key) != value:
                raise Conflict(f"the data folder {folder} was made for {key}={saved.get(key)!r}, not {value!r}; "
                               f"use the same setting or another --data folder")
        return spec


def _int(name: str, value: object, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationError(f"{name} must be an integer in {lo}..{hi}, got {value!r}")


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
