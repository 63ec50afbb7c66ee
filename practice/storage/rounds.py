"""Quick-fire rounds as stored: a session's time limit per answer and when each question's clock started.

A session with a row in `quickfire_rounds` is a quick-fire round. Its limit and clocks live here rather
than in the page's address, so a reload carries on with them and an edited link cannot give an answer
more time (or make an answer given late look in time). `Store.start_round`, `Store.quick_fire_round`
and `Store.start_clock` call these; `owndata` exports and deletes them with the candidate's sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from practice.storage.errors import NotFoundError
from practice.storage.records import as_utc
from practice.storage.schema import quickfire_clocks_table, quickfire_rounds_table

MAX_QUESTION_ID_LENGTH = 200


@dataclass(frozen=True)
class QuestionClock:
    """When a question of a round was first shown: its answer's clock started then."""

    question_id: str
    shown_at: datetime


@dataclass(frozen=True)
class RoundTiming:
    """A quick-fire round's time limit per answer and the clocks started so far, earliest first."""

    session_id: str
    seconds: int
    clocks: tuple[QuestionClock, ...] = ()

    def shown_at(self, question_id: str) -> datetime | None:
        return next((c.shown_at for c in self.clocks if c.question_id == question_id), None)


def seconds_value(seconds: object) -> int:
    """A time limit as stored: a whole, positive number of seconds (the page's range is quickfire's)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        raise ValueError(f"A round's time limit is a positive whole number of seconds, not {seconds!r}.")
    return seconds


def add_round(conn: Connection, session_id: str, seconds: int) -> None:
    r = quickfire_rounds_table
    conn.execute(sa.insert(r).values(session_id=session_id, seconds=seconds_value(seconds)))


def load_round(conn: Connection, session_id: str) -> RoundTiming | None:
    """The round stored for a session; None for a plain practice session or no session at all."""
    r, c = quickfire_rounds_table, quickfire_clocks_table
    seconds = conn.scalar(sa.select(r.c.seconds).where(r.c.session_id == session_id))
    if seconds is None:
        return None
    rows = conn.execute(
        sa.select(c.c.question_id, c.c.shown_at)
        .where(c.c.session_id == session_id)
        .order_by(c.c.shown_at, c.c.question_id)
    ).all()
    clocks = tuple(QuestionClock(row.question_id, row.shown_at) for row in rows)
    return RoundTiming(session_id, int(seconds), clocks)


def start_clock(conn: Connection, session_id: str, question_id: str, at: datetime) -> QuestionClock:
    """Start a question's clock at `at` unless it has started: the first start is kept (a rerun, a reload
    or a second tab does not restart it). NotFoundError when the session is not a round."""
    if not isinstance(question_id, str) or not 0 < len(question_id) <= MAX_QUESTION_ID_LENGTH:
        raise ValueError("A question id is the bank's id of the question shown.")
    r, c = quickfire_rounds_table, quickfire_clocks_table
    if conn.scalar(sa.select(r.c.session_id).where(r.c.session_id == session_id)) is None:
        raise NotFoundError(f"No quick-fire round with session id {session_id}.")
    where = (c.c.session_id == session_id) & (c.c.question_id == question_id)
    shown = conn.scalar(sa.select(c.c.shown_at).where(where))
    if shown is None:
        try:
            with conn.begin_nested():  # another tab may show the same question at the same moment
                conn.execute(
                    sa.insert(c).values(session_id=session_id, question_id=question_id, shown_at=as_utc(at))
                )
        except sa_exc.IntegrityError:
            pass
        shown = conn.execute(sa.select(c.c.shown_at).where(where)).scalar_one()
    return QuestionClock(question_id, shown)
