"""The errors the storage package raises (its own module: the schema's migrations raise them too), and
`guard`, which turns a database driver's errors into one `StorageError` sentence a user can act on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import exc as sa_exc

from practice.settings import DATA_DIR_ENV_VAR, DATABASE_URL_ENV_VAR


class StorageError(RuntimeError):
    """The database could not be read or written; the message is one sentence a user can act on.

    `public` is the same sentence without file paths or server addresses, for a browser.
    """

    def __init__(self, message: str, *, public: str | None = None):
        super().__init__(message)
        self.public = public or message


class NotFoundError(LookupError):
    """No attempt (or coach note) with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Not found"


class AuthenticationError(Exception):
    """A login refused; the message never says whether the name or the password was wrong."""

    def __init__(self, message: str = "Wrong name or password."):
        super().__init__(message)


class LoginLockedError(AuthenticationError):
    """Too many wrong passwords for one name: no login with that name until `retry_at` (UTC)."""

    def __init__(self, retry_at: datetime, now: datetime):
        minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
        super().__init__(
            f"Too many wrong passwords for this name: try again in {minutes} minute{'s' * (minutes != 1)} "
            f"(at {retry_at:%H:%M} UTC)."
        )
        self.retry_at = retry_at


class AccessDenied(PermissionError):
    """The user's role does not allow this; the message is one sentence and names no other candidate."""


# --- driver errors in words ---------------------------------------------------------------------------


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
def guard(action: str, url: str) -> Iterator[None]:
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
