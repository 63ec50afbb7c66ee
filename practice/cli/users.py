"""`practice users` (accounts for a shared server, docs/shared-server.md), and a candidate's own data:
`practice export-candidate` and `delete-candidate`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from practice.cli.common import UserError


@click.group()
def users() -> None:
    """Accounts for a shared server (PRACTICE_REQUIRE_LOGIN=1) in the app's database.

    The database is PRACTICE_DATABASE_URL, else the app's default. Passwords are read from standard
    input: asked twice, hidden, when typed; one line when piped. Never give one as an argument.
    """


@contextlib.contextmanager
def _accounts() -> Iterator[Any]:
    """The app's accounts; a storage error, an unknown name or a refused value as one line."""
    from practice.storage import Accounts, NotFoundError, StorageError, open_store

    try:
        with open_store() as store:
            yield Accounts(store)
    except (StorageError, NotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from exc


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def _read_password() -> str:
    """A new password from standard input, never from the command line (where `ps` and history see it)."""
    from practice.storage.accounts import MAX_PASSWORD_LENGTH, check_password

    if _stdin_is_tty():
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt="Repeat the password", err=True
        )
    else:
        line = sys.stdin.readline(MAX_PASSWORD_LENGTH + 2)
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise UserError("No password on standard input: type it when asked, or pipe one line.")
    try:
        return check_password(password)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def _checked_name(name: str) -> str:
    """The name as the store will keep it, checked before a password is asked for."""
    from practice.storage.records import clean_name

    try:
        return clean_name(name)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def _shown(text: str) -> str:
    """A stored name safe to print: control characters (terminal escapes) shown as '?'."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


@users.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(["candidate", "coach", "admin"]), required=True, help="What they may do."
)
def users_add(name: str, role: str) -> None:
    """Add an account. A candidate's is tied to the attempts saved under the same name."""
    cleaned = _checked_name(name)
    password = _read_password()
    with _accounts() as accounts:
        user = accounts.add_user(cleaned, role, password)
    click.echo(f"Added {_shown(user.name)} ({user.role}).", err=True)


@users.command("list")
def users_list() -> None:
    """Every account: name, role, and a coach's candidates or a candidate's coaches (no passwords)."""
    with _accounts() as accounts:
        for user in accounts.users():
            if user.role == "coach":
                people = [c.name for c in accounts.assigned(user.name)]
            elif user.role == "candidate":
                people = [c.name for c in accounts.coaches_of(user.name)]
            else:
                people = []
            click.echo(f"{_shown(user.name):<30} {user.role:<10} {_shown(', '.join(people))}".rstrip())


@users.command("assign")
@click.argument("coach")
@click.argument("candidate")
def users_assign(coach: str, candidate: str) -> None:
    """Let COACH see and review CANDIDATE's attempts."""
    with _accounts() as accounts:
        accounts.assign(coach, candidate)
    click.echo(f"{_shown(coach)} now reviews {_shown(candidate)}.", err=True)


@users.command("unassign")
@click.argument("coach")
@click.argument("candidate")
def users_unassign(coach: str, candidate: str) -> None:
    """COACH no longer sees CANDIDATE's attempts."""
    with _accounts() as accounts:
        accounts.unassign(coach, candidate)
    click.echo(f"{_shown(coach)} no longer reviews {_shown(candidate)}.", err=True)


@users.command("passwd")
@click.argument("name")
def users_passwd(name: str) -> None:
    """Set a new password (read from standard input); the user's open logins end."""
    cleaned = _checked_name(name)
    with _accounts() as accounts:
        accounts.user(cleaned)  # an unknown name is refused before the password is asked for
    password = _read_password()
    with _accounts() as accounts:
        user = accounts.set_password(cleaned, password)
    click.echo(f"Changed the password of {_shown(user.name)}.", err=True)


@users.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Remove an account and its logins; a candidate's attempts stay (see `practice delete-candidate`)."""
    with _accounts() as accounts:
        user = accounts.remove_user(name)
    click.echo(f"Removed the account of {_shown(user.name)} ({user.role}).", err=True)


@click.command("export-candidate")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Zip file to write.",
)
def export_candidate(name: str, output: Path) -> None:
    """Everything stored about a candidate, as a zip: candidate.json and their recordings."""
    with _accounts() as accounts:
        data = accounts.store.export_candidate(name)
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise UserError(f"Cannot write {output}: {exc.strerror or exc}.") from exc
    click.echo(f"Wrote {output}", err=True)


@click.command("delete-candidate")
@click.argument("name")
@click.confirmation_option(prompt="Delete this candidate with all their attempts, recordings and notes?")
def delete_candidate(name: str) -> None:
    """Delete a candidate and everything about them, their account included (`--yes` to skip asking)."""
    with _accounts() as accounts:
        removed = accounts.store.delete_candidate(name)
    click.echo(f"Deleted {_shown(_checked_name(name))} and {removed} attempt(s).", err=True)
