"""The input sheet of a batch grading: its rows read from CSV or JSONL, each keyed by line and content so a
re-run knows what is graded, and the question each row asks (a bank question, or one the row brings).

A CSV whose quotes do not pair up is refused with the line where the quoted value starts (it would glue
the rows after it into one answer); line breaks inside a quoted answer are kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from practice.bank import Bank, KeyPoint, Question, UnknownQuestionError, make_question
from practice.files import MEGABYTE, FileReadError, read_text_limited
from practice.grading_rows import LINE_BREAK, GradingError, Result, Row, RowError, file_format

MAX_INPUT_BYTES = 256 * MEGABYTE


def _row_key(line: int, data: dict[str, Any]) -> str:
    blob = json.dumps([line, data], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def read_rows(path: Path) -> tuple[list[Row], list[Result]]:
    """The rows, and the lines that could not even be parsed (as failed results).

    GradingError for a file that cannot be used as a whole: missing, not a regular file (a device such as
    /dev/zero would never finish), not UTF-8, or a CSV whose quotes do not pair up.
    """
    fmt = file_format(path)
    try:
        text = read_text_limited(path, MAX_INPUT_BYTES, encoding="utf-8-sig")
    except FileReadError as exc:
        raise GradingError(f"Cannot read {path}: {exc.reason}.") from exc
    if fmt == ".csv":
        return _csv_rows(path, text)
    rows: list[Row] = []
    broken: list[Result] = []
    for line, raw in enumerate(LINE_BREAK.split(text), start=1):
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
