"""PDF reports a candidate can send: one practice session, or a candidate's progress with its chart.

Pure functions: typed records in (`storage.Attempt`s, read through `storage.summary` like the Markdown
export, and `progress` for the numbers), PDF bytes out; no database, no UI. fpdf2 lays out the pages and
matplotlib (Agg, no display) draws the chart.

User text (names, answers, notes) is printed as text, never read as markup. The font is DejaVu Sans, the
TTF that matplotlib carries, so it is there wherever the package is installed; it covers Latin, Greek,
Cyrillic, Hebrew, Arabic letters, many symbols and emoji outlines. A character it lacks (Chinese, Japanese,
Korean ...) is printed as U+FFFD, so a reader sees something was there instead of a silent gap.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from practice import progress
from practice.bank import LEVELS
from practice.storage import (
    Attempt,
    AttemptSummary,
    KeyPointSummary,
    format_coverage,
    format_time,
    summarize,
)
from practice.transcript import clock

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FONT = "DejaVu"
# No oblique: DejaVu Sans Oblique has no Arabic, and quoted user words must print as they were said.
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
REPLACEMENT = "\ufffd"

EMPTY_SESSION = (
    "This session has no answers yet: answer a question on the Practice page, then download again."
)
NO_SCORED_ATTEMPTS = "No scored attempts yet: answer a few questions on the Practice page first."

_GREY = (90, 90, 90)
_STATUS_COLOUR = {"covered": (20, 120, 50), "partial": (180, 110, 0), "missed": (180, 30, 30)}


def session_report(candidate: str, attempts: Sequence[Attempt], *, now: datetime | None = None) -> bytes:
    """One practice session: a table of its answers, then each answer with its key points, evidence,
    delivery, the coach's overrides and notes. Attempts are shown in the order they were made."""
    items = sorted(attempts, key=lambda a: (a.created_at, a.id))
    doc = _Document(f"Practice session: {candidate}")
    doc.title_block(f"Practice session: {candidate}")
    if not items:
        doc.paragraph(EMPTY_SESSION)
        doc.made(now)
        return doc.to_bytes()
    scored = progress.scored(items)
    average = format_coverage(progress.mean_coverage(scored) if scored else None)
    doc.paragraph(
        f"Began {format_time(items[0].created_at)}. {len(items)} answer(s) to "
        f"{len({a.question_id for a in items})} question(s); average coverage {average}."
    )
    doc.made(now)
    rows = []
    for i, a in enumerate(items, start=1):
        statuses: Sequence[str | None] = a.key_point_statuses()
        rows.append(
            [
                str(i),
                a.question or a.question_id,
                format_coverage(a.effective_coverage),
                *(str(statuses.count(s)) for s in ("covered", "partial", "missed")),
            ]
        )
    doc.data_table(
        ["#", "Question", "Coverage", "Covered", "Partial", "Missed"], rows, (8, 102, 20, 20, 15, 15)
    )
    doc.attempts(items)
    return doc.to_bytes()


def progress_report(candidate: str, attempts: Sequence[Attempt], *, now: datetime | None = None) -> bytes:
    """A candidate's progress as on the Progress page: totals, level advice with its rule, averages by
    level and topic, the coverage-over-time chart, the weakest questions, then every attempt in detail."""
    now = now or datetime.now(UTC)
    items = sorted(attempts, key=lambda a: (a.created_at, a.id))
    doc = _Document(f"Progress: {candidate}")
    doc.title_block(f"Progress: {candidate}")
    scored = progress.scored(items)
    if not scored:
        doc.paragraph(NO_SCORED_ATTEMPTS)
        doc.made(now)
        if items:
            doc.attempts(items)
        return doc.to_bytes()
    average = progress.mean_coverage(scored)
    doc.paragraph(
        f"{len(scored)} scored attempt(s) at {len({a.question_id for a in scored})} question(s), "
        f"{format_time(scored[0].created_at)} to {format_time(scored[-1].created_at)}; "
        f"average coverage {average:.0f}."
    )
    doc.made(now)

    advice = progress.level_up(scored)
    doc.heading("Level")
    if advice.ready and advice.next_level:
        doc.paragraph(f"Mastered {advice.level}: ready to move up to {advice.next_level}.")
    else:
        doc.paragraph(f"Current level: {advice.level}." + ("" if advice.next_level else " The top level."))
    for check in advice.checks:
        doc.bullet(check.text, marker="✓" if check.met else "✗")
    doc.small(advice.rule)

    for group, groups in (("Level", progress.by_level(scored)), ("Topic", progress.by_topic(scored))):
        doc.heading(f"By {group.lower()}")
        doc.data_table(
            [group, "Attempts", "Questions", "Average coverage"],
            [[g.name, str(g.attempts), str(g.questions), f"{g.average_coverage:.0f}"] for g in groups],
            (85, 30, 30, 35),
        )

    doc.heading("Coverage over time")
    doc.picture(coverage_chart(progress.coverage_series(scored)))

    doc.heading("Weakest questions")
    weakest = progress.weakest_questions(scored)
    if not weakest:
        doc.paragraph("None: every question answered is mastered.")
    for s in weakest:
        doc.bullet(
            f"{s.question or s.question_id}: {s.level}, last coverage {s.last_coverage:.0f}, "
            f"{s.missed_last} key point(s) missed, {s.attempts} attempt(s), {progress.comes_back(s, now)}"
        )
    doc.small(progress.REVIEW_RULE)

    doc.add_page()
    doc.heading("Every attempt", size=14)
    doc.attempts(items)
    return doc.to_bytes()


