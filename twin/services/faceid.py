"""Face-photo identity check (顔写真データによる本人確認) for a person who lost every ID.

The photo registered at card application is a synthetic embedding: a unit vector per
resident, derived deterministically from (seed, resident id). A live capture is the same
vector plus noise. The matcher accepts when the cosine score reaches a threshold; threshold
and capture noise are calibrated so the false-accept and false-reject rates are the ones
set (impostor scores of random unit vectors follow a known law; the genuine law is found by
Monte Carlo). An interview checks stated facts against the resident registry. The result is
an `Identity` whose assurance depends on both; each procedure states the level it needs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from twin.clock import jst_day_second
from twin.errors import Forbidden, NotFound, TwinError, ValidationError
from twin.events import EventLog
from twin.identity import Assurance, Identity
from twin.services.card_serials import finite_time, id_or_minus_one
from twin.services.face_events import FaceCheckAttempted
from twin.services.face_matcher import FaceMatcher
from twin.services.procedures import procedure, require_assurance
from twin.services.safety_validate import check_int, check_rate, params_from_dict

_LEVELS = (Assurance.NONE, Assurance.LOW, Assurance.MEDIUM)  # by how many of match and interview passed


def day_shift(rng: np.random.Generator) -> int:
    """`int(rng.integers(1, 400))`: the same value from the same stream use, without numpy's per-call
    set-up (~1.5 of ~3.5 us): one 32-bit draw scaled by Lemire's method, as numpy draws it."""
    bits = rng.bit_generator
    c = bits.ctypes
    with bits.lock:  # as the Generator's own draws
        m = c.next_uint32(c.state) * 399
        if m & 0xFFFFFFFF < 399:  # rarely: numpy's rejection of the low remainders
            while m & 0xFFFFFFFF < (0xFFFFFFFF - 398) % 399:
                m = c.next_uint32(c.state) * 399
    return (m >> 32) + 1


class IdentityNotEstablished(Forbidden):
    """Neither the face match nor the interview supports the claimed identity."""

    code = "identity_not_established"


class TooManyAttempts(Forbidden):
    """Too many face checks for one claimed identity today."""

    code = "too_many_attempts"


@dataclass(frozen=True)
class FaceCheckParams:
    """Face-check settings (mirrors the design's `faceid` section where names match)."""

    false_accept_rate: float = 0.001
    false_reject_rate: float = 0.03
    embedding_dim: int = 128
    interview_min_correct: int = 2  # of the 3 facts asked: birth date, ward, household size
    interview_only_fallback: bool = True  # no registered photo: interview alone gives LOW
    max_attempts_per_day: int = 3

    def __post_init__(self) -> None:
        check_rate("false_accept_rate", self.false_accept_rate)
        check_rate("false_reject_rate", self.false_reject_rate)
        check_int("embedding_dim", self.embedding_dim, 8, 4096)
        check_int("interview_min_correct", self.interview_min_correct, 1, 3)
        check_int("max_attempts_per_day", self.max_attempts_per_day, 1, 100)
        if not isinstance(self.interview_only_fallback, bool):
            raise ValidationError(f"interview_only_fallback must be a bool, got {self.interview_only_fallback!r}")

    @classmethod
    def from_dict(cls, data: dict) -> FaceCheckParams:
        """Build from a mapping; unknown keys are errors naming the key."""
        return params_from_dict(cls, data, "face check params")


@dataclass(frozen=True, slots=True)
class InterviewAnswers:
    """What the person states at the interview (None: does not know)."""

    birth_date: dt.date | None
    ward: int | None
    household_size: int | None


@dataclass(frozen=True, slots=True)
class FaceFacts:
    """Birth date, ward, household size, photo on file and household per resident id (read-only:
    desks over one city may share them)."""

    birth: np.ndarray
    ward: np.ndarray
    household_size: np.ndarray
    has_photo: np.ndarray
    household_of: np.ndarray

    @classmethod
    def of(cls, residents: pl.DataFrame) -> FaceFacts:
        """The facts of these residents, worked out once."""
        hh_size = residents.group_by("household_id").len()
        f = residents.join(hh_size, on="household_id", how="left").sort("resident_id")
        cols = [f[c].to_numpy() for c in ("birth_date", "ward", "len", "has_card", "household_id")]
        for a in cols:
            a.flags.writeable = False
        return cls(*cols)


