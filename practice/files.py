"""Reading a file a user named: only a regular file, and never more than a limit.

A path can name a device (`/dev/zero` never ends), a FIFO (opening it waits for a writer), a folder, or a
symlink to any of these. Each is refused with one sentence before a byte is read, and a regular file that
is larger than the caller's limit is refused rather than read whole.
"""

from __future__ import annotations

import os
import stat

MEGABYTE = 1 << 20


class FileReadError(ValueError):
    """The file cannot be read (missing, not a regular file, too large); the message is one sentence."""

    def __init__(self, path: str | os.PathLike[str], reason: str):
        self.path = path
        self.reason = reason  # e.g. "it is a device, not a regular file"
        super().__init__(f"Could not read {path}: {reason}.")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _size(limit: int) -> str:
    return f"{limit / MEGABYTE:.0f} MB" if limit >= MEGABYTE else f"{limit} bytes"


def check_regular(path: str | os.PathLike[str]) -> os.stat_result:
    """The file's status (symlinks followed), or FileReadError when it is missing or not a regular file."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise FileReadError(path, exc.strerror or str(exc)) from exc
    if not stat.S_ISREG(info.st_mode):
        raise FileReadError(path, f"it is {_kind(info.st_mode)}, not a regular file")
    return info


def read_limited(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; FileReadError (one sentence) otherwise."""
    info = check_regular(path)
    if info.st_size > limit:
        raise FileReadError(path, f"it is larger than the {_size(limit)} limit")
    try:
        # O_NONBLOCK: should the path have become a FIFO since the check, opening it does not wait.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise FileReadError(path, exc.strerror or str(exc)) from exc
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise FileReadError(path, "it is not a regular file")
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise FileReadError(path, exc.strerror or str(exc)) from exc
    if len(data) > limit:
        raise FileReadError(path, f"it is larger than the {_size(limit)} limit")
    return data


def read_text_limited(path: str | os.PathLike[str], limit: int, encoding: str = "utf-8") -> str:
    """As `read_limited`, decoded; a file that is not text in `encoding` is FileReadError too."""
    data = read_limited(path, limit)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = encoding.upper().removesuffix("-SIG")
        raise FileReadError(path, f"it is not {name} text") from exc
