"""Batch grading: a sheet of typed answers or a folder of recordings, graded in one run, resumable.

Each input row becomes one output row with every input column kept. Results are appended as they are
made, so an interrupted run loses nothing; re-running on the same output skips rows already graded
(matched by line and content) and retries rows that failed, and a last row cut off mid-write. Typed
answers are scored in batches (one embedding call each); recordings are transcribed two at a time, one
per core.

Nothing is changed silently: a CSV whose quotes do not pair up is refused with the line where the quoted
value starts (it would glue the rows after it into one answer), line breaks inside a quoted answer are
kept, an output that is the input itself is refused, and text that a spreadsheet would run as a formula
(`=`, `+`, `-`, `@` first) is written to a CSV output with a quote in front, as the Review export does.

This module is the run (`grade_file`); the input sheet and each row's question are read in
`grading_input`, the results file is `grading_output`, and the Row and Result they share `grading_rows`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from practice.assess import Assessment, assess_audio
from practice.bank import Bank, Question
from practice.grading_input import QuestionResolver, read_rows
from practice.grading_output import Output
from practice.grading_rows import GradingError, Result, Row, RowError
from practice.scoring.coverage import CoverageScorer
from practice.scoring.evidence import EmptyAnswerError
from practice.scoring.results import Score
from practice.speech_in import DEFAULT_LIMITS, AudioLimits, Transcriber, TranscriptionError

TYPED_BATCH = 32


@dataclass(frozen=True)
class Summary:
    total: int
    skipped: int  # already graded in an earlier run
    graded: int
    failed: list[Result]


def grade_file(
    input_path: Path,
    output_path: Path,
    *,
    bank: Bank | None,
    scorer: Callable[[], CoverageScorer],
    transcriber: Callable[[], Transcriber],
    limits: AudioLimits = DEFAULT_LIMITS,
    workers: int = 2,
    on_progress: Callable[[int], None] = lambda n: None,
    on_start: Callable[[int], None] = lambda total: None,
) -> Summary:
    """Grade every row not graded yet. The models are loaded (by calling `scorer`, `transcriber`) only
    once the files are known to be usable, and the recogniser only if there are recordings."""
    if _same_file(input_path, output_path):
        raise GradingError(
            f"The output {output_path} is the input file itself, which writing results would overwrite: "
            "choose another output file."
        )
    rows, broken = read_rows(input_path)
    columns = list(dict.fromkeys(k for r in rows for k in r.data))
    output = Output(output_path, columns, {r.key for r in rows})
    todo = [r for r in rows if r.key not in output.done]
    on_start(len(todo) + len(broken))
    resolve = QuestionResolver(bank)
    failed: list[Result] = []
    # loaded before any result is written (a scorer that cannot load leaves none), and only if a row needs it
    judge = scorer() if todo else None

    def emit(result: Result) -> None:
        if result.error:
            failed.append(result)
        output.append(result.record())
        on_progress(1)

    for result in broken:
        emit(result)
    if judge is not None:
        _grade_rows(
            todo, resolve, judge, transcriber, emit, base=input_path.parent, limits=limits, workers=workers
        )
    output.finish()
    return Summary(len(rows) + len(broken), len(rows) - len(todo), len(todo) + len(broken), failed)


def _grade_rows(
    rows: Sequence[Row],
    resolve: QuestionResolver,
    judge: CoverageScorer,
    transcriber: Callable[[], Transcriber],
    emit: Callable[[Result], None],
    *,
    base: Path,
    limits: AudioLimits,
    workers: int,
) -> None:
    """Typed answers in batches of TYPED_BATCH, then the recordings `workers` at a time (the recogniser is
    loaded only if there are any, their paths relative to `base`), every result handed to `emit`."""
    typed = [r for r in rows if not r.is_audio]
    audio = [r for r in rows if r.is_audio]
    for start in range(0, len(typed), TYPED_BATCH):
        for result in _grade_typed(typed[start : start + TYPED_BATCH], resolve, judge):
            emit(result)
    if audio:
        model = transcriber()

        def one(row: Row) -> Result:
            return _grade_audio(row, resolve, judge, model, base, limits)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for result in pool.map(one, audio):
                emit(result)


def _same_file(a: Path, b: Path) -> bool:
    """The same file by path (links resolved) or, when both exist, by device and inode (hard links)."""
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _fail(row: Row, reason: str) -> Result:
    return Result(row, None, f"line {row.line}: {reason}")


def _grade_typed(rows: Sequence[Row], resolve: QuestionResolver, scorer: CoverageScorer) -> list[Result]:
    results: dict[int, Result] = {}
    ready: list[tuple[int, Question, str]] = []
    for i, row in enumerate(rows):
        try:
            question = resolve(row.data)
        except RowError as exc:
            results[i] = _fail(row, str(exc))
            continue
        answer = str(row.data.get("answer") or "")
        if not answer.strip():
            results[i] = _fail(row, "the answer is empty (give `answer` text or an `audio` path).")
            continue
        ready.append((i, question, answer))
    if ready:
        scores: list[Score | EmptyAnswerError]
        try:
            scores = list(scorer.score_many([(q, a) for _, q, a in ready]))
        except EmptyAnswerError:  # one answer of filler words: score one by one to find it
            scores = []
            for _, q, a in ready:
                try:
                    scores.append(scorer.score(q, a))
                except EmptyAnswerError as exc:
                    scores.append(exc)
        for (i, question, answer), score in zip(ready, scores, strict=True):
            if isinstance(score, Exception):
                results[i] = _fail(rows[i], str(score))
            else:
                results[i] = Result(rows[i], Assessment(question, answer, score))
    return [results[i] for i in range(len(rows))]


def _grade_audio(
    row: Row,
    resolve: QuestionResolver,
    scorer: CoverageScorer,
    transcriber: Transcriber,
    base: Path,
    limits: AudioLimits,
) -> Result:
    try:
        question = resolve(row.data)
        path = Path(str(row.data["audio"]).strip())
        path = path if path.is_absolute() else base / path
        return Result(
            row, assess_audio(question, path, transcriber=transcriber, scorer=scorer, limits=limits)
        )
    except (RowError, TranscriptionError, EmptyAnswerError) as exc:
        return _fail(row, str(exc))
    except Exception as exc:  # one bad recording must not stop a day's grading
        return _fail(row, f"unexpected error ({exc.__class__.__name__}: {exc}).")
