"""What a batch grading passes between its modules: an input `Row`, its `Result` (and the output record
it becomes), the errors, and the two file formats (CSV and JSONL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from practice.assess import Assessment

FORMATS = (".csv", ".jsonl")
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # JSON text never holds these raw; it may hold U+2028, which is kept


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


def file_format(path: Path) -> str:
    """The file's format by its extension; GradingError for any other."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise GradingError(f"{path.name}: use a .csv or .jsonl file (got '{suffix or 'no extension'}').")
    return suffix
