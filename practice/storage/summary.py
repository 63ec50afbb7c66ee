"""What an attempt says, as plain text: the one reading of an attempt that the exports and the PDF report lay
out (the Markdown export escapes it, the PDF prints it as it is).

Pure functions over `Attempt`s. Nothing here is markup: user text (names, answers, notes) is returned as
typed, so each layout must escape it for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from practice.scoring.delivery import Delivery
from practice.storage.records import Attempt, KeyPointStatus, as_utc
from practice.transcript import Transcript, describe_corrections


def format_time(value: datetime | None) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def format_coverage(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


@dataclass(frozen=True)
class KeyPointSummary:
    number: int  # 1-based, as shown
    text: str
    automatic: str  # the scorer's status, "unknown" if it has none
    coach_status: KeyPointStatus | None  # the coach's override, shown beside the automatic status
    coach_author: str | None
    evidence: str | None  # the words that decided it, when they count for it or said the opposite
    opposite: bool  # missed because the answer said the opposite
    said_at: float | None  # second of the recording where the evidence starts (spoken, not missed)

    @property
    def status(self) -> str:
        """The status that counts: the coach's if they set one."""
        return self.coach_status or self.automatic


@dataclass(frozen=True)
class AttemptSummary:
    question_id: str
    question: str  # its wording when asked ("" in old records)
    candidate: str
    facts: str  # "Date: ...; track ..., level ..., topic ...; answer typed"
    coverage: str  # "62 (automatic); 80 (coach by Sam)"
    not_scored: str | None  # "Not scored (failed: the reason)"
    key_points: tuple[KeyPointSummary, ...]
    answer_heading: str  # "Answer" when typed, else "Transcript"
    answer: str  # as typed or transcribed; blank when there are no words
    correction: str | None  # what was corrected by hand, by whom, and the words first heard
    delivery: tuple[str, ...]  # how it was said, numbers then coaching sentences; () when typed
    notes: tuple[str, ...]  # "2025-03-10 09:30 UTC, Sam: the note"


def summarize(a: Attempt) -> AttemptSummary:
    coverage = f"{format_coverage(a.coverage)} (automatic)"
    if a.coach_coverage is not None:
        by = f" by {a.coach_coverage_by}" if a.coach_coverage_by else ""
        coverage += f"; {format_coverage(a.coach_coverage)} (coach{by})"
    elif a.overrides and a.effective_coverage is not None:
        coverage += f"; {format_coverage(a.effective_coverage)} after the coach's key-point changes"
    not_scored = None
    if a.status != "scored":
        not_scored = f"Not scored ({a.status}{f': {a.error}' if a.error else ''})"
    return AttemptSummary(
        question_id=a.question_id,
        question=a.question,
        candidate=a.candidate.name,
        facts=(
            f"Date: {format_time(a.created_at)}; track {a.track}, level {a.level}, topic {a.topic}; "
            f"answer {a.answer_mode}"
        ),
        coverage=coverage,
        not_scored=not_scored,
        key_points=tuple(_key_points(a)),
        answer_heading="Answer" if a.answer_mode == "typed" else "Transcript",
        answer=a.answer_text or (a.transcript.text if a.transcript else ""),
        correction=_correction(a.transcript) if a.transcript and a.transcript.original else None,
        delivery=tuple(delivery_lines(a.delivery)) if a.delivery else (),
        notes=tuple(f"{format_time(n.created_at)}, {n.author}: {n.text}" for n in a.notes),
    )


def _key_points(a: Attempt) -> list[KeyPointSummary]:
    out = []
    for i, point in enumerate(a.key_points):
        coach = a.override(i)
        opposite = point.contradicted and point.status == "missed"
        # Evidence for a missed point would be words that did not cover it; for a reversal, what was said.
        shown = point.evidence if point.evidence and (point.status != "missed" or opposite) else None
        said_at = None
        if shown and a.transcript is not None and point.status != "missed":
            said_at = a.transcript.time_at(shown.start)
        out.append(
            KeyPointSummary(
                number=i + 1,
                text=point.key_point.text,
                automatic=a.automatic_status(i) or "unknown",
                coach_status=coach.status if coach else None,
                coach_author=coach.author if coach else None,
                evidence=shown.text if shown else None,
                opposite=opposite,
                said_at=said_at,
            )
        )
    return out


def _correction(transcript: Transcript) -> str:
    """The one place the words first heard appear, after the corrected ones."""
    who = f" By {transcript.corrected_by}." if transcript.corrected_by else ""
    heard = " ".join(transcript.heard.text.split()) or "(no words)"
    return f"{describe_corrections(transcript)}{who} First heard as: {heard}"


def delivery_lines(d: Delivery) -> list[str]:
    """How it was said, in numbers, then the coaching sentences (worked out now, in today's wording)."""
    pace = "too short to tell" if d.wpm is None else f"{d.wpm:.0f} words per minute, {d.pace}"
    pauses = "none"
    if d.long_pauses:
        longest = max(p.duration for p in d.long_pauses)
        pauses = f"{len(d.long_pauses)}, the longest {longest:.1f} s"
    lines = [
        f"Length: {d.duration:.1f} s, {d.word_count} words",
        f"Pace: {pace}",
        f"Fillers: {len(d.fillers)}, {d.fillers_per_100:.1f} per 100 words",
        f"Long pauses (over {d.long_pause:g} s): {pauses}",
    ]
    if d.time_to_first_word is not None:
        lines.append(f"First word after: {d.time_to_first_word:.1f} s")
    return lines + list(d.feedback())
