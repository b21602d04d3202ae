"""Prometheus metrics: scraped from Ray's metrics endpoint after a load, they match what the load got.

Named to run before test_faults.py: a Serve replica it kills has counters Ray exports late.
"""

from __future__ import annotations

import re
from collections import Counter

import httpx
import pytest

from actors.metrics import export_url
from tests.actors.live_helpers import wait_until
from tests.actors.test_faults import start_load

pytestmark = pytest.mark.slow
SAMPLE = re.compile(r'^\w*?myna_(\w+)\{([^}]*)\}\s+([0-9.e+-]+)$')
COUNTERS = ("taps", "postings", "refusals")  # Ray also exports each counter as a gauge: read *_total


def scrape(url: str) -> dict[str, Counter]:
    """Every myna_* sample by metric and (role, status, op, code, the series' other labels)."""
    out: dict[str, Counter] = {}
    for line in httpx.get(url, timeout=30).text.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        name, labels, value = m.groups()
        if name in COUNTERS:  # the gauge copy of a counter
            continue
        tags = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        rest = tuple(sorted((k, v) for k, v in tags.items() if k not in ("role", "status", "op", "code")))
        key = (tags.get("role", ""), tags.get("status", ""), tags.get("op", ""), tags.get("code", ""), rest)
        out.setdefault(name.removesuffix("_total"), Counter())[key] += float(value)
    return out


def settled(url: str, step: float = 12.0, timeout: float = 120.0) -> dict[str, Counter]:
    """A scrape once two in a row, more than Ray's 10 s export interval apart, agree: what earlier
    tests' processes counted has been exported."""
    import time

    last, end = scrape(url), time.monotonic() + timeout
    while time.monotonic() < end:
        time.sleep(step)
        now = scrape(url)
        if now == last:
            return now
        last = now
    return last


def delta(after: dict, before: dict, name: str, pick) -> float:
    """How much the series matching `pick(key)` grew; a series gone since (a process an earlier test
    killed, whose counters Ray stops exporting) does not count as a fall."""
    a, b = after.get(name, Counter()), before.get(name, Counter())
    return sum(v - b.get(k, 0.0) for k, v in a.items() if pick(k))


def test_the_tap_and_posting_counters_equal_what_the_load_test_was_answered(live, ray_session):
    url = export_url()
    assert url.startswith("http://") and url.endswith("/metrics")
    before = settled(url)
    thread, box = start_load(live, "disaster", rate=30, duration=3, seed=91)
    thread.join(120)
    taps = box[0]
    thread, box = start_load(live, "payments", rate=20, duration=3, seed=92)
    thread.join(120)
    pays = box[0]
    want_taps = Counter(str(o.status) for o in taps.outcomes if o.status)
    want_pays = Counter(str(o.status) for o in pays.outcomes if o.status)
    assert sum(want_taps.values()) > 20 and sum(want_pays.values()) > 10

    seen: dict = {}

    def matches():
        after = scrape(url)
        seen["taps"] = {s: delta(after, before, "taps", lambda k, s=s: k[0] == "shelter" and k[1] == s)
                        for s in want_taps}
        seen["pays"] = {s: delta(after, before, "postings", lambda k, s=s: k[1] == s)
                        for s in want_pays}
        seen["after"] = after
        return (seen["taps"] == {s: float(n) for s, n in want_taps.items()}
                and seen["pays"] == {s: float(n) for s, n in want_pays.items()})

    try:
        wait_until(matches, timeout=90, step=2.0)  # Ray's agent exports every few seconds
    except AssertionError:
        raise AssertionError(f"scraped taps {seen.get('taps')} postings {seen.get('pays')}; the load "
                             f"was answered taps {dict(want_taps)} postings {dict(want_pays)}; "
                             f"series seen: {sorted(seen.get('after', {}))}") from None
    after = seen["after"]
    assert any(n.startswith("batch_size") for n in after)  # a histogram from the replicas too
