"""Who may see, review, export and delete what: every access rule of the app, in one place.

- A candidate sees only their own attempts (the candidate record with their name), and may export or
  delete all of it.
- A coach sees and reviews the candidates assigned to them (`Accounts.assign`), nobody else; a coach
  exports attempts with the Review page's Markdown and CSV, but neither takes a candidate's whole
  record (`can_export`) nor deletes it.
- An admin sees, reviews, exports and deletes everyone's.

With logins off (`accounts.login_required()` False) the pages pass `accounts.LOCAL_USER`, an admin.

A page asks before it shows or does anything, and filters what it lists:

    names = [c.name for c in access.visible_candidates(store, user)]
    chosen = access.visible_attempts(store, user, candidate=name, track=track)
    access.require(access.can_open_attempt(store, user, attempt_id))   # an id from the address or a widget
    audio = store.audio(attempt_id)

An attempt or session id that does not exist is refused like one of another candidate's, so ids cannot
be used to find out what exists.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from practice.storage.errors import AccessDenied
from practice.storage.records import Attempt, Candidate, Role, User
from practice.storage.schema import assignments_table, attempts_table, candidates_table, sessions_table
from practice.storage.store import Store

NO_ACCESS = "You do not have access to that: ask your coach or the server's admin."


def require(allowed: bool, message: str = NO_ACCESS) -> None:
    """AccessDenied (one sentence) unless `allowed`: `require(can_open_attempt(store, user, id))`."""
    if not allowed:
        raise AccessDenied(message)


def visible_candidates(store: Store, user: User) -> list[Candidate]:
    """The candidates `user` may see, by name: themselves, their assigned ones, or everyone."""
    c = candidates_table
    with store.transaction("read the candidates", write=False) as conn:
        rows = conn.execute(sa.select(c).where(*_visible(conn, user)).order_by(c.c.name_key)).all()
    return [Candidate(r.id, r.name, r.created_at) for r in rows]


def visible_attempts(store: Store, user: User, **filters: Any) -> list[Attempt]:
    """`Store.attempts(**filters)` limited to the candidates `user` may see (filtered in the query)."""
    if user.role == Role.ADMIN:
        return store.attempts(**filters)
    ids = [c.id for c in visible_candidates(store, user)]
    return store.attempts(**filters, candidate_ids=ids) if ids else []


def can_see(store: Store, user: User, candidate: Candidate | str) -> bool:
    """Whether `user` may see that candidate's attempts, recordings, notes and progress."""
    if user.role == Role.ADMIN or _is_self(user, candidate):
        return True
    return user.role == Role.COACH and _coach_has(store, user, candidate)


def can_review(store: Store, user: User, candidate: Candidate | str) -> bool:
    """Whether `user` may write notes and overrides on that candidate's attempts: their coach, an admin."""
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.COACH and _coach_has(store, user, candidate)


def can_export(user: User, candidate: Candidate | str) -> bool:
    """Whether `user` may download everything stored about that candidate (`Store.export_candidate`)."""
    return user.role == Role.ADMIN or (user.role == Role.CANDIDATE and _is_self(user, candidate))


def can_delete(user: User, candidate: Candidate | str) -> bool:
    """Whether `user` may delete that candidate and all their data (`Store.delete_candidate`)."""
    return user.role == Role.ADMIN or (user.role == Role.CANDIDATE and _is_self(user, candidate))


def can_open_attempt(store: Store, user: User, attempt_id: Any) -> bool:
    """Whether `user` may open that attempt (its page, recording or notes); False for an unknown id."""
    if not isinstance(attempt_id, int) or isinstance(attempt_id, bool):
        return False
    a = attempts_table
    with store.transaction("read the attempt", write=False) as conn:
        owner = conn.scalar(sa.select(a.c.candidate_id).where(a.c.id == attempt_id))
        return owner is not None and _sees_id(conn, user, owner)


def can_open_session(store: Store, user: User, session_id: Any) -> bool:
    """Whether `user` may open (resume, summarise, export) that session; False for an unknown id."""
    if not isinstance(session_id, str) or not 0 < len(session_id) <= 36:
        return False
    s = sessions_table
    with store.transaction("read the session", write=False) as conn:
        owner = conn.scalar(sa.select(s.c.candidate_id).where(s.c.id == session_id))
        return owner is not None and _sees_id(conn, user, owner)


def _visible(conn: Connection, user: User) -> list[Any]:
    """Conditions on the candidates table that leave only those `user` may see."""
    c, a = candidates_table, assignments_table
    if user.role == Role.ADMIN:
        return []
    if user.role == Role.CANDIDATE:
        return [c.c.name_key == _key(user.name)]
    if user.role == Role.COACH:
        return [c.c.id.in_(sa.select(a.c.candidate_id).where(a.c.coach_id == user.id))]
    return [sa.false()]


def _sees_id(conn: Connection, user: User, candidate_id: int) -> bool:
    c = candidates_table
    where = _visible(conn, user)
    found = conn.scalar(sa.select(sa.func.count()).select_from(c).where(c.c.id == candidate_id, *where))
    return bool(found)


def _coach_has(store: Store, user: User, candidate: Candidate | str) -> bool:
    c, a = candidates_table, assignments_table
    with store.transaction("read the assignments", write=False) as conn:
        found = conn.scalar(
            sa.select(sa.func.count())
            .select_from(a)
            .join(c, c.c.id == a.c.candidate_id)
            .where(a.c.coach_id == user.id, c.c.name_key == _key(candidate))
        )
    return bool(found)


def _is_self(user: User, candidate: Candidate | str) -> bool:
    return user.role == Role.CANDIDATE and _key(user.name) == _key(candidate)


def _key(name: Candidate | str) -> str:
    text = name.name if isinstance(name, Candidate) else str(name)
    return " ".join(text.split()).casefold()
