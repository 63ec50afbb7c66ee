"""Every attempt kept: candidates, attempts, their audio and coach review, in SQLite or a shared PostgreSQL.

One `Store` per process, shared by all browser sessions: the engine is thread-safe and holds no other
state. An attempt and its audio are written in one transaction *before* scoring, so a failed scorer
leaves the recording and transcript behind to be re-scored (the review page's "Score again"). A coach's
review (note, key-point overrides, coverage) is saved in one transaction too (`Store.save_review`), and a
note is edited or deleted in one (`Store.edit_note`, `Store.delete_note`), and so is deleting a
candidate with everything about them (`Store.delete_candidate`; `Store.export_candidate` is the zip of it).

`open_store` (storage.engine) makes the Store; in every transaction, driver errors become one
`StorageError` sentence (`errors.guard`), with the database URL's password hidden.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from practice.scoring.delivery import Delivery
from practice.storage import codec, owndata, rounds
from practice.storage.errors import NotFoundError, guard
from practice.storage.records import (
    ANSWER_MODES,
    AnswerMode,
    Attempt,
    AttemptStatus,
    Candidate,
    KeyPointStatus,
    QuestionLike,
    as_utc,
    clean_name,
    utc_now,
)
from practice.storage.review import (
    add_note,
    coverage_value,
    note_attempt,
    note_text,
    override_coverage,
    override_key_point,
)
from practice.storage.rounds import QuestionClock, RoundTiming
from practice.storage.rows import load_attempts, select_attempts
from practice.storage.schema import (
    attempts_table,
    candidates_table,
    notes_table,
    recordings_table,
    sessions_table,
)
from practice.transcript import Transcript

if TYPE_CHECKING:
    from practice.scoring.results import Score

_AUDIO_EXTENSIONS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/flac": "flac",
    "audio/aac": "aac",
}


# --- helpers --------------------------------------------------------------------------------------------


def _since(value: datetime | date) -> datetime:
    """A date means from the start of that UTC day."""
    return as_utc(value) if isinstance(value, datetime) else datetime.combine(value, time.min, tzinfo=UTC)


def _until(column: Any, value: datetime | date) -> Any:
    """A date means up to the end of that UTC day."""
    if isinstance(value, datetime):
        return column <= as_utc(value)
    return column < datetime.combine(value, time.min, tzinfo=UTC) + timedelta(days=1)


class _Unchanged(Enum):
    """Store.save_review's `coverage` when left out: the coach's coverage stays as saved."""

    UNCHANGED = "unchanged"


_UNCHANGED = _Unchanged.UNCHANGED


# --- the store ------------------------------------------------------------------------------------------


class Store:
    """All reads and writes of attempts. Thread-safe: share one per process across browser sessions."""

    def __init__(self, engine: Engine, url: str):
        self.engine = engine
        self.url = url  # password hidden; for messages and the settings page

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, action: str, *, write: bool = True) -> Iterator[Connection]:
        """One connection in one transaction, for the storage package's other modules (accounts, access,
        owndata) as for the store: a driver error becomes a StorageError naming `action`; `write` takes
        SQLite's write lock at the start (see engine._configure_sqlite)."""
        with guard(action, self.url), self.engine.connect() as conn:
            if write:
                conn.execution_options(practice_write=True)
            with conn.begin():
                yield conn

    # candidates and sessions

    def candidate(self, name: str) -> Candidate:
        """The candidate of that name (trimmed, any case), created on first use."""
        cleaned = clean_name(name)
        with self.transaction("save the candidate") as conn:
            return self._candidate(conn, cleaned)

    def _candidate(self, conn: Connection, cleaned: str) -> Candidate:
        t = candidates_table
        key = cleaned.casefold()
        row = conn.execute(sa.select(t).where(t.c.name_key == key)).first()
        if row is None:
            try:
                with conn.begin_nested():  # another machine may create the same name at the same moment
                    conn.execute(sa.insert(t).values(name=cleaned, name_key=key, created_at=utc_now()))
            except sa_exc.IntegrityError:
                pass
            row = conn.execute(sa.select(t).where(t.c.name_key == key)).one()
        return Candidate(row.id, row.name, row.created_at)

    def _resolve_candidate(self, conn: Connection, who: Candidate | str) -> Candidate:
        if isinstance(who, Candidate):
            row = conn.execute(sa.select(candidates_table).where(candidates_table.c.id == who.id)).first()
            if row is not None and row.name_key == who.name.casefold():
                return Candidate(row.id, row.name, row.created_at)
            return self._candidate(conn, clean_name(who.name))  # e.g. the store was switched
        return self._candidate(conn, clean_name(who))

    def candidates(self) -> list[Candidate]:
        t = candidates_table
        with self.transaction("read the candidates", write=False) as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.name_key)).all()
        return [Candidate(r.id, r.name, r.created_at) for r in rows]

    def start_session(self, candidate: Candidate | str) -> str:
        """A new practice session's id: attempts saved with it can be exported together."""
        with self.transaction("start the session") as conn:
            return self._new_session(conn, candidate)

    def start_round(self, candidate: Candidate | str, seconds: int) -> str:
        """A new quick-fire round's session id: the session and its time limit per answer in one
        transaction, so there is never a round without its limit (see storage.rounds)."""
        limit = rounds.seconds_value(seconds)
        with self.transaction("start the round") as conn:
            session_id = self._new_session(conn, candidate)
            rounds.add_round(conn, session_id, limit)
        return session_id

    def _new_session(self, conn: Connection, candidate: Candidate | str) -> str:
        session_id = uuid.uuid4().hex
        _insert_session(conn, session_id, self._resolve_candidate(conn, candidate))
        return session_id

    def quick_fire_round(self, session_id: str) -> RoundTiming | None:
        """A round's limit and clocks as stored; None for a plain practice session (or none at all)."""
        with self.transaction("read the round", write=False) as conn:
            return rounds.load_round(conn, session_id)

    def start_clock(self, session_id: str, question_id: str, at: datetime | None = None) -> QuestionClock:
        """Start a round's question clock (now by default) unless it has started; the clock as stored.
        NotFoundError when the session is not a quick-fire round."""
        with self.transaction("start the question's clock") as conn:
            return rounds.start_clock(conn, session_id, question_id, at or utc_now())

    def session_candidate(self, session_id: str) -> str | None:
        """The name of the candidate a session was started for; None if there is no such session."""
        with self.transaction("read the session", write=False) as conn:
            return conn.execute(
                sa.select(candidates_table.c.name)
                .join(sessions_table, sessions_table.c.candidate_id == candidates_table.c.id)
                .where(sessions_table.c.id == session_id)
            ).scalar_one_or_none()

    # attempts

    def add_attempt(
        self,
        candidate: Candidate | str,
        question: QuestionLike,
        *,
        answer_mode: AnswerMode,
        answer_text: str = "",
        audio: bytes | None = None,
        audio_mime: str = "audio/wav",
        session_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Attempt:
        """Save a new attempt and its audio in one transaction, before any transcription or scoring."""
        if answer_mode not in ANSWER_MODES:
            raise ValueError(
                f"Unknown answer mode '{answer_mode}' (expected one of {', '.join(ANSWER_MODES)})."
            )
        if audio is not None and not isinstance(audio, bytes | bytearray | memoryview):
            raise ValueError("The audio must be bytes.")
        blob = bytes(audio) if audio else b""
        mime = (audio_mime or "application/octet-stream").strip().lower()[:100]
        if blob and mime not in _AUDIO_EXTENSIONS:  # served back as stored: never a browser's claimed type
            raise ValueError(f"'{mime}' is not an audio type this app stores or plays.")
        with self.transaction("save the attempt") as conn:
            who = self._resolve_candidate(conn, candidate)
            if session_id is not None:
                self._ensure_session(conn, session_id, who)
            result = conn.execute(
                sa.insert(attempts_table).values(
                    candidate_id=who.id,
                    session_id=session_id,
                    question_id=str(question.id),
                    question=str(getattr(question, "question", "") or ""),
                    track=str(question.track),
                    level=str(question.level),
                    topic=str(question.topic),
                    created_at=as_utc(created_at) if created_at else utc_now(),
                    answer_mode=answer_mode,
                    answer_text=str(answer_text or ""),
                    status="recorded",
                    has_audio=bool(blob),
                )
            )
            primary_key = result.inserted_primary_key
            assert primary_key is not None  # None only for a many-row insert
            attempt_id = int(primary_key[0])
            if blob:
                conn.execute(
                    sa.insert(recordings_table).values(
                        attempt_id=attempt_id,
                        mime=mime,
                        extension=_AUDIO_EXTENSIONS.get(mime, mime.rpartition("/")[2][:20] or "bin"),
                        size=len(blob),
                        data=blob,
                    )
                )
            return load_attempts(conn, [attempt_id])[0]

    def _ensure_session(self, conn: Connection, session_id: str, who: Candidate) -> None:
        """A session id the database does not know (e.g. started before a restore) is created, not refused."""
        if not isinstance(session_id, str) or not 0 < len(session_id) <= 36:
            raise ValueError("A session id is the text start_session returned.")
        owner = conn.scalar(sa.select(sessions_table.c.candidate_id).where(sessions_table.c.id == session_id))
        if owner is None:
            _insert_session(conn, session_id, who)
        elif owner != who.id:
            raise ValueError(f"Session {session_id} belongs to another candidate.")

    def set_transcript(self, attempt_id: int, transcript: Transcript) -> Attempt:
        """Keep the transcript as soon as it exists, so a scoring failure does not lose it."""
        return self._update(
            attempt_id,
            "save the transcript",
            transcript=codec.dump_transcript(transcript),
            answer_text=transcript.text,
        )

    def set_result(
        self,
        attempt_id: int,
        score: Score,
        *,
        transcript: Transcript | None = None,
        coverage: float | None = None,
        delivery: Delivery | None = None,
    ) -> Attempt:
        """Record the scorer's result; the coverage defaults to the score's own, to one decimal."""
        stored = codec.dump_score(score)  # first: it refuses what is not a Score
        value = round(score.coverage, 1) if coverage is None else coverage
        values: dict[str, Any] = {
            "score": stored,
            "coverage": coverage_value(value, "Coverage"),
            "delivery": codec.dump_delivery(delivery) if delivery is not None else None,
            "status": "scored",
            "error": None,
        }
        if transcript is not None:
            values.update(transcript=codec.dump_transcript(transcript), answer_text=transcript.text)
        return self._update(attempt_id, "save the score", **values)

    def set_failed(self, attempt_id: int, error: str, *, transcript: Transcript | None = None) -> Attempt:
        """Scoring (or transcription) failed: keep what there is, with the reason, for a later re-score."""
        values: dict[str, Any] = {"status": "failed", "error": str(error or "Unknown error")[:2000]}
        if transcript is not None:
            values.update(transcript=codec.dump_transcript(transcript), answer_text=transcript.text)
        return self._update(attempt_id, "save the attempt's status", **values)

    def _update(self, attempt_id: int, action: str, **values: Any) -> Attempt:
        with self.transaction(action) as conn:
            self._require(conn, attempt_id)
            conn.execute(sa.update(attempts_table).where(attempts_table.c.id == attempt_id).values(**values))
            return load_attempts(conn, [attempt_id])[0]

    def _require(self, conn: Connection, attempt_id: int) -> None:
        if conn.scalar(sa.select(attempts_table.c.id).where(attempts_table.c.id == attempt_id)) is None:
            raise NotFoundError(f"No attempt with id {attempt_id}.")

    def attempts(
        self,
        candidate: Candidate | str | None = None,
        track: str | None = None,
        level: str | None = None,
        question_id: str | None = None,
        since: datetime | date | None = None,
        until: datetime | date | None = None,
        session_id: str | None = None,
        limit: int | None = None,
        status: AttemptStatus | None = None,
        candidate_ids: Collection[int] | None = None,
    ) -> list[Attempt]:
        """Attempts matching every filter given, newest first, without their audio.

        `since`/`until` are inclusive; a date means the whole UTC day. `candidate_ids` keeps only those
        candidates' attempts (access.visible_attempts passes the ones a user may see).
        """
        a = attempts_table
        conditions: list[Any] = []
        if candidate is not None:
            conditions.append(candidates_table.c.name_key == _name_key(candidate))
        if candidate_ids is not None:
            conditions.append(a.c.candidate_id.in_([int(i) for i in candidate_ids]))
        for column, value in ((a.c.track, track), (a.c.level, level), (a.c.question_id, question_id)):
            if value is not None:
                conditions.append(column == value)
        if session_id is not None:
            conditions.append(a.c.session_id == session_id)
        if status is not None:
            conditions.append(a.c.status == status)
        if since is not None:
            conditions.append(a.c.created_at >= _since(since))
        if until is not None:
            conditions.append(_until(a.c.created_at, until))
        with self.transaction("read the attempts", write=False) as conn:
            return select_attempts(conn, conditions, limit=limit)

    def attempt(self, attempt_id: int) -> Attempt:
        with self.transaction("read the attempt", write=False) as conn:
            found = load_attempts(conn, [attempt_id])
        if not found:
            raise NotFoundError(f"No attempt with id {attempt_id}.")
        return found[0]

    def audio(self, attempt_id: int) -> tuple[bytes, str] | None:
        """The recording's bytes and MIME type, or None for typed answers."""
        r = recordings_table
        with self.transaction("read the recording", write=False) as conn:
            row = conn.execute(sa.select(r.c.data, r.c.mime).where(r.c.attempt_id == attempt_id)).first()
        return None if row is None else (bytes(row.data), row.mime)

    # coach review

    def save_review(
        self,
        attempt_id: int,
        *,
        note: str | None = None,
        key_points: Mapping[int, KeyPointStatus | None] | None = None,
        coverage: float | None | _Unchanged = _UNCHANGED,
        author: str = "coach",
    ) -> Attempt:
        """Save a coach's review in one transaction: all of it or, on any error, none of it.

        `note` is added unless None (it must not be blank); `key_points` maps a key point's 0-based index to
        the coach's status for it, None clearing the coach's status; `coverage` (0-100) is the coach's
        coverage beside the automatic one, None clears it, and leaving it out keeps the one saved.
        """
        who = clean_name(author)
        with self.transaction("save the review") as conn:
            found = load_attempts(conn, [attempt_id])
            if not found:
                raise NotFoundError(f"No attempt with id {attempt_id}.")
            if note is not None:
                add_note(conn, attempt_id, note, who)
            for index, status in (key_points or {}).items():
                override_key_point(conn, found[0], index, status, who)
            if not isinstance(coverage, _Unchanged):
                override_coverage(conn, attempt_id, coverage, who)
            return load_attempts(conn, [attempt_id])[0]

    def edit_note(self, note_id: int, text: str, author: str = "coach") -> Attempt:
        """Replace a note's text in one transaction; the note is then `author`'s, its time stays as it was.

        Returns the note's attempt with its notes as saved.
        """
        who = clean_name(author)
        body = note_text(text)
        n = notes_table
        with self.transaction("edit the note") as conn:
            attempt_id = note_attempt(conn, note_id)
            conn.execute(sa.update(n).where(n.c.id == note_id).values(text=body, author=who))
            return load_attempts(conn, [attempt_id])[0]

    def delete_note(self, note_id: int, author: str = "coach") -> Attempt:
        """Delete that one note (nothing of it is kept) in one transaction; returns its attempt as saved.

        `author`, who deletes it, is checked like any name but not recorded.
        """
        clean_name(author)
        with self.transaction("delete the note") as conn:
            attempt_id = note_attempt(conn, note_id)
            conn.execute(sa.delete(notes_table).where(notes_table.c.id == note_id))
            return load_attempts(conn, [attempt_id])[0]

    # a candidate's own data

    def export_candidate(self, name: str) -> bytes:
        """Everything stored about a candidate, recordings included, as a zip (see storage.owndata).

        NotFoundError for a name that never practised; who may ask is `access.can_export`.
        """
        with self.transaction("export the candidate", write=False) as conn:
            return owndata.export_candidate(conn, name)

    def delete_candidate(self, name: str) -> int:
        """Delete a candidate with their sessions, attempts, recordings, notes, overrides, account, coach
        assignments and logins, in one transaction; returns how many attempts went.

        NotFoundError for an unknown name; who may ask is `access.can_delete`.
        """
        with self.transaction("delete the candidate") as conn:
            return owndata.delete_candidate(conn, name)


def _insert_session(conn: Connection, session_id: str, who: Candidate) -> None:
    conn.execute(sa.insert(sessions_table).values(id=session_id, candidate_id=who.id, started_at=utc_now()))


def _name_key(candidate: Candidate | str) -> str:
    name = candidate.name if isinstance(candidate, Candidate) else str(candidate)
    return " ".join(name.split()).casefold()
