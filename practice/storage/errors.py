"""The errors the storage package raises (its own module: the schema's migrations raise them too)."""

from __future__ import annotations


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
