"""The fast model's queued service calls: a speculation that misses is caught by the exact check and
the run made again with the missed visits decided one by one, so the run still decides as SimPy."""

from __future__ import annotations

import pytest

from scenarios import certificates
from scenarios.fast.certificates_deferred import DeferredServices
from tests.fast.test_certificates_engines import assert_same, decided


@pytest.mark.parametrize(("seed", "scale"), [(2, 0.01), (3, 0.02)])
def test_a_speculation_that_every_kiosk_visit_is_settled_is_corrected_to_the_reference(monkeypatch, seed, scale):
    over = {"scale": scale, "pin_mistype_probability": 0.3, "kiosk_p_network_down": 0.03, "kiosk_p_paper_out": 0.02}
    ref = decided("simpy", seed, **over)
    runs = []
    real = certificates._simulate
    monkeypatch.setattr(certificates, "_simulate", lambda p, seed, immediate: runs.append(immediate) or
                        real(p, seed, immediate))
    monkeypatch.setattr(DeferredServices, "_routine", lambda self, i, k, now, wrong: i not in self.immediate)
    got = decided("fast", seed, **over)
    assert len(runs) >= 3 and len(runs[-1]) >= 3  # missed, then corrected with those visits decided one by one
    assert ref["counts"]["pin_locks"] > 0 and ref["counts"]["kiosk_faults"] > 0
    assert_same(ref, got)


def test_the_default_speculation_misses_nothing_on_a_harsh_day(monkeypatch):
    runs = []
    real = certificates._simulate
    monkeypatch.setattr(certificates, "_simulate", lambda p, seed, immediate: runs.append(immediate) or
                        real(p, seed, immediate))
    got = decided("fast", 3, scale=0.01)
    assert runs == [frozenset()] and got["counts"]["kiosk_faults"] > 0


def test_a_visitor_back_at_a_kiosk_after_a_voided_print_is_not_queued_and_nothing_is_made_again(monkeypatch):
    over = {"scale": 0.01, "demand_share": 0.3, "days": 2, "kiosk_p_paper_out": 0.1}  # voided prints keep keys
    ref = decided("simpy", 2, **over)
    runs = []
    real = certificates._simulate
    monkeypatch.setattr(certificates, "_simulate", lambda p, seed, immediate: runs.append(immediate) or
                        real(p, seed, immediate))
    got = decided("fast", 2, **over)
    assert runs == [frozenset()] and ref["events"]["CertificateVoided"] > 5
    assert_same(ref, got)
