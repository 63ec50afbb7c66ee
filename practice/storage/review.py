"""A coach's review written one part at a time (a note, a key point's status, the coach's coverage), each
inside the one transaction of `Store.save_review`, `Store.edit_note` or `Store.delete_note`.
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from practice.storage.errors import NotFoundError
from practice.storage.records import KEY_POINT_STATUSES, Attempt, KeyPointStatus, utc_now
from practice.storage.schema import attempts_table, notes_table, overrides_table


def coverage_value(value: Any, what: str) -> float | None:
    """A coverage (the scorer's or a coach's) as a number from 0 to 100; None stays None."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a number from 0 to 100, not {value!r}.") from exc
    if not math.isfinite(number) or not 0.0 <= number <= 100.0:
        raise ValueError(f"{what} must be a number from 0 to 100, not {value!r}.")
    return number


def note_text(text: str) -> str:
    """A note's text trimmed; a ValueError if nothing is left."""
    body = str(text or "").strip()
    if not body:
        raise ValueError("The note is empty.")
    return body


def note_attempt(conn: Connection, note_id: int) -> int:
    """The id of the attempt a note belongs to; NotFoundError if there is no such note."""
    attempt_id = conn.scalar(sa.select(notes_table.c.attempt_id).where(notes_table.c.id == note_id))
    if attempt_id is None:
        raise NotFoundError(f"No note with id {note_id}.")
    return attempt_id


def add_note(conn: Connection, attempt_id: int, text: str, who: str) -> None:
    body = note_text(text)
    conn.execute(
        sa.insert(notes_table).values(attempt_id=attempt_id, author=who, text=body, created_at=utc_now())
    )


def override_key_point(
    conn: Connection, attempt: Attempt, index: int, status: KeyPointStatus | None, who: str
) -> None:
    """Set the coach's status for key point `index` (0-based); None clears it."""
    if status is not None and status not in KEY_POINT_STATUSES:
        raise ValueError(f"Unknown status '{status}' (expected one of {', '.join(KEY_POINT_STATUSES)}).")
    points = len(attempt.key_points)
    if not isinstance(index, int) or not 0 <= index < points:
        raise ValueError(
            f"Attempt {attempt.id} has no key point {index}"
            + (f" (it has {points})." if points else ": it has not been scored yet.")
        )
    o = overrides_table
    where = sa.and_(o.c.attempt_id == attempt.id, o.c.key_point_index == index)
    conn.execute(sa.delete(o).where(where))
    if status is not None:
        conn.execute(
            sa.insert(o).values(
                attempt_id=attempt.id, key_point_index=index, status=status, author=who, created_at=utc_now()
            )
        )


def override_coverage(conn: Connection, attempt_id: int, coverage: float | None, who: str) -> None:
    """Set the coach's coverage (0-100) beside the automatic one; None clears it."""
    value = coverage_value(coverage, "The coach's coverage")
    conn.execute(
        sa.update(attempts_table)
        .where(attempts_table.c.id == attempt_id)
        .values(
            coach_coverage=value,
            coach_coverage_by=who if value is not None else None,
            coach_coverage_at=utc_now() if value is not None else None,
        )
    )
