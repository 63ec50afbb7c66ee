from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import count

import pytest

from practice import progress
from practice.bank import KeyPoint
from practice.progress import (
    LEVEL_UP_RULE,
    REVIEW_RULE,
    by_level,
    by_topic,
    coverage_series,
    current_level,
    daily_coverage,
    level_up,
    question_stats,
    weak_queue,
    weakest_questions,
)
from practice.scoring.results import KeyPointResult, Score
from practice.storage import Attempt, Candidate, KeyPointOverride

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
ANA = Candidate(1, "Ana", T0)
_ids = count(1)


def attempt(
    qid: str,
    coverage: float | None,
    at: datetime = T0,
    *,
    level: str = "basic",
    topic: str = "theory",
    track: str = "ml",
    statuses: tuple[str, ...] = ("covered", "covered"),
    coach_coverage: float | None = None,
    overrides: tuple[tuple[int, str], ...] = (),
    question: str = "",
) -> Attempt:
    attempt_id = next(_ids)
    score = None
    if coverage is not None:
        points = tuple(
            KeyPointResult(KeyPoint(f"p{i}"), s, 0.5, 0.5, None)  # type: ignore[arg-type]
            for i, s in enumerate(statuses)
        )
        score = Score(qid, coverage, points, word_count=10)
    return Attempt(
        id=attempt_id,
        candidate=ANA,
        question_id=qid,
        track=track,
        level=level,
        topic=topic,
        session_id=None,
        created_at=at,
        answer_mode="typed",
        answer_text="answer",
        transcript=None,
        score=score,
        coverage=coverage,
        delivery=None,
        status="scored" if coverage is not None else "recorded",
        error=None,
        has_audio=False,
        coach_coverage=coach_coverage,
        overrides=tuple(KeyPointOverride(attempt_id, i, s, "Sam", at) for i, s in overrides),  # type: ignore[arg-type]
        question=question,
    )


def days(n: float) -> datetime:
    return T0 + timedelta(days=n)


# --- aggregates -----------------------------------------------------------------------------------------


def test_averages_per_level_and_topic_use_effective_coverage() -> None:
    attempts = [
        attempt("a", 40, days(0), level="intermediate", topic="nlp"),
        attempt("a", 60, days(1), level="intermediate", topic="nlp"),
        attempt("b", 30, days(2), level="basic", topic="theory", coach_coverage=90),  # the coach's 90 counts
        attempt("c", 70, days(3), level="basic", topic="nlp"),
        attempt("d", None, days(4), level="expert", topic="rl"),  # not scored: left out
    ]
    levels = by_level(attempts)
    assert [g.name for g in levels] == ["basic", "intermediate"]  # bank order, not alphabetical
    basic, intermediate = levels
    assert (basic.attempts, basic.questions, basic.average_coverage) == (2, 2, 80.0)
    assert (intermediate.attempts, intermediate.questions, intermediate.average_coverage) == (2, 1, 50.0)

    topics = {g.name: g for g in by_topic(attempts)}
    assert set(topics) == {"nlp", "theory"}
    assert topics["nlp"].average_coverage == pytest.approx((40 + 60 + 70) / 3)
    assert topics["theory"].average_coverage == 90.0


def test_key_point_overrides_move_the_coverage_used() -> None:
    flipped = attempt("a", 50, statuses=("covered", "missed"), overrides=((1, "covered"),))
    assert flipped.effective_coverage == 100.0
    assert by_level([flipped])[0].average_coverage == 100.0


def test_series_is_chronological_and_daily_points_average() -> None:
    late = attempt("b", 80, days(1) + timedelta(hours=3))
    early = attempt("a", 20, days(0))
    same_day = attempt("c", 40, days(0) + timedelta(hours=5))
    series = coverage_series([late, early, same_day, attempt("x", None, days(2))])
    assert [(p.question_id, p.coverage) for p in series] == [("a", 20), ("c", 40), ("b", 80)]
    daily = daily_coverage([late, early, same_day])
    assert [(d.day, d.average_coverage, d.attempts) for d in daily] == [
        (date(2025, 5, 1), 30.0, 2),
        (date(2025, 5, 2), 80.0, 1),
    ]


