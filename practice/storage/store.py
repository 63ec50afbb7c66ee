"""Every attempt kept: candidates, attempts, their audio and coach review, in SQLite or a shared PostgreSQL.

One `Store` per process, shared by all browser sessions: the engine is thread-safe and holds no other
state. An attempt and its audio are written in one transaction *before* scoring, so a failed scorer
leaves the recording and transcript behind to be re-scored (the review page's "Score again"). A coach's
review (note, key-point overrides, coverage) is saved in one transaction too (`Store.save_review`), and a
note is edited or deleted in one (`Store.edit_note`, `Store.delete_note`), and so is deleting a
candidate with everything about them (`Store.delete_candidate`; `Store.export_candidate` is the zip of it).

SQLite (the default) runs in WAL mode with a busy timeout and every write transaction starts with
BEGIN IMMEDIATE: writers queue for the lock instead of failing with "database is locked" halfway
through, and readers never wait. `PRACTICE_DATABASE_URL=postgresql+psycopg://...` works too; PostgreSQL
needs a driver installed (`pip install "psycopg[binary]"`). `make test` runs the storage tests against
both: it starts a local PostgreSQL (.ci/postgres.sh) and passes its URL as PRACTICE_TEST_POSTGRES_URL.

Driver errors become one `StorageError` sentence (`_guard`), with the database URL's password hidden.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from practice import settings
from practice.scoring.delivery import Delivery
from practice.settings import DATA_DIR_ENV_VAR, DATABASE_URL_ENV_VAR
from practice.storage import codec, owndata
from practice.storage.errors import NotFoundError, StorageError
from practice.storage.records import (
    ANSWER_MODES,
    KEY_POINT_STATUSES,
    AnswerMode,
    Attempt,
    AttemptStatus,
    Candidate,
    KeyPointOverride,
    KeyPointStatus,
    Note,
    QuestionLike,
    _now,
    _utc,
    clean_name,
)
from practice.storage.schema import (
    attempts_table,
    candidates_table,
    migrate,
    notes_table,
    overrides_table,
    recordings_table,
    sessions_table,
)
from practice.transcript import Transcript

if TYPE_CHECKING:
    from practice.scoring.coverage import Score

DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a SQLite writer waits for another session's write to finish

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


# --- opening ------------------------------------------------------------------------------------------


def default_url() -> str:
    """`PRACTICE_DATABASE_URL` if set, else practice.db in the data directory."""
    url = settings.database_url()
    if url:
        return url
    return sa.URL.create("sqlite", database=str(settings.data_dir() / "practice.db")).render_as_string()


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; a crash loses no committed write
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Taking the write lock up front means a writer waits (busy timeout) rather than failing when a
        # read lock cannot be upgraded; reads stay deferred and, in WAL mode, never block.
        write = conn.get_execution_options().get("practice_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def open_store(url: str | None = None, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Store:
    """The database at `url`, else PRACTICE_DATABASE_URL, else the default; created or upgraded as needed."""
    raw = (url or "").strip() or default_url()
    try:
        parsed = sa.make_url(raw)
    except (sa_exc.ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise StorageError(
            f"'{_redact_url(raw)}' is not a database URL (expected e.g. sqlite:///path/practice.db).",
            public="The database URL is not valid: ask whoever runs this server to check it.",
        ) from exc
    shown = parsed.render_as_string(hide_password=True)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Could not create the data folder {folder}: {exc.strerror or exc}.",
                public=f"Could not create the data folder: {exc.strerror or type(exc).__name__}.",
            ) from exc
    try:
        if is_sqlite:
            engine = sa.create_engine(parsed, connect_args={"timeout": busy_timeout})
            _configure_sqlite(engine, busy_timeout)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True)
    except ImportError as exc:
        raise StorageError(
            f"The database driver for {parsed.drivername} is not installed ({exc.name}); for PostgreSQL "
            'run `pip install "psycopg[binary]"` and use a postgresql+psycopg:// URL.'
        ) from exc
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise StorageError(
            f"Could not use the database URL {shown}: {exc}.",
            public="The database URL is not valid: ask whoever runs this server to check it.",
        ) from exc
    try:
        with _guard("open the database", shown):
            migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, shown)


# --- errors ---------------------------------------------------------------------------------------------


def _redact_url(raw: str) -> str:
    """A URL that did not parse, with whatever stands before its host's '@' (user, password) hidden."""
    scheme, sep, rest = raw.partition("://")
    if not sep:
        scheme, rest = "", raw
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    return re.sub(r"(?i)(password=)[^&;\s]*", r"\1***", f"{scheme}{sep}{rest}")


