"""Kiosk visitors who mistype their PIN once or twice are queued too: each try is its own authentication
row, the mistyped PINs drawn from the shared stream as they reach the reader, and the run decides as SimPy's."""

from __future__ import annotations

from scenarios import certificates
from scenarios.fast.certificates_deferred import DeferredServices
from tests.fast.test_certificates_engines import assert_same, decided

TYPOS = {"scale": 0.01, "pin_mistype_probability": 0.35, "kiosk_p_network_down": 0.0, "kiosk_p_paper_out": 0.0}


def _watch(monkeypatch) -> tuple[list, list]:
    """The runs made (their per-visit sets) and the PINs typed by every queued kiosk visit."""
    runs, typed = [], []
    real_simulate, real_later = certificates._simulate, DeferredServices._later
    monkeypatch.setattr(certificates, "_simulate", lambda p, seed, immediate: runs.append(immediate) or
                        real_simulate(p, seed, immediate))

    def later(self, channel, i, site, now, extra, pins):
        typed.append(pins)
        return real_later(self, channel, i, site, now, extra, pins)

    monkeypatch.setattr(DeferredServices, "_later", later)
    return runs, typed


def test_visitors_who_mistype_with_tries_to_spare_are_queued_and_decided_as_simpy(monkeypatch):
    for seed in (4, 5):
        ref = decided("simpy", seed, **TYPOS)
        runs, typed = _watch(monkeypatch)
        got = decided("fast", seed, **TYPOS)
        monkeypatch.undo()
        assert runs == [frozenset()]  # nothing missed: no run made again
        assert sum(len(p) == 2 for p in typed) > 10 and sum(len(p) == 3 for p in typed) > 0
        assert ref["counts"]["pin_locks"] > 0 and ref["events"]["PinRejected"] > 20
        assert_same(ref, got)


def test_a_card_locked_by_a_queued_visitors_typos_is_caught_and_the_run_made_again(monkeypatch):
    """Every card has one try left: a mistyped PIN locks it. A forced speculation queues such visitors
    anyway; the exact check finds them refused and the run is made again with them one by one."""
    real_build = certificates.build_services

    def one_try_left(p, city, t_start):
        services = real_build(p, city, t_start)
        services[1].tries[:, 0] = 1
        return services

    monkeypatch.setattr(certificates, "build_services", one_try_left)
    ref = decided("simpy", 6, **TYPOS)
    runs, typed = _watch(monkeypatch)
    monkeypatch.setattr(certificates, "build_services", one_try_left)
    monkeypatch.setattr(DeferredServices, "_routine", lambda self, i, k, now, wrong: i not in self.immediate)
    got = decided("fast", 6, **TYPOS)
    assert len(runs) >= 2 and runs[-1] and ref["counts"]["pin_locks"] > 5
    assert_same(ref, got)