class FaceCheckDesk:
    """Face checks at a ward desk: match, interview, assurance, per-procedure floor, attempt log."""

    def __init__(self, residents: pl.DataFrame, params: FaceCheckParams | None = None, seed: int = 0,
                 events: EventLog | None = None, facts: FaceFacts | None = None) -> None:
        self.params = params or FaceCheckParams()
        self.matcher = FaceMatcher(self.params.false_accept_rate, self.params.false_reject_rate,
                                   self.params.embedding_dim, seed)
        self.events = events if events is not None else EventLog()
        f = facts or FaceFacts.of(residents)  # a caller that keeps the city's facts passes them
        self.birth, self.ward, self.household_size, self.has_photo, self.household_of = (
            f.birth, f.ward, f.household_size, f.has_photo, f.household_of)
        self._attempts: dict[tuple[int, int], int] = {}  # (resident, JST day number): checks
        # birth dates as day numbers (a view, no copy), for `attempt`; None if they are not whole days
        self._birth_days = self.birth.view(np.int64) if self.birth.dtype == np.dtype("datetime64[D]") else None

    @classmethod
    def from_city(cls, city, params: FaceCheckParams | None = None, events: EventLog | None = None,
                  facts: FaceFacts | None = None) -> FaceCheckDesk:
        """A desk over a city's registry (its `facts` when the caller keeps them); embeddings keyed by the city's seed."""
        return cls(city.residents, params, city.seed, events, facts)

    def _resident(self, resident_id: int) -> int:
        if not isinstance(resident_id, (int, np.integer)) or not 0 <= resident_id < self.birth.size:
            raise NotFound(f"resident {resident_id!r} is not in this city's registry")
        return int(resident_id)

    def interview_score(self, claimed_id: int, answers: InterviewAnswers) -> int:
        """How many of the three stated facts match the registry for the claimed resident."""
        r = self._resident(claimed_id)
        born = None if answers.birth_date is None else np.datetime64(answers.birth_date, "D")
        facts = (born is not None and bool(born == self.birth[r]),
                 answers.ward is not None and answers.ward == int(self.ward[r]),
                 answers.household_size is not None and answers.household_size == int(self.household_size[r]))
        return sum(map(bool, facts))

    def answers_of(self, person_id: int, claimed_id: int, rng: np.random.Generator,
                   recall_error: float = 0.05, knows_claimed: bool = False) -> InterviewAnswers:
        """Synthetic answers: the person's own facts (the claimed one's if genuine or `knows_claimed`),
        each misremembered with probability `recall_error` (for scenarios)."""
        src = self._resident(claimed_id if knows_claimed or person_id == claimed_id else person_id)
        slip = rng.random(3) < recall_error
        born = self.birth[src].astype("datetime64[D]") + np.timedelta64(int(slip[0]) * int(rng.integers(1, 400)), "D")
        return InterviewAnswers(born.astype(dt.date), int(self.ward[src]) + int(slip[1]),
                                int(self.household_size[src]) + int(slip[2]))

    def _log(self, t: float, claimed: int, proc: str, score: float, matched: bool, interview_ok: bool,
             level: Assurance, reason: str) -> None:
        self.events.append_fields(FaceCheckAttempted, t, claimed, proc, score, matched, interview_ok, int(level),
                                  reason == "", reason)  # built when the log is read

    def _count_attempt(self, t: float, claimed: int, proc: str) -> None:
        """Count today's attempt for this identity; refuse past the daily limit."""
        key = (claimed, jst_day_second(t)[0])  # today's JST day number
        n = self._attempts.get(key, 0)
        if n >= self.params.max_attempts_per_day:
            self._log(t, claimed, proc, float("nan"), False, False, Assurance.NONE, TooManyAttempts.code)
            raise TooManyAttempts(f"{n} face checks for resident {claimed} today already; the limit is "
                                  f"{self.params.max_attempts_per_day} a day (try again tomorrow or at a counter)")
        self._attempts[key] = n + 1

    def level(self, has_photo: bool, matched: bool, interview_ok: bool) -> Assurance:
        """The assurance a check earns: photo and interview MEDIUM, either one LOW, neither NONE."""
        if not has_photo:
            return Assurance.LOW if interview_ok and self.params.interview_only_fallback else Assurance.NONE
        return _LEVELS[int(matched) + int(interview_ok)]

    def _claim(self, claimed_id: int, procedure_key: str, now: float) -> tuple[float, str, int]:
        """(time, procedure key, resident) of a check; an unknown procedure or resident is logged and
        raised, and the attempt is counted (past today's limit: logged and refused)."""
        t = finite_time(now)
        try:
            proc = procedure(procedure_key)
            claimed = self._resident(claimed_id)
        except NotFound as e:
            self._log(t, id_or_minus_one(claimed_id), str(procedure_key), float("nan"), False, False, Assurance.NONE, e.code)
            raise
        self._count_attempt(t, claimed, proc.key)
        return t, proc.key, claimed

    def _decide(self, t: float, claimed: int, proc: str, photo: bool, score: float, interview_ok: bool
                ) -> Identity:
        """The identity the match and the interview establish for the procedure; logged."""
        matched = bool(score >= self.matcher.threshold)
        level = self.level(photo, matched, interview_ok)
        identity = Identity(claimed, "face_photo" if matched else "interview", level, t)
        try:
            if level == Assurance.NONE:
                raise IdentityNotEstablished(
                    f"the claim to be resident {claimed} is not supported: face match "
                    f"{'passed' if matched else 'failed' if photo else 'unavailable (no registered photo)'}, "
                    f"interview {'passed' if interview_ok else 'failed'}; try a counter check with a witness")
            require_assurance(identity, proc)
        except TwinError as e:
            self._log(t, claimed, proc, score, matched, interview_ok, level, e.code)
            raise
        self._log(t, claimed, proc, score, matched, interview_ok, level, "")
        return identity

    def check(self, claimed_id: int, probe: np.ndarray | None, answers: InterviewAnswers,
              procedure_key: str, now: float) -> Identity:
        """Check a claimed identity by live capture `probe` and interview, for a procedure; logged."""
        t, proc, claimed = self._claim(claimed_id, procedure_key, now)
        photo = bool(self.has_photo[claimed])
        score = self.matcher.score(probe, claimed) if photo and probe is not None else float("nan")
        interview_ok = self.interview_score(claimed, answers) >= self.params.interview_min_correct
        return self._decide(t, claimed, proc, photo, score, interview_ok)

    def attempt(self, person_id: int, claimed_id: int, procedure_key: str, now: float, rng: np.random.Generator,
                recall_error: float = 0.05, knows_claimed: bool = False) -> Identity:
        """Simulate person `person_id` claiming to be `claimed_id`: capture, answers, check (for scenarios).

        The same draws, answers, verdicts and log as `check(claimed_id, matcher.capture(person_id),
        answers_of(...), ...)`, without the column calls' per-call set-up (a scenario checks people
        one at a time)."""
        days = self._birth_days
        if days is None:  # birth dates finer than days: the general path
            probe = self.matcher.capture(self._resident(person_id), rng)
            answers = self.answers_of(person_id, claimed_id, rng, recall_error, knows_claimed)
            return self.check(claimed_id, probe, answers, procedure_key, now)
        probe = self.matcher.capture_one(self._resident(person_id), rng)
        src = self._resident(claimed_id if knows_claimed or person_id == claimed_id else person_id)
        slip = (rng.random(3) < recall_error).tolist()
        shift = day_shift(rng)  # drawn whether used or not, as `answers_of` does
        t, proc, claimed = self._claim(claimed_id, procedure_key, now)
        photo = bool(self.has_photo[claimed])
        score = self.matcher.score_one(probe, claimed) if photo else float("nan")
        if src == claimed:  # their own facts, each right unless misremembered (the shift is >= 1)
            right = 3 - slip[0] - slip[1] - slip[2]
        else:
            said = (int(days[src]) + shift * slip[0], int(self.ward[src]) + slip[1],
                    int(self.household_size[src]) + slip[2])
            right = ((said[0] == int(days[claimed])) + (said[1] == int(self.ward[claimed]))
                     + (said[2] == int(self.household_size[claimed])))
        return self._decide(t, claimed, proc, photo, score, right >= self.params.interview_min_correct)

    def attempts_frame(self) -> pl.DataFrame:
        """Every logged attempt as a frame."""
        rows = [e.as_row() for e in self.events.of(FaceCheckAttempted)]
        return pl.from_dicts(rows) if rows else pl.DataFrame()
