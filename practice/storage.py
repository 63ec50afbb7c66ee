"""Every attempt kept: candidates, attempts, their audio and coach review, in SQLite or a shared PostgreSQL.

One `Store` per process, shared by all browser sessions: the engine is thread-safe and holds no other
state. An attempt and its audio are written in one transaction *before* scoring, so a failed scorer
leaves the recording and transcript behind to be re-scored (`Store.unscored`).

SQLite (the default) runs in WAL mode with a busy timeout and every write transaction starts with
BEGIN IMMEDIATE: writers queue for the lock instead of failing with "database is locked" halfway
through, and readers never wait. The code keeps to portable types (JSON, LargeBinary, timezone-aware
DateTime) so `PRACTICE_DATABASE_URL=postgresql+psycopg://...` works too; PostgreSQL needs a driver
installed (`pip install "psycopg[binary]"`). `make test` runs the storage tests against both: it starts a
local PostgreSQL (.ci/postgres.sh) and passes its URL as PRACTICE_TEST_POSTGRES_URL.

The schema is versioned by a short list of migration functions (`MIGRATIONS`) and upgraded when a store
is opened; each migration is a frozen snapshot, never edited once released.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

import platformdirs
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from practice.markdown import escape_markdown
from practice.transcript import Transcript

DATABASE_URL_ENV_VAR = "PRACTICE_DATABASE_URL"
DATA_DIR_ENV_VAR = "PRACTICE_DATA_DIR"
DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a SQLite writer waits for another session's write to finish
MAX_NAME_LENGTH = 100

AnswerMode = Literal["audio", "typed", "upload"]
AttemptStatus = Literal["recorded", "scored", "failed"]
KeyPointStatus = Literal["covered", "partial", "missed"]  # as in practice.scoring.coverage.Status
ANSWER_MODES: tuple[str, ...] = get_args(AnswerMode)
KEY_POINT_STATUSES: tuple[str, ...] = get_args(KeyPointStatus)
# Credit per status when a coach's key-point override adjusts the automatic coverage (see Attempt).
STATUS_CREDIT: dict[str, float] = {"covered": 1.0, "partial": 0.5, "missed": 0.0}

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


class StorageError(RuntimeError):
    """The database could not be read or written; the message is one sentence a user can act on.

    `public` is the same sentence without file paths or server addresses, for a browser.
    """

    def __init__(self, message: str, *, public: str | None = None):
        super().__init__(message)
        self.public = public or message


class NotFoundError(LookupError):
    """No attempt (or session) with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Not found"


class QuestionLike(Protocol):
    """What an attempt records about its question (practice.bank.Question fits)."""

    id: str
    track: str
    level: str
    topic: str
    question: str


# --- domain objects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Session:
    id: str
    candidate: Candidate
    started_at: datetime


@dataclass(frozen=True)
class Note:
    id: int
    attempt_id: int
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class KeyPointOverride:
    """A coach's verdict on one key point, shown beside the automatic one rather than replacing it."""

    attempt_id: int
    index: int  # 0-based position in the score's key points
    status: KeyPointStatus
    author: str
    created_at: datetime


