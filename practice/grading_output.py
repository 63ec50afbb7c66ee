"""The results file of a batch grading, CSV or JSONL: every input column kept, then the results, appended
as they are made so an interrupted run loses nothing, and on a re-run what is already graded is kept.

Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is written to a CSV output with
a quote in front, as the Review export does.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from practice.files import MEGABYTE, FileReadError, check_regular, read_text_limited
from practice.grading_rows import LINE_BREAK, GradingError, file_format
from practice.storage import spreadsheet_text

MAX_OUTPUT_BYTES = 1024 * MEGABYTE  # the input's columns and the results
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
        self.format = file_format(path)
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
            lines = [raw for raw in LINE_BREAK.split(text) if raw.strip()]
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
