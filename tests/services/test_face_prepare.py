"""Registered face embeddings computed ahead in one pass are the very rows computed one at a time."""

from __future__ import annotations

import numpy as np

from twin.services.face_matcher import FaceMatcher


def test_prepared_embeddings_give_bit_identical_captures_and_scores():
    ids = [0, 3, 17, 999, 123_456, 3_700_001]
    alone, ahead = FaceMatcher(0.01, 0.05, 128, seed=11), FaceMatcher(0.01, 0.05, 128, seed=11)
    ahead.prepare(ids[:-1] + ids[:2])  # the last id is not prepared; repeats are harmless
    assert set(ahead._known) == set(ids[:-1])
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    for rid in ids:
        a, b = alone.capture(rid, r1), ahead.capture(rid, r2)
        assert np.array_equal(a, b)
        assert alone.score(a, rid) == ahead.score(b, rid)
        assert alone.score(a, ids[0]) == ahead.score(b, ids[0])
        assert np.array_equal(alone.registered_many([rid, ids[1]]), ahead.registered_many([rid, ids[1]]))


def test_preparing_nobody_changes_nothing():
    m = FaceMatcher(0.01, 0.05, 64, seed=1)
    m.prepare([])
    assert m._known == {} and np.array_equal(m.registered(4), FaceMatcher(0.01, 0.05, 64, seed=1).registered(4))