def coverage_chart(series: Sequence[progress.SeriesPoint]) -> bytes:
    """Coverage over time as a PNG: one line of points per level, times in UTC."""
    out = io.BytesIO()
    chart_figure(series).savefig(out, format="png")
    return out.getvalue()


def chart_figure(series: Sequence[progress.SeriesPoint]) -> Figure:
    """The chart `coverage_chart` draws, as a matplotlib Figure."""
    # Imported here: matplotlib takes a moment to load and only the progress report draws.
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure  # a bare Figure renders with Agg and never opens a window

    figure = Figure(figsize=(7.2, 2.6), dpi=200, layout="constrained")
    axes = figure.subplots()
    order = {level: i for i, level in enumerate(LEVELS)}
    for level in sorted({p.level for p in series}, key=lambda n: (order.get(n, len(order)), n)):
        points = [p for p in series if p.level == level]
        axes.plot(  # matplotlib's hints take numbers only, but it plots datetimes through its date units
            [p.at for p in points],  # type: ignore[arg-type]
            [p.coverage for p in points],
            marker="o",
            markersize=3,
            linewidth=1,
            label=_chart_text(level),
        )
    axes.set_ylim(0, 100)
    times = {p.at for p in series}
    if len(times) == 1:  # one moment: a day either side, not the years matplotlib would pick
        (only,) = times
        day = timedelta(days=1)
        axes.set_xlim(only - day, only + day)  # type: ignore[arg-type]  # datetimes, as in plot above
    axes.set_ylabel("Coverage")
    axes.grid(alpha=0.3)
    locator = AutoDateLocator(tz=UTC)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))
    if series:
        axes.legend(title="Level", fontsize=7, title_fontsize=7, loc="lower right")
    return figure


def _chart_text(text: str) -> str:
    """A label matplotlib shows as written: "$" would start math, a leading "_" hides it from the legend."""
    text = _one_line(text).replace("$", r"\$")
    return f" {text}" if text.startswith("_") else text


# ------------------------------------------------------------------------------------------------- text


@lru_cache(maxsize=1)
def _font_dir() -> Path:
    import matplotlib  # only for the fonts it carries

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    """The code points every style of the font can draw."""
    from fontTools.ttLib import TTFont

    maps = [set(TTFont(_font_dir() / name).getBestCmap()) for name in _FONT_FILES.values()]
    return frozenset(set.intersection(*maps))


def printable(text: str) -> str:
    """`text` as the font can print it: line breaks kept, tabs as spaces, invisible control and format
    characters dropped, and any character the font lacks shown as U+FFFD."""
    covered = _covered()
    text = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for char in text.expandtabs(4):
        kind = unicodedata.category(char)
        if char == "\n" or kind in ("Zl", "Zp"):
            out.append("\n")
        elif kind == "Cc":
            continue
        elif ord(char) in covered:
            out.append(char)
        elif kind != "Cf":
            out.append(REPLACEMENT)
    return "".join(out)


def _right_to_left(text: str) -> bool:
    """Hebrew or Arabic letters, which must be reordered (and Arabic joined) to be read. Only such text is
    shaped with HarfBuzz: shaping every paragraph makes a long report about four times slower."""
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


def _one_line(text: str) -> str:
    return " ".join(printable(text).split())


# ----------------------------------------------------------------------------------------------- layout


