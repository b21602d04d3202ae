"""Who holds what: residents to resident shards, wards and shelters to shelter groups.

Residents are routed by id (`resident_id mod shards`), so a caller can split a batch by
shard without asking anyone; shelter groups own whole wards, so a shelter and its readers
always live in one group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SHELTERS, RESIDENTS = "shelters", "residents"
TRUST, KIOSKS, LINKAGE, CHILDWATCH = "trust", "kiosks", "linkage", "childwatch"
TAP_FIELDS = ("tap_id", "fingerprint", "reader_id", "serial", "at")  # a shelter tap row, sent as columns


def tap_columns(rows: Sequence[tuple]) -> dict[str, list]:
    """Shelter tap rows (tuples in TAP_FIELDS order) as columns: smaller and faster to send."""
    return {name: list(col) for name, col in zip(TAP_FIELDS, zip(*rows, strict=True), strict=True)}


def shard_of(resident_id: int, shards: int) -> int:
    """The resident shard holding `resident_id`."""
    return int(resident_id) % shards


def split_by_shard(resident_ids: Sequence[int], shards: int) -> dict[int, list[int]]:
    """Positions of the ids per shard (each shard's list in input order)."""
    ids = np.asarray(resident_ids, dtype=np.int64)
    shard = ids % shards
    return {int(k): np.flatnonzero(shard == k).tolist() for k in np.unique(shard)}


def actor_name(kind: str, index: int | None = None) -> str:
    """An actor's name in the service's namespace (e.g. 'shelters_1', 'trust')."""
    return kind if index is None else f"{kind}_{index}"


def ward_group(group_wards: Sequence[Sequence[int]]) -> dict[int, int]:
    """Ward -> shelter group."""
    return {int(w): g for g, wards in enumerate(group_wards) for w in wards}
