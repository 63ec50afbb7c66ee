"""The errors the storage package raises (its own module: the schema's migrations raise them too)."""

from __future__ import annotations

import math
from datetime import datetime


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
