"""`run.py forecast`: ask a running service for a forecast from its live state (HQ credentials)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cli import add_format, emit
from twin.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `forecast` subcommand."""
    p = sub.add_parser(
        "forecast", help="forecast from a running service's live state (time to 95 %% registered, ...)",
        description="Ask a running `run.py serve` for GET /v1/hq/forecast with an HQ device's "
        "credentials from its data folder: replications from the live state give 95 %% prediction "
        "intervals for the time until 95 %% of evacuees are registered, the shelters that will fill "
        "and when, and each shelter's peak wait; --add-readers and --open give a what-if beside it. "
        "See docs/twin-loop.md for what the live service cannot see.")
    p.add_argument("--target", default="http://127.0.0.1:8000", help="the service's base URL")
    p.add_argument("--data", type=Path, required=True, help="the service's data folder (credentials.json)")
    p.add_argument("--quake", required=True, metavar="YYYY-MM-DDTHH:MM", help="the main shock, JST")
    p.add_argument("--reps", type=int, default=100, help="replications (default: 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of the replications (default: 0)")
    p.add_argument("--add-readers", action="append", default=[], metavar="SHELTER=N",
                   help="what-if: N more readers at shelter SHELTER (facility id); repeatable")
    p.add_argument("--open", action="append", default=[], type=int, metavar="SHELTER",
                   help="what-if: open this closed shelter now (its places, readers and staff as the service "
                   "has them); repeatable")
    p.add_argument("--closed", action="append", default=[], type=int, metavar="SHELTER",
                   help="a shelter not opened yet (the service keeps no opening state); repeatable")
    p.add_argument("--expected", action="append", default=[], metavar="SHELTER=N",
                   help="evacuees in all at a shelter when known (a drill's participants); repeatable")
    p.add_argument("--wait", type=float, default=10.0, metavar="S",
                   help="seconds to wait for each shelter group's head counts (default: 10)")
    p.add_argument("--allow-remote", action="store_true", help="allow a target that is not this machine")
    add_format(p)
    p.set_defaults(func=run)


def hq_headers(folder: Path) -> dict[str, str]:
    """Authorization headers of the first HQ device in the folder's credentials."""
    path = folder / "credentials.json"
    if not path.is_file():
        raise ValidationError(f"{folder} has no credentials.json: give --data the folder `run.py serve` uses")
    hq = [d for d in json.loads(path.read_text())["devices"] if d["role"] == "hq"]
    if not hq:
        raise ValidationError(f"{path} holds no HQ device")
    return {"Authorization": f"Bearer {hq[0]['token']}", "X-Device-Id": hq[0]["device_id"]}


def _band(b: dict[str, Any], unit: str) -> str:
    if b["median"] is None:
        return "not reached in any replication"
    return f"{b['median']:.1f} {unit} (95 % interval {b['low']:.1f} to {b['high']:.1f})"


def text_of(f: dict[str, Any]) -> str:
    """The forecast for a reader: headline, shelters, what-if, what was lacking."""
    lines = [f"forecast at {f['hours']:.1f} h after the quake, {f['reps']} replications",
             f"  95 % registered at: {_band(f['t95_h'], 'h')} (reached in {f['t95_reached_share']:.0%})",
             f"  walking on from a full shelter: {_band(f['redirected'], 'people')}; "
             f"no place anywhere: {_band(f['no_place'], 'people')}"]
    for sid, s in f["shelters"].items():
        if not s.get("open", True):
            lines.append(f"  shelter {sid}: closed")
            continue
        fill = f", fills with probability {s['fill_probability']:.0%} at {_band(s['fill_h'], 'h')}" \
            if s["fill_probability"] > 0 else ""
        lines.append(f"  shelter {sid}: peak wait {_band(s['peak_wait_min'], 'min')}{fill}")
    if f.get("what_if"):
        alt = f["what_if"]["forecast"]
        w = f["what_if"]
        label = " ".join(filter(None, [str(w["add_readers"]) if w["add_readers"] else "",
                                       f"open {w['open']}" if w.get("open") else ""]))
        lines.append(f"  what-if {label}: 95 % registered at {_band(alt['t95_h'], 'h')}; walking on: "
                     f"{_band(alt['redirected'], 'people')}")
        lines += [f"    shelter {sid}: peak wait {_band(s['peak_wait_min'], 'min')}"
                  + (f", fills with probability {s['fill_probability']:.0%}" if s["fill_probability"] > 0 else "")
                  for sid, s in alt["shelters"].items() if s.get("open", True)]
    lines += [f"  lacking: {n}" for n in f["lacking"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Call the endpoint and print the answer."""
    import httpx

    from actors.load import check_target

    target = check_target(args.target, args.allow_remote)
    params = {"quake_jst": args.quake, "reps": args.reps, "seed": args.seed,
              "add_readers": ",".join(args.add_readers), "open": ",".join(map(str, args.open)),
              "closed": ",".join(map(str, args.closed)), "wait_s": args.wait,
              "expected": ",".join(args.expected)}
    try:
        r = httpx.get(f"{target}/v1/hq/forecast", params=params, headers=hq_headers(args.data), timeout=300)
    except httpx.HTTPError as exc:
        raise ValidationError(f"no live service answers at {target}: {exc}") from None
    if r.status_code != 200:
        raise ValidationError(f"the service refused the forecast ({r.status_code}): "
                              f"{r.json().get('detail', r.text) if r.headers.get('content-type', '').startswith('application/json') else r.text}")
    f = r.json()
    emit(f, args.format, text_of(f))
    return 0
