"""The edge's parts without a service: stateless challenges and token buckets."""

from __future__ import annotations

import pytest

from actors.challenges import Challenges
from actors.edge import Buckets
from twin.trust_errors import ReplayedChallenge


def test_a_challenge_is_checked_by_its_tag_and_age_alone():
    issuer = Challenges(b"k" * 32)
    chal = issuer.issue(1000.0)
    assert issuer.check(chal, 1030.0) == 1060.0
    assert Challenges(b"k" * 32).check(chal, 1000.0) == 1060.0  # another replica with the same secret
    with pytest.raises(ReplayedChallenge, match="expired"):
        issuer.check(chal, 1061.0)
    with pytest.raises(ReplayedChallenge, match="never issued"):
        Challenges(b"x" * 32).check(chal, 1000.0)
    with pytest.raises(ReplayedChallenge, match="never issued"):
        issuer.check(chal[:-1] + ("0" if chal[-1] != "0" else "1"), 1000.0)
    with pytest.raises(ReplayedChallenge, match="never issued"):
        issuer.check("zz", 1000.0)


def test_a_bucket_allows_its_burst_then_its_rate_and_says_how_long_to_wait():
    b = Buckets(rate=10.0, burst=5.0, max_keys=2)
    assert [b.take("a", 0.0) for _ in range(5)] == [0.0] * 5
    assert b.take("a", 0.0) == pytest.approx(0.1)
    assert b.take("a", 0.1) == 0.0
    assert b.take("b", 0.1) == 0.0  # another caller has its own budget
    b.take("c", 0.1)
    assert b.take("a", 0.1) == 0.0  # forgotten beyond max_keys: a fresh budget (bounded memory)


def test_the_batcher_fails_only_the_item_its_call_fails_on():
    import asyncio

    from actors.batching import Batcher

    calls: list[list[int]] = []

    async def send(items: list[int]) -> list[int]:
        calls.append(list(items))
        await asyncio.sleep(0.01)
        if -1 in items:
            raise OverflowError("int too big")
        return [i * 10 for i in items]

    async def run() -> list:
        batcher = Batcher(send)
        return await asyncio.gather(*[batcher.submit(i) for i in (1, -1, 2, 3, 4)], return_exceptions=True)

    out = asyncio.run(run())
    assert out[0] == 10 and out[2:] == [20, 30, 40]
    assert isinstance(out[1], OverflowError)
    assert [-1, 2, 3, 4] in calls and [-1] in calls  # the failed group call, then one call per item


def test_a_batching_window_sends_the_taps_arriving_within_it_in_one_call_in_arrival_order():
    import asyncio

    from actors.batching import Batcher

    calls: list[list[int]] = []

    async def send(items: list[int]) -> list[int]:
        calls.append(list(items))
        return [i * 10 for i in items]

    async def arrive(batcher: Batcher, item: int, after: float) -> int:
        await asyncio.sleep(after)
        return await batcher.submit(item)

    async def run(window: float) -> list:
        calls.clear()
        batcher = Batcher(send, window_s=window)
        return await asyncio.gather(*[arrive(batcher, i, 0.002 * i) for i in range(4)])

    assert asyncio.run(run(0.05)) == [0, 10, 20, 30] and calls == [[0, 1, 2, 3]]
    assert asyncio.run(run(0.0)) == [0, 10, 20, 30] and calls[0] == [0]  # without: the first goes alone
