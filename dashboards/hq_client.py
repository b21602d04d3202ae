"""The HQ view's questions to a running service (no Streamlit): its state and forecast, as tables.

`fetch` asks `GET /v1/hq/headcounts?report=false` (the state and the shelters' last reports,
journaling nothing) and, given the main shock,
`GET /v1/hq/forecast` with an HQ device's credentials from the service's data folder. Every
failure becomes an `HQError` whose message says what went wrong and what to do: the page
shows it, never a traceback.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from twin.clock import to_jst
from twin.errors import TwinError

TIMEOUT_S = 120.0  # a forecast of a few hundred replications takes seconds; a stuck service is named
DOC = "docs/twin-loop.md"


class HQError(TwinError):
    """A question the page could not put or the service would not answer; the message is for the operator."""


@dataclass(frozen=True)
class Snapshot:
    """What one Refresh fetched: the state, and the forecast or why there is none."""

    url: str
    state: dict[str, Any]
    forecast: dict[str, Any] | None = None
    forecast_error: str | None = None
    asked: dict[str, Any] = field(default_factory=dict)


def base_url(text: str) -> str:
    """The service's base URL; credentials go to another machine only over https."""
    from actors.load import is_loopback

    url = text.strip().rstrip("/")
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise HQError(f"the service URL must look like http://127.0.0.1:8000, got {text!r}")
    if u.scheme == "http" and not is_loopback(u.hostname):
        raise HQError(f"{u.hostname} is not this machine: the HQ credentials are sent only over https there "
                      "(start the service with --tls-cert/--tls-key)")
    return url


def hq_headers(path_text: str) -> dict[str, str]:
    """Headers of the first HQ device in a data folder's credentials.json (the folder or the file)."""
    from cli.forecast import hq_headers as of_folder

    p = Path(path_text.strip()).expanduser()
    if not path_text.strip():
        raise HQError("give the HQ credentials: the data folder of `run.py serve` or its credentials.json")
    if p.is_file() and p.name != "credentials.json":
        raise HQError(f"{p} is not a credentials.json: give the data folder of `run.py serve` or its credentials.json")
    try:
        return of_folder(p.parent if p.is_file() else p)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HQError(f"cannot read the HQ credentials at {p}: {exc}") from None
    except TwinError as exc:
        raise HQError(str(exc)) from None


def _refusal(r: Any, what: str, url: str) -> HQError:
    """A clear message for a status other than 200."""
    try:
        detail = r.json().get("detail", r.text)
    except ValueError:
        detail = r.text[:200]
    hints = {401: "the credentials are not this service's: give the data folder this service was started with",
             403: "the credentials are not an HQ device's (only HQ may ask)",
             422: "the question is not valid",
             429: "too many questions: wait a moment and press Refresh again",
             503: "the service is not ready (a shelter group may be restarting): press Refresh again in a moment"}
    hint = hints.get(r.status_code, "the service failed")
    return HQError(f"{what}: {hint} (HTTP {r.status_code} from {url}: {detail})")


def _get(client: Any, url: str, path: str, what: str, **kw: Any) -> dict[str, Any]:
    """One GET; connection failures, timeouts and refusals as HQError."""
    import httpx

    try:
        r = client.get(f"{url}{path}", **kw)
    except httpx.TimeoutException:
        raise HQError(f"{what}: the service at {url} did not answer within {TIMEOUT_S:.0f} s") from None
    except httpx.HTTPError as exc:
        raise HQError(f"{what}: no service answers at {url} (is `run.py serve` running there?): "
                      f"{type(exc).__name__}: {exc}") from None
    if r.status_code != 200:
        raise _refusal(r, what, url)
    return r.json()


def fetch(url_text: str, credentials: str, quake_jst: str, reps: int, seed: int,
          add_readers: dict[int, int]) -> Snapshot:
    """The service's state now (read without making the shelters report) and, when the main shock is
    given, its forecast with the what-if."""
    import httpx

    url, headers = base_url(url_text), hq_headers(credentials)
    with httpx.Client(headers=headers, timeout=TIMEOUT_S, verify=True) as client:
        state = _get(client, url, "/v1/hq/headcounts", "the state", params={"report": "false"})
        if not quake_jst.strip():
            return Snapshot(url, state, None, "give the main shock's time (JST) for a forecast")
        asked = {"quake_jst": quake_jst.strip(), "reps": reps, "seed": seed,
                 "add_readers": ",".join(f"{s}={n}" for s, n in add_readers.items())}
        try:
            forecast = _get(client, url, "/v1/hq/forecast", "the forecast", params=asked)
        except HQError as exc:
            return Snapshot(url, state, None, str(exc), asked)
    return Snapshot(url, state, forecast, None, asked)


