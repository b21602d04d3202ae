"""The live service's state as a nowcast's `LiveState`: head counts plus what the journals tell.

From the HQ's head counts (per shelter: capacity, readers, paper staff, desk count, registered)
and the shelter journals read as a drill (`calibration.drill`): readers online (their last
`online` command), the recent card service time (busy tap gaps of the last `recent_h` hours,
fitted as in `run.py calibrate --from-drill`; the calibrated time when too few) and the share
of check-ins by card. What it cannot know goes into `lacking` notes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from calibration.drill import DrillData
from calibration.fit_drill import BUSY_GAP_S, MIN_GAPS, busy_gaps, fit_truncated_lognormal
from scenarios.nowcast import LiveState, ShelterState
from twin.errors import ValidationError


def card_time(data: DrillData | None, now: float, recent_h: float, defaults: dict[str, float]
              ) -> tuple[float, float, str | None]:
    """(mu, sigma) of the card service time from the recent taps, or the calibrated one with a note."""
    mu0 = math.log(defaults["card_tap_mean_s"]) - defaults["checkin_sigma"] ** 2 / 2
    if data is None:
        return mu0, defaults["checkin_sigma"], "shelter journals not readable here: calibrated card time used"
    keep = data.tap_at >= now - recent_h * 3600
    recent = DrillData(data.folder, data.groups, data.tap_reader[keep], data.tap_at[keep], data.tap_shelter[keep],
                       (), np.empty(0, np.int64), np.empty(0), {})
    gaps = np.concatenate([np.empty(0), *busy_gaps(recent, BUSY_GAP_S)[0].values()])
    if gaps.size < MIN_GAPS:
        return mu0, defaults["checkin_sigma"], (f"only {gaps.size} busy tap gaps in the last {recent_h:g} h: "
                                                "calibrated card time used")
    fit = fit_truncated_lognormal(gaps, BUSY_GAP_S)
    return fit.mu, fit.sigma, None


def live_state(rows: list[dict[str, Any]], data: DrillData | None, now: float,
               quake: float, defaults: dict[str, float], recent_h: float = 1.0,
               places: dict[int, tuple[float, float]] | None = None, closed: tuple[int, ...] = (),
               expected: dict[int, int] | None = None, folder: str | None = None
               ) -> tuple[LiveState, list[str]]:
    """A LiveState at `now` (POSIX s) for a quake at `quake`, and the notes on what was missing.

    `places`: each shelter's (x_km, y_km) for redirects (none: redirects by id order, noted);
    `closed`: shelters the HQ has not opened (the live service keeps no opening state);
    `expected`: evacuees in all per shelter when known (a drill's participants); `folder`: the
    service's data folder (its device list places readers; default: the journals' folder). A row
    with `stale_s` (a group that did not answer, taken as of its last answer) counts arrivals
    as unknown there, so the curve is conditioned on its registrations only (wider interval).
    """
    hours = (now - quake) / 3600.0
    if not 0 <= hours < defaults["horizon_h"]:
        raise ValidationError(f"the quake time lies {hours:.1f} h before now; a forecast needs 0 to "
                              f"{defaults['horizon_h']:g} h")
    notes = ["people in line are not seen by the service: desk counts are taken as the arrivals, so "
             "nobody is taken as waiting now (the forecast is early where lines are long)"]
    offline, unplaced = readers_offline(data, folder)
    known = {int(r["shelter_id"]) for r in rows}
    for name, ids in (("closed", set(closed)), ("expected", set(expected or {}))):
        if sorted(ids - known):
            raise ValidationError(f"{name}: unknown shelters {sorted(ids - known)} (known: {sorted(known)})")
    shelters = []
    for r in rows:
        sid = int(r["shelter_id"])
        readers = max(int(r["readers"]) - (offline or {}).get(sid, 0), 0)
        staff = max(int(r["paper_staff"]), 0 if readers else 1)
        if sid in closed and int(r["registered"]):
            raise ValidationError(f"closed: shelter {sid} has {r['registered']} registered, so it is open")
        arrived = None if r.get("stale_s") is not None else max(int(r["desk_count"]), int(r["registered"]))
        x, y = (places or {}).get(sid, (0.0, float(sid)))
        shelters.append(ShelterState(sid, int(r["capacity"]), int(r["registered"]), arrived, int(readers), staff,
                                     (expected or {}).get(sid), x, y, sid not in closed))
    if places is None:
        notes.append("shelter places not known here: redirects go to the next shelter by id")
    if offline is None:
        notes.append("reader status not readable here: every registered reader taken as online")
    if unplaced:
        notes.append(f"{unplaced} offline reader(s) neither in the device list nor ever tapped, so their "
                     "shelter is unknown: counted as online")
    down = sorted(s.shelter_id for s in shelters if s.readers_online == 0 and s.paper_staff)
    if down:
        notes.append(f"no reader online at shelters {down}")
    mu, sigma, note = card_time(data, now, recent_h, defaults)
    notes += [note] if note else []
    done = 0 if data is None else data.taps + len(data.desk_method)
    share = data.taps / done if data is not None and done else defaults["card_share"]
    if not done:
        notes.append("no check-ins yet: the card share is the scenario's assumption")
    return LiveState(hours, tuple(shelters), mu, sigma, defaults["paper_form_mean_s"], share,
                     defaults["time_to_peak_h"], defaults["rise_shape"], defaults["horizon_h"],
                     defaults.get("group_size", 1.0)), notes


def _placed_readers(folder: Any) -> dict[int, int]:
    """Global reader key -> shelter (facility id) from the service's device list (credentials.json), if there."""
    import json
    from pathlib import Path

    path = Path(folder) / "credentials.json"
    if not path.is_file():
        return {}
    devices = json.loads(path.read_text()).get("devices", [])
    return {int(d["group"]) * 1_000_000 + int(d["reader_id"]): int(d["facility_id"]) for d in devices
            if d.get("role") == "shelter" and "reader_id" in d and "group" in d}


def readers_offline(data: DrillData | None, folder: str | None = None) -> tuple[dict[int, int] | None, int]:
    """Per shelter (facility id): readers offline after their last `online` command; and how many
    offline readers could not be placed (not in the service's device list in `folder`, the data
    folder by default, and never tapped). None when the journals are unreadable."""
    if data is None:
        return None, 0
    off = {reader: not on for reader, on in data.online}  # the last change per reader counts
    if folder is None and data.kind == "sqlite":
        folder = data.folder
    where = {**dict(zip(data.tap_reader.tolist(), data.tap_shelter.tolist(), strict=True)),
             **(_placed_readers(folder) if folder is not None else {})}
    out: dict[int, int] = {}
    unplaced = 0
    for reader, is_off in off.items():
        if not is_off:
            continue
        if where.get(reader, -1) < 0:
            unplaced += 1
        else:
            out[where[reader]] = out.get(where[reader], 0) + 1
    return out, unplaced
