"""Attempt rows read back into `Attempt`s, with their coach's notes and key-point overrides.

The store reads every attempt through `select_attempts` (and `load_attempts` by id), and so does a
candidate's export (storage.owndata), so both hand back the same Attempt for the same row.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from practice.storage import codec
from practice.storage.records import KEY_POINT_STATUSES, Attempt, Candidate, KeyPointOverride, Note
from practice.storage.schema import attempts_table, candidates_table, notes_table, overrides_table


def select_attempts(conn: Connection, conditions: list[Any], limit: int | None = None) -> list[Attempt]:
    """Attempts matching `conditions`, newest first, with their notes and overrides."""
    a, c = attempts_table, candidates_table
    stmt = sa.select(a, c.c.name.label("candidate_name"), c.c.created_at.label("candidate_created_at"))
    stmt = stmt.join(c, a.c.candidate_id == c.c.id).where(*conditions)
    stmt = stmt.order_by(a.c.created_at.desc(), a.c.id.desc())
    if limit is not None:
        stmt = stmt.limit(max(0, int(limit)))
    rows = conn.execute(stmt).all()
    ids = [r.id for r in rows]
    notes: dict[int, list[Note]] = {i: [] for i in ids}
    overrides: dict[int, list[KeyPointOverride]] = {i: [] for i in ids}
    n, o = notes_table, overrides_table
    for chunk in _chunks(ids):
        for r in conn.execute(sa.select(n).where(n.c.attempt_id.in_(chunk)).order_by(n.c.created_at, n.c.id)):
            notes[r.attempt_id].append(Note(r.id, r.attempt_id, r.author, r.text, r.created_at))
        for r in conn.execute(sa.select(o).where(o.c.attempt_id.in_(chunk)).order_by(o.c.key_point_index)):
            if r.status in KEY_POINT_STATUSES:
                overrides[r.attempt_id].append(
                    KeyPointOverride(r.attempt_id, r.key_point_index, r.status, r.author, r.created_at)
                )
    return [_attempt(r, tuple(notes[r.id]), tuple(overrides[r.id])) for r in rows]


def load_attempts(conn: Connection, ids: list[int]) -> list[Attempt]:
    """The attempts with these ids, newest first."""
    return select_attempts(conn, [attempts_table.c.id.in_(ids)])


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _attempt(r: Any, notes: tuple[Note, ...], overrides: tuple[KeyPointOverride, ...]) -> Attempt:
    return Attempt(
        id=r.id,
        candidate=Candidate(r.candidate_id, r.candidate_name, r.candidate_created_at),
        question_id=r.question_id,
        track=r.track,
        level=r.level,
        topic=r.topic,
        session_id=r.session_id,
        created_at=r.created_at,
        answer_mode=r.answer_mode,
        answer_text=r.answer_text or "",
        transcript=codec.load_transcript(r.transcript),
        score=codec.load_score(r.score),
        coverage=r.coverage if r.coverage is None or math.isfinite(r.coverage) else None,
        delivery=codec.load_delivery(r.delivery),
        status=r.status,
        error=r.error,
        has_audio=bool(r.has_audio),
        coach_coverage=r.coach_coverage,
        notes=notes,
        question=r.question or "",
        coach_coverage_by=r.coach_coverage_by,
        coach_coverage_at=r.coach_coverage_at,
        overrides=overrides,
    )
