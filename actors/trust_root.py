"""The live service's trust root: one random secret per data folder, owner-only, never derived from public inputs.

Simulations derive every key from (city, seed, scale) so runs repeat; a live service must not,
or anyone who knows the seed rebuilds the authority. `run.py serve` draws 32 bytes from the
operating system (`secrets`) the first time a data folder is opened and keeps them in
`DATA/secret/trust-root.key` (folder 0700, file 0600); restarts read the same bytes. The
authority's key, every virtual card's keys and PINs, the linkage broker's master key and the
key that seals snapshots are derived from it by HMAC-SHA256 with a label each.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from twin.errors import Conflict

SECRET_DIR = "secret"
SECRET_FILE = "trust-root.key"
SECRET_BYTES = 32


def path_of(folder: str | Path) -> Path:
    """Where a data folder keeps its secret."""
    return Path(folder).expanduser() / SECRET_DIR / SECRET_FILE


def private_folder(folder: str | Path) -> Path:
    """Create `folder` (and parents) if missing and make it owner-only (0700)."""
    path = Path(folder).expanduser()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def load_or_create(folder: str | Path) -> bytes:
    """The data folder's secret: read it, or draw and store a new one (0600) the first time."""
    private_folder(folder)
    path = path_of(folder)
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    secret = secrets.token_bytes(SECRET_BYTES)
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
        f.flush()
        os.fsync(f.fileno())
    return secret


def _read(path: Path) -> bytes:
    """An existing secret; refused if others may read it or it is not a whole secret."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise Conflict(f"{path} is readable by others (mode {mode:o}); it must be owner-only: chmod 600 {path}")
    raw = path.read_bytes()
    if len(raw) != SECRET_BYTES:
        raise Conflict(f"{path} holds {len(raw)} bytes, not a {SECRET_BYTES}-byte secret; restore it from the "
                       "folder's backup (a new secret would make every card of this folder invalid)")
    return raw


def derive(secret: bytes, label: str) -> bytes:
    """A 32-byte key for one use (`label`), derived from the secret; no key reveals another."""
    if len(secret) != SECRET_BYTES:
        raise Conflict(f"the trust root must be {SECRET_BYTES} bytes, got {len(secret)}")
    return hmac.new(secret, b"myna-twin/trust-root/" + label.encode(), hashlib.sha256).digest()
