"""Opening the database: `open_store`, the default location, and the engine for SQLite or PostgreSQL.

SQLite (the default) runs in WAL mode with a busy timeout and every write transaction starts with
BEGIN IMMEDIATE: writers queue for the lock instead of failing with "database is locked" halfway
through, and readers never wait. `PRACTICE_DATABASE_URL=postgresql+psycopg://...` works too; PostgreSQL
needs a driver installed (`pip install "psycopg[binary]"`). `make test` runs the storage tests against
both: it starts a local PostgreSQL (.ci/postgres.sh) and passes its URL as PRACTICE_TEST_POSTGRES_URL.

A URL that cannot be used becomes one `StorageError` sentence with its password hidden.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from practice import settings
from practice.storage.errors import StorageError, guard
from practice.storage.schema import migrate
from practice.storage.store import Store

DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a SQLite writer waits for another session's write to finish


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
            _set_wal(cursor, busy_timeout)
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


def _set_wal(cursor: sqlite3.Cursor, busy_timeout: float) -> None:
    """Switch to WAL (kept in the file, so only a new file really changes). While another connection is
    writing a new file (another process creating the schema), SQLite refuses the switch at once, without
    waiting its busy timeout: wait here instead, up to that timeout."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


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
        with guard("open the database", shown):
            migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, shown)


def _redact_url(raw: str) -> str:
    """A URL that did not parse, with whatever stands before its host's '@' (user, password) hidden."""
    scheme, sep, rest = raw.partition("://")
    if not sep:
        scheme, rest = "", raw
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    return re.sub(r"(?i)(password=)[^&;\s]*", r"\1***", f"{scheme}{sep}{rest}")
