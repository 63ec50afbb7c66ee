"""`practice speak` and `voices`: a question read aloud into a WAV file, and the voices there are."""

from __future__ import annotations

from pathlib import Path

import click

from practice.cli.common import UserError, bank_option, bank_question


@click.command()
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

    question = bank_question(bank_dir, question_id)
    try:
        audio = synthesize(question.question, voice=voice, rate=rate or DEFAULT_RATE)
        output.write_bytes(audio)
    except SpeechError as exc:
        raise UserError(str(exc)) from exc
    except OSError as exc:
        raise UserError(f"Cannot write {output}: {exc.strerror or exc}.") from exc
    click.echo(f"Wrote {output}", err=True)


@click.command()
def voices() -> None:
    """List the text-to-speech voices: piper's natural one, then espeak's (pyttsx3's)."""
    from practice.speech_out import SpeechError
    from practice.speech_out import voices as list_voices

    try:
        for voice in list_voices():
            click.echo(f"{voice.id:<28} {voice.name}")
    except SpeechError as exc:
        raise UserError(str(exc)) from exc
