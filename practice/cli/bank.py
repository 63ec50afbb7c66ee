"""`practice bank`: check a question bank and list its questions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from practice.bank import LEVELS, BankError
from practice.cli.common import UserError, bank_option, load_bank
from practice.coach_bank import TRACK as COACH_TRACK
from practice.coach_bank import coach_bank_path, load_with_coach


@click.group()
def bank() -> None:
    """Check and list the question bank."""


@bank.command("check")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def bank_check(directory: Path | None) -> None:
    """Validate a bank folder (default: the bundled bank), with the coach's questions written in the app,
    and report every problem."""
    try:
        loaded = load_with_coach(directory)
    except BankError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise UserError(f"{len(exc.problems)} problem(s) found; the bank was not loaded.") from exc
    derived = sum(q.key_points_derived for q in loaded)
    note = f"; {derived} with key points derived from the model answer" if derived else ""
    coach = loaded.tracks.get(COACH_TRACK)
    if coach is not None and coach.source == coach_bank_path():
        note += f"; {len(loaded.select(track=COACH_TRACK))} of them the coach's ({coach.source})"
    click.echo(f"OK: {len(loaded)} questions in {len(loaded.tracks)} tracks ({loaded.directory}){note}")


@bank.command("list")
@bank_option
@click.option("--track", help="Only this track (slug).")
@click.option("--level", type=click.Choice(LEVELS), help="Only this level.")
@click.option("--topic", help="Only this topic.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def bank_list(
    bank_dir: Path | None, track: str | None, level: str | None, topic: str | None, as_json: bool
) -> None:
    """List questions."""
    loaded = load_bank(bank_dir)
    if track is not None and track not in loaded.tracks:
        raise UserError(f"Unknown track '{track}'; tracks are: {', '.join(loaded.tracks)}.")
    questions = loaded.select(track=track, level=level, topics=[topic] if topic else None)
    if as_json:
        rows = [
            {
                "id": q.id,
                "track": q.track,
                "level": q.level,
                "topic": q.topic,
                "kind": q.kind,
                "question": q.question,
                "key_points": [k.text for k in q.key_points],
            }
            for q in questions
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for q in questions:
        click.echo(f"{q.id:<58} {q.level:<12} {q.topic:<20} {q.question}")
    click.echo(f"{len(questions)} questions", err=True)
