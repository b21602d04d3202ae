"""Face-photo identity check: calibrated matcher, interview, assurance per procedure, attempt log."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.services.safety_helpers import T0, no_card
from twin.errors import NotFound, ValidationError
from twin.identity import Assurance
from twin.services.face_events import FaceCheckAttempted
from twin.services.face_matcher import FaceMatcher, impostor_threshold
from twin.services.faceid import (
    FaceCheckDesk,
    FaceCheckParams,
    IdentityNotEstablished,
    InterviewAnswers,
    TooManyAttempts,
)
from twin.services.procedures import PROCEDURES, InsufficientAssurance


def _within(count: int, n: int, p: float, sds: float = 4.5) -> bool:
    """Whether `count` of `n` trials is within `sds` binomial standard deviations of rate `p`."""
    return abs(count - n * p) <= sds * np.sqrt(n * p * (1 - p))


@pytest.mark.parametrize(("far", "frr"), [(0.01, 0.05), (0.001, 0.03)])
def test_the_matcher_holds_its_false_accept_and_false_reject_rates(far, frr):
    m = FaceMatcher(far, frr, dim=128, seed=7)
    rng = np.random.default_rng(11)
    n = 40_000
    ids = np.arange(n)
    genuine = int((m.scores_many(m.capture_many(ids, rng), ids) < m.threshold).sum())
    impostor = int((m.scores_many(m.capture_many(ids, rng), ids + n) >= m.threshold).sum())
    assert _within(genuine, n, frr), (genuine, n * frr)
    assert _within(impostor, n, far), (impostor, n * far)


def test_a_stricter_false_accept_rate_raises_the_threshold():
    assert impostor_threshold(0.0001, 128) > impostor_threshold(0.001, 128) > impostor_threshold(0.01, 128)
    assert impostor_threshold(0.5, 128) == pytest.approx(0.0, abs=1e-6)  # the impostor law is symmetric


def test_registered_embeddings_are_deterministic_unit_vectors_per_city_seed():
    a, b = FaceMatcher(0.01, 0.05, 64, seed=1), FaceMatcher(0.01, 0.05, 64, seed=2)
    assert np.array_equal(a.registered(5), FaceMatcher(0.01, 0.05, 64, seed=1).registered(5))
    assert np.array_equal(a.registered_many([4, 5])[1], a.registered(5))
    assert not np.array_equal(a.registered(5), b.registered(5))
    assert np.linalg.norm(a.registered(5)) == pytest.approx(1.0)


def test_a_reused_registered_embedding_equals_a_fresh_one_and_cannot_be_changed_by_callers():
    m, fresh = FaceMatcher(0.01, 0.05, 64, seed=3), FaceMatcher(0.01, 0.05, 64, seed=3)
    first = m.registered(9)
    first[:] = 0.0  # a caller scribbling on its copy
    assert np.array_equal(m.registered(9), fresh.registered(9))
    assert np.array_equal(m.registered(8), fresh.registered_many([7, 8])[1])
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    assert m.score(m.capture(8, rng_a), 8) == fresh.scores_many(fresh.capture_many([8, 8], rng_b)[:1], [8])[0]


def test_registered_embeddings_look_like_independent_gaussian_directions():
    m = FaceMatcher(0.01, 0.05, 128, seed=3)
    v = m.registered_many(np.arange(20_000))
    assert abs(float(v.mean())) < 0.002  # no bias in any direction
    cos = np.einsum("ij,ij->i", v[:-1], v[1:])  # neighbouring ids are unrelated: cosine sd 1/sqrt(128)
    assert float(cos.std()) == pytest.approx(1 / np.sqrt(128), rel=0.03)


@pytest.fixture
def desk(small_city):
    return FaceCheckDesk.from_city(small_city, FaceCheckParams(false_accept_rate=0.01, false_reject_rate=0.05))


def _holder(city, i: int = 0) -> int:
    return int(city.residents.filter(pl.col("has_card")).sort("resident_id")["resident_id"][i])


def _truthful(desk: FaceCheckDesk, rid: int) -> InterviewAnswers:
    return desk.answers_of(rid, rid, np.random.default_rng(0), recall_error=0.0)


def _unmatched_probe(desk: FaceCheckDesk, rid: int) -> np.ndarray:
    """A capture that the matcher rejects for `rid` (someone else's face)."""
    rng = np.random.default_rng(3)
    while True:
        p = desk.matcher.capture(rid + 1, rng)
        if not desk.matcher.accepts(p, rid):
            return p


def _matched_probe(desk: FaceCheckDesk, rid: int) -> np.ndarray:
    rng = np.random.default_rng(4)
    while True:
        p = desk.matcher.capture(rid, rng)
        if desk.matcher.accepts(p, rid):
            return p


def test_photo_match_and_interview_give_medium_enough_for_a_relief_payment(small_city, desk):
    rid = _holder(small_city)
    ident = desk.check(rid, _matched_probe(desk, rid), _truthful(desk, rid), "relief_payment", T0)
    assert (ident.resident_id, ident.method, ident.assurance, ident.at) == (rid, "face_photo", Assurance.MEDIUM, T0)


def test_a_photo_match_with_a_failed_interview_gives_low_shelter_yes_relief_no(small_city, desk):
    rid = _holder(small_city)
    wrong = InterviewAnswers(None, None, None)
    ident = desk.check(rid, _matched_probe(desk, rid), wrong, "shelter_registration", T0)
    assert ident.assurance == Assurance.LOW
    with pytest.raises(InsufficientAssurance, match="relief_payment .* needs assurance MEDIUM"):
        desk.check(rid, _matched_probe(desk, rid), wrong, "relief_payment", T0 + 60)
    log = [(e.procedure, e.matched, e.interview_ok, e.assurance, e.accepted, e.reason)
           for e in desk.events.of(FaceCheckAttempted)]
    assert log == [("shelter_registration", True, False, 1, True, ""),
                   ("relief_payment", True, False, 1, False, "insufficient_assurance")]


def test_a_household_member_who_knows_the_facts_but_has_another_face_gets_only_low(small_city, desk):
    rid = _holder(small_city)
    ident = desk.check(rid, _unmatched_probe(desk, rid), _truthful(desk, rid), "shelter_registration", T0)
    assert (ident.method, ident.assurance) == ("interview", Assurance.LOW)
    with pytest.raises(InsufficientAssurance):
        desk.check(rid, _unmatched_probe(desk, rid), _truthful(desk, rid), "relief_payment", T0)


def test_neither_face_nor_interview_establishes_nothing_and_is_logged(small_city, desk):
    rid = _holder(small_city)
    with pytest.raises(IdentityNotEstablished, match="face match failed, interview failed"):
        desk.check(rid, _unmatched_probe(desk, rid), InterviewAnswers(None, None, None), "shelter_registration", T0)
    (e,) = desk.events.of(FaceCheckAttempted)
    assert (e.claimed_id, e.accepted, e.reason, e.assurance) == (rid, False, "identity_not_established", 0)


def test_a_resident_without_a_registered_photo_is_checked_by_interview_alone(small_city, desk):
    (rid,) = no_card(small_city, 1)
    ident = desk.check(rid, None, _truthful(desk, rid), "shelter_registration", T0)
    assert (ident.method, ident.assurance) == ("interview", Assurance.LOW)
    strict = FaceCheckDesk.from_city(small_city, FaceCheckParams(interview_only_fallback=False))
    with pytest.raises(IdentityNotEstablished, match="no registered photo"):
        strict.check(rid, None, _truthful(desk, rid), "shelter_registration", T0)


def test_the_interview_counts_facts_matching_the_registry(small_city, desk):
    rid = _holder(small_city)
    right = _truthful(desk, rid)
    assert desk.interview_score(rid, right) == 3
    assert desk.interview_score(rid, InterviewAnswers(right.birth_date, right.ward + 1, None)) == 1


def test_attempts_past_the_daily_limit_are_refused_and_logged(small_city, desk):
    rid = _holder(small_city)
    for i in range(3):
        desk.check(rid, _matched_probe(desk, rid), _truthful(desk, rid), "shelter_registration", T0 + i)
    with pytest.raises(TooManyAttempts, match="limit is 3 a day"):
        desk.check(rid, _matched_probe(desk, rid), _truthful(desk, rid), "shelter_registration", T0 + 10)
    assert [e.reason for e in desk.events.of(FaceCheckAttempted)][-1] == "too_many_attempts"
    assert desk.check(rid, _matched_probe(desk, rid), _truthful(desk, rid), "shelter_registration", T0 + 86_400)


def test_impostors_rarely_pass_and_genuine_people_mostly_do_in_simulation(small_city, desk):
    rng = np.random.default_rng(9)
    holders = small_city.residents.filter(pl.col("has_card"))["resident_id"].to_numpy()[:400]
    ok_genuine = ok_impostor = 0
    for i, rid in enumerate(holders.tolist()):
        try:
            desk.attempt(rid, rid, "relief_payment", T0 + i, rng)
            ok_genuine += 1
        except InsufficientAssurance:
            pass
        other = int(holders[(i + 1) % holders.size])
        try:
            desk.attempt(other, rid, "relief_payment", T0 + i, rng)
            ok_impostor += 1
        except (InsufficientAssurance, IdentityNotEstablished):
            pass
    assert ok_genuine >= 0.85 * holders.size and ok_impostor <= 0.03 * holders.size
    assert desk.attempts_frame().height == 2 * holders.size


def test_procedures_state_the_level_they_need():
    assert {k: p.required for k, p in PROCEDURES.items()} == {
        "shelter_registration": Assurance.LOW, "family_lookup": Assurance.MEDIUM,
        "relief_payment": Assurance.MEDIUM, "child_watch_consent": Assurance.HIGH}


def test_an_unknown_claimed_resident_or_procedure_is_refused_and_logged(small_city, desk):
    rid = _holder(small_city)
    with pytest.raises(NotFound, match="not in this city's registry"):
        desk.check(10**9, None, _truthful(desk, rid), "shelter_registration", T0)
    with pytest.raises(NotFound, match="unknown procedure 'bank_loan'"):
        desk.check(rid, None, _truthful(desk, rid), "bank_loan", T0)
    assert [(e.claimed_id, e.procedure, e.reason) for e in desk.events.of(FaceCheckAttempted)] == [
        (10**9, "shelter_registration", "not_found"), (rid, "bank_loan", "not_found")]


def test_bad_captures_and_parameters_are_refused(small_city, desk):
    rid = _holder(small_city)
    with pytest.raises(ValidationError, match="128 finite numbers"):
        desk.check(rid, np.zeros(3), _truthful(desk, rid), "shelter_registration", T0)
    with pytest.raises(ValidationError, match="unknown key 'false_accept'"):
        FaceCheckParams.from_dict({"false_accept": 0.1})
    with pytest.raises(ValidationError, match="strictly between 0 and 1"):
        FaceMatcher(0.0, 0.05)
