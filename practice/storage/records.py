"""What the store hands back: candidates, attempts, coach notes and overrides, and the attempt arithmetic.

Plain frozen dataclasses, no database: an `Attempt` works out its effective key-point statuses and coverage
from the automatic score and the coach's overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol, get_args

from practice.scoring.delivery import Delivery
from practice.transcript import Transcript

if TYPE_CHECKING:  # the scorer's module loads numpy and its models' code, which the login form does without
    from practice.scoring.results import KeyPointResult, Score

MAX_NAME_LENGTH = 100

AnswerMode = Literal["audio", "typed", "upload"]
AttemptStatus = Literal["recorded", "scored", "failed"]
KeyPointStatus = Literal["covered", "partial", "missed"]  # as in practice.scoring.results.Status
ANSWER_MODES: tuple[str, ...] = get_args(AnswerMode)
KEY_POINT_STATUSES: tuple[str, ...] = get_args(KeyPointStatus)
# Credit per status when a coach's key-point override adjusts the automatic coverage (see Attempt).
STATUS_CREDIT: dict[str, float] = {"covered": 1.0, "partial": 0.5, "missed": 0.0}


class QuestionLike(Protocol):
    """What an attempt records about its question (practice.bank.Question fits)."""

    @property
    def id(self) -> str: ...
    @property
    def track(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def question(self) -> str: ...


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    created_at: datetime


class Role(StrEnum):
    """What a user may do when logins are on (the rules are in practice.storage.access)."""

    CANDIDATE = "candidate"  # practises; sees only their own attempts (their candidate record has their name)
    COACH = "coach"  # reviews the candidates assigned to them
    ADMIN = "admin"  # sees, reviews and deletes everyone's


@dataclass(frozen=True)
class User:
    """An account. A candidate's attempts are those of the candidate record with the same name."""

    id: int
    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class Note:
    id: int
    attempt_id: int
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class KeyPointOverride:
    """A coach's verdict on one key point, shown beside the automatic one rather than replacing it."""

    attempt_id: int
    index: int  # 0-based position in the score's key points
    status: KeyPointStatus
    author: str
    created_at: datetime


@dataclass(frozen=True)
class Attempt:
    id: int
    candidate: Candidate
    question_id: str
    track: str
    level: str
    topic: str
    session_id: str | None
    created_at: datetime
    answer_mode: AnswerMode
    answer_text: str  # typed text, or the transcript's text once transcribed
    transcript: Transcript | None
    score: Score | None  # the scorer's, None until scored
    coverage: float | None  # automatic, 0-100
    delivery: Delivery | None  # how a recorded answer was said
    status: AttemptStatus
    error: str | None
    has_audio: bool
    coach_coverage: float | None = None
    notes: tuple[Note, ...] = ()
    question: str = ""  # the question's wording when it was asked (the bank may change later)
    coach_coverage_by: str | None = None
    coach_coverage_at: datetime | None = None
    overrides: tuple[KeyPointOverride, ...] = ()

    @property
    def key_points(self) -> tuple[KeyPointResult, ...]:
        """The automatic per-point results (key point, status, evidence ...), empty until scored."""
        return self.score.key_points if self.score is not None else ()

    def automatic_status(self, index: int) -> KeyPointStatus | None:
        points = self.key_points
        return points[index].status if 0 <= index < len(points) else None

    def override(self, index: int) -> KeyPointOverride | None:
        return next((o for o in self.overrides if o.index == index), None)

    def key_point_status(self, index: int) -> KeyPointStatus | None:
        """The coach's status for point `index` if they set one, else the scorer's."""
        coach = self.override(index)
        return coach.status if coach else self.automatic_status(index)

    def key_point_statuses(self) -> list[KeyPointStatus | None]:
        return [self.key_point_status(i) for i in range(len(self.key_points))]

    @property
    def missed_count(self) -> int:
        return sum(s == "missed" for s in self.key_point_statuses())

    @property
    def effective_coverage(self) -> float | None:
        """The coach's coverage if set; else the automatic one moved by the coach's key-point overrides.

        The scorer gives partial points graded credit we cannot recover exactly, so an override moves the
        coverage by the difference of the two statuses' nominal credit (covered 1, partial 0.5, missed 0)
        over the number of points: flipping one of four points from missed to covered adds 25.
        """
        if self.coach_coverage is not None:
            return self.coach_coverage
        if self.coverage is None:
            return None
        points = len(self.key_points)
        if not points or not self.overrides:
            return self.coverage
        delta = 0.0
        for o in self.overrides:
            auto = self.automatic_status(o.index)
            if auto is not None:
                delta += STATUS_CREDIT[o.status] - STATUS_CREDIT[auto]
        return min(100.0, max(0.0, self.coverage + 100.0 * delta / points))

    @property
    def is_reviewed(self) -> bool:
        return self.coach_coverage is not None or bool(self.overrides)


def clean_name(name: str) -> str:
    """Trimmed, inner whitespace collapsed; a clear ValueError for names that cannot be used."""
    if not isinstance(name, str):
        raise ValueError("A name must be text.")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValueError("Enter a name: it cannot be empty.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValueError(f"That name is too long ({len(cleaned)} characters; at most {MAX_NAME_LENGTH}).")
    return cleaned


# Every timestamp the package writes or shows is timezone-aware UTC.


def utc_now() -> datetime:
    """The time now, in UTC: every time the store saves is in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; naive datetimes are taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
