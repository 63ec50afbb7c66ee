"""A candidate's progress from their attempts: averages, a chart series, weak questions, when to level up.

Pure functions over `storage.Attempt`s (no database, no UI), so the rules below are easy to test and to
state on screen. Pass one candidate's attempts. Only attempts with a coverage count, and the coverage
used everywhere is the effective one: the coach's override when there is one, else the scorer's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from typing import TYPE_CHECKING

from practice.bank import LEVELS

if TYPE_CHECKING:
    from practice.storage import Attempt

RECENT = 3  # a question's "recent" attempts: its last three

MASTERED_COVERAGE = 80.0
# (last coverage below, days until due again); anything not mastered and above the last band: 7 days.
REVIEW_BANDS: tuple[tuple[float, int], ...] = ((50.0, 1), (65.0, 3))
LONGEST_INTERVAL_DAYS = 7
REVIEW_RULE = (
    "A question comes back when its last attempt missed key points or scored under 80: after 1 day if "
    "the last coverage was under 50, after 3 days if under 65, otherwise after 7 days. Questions with a "
    "last coverage of 80 or more and no missed key point are mastered and leave the queue. Due questions "
    "with the most missed points come first."
)

LEVEL_UP_MIN_QUESTIONS = 5
LEVEL_UP_MIN_AVERAGE = 75.0
LEVEL_UP_MIN_EACH = 50.0
LEVEL_UP_RULE = (
    f"Move up a level after answering at least {LEVEL_UP_MIN_QUESTIONS} different questions of your level, "
    f"when the average of each question's best coverage over its last {RECENT} attempts is at least "
    f"{LEVEL_UP_MIN_AVERAGE:.0f} and no question is below {LEVEL_UP_MIN_EACH:.0f}."
)


@dataclass(frozen=True)
class GroupStats:
    name: str  # the level or topic
    attempts: int
    questions: int  # distinct questions
    average_coverage: float  # mean over the attempts


@dataclass(frozen=True)
class SeriesPoint:
    at: datetime
    coverage: float
    question_id: str
    level: str


@dataclass(frozen=True)
class DailyPoint:
    day: date  # UTC
    average_coverage: float
    attempts: int


@dataclass(frozen=True)
class QuestionStats:
    question_id: str
    question: str  # its wording when last asked ("" in records older than that)
    track: str
    level: str
    topic: str
    attempts: int
    last_at: datetime
    last_coverage: float
    missed_last: int  # key points the last attempt missed (after the coach's overrides)
    recent_coverage: float  # mean of the last RECENT attempts
    best_recent_coverage: float

    @property
    def mastered(self) -> bool:
        return self.last_coverage >= MASTERED_COVERAGE and self.missed_last == 0


@dataclass(frozen=True)
class DueQuestion:
    stats: QuestionStats
    interval_days: int
    due_at: datetime
    is_due: bool

    @property
    def question_id(self) -> str:
        return self.stats.question_id


@dataclass(frozen=True)
class RuleCheck:
    met: bool
    text: str  # the condition with the candidate's numbers, for the UI to list


@dataclass(frozen=True)
class LevelUp:
    level: str
    next_level: str | None  # None at the top level
    ready: bool
    rule: str
    checks: tuple[RuleCheck, ...]
    questions: int
    average: float | None  # of each question's best recent coverage
    lowest: float | None


def scored(attempts: Iterable[Attempt]) -> list[Attempt]:
    """The attempts that have an effective coverage, oldest first."""
    return sorted(
        (a for a in attempts if a.effective_coverage is not None), key=lambda a: (a.created_at, a.id)
    )


def _coverage(a: Attempt) -> float:
    value = a.effective_coverage
    assert value is not None  # callers pass only scored attempts
    return value


def mean_coverage(scored_attempts: Iterable[Attempt]) -> float:
    """The mean effective coverage of attempts that all have one (`scored`)."""
    return fmean(map(_coverage, scored_attempts))


def _groups(attempts: Iterable[Attempt], key: str) -> dict[str, list[Attempt]]:
    groups: dict[str, list[Attempt]] = defaultdict(list)
    for a in scored(attempts):
        groups[getattr(a, key)].append(a)
    return groups


def _group_stats(name: str, group: list[Attempt]) -> GroupStats:
    return GroupStats(name, len(group), len({a.question_id for a in group}), mean_coverage(group))


def by_level(attempts: Iterable[Attempt]) -> list[GroupStats]:
    """Per level, in the order a candidate climbs them (levels outside the bank's last)."""
    groups = _groups(attempts, "level")
    order = {level: i for i, level in enumerate(LEVELS)}
    names = sorted(groups, key=lambda n: (order.get(n, len(order)), n))
    return [_group_stats(n, groups[n]) for n in names]


def by_topic(attempts: Iterable[Attempt]) -> list[GroupStats]:
    groups = _groups(attempts, "topic")
    return [_group_stats(n, groups[n]) for n in sorted(groups)]


def coverage_series(attempts: Iterable[Attempt]) -> list[SeriesPoint]:
    """One point per scored attempt, oldest first, for a chart."""
    return [SeriesPoint(a.created_at, _coverage(a), a.question_id, a.level) for a in scored(attempts)]


def daily_coverage(attempts: Iterable[Attempt]) -> list[DailyPoint]:
    """Average coverage per UTC day with attempts, oldest first."""
    days: dict[date, list[float]] = defaultdict(list)
    for a in scored(attempts):
        days[a.created_at.astimezone(UTC).date()].append(_coverage(a))
    return [DailyPoint(d, fmean(v), len(v)) for d, v in sorted(days.items())]


def question_stats(attempts: Iterable[Attempt]) -> list[QuestionStats]:
    """Per question attempted, from its scored attempts; in order of first attempt."""
    per_question: dict[str, list[Attempt]] = defaultdict(list)
    for a in scored(attempts):
        per_question[a.question_id].append(a)
    out = []
    for qid, history in per_question.items():
        last = history[-1]
        recent = [_coverage(a) for a in history[-RECENT:]]
        out.append(
            QuestionStats(
                question_id=qid,
                question=last.question,
                track=last.track,
                level=last.level,
                topic=last.topic,
                attempts=len(history),
                last_at=last.created_at,
                last_coverage=_coverage(last),
                missed_last=last.missed_count,
                recent_coverage=fmean(recent),
                best_recent_coverage=max(recent),
            )
        )
    return out


def weakest_questions(attempts: Iterable[Attempt], limit: int = 5) -> list[QuestionStats]:
    """The weak questions (not mastered, see REVIEW_RULE), lowest last coverage first; ties broken by more
    points missed last time, then by lower recent coverage."""
    stats = [s for s in question_stats(attempts) if not s.mastered]
    stats.sort(key=lambda s: (s.last_coverage, -s.missed_last, s.recent_coverage, s.question_id))
    return stats[: max(0, limit)]


def review_interval(stats: QuestionStats) -> int | None:
    """Days until a question is due again after its last attempt (see REVIEW_RULE); None once mastered."""
    if stats.mastered:
        return None
    for below, days in REVIEW_BANDS:
        if stats.last_coverage < below:
            return days
    return LONGEST_INTERVAL_DAYS


def due_at(stats: QuestionStats) -> datetime | None:
    """When a question comes back (its last attempt plus its review interval); None once mastered."""
    days = review_interval(stats)
    return None if days is None else stats.last_at + timedelta(days=days)


def comes_back(stats: QuestionStats, now: datetime) -> str:
    """For the page: 'due now', 'comes back on <date>' (the date in `now`'s time zone) or 'mastered'."""
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    due = due_at(stats)
    if due is None:
        return "mastered"
    if due <= now:
        return "due now"
    return f"comes back on {due.astimezone(now.tzinfo).date().isoformat()}"


def weak_queue(
    attempts: Iterable[Attempt], now: datetime, include_upcoming: bool = False
) -> list[DueQuestion]:
    """The "my weak questions" queue by REVIEW_RULE: due questions, most missed points first.

    With `include_upcoming`, questions not yet due follow, soonest first.
    """
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    queue = []
    for stats in question_stats(attempts):
        days, when = review_interval(stats), due_at(stats)
        if days is not None and when is not None:
            queue.append(DueQuestion(stats, days, when, when <= now))
    due = sorted(
        (q for q in queue if q.is_due),
        key=lambda q: (-q.stats.missed_last, q.stats.last_coverage, q.due_at, q.question_id),
    )
    if not include_upcoming:
        return due
    return due + sorted((q for q in queue if not q.is_due), key=lambda q: (q.due_at, q.question_id))


def current_level(attempts: Iterable[Attempt]) -> str:
    """The highest bank level with a scored attempt (the first level for a new candidate)."""
    attempted = {a.level for a in scored(attempts)}
    return next((level for level in reversed(LEVELS) if level in attempted), LEVELS[0])


def level_up(attempts: Iterable[Attempt], level: str | None = None, track: str | None = None) -> LevelUp:
    """Whether to suggest the next level by LEVEL_UP_RULE, with each condition and the candidate's numbers."""
    pool = [a for a in scored(attempts) if track is None or a.track == track]
    level = level or current_level(pool)
    position = LEVELS.index(level) if level in LEVELS else None
    next_level = LEVELS[position + 1] if position is not None and position + 1 < len(LEVELS) else None
    best = [s.best_recent_coverage for s in question_stats(a for a in pool if a.level == level)]
    average = fmean(best) if best else None
    lowest = min(best) if best else None
    checks: tuple[RuleCheck, ...] = (
        RuleCheck(
            len(best) >= LEVEL_UP_MIN_QUESTIONS,
            f"{len(best)} of {LEVEL_UP_MIN_QUESTIONS} different {level} questions answered",
        ),
        RuleCheck(
            average is not None and average >= LEVEL_UP_MIN_AVERAGE,
            f"average best recent coverage {_shown(average)} (needs {LEVEL_UP_MIN_AVERAGE:.0f})",
        ),
        RuleCheck(
            lowest is not None and lowest >= LEVEL_UP_MIN_EACH,
            f"lowest question {_shown(lowest)} (needs {LEVEL_UP_MIN_EACH:.0f})",
        ),
    )
    if next_level is None:
        checks += (
            RuleCheck(False, f"{level} is the top level" if position is not None else "unknown level"),
        )
    return LevelUp(
        level=level,
        next_level=next_level,
        ready=all(c.met for c in checks),
        rule=LEVEL_UP_RULE,
        checks=checks,
        questions=len(best),
        average=average,
        lowest=lowest,
    )


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"
