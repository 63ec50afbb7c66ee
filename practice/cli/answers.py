"""`practice score`, `transcribe` and `grade`: one answer scored, one recording transcribed, a sheet of
answers graded."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from practice.cli.common import (
    UserError,
    bank_option,
    bank_question,
    load_bank,
    model_options,
    transcriber,
    user_errors,
)
from practice.files import MEGABYTE, FileReadError, read_text_limited
from practice.speech_in import AudioLimits, Transcriber, read_recording
from practice.transcript import clock

MAX_ANSWER_BYTES = MEGABYTE  # a typed answer of a few hundred words is a few kilobytes


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


@click.command()
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

    question = bank_question(bank_dir, question_id)
    if audio is not None:
        if text is not None or text_file is not None:
            raise UserError("Give the answer with exactly one of --text, --text-file or --audio.")
        limits = AudioLimits(max_seconds=max_seconds)
        with user_errors():
            recording = read_recording(audio, limits)  # a device or pipe is refused before the model loads
            result = assess_audio(question, recording, transcriber=transcriber(model), limits=limits)
    else:
        answer = _read_answer(text, text_file)
        with user_errors():
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


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@model_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON: words with times and delivery metrics.")
def transcribe(file: Path, model: str | None, max_seconds: float, as_json: bool) -> None:
    """Transcribe a recording (WAV, WebM, OGG, MP3, M4A, FLAC) offline, with word times."""
    from practice.scoring.delivery import measure_delivery

    limits = AudioLimits(max_seconds=max_seconds)
    with user_errors():
        recording = read_recording(file, limits)  # a device or pipe is refused before the model loads
        transcript = transcriber(model).transcribe(recording, limits=limits)
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


@click.command()
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
    from practice.grading import grade_file
    from practice.grading_rows import GradingError
    from practice.scoring import default_scorer

    bank = load_bank(bank_dir)
    bar: Any = None

    def on_start(total: int) -> None:
        nonlocal bar
        bar = click.progressbar(length=total, label="Grading", show_eta=True, show_pos=True, file=sys.stderr)
        bar.__enter__()

    def load_transcriber() -> Transcriber:
        with user_errors():
            return Transcriber(model, cpu_threads=1 if workers > 1 else None, workers=workers)

    try:
        with user_errors():
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
