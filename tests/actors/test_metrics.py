"""Prometheus metrics: scraped from Ray's metrics endpoint after a load, they match what the load got."""

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
    """Every myna_* sample summed by (metric, sorted label pairs we keep)."""
    out: dict[str, Counter] = {}
    for line in httpx.get(url, timeout=30).text.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        name, labels, value = m.groups()
        if name in COUNTERS:  # the gauge copy of a counter
            continue
        tags = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        key = (tags.get("role", ""), tags.get("status", ""), tags.get("op", ""), tags.get("code", ""))
        out.setdefault(name.removesuffix("_total"), Counter())[key] += float(value)
    return out


def delta(after: dict, before: dict, name: str, pick) -> float:
    """How much a metric's samples matching `pick(key)` grew."""
    a, b = after.get(name, Counter()), before.get(name, Counter())
    return sum(v for k, v in a.items() if pick(k)) - sum(v for k, v in b.items() if pick(k))


def test_the_tap_and_posting_counters_equal_what_the_load_test_was_answered(live, ray_session):
    url = export_url()
    assert url.startswith("http://") and url.endswith("/metrics")
    before = scrape(url)
    thread, box = start_load(live, "disaster", rate=30, duration=3, seed=91)
    thread.join(120)
    taps = box[0]
    thread, box = start_load(live, "payments", rate=20, duration=3, seed=92)
    thread.join(120)
    pays = box[0]
    want_taps = Counter(str(o.status) for o in taps.outcomes if o.status)
    want_pays = Counter(str(o.status) for o in pays.outcomes if o.status)
    assert sum(want_taps.values()) > 20 and sum(want_pays.values()) > 10

    def matches():
        after = scrape(url)
        got_taps = {s: delta(after, before, "taps", lambda k, s=s: k[0] == "shelter" and k[1] == s)
                    for s in want_taps}
        got_pays = {s: delta(after, before, "postings", lambda k, s=s: k[1] == s) for s in want_pays}
        return (got_taps == {s: float(n) for s, n in want_taps.items()}
                and got_pays == {s: float(n) for s, n in want_pays.items()}) and after

    after = wait_until(matches, timeout=90, step=2.0)  # Ray's agent exports every few seconds
    assert "journal_length" in after and any(n.startswith("batch_size") for n in after)
