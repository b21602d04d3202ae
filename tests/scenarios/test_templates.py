"""Per-process templates of what a run builds from the whole city: a replication that finds them warm,
after others that locked PINs, revoked cards, filled shelters and posted ledger rows, decides
exactly what the same replication decides cold, on both engines."""

from __future__ import annotations

import json
import math

import pytest

from scenarios import certificates, disaster, payments, templates
from scenarios.certificates_params import start_day
from scenarios.cities import city_for
from scenarios.runner import make_params
from tests.fast.test_certificates_engines import HARSH, assert_same, decided
from twin import card_mac
from twin.card import rules
from twin.clock import jst
from twin.trust_errors import UnknownCard


def _cold() -> None:
    """Forget every per-process template and cache, as a fresh process starts."""
    templates.clear()
    for cache in (card_mac.checked_credential, rules.derive_pin, certificates.authority):
        cache.cache_clear()


def _registry_and_time(**over):
    """The certificate run's card registry (a copy of the template), its params and start time."""
    p = make_params("certificates", "full", overrides=HARSH | {"scale": 0.01} | over)
    d = start_day(p.start_date)
    t = jst(d.year, d.month, d.day)
    city = city_for(p.city, p.city_seed, p.scale)
    return certificates.build_services(p, city, t)[1], p, t


def test_a_fresh_copy_of_the_card_registry_shares_nothing_a_run_can_change():
    _cold()
    first, _, t = _registry_and_time()
    serials = first.serial[: len(first)][:3].tolist()
    for _ in range(3):  # lock the first card's user PIN
        first.tries[first.row_of(serials[0]), 0] -= 1
    first.report_loss(serials[1], t)  # suspends the card, revokes its certificates
    new_serial = first.reissue(serials[2], t)
    first.change_address(int(first.resident[first.row_of(serials[0])]), t)
    assert len(first.events) > 0 and first.ca.revoked_count > 0
    second, _, _ = _registry_and_time()
    assert templates.counts()["card_registry"] == (2, 0)  # the authority had revoked: built afresh
    assert second.ca is not first.ca and second.ca.revoked_count == 0
    third, _, _ = _registry_and_time()
    assert templates.counts()["card_registry"] == (2, 1)
    for reg in (second, third):
        assert len(reg) == len(first) - 1 and len(reg.events) == 0
        assert reg.tries[reg.row_of(serials[0])].tolist() == list(rules.MAX_TRIES)
        assert [reg.status_name(reg.row_of(s), t) for s in serials] == ["active"] * 3
        assert not reg.since and not reg.address_version and reg.summary(t) == second.summary(t)
        with pytest.raises(UnknownCard):
            reg.row_of(new_serial)
    third.tries[:] = 0  # a copy's changes reach neither the template nor the next copy
    assert (_registry_and_time()[0].tries[: len(third)] == rules.MAX_TRIES).all()


@pytest.mark.parametrize("engine", ["fast", "simpy"])
def test_a_warm_certificate_run_after_pin_locks_and_revocations_decides_as_cold(engine):
    _cold()
    cold = decided(engine, 4, scale=0.01)
    dirty = decided(engine, 5, scale=0.01, pin_mistype_probability=0.9)  # locks many PINs
    assert dirty["counts"]["pin_locks"] > 10
    built, reused = templates.counts()["card_registry"]
    assert_same(cold, decided(engine, 4, scale=0.01))
    assert templates.counts()["card_registry"] == (built, reused + 1)  # the registry was warm
    assert templates.counts()["eligible_pools"][1] >= 2
    reg, _, t = _registry_and_time()  # a run's registry that then revokes and reissues cards
    for s in reg.serial[: len(reg)][:20].tolist():
        reg.report_loss(s, t)
        reg.reissue(s, t)
    assert_same(cold, decided(engine, 4, scale=0.01))


def _disaster(engine: str, seed: int, **over):
    """The disaster day at a small scale on one engine."""
    base = {"city_seed": 1, "scale": 0.01, "horizon_h": 24.0, "engine": engine}
    return disaster.run(make_params("disaster", "full", overrides=base | over), seed)


def _same_result(a, b) -> None:
    """Identical KPIs (NaN equal to NaN) and frames."""
    assert a.kpis.keys() == b.kpis.keys()
    for k, v in a.kpis.items():
        w = b.kpis[k]
        assert v == w or (isinstance(v, float) and math.isnan(v) and math.isnan(w)), k
    assert a.frames.keys() == b.frames.keys()
    for name, frame in a.frames.items():
        assert frame.equals(b.frames[name]), name


@pytest.mark.parametrize("engine", ["fast", "simpy"])
def test_a_warm_disaster_run_after_full_shelters_decides_as_cold(engine):
    _cold()
    cold = _disaster(engine, 3)
    full = _disaster(engine, 6, shelter_capacity=3, evacuation_share=0.2)  # shelters fill, people redirected
    assert full.kpis["no_place"] > 0 and full.kpis["redirected"] > 0
    warm = _disaster(engine, 3)
    assert templates.counts()["households"] == (1, 2)
    assert cold.kpis["evacuees"] > 500 and cold.kpis["face_checks"] > 0
    _same_result(cold, warm)


def test_a_payments_run_after_others_posted_ledger_rows_decides_as_the_first():
    over = {"city_seed": 1, "scale": 0.01, "duration_s": 20.0, "writer_kill_before_commit_at_s": [5.0],
            "writer_kill_after_commit_at_s": [12.0], "network_drop_at_s": [8.0]}
    p = make_params("payments", "baseline", overrides=over)
    _cold()
    first = payments.run(p, 2)
    other = payments.run(p, 3)
    assert other.kpis["payments_per_s"] > 0 and other.kpis["writer_kills"] == 2
    again = payments.run(p, 2)
    assert first.kpis["requests"] > 100 and first.kpis["reconciled"] == 1
    _same_result(first, again)


@pytest.mark.parametrize("scenario,over", [
    ("certificates", {"city_seed": 1, "days": 1}),
    ("disaster", {"city_seed": 1, "horizon_h": 24.0}),
])
def test_a_warm_run_gives_the_kpis_a_fresh_process_gives(cli, scenario, over):
    p = make_params(scenario, "full", scale=0.01, overrides=over)
    mod = {"certificates": certificates, "disaster": disaster}[scenario]
    mod.run(p, 9)  # templates warm, left behind by another replication
    warm = mod.run(p, 4)
    sets = [x for k, v in over.items() for x in ("--set", f"{k}={v}")]
    out = cli("scenario", scenario, "--design", "full", "--scale", "0.01", *sets, "--seed", "4",
              "--format", "json")
    assert out.returncode == 0, out.stderr
    fresh = json.loads(out.stdout)
    assert fresh["params"]["engine"] == p.engine == "fast"
    assert {k: v for k, v in fresh["kpis"].items() if not _nan(v)} == \
        {k: v for k, v in warm.kpis.items() if not _nan(v)}
    assert {k for k, v in fresh["kpis"].items() if _nan(v)} == {k for k, v in warm.kpis.items() if _nan(v)}
    assert {k: f["rows"] for k, f in fresh["frames"].items()} == {k: f.height for k, f in warm.frames.items()}


def _nan(v) -> bool:
    """Whether a KPI value is NaN (JSON carries it as NaN)."""
    return isinstance(v, float) and math.isnan(v)