class _Document(FPDF):
    """An A4 document with the font loaded and a footer naming it, and the few blocks the reports use."""

    LINE = 5.0  # mm per line of body text

    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        for style, name in _FONT_FILES.items():
            self.add_font(FONT, style, str(_font_dir() / name))
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=16)
        self.footer_text = _one_line(title)
        self.set_title(self.footer_text)
        self.set_creator("interview-practice")
        self.alias_nb_pages("")  # else "{nb}" anywhere in user text would print as the page count
        self.add_page()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(*_GREY)
        self.cell(0, 5, self._shaped(f"{self.footer_text} · page {self.page_no()}"), align="C")
        self.set_text_color(0)

    def to_bytes(self) -> bytes:
        return bytes(self.output())

    def _shaped(self, text: str) -> str:
        """`text`, with shaping turned on for it if it needs it (see _right_to_left)."""
        self.set_text_shaping(_right_to_left(text))
        return text

    def _text(self, text: str, size: float = 10, style: str = "", colour: tuple[int, ...] = (0,)) -> None:
        self.set_font(FONT, style, size)
        self.set_text_color(*colour)
        self.multi_cell(
            0, size * 0.5, self._shaped(printable(text)), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.set_text_color(0)

    def title_block(self, text: str) -> None:
        self._text(text, 18, "B")
        self.ln(2)

    def made(self, now: datetime | None) -> None:
        self.small(f"Report made {format_time(now or datetime.now(UTC))} by interview-practice.")
        self.ln(2)

    def heading(self, text: str, size: float = 12) -> None:
        if self.will_page_break(30):  # keep a heading with what follows it
            self.add_page()
        self.ln(3)
        self._text(text, size, "B")
        self.ln(1)

    def paragraph(self, text: str) -> None:
        self._text(text)

    def small(self, text: str) -> None:
        self._text(text, 8, colour=_GREY)

    def bullet(self, text: str, marker: str = "•", indent: float = 5) -> None:
        self.set_x(self.l_margin + indent)
        self.set_font(FONT, "", 10)
        self.cell(5, self.LINE, self._shaped(marker))
        self.multi_cell(
            0, self.LINE, self._shaped(printable(text)), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )

    def data_table(self, headings: list[str], rows: list[list[str]], widths: tuple[float, ...]) -> None:
        self.set_font(FONT, "", 9)
        rows = [[_one_line(value) for value in row] for row in [headings, *rows]]
        self.set_text_shaping(any(_right_to_left(value) for row in rows for value in row))
        with super().table(
            col_widths=widths,
            headings_style=FontFace(emphasis="BOLD"),
            line_height=self.LINE,
            text_align="LEFT",
            width=self.epw,
        ) as table:
            for row in rows:
                cells = table.row()
                for value in row:
                    cells.cell(value)
        self.ln(2)

    def picture(self, png: bytes) -> None:
        super().image(io.BytesIO(png), w=self.epw)
        self.ln(2)

    def attempts(self, items: Sequence[Attempt]) -> None:
        for number, a in enumerate(items, start=1):
            self.attempt(number, summarize(a))

    def attempt(self, number: int, s: AttemptSummary) -> None:
        if self.will_page_break(45):
            self.add_page()
        self.ln(2)
        self.set_draw_color(200)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)
        self._text(f"{number}. {s.question or s.question_id}", 11, "B")
        self._text(f"{s.question_id} · {s.candidate} · {s.facts}", 8, colour=_GREY)
        self._text(f"Coverage: {s.coverage}")
        if s.not_scored:
            self._text(s.not_scored, colour=_STATUS_COLOUR["missed"])
        if s.key_points:
            self._label("Key points")
            for point in s.key_points:
                self._key_point(point)
        self._label(s.answer_heading)
        self._text(s.answer if s.answer.strip() else "(no words)")
        if s.correction:
            self.small(s.correction)
        if s.delivery:
            self._label("Delivery")
            for line in s.delivery:
                self.bullet(line)
        if s.notes:
            self._label("Coach's notes")
            for note in s.notes:
                self.bullet(note)

    def _label(self, text: str) -> None:
        self.ln(1)
        self._text(text, 10, "B")

    def _key_point(self, point: KeyPointSummary) -> None:
        """ "2. covered: the point", the coach's verdict beside the scorer's, then the words that decided."""
        margin = self.l_margin
        self.set_left_margin(margin + 5)  # wrapped lines stay indented under the number
        try:
            self.set_x(self.l_margin)
            self.set_font(FONT, "", 10)
            self.write(self.LINE, self._shaped(f"{point.number}. "))
            self.set_font(FONT, "B", 10)
            self.set_text_color(*_STATUS_COLOUR.get(point.status, (0,)))
            self.write(self.LINE, self._shaped(point.status))
            self.set_text_color(0)
            self.set_font(FONT, "", 10)
            aside = ""
            if point.coach_status:
                by = f" {point.coach_author}" if point.coach_author else ""
                aside = f" (coach{by}; automatic {point.automatic})"
            elif point.opposite:
                aside = " (you said the opposite)"
            self.write(self.LINE, self._shaped(printable(f"{aside}: {point.text}")))
            self.ln(self.LINE)
            if point.evidence:
                when = f", said at {clock(point.said_at)}" if point.said_at is not None else ""
                self._text(f"“{_one_line(point.evidence)}”{when}", 9, colour=_GREY)
        finally:
            self.set_left_margin(margin)
