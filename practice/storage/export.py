"""Markdown and CSV exports of attempts, for a coach to send or open in a spreadsheet; pure functions."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime

from practice.markdown import literal_inline, literal_lines
from practice.scoring.delivery import Delivery
from practice.storage.records import Attempt, _now, _utc
from practice.transcript import Transcript, describe_corrections


def _fmt_time(value: datetime | None) -> str:
    return _utc(value).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _fmt_cov(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in literal_lines(text))


def _delivery_lines(d: Delivery) -> list[str]:
    """How it was said, in numbers, then the coaching sentences (worked out now, in today's wording)."""
    pace = "too short to tell" if d.wpm is None else f"{d.wpm:.0f} words per minute, {d.pace}"
    pauses = "none"
    if d.long_pauses:
        longest = max(p.duration for p in d.long_pauses)
        pauses = f"{len(d.long_pauses)}, the longest {longest:.1f} s"
    lines = [
        f"- Length: {d.duration:.1f} s, {d.word_count} words",
        f"- Pace: {pace}",
        f"- Fillers: {len(d.fillers)}, {d.fillers_per_100:.1f} per 100 words",
        f"- Long pauses (over {d.long_pause:g} s): {pauses}",
    ]
    if d.time_to_first_word is not None:
        lines.append(f"- First word after: {d.time_to_first_word:.1f} s")
    return lines + [f"- {literal_inline(line)}" for line in d.feedback()]


def export_markdown(attempts: Iterable[Attempt], title: str = "Interview practice attempts") -> str:
    """A report a coach can send: each attempt's question, scores (coach beside automatic), answer, notes."""
    items = list(attempts)
    out = [f"# {literal_inline(title)}", "", f"{len(items)} attempt(s), exported {_fmt_time(_now())}.", ""]
    for a in items:
        out += [f"## {literal_inline(a.question_id)} ({literal_inline(a.candidate.name)})", ""]
        if a.question:
            out += [f"**Question:** {literal_inline(a.question)}", ""]
        out.append(
            f"- Date: {_fmt_time(a.created_at)}; track {literal_inline(a.track)}, level "
            f"{literal_inline(a.level)}, topic {literal_inline(a.topic)}; answer {a.answer_mode}"
        )
        coverage = f"- Coverage: {_fmt_cov(a.coverage)} (automatic)"
        if a.coach_coverage is not None:
            by = f" by {literal_inline(a.coach_coverage_by)}" if a.coach_coverage_by else ""
            coverage += f"; {_fmt_cov(a.coach_coverage)} (coach{by})"
        elif a.overrides and a.effective_coverage is not None:
            coverage += f"; {_fmt_cov(a.effective_coverage)} after the coach's key-point changes"
        out.append(coverage)
        if a.status != "scored":
            error = f": {literal_inline(a.error)}" if a.error else ""
            out.append(f"- Not scored ({a.status}{error})")
        out.append("")
        if a.key_points:
            out += ["### Key points", ""]
            for i, point in enumerate(a.key_points):
                text = literal_inline(point.key_point.text)
                line = f"{i + 1}. **{a.automatic_status(i) or 'unknown'}**: {text}"
                coach = a.override(i)
                if coach:
                    line += f" (coach: **{coach.status}**, {literal_inline(coach.author)})"
                out.append(line)
            out.append("")
        answer = a.answer_text or (a.transcript.text if a.transcript else "")
        heading = "Transcript" if a.answer_mode != "typed" else "Answer"
        out += [f"### {heading}", "", _quote(answer) if answer.strip() else "_(no words)_", ""]
        if a.transcript is not None and a.transcript.original is not None:
            out += [_correction_line(a.transcript), ""]
        delivery = _delivery_lines(a.delivery) if a.delivery else []
        if delivery:
            out += ["### Delivery", "", *delivery, ""]
        if a.notes:
            out += ["### Notes", ""]
            for note in a.notes:
                body = literal_inline(note.text)
                out.append(f"- {_fmt_time(note.created_at)}, {literal_inline(note.author)}: {body}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _correction_line(transcript: Transcript) -> str:
    """What was corrected by hand, by whom, and the words first heard (the one place they appear)."""
    changes = describe_corrections(transcript)
    who = f" By {literal_inline(transcript.corrected_by)}." if transcript.corrected_by else ""
    heard = literal_inline(transcript.heard.text) or "(no words)"
    return f"{literal_inline(changes)}{who} First heard as: {heard}"


def export_stem(attempts: Sequence[Attempt], *, session: bool = False) -> str:
    """The name to save an export under, without its extension: ASCII letters, digits and hyphens.

    The candidate's name if the attempts are one candidate's ("ana-lopez"), with the day a session began
    for a session ("ana-lopez-2025-03-10", UTC like the export's times); else "attempts".
    """
    names = {a.candidate.id: a.candidate.name for a in attempts}
    who = _file_safe(names.popitem()[1]) if len(names) == 1 else ""
    if session and attempts:
        day = _utc(min(a.created_at for a in attempts)).date().isoformat()
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
                _utc(a.created_at).isoformat(),
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