def parse_add_readers(text: str) -> dict[int, int]:
    """'SHELTER=N' per line or comma as {shelter: n}; a clear error otherwise."""
    out: dict[int, int] = {}
    for part in filter(None, (p.strip() for p in text.replace(",", "\n").splitlines())):
        key, sep, n = part.partition("=")
        try:
            shelter, count = int(key), int(n)
        except ValueError:
            shelter, count = -1, -1
        if not sep or shelter < 0 or count < 1:
            raise HQError(f"what-if: {part!r} must look like SHELTER=N (a shelter's facility id, N >= 1 readers)")
        out[shelter] = count
    return out


def jst_text(t: float) -> str:
    """A POSIX time as 'YYYY-MM-DD HH:MM:SS JST'."""
    return to_jst(t).strftime("%Y-%m-%d %H:%M:%S JST")


def state_rows(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Per shelter: registered, occupancy / capacity, readers online, arrivals seen, paper forms waiting
    for transcription, its last report to HQ."""
    rows = []
    for r in state["shelters"]:
        cap, occ = int(r["capacity"]), int(r["desk_count"])
        age = r.get("age_s")
        rows.append({"shelter": int(r["shelter_id"]), "registered": int(r["registered"]),
                     "occupancy": f"{occ} / {cap}", "full %": round(100 * occ / cap, 1) if cap else None,
                     "readers online": f"{int(r.get('readers_online', r['readers']))} / {int(r['readers'])}",
                     "arrived (desk count)": occ, "paper staff": int(r["paper_staff"]),
                     "paper forms to transcribe": int(r.get("paper_pending", 0)),
                     "last reported count": int(r["count"]),
                     "last report (min ago)": round(age / 60, 1) if age is not None and math.isfinite(age)
                     else None})
    return rows


def band_text(b: dict[str, Any], unit: str) -> str:
    """'median [low, high] unit', or that no replication reached it."""
    if b.get("median") is None:
        return "not reached"
    return f"{b['median']:.1f} [{b['low']:.1f}, {b['high']:.1f}] {unit}"


def reading(base: dict[str, Any], alt: dict[str, Any]) -> str:
    """The project's reading of two intervals of a time (lower is better): only disjoint intervals differ."""
    if base.get("median") is None or alt.get("median") is None:
        return "cannot compare (not reached in every forecast)"
    if alt["high"] < base["low"]:
        return "what-if earlier"
    if alt["low"] > base["high"]:
        return "what-if later"
    return "intervals overlap: not told apart"


def forecast_rows(f: dict[str, Any]) -> list[dict[str, Any]]:
    """Per shelter: peak wait and filling, the forecast and the what-if side by side."""
    alt = (f.get("what_if") or {}).get("forecast", {}).get("shelters", {})
    rows = []
    for sid, s in f["shelters"].items():
        row = {"shelter": int(sid), "peak wait": band_text(s["peak_wait_min"], "min"),
               "fills (probability)": f"{s['fill_probability']:.0%}",
               "fills at (h after the quake)": band_text(s["fill_h"], "h") if s["fill_probability"] > 0 else "-"}
        if sid in alt:
            a = alt[sid]
            row |= {"what-if peak wait": band_text(a["peak_wait_min"], "min"),
                    "what-if fills": f"{a['fill_probability']:.0%}",
                    "reading (peak wait)": reading(s["peak_wait_min"], a["peak_wait_min"])}
        rows.append(row)
    return rows


def filling(f: dict[str, Any]) -> list[str]:
    """The shelters some replications fill, most likely first, with when."""
    full = sorted(((s["fill_probability"], int(sid), s) for sid, s in f["shelters"].items()
                   if s["fill_probability"] > 0), key=lambda x: (-x[0], x[1]))
    return [f"shelter {sid}: {p:.0%} of replications, at {band_text(s['fill_h'], 'h')} after the quake"
            for p, sid, s in full]


def dumps(snap: Snapshot) -> str:
    """The snapshot as JSON, for download."""
    return json.dumps({"url": snap.url, "state": snap.state, "forecast": snap.forecast,
                       "forecast_error": snap.forecast_error, "asked": snap.asked}, indent=2)
