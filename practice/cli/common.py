"""What the `practice` command's groups share: `UserError` (one line, exit status 2), the --bank and
model options, the bank and its questions loaded as a user error, and the errors a user can act on."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from practice.bank import Bank, BankError, Question, UnknownQuestionError
from practice.coach_bank import load_with_coach
from practice.settings import BANK_ENV_VAR
from practice.speech_in import DEFAULT_LIMITS, Transcriber, TranscriptionError, default_transcriber

F = TypeVar("F", bound=Callable[..., Any])


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


def load_bank(bank_dir: Path | None) -> Bank:
    try:
        return load_with_coach(bank_dir)
    except BankError as exc:
        raise UserError(f"Invalid question bank: {exc}") from exc


def bank_question(bank_dir: Path | None, question_id: str) -> Question:
    try:
        return load_bank(bank_dir).get(question_id)
    except UnknownQuestionError as exc:
        raise UserError(str(exc)) from exc


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


def transcriber(model: str | None) -> Transcriber:
    """The speech recogniser for `model`; a model that cannot be loaded is a user error."""
    with user_errors():
        return default_transcriber(model)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """The errors a user can act on, as one line; anything else is a bug and keeps its traceback."""
    from practice.offline import ModelLoadError
    from practice.scoring import EmptyAnswerError

    try:
        yield
    except (TranscriptionError, EmptyAnswerError, ModelLoadError) as exc:
        raise UserError(str(exc)) from exc
