"""Every attempt kept, in SQLite or a shared PostgreSQL; import from here, not from the modules.

- `records`: what the store hands back (Candidate, Attempt, Note, KeyPointOverride, User and its Role) and
  the attempt arithmetic (effective statuses and coverage under a coach's overrides); `clean_name`.
- `schema`: the tables, the migrations that build them, SCHEMA_VERSION, `schema_version()`, `migrate()`.
- `engine`: `open_store`, the default location, the engine for SQLite (WAL, busy timeout) or PostgreSQL.
- `store`: `Store`, every read and write (a coach's review in one transaction).
- `rows`: attempt rows read back into Attempts, with notes and overrides (`select_attempts`).
- `rounds`: quick-fire rounds' time limits and question clocks (`RoundTiming`, `QuestionClock`).
- `review`: a coach's review written one part at a time (note, key-point status, coverage).
- `codec`: the stored JSON of a Score, Delivery and Transcript, both ways (pydantic), old rows included.
- `errors`: `StorageError`, `NotFoundError`, `AuthenticationError` and `LoginLockedError`, `AccessDenied`;
  `guard`, driver errors turned into one `StorageError` sentence.
- `accounts`: `Accounts` (users, argon2 passwords, rate-limited `authenticate`, logins that expire, coach
  assignments), `login_required()` (PRACTICE_REQUIRE_LOGIN), `LOCAL_USER` for when logins are off.
- `access`: every access rule (`visible_candidates`, `visible_attempts`, `can_see`, `can_review`,
  `can_export`, `can_delete`, `can_open_attempt`, `can_open_session`, `require`).
- `owndata`: a candidate's own data as a zip, and deleting all of it (`Store.export_candidate`,
  `Store.delete_candidate`).
- `summary`: what an attempt says as plain text (`summarize`), laid out by the Markdown export and the
  PDF report (practice/report.py).
- `export`: Markdown and CSV exports of attempts, the name to save them under (`export_stem`), and
  `spreadsheet_text` (the CSV formula guard).
"""

from practice.storage import access
from practice.storage.accounts import LOCAL_USER, Accounts, LoginPolicy, login_required
from practice.storage.engine import open_store
from practice.storage.errors import (
    AccessDenied,
    AuthenticationError,
    LoginLockedError,
    NotFoundError,
    StorageError,
)
from practice.storage.export import CSV_COLUMNS, export_csv, export_markdown, export_stem, spreadsheet_text
from practice.storage.records import (
    KEY_POINT_STATUSES,
    AnswerMode,
    Attempt,
    Candidate,
    KeyPointOverride,
    Role,
    User,
)
from practice.storage.rounds import QuestionClock, RoundTiming
from practice.storage.schema import SCHEMA_VERSION, metadata, migrate, schema_version
from practice.storage.store import Store
from practice.storage.summary import AttemptSummary, KeyPointSummary, format_coverage, format_time, summarize

__all__ = [
    "CSV_COLUMNS",
    "KEY_POINT_STATUSES",
    "LOCAL_USER",
    "SCHEMA_VERSION",
    "AccessDenied",
    "Accounts",
    "AnswerMode",
    "Attempt",
    "AttemptSummary",
    "AuthenticationError",
    "Candidate",
    "KeyPointOverride",
    "KeyPointSummary",
    "LoginLockedError",
    "LoginPolicy",
    "NotFoundError",
    "QuestionClock",
    "Role",
    "RoundTiming",
    "StorageError",
    "Store",
    "User",
    "access",
    "export_csv",
    "export_markdown",
    "export_stem",
    "format_coverage",
    "format_time",
    "login_required",
    "metadata",
    "migrate",
    "open_store",
    "schema_version",
    "spreadsheet_text",
    "summarize",
]