def test_question_stats_use_the_last_three_attempts() -> None:
    history = [
        attempt("a", c, days(i), statuses=("covered", "missed")) for i, c in enumerate([95, 10, 20, 30])
    ]
    history.append(attempt("a", 60, days(5), statuses=("missed", "missed", "partial")))
    [stats] = question_stats(history)
    assert stats.attempts == 5
    assert stats.last_coverage == 60 and stats.missed_last == 2
    assert stats.recent_coverage == pytest.approx((20 + 30 + 60) / 3)  # the early 95 is no longer recent
    assert stats.best_recent_coverage == 60


def test_weakest_questions_lowest_last_first_then_most_missed() -> None:
    attempts = [
        attempt("strong", 90, days(0)),
        attempt("weak", 20, days(0), statuses=("missed", "covered")),
        attempt("weaker-tie", 20, days(1), statuses=("missed", "missed")),
        attempt("middle", 70, days(0)),
        attempt("middle", 30, days(2)),  # recent mean 50
    ]
    weakest = weakest_questions(attempts, limit=3)
    assert [s.question_id for s in weakest] == ["weaker-tie", "weak", "middle"]
    assert [s.missed_last for s in weakest] == [2, 1, 0]
    assert len(weakest_questions(attempts, limit=10)) == 3  # "strong" is mastered: not a weak question


def test_weakest_questions_are_only_the_weak_ones_weakest_first() -> None:
    attempts = [
        attempt("now-mastered", 0, days(0), statuses=("missed", "missed")),
        attempt("now-mastered", 0, days(1), statuses=("missed", "missed")),
        attempt("now-mastered", 100, days(2)),  # a recent mean of 33, but mastered now: not weak
        attempt("high-but-missed", 95, days(2), statuses=("covered", "missed")),
        attempt("forty", 40, days(2), statuses=("covered", "missed")),
        attempt("seventy", 70, days(2), statuses=("covered", "partial")),
    ]
    weakest = weakest_questions(attempts)
    assert [s.question_id for s in weakest] == ["forty", "seventy", "high-but-missed"]
    assert [round(s.last_coverage) for s in weakest] == [40, 70, 95]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (days(0.5), "comes back on 2025-05-02"),
        (days(1), "due now"),  # on the dot
        (days(40), "due now"),
        (days(0.5).astimezone(timezone(timedelta(hours=14))), "comes back on 2025-05-03"),  # the local date
    ],
)
def test_a_weak_question_says_when_it_comes_back(now: datetime, expected: str) -> None:
    [stats] = question_stats([attempt("q", 40, statuses=("covered", "missed"), question="What is <b>x</b>?")])
    assert stats.question == "What is <b>x</b>?"  # the wording asked, for the page to show (escaped)
    assert progress.due_at(stats) == days(1)
    assert progress.comes_back(stats, now) == expected


def test_a_mastered_question_does_not_come_back() -> None:
    [stats] = question_stats([attempt("q", 90)])
    assert progress.due_at(stats) is None and progress.comes_back(stats, days(1)) == "mastered"


# --- weak queue -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coverage", "statuses", "interval"),
    [
        (0, ("missed", "missed"), 1),
        (49.9, ("covered", "missed"), 1),
        (50, ("covered", "missed"), 3),
        (64.9, ("covered", "missed"), 3),
        (65, ("covered", "missed"), 7),
        (95, ("covered", "missed"), 7),  # high coverage but a missed point: not mastered
        (79.9, ("covered", "partial"), 7),  # nothing missed but under 80: not mastered
        (80, ("covered", "partial"), None),  # mastered: leaves the queue
    ],
)
def test_review_interval_grows_with_coverage(
    coverage: float, statuses: tuple[str, ...], interval: int | None
) -> None:
    attempts = [attempt("q", coverage, T0, statuses=statuses)]
    queue = weak_queue(attempts, now=days(30), include_upcoming=True)
    if interval is None:
        assert queue == []
        return
    [item] = queue
    assert item.interval_days == interval
    assert item.due_at == days(interval)
    assert [q.question_id for q in weak_queue(attempts, now=days(interval))] == ["q"]  # due on the dot
    assert weak_queue(attempts, now=days(interval) - timedelta(seconds=1)) == []