@dataclass(frozen=True)
class Attempt:
    id: int
    candidate: Candidate
    question_id: str
    track: str
    level: str
    topic: str
    session_id: str | None
    created_at: datetime
    answer_mode: AnswerMode
    answer_text: str  # typed text, or the transcript's text once transcribed
    transcript: Transcript | None
    score: dict[str, Any] | None  # Score.to_dict()
    coverage: float | None  # automatic, 0-100
    delivery: dict[str, Any] | None
    status: AttemptStatus
    error: str | None
    has_audio: bool
    coach_coverage: float | None = None
    notes: tuple[Note, ...] = ()
    question: str = ""  # the question's wording when it was asked (the bank may change later)
    coach_coverage_by: str | None = None
    coach_coverage_at: datetime | None = None
    overrides: tuple[KeyPointOverride, ...] = ()

    @property
    def key_points(self) -> list[dict[str, Any]]:
        """The automatic per-point results (text, status, evidence ...), empty until scored."""
        points = (self.score or {}).get("key_points")
        return [p for p in points if isinstance(p, dict)] if isinstance(points, list) else []

    def automatic_status(self, index: int) -> KeyPointStatus | None:
        points = self.key_points
        if not 0 <= index < len(points):
            return None
        status = points[index].get("status")
        return status if status in KEY_POINT_STATUSES else None

    def override(self, index: int) -> KeyPointOverride | None:
        return next((o for o in self.overrides if o.index == index), None)

    def key_point_status(self, index: int) -> KeyPointStatus | None:
        """The coach's status for point `index` if they set one, else the scorer's."""
        coach = self.override(index)
        return coach.status if coach else self.automatic_status(index)

    def key_point_statuses(self) -> list[KeyPointStatus | None]:
        return [self.key_point_status(i) for i in range(len(self.key_points))]

    @property
    def missed_count(self) -> int:
        return sum(s == "missed" for s in self.key_point_statuses())

    @property
    def effective_coverage(self) -> float | None:
        """The coach's coverage if set; else the automatic one moved by the coach's key-point overrides.

        The scorer gives partial points graded credit we cannot recover exactly, so an override moves the
        coverage by the difference of the two statuses' nominal credit (covered 1, partial 0.5, missed 0)
        over the number of points: flipping one of four points from missed to covered adds 25.
        """
        if self.coach_coverage is not None:
            return self.coach_coverage
        if self.coverage is None:
            return None
        points = len(self.key_points)
        if not points or not self.overrides:
            return self.coverage
        delta = 0.0
        for o in self.overrides:
            auto = self.automatic_status(o.index)
            if auto is not None:
                delta += STATUS_CREDIT[o.status] - STATUS_CREDIT[auto]
        return min(100.0, max(0.0, self.coverage + 100.0 * delta / points))

    @property
    def is_reviewed(self) -> bool:
        return self.coach_coverage is not None or bool(self.overrides)


# --- schema ---------------------------------------------------------------------------------------------


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which stores naive text) as on PostgreSQL (timestamptz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        value = _utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True)