_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("disk is full", "disk full", "no space left"), "the disk is full. Free some space and try again."),
    (
        ("database is locked", "database table is locked", "busy", "deadlock", "lock timeout"),
        "the database is busy with another session. Try again in a moment.",
    ),
    (
        ("readonly", "read-only", "read only"),
        f"the database is read-only. Check the file's permissions or set {DATA_DIR_ENV_VAR} to a writable "
        "folder.",
    ),
    (
        ("unable to open database file",),
        f"the database file {{url}} could not be opened. Check the folder exists and is writable, or set "
        f"{DATA_DIR_ENV_VAR}.",
    ),
    (
        ("file is not a database", "malformed", "file is encrypted"),
        "the database file {url} is damaged or is not a practice database. Move it aside to start afresh.",
    ),
    (("disk i/o error",), "the disk reported an I/O error. Check the drive and try again."),
    (
        ("password authentication failed", "authentication failed", "permission denied", "access denied"),
        f"the database server refused the login for {{url}}. Check the user and password in "
        f"{DATABASE_URL_ENV_VAR}.",
    ),
    (
        ("could not connect", "connection refused", "could not translate host", "server closed",
         "connection", "timeout expired", "timed out", "network"),
        f"the database server at {{url}} could not be reached. Check {DATABASE_URL_ENV_VAR} and the network, "
        "then try again.",
    ),
)  # fmt: skip


def _reason(exc: BaseException, url: str | None) -> str:
    """Why, in words; `url` None leaves the database's location out (for a browser: no server paths)."""
    original = getattr(exc, "orig", None) or exc
    message = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    lowered = message.lower()
    for needles, reason in _REASONS:
        if any(n in lowered for n in needles):
            return reason.format(url=url) if url is not None else re.sub(r" (?:for |at )?\{url\}", "", reason)
    if isinstance(exc, sa_exc.TimeoutError):
        return "the database is busy with another session. Try again in a moment."
    return f"the database reported an error ({message})."


@contextmanager
def _guard(action: str, url: str) -> Iterator[None]:
    """Turn driver errors into one StorageError sentence; the caller still holds its data and can retry."""
    try:
        yield
    except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:  # TimeoutError: no free pooled connection
        raise StorageError(
            f"Could not {action}: {_reason(exc, url)}", public=f"Could not {action}: {_reason(exc, None)}"
        ) from exc
    except OSError as exc:
        raise StorageError(
            f"Could not {action}: {exc.strerror or exc}.",
            public=f"Could not {action}: {exc.strerror or type(exc).__name__}.",
        ) from exc


# --- helpers --------------------------------------------------------------------------------------------


