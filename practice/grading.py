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
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from practice.assess import Assessment, assess_audio
from practice.bank import Bank, KeyPoint, Question, UnknownQuestionError, make_question
from practice.files import MEGABYTE, FileReadError, check_regular, read_text_limited
from practice.scoring.coverage import CoverageScorer
from practice.scoring.evidence import EmptyAnswerError
from practice.scoring.results import Score
from practice.speech_in import DEFAULT_LIMITS, AudioLimits, Transcriber, TranscriptionError
from practice.storage import spreadsheet_text

FORMATS = (".csv", ".jsonl")
TYPED_BATCH = 32
MAX_INPUT_BYTES = 256 * MEGABYTE
MAX_OUTPUT_BYTES = 1024 * MEGABYTE  # the input's columns and the results
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # JSON text never holds these raw; it may hold U+2028, which is kept
RESULT_COLUMNS = (
    "line",
    "row_key",
    "status",
    "error",
    "question_id",
    "coverage",
    "covered",
    "partial",
    "missed",
    "key_points",
    "transcript",
    "duration",
    "wpm",
    "pace",
    "fillers",
    "fillers_per_100",
    "longest_pause",
    "long_pauses",
    "time_to_first_word",
)


class GradingError(ValueError):
    """The input or output file as a whole cannot be used (one sentence)."""


class RowError(ValueError):
    """One row cannot be graded; the others go on."""


@dataclass(frozen=True)
class Row:
    line: int  # in the input file, for error messages
    data: dict[str, Any]
    key: str  # line and content: a changed row is graded again

    @property
    def is_audio(self) -> bool:
        return bool(str(self.data.get("audio") or "").strip())


@dataclass(frozen=True)
class Result:
    row: Row
    assessment: Assessment | None
    error: str | None = None

    def record(self) -> dict[str, Any]:
        """The output row: input columns, then the results (nested; `flat()` makes it CSV-ready)."""
        out = dict(self.row.data)
        out.update(line=self.row.line, row_key=self.row.key, status="error" if self.error else "ok")
        out["error"] = self.error or ""
        a = self.assessment
        if a is None:
            return out
        points = a.score.key_points
        out.update(
            question_id=a.question.id,
            coverage=round(a.score.coverage, 1),
            covered=len(a.score.by_status("covered")),
            partial=len(a.score.by_status("partial")),
            missed=len(a.score.by_status("missed")),
            key_points=[
                {"text": p.key_point.text, "status": p.status, "said_at": _rounded(when, 2)}
                for p, when in zip(points, a.said_at(), strict=True)
            ],
        )
        if a.transcript is not None and a.delivery is not None:
            d = a.delivery
            out.update(
                transcript=a.transcript.text,
                duration=round(a.transcript.duration, 2),
                wpm=_rounded(d.wpm, 1),
                pace=d.pace,
                fillers=len(d.fillers),
                fillers_per_100=round(d.fillers_per_100, 2),
                longest_pause=round(d.longest_pause.duration, 2) if d.longest_pause else None,
                long_pauses=len(d.long_pauses),
                time_to_first_word=d.time_to_first_word,
            )
        return out


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# ------------------------------------------------------------------------------------------------- input


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise GradingError(f"{path.name}: use a .csv or .jsonl file (got '{suffix or 'no extension'}').")
    return suffix


