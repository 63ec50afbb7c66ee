"""A candidate's own data: everything stored about them as one zip, and deleting all of it.

`Store.export_candidate` and `Store.delete_candidate` call these, each in a transaction of its own; who
may do either is `access.can_export` / `access.can_delete` (the candidate themselves, or an admin).

The zip holds `candidate.json` (a `CandidateExport`: the candidate, their account without its password
hash, their coaches, sessions (a quick-fire round's with its time limit and question clocks), and every
attempt typed as the app keeps it, with notes and overrides, written by the same pydantic codec as the
database's JSON) and each recording, as stored, in `recordings/` under the name its attempt gives
(`recordings/12.wav`).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.engine import Connection

from practice.storage import codec
from practice.storage.errors import NotFoundError
from practice.storage.records import Attempt, Candidate, Role, clean_name, utc_now
from practice.storage.rounds import RoundTiming, load_round
from practice.storage.rows import select_attempts
from practice.storage.schema import (
    assignments_table,
    attempts_table,
    candidates_table,
    login_failures_table,
    logins_table,
    notes_table,
    overrides_table,
    quickfire_clocks_table,
    quickfire_rounds_table,
    recordings_table,
    sessions_table,
    users_table,
)

EXPORT_FORMAT = "interview-practice candidate export, version 1"
DATA_FILE = "candidate.json"


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class PracticeSession:
    id: str
    started_at: datetime
    quick_fire: RoundTiming | None = None  # a quick-fire round's time limit and question clocks


@dataclass(frozen=True)
class ExportedAttempt:
    attempt: Attempt
    recording: str | None  # its file in the zip, None for a typed answer


@dataclass(frozen=True)
class CandidateExport:
    format: str
    exported_at: datetime
    candidate: Candidate
    account: Account | None  # None: practised without an account
    coaches: tuple[str, ...]
    sessions: tuple[PracticeSession, ...]
    attempts: tuple[ExportedAttempt, ...]  # newest first


@cache
def _export_adapter() -> TypeAdapter[CandidateExport]:
    """Made on the first export or import. An attempt's `score` is annotated with the scorer's `Score`, which
    records.py names only for type checkers (the scorer's module loads numpy); pydantic finds it here."""
    from practice.scoring.results import Score  # noqa: F401  (read by pydantic from this namespace)

    return TypeAdapter(CandidateExport)  # the codec's way: numpy numbers as numbers, NaN as null


def export_candidate(conn: Connection, name: str) -> bytes:
    """Everything stored about a candidate as zip bytes; NotFoundError for an unknown name."""
    cleaned = clean_name(name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        candidate = _require_candidate(conn, cleaned)
        attempts = select_attempts(conn, [attempts_table.c.candidate_id == candidate.id])
        exported = []
        r = recordings_table
        for attempt in attempts:
            row = conn.execute(sa.select(r.c.extension, r.c.data).where(r.c.attempt_id == attempt.id)).first()
            path = None
            if row is not None:
                path = f"recordings/{attempt.id}.{row.extension}"
                zf.writestr(path, bytes(row.data), compress_type=zipfile.ZIP_STORED)  # audio is compressed
            exported.append(ExportedAttempt(attempt, path))
        record = CandidateExport(
            format=EXPORT_FORMAT,
            exported_at=utc_now(),
            candidate=candidate,
            account=_account(conn, candidate),
            coaches=_coaches(conn, candidate),
            sessions=_sessions(conn, candidate),
            attempts=tuple(exported),
        )
        data = codec._json(_export_adapter(), record)
        zf.writestr(DATA_FILE, json.dumps(data, indent=2, ensure_ascii=False))
    return buffer.getvalue()


def read_export(data: bytes) -> CandidateExport:
    """The `candidate.json` of an export, typed again (for tests and for reading an export back)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return _export_adapter().validate_json(zf.read(DATA_FILE))


def delete_candidate(conn: Connection, name: str) -> int:
    """Delete a candidate and everything about them (on `conn`, so all or nothing); returns how many
    attempts went.

    Their sessions (quick-fire rounds with their clocks), attempts, recordings, notes, overrides, coach
    assignments, their candidate account with its logins, and the count of wrong passwords for their name.
    An account of another role with the same name (a coach who practised) stays.
    """
    cleaned = clean_name(name)
    candidate = _require_candidate(conn, cleaned)
    ids = sa.select(attempts_table.c.id).where(attempts_table.c.candidate_id == candidate.id)
    for table in (overrides_table, notes_table, recordings_table):
        conn.execute(sa.delete(table).where(table.c.attempt_id.in_(ids)))
    removed = conn.execute(sa.delete(attempts_table).where(attempts_table.c.candidate_id == candidate.id))
    theirs = sa.select(sessions_table.c.id).where(sessions_table.c.candidate_id == candidate.id)
    for table in (quickfire_clocks_table, quickfire_rounds_table):
        conn.execute(sa.delete(table).where(table.c.session_id.in_(theirs)))
    conn.execute(sa.delete(sessions_table).where(sessions_table.c.candidate_id == candidate.id))
    conn.execute(sa.delete(assignments_table).where(assignments_table.c.candidate_id == candidate.id))
    u = users_table
    key = cleaned.casefold()
    account = conn.execute(sa.select(u.c.id, u.c.role).where(u.c.name_key == key)).first()
    if account is not None and account.role == Role.CANDIDATE:
        conn.execute(sa.delete(logins_table).where(logins_table.c.user_id == account.id))
        conn.execute(sa.delete(u).where(u.c.id == account.id))
    if account is None or account.role == Role.CANDIDATE:
        conn.execute(sa.delete(login_failures_table).where(login_failures_table.c.name_key == key))
    conn.execute(sa.delete(candidates_table).where(candidates_table.c.id == candidate.id))
    return int(removed.rowcount or 0)


def _require_candidate(conn: Connection, cleaned: str) -> Candidate:
    c = candidates_table
    row = conn.execute(sa.select(c).where(c.c.name_key == cleaned.casefold())).first()
    if row is None:
        raise NotFoundError(f"No candidate named {cleaned}.")
    return Candidate(row.id, row.name, row.created_at)


def _account(conn: Connection, candidate: Candidate) -> Account | None:
    u = users_table
    row = conn.execute(
        sa.select(u.c.name, u.c.role, u.c.created_at).where(
            u.c.name_key == candidate.name.casefold(), u.c.role == Role.CANDIDATE.value
        )
    ).first()
    return None if row is None else Account(row.name, Role(row.role), row.created_at)


def _coaches(conn: Connection, candidate: Candidate) -> tuple[str, ...]:
    u, a = users_table, assignments_table
    rows: sa.ScalarResult[str] = conn.scalars(
        sa.select(u.c.name)
        .join(a, a.c.coach_id == u.c.id)
        .where(a.c.candidate_id == candidate.id)
        .order_by(u.c.name_key)
    )
    return tuple(rows)


def _sessions(conn: Connection, candidate: Candidate) -> tuple[PracticeSession, ...]:
    s = sessions_table
    rows: Any = conn.execute(
        sa.select(s.c.id, s.c.started_at).where(s.c.candidate_id == candidate.id).order_by(s.c.started_at)
    )
    return tuple(PracticeSession(r.id, r.started_at, load_round(conn, r.id)) for r in rows)