def _coverage_value(value: Any, what: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a number from 0 to 100, not {value!r}.") from exc
    if not math.isfinite(number) or not 0.0 <= number <= 100.0:
        raise ValueError(f"{what} must be a number from 0 to 100, not {value!r}.")
    return number


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _since(value: datetime | date) -> datetime:
    """A date means from the start of that UTC day."""
    return _utc(value) if isinstance(value, datetime) else datetime.combine(value, time.min, tzinfo=UTC)


def _until(column: Any, value: datetime | date) -> Any:
    """A date means up to the end of that UTC day."""
    if isinstance(value, datetime):
        return column <= _utc(value)
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
        SQLite's write lock at the start (see _on_begin)."""
        with _guard(action, self.url), self.engine.connect() as conn:
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
                    conn.execute(sa.insert(t).values(name=cleaned, name_key=key, created_at=_now()))
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
            who = self._resolve_candidate(conn, candidate)
            session_id = uuid.uuid4().hex
            conn.execute(
                sa.insert(sessions_table).values(id=session_id, candidate_id=who.id, started_at=_now())
            )
        return session_id

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
                    created_at=_utc(created_at) if created_at else _now(),
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
            return self._load(conn, [attempt_id])[0]

    def _ensure_session(self, conn: Connection, session_id: str, who: Candidate) -> None:
        """A session id the database does not know (e.g. started before a restore) is created, not refused."""
        if not isinstance(session_id, str) or not 0 < len(session_id) <= 36:
            raise ValueError("A session id is the text start_session returned.")
        owner = conn.scalar(sa.select(sessions_table.c.candidate_id).where(sessions_table.c.id == session_id))
        if owner is None:
            conn.execute(
                sa.insert(sessions_table).values(id=session_id, candidate_id=who.id, started_at=_now())
            )
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
            "coverage": _coverage_value(value, "Coverage"),
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
            return self._load(conn, [attempt_id])[0]

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
            return self._select(conn, conditions, limit=limit)

    def attempt(self, attempt_id: int) -> Attempt:
        with self.transaction("read the attempt", write=False) as conn:
            found = self._load(conn, [attempt_id])
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
            found = self._load(conn, [attempt_id])
            if not found:
                raise NotFoundError(f"No attempt with id {attempt_id}.")
            if note is not None:
                _add_note(conn, attempt_id, note, who)
            for index, status in (key_points or {}).items():
                _override_key_point(conn, found[0], index, status, who)
            if not isinstance(coverage, _Unchanged):
                _override_coverage(conn, attempt_id, coverage, who)
            return self._load(conn, [attempt_id])[0]

    def edit_note(self, note_id: int, text: str, author: str = "coach") -> Attempt:
        """Replace a note's text in one transaction; the note is then `author`'s, its time stays as it was.

        Returns the note's attempt with its notes as saved.
        """
        who = clean_name(author)
        body = _note_text(text)
        n = notes_table
        with self.transaction("edit the note") as conn:
            attempt_id = _note_attempt(conn, note_id)
            conn.execute(sa.update(n).where(n.c.id == note_id).values(text=body, author=who))
            return self._load(conn, [attempt_id])[0]

    def delete_note(self, note_id: int, author: str = "coach") -> Attempt:
        """Delete that one note (nothing of it is kept) in one transaction; returns its attempt as saved.

        `author`, who deletes it, is checked like any name but not recorded.
        """
        clean_name(author)
        with self.transaction("delete the note") as conn:
            attempt_id = _note_attempt(conn, note_id)
            conn.execute(sa.delete(notes_table).where(notes_table.c.id == note_id))
            return self._load(conn, [attempt_id])[0]

    # a candidate's own data

    def export_candidate(self, name: str) -> bytes:
        """Everything stored about a candidate, recordings included, as a zip (see storage.owndata).

        NotFoundError for a name that never practised; who may ask is `access.can_export`.
        """
        return owndata.export_candidate(self, name)

    def delete_candidate(self, name: str) -> int:
        """Delete a candidate with their sessions, attempts, recordings, notes, overrides, account, coach
        assignments and logins, in one transaction; returns how many attempts went.

        NotFoundError for an unknown name; who may ask is `access.can_delete`.
        """
        return owndata.delete_candidate(self, name)

    # reading rows into Attempts

    def _select(self, conn: Connection, conditions: list[Any], limit: int | None = None) -> list[Attempt]:
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
            for r in conn.execute(
                sa.select(n).where(n.c.attempt_id.in_(chunk)).order_by(n.c.created_at, n.c.id)
            ):
                notes[r.attempt_id].append(Note(r.id, r.attempt_id, r.author, r.text, r.created_at))
            for r in conn.execute(
                sa.select(o).where(o.c.attempt_id.in_(chunk)).order_by(o.c.key_point_index)
            ):
                if r.status in KEY_POINT_STATUSES:
                    overrides[r.attempt_id].append(
                        KeyPointOverride(r.attempt_id, r.key_point_index, r.status, r.author, r.created_at)
                    )
        return [_attempt(r, tuple(notes[r.id]), tuple(overrides[r.id])) for r in rows]

    def _load(self, conn: Connection, ids: list[int]) -> list[Attempt]:
        return self._select(conn, [attempts_table.c.id.in_(ids)])


# --- a coach's review, one part at a time, inside Store.save_review's transaction ----------------------


def _note_text(text: str) -> str:
    """A note's text trimmed; a ValueError if nothing is left."""
    body = str(text or "").strip()
    if not body:
        raise ValueError("The note is empty.")
    return body


def _note_attempt(conn: Connection, note_id: int) -> int:
    """The id of the attempt a note belongs to; NotFoundError if there is no such note."""
    attempt_id = conn.scalar(sa.select(notes_table.c.attempt_id).where(notes_table.c.id == note_id))
    if attempt_id is None:
        raise NotFoundError(f"No note with id {note_id}.")
    return attempt_id


def _add_note(conn: Connection, attempt_id: int, text: str, who: str) -> None:
    body = _note_text(text)
    conn.execute(
        sa.insert(notes_table).values(attempt_id=attempt_id, author=who, text=body, created_at=_now())
    )


def _override_key_point(
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
                attempt_id=attempt.id, key_point_index=index, status=status, author=who, created_at=_now()
            )
        )


def _override_coverage(conn: Connection, attempt_id: int, coverage: float | None, who: str) -> None:
    """Set the coach's coverage (0-100) beside the automatic one; None clears it."""
    value = _coverage_value(coverage, "The coach's coverage")
    conn.execute(
        sa.update(attempts_table)
        .where(attempts_table.c.id == attempt_id)
        .values(
            coach_coverage=value,
            coach_coverage_by=who if value is not None else None,
            coach_coverage_at=_now() if value is not None else None,
        )
    )


def _name_key(candidate: Candidate | str) -> str:
    name = candidate.name if isinstance(candidate, Candidate) else str(candidate)
    return " ".join(name.split()).casefold()


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
