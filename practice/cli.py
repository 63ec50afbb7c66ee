"""The `practice` command: a thin click layer over the package. Errors become one line and exit status 2."""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from practice.bank import LEVELS, Bank, BankError, Question, UnknownQuestionError
from practice.coach_bank import TRACK as COACH_TRACK
from practice.coach_bank import coach_bank_path, load_with_coach
from practice.files import MEGABYTE, FileReadError, read_text_limited
from practice.settings import BANK_ENV_VAR
from practice.speech_in import (
    DEFAULT_LIMITS,
    AudioLimits,
    Transcriber,
    TranscriptionError,
    default_transcriber,
    read_recording,
)
from practice.transcript import clock

if TYPE_CHECKING:
    from datetime import datetime

    from practice.storage import Attempt, Candidate

F = TypeVar("F", bound=Callable[..., Any])
MAX_ANSWER_BYTES = MEGABYTE  # a typed answer of a few hundred words is a few kilobytes


class UserError(click.ClickException):
    """Something the user can fix; shown as one line, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def bank_option(func: F) -> F:
    return click.option(
        "--bank",
        "bank_dir",
        type=click.Path(path_type=Path),
        envvar=BANK_ENV_VAR,  # click reads it here; the app reads it through practice.settings.bank_dir
        help=f"Question bank folder (default: the bundled bank; env {BANK_ENV_VAR}).",
    )(func)


def _load(bank_dir: Path | None) -> Bank:
    try:
        return load_with_coach(bank_dir)
    except BankError as exc:
        raise UserError(f"Invalid question bank: {exc}") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="interview-practice")
def main() -> None:
    """Rehearse ML and AI interview questions out loud, offline."""


@main.group()
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
    loaded = _load(bank_dir)
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


def _question(bank_dir: Path | None, question_id: str) -> Question:
    try:
        return _load(bank_dir).get(question_id)
    except UnknownQuestionError as exc:
        raise UserError(str(exc)) from exc


def _read_answer(text: str | None, text_file: Path | None) -> str:
    if (text is None) == (text_file is None):
        raise UserError("Give the answer with exactly one of --text, --text-file or --audio.")
    if text_file is not None:
        try:
            if str(text_file) == "-":
                text = sys.stdin.read(MAX_ANSWER_BYTES + 1)
                if len(text) > MAX_ANSWER_BYTES:
                    raise UserError("The answer on standard input is longer than the 1 MB limit.")
            else:
                text = read_text_limited(text_file, MAX_ANSWER_BYTES)
        except FileReadError as exc:
            raise UserError(f"Cannot read the answer file {text_file}: {exc.reason}.") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"Cannot read the answer file {text_file}: {exc.__class__.__name__}.") from exc
    assert text is not None
    if not text.strip():
        raise UserError("The answer is empty: say or type something to score.")
    return text


def model_options(func: F) -> F:
    func = click.option(
        "--max-seconds",
        type=click.FloatRange(min=1),
        default=DEFAULT_LIMITS.max_seconds,
        show_default=True,
        help="Longest recording accepted.",
    )(func)
    return click.option(
        "--model",
        help="Whisper model: tiny.en (default, bundled), base (bundled), a CTranslate2 folder, or a hub name "
        "when online.",
    )(func)


@main.command()
@bank_option
@click.option("--question", "question_id", required=True, help="Question id (see `practice bank list`).")
@click.option("--text", help="The answer as text.")
@click.option(
    "--text-file", type=click.Path(path_type=Path), help="A file holding the answer ('-' for stdin)."
)
@click.option("--audio", type=click.Path(path_type=Path), help="A recording of the answer.")
@model_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def score(
    bank_dir: Path | None,
    question_id: str,
    text: str | None,
    text_file: Path | None,
    audio: Path | None,
    model: str | None,
    max_seconds: float,
    as_json: bool,
) -> None:
    """Score an answer, typed or recorded, for coverage of a question's key points."""
    from practice.assess import assess_audio, assess_text

    question = _question(bank_dir, question_id)
    if audio is not None:
        if text is not None or text_file is not None:
            raise UserError("Give the answer with exactly one of --text, --text-file or --audio.")
        limits = AudioLimits(max_seconds=max_seconds)
        with _user_errors():
            recording = read_recording(audio, limits)  # a device or pipe is refused before the model loads
            result = assess_audio(question, recording, transcriber=_transcriber(model), limits=limits)
    else:
        answer = _read_answer(text, text_file)
        with _user_errors():
            result = assess_text(question, answer)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    click.echo(f"{question.id}  ({question.track}, {question.level})")
    click.echo(question.question)
    if result.transcript is not None:
        click.echo(f"\nTranscript ({clock(result.transcript.duration)}, {result.transcript.model}):")
        click.echo(textwrap.fill(result.transcript.text, 100, initial_indent="  ", subsequent_indent="  "))
    click.echo(f"\nCoverage: {result.score.coverage:.0f}/100\n")
    marks = {"covered": "[x]", "partial": "[~]", "missed": "[ ]"}
    for point, when in zip(result.score.key_points, result.said_at(), strict=True):
        at = f" at {clock(when)}" if when is not None else ""
        opposite = "  - you said the opposite" if point.contradicted else ""
        click.echo(
            f"{marks[point.status]} {point.status:<8} {point.key_point.text}  "
            f"(score {point.score:.2f}{at}){opposite}"
        )
        if point.evidence:
            click.echo(f'             "{point.evidence.text}"')
    if result.follow_up():
        click.echo(f"\nFollow-up: {result.follow_up()}")
    if result.delivery is not None:
        click.echo("\nDelivery:")
        for line in result.delivery.feedback() or ["Nothing to flag."]:
            click.echo(f"  - {line}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@model_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON: words with times and delivery metrics.")