def _base_tables(md: sa.MetaData) -> dict[str, sa.Table]:
    """Schema version 1: candidates, sessions, attempts and their recordings."""
    candidates = sa.Table(
        "candidates",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False),
        sa.Column("name_key", sa.String(MAX_NAME_LENGTH), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    sessions = sa.Table(
        "sessions",
        md,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("candidate_id", sa.Integer, sa.ForeignKey("candidates.id"), nullable=False, index=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
    )
    attempts = sa.Table(
        "attempts",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("candidate_id", sa.Integer, sa.ForeignKey("candidates.id"), nullable=False),
        sa.Column("session_id", sa.String(36), sa.ForeignKey("sessions.id"), nullable=True, index=True),
        sa.Column("question_id", sa.Text, nullable=False, index=True),
        sa.Column("question", sa.Text, nullable=False, default=""),
        sa.Column("track", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False, index=True),
        sa.Column("answer_mode", sa.String(20), nullable=False),
        sa.Column("answer_text", sa.Text, nullable=False, default=""),
        sa.Column("transcript", _json(), nullable=True),
        sa.Column("score", _json(), nullable=True),
        sa.Column("coverage", sa.Float, nullable=True),
        sa.Column("delivery", _json(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("has_audio", sa.Boolean, nullable=False, default=False),
        sa.Index("ix_attempts_candidate_created", "candidate_id", "created_at"),
    )
    recordings = sa.Table(
        "recordings",
        md,
        sa.Column(
            "attempt_id", sa.Integer, sa.ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("mime", sa.String(100), nullable=False),
        sa.Column("extension", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    return {t.name: t for t in (candidates, sessions, attempts, recordings)}


_COACH_COLUMNS = (
    ("coach_coverage", sa.Float()),
    ("coach_coverage_by", sa.String(MAX_NAME_LENGTH)),
    ("coach_coverage_at", UTCDateTime()),
)


def _review_tables(md: sa.MetaData) -> dict[str, sa.Table]:
    """Schema version 2: coach notes and key-point overrides."""
    notes = sa.Table(
        "notes",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "attempt_id",
            sa.Integer,
            sa.ForeignKey("attempts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("author", sa.String(MAX_NAME_LENGTH), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    overrides = sa.Table(
        "key_point_overrides",
        md,
        sa.Column(
            "attempt_id", sa.Integer, sa.ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("key_point_index", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("author", sa.String(MAX_NAME_LENGTH), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    return {t.name: t for t in (notes, overrides)}


def _migrate_to_1(conn: Connection) -> None:
    md = sa.MetaData()
    _base_tables(md)
    md.create_all(conn)


def _migrate_to_2(conn: Connection) -> None:
    for name, type_ in _COACH_COLUMNS:
        conn.exec_driver_sql(f"ALTER TABLE attempts ADD COLUMN {name} {type_.compile(dialect=conn.dialect)}")
    md = sa.MetaData()
    _base_tables(md)  # so the new tables' foreign keys resolve; create_all skips what exists
    tables = _review_tables(md)
    md.create_all(conn, tables=list(tables.values()))


# Index i upgrades a database from version i to i + 1. Append; never edit a released migration.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_migrate_to_1, _migrate_to_2)
SCHEMA_VERSION = len(MIGRATIONS)
_PG_MIGRATION_LOCK = 0x70726163  # any constant: serialises migrations of several machines on one server

# The current shape, used by the queries; tests check a migrated database matches it.
metadata = sa.MetaData()
_tables = {**_base_tables(metadata), **_review_tables(metadata)}
for _name, _type in _COACH_COLUMNS:
    _tables["attempts"].append_column(sa.Column(_name, _type, nullable=True))
candidates_table = _tables["candidates"]
sessions_table = _tables["sessions"]
attempts_table = _tables["attempts"]
recordings_table = _tables["recordings"]
notes_table = _tables["notes"]
overrides_table = _tables["key_point_overrides"]
schema_version_table = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)


def schema_version(engine: Engine) -> int:
    """The version a database is at (0 for an empty one)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("schema_version"):
            return 0
        return int(conn.scalar(sa.select(sa.func.max(schema_version_table.c.version))) or 0)


def migrate(engine: Engine, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to `target` in one transaction, safely when several processes open it at once."""
    with engine.connect() as conn:
        conn.execution_options(practice_write=True)  # SQLite: BEGIN IMMEDIATE, so one migrator at a time
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            schema_version_table.create(conn, checkfirst=True)
            current = int(conn.scalar(sa.select(sa.func.max(schema_version_table.c.version))) or 0)
            if current > SCHEMA_VERSION:
                raise StorageError(
                    f"The database was written by a newer version of interview-practice (schema {current}; "
                    f"this version knows up to {SCHEMA_VERSION}). Upgrade the app to open it."
                )
            for version in range(current + 1, target + 1):
                MIGRATIONS[version - 1](conn)
                conn.execute(sa.insert(schema_version_table).values(version=version, applied_at=_now()))
            return max(current, target)


# --- opening ------------------------------------------------------------------------------------------


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV_VAR) or platformdirs.user_data_dir("interview-practice"))


def default_url() -> str:
    """`PRACTICE_DATABASE_URL` if set, else practice.db in the data directory."""
    env = os.environ.get(DATABASE_URL_ENV_VAR, "").strip()
    if env:
        return env
    return sa.URL.create("sqlite", database=str(data_dir() / "practice.db")).render_as_string()


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


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """Naive datetimes are taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def clean_name(name: str) -> str:
    """Trimmed, inner whitespace collapsed; a clear ValueError for names that cannot be used."""
    if not isinstance(name, str):
        raise ValueError("A name must be text.")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValueError("Enter a name: it cannot be empty.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValueError(f"That name is too long ({len(cleaned)} characters; at most {MAX_NAME_LENGTH}).")
    return cleaned


def _plain(value: Any) -> Any:
    """JSON-safe copy: numpy scalars and arrays to Python, NaN/inf to None, unknown objects to text."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    for convert in ("tolist", "item"):  # numpy arrays and scalars
        if callable(getattr(value, convert, None)):
            try:
                return _plain(getattr(value, convert)())
            except (TypeError, ValueError):
                break
    return str(value)


def _as_dict(value: Any) -> Any:
    return value.to_dict() if callable(getattr(value, "to_dict", None)) else value


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


def _transcript(value: Any) -> Transcript | None:
    if not isinstance(value, dict):
        return None
    try:
        return Transcript.from_dict(value)
    except (KeyError, TypeError, ValueError):
        return None  # a damaged transcript should not hide the rest of the attempt


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
    def _transaction(self, action: str, *, write: bool = True) -> Iterator[Connection]:
        with _guard(action, self.url), self.engine.connect() as conn:
            if write:
                conn.execution_options(practice_write=True)
            with conn.begin():
                yield conn

    # candidates and sessions

    def candidate(self, name: str) -> Candidate:
        """The candidate of that name (trimmed, any case), created on first use."""
        cleaned = clean_name(name)
        with self._transaction("save the candidate") as conn:
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
        with self._transaction("read the candidates", write=False) as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.name_key)).all()
        return [Candidate(r.id, r.name, r.created_at) for r in rows]

    def start_session(self, candidate: Candidate | str) -> str:
        """A new practice session's id: attempts saved with it can be exported together."""
        with self._transaction("start the session") as conn:
            who = self._resolve_candidate(conn, candidate)
            session_id = uuid.uuid4().hex
            conn.execute(
                sa.insert(sessions_table).values(id=session_id, candidate_id=who.id, started_at=_now())
            )
        return session_id

    def sessions(self, candidate: Candidate | str | None = None) -> list[Session]:
        s, c = sessions_table, candidates_table
        stmt = sa.select(s, c.c.name, c.c.created_at.label("candidate_created_at")).join(c)
        if candidate is not None:
            stmt = stmt.where(c.c.name_key == _name_key(candidate))
        with self._transaction("read the sessions", write=False) as conn:
            rows = conn.execute(stmt.order_by(s.c.started_at.desc())).all()
        return [
            Session(r.id, Candidate(r.candidate_id, r.name, r.candidate_created_at), r.started_at)
            for r in rows
        ]

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
        with self._transaction("save the attempt") as conn:
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
            attempt_id = int(result.inserted_primary_key[0])
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
            transcript=transcript.to_dict(),
            answer_text=transcript.text,
        )

    def set_result(
        self,
        attempt_id: int,
        score: Mapping[str, Any] | Any,
        *,
        transcript: Transcript | None = None,
        coverage: float | None = None,
        delivery: Mapping[str, Any] | Any | None = None,
    ) -> Attempt:
        """Record the scorer's result (a Score or its to_dict(); delivery likewise a Delivery or its dict).

        The coverage defaults to the score's own.
        """
        data = _as_dict(score)
        if not isinstance(data, Mapping):
            raise ValueError("The score must be a Score or the dict from Score.to_dict().")
        values: dict[str, Any] = {
            "score": _plain(data),
            "coverage": _coverage_value(data.get("coverage") if coverage is None else coverage, "Coverage"),
            "delivery": _plain(_as_dict(delivery)) if delivery is not None else None,
            "status": "scored",
            "error": None,
        }
        if transcript is not None:
            values.update(transcript=transcript.to_dict(), answer_text=transcript.text)
        return self._update(attempt_id, "save the score", **values)

    def set_failed(self, attempt_id: int, error: str, *, transcript: Transcript | None = None) -> Attempt:
        """Scoring (or transcription) failed: keep what there is, with the reason, for a later re-score."""
        values: dict[str, Any] = {"status": "failed", "error": str(error or "Unknown error")[:2000]}
        if transcript is not None:
            values.update(transcript=transcript.to_dict(), answer_text=transcript.text)
        return self._update(attempt_id, "save the attempt's status", **values)

    def _update(self, attempt_id: int, action: str, **values: Any) -> Attempt:
        with self._transaction(action) as conn:
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
    ) -> list[Attempt]:
        """Attempts matching every filter given, newest first, without their audio.

        `since`/`until` are inclusive; a date means the whole UTC day.
        """
        a = attempts_table
        conditions: list[Any] = []
        if candidate is not None:
            conditions.append(candidates_table.c.name_key == _name_key(candidate))
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
        with self._transaction("read the attempts", write=False) as conn:
            return self._select(conn, conditions, newest_first=True, limit=limit)

    def attempt(self, attempt_id: int) -> Attempt:
        with self._transaction("read the attempt", write=False) as conn:
            found = self._load(conn, [attempt_id])
        if not found:
            raise NotFoundError(f"No attempt with id {attempt_id}.")
        return found[0]

    def unscored(self) -> list[Attempt]:
        """Attempts saved but not scored (still recorded, or failed), oldest first, for re-scoring."""
        with self._transaction("read the attempts", write=False) as conn:
            return self._select(conn, [attempts_table.c.status != "scored"], newest_first=False)

    def audio(self, attempt_id: int) -> tuple[bytes, str] | None:
        """The recording's bytes and MIME type, or None for typed answers."""
        r = recordings_table
        with self._transaction("read the recording", write=False) as conn:
            row = conn.execute(sa.select(r.c.data, r.c.mime).where(r.c.attempt_id == attempt_id)).first()
        return None if row is None else (bytes(row.data), row.mime)

    # coach review

    def add_note(self, attempt_id: int, text: str, author: str = "coach") -> Note:
        body = str(text or "").strip()
        if not body:
            raise ValueError("The note is empty.")
        who = clean_name(author)
        with self._transaction("save the note") as conn:
            self._require(conn, attempt_id)
            now = _now()
            result = conn.execute(
                sa.insert(notes_table).values(attempt_id=attempt_id, author=who, text=body, created_at=now)
            )
            return Note(int(result.inserted_primary_key[0]), attempt_id, who, body, now)

    def override_key_point(
        self, attempt_id: int, index: int, status: KeyPointStatus | None, author: str = "coach"
    ) -> Attempt:
        """Set the coach's status for key point `index` (0-based); None clears it."""
        if status is not None and status not in KEY_POINT_STATUSES:
            raise ValueError(f"Unknown status '{status}' (expected one of {', '.join(KEY_POINT_STATUSES)}).")
        who = clean_name(author)
        o = overrides_table
        with self._transaction("save the override") as conn:
            found = self._load(conn, [attempt_id])
            if not found:
                raise NotFoundError(f"No attempt with id {attempt_id}.")
            points = len(found[0].key_points)
            if not isinstance(index, int) or not 0 <= index < points:
                raise ValueError(
                    f"Attempt {attempt_id} has no key point {index}"
                    + (f" (it has {points})." if points else ": it has not been scored yet.")
                )
            where = sa.and_(o.c.attempt_id == attempt_id, o.c.key_point_index == index)
            conn.execute(sa.delete(o).where(where))
            if status is not None:
                conn.execute(
                    sa.insert(o).values(
                        attempt_id=attempt_id,
                        key_point_index=index,
                        status=status,
                        author=who,
                        created_at=_now(),
                    )
                )
            return self._load(conn, [attempt_id])[0]

    def override_coverage(self, attempt_id: int, coverage: float | None, author: str = "coach") -> Attempt:
        """Set the coach's coverage (0-100) beside the automatic one; None clears it."""
        value = _coverage_value(coverage, "The coach's coverage")
        who = clean_name(author)
        return self._update(
            attempt_id,
            "save the override",
            coach_coverage=value,
            coach_coverage_by=who if value is not None else None,
            coach_coverage_at=_now() if value is not None else None,
        )

    # reading rows into Attempts

    def _select(
        self, conn: Connection, conditions: list[Any], *, newest_first: bool, limit: int | None = None
    ) -> list[Attempt]:
        a, c = attempts_table, candidates_table
        stmt = sa.select(a, c.c.name.label("candidate_name"), c.c.created_at.label("candidate_created_at"))
        stmt = stmt.join(c, a.c.candidate_id == c.c.id).where(*conditions)
        order = (a.c.created_at.desc(), a.c.id.desc()) if newest_first else (a.c.created_at, a.c.id)
        stmt = stmt.order_by(*order)
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
        return self._select(conn, [attempts_table.c.id.in_(ids)], newest_first=True)


def _name_key(candidate: Candidate | str) -> str:
    name = candidate.name if isinstance(candidate, Candidate) else str(candidate)
    return " ".join(name.split()).casefold()


def _attempt(r: Any, notes: tuple[Note, ...], overrides: tuple[KeyPointOverride, ...]) -> Attempt:
    score = r.score if isinstance(r.score, dict) else None
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
        transcript=_transcript(r.transcript),
        score=score,
        coverage=r.coverage if r.coverage is None or math.isfinite(r.coverage) else None,
        delivery=r.delivery if isinstance(r.delivery, dict) else None,
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


# --- exports --------------------------------------------------------------------------------------------


def _fmt_time(value: datetime | None) -> str:
    return _utc(value).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _fmt_cov(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _quote(text: str) -> str:
    escaped = escape_markdown(text)
    return "\n".join(f"> {line}" if line else ">" for line in escaped.split("\n"))


def _delivery_lines(delivery: Mapping[str, Any]) -> list[str]:
    """The scalar metrics (Delivery.to_dict()'s wpm, pace, fillers_per_100 ...), then its feedback."""
    lines = []
    for key, value in delivery.items():
        if isinstance(value, bool | int | float | str) and value != "":
            shown = f"{value:.1f}" if isinstance(value, float) else escape_markdown(str(value))
            lines.append(f"- {escape_markdown(str(key).replace('_', ' '))}: {shown}")
    feedback = delivery.get("feedback")
    if isinstance(feedback, list):
        lines += [f"- {escape_markdown(line)}" for line in feedback if isinstance(line, str) and line.strip()]
    return lines


def export_markdown(attempts: Iterable[Attempt], title: str = "Interview practice attempts") -> str:
    """A report a coach can send: each attempt's question, scores (coach beside automatic), answer, notes."""
    items = list(attempts)
    out = [f"# {escape_markdown(title)}", "", f"{len(items)} attempt(s), exported {_fmt_time(_now())}.", ""]
    for a in items:
        out += [f"## {escape_markdown(a.question_id)} ({escape_markdown(a.candidate.name)})", ""]
        if a.question:
            out += [f"**Question:** {escape_markdown(a.question)}", ""]
        out.append(
            f"- Date: {_fmt_time(a.created_at)}; track {escape_markdown(a.track)}, level "
            f"{escape_markdown(a.level)}, topic {escape_markdown(a.topic)}; answer {a.answer_mode}"
        )
        coverage = f"- Coverage: {_fmt_cov(a.coverage)} (automatic)"
        if a.coach_coverage is not None:
            by = f" by {escape_markdown(a.coach_coverage_by)}" if a.coach_coverage_by else ""
            coverage += f"; {_fmt_cov(a.coach_coverage)} (coach{by})"
        elif a.overrides and a.effective_coverage is not None:
            coverage += f"; {_fmt_cov(a.effective_coverage)} after the coach's key-point changes"
        out.append(coverage)
        if a.status != "scored":
            error = f": {escape_markdown(a.error)}" if a.error else ""
            out.append(f"- Not scored ({a.status}{error})")
        out.append("")
        if a.key_points:
            out += ["### Key points", ""]
            for i, point in enumerate(a.key_points):
                text = escape_markdown(str(point.get("text", "")))
                line = f"{i + 1}. **{a.automatic_status(i) or 'unknown'}**: {text}"
                coach = a.override(i)
                if coach:
                    line += f" (coach: **{coach.status}**, {escape_markdown(coach.author)})"
                out.append(line)
            out.append("")
        answer = a.answer_text or (a.transcript.text if a.transcript else "")
        heading = "Transcript" if a.answer_mode != "typed" else "Answer"
        out += [f"### {heading}", "", _quote(answer) if answer.strip() else "_(no words)_", ""]
        delivery = _delivery_lines(a.delivery or {})
        if delivery:
            out += ["### Delivery", "", *delivery, ""]
        if a.notes:
            out += ["### Notes", ""]
            for note in a.notes:
                body = escape_markdown(note.text).replace("\n", " ")
                out.append(f"- {_fmt_time(note.created_at)}, {escape_markdown(note.author)}: {body}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


CSV_COLUMNS: tuple[str, ...] = (
    "attempt_id",
    "created_at",
    "candidate",
    "session_id",
    "question_id",
    "track",
    "level",
    "topic",
    "question",
    "answer_mode",
    "status",
    "coverage",
    "coach_coverage",
    "effective_coverage",
    "covered",
    "partial",
    "missed",
    "key_points",
    "coach_overrides",
    "has_audio",
    "duration_seconds",
    "answer_text",
    "delivery",
    "notes",
    "error",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str | None) -> str:
    """User text kept as text in spreadsheets: a leading formula character gets a quote in front.

    Used by every CSV this app writes (this export, batch grading's results)."""
    value = text or ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def export_csv(attempts: Iterable[Attempt]) -> str:
    """One row per attempt with the columns of CSV_COLUMNS; key_points lists effective statuses in order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for a in attempts:
        statuses = a.key_point_statuses()
        writer.writerow(
            [
                a.id,
                _utc(a.created_at).isoformat(),
                spreadsheet_text(a.candidate.name),
                a.session_id or "",
                spreadsheet_text(a.question_id),
                spreadsheet_text(a.track),
                spreadsheet_text(a.level),
                spreadsheet_text(a.topic),
                spreadsheet_text(a.question),
                a.answer_mode,
                a.status,
                _num(a.coverage),
                _num(a.coach_coverage),
                _num(a.effective_coverage),
                statuses.count("covered"),
                statuses.count("partial"),
                statuses.count("missed"),
                "; ".join(s or "unknown" for s in statuses),
                spreadsheet_text("; ".join(f"{o.index + 1}={o.status} ({o.author})" for o in a.overrides)),
                "yes" if a.has_audio else "no",
                f"{a.transcript.duration:.1f}" if a.transcript else "",
                spreadsheet_text(a.answer_text),
                json.dumps(a.delivery, sort_keys=True) if a.delivery else "",
                spreadsheet_text(" | ".join(f"{n.author}: {n.text}" for n in a.notes)),
                spreadsheet_text(a.error),
            ]
        )
    return buffer.getvalue()