def test_queue_puts_most_missed_first_and_follows_the_last_attempt() -> None:
    attempts = [
        attempt("one-missed", 30, days(0), statuses=("covered", "missed", "covered")),
        attempt("two-missed", 60, days(0), statuses=("missed", "missed", "covered")),
        attempt("no-missed", 70, days(0), statuses=("partial", "partial", "covered")),
        attempt("improved", 10, days(0), statuses=("missed", "missed", "missed")),
        attempt("improved", 90, days(1), statuses=("covered", "covered", "covered")),  # mastered now
        attempt("recent", 20, days(9), statuses=("missed", "missed", "missed")),  # due on day 10
    ]
    now = days(8)
    due = weak_queue(attempts, now=now)
    assert [q.question_id for q in due] == ["two-missed", "one-missed", "no-missed"]
    assert all(q.is_due for q in due)
    everything = weak_queue(attempts, now=now, include_upcoming=True)
    assert [q.question_id for q in everything][-1] == "recent" and not everything[-1].is_due
    assert "after 1 day" in REVIEW_RULE and "80" in REVIEW_RULE


def test_a_coach_override_can_master_or_reopen_a_question() -> None:
    reopened = attempt("q1", 90, statuses=("covered", "covered"), overrides=((0, "missed"),))
    mastered = attempt("q2", 60, statuses=("covered", "missed"), overrides=((1, "covered"),))
    queue = weak_queue([reopened, mastered], now=days(30))
    assert [q.question_id for q in queue] == ["q1"]
    assert queue[0].stats.missed_last == 1


# --- level up -------------------------------------------------------------------------------------------


def _level_history(best: list[float], level: str = "basic") -> list:
    return [attempt(f"{level}-{i}", c, days(i), level=level) for i, c in enumerate(best)]


def test_level_up_when_every_condition_holds() -> None:
    result = level_up(_level_history([75, 75, 75, 75, 75]))
    assert (result.level, result.next_level, result.ready) == ("basic", "intermediate", True)
    assert (result.questions, result.average, result.lowest) == (5, 75.0, 75.0)
    assert result.rule == LEVEL_UP_RULE and all(c.met for c in result.checks)


@pytest.mark.parametrize(
    ("best", "failing"),
    [
        ([90, 90, 90, 90], 0),  # only four questions
        ([75, 75, 75, 75, 74], 1),  # average 74.8
        ([100, 100, 100, 100, 49.9], 2),  # average 89.98 but one question below 50
    ],
)
def test_level_up_refused_when_a_condition_fails(best: list[float], failing: int) -> None:
    result = level_up(_level_history(best))
    assert not result.ready and result.next_level == "intermediate"
    assert [c.met for c in result.checks] == [i != failing for i in range(3)]
    assert ("different basic questions" in result.checks[0].text) and "needs 75" in result.checks[1].text


def test_level_up_counts_each_questions_best_recent_attempt() -> None:
    history = _level_history([80, 80, 80, 80])
    history += [attempt("late", 30, days(10)), attempt("late", 85, days(11)), attempt("late", 40, days(12))]
    assert level_up(history).ready  # "late" counts at its best recent, 85
    history += [attempt("late", 45, days(13)), attempt("late", 48, days(14))]  # the 85 is no longer recent
    result = level_up(history)
    assert not result.ready and result.lowest == 48


def test_level_up_other_levels_tracks_and_the_top() -> None:
    mixed = _level_history([90] * 5, level="intermediate") + _level_history([20] * 5, level="basic")
    assert current_level(mixed) == "intermediate"
    assert level_up(mixed).ready and level_up(mixed).next_level == "advanced"
    assert not level_up(mixed, level="basic").ready

    other_track = [attempt(f"g{i}", 90, days(i), track="genai") for i in range(5)]
    assert level_up(other_track).ready
    assert not level_up(other_track, track="ml").ready

    top = level_up(_level_history([95] * 5, level="expert"))
    assert top.next_level is None and not top.ready
    assert "top level" in top.checks[-1].text
    assert current_level([]) == "basic" and level_up([]).checks[1].text.startswith(
        "average best recent coverage n/a"
    )
