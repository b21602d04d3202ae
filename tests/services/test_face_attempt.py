"""A simulated face check (`attempt`) decides, draws and logs exactly what the public calls do one
after another: capture, the person's answers, then the check."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.services.safety_helpers import T0
from twin.errors import NotFound, TwinError
from twin.services.faceid import FaceCheckDesk, FaceCheckParams, FaceFacts

PROCS = ["shelter_registration", "family_lookup", "relief_payment", "child_watch_consent", "bank_loan"]


def _one_by_one(desk: FaceCheckDesk, person, claimed, proc: str, now: float, rng: np.random.Generator,
                recall: float, knows: bool):
    """The attempt spelled out with the desk's public calls."""
    if not isinstance(person, int) or not 0 <= person < desk.birth.size:
        raise NotFound(f"resident {person!r} is not in this city's registry")
    probe = desk.matcher.capture(person, rng)
    answers = desk.answers_of(person, claimed, rng, recall, knows)
    return desk.check(claimed, probe, answers, proc, now)


def _outcome(call, *args):
    try:
        return repr(call(*args))
    except TwinError as e:
        return (type(e).__name__, str(e))


def _desks(city, params: FaceCheckParams, facts: FaceFacts | None = None) -> tuple[FaceCheckDesk, FaceCheckDesk]:
    return FaceCheckDesk.from_city(city, params, facts=facts), FaceCheckDesk.from_city(city, params, facts=facts)


# people: mostly a few residents (so daily limits bite), some with no photo, some unknown ids
def _people(n: int):
    return st.one_of(st.integers(0, 40), st.integers(0, n - 1), st.sampled_from([-1, n, n + 7, 10**12]))


@st.composite
def _attempts(draw, n: int):
    k = draw(st.integers(1, 30))
    rows = []
    for _ in range(k):
        person = draw(_people(n))
        claimed = draw(st.one_of(st.just(person), _people(n)))  # genuine or claiming to be another
        rows.append((person, claimed, draw(st.sampled_from(PROCS)), draw(st.floats(0.0, 3 * 86_400.0)),
                     draw(st.sampled_from([0.0, 0.05, 0.5, 1.0])), draw(st.booleans())))
    return rows


@pytest.fixture(scope="module")
def no_photo(small_city):
    """Residents without a registered photo (they are checked by interview alone)."""
    facts = FaceFacts.of(small_city.residents)
    return np.flatnonzero(~facts.has_photo)[:5].tolist()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), strict=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_an_attempt_equals_capture_answers_and_check_called_one_after_another(small_city, no_photo, data,
                                                                               strict, seed):
    n = small_city.residents.height
    rows = data.draw(_attempts(n))
    rows += [(p, p, "shelter_registration", 100.0, 0.05, False) for p in no_photo]
    params = FaceCheckParams(false_accept_rate=0.2 if strict else 0.001, false_reject_rate=0.3 if strict else 0.03,
                             interview_only_fallback=not strict, max_attempts_per_day=2 if strict else 3)
    fast, ref = _desks(small_city, params)
    fast.matcher.prepare([r[0] for r in rows[::2] if isinstance(r[0], int) and 0 <= r[0] < n])
    rf, rr = np.random.default_rng(seed), np.random.default_rng(seed)
    for person, claimed, proc, dt, recall, knows in rows:
        got = _outcome(fast.attempt, person, claimed, proc, T0 + dt, rf, recall, knows)
        want = _outcome(_one_by_one, ref, person, claimed, proc, T0 + dt, rr, recall, knows)
        assert got == want
    assert repr(list(fast.events)) == repr(list(ref.events))  # scores bit for bit (NaN where none)
    assert rf.bit_generator.state == rr.bit_generator.state  # the same draws were taken


def test_birth_dates_finer_than_days_take_the_general_path_with_the_same_answers(small_city):
    facts = FaceFacts.of(small_city.residents)
    finer = dataclasses.replace(facts, birth=facts.birth.astype("datetime64[s]"))
    days, secs = FaceCheckDesk.from_city(small_city, facts=facts), FaceCheckDesk.from_city(small_city, facts=finer)
    ra, rb = np.random.default_rng(2), np.random.default_rng(2)
    for i in range(60):
        person, claimed = i % 25, (i * 7) % 25
        a = _outcome(days.attempt, person, claimed, PROCS[i % 4], T0 + i, ra, 0.3, i % 3 == 0)
        b = _outcome(secs.attempt, person, claimed, PROCS[i % 4], T0 + i, rb, 0.3, i % 3 == 0)
        assert a == b
    assert repr(list(days.events)) == repr(list(secs.events)) and len(days.events) == 60


def test_the_one_row_capture_and_score_are_the_column_calls_bit_for_bit_and_refuse_bad_probes():
    from twin.errors import ValidationError
    from twin.services.face_matcher import FaceMatcher

    one, cols = FaceMatcher(0.01, 0.05, 64, seed=5), FaceMatcher(0.01, 0.05, 64, seed=5)
    one.prepare([3])
    ra, rb = np.random.default_rng(8), np.random.default_rng(8)
    for rid in (3, 4, 4, 10**6):
        a, b = one.capture_one(rid, ra), cols.capture(rid, rb)
        assert np.array_equal(a, b) and one.score_one(a, 3) == cols.score(b, 3)
    for bad in (np.zeros(64), np.full(64, np.nan), np.ones(63)):
        with pytest.raises(ValidationError, match="capture must"):
            one.score_one(bad, 3)


def test_registered_embeddings_are_the_box_muller_normals_of_the_hashed_ids_bit_for_bit():
    from twin.services.face_matcher import _gaussians, _mix

    def plain(seed: np.uint64, ids: np.ndarray, dim: int) -> np.ndarray:  # the formula, one step at a time
        key = _mix(_mix(np.full(ids.shape, seed, dtype=np.uint64)) ^ ids)
        with np.errstate(over="ignore"):
            h = _mix(key[:, None] + np.arange((dim + 1) // 2, dtype=np.uint64) * np.uint64(0x632BE59BD9B4E019))
        u1 = ((h >> np.uint64(32)).astype(np.float64) + 0.5) * 2.0**-32
        u2 = ((h & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) * 2.0**-32
        r, a = np.sqrt(-2.0 * np.log(u1)), 2.0 * np.pi * u2
        return np.concatenate([r * np.cos(a), r * np.sin(a)], axis=1)[:, :dim]

    ids = np.array([0, 1, 2, 77, 3_700_000, 2**40, 2**64 - 1], dtype=np.uint64)
    for seed, dim in ((0, 128), (7, 9), (2**63, 8), (11, 127)):
        assert np.array_equal(_gaussians(np.uint64(seed), ids, dim), plain(np.uint64(seed), ids, dim))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**64 - 1), kinds=st.lists(st.sampled_from(["shift", "random", "normal", "u32"]),
                                                       min_size=1, max_size=60))
def test_the_day_shift_is_numpys_integers_from_1_to_400_and_takes_the_same_draws(seed, kinds):
    from twin.services.faceid import day_shift

    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    for kind in kinds:  # interleaved with other draws (a 32-bit draw may leave half a word buffered)
        if kind == "shift":
            assert day_shift(a) == int(b.integers(1, 400))
        elif kind == "random":
            assert a.random(3).tolist() == b.random(3).tolist()
        elif kind == "normal":
            assert a.standard_normal(5).tolist() == b.standard_normal(5).tolist()
        else:
            assert a.integers(0, 2**32, dtype=np.uint32) == b.integers(0, 2**32, dtype=np.uint32)
    assert a.bit_generator.state == b.bit_generator.state
