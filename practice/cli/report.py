"""`practice report`: a candidate's progress, or one practice session, as a PDF they can send."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from practice.cli.common import UserError

if TYPE_CHECKING:
    from datetime import datetime

    from practice.storage import Attempt, Candidate


@click.command("report")
@click.option("--candidate", required=True, help="The candidate's name, as given on the Practice page.")
@click.option(
    "--session",
    "session_id",
    help="A practice session's id, or 'latest' (default: the candidate's progress, no single session).",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True, help="PDF to write."
)
def report_command(candidate: str, session_id: str | None, output: Path) -> None:
    """Write a PDF a candidate can send: their progress with its chart, or one practice session."""
    from practice import progress
    from practice.report import progress_report, session_report
    from practice.storage import StorageError, open_store

    try:
        with open_store() as store:
            attempts = store.attempts(candidate=candidate)
            name = attempts[0].candidate.name if attempts else _candidate_name(store.candidates(), candidate)
            sessions = _sessions(attempts)
            if session_id == "latest" and sessions:
                session_id = sessions[0][0]
            if session_id is None:
                pdf = progress_report(name, progress.scored(attempts))
            elif store.session_candidate(session_id) != name:
                raise UserError(f"{name} has no session '{session_id}'. {_sessions_line(name, sessions)}")
            else:
                pdf = session_report(name, [a for a in attempts if a.session_id == session_id])
    except StorageError as exc:
        raise UserError(str(exc)) from exc
    try:
        output.write_bytes(pdf)
    except OSError as exc:
        raise UserError(f"Cannot write {output}: {exc.strerror or exc}.") from exc
    click.echo(f"Wrote {output}", err=True)


def _candidate_name(candidates: list[Candidate], wanted: str) -> str:
    """The stored spelling of a name, matched as the store matches names (case and spacing aside)."""
    key = " ".join(wanted.split()).casefold()
    for c in candidates:
        if " ".join(c.name.split()).casefold() == key:
            return c.name
    names = ", ".join(c.name for c in candidates[:10]) + (", ..." if len(candidates) > 10 else "")
    raise UserError(f"No candidate named '{wanted}'; candidates are: {names or 'none yet'}.")


def _sessions(attempts: list[Attempt]) -> list[tuple[str, datetime]]:
    """The sessions with answers and when each began, latest first."""
    began: dict[str, datetime] = {}
    for a in sorted(attempts, key=lambda a: a.created_at):
        if a.session_id:
            began.setdefault(a.session_id, a.created_at)
    return sorted(began.items(), key=lambda item: item[1], reverse=True)


def _sessions_line(name: str, sessions: list[tuple[str, datetime]]) -> str:
    from practice.storage import format_time

    if not sessions:
        return f"{name} has no session with an answer yet."
    latest = ", ".join(f"{sid} ({format_time(began)})" for sid, began in sessions[:5])
    return f"{name}'s latest sessions: {latest}."
