"""A synthetic drill in a data folder: shelter-group hosts (no Ray) fed taps with known service times."""

from __future__ import annotations

import numpy as np
import polars as pl

from actors import world
from actors.hosts_safety import ShelterHost
from actors.spec import ServiceSpec
from tests.actors.live_helpers import T_LIVE

# per reader (group 0's first readers): the lognormal of its service time, ln T ~ N(mu, sigma)
KNOWN = {1: (3.0, 0.5), 2: (3.3, 0.4), 3: (2.6, 0.6)}
TAPS_PER_READER = 160
IDLE_BREAKS = 4  # per reader: the queue empties for 20-40 min (gaps the estimator must drop)


def make_drill(folder, seed: int = 7, known: dict[int, tuple[float, float]] = KNOWN, store: str = "sqlite") -> dict:
    """Journal card taps at busy readers (gap = a draw from the reader's lognormal), with a few idle breaks;
    `store` as `run.py serve --store` (a postgresql:// DSN journals into the service's schemas there)."""
    spec = ServiceSpec(data_dir=str(folder), scale=0.01, shelter_groups=1, resident_shards=1,
                       built_at=T_LIVE, store=store).open()
    host = ShelterHost(spec, 0)
    shelter_of = dict(host.readers())
    serials = world.city(spec).residents.filter(pl.col("has_card"))["card_serial"].to_list()
    rng = np.random.default_rng(seed)
    cols = {k: [] for k in ("tap_id", "fingerprint", "reader_id", "serial", "at")}
    k = 0
    for reader, (mu, sigma) in known.items():
        gaps = rng.lognormal(mu, sigma, TAPS_PER_READER)
        gaps[rng.choice(TAPS_PER_READER, IDLE_BREAKS, replace=False)] += rng.uniform(1200, 2400, IDLE_BREAKS)
        for t in T_LIVE + np.cumsum(gaps):
            cols["tap_id"].append(f"d{k}")
            cols["fingerprint"].append(f"f{k}")
            cols["reader_id"].append(reader)
            cols["serial"].append(int(serials[k % len(serials)]))
            cols["at"].append(float(t))
            k += 1
    host.taps("checkin", cols)
    host.store.close()
    return {"shelters": {r: shelter_of[r] for r in known}, "taps": k, "instance": spec.instance}
