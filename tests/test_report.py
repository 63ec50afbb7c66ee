"""The PDF reports, rendered and read back with pypdf; and `practice report`."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from practice import progress, report
from practice.bank import KeyPoint
from practice.cli import main
from practice.scoring.delivery import measure_delivery
from practice.scoring.results import Evidence, KeyPointResult, Score
from practice.storage import Attempt, Candidate, KeyPointOverride, open_store, summarize
from practice.storage.records import Note
from practice.transcript import Transcript, Word

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
NAME = "Zoë Ødegaard-Łukasz 😀"  # accents, a ligature-free Polish letter, an emoji DejaVu Sans draws
ANSWER = "A validation set is data held out from training, used to tune hyperparameters."
NOTE = "Good start — mention early stopping & <b>tuning</b> **next** time; $x$ [link](http://x)"
POINTS = ("Data held out from training", "Used to tune hyperparameters", "Not the test set")


def score(answer: str, statuses=("covered", "partial", "missed"), contradicted=False) -> Score:
    results = []
    for text, status in zip(POINTS, statuses, strict=False):
        start = answer.find("held out") if status != "missed" or contradicted else -1
        evidence = Evidence(answer[start : start + 30], start, start + 30) if start >= 0 else None
        results.append(KeyPointResult(KeyPoint(text), status, 0.6, 0.5, evidence, contradicted))
    credit = {"covered": 1.0, "partial": 0.5, "missed": 0.0}
    return Score("validation-set", 100 * sum(credit[s] for s in statuses) / len(statuses), tuple(results), 12)


def attempt(attempt_id: int = 1, answer: str = ANSWER, *, spoken=False, when=T0, **changes) -> Attempt:
    """A scored attempt as the store hands it back, without a database."""
    transcript = delivery = None
    if spoken:
        words = tuple(Word(w, 0.5 + i * 0.4, 0.8 + i * 0.4) for i, w in enumerate(answer.split()))
        transcript = Transcript(words, duration=words[-1].end + 0.5, model="fake")
        delivery = measure_delivery(words, transcript.duration)
    result = changes.pop("score", None) or score(answer)
    values = dict(
        id=attempt_id,
        candidate=Candidate(1, NAME, T0),
        question_id="validation-set",
        track="mine",
        level="basic",
        topic="evaluation",
        session_id="s-1",
        created_at=when,
        answer_mode="audio" if spoken else "typed",
        answer_text=transcript.text if transcript else answer,
        transcript=transcript,
        score=result,
        coverage=result.coverage,
        delivery=delivery,
        status="scored",
        error=None,
        has_audio=spoken,
        question="What is a validation set for?",
    )
    return Attempt(**{**values, **changes})


def read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """Extracted text with line breaks and spaces gone: wrapping puts them anywhere in a long line."""
    return re.sub(r"\s+", "", text)


def reviewed() -> Attempt:
    return attempt(
        notes=(Note(1, 1, "Sam 🙂", NOTE, T0),),
        overrides=(KeyPointOverride(1, 2, "covered", "Sam", T0),),
    )


def test_a_session_report_has_scores_key_points_evidence_delivery_and_the_coachs_review():
    pdf = report.session_report(NAME, [reviewed(), attempt(2, spoken=True, when=T0 + timedelta(minutes=5))])
    reader, text = read(pdf)
    assert pdf.startswith(b"%PDF-") and 1 <= len(reader.pages) <= 3
    assert f"Practice session: {NAME}" in text
    assert "What is a validation set for?" in text
    assert "covered: Data held out from training" in text and "partial: Used to tune hyperparameters" in text
    assert "“held out from training, used t”" in text  # the evidence, quoted
    assert "(coach Sam; automatic missed): Not the test set" in text  # the override beside the scorer
    assert "Coverage: 50 (automatic); 83 after the coach's key-point changes" in text
    assert flat(NOTE) in flat(text) and "Sam \ufffd:" in text  # as typed; an emoji the font lacks is shown
    assert "said at 0:" in text and "Pace:" in text and "Fillers:" in text and "Long pauses" in text
    assert reader.metadata.title == f"Practice session: {NAME}"


def test_a_corrected_transcript_shows_what_was_corrected_and_the_words_first_heard():
    heard = attempt(spoken=True, answer="a validation set is held out from training")
    fixed = heard.transcript.corrected("a validation set is held out from tuning", by="Ana")
    _, text = read(report.session_report(NAME, [dataclasses.replace(heard, transcript=fixed)]))
    assert (
        "Corrected: training → tuning. By Ana. First heard as: a validation set is held out from training"
        in text
    )


def test_an_empty_session_is_one_sentence():
    reader, text = read(report.session_report(NAME, []))
    assert len(reader.pages) == 1
    assert report.EMPTY_SESSION in text and "Key points" not in text


def test_a_long_answer_wraps_onto_more_pages_and_nothing_is_cut():
    long_answer = " ".join(f"word{i}" for i in range(3000)) + " " + "x" * 3000  # and one endless "word"
    short = len(PdfReader(io.BytesIO(report.session_report(NAME, [attempt()]))).pages)
    reader, text = read(report.session_report(NAME, [attempt(answer=long_answer)]))
    assert short == 1 and len(reader.pages) > 5
    body = re.sub(r"Practice session: .* · page \d+", "", text)  # footers fall inside the long word
    assert "word2999" in text and "x" * 3000 in flat(body)
    for page in reader.pages:  # every line stays inside the page: a wrapped line has at most ~100 chars
        assert max(map(len, page.extract_text().splitlines())) < 130


def test_a_progress_report_has_the_chart_level_advice_weak_questions_and_every_attempt():
    attempts = [
        attempt(1, when=T0, score=score(ANSWER, ("missed", "missed", "missed"))),
        attempt(2, when=T0 + timedelta(days=1), spoken=True),
        reviewed(),
    ]
    reader, text = read(report.progress_report(NAME, attempts, now=T0 + timedelta(days=2)))
    assert f"Progress: {NAME}" in text and "Current level: basic" in text
    assert "1 of 5 different basic questions answered" in text
    assert "By level" in text and "By topic" in text and "evaluation" in text
    assert "Weakest questions" in text and "What is a validation set for?: basic, last coverage" in text
    assert sum(len(page.images) for page in reader.pages) == 1  # the chart
    assert text.count("What is a validation set for?\n") >= 3  # each attempt in detail
    assert flat(NOTE) in flat(text)


def test_a_progress_report_without_scored_attempts_says_so():
    failed = attempt(score=None, coverage=None, status="failed", error="No speech was heard.")
    reader, text = read(report.progress_report(NAME, [failed]))
    assert report.NO_SCORED_ATTEMPTS in text and "Not scored (failed: No speech was heard.)" in text
    assert not any(page.images for page in reader.pages)


HOSTILE_NAMES = [
    "李雷 Hanna",  # no CJK in the font: shown as U+FFFD, not a crash
    "שלום עליכם",  # right to left
    "محمد العربي",  # right to left, joined
    "Ана\u200bМария\x00\x1b[31m",  # invisible and control characters
    "<script>alert(1)</script> **b** $x$ {nb} %PDF",  # markup, math, fpdf2's page-count alias
    "👩🏽‍💻 ✅ 🟡",
]


def test_any_unicode_name_and_text_prints_as_text_without_crashing():
    hostile = [
        attempt(i, candidate=Candidate(i, name, T0), notes=(Note(i, i, name, name * 3, T0),))
        for i, name in enumerate(HOSTILE_NAMES, start=1)
    ]
    title = " / ".join(HOSTILE_NAMES)
    for pdf in (report.session_report(title, hostile), report.progress_report(title, hostile)):
        reader, text = read(pdf)
        assert len(reader.pages) >= 2
        for name in HOSTILE_NAMES:
            assert flat(report.printable(name)) in flat(text), name
        assert "שלום עליכם" in text and "محمد العربي" in text  # printed, in reading order
    assert "{nb}" in text  # not replaced by the page count


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("Zoë Ødegaard 😀", "Zoë Ødegaard 😀"),
        ("Zoe\u0308", "Zoë"),  # composed, so the accent sits on its letter
        ("李 a", "\ufffd a"),
        ("محمد שלום Ωμέγα Юлия", "محمد שלום Ωμέγα Юлия"),
        ("a\tb\r\nc\x00d\x1be", "a   b\ncde"),
        ("line\u2028next", "line\nnext"),
    ],
)
def test_printable(text, printed):
    assert report.printable(text) == printed


def test_the_chart_is_a_png_and_takes_any_level_name():
    series = [
        progress.SeriesPoint(T0 + timedelta(days=i), 20.0 * i, "q", level)
        for i, level in enumerate(["basic", "$x$ level", "_hidden", "李"])
    ]
    png = report.coverage_chart(series)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert report.coverage_chart([]).startswith(b"\x89PNG")


def test_one_attempt_is_charted_over_two_days_not_years():
    from matplotlib.dates import num2date

    (axes,) = report.chart_figure([progress.SeriesPoint(T0, 50.0, "q", "basic")]).axes
    start, end = (num2date(x) for x in axes.get_xlim())
    assert end - start == timedelta(days=2)


def test_the_summary_shows_evidence_only_where_it_counts():
    spoken = attempt(spoken=True, score=None)
    spoken = attempt(spoken=True, score=score(spoken.answer_text))
    covered, partial, missed = summarize(spoken).key_points
    assert covered.evidence and covered.said_at is not None and partial.evidence
    assert missed.evidence is None and missed.said_at is None  # words that did not cover it say nothing
    reversed_point = summarize(attempt(score=score(ANSWER, ("missed",) * 3, contradicted=True))).key_points[0]
    assert reversed_point.opposite and reversed_point.evidence  # what was said instead
    assert summarize(reviewed()).key_points[2].status == "covered"  # the coach's


# ------------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def saved(tmp_path, monkeypatch):
    """Ana's two sessions and Bob's one, in a fresh database."""
    monkeypatch.setenv("PRACTICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PRACTICE_DATABASE_URL", raising=False)
    from practice.bank import make_question

    question = make_question(
        id="validation-set", question="What is a validation set for?", model_answer=ANSWER
    )
    sessions = {}
    with open_store() as store:
        for name, day in (("Ana López", 0), ("Ana López", 1), ("Bob", 2)):
            session = sessions[name, day] = store.start_session(name)
            a = store.add_attempt(
                name,
                question,
                answer_mode="typed",
                answer_text=f"{ANSWER} day {day}",
                session_id=session,
                created_at=T0 + timedelta(days=day),
            )
            store.set_result(a.id, score(a.answer_text))
    return sessions


def run(*args: str):
    return CliRunner().invoke(main, ["report", *args])


def test_cli_writes_a_candidates_progress_or_one_session(saved, tmp_path):
    out = tmp_path / "ana.pdf"
    result = run("--candidate", "ana  lópez", "-o", str(out))  # matched as the store matches names
    assert result.exit_code == 0, result.output
    _, text = read(out.read_bytes())
    assert "Progress: Ana López" in text and "day 0" in text and "day 1" in text
    first = saved["Ana López", 0]
    assert run("--candidate", "Ana López", "--session", first, "-o", str(out)).exit_code == 0
    _, text = read(out.read_bytes())
    assert "Practice session: Ana López" in text and "day 0" in text and "day 1" not in text
    assert run("--candidate", "Ana López", "--session", "latest", "-o", str(out)).exit_code == 0
    assert "day 1" in read(out.read_bytes())[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--candidate", "Eve"], "No candidate named 'Eve'; candidates are: Ana López, Bob."),
        (["--candidate", "Ana López", "--session", "nope"], "Ana López has no session 'nope'."),
        (["--candidate", "Bob", "--session", "ANA"], "Bob's latest sessions: "),  # not someone else's
    ],
)
def test_cli_refuses_an_unknown_candidate_or_session_in_one_line(saved, tmp_path, args, message):
    args = [saved["Ana López", 0] if a == "ANA" else a for a in args]
    result = run(*args, "-o", str(tmp_path / "out.pdf"))
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.pdf").exists()


def test_cli_says_when_the_pdf_cannot_be_written(saved, tmp_path):
    result = run("--candidate", "Bob", "-o", str(tmp_path / "missing" / "bob.pdf"))
    assert result.exit_code == 2 and "Cannot write" in result.output and "Traceback" not in result.output
