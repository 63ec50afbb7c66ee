"""Quick-fire rounds: several short questions, each answered against a visible clock, one score at the end.

A round is a practice session (`sessions.start`): its answers are saved and judged by `sessions.save` and
`sessions.judge` like any other, so they show on Review and Progress. This module chooses the questions
(those of kind quick-fire), keeps each answer's clock, sums the round up, and puts a round in the page's
address and back (`link`, `restore`) so a reload carries on with it. The round's time limit and when each
question's clock started are stored (`Store.start_round`, `Store.start_clock`), never taken from the
address: a candidate who edits the link cannot give an answer more time. It never imports Streamlit.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from practice import sessions
from practice.bank import LEVELS, Bank, Kind, Question
from practice.storage import Attempt, Store, User

ANY = "any"  # a track or level left open
DEFAULT_COUNT, MAX_COUNT = 5, 10
DEFAULT_SECONDS, MIN_SECONDS, MAX_SECONDS = 45, 15, 180
# Said at the limit, an answer still needs the Submit click and the upload to reach the server.
GRACE_SECONDS = 5.0


class RoundError(ValueError):
    """A round that cannot start as asked; the message is one sentence for the page."""


class NotARoundError(sessions.RestoreError):
    """A link to a practice session that is not a quick-fire round: the Practice page opens it."""


def questions(bank: Bank, *, track: str = ANY, level: str = ANY) -> list[Question]:
    """The quick-fire questions of a track and level (every one left as ANY), in bank order."""
    return [
        q
        for q in bank
        if q.kind == Kind.quick_fire
        and (track == ANY or q.track == track)
        and (level == ANY or q.level == level)
    ]


def tracks(bank: Bank) -> list[str]:
    """The tracks that hold quick-fire questions, in bank order."""
    return list(dict.fromkeys(q.track for q in questions(bank)))


def levels(bank: Bank, track: str = ANY) -> list[str]:
    """The levels a track's quick-fire questions are at, easiest first."""
    present = {q.level for q in questions(bank, track=track)}
    return [level for level in LEVELS if level in present]


def choose(
    bank: Bank, *, track: str = ANY, level: str = ANY, count: int = DEFAULT_COUNT, seed: int | None = None
) -> list[Question]:
    """`count` quick-fire questions at random (all of them when fewer match); RoundError when none match."""
    pool = questions(bank, track=track, level=level)
    if not pool:
        raise RoundError("No quick-fire questions match: choose another track or level, or any.")
    return random.Random(seed).sample(pool, min(max(1, count), len(pool)))


@dataclass
class Round:
    """A quick-fire round: the practice session it saves into, and each question's clock."""

    plan: sessions.Plan
    seconds: int  # the time limit per answer, as stored when the round started
    shown_at: dict[str, datetime] = field(default_factory=dict)  # each question's clock start, as stored
    late: set[str] = field(default_factory=set)  # answered after the limit (and its grace)

    @property
    def current(self) -> str | None:
        return self.plan.current

    @property
    def finished(self) -> bool:
        return self.plan.finished

    def start_clock(self, store: Store, now: datetime) -> None:
        """The current question's clock starts the first time it is shown, and is stored then: one write
        per question, none on a rerun. A clock stored already (the question shown in another tab) is
        kept as it was. StorageError: the clock did not start."""
        if self.current is not None and self.current not in self.shown_at:
            clock = store.start_clock(self.plan.session_id, self.current, now)
            self.shown_at[self.current] = clock.shown_at

    def seconds_left(self, now: datetime) -> float:
        """Of the current question's time limit (negative once it has passed)."""
        started = self.shown_at.get(self.current or "", now)
        return self.seconds - (now - started).total_seconds()

    def over_time(self, question_id: str, saved_at: datetime) -> bool:
        """Whether an answer saved at `saved_at` came after its question's limit and the grace; never for a
        question whose clock has not started."""
        started = self.shown_at.get(question_id)
        return started is not None and (saved_at - started).total_seconds() > self.seconds + GRACE_SECONDS

    def answered(self, attempt: Attempt, now: datetime) -> None:
        """A judged answer to the current question: noted late if it came after the limit, then on to the
        next question. An answer that could not be judged (nothing heard) leaves the question open."""
        if attempt.question_id != self.current or attempt.status != "scored":
            return
        if self.over_time(attempt.question_id, now):
            self.late.add(attempt.question_id)
        self.plan.advance()

    def skip(self) -> None:
        self.plan.skip()

    def end(self) -> None:
        self.plan.end()


