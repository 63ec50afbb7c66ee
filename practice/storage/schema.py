"""The database's shape: its tables, the migrations that build them, and the schema version.

The schema is versioned by a short list of migration functions (`MIGRATIONS`) and upgraded when a store
is opened (`migrate`); each migration is a frozen snapshot, never edited once released. The code keeps to
portable types (JSON, LargeBinary, timezone-aware DateTime) so the same tables work on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from practice.storage.errors import StorageError
from practice.storage.records import MAX_NAME_LENGTH, as_utc, utc_now


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which stores naive text) as on PostgreSQL (timestamptz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
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


def _account_tables(md: sa.MetaData) -> dict[str, sa.Table]:
    """Schema version 3: accounts, coach assignments, login sessions and failed logins.

    A candidate user is tied to the candidate record by name (`name_key`), not by a key, so an account
    made for a name that already practised owns those attempts. `logins` keeps only a hash of each token.
    `login_failures` is one row per wrong password, so several app processes count them together.
    """
    users = sa.Table(
        "users",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False),
        sa.Column("name_key", sa.String(MAX_NAME_LENGTH), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    assignments = sa.Table(
        "coach_assignments",
        md,
        sa.Column("coach_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "candidate_id",
            sa.Integer,
            sa.ForeignKey("candidates.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    logins = sa.Table(
        "logins",
        md,
        sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 hex of the token
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False, index=True),
    )
    failures = sa.Table(
        "login_failures",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name_key", sa.String(MAX_NAME_LENGTH), nullable=False),
        sa.Column("failed_at", UTCDateTime, nullable=False),
        sa.Index("ix_login_failures_name_failed", "name_key", "failed_at"),
    )
    return {t.name: t for t in (users, assignments, logins, failures)}


def _round_tables(md: sa.MetaData) -> dict[str, sa.Table]:
    """Schema version 4: quick-fire rounds. A session with a row in `quickfire_rounds` is a round, with its
    time limit per answer; `quickfire_clocks` holds when each of its questions was first shown. Kept here
    and not in the page's address, so that editing a link cannot give an answer more time."""
    rounds = sa.Table(
        "quickfire_rounds",
        md,
        sa.Column(
            "session_id", sa.String(36), sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("seconds", sa.Integer, nullable=False),
    )
    clocks = sa.Table(
        "quickfire_clocks",
        md,
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("quickfire_rounds.session_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("question_id", sa.Text, primary_key=True),
        sa.Column("shown_at", UTCDateTime, nullable=False),
    )
    return {t.name: t for t in (rounds, clocks)}


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


def _migrate_to_3(conn: Connection) -> None:
    md = sa.MetaData()
    _base_tables(md)  # so the new tables' foreign keys resolve; create_all skips what exists
    tables = _account_tables(md)
    md.create_all(conn, tables=list(tables.values()))


def _migrate_to_4(conn: Connection) -> None:
    md = sa.MetaData()
    _base_tables(md)  # so the new tables' foreign keys resolve; create_all skips what exists
    tables = _round_tables(md)
    md.create_all(conn, tables=list(tables.values()))


# Index i upgrades a database from version i to i + 1. Append; never edit a released migration.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _migrate_to_1,
    _migrate_to_2,
    _migrate_to_3,
    _migrate_to_4,
)
SCHEMA_VERSION = len(MIGRATIONS)
_PG_MIGRATION_LOCK = 0x70726163  # any constant: serialises migrations of several machines on one server

# The current shape, used by the queries; tests check a migrated database matches it.
metadata = sa.MetaData()
_tables = {
    **_base_tables(metadata),
    **_review_tables(metadata),
    **_account_tables(metadata),
    **_round_tables(metadata),
}
for _name, _type in _COACH_COLUMNS:
    _tables["attempts"].append_column(sa.Column(_name, _type, nullable=True))
candidates_table = _tables["candidates"]
sessions_table = _tables["sessions"]
attempts_table = _tables["attempts"]
recordings_table = _tables["recordings"]
notes_table = _tables["notes"]
overrides_table = _tables["key_point_overrides"]
users_table = _tables["users"]
assignments_table = _tables["coach_assignments"]
logins_table = _tables["logins"]
login_failures_table = _tables["login_failures"]
quickfire_rounds_table = _tables["quickfire_rounds"]
quickfire_clocks_table = _tables["quickfire_clocks"]
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
                conn.execute(sa.insert(schema_version_table).values(version=version, applied_at=utc_now()))
            return max(current, target)
