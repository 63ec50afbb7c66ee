"""Every attempt kept, in SQLite or a shared PostgreSQL; import from here, not from the modules.

- `records`: what the store hands back (Candidate, Attempt, Note, KeyPointOverride) and the attempt
  arithmetic (effective statuses and coverage under a coach's overrides); `clean_name`.
- `schema`: the tables, the migrations that build them, SCHEMA_VERSION, `schema_version()`, `migrate()`.
- `store`: `Store` (every read and write, a coach's review in one transaction), `open_store`, the default
  location, SQLite's configuration, and driver errors turned into one `StorageError` sentence.
- `codec`: the stored JSON of a Score, Delivery and Transcript, both ways (pydantic), old rows included.
- `errors`: `StorageError`, `NotFoundError`.
- `export`: Markdown and CSV exports of attempts, the name to save them under (`export_stem`), and
  `spreadsheet_text` (the CSV formula guard).
"""

from practice.storage.errors import NotFoundError, StorageError
from practice.storage.export import CSV_COLUMNS, export_csv, export_markdown, export_stem, spreadsheet_text
from practice.storage.records import KEY_POINT_STATUSES, AnswerMode, Attempt, Candidate, KeyPointOverride
from practice.storage.schema import SCHEMA_VERSION, metadata, migrate, schema_version
from practice.storage.store import Store, open_store

__all__ = [
    "CSV_COLUMNS",
    "KEY_POINT_STATUSES",
    "SCHEMA_VERSION",
    "AnswerMode",
    "Attempt",
    "Candidate",
    "KeyPointOverride",
    "NotFoundError",
    "StorageError",
    "Store",
    "export_csv",
    "export_markdown",
    "export_stem",
    "metadata",
    "migrate",
    "open_store",
    "schema_version",
    "spreadsheet_text",
]