def start(store: Store, candidate: str, chosen: Sequence[Question], *, seconds: int) -> Round:
    """A round over `chosen`, saved as a practice session of `candidate` with its time limit; StorageError
    as sessions.start."""
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise RoundError(
            f"The time per answer must be {MIN_SECONDS} to {MAX_SECONDS} seconds, not {seconds}."
        )
    who = store.candidate(candidate)
    plan = sessions.Plan(who.name, store.start_round(who, seconds), [q.id for q in chosen])
    return Round(plan, seconds)


def is_round(store: Store, session_id: str) -> bool:
    """Whether a session was started as a quick-fire round (its answers belong on the Quick-fire page)."""
    return store.quick_fire_round(session_id) is not None


# --- a round in the page's address, so a reload or a reopened tab carries on with it -------------------

_NOT_A_ROUND = "This page's link is to a practice session, not a quick-fire round: open it on Practice."


def link(game: Round) -> dict[str, str]:
    """The query parameters that resume `game` (see `restore`): its session's (`sessions.link`) and
    nothing else. Its time limit and clocks are stored, so nothing in the address can change them."""
    return sessions.link(game.plan)


def restore(store: Store, bank: Bank, params: Mapping[str, str], *, user: User) -> Round:
    """The round a `link()` describes: its session as `sessions.restore` gives it back (saved answers, on
    the first question still open, or ended), with the time limit and each question's clock as stored,
    so the current one runs on, and the answers saved after their limit marked late again. The limit and
    clocks an older link carried (`seconds`, `shown`) are ignored. A session `user` may not open is
    refused as if unknown (`sessions.restore`): sessions.RestoreError (one sentence); a plain practice
    session is NotARoundError."""
    plan = sessions.restore(store, bank, params, user=user)
    timing = store.quick_fire_round(plan.session_id)
    if timing is None:
        raise NotARoundError(_NOT_A_ROUND)
    shown = {q: t for q in plan.question_ids if (t := timing.shown_at(q)) is not None}
    game = Round(plan, timing.seconds, shown)
    for qid in plan.question_ids:  # the answer that moved the round on is its question's first judged one
        judged = next((a for a in plan.tries.get(qid, []) if a.status == "scored"), None)
        if judged is not None and game.over_time(qid, judged.created_at):
            game.late.add(qid)
    return game


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    question: str
    coverage: float | None  # None: not answered (skipped, or the round ended first)
    covered: tuple[str, ...] = ()  # key points, as the scorer (or a coach) decided them
    partial: tuple[str, ...] = ()
    missed: tuple[str, ...] = ()
    late: bool = False
    skipped: bool = False


@dataclass(frozen=True)
class RoundResult:
    questions: tuple[QuestionResult, ...]

    @property
    def score(self) -> float:
        """The round's one score, 0-100: the mean coverage over every question asked, an unanswered one
        counting 0, so skipping does not raise it."""
        if not self.questions:
            return 0.0
        return sum(q.coverage or 0.0 for q in self.questions) / len(self.questions)

    @property
    def answered(self) -> int:
        return sum(q.coverage is not None for q in self.questions)

    @property
    def in_time(self) -> int:
        return sum(q.coverage is not None and not q.late for q in self.questions)


def result(game: Round, bank: Bank) -> RoundResult:
    """Each question of the round with its last judged answer's coverage and key points."""
    rows = []
    for qid in game.plan.question_ids:
        text = bank.questions[qid].question if qid in bank.questions else qid
        scored = [a for a in game.plan.tries.get(qid, []) if a.status == "scored"]
        if not scored:
            rows.append(QuestionResult(qid, text, None, skipped=qid in game.plan.skipped))
            continue
        last = scored[-1]
        by_status: dict[str | None, list[str]] = {"covered": [], "partial": [], "missed": []}
        for point, status in zip(last.key_points, last.key_point_statuses(), strict=False):
            by_status.setdefault(status, []).append(point.key_point.text)
        rows.append(
            QuestionResult(
                qid,
                text,
                last.effective_coverage,
                tuple(by_status["covered"]),
                tuple(by_status["partial"]),
                tuple(by_status["missed"]),
                late=qid in game.late,
            )
        )
    return RoundResult(tuple(rows))
