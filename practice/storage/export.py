"""Markdown and CSV exports of attempts, for a coach to send or open in a spreadsheet; pure functions."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence

from practice.markdown import literal_inline, literal_lines
from practice.scoring.delivery import Delivery
from practice.storage.records import Attempt, as_utc, utc_now
from practice.storage.summary import format_time, summarize


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in literal_lines(text))


def export_markdown(attempts: Iterable[Attempt], title: str = "Interview practice attempts") -> str:
    """A report a coach can send: each attempt's question, scores (coach beside automatic), answer, notes.

    What it says comes from `summary.summarize` (as the PDF report's does); here it is only escaped."""
    items = list(attempts)
    exported = format_time(utc_now())
    out = [f"# {literal_inline(title)}", "", f"{len(items)} attempt(s), exported {exported}.", ""]
    for s in map(summarize, items):
        out += [f"## {literal_inline(s.question_id)} ({literal_inline(s.candidate)})", ""]
        if s.question:
            out += [f"**Question:** {literal_inline(s.question)}", ""]
        out += [f"- {literal_inline(s.facts)}", f"- Coverage: {literal_inline(s.coverage)}"]
        if s.not_scored:
            out.append(f"- {literal_inline(s.not_scored)}")
        out.append("")
        if s.key_points:
            out += ["### Key points", ""]
            for point in s.key_points:
                line = f"{point.number}. **{point.automatic}**: {literal_inline(point.text)}"
                if point.coach_status:
                    line += f" (coach: **{point.coach_status}**, {literal_inline(point.coach_author or '')})"
                out.append(line)
            out.append("")
        answer = _quote(s.answer) if s.answer.strip() else "_(no words)_"
        out += [f"### {s.answer_heading}", "", answer, ""]
        if s.correction:
            out += [literal_inline(s.correction), ""]
        if s.delivery:
            out += ["### Delivery", "", *(f"- {literal_inline(line)}" for line in s.delivery), ""]
        if s.notes:
            out += ["### Notes", "", *(f"- {literal_inline(note)}" for note in s.notes), ""]
    return "\n".join(out).rstrip() + "\n"


def export_stem(attempts: Sequence[Attempt], *, session: bool = False) -> str:
    """The name to save an export under, without its extension: ASCII letters, digits and hyphens.

    The candidate's name if the attempts are one candidate's ("ana-lopez"), with the day a session began
    for a session ("ana-lopez-2025-03-10", UTC like the export's times); else "attempts".
    """
    names = {a.candidate.id: a.candidate.name for a in attempts}
    who = _file_safe(names.popitem()[1]) if len(names) == 1 else ""
    if session and attempts:
        day = as_utc(min(a.created_at for a in attempts)).date().isoformat()
        return f"{who or 'session'}-{day}"
    return who or "attempts"


def _file_safe(text: str) -> str:
    """Accents dropped, anything but ASCII letters and digits a hyphen, at most 60 characters.

    "Ana López / QA" -> "ana-lopez-qa"
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60].rstrip("-")


CSV_COLUMNS: tuple[str, ...] = (
    "attempt_id",
    "created_at",
    "candidate",
    "session_id",
    "question_id",
    "track",
    "level",
    "topic",
    "question",
    "answer_mode",
    "status",
    "coverage",
    "coach_coverage",
    "effective_coverage",
    "covered",
    "partial",
    "missed",
    "key_points",
    "coach_overrides",
    "has_audio",
    "duration_seconds",
    "wpm",
    "pace",
    "fillers_per_100",
    "long_pauses",
    "longest_pause_seconds",
    "answer_text",
    "transcript_heard",  # the recogniser's words when the transcript was corrected by hand, else blank
    "notes",
    "error",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str | None) -> str:
    """User text kept as text in spreadsheets: a leading formula character gets a quote in front.

    Used by every CSV this app writes (this export, batch grading's results)."""
    value = text or ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _delivery_cells(d: Delivery | None) -> list[str]:
    """wpm, pace, fillers_per_100, long_pauses (how many), longest_pause_seconds (of any pause); or blanks."""
    if d is None:
        return [""] * 5
    longest = d.longest_pause.duration if d.longest_pause else None
    return [_num(d.wpm), d.pace or "", _num(d.fillers_per_100), str(len(d.long_pauses)), _num(longest)]


def export_csv(attempts: Iterable[Attempt]) -> str:
    """One row per attempt with the columns of CSV_COLUMNS; key_points lists effective statuses in order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for a in attempts:
        statuses = a.key_point_statuses()
        writer.writerow(
            [
                a.id,
                as_utc(a.created_at).isoformat(),
                spreadsheet_text(a.candidate.name),
                a.session_id or "",
                spreadsheet_text(a.question_id),
                spreadsheet_text(a.track),
                spreadsheet_text(a.level),
                spreadsheet_text(a.topic),
                spreadsheet_text(a.question),
                a.answer_mode,
                a.status,
                _num(a.coverage),
                _num(a.coach_coverage),
                _num(a.effective_coverage),
                statuses.count("covered"),
                statuses.count("partial"),
                statuses.count("missed"),
                "; ".join(s or "unknown" for s in statuses),
                spreadsheet_text("; ".join(f"{o.index + 1}={o.status} ({o.author})" for o in a.overrides)),
                "yes" if a.has_audio else "no",
                f"{a.transcript.duration:.1f}" if a.transcript else "",
                *_delivery_cells(a.delivery),
                spreadsheet_text(a.answer_text),
                spreadsheet_text(a.transcript.heard.text if a.transcript and a.transcript.original else ""),
                spreadsheet_text(" | ".join(f"{n.author}: {n.text}" for n in a.notes)),
                spreadsheet_text(a.error),
            ]
        )
    return buffer.getvalue()