def transcribe(file: Path, model: str | None, max_seconds: float, as_json: bool) -> None:
    """Transcribe a recording (WAV, WebM, OGG, MP3, M4A, FLAC) offline, with word times."""
    from practice.scoring.delivery import measure_delivery

    limits = AudioLimits(max_seconds=max_seconds)
    with _user_errors():
        recording = read_recording(file, limits)  # a device or pipe is refused before the model loads
        transcript = _transcriber(model).transcribe(recording, limits=limits)
    delivery = measure_delivery(transcript.words, transcript.duration)
    if as_json:
        click.echo(json.dumps({**transcript.to_dict(), "delivery": delivery.to_dict()}, indent=2))
        return
    click.echo(textwrap.fill(transcript.text, 100))
    click.echo(
        f"\n{len(transcript.words)} words in {clock(transcript.duration)} ({transcript.model})", err=True
    )
    for line in delivery.feedback():
        click.echo(f"  - {line}", err=True)


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="Results: .csv or .jsonl."
)
@bank_option
@model_options
@click.option(
    "--workers", type=click.IntRange(1, 16), default=2, show_default=True, help="Recordings at once."
)
def grade(
    input_path: Path, output: Path, bank_dir: Path | None, model: str | None, max_seconds: float, workers: int
) -> None:
    """Grade a sheet of answers (CSV or JSONL, typed `answer` or `audio` path per row) into OUTPUT.

    A row names a bank question by `question_id`, or brings its own `question`, `model_answer` and optional
    `key_points`. Re-running on the same OUTPUT skips rows already graded. Exit status 1 if any row failed.
    """
    from practice.grading import GradingError, grade_file
    from practice.scoring import default_scorer

    bank = _load(bank_dir)
    bar: Any = None

    def on_start(total: int) -> None:
        nonlocal bar
        bar = click.progressbar(length=total, label="Grading", show_eta=True, show_pos=True, file=sys.stderr)
        bar.__enter__()

    def load_transcriber() -> Transcriber:
        with _user_errors():
            return Transcriber(model, cpu_threads=1 if workers > 1 else None, workers=workers)

    try:
        with _user_errors():
            summary = grade_file(
                input_path,
                output,
                bank=bank,
                scorer=default_scorer,
                transcriber=load_transcriber,
                limits=AudioLimits(max_seconds=max_seconds),
                workers=workers,
                on_start=on_start,
                on_progress=lambda n: bar.update(n),
            )
    except GradingError as exc:
        raise UserError(str(exc)) from exc
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for failure in summary.failed:
        click.echo(f"Failed {failure.error}", err=True)
    skipped = f", {summary.skipped} already graded" if summary.skipped else ""
    click.echo(
        f"Graded {summary.graded - len(summary.failed)} of {summary.total} rows into {output}{skipped}; "
        f"{len(summary.failed)} failed.",
        err=True,
    )
    if summary.failed:
        sys.exit(1)


def _transcriber(model: str | None) -> Transcriber:
    with _user_errors():
        return default_transcriber(model)


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """The errors a user can act on, as one line; anything else is a bug and keeps its traceback."""
    from practice.offline import ModelLoadError
    from practice.scoring import EmptyAnswerError

    try:
        yield
    except (TranscriptionError, EmptyAnswerError, ModelLoadError) as exc:
        raise UserError(str(exc)) from exc


@main.command()
@bank_option
@click.option("--question", "question_id", required=True, help="Question id (see `practice bank list`).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="WAV file to write.")
@click.option(
    "--voice",
    help="piper (natural), espeak, or an espeak voice id or name (see `practice voices`); "
    "default: $PRACTICE_VOICE, else espeak. Piper falls back to espeak if it cannot be used.",
)
@click.option("--rate", type=int, default=None, help="Speaking rate in words per minute (default 165).")
def speak(bank_dir: Path | None, question_id: str, output: Path, voice: str | None, rate: int | None) -> None:
    """Write a question, read aloud, to a WAV file."""
    from practice.speech_out import DEFAULT_RATE, SpeechError, synthesize

    question = _question(bank_dir, question_id)
    try:
        audio = synthesize(question.question, voice=voice, rate=rate or DEFAULT_RATE)
        output.write_bytes(audio)
    except SpeechError as exc:
        raise UserError(str(exc)) from exc
    except OSError as exc:
        raise UserError(f"Cannot write {output}: {exc.strerror or exc}.") from exc
    click.echo(f"Wrote {output}", err=True)


@main.command()
def voices() -> None:
    """List the text-to-speech voices: piper's natural one, then espeak's (pyttsx3's)."""
    from practice.speech_out import SpeechError
    from practice.speech_out import voices as list_voices

    try:
        for voice in list_voices():
            click.echo(f"{voice.id:<28} {voice.name}")
    except SpeechError as exc:
        raise UserError(str(exc)) from exc


@main.command("report")
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


# --- accounts for a shared server (docs/shared-server.md) ------------------------------------------------


@main.group()
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


@main.command("export-candidate")
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


@main.command("delete-candidate")
@click.argument("name")
@click.confirmation_option(prompt="Delete this candidate with all their attempts, recordings and notes?")
def delete_candidate(name: str) -> None:
    """Delete a candidate and everything about them, their account included (`--yes` to skip asking)."""
    with _accounts() as accounts:
        removed = accounts.store.delete_candidate(name)
    click.echo(f"Deleted {_shown(_checked_name(name))} and {removed} attempt(s).", err=True)