def _row_key(line: int, data: dict[str, Any]) -> str:
    blob = json.dumps([line, data], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def read_rows(path: Path) -> tuple[list[Row], list[Result]]:
    """The rows, and the lines that could not even be parsed (as failed results).

    GradingError for a file that cannot be used as a whole: missing, not a regular file (a device such as
    /dev/zero would never finish), not UTF-8, or a CSV whose quotes do not pair up.
    """
    fmt = _format(path)
    try:
        text = read_text_limited(path, MAX_INPUT_BYTES, encoding="utf-8-sig")
    except FileReadError as exc:
        raise GradingError(f"Cannot read {path}: {exc.reason}.") from exc
    if fmt == ".csv":
        return _csv_rows(path, text)
    rows: list[Row] = []
    broken: list[Result] = []
    for line, raw in enumerate(_LINE_BREAK.split(text), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            row = Row(line, {}, _row_key(line, {"raw": raw}))
            broken.append(Result(row, None, f"line {line}: not a JSON object ({exc})."))
            continue
        rows.append(Row(line, data, _row_key(line, data)))
    return rows, broken


def _csv_rows(path: Path, text: str) -> tuple[list[Row], list[Result]]:
    """CSV rows by the line each starts on; a quoted value keeps its line breaks."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise GradingError(_quote_problem(path, 1, reader.line_num, exc)) from exc
    if not header or not any(h.strip() for h in header):
        raise GradingError(f"{path.name} is empty: it needs a header row and one answer per row.")
    rows: list[Row] = []
    broken: list[Result] = []
    while True:
        line = reader.line_num + 1  # where this record starts (it may span lines)
        try:
            record = next(reader, None)
        except csv.Error as exc:
            raise GradingError(_quote_problem(path, line, reader.line_num, exc)) from exc
        if record is None:
            break
        if not any(v.strip() for v in record):
            continue
        if any(v.strip() for v in record[len(header) :]):
            row = Row(line, {}, _row_key(line, {"raw": record}))
            broken.append(
                Result(
                    row,
                    None,
                    f"line {line}: {len(record)} values but the header names {len(header)} columns; "
                    "put quotes around a value that holds a comma.",
                )
            )
            continue
        # as csv.DictReader built it before (a missing value is None), so earlier outputs still match
        data: dict[str, Any] = {
            name: (record[i] if i < len(record) else None) for i, name in enumerate(header)
        }
        rows.append(Row(line, data, _row_key(line, data)))
    return rows, broken


def _quote_problem(path: Path, start: int, end: int, exc: csv.Error) -> str:
    """Why the CSV cannot be read, by the line where the bad record starts; nothing has been graded."""
    where = f"{path.name} line {start}" + (f" (to line {end})" if end > start else "")
    if "unexpected end of data" in str(exc):
        return (
            f"{where}: a quoted value starts here and is never closed, so every line after it would be read "
            'as one answer; close the quote (a quote inside a value is written twice: "") and run again.'
        )
    if "NUL" in str(exc):
        return f"{where}: the file holds a NUL character, so it is not a CSV text file; save it as CSV."
    return (
        f"{where}: a quote does not end where its value does ({exc}); put the whole value in quotes, write "
        'each quote inside it twice (""), and run again.'
    )


def _key_points(value: Any) -> list[KeyPoint | str] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise RowError(f"key_points is not a valid JSON list ({exc}).") from exc
        else:
            value = [p for p in value.replace("|", "\n").splitlines() if p.strip()]
    if not isinstance(value, list):
        raise RowError("key_points must be a list of statements.")
    points: list[KeyPoint | str] = []
    for p in value:
        if isinstance(p, str) and p.strip():
            points.append(p.strip())
        elif isinstance(p, dict) and str(p.get("text", "")).strip():
            points.append(KeyPoint(text=str(p["text"]).strip(), terms=tuple(map(str, p.get("terms") or ()))))
        else:
            raise RowError("each key point must be a statement (text).")
    return points


class QuestionResolver:
    """Bank questions by id, ad-hoc questions built once per distinct (question, model answer, points)."""

    def __init__(self, bank: Bank | None):
        self.bank = bank
        self._adhoc: dict[str, Question] = {}

    def __call__(self, data: dict[str, Any]) -> Question:
        qid = str(data.get("question_id") or "").strip()
        model_answer = str(data.get("model_answer") or "").strip()
        if qid and not model_answer:
            if self.bank is None:
                raise RowError(f"question_id '{qid}' needs a question bank.")
            try:
                return self.bank.get(qid)
            except UnknownQuestionError as exc:
                raise RowError(str(exc)) from exc
        if not model_answer:
            raise RowError("the row needs a question_id, or a question with a model_answer.")
        points = _key_points(data.get("key_points"))
        key = json.dumps([data.get("question"), model_answer, [str(p) for p in points or []]])
        if key not in self._adhoc:
            digest = hashlib.sha256(key.encode()).hexdigest()[:10]
            self._adhoc[key] = make_question(
                id=qid or f"adhoc-{digest}",
                question=str(data.get("question") or "").strip() or "(ad-hoc question)",
                model_answer=model_answer,
                key_points=points,
            )
        return self._adhoc[key]


# ------------------------------------------------------------------------------------------------ output


def _cell(value: Any) -> Any:
    """A CSV cell: lists and objects as JSON; text a spreadsheet would run as a formula gets a quote first."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return spreadsheet_text(value)
    return "" if value is None else value


class Output:
    """Appends results as they come. On open it keeps the rows already graded and drops failed ones and
    those of input rows that have since changed (`current_keys`), which are graded again."""

    def __init__(self, path: Path, input_columns: Sequence[str], current_keys: set[str]):
        self.path = path
        self.format = _format(path)
        self.columns = list(dict.fromkeys([*input_columns, *RESULT_COLUMNS]))
        self.done: dict[str, dict[str, Any]] = {}
        if path.exists():
            try:
                check_regular(path)
            except FileReadError as exc:
                raise GradingError(f"The output {path} cannot be written: {exc.reason}.") from exc
            header, records = self._read()
            for record in records:
                if record.get("status") == "ok" and record.get("row_key") in current_keys:
                    self.done[str(record["row_key"])] = record
            self.columns = list(dict.fromkeys([*header, *self.columns]))
        self._rewrite(list(self.done.values()))

    def _unreadable(self, reason: Any) -> GradingError:
        return GradingError(
            f"The output {self.path} exists but cannot be read to resume ({reason}); "
            "choose another output or delete it."
        )

    def _read(self) -> tuple[list[str], list[dict[str, Any]]]:
        """The CSV header and the complete records written so far.

        A last record cut off mid-write (a full disk, a killed run) is left out, so its row is graded
        again: a file that does not end with a line break, or ends inside a quoted value, was cut off.
        """
        try:
            text = read_text_limited(self.path, MAX_OUTPUT_BYTES)
        except FileReadError as exc:
            raise self._unreadable(exc.reason) from exc
        cut = not text.endswith(("\n", "\r"))
        if self.format == ".jsonl":
            lines = [raw for raw in _LINE_BREAK.split(text) if raw.strip()]
            records = []
            for i, raw in enumerate(lines):
                try:
                    record = json.loads(raw)
                except ValueError as exc:
                    if cut and i == len(lines) - 1:
                        break
                    raise self._unreadable(exc) from exc
                if isinstance(record, dict):
                    records.append(record)
            return [], records
        rows: list[list[str]] = []
        try:
            rows.extend(csv.reader(io.StringIO(text, newline=""), strict=True))
        except csv.Error as exc:
            if "unexpected end of data" not in str(exc):
                raise self._unreadable(exc) from exc
            cut = False  # the record cut off inside a quoted value was not returned
        if cut and len(rows) > 1:
            rows.pop()
        header = rows[0] if rows else []
        return header, [dict(zip(header, r, strict=True)) for r in rows[1:] if len(r) == len(header)]

    def _lines(self, records: Iterable[dict[str, Any]], header: bool) -> str:
        buffer = io.StringIO()
        if self.format == ".csv":
            writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="ignore")
            if header:
                writer.writeheader()
            for r in records:
                writer.writerow({k: _cell(v) for k, v in r.items()})
        else:
            for r in records:
                buffer.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
        return buffer.getvalue()

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        """Atomically replace the file (a crash mid-write leaves the old one)."""
        records = sorted(records, key=lambda r: int(r.get("line") or 0))
        text = self._lines(records, header=True)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            os.replace(tmp, self.path)
        except OSError as exc:
            raise GradingError(f"Cannot write {self.path}: {exc.strerror or exc}.") from exc

    def append(self, record: dict[str, Any]) -> None:
        try:
            with self.path.open("a", encoding="utf-8", newline="") as f:
                f.write(self._lines([record], header=False))
        except OSError as exc:
            raise GradingError(f"Cannot write {self.path}: {exc.strerror or exc}.") from exc
        if record.get("status") == "ok":
            self.done[str(record["row_key"])] = record

    def finish(self) -> None:
        """Input order, failed rows last attempt only: re-read what was appended and rewrite it sorted."""
        latest: dict[str, dict[str, Any]] = {}
        for record in self._read()[1]:
            latest[str(record.get("row_key"))] = record
        self._rewrite(list(latest.values()))


# ------------------------------------------------------------------------------------------------ grading


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
    judge = scorer() if todo else None

    def emit(result: Result) -> None:
        if result.error:
            failed.append(result)
        output.append(result.record())
        on_progress(1)

    for result in broken:
        emit(result)
    if judge is not None:  # loaded above whenever there is a row to grade
        typed = [r for r in todo if not r.is_audio]
        audio = [r for r in todo if r.is_audio]
        for start in range(0, len(typed), TYPED_BATCH):
            for result in _grade_typed(typed[start : start + TYPED_BATCH], resolve, judge):
                emit(result)
        if audio:
            model = transcriber()
            base = input_path.parent

            def one(row: Row) -> Result:
                return _grade_audio(row, resolve, judge, model, base, limits)

            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                for result in pool.map(one, audio):
                    emit(result)
    output.finish()
    return Summary(len(rows) + len(broken), len(rows) - len(todo), len(todo) + len(broken), failed)


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
