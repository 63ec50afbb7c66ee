from __future__ import annotations

import csv
import dataclasses
import io
import json
import multiprocessing
import os
import re
import sqlite3
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from practice.bank import KeyPoint, Question
from practice.markdown import escape_markdown
from practice.scoring.delivery import Delivery, PaceWindow, Pause
from practice.scoring.results import Evidence, KeyPointResult, Score
from practice.storage import (
    CSV_COLUMNS,
    SCHEMA_VERSION,
    NotFoundError,
    QuestionClock,
    RoundTiming,
    StorageError,
    Store,
    export_csv,
    export_markdown,
    metadata,
    migrate,
    open_store,
    schema_version,
)
from practice.storage.schema import attempts_table
from practice.transcript import Transcript, Word

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def question(qid: str = "bias-variance-1", track: str = "ml", level: str = "basic", topic: str = "theory"):
    points = (KeyPoint("Bias is error from wrong assumptions"), KeyPoint("Variance is sensitivity to data"))
    return Question(qid, track, level, topic, "technical", f"Explain {qid}?", "model answer", points)


def score_of(qid: str = "bias-variance-1", coverage: float = 50.0, statuses=("covered", "missed")) -> Score:
    points = tuple(KeyPointResult(KeyPoint(f"point {i}"), s, 0.5, 0.4, None) for i, s in enumerate(statuses))
    return Score(qid, coverage, points, word_count=12)


def delivery_of(wpm: float = 120.0, long_pauses: tuple[Pause, ...] = ()) -> Delivery:
    """Sixty words in thirty seconds, with the long pauses given."""
    return Delivery(
        duration=30.0,
        word_count=60,
        speaking_time=30.0,
        wpm=wpm,
        pace="comfortable",
        pace_windows=(PaceWindow(0.5, 30.0, 60, wpm, "comfortable"),),
        fillers=(),
        fillers_per_100=0.0,
        long_pauses=long_pauses,
        longest_pause=max(long_pauses, key=lambda p: p.duration, default=Pause(3.0, 3.4, 0.4)),
        time_to_first_word=0.5,
        top_words=(),
        domain_terms_used=(),
        domain_terms_missed=(),
        long_pause=2.0,
    )


def score_dict(qid: str = "bias-variance-1", coverage: float = 50.0, statuses=("covered", "missed")) -> dict:
    """A score as older versions stored it (Score.to_dict())."""
    return {
        "question_id": qid,
        "coverage": coverage,
        "word_count": 12,
        "key_points": [
            {"text": f"point {i}", "status": s, "similarity": 0.5, "score": 0.4, "evidence": None}
            for i, s in enumerate(statuses)
        ],
    }


def transcript(text: str = "bias is wrong assumptions") -> Transcript:
    words = tuple(Word(w, i * 0.5, i * 0.5 + 0.4, 0.9) for i, w in enumerate(text.split()))
    return Transcript(words, duration=len(words) * 0.5 + 1.0, model="tiny.en")


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'practice.db'}"


# A PostgreSQL URL (`make test` starts a local server and sets it, see .ci/postgres.sh; by hand e.g.
# postgresql+psycopg://practice:practice@localhost/practice_test, with the `postgres` extra installed)
# runs every test that uses `store` against PostgreSQL too. The database is emptied first.
POSTGRES_URL = os.environ.get("PRACTICE_TEST_POSTGRES_URL")


DATABASES = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="PRACTICE_TEST_POSTGRES_URL not set"),
    ),
]


@pytest.fixture(params=DATABASES)
def empty_url(request, tmp_path: Path) -> str:
    """A database with nothing in it, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return url(tmp_path)
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def store(empty_url: str):
    with open_store(empty_url) as s:
        yield s


WAV = b"RIFF" + bytes(range(256)) * 40 + b"\x00\xff"


# --- schema and candidates ------------------------------------------------------------------------------


def test_first_open_creates_the_current_schema(tmp_path: Path, store: Store) -> None:
    assert schema_version(store.engine) == SCHEMA_VERSION
    inspector = sa.inspect(store.engine)
    for table in metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.c.keys()), table.name
    if store.engine.dialect.name != "sqlite":
        return
    assert (tmp_path / "practice.db").exists()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def test_default_location_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRACTICE_DATABASE_URL", raising=False)
    monkeypatch.setenv("PRACTICE_DATA_DIR", str(tmp_path / "data"))
    with open_store() as s:
        assert s.url.endswith("data/practice.db")
    assert (tmp_path / "data" / "practice.db").exists()
    monkeypatch.setenv("PRACTICE_DATABASE_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    with open_store() as s:
        s.candidate("Ana")
    assert (tmp_path / "shared.db").exists()


def test_candidate_is_get_or_create_ignoring_case_and_whitespace(store: Store) -> None:
    ana = store.candidate("  Ana   Lopez ")
    assert ana.name == "Ana Lopez"
    assert store.candidate("ana lopez") == ana
    assert store.candidate("ANA\tLOPEZ").id == ana.id
    bob = store.candidate("Bob")
    assert bob.id != ana.id
    assert [c.name for c in store.candidates()] == ["Ana Lopez", "Bob"]
    assert ana.created_at.tzinfo is not None


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", "x" * 101])
def test_unusable_candidate_names_are_refused_clearly(store: Store, bad: str) -> None:
    with pytest.raises(ValueError, match="empty|too long"):
        store.candidate(bad)
    assert store.candidates() == []


# --- attempts -------------------------------------------------------------------------------------------


def test_attempt_with_audio_round_trips(store: Store) -> None:
    session = store.start_session("Ana")
    saved = store.add_attempt(
        "Ana", question(), answer_mode="audio", audio=WAV, audio_mime="audio/wav", session_id=session
    )
    assert saved.status == "recorded"
    assert saved.has_audio and saved.score is None and saved.transcript is None
    assert saved.session_id == session and saved.candidate.name == "Ana"
    assert saved.question == "Explain bias-variance-1?"
    assert (saved.track, saved.level, saved.topic) == ("ml", "basic", "theory")

    assert store.audio(saved.id) == (WAV, "audio/wav")
    assert store.attempt(saved.id) == saved

    typed = store.add_attempt("Ana", question(), answer_mode="typed", answer_text="typed answer")
    assert not typed.has_audio and store.audio(typed.id) is None
    assert typed.answer_text == "typed answer"


def test_listing_attempts_never_reads_the_audio(store: Store) -> None:
    store.add_attempt("Ana", question(), answer_mode="audio", audio=WAV)
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2].lower()))
    listed = store.attempts()
    store.attempt(listed[0].id)
    assert listed[0].has_audio
    assert statements and not any("recordings" in s for s in statements)
    store.audio(listed[0].id)
    assert any("recordings" in s for s in statements)


def test_bad_input_is_refused_without_writing(store: Store) -> None:
    with pytest.raises(ValueError, match="answer mode"):
        store.add_attempt("Ana", question(), answer_mode="video")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bytes"):
        store.add_attempt("Ana", question(), answer_mode="audio", audio="not bytes")  # type: ignore[arg-type]
    assert store.attempts() == []
    with pytest.raises(NotFoundError, match="No attempt with id 99"):
        store.attempt(99)
    with pytest.raises(NotFoundError):
        store.set_failed(99, "boom")


def test_filters_and_newest_first(store: Store) -> None:
    s1 = store.start_session("Ana")
    rows = [
        ("Ana", question("q-a", "ml", "basic"), T0, s1),
        ("Ana", question("q-b", "ml", "advanced"), T0 + timedelta(days=1), s1),
        ("Bob", question("q-a", "ml", "basic"), T0 + timedelta(days=2), None),
        ("ana", question("q-c", "genai", "basic"), T0 + timedelta(days=3, hours=5), None),
    ]
    ids = [store.add_attempt(c, q, answer_mode="typed", session_id=s, created_at=t).id for c, q, t, s in rows]

    def listed(**filters) -> list[int]:
        return [a.id for a in store.attempts(**filters)]

    assert listed() == ids[::-1]
    assert listed(candidate="ANA ") == [ids[3], ids[1], ids[0]]
    assert listed(candidate=store.candidate("Bob")) == [ids[2]]
    assert listed(candidate="nobody") == []
    assert listed(track="genai") == [ids[3]]
    assert listed(level="basic") == [ids[3], ids[2], ids[0]]
    assert listed(question_id="q-a") == [ids[2], ids[0]]
    assert listed(question_id="q-a", candidate="Bob") == [ids[2]]
    assert listed(session_id=s1) == [ids[1], ids[0]]
    assert listed(since=T0 + timedelta(days=1)) == [ids[3], ids[2], ids[1]]
    assert listed(until=T0 + timedelta(days=1)) == [ids[1], ids[0]]
    assert listed(since=date(2025, 3, 13), until=date(2025, 3, 13)) == [ids[3]]  # whole UTC day
    assert listed(until=date(2025, 3, 12)) == [ids[2], ids[1], ids[0]]
    assert listed(limit=2) == [ids[3], ids[2]]
    assert {a.candidate.name for a in store.attempts(session_id=s1)} == {"Ana"}


def test_session_of_another_candidate_is_refused(store: Store) -> None:
    session = store.start_session("Ana")
    with pytest.raises(ValueError, match="another candidate"):
        store.add_attempt("Bob", question(), answer_mode="typed", session_id=session)
    unknown = "f" * 32  # e.g. started before the database was replaced: created rather than lost
    assert store.add_attempt("Bob", question(), answer_mode="typed", session_id=unknown).session_id == unknown


# --- quick-fire rounds ----------------------------------------------------------------------------------


def test_a_quick_fire_round_keeps_its_time_limit_and_each_questions_first_clock(store: Store) -> None:
    session = store.start_round("Ana", 30)
    assert store.session_candidate(session) == "Ana"
    assert store.quick_fire_round(session) == RoundTiming(session, 30, ())
    assert store.start_clock(session, "q-1", T0) == QuestionClock("q-1", T0)
    # a rerun, a reload or a second tab showing it again: the clock started first is kept
    assert store.start_clock(session, "q-1", T0 + timedelta(seconds=20)) == QuestionClock("q-1", T0)
    later = T0 + timedelta(seconds=40)
    assert store.start_clock(session, "q-2", later) == QuestionClock("q-2", later)
    stored = store.quick_fire_round(session)
    assert stored == RoundTiming(session, 30, (QuestionClock("q-1", T0), QuestionClock("q-2", later)))
    assert stored.shown_at("q-2") == later and stored.shown_at("q-3") is None
    assert stored.shown_at("q-1").tzinfo is not None
    # its answers are saved as any session's
    a = store.add_attempt("Ana", question("q-1"), answer_mode="typed", answer_text="x", session_id=session)
    assert store.attempts(session_id=session) == [a]


def test_a_plain_session_is_not_a_round_and_has_no_clocks(store: Store) -> None:
    plain = store.start_session("Ana")
    assert store.quick_fire_round(plain) is None
    assert store.quick_fire_round("0" * 32) is None
    for session in (plain, "0" * 32):
        with pytest.raises(NotFoundError, match="No quick-fire round"):
            store.start_clock(session, "q-1", T0)
    assert store.quick_fire_round(plain) is None


@pytest.mark.parametrize("seconds", [0, -5, 30.5, "30", True, None])
def test_a_round_without_a_usable_time_limit_is_refused_and_writes_nothing(store: Store, seconds) -> None:
    with pytest.raises(ValueError, match="positive whole number of seconds"):
        store.start_round("Ana", seconds)
    with store.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(sa.table("sessions"))) == 0


@pytest.mark.parametrize("qid", ["", "q" * 201, 7])
def test_a_clock_needs_a_question_id(store: Store, qid) -> None:
    session = store.start_round("Ana", 30)
    with pytest.raises(ValueError, match="question id"):
        store.start_clock(session, qid, T0)
    assert store.quick_fire_round(session).clocks == ()


def test_a_clock_defaults_to_now(store: Store) -> None:
    session = store.start_round("Ana", 30)
    before = datetime.now(UTC)
    shown = store.start_clock(session, "q-1").shown_at
    assert before - timedelta(seconds=1) <= shown <= datetime.now(UTC) + timedelta(seconds=1)


def not_scored(store: Store) -> list[int]:
    """The attempts still to be scored (recorded, or failed), oldest first."""
    return [x.id for x in reversed(store.attempts()) if x.status != "scored"]


def test_result_failure_and_rescoring_queue(store: Store) -> None:
    a = store.add_attempt("Ana", question(), answer_mode="audio", audio=WAV)
    b = store.add_attempt("Ana", question(), answer_mode="audio", audio=WAV)
    c = store.add_attempt("Ana", question(), answer_mode="typed", answer_text="text")
    assert not_scored(store) == [a.id, b.id, c.id]

    spoken = transcript()
    failed = store.set_failed(a.id, "Scorer crashed", transcript=spoken)
    assert failed.status == "failed" and failed.error == "Scorer crashed"
    assert failed.transcript == spoken and failed.answer_text == spoken.text
    assert store.audio(a.id) == (WAV, "audio/wav")

    kept = store.set_transcript(b.id, spoken)
    assert kept.status == "recorded" and kept.transcript == spoken

    scored = store.set_result(c.id, score_of(coverage=62.5), delivery=delivery_of(131.0))
    assert scored.status == "scored" and scored.coverage == 62.5 and scored.error is None
    assert scored.delivery == delivery_of(131.0)
    assert scored.score == score_of(coverage=62.5)
    assert not_scored(store) == [a.id, b.id]

    rescored = store.set_result(a.id, score_of(coverage=80.0), coverage=75.0)
    assert (rescored.status, rescored.coverage, rescored.error) == ("scored", 75.0, None)
    assert rescored.transcript == spoken  # kept from the failed attempt
    assert not_scored(store) == [b.id]


def test_set_result_stores_plain_json_and_hands_back_the_typed_result(store: Store) -> None:
    import numpy as np

    q = question()
    score = Score(
        q.id,
        coverage=np.float64(50.0),
        key_points=(
            KeyPointResult(q.key_points[0], "covered", np.float32(0.75), 0.5, Evidence("bias is", 0, 7)),
            KeyPointResult(q.key_points[1], "missed", 0.1, 0.0, None, contradicted=True),
        ),
        word_count=np.int64(4),
    )
    delivery = dataclasses.replace(delivery_of(), wpm=np.float32(120.5), time_to_first_word=float("nan"))
    a = store.add_attempt("Ana", q, answer_mode="typed", answer_text="bias is")
    saved = store.set_result(a.id, score, delivery=delivery)
    assert saved.score == dataclasses.replace(
        score,
        coverage=50.0,
        key_points=(dataclasses.replace(score.key_points[0], similarity=0.75), score.key_points[1]),
        word_count=4,
    )
    assert saved.score.key_points[0].key_point == KeyPoint("Bias is error from wrong assumptions")
    assert saved.coverage == 50.0
    assert saved.delivery == dataclasses.replace(delivery, wpm=120.5, time_to_first_word=None)
    assert saved.delivery.feedback() == delivery_of(120.5).feedback()
    assert store.attempt(a.id) == saved
    with store.engine.connect() as conn:
        raw_score, raw_delivery = conn.execute(
            sa.select(attempts_table.c.score, attempts_table.c.delivery).where(attempts_table.c.id == a.id)
        ).one()
    json.dumps([raw_score, raw_delivery], allow_nan=False)  # plain JSON: no numpy, no NaN
    assert raw_delivery["wpm"] == 120.5 and raw_delivery["time_to_first_word"] is None
    assert "feedback" not in raw_delivery  # coaching sentences are worked out when shown
    with pytest.raises(ValueError, match="0 to 100"):
        store.set_result(a.id, score_of(), coverage=float("nan"))
    with pytest.raises(ValueError, match="must be a Score"):
        store.set_result(a.id, score_dict())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be a Delivery"):
        store.set_result(a.id, score_of(), delivery={"wpm": 120.5})  # type: ignore[arg-type]


# --- coach review ---------------------------------------------------------------------------------------


def test_notes_and_overrides_give_effective_status_and_coverage(store: Store) -> None:
    a = store.add_attempt("Ana", question(), answer_mode="typed", answer_text="x")
    with pytest.raises(ValueError, match="not been scored"):
        store.save_review(a.id, key_points={0: "covered"}, author="Sam")
    store.set_result(a.id, score_of(coverage=50.0, statuses=("covered", "missed", "partial", "missed")))

    (note,) = store.save_review(a.id, note="  Good start  ", author="Sam").notes
    assert (note.text, note.author, note.attempt_id) == ("Good start", "Sam", a.id)
    with pytest.raises(ValueError, match="empty"):
        store.save_review(a.id, note="   ")

    reviewed = store.save_review(a.id, key_points={1: "covered"}, author="Sam")
    assert reviewed.automatic_status(1) == "missed"
    assert reviewed.key_point_status(1) == "covered"
    assert reviewed.key_point_status(0) == "covered" and reviewed.override(0) is None
    assert reviewed.key_point_statuses() == ["covered", "covered", "partial", "missed"]
    assert reviewed.missed_count == 1
    assert reviewed.coverage == 50.0  # the automatic one is kept
    assert reviewed.effective_coverage == 75.0  # one of four points from missed to covered
    assert [n.text for n in reviewed.notes] == ["Good start"]

    reviewed = store.save_review(a.id, key_points={2: "missed"}, author="Sam")
    assert reviewed.effective_coverage == pytest.approx(62.5)

    reviewed = store.save_review(a.id, coverage=90, author="Sam")
    assert (reviewed.coverage, reviewed.coach_coverage, reviewed.effective_coverage) == (50.0, 90.0, 90.0)
    assert reviewed.coach_coverage_by == "Sam"

    cleared = store.save_review(a.id, coverage=None, key_points={1: None, 2: None})
    assert cleared.coach_coverage is None and cleared.overrides == ()
    assert cleared.effective_coverage == 50.0 and cleared.key_point_status(1) == "missed"

    with pytest.raises(ValueError, match="no key point 4"):
        store.save_review(a.id, key_points={4: "covered"})
    with pytest.raises(ValueError, match="Unknown status"):
        store.save_review(a.id, key_points={0: "great"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="0 to 100"):
        store.save_review(a.id, coverage=120)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"key_points": {0: "covered", 5: "covered"}}, "no key point 5"),
        ({"key_points": {0: "covered", 1: "great"}}, "Unknown status"),
        ({"key_points": {0: "partial"}, "coverage": 120}, "0 to 100"),
    ],
)
def test_a_review_that_fails_part_way_saves_none_of_it(store: Store, bad: dict, error: str) -> None:
    a = store.add_attempt("Ana", question(), answer_mode="typed", answer_text="x")
    store.set_result(a.id, score_of(coverage=50.0, statuses=("missed", "missed")))
    statements: list[str] = []

    def spy(*args) -> None:
        statements.append(args[2].lower())

    sa.event.listen(store.engine, "before_cursor_execute", spy)
    with pytest.raises(ValueError, match=error):
        store.save_review(a.id, note="Good start", author="Sam", **bad)
    sa.event.remove(store.engine, "before_cursor_execute", spy)
    # the note and the first key point were written before the bad part was reached, then rolled back
    assert any(s.startswith("insert into notes") for s in statements)
    assert any(s.startswith("insert into key_point_overrides") for s in statements)
    kept = store.attempt(a.id)
    assert (kept.notes, kept.overrides, kept.coach_coverage, kept.coach_coverage_by) == ((), (), None, None)
    assert kept.effective_coverage == 50.0 and not kept.is_reviewed

    saved = store.save_review(
        a.id, note="Good start", key_points={0: "covered", 1: "partial"}, coverage=80, author="Sam"
    )
    assert [n.text for n in saved.notes] == ["Good start"]
    assert saved.key_point_statuses() == ["covered", "partial"] and saved.coach_coverage == 80.0
    assert store.attempt(a.id) == saved
    with pytest.raises(NotFoundError, match="No attempt with id 99"):
        store.save_review(99, note="lost")


def test_a_note_is_edited_in_place(store: Store) -> None:
    a = store.add_attempt("Ana", question(), answer_mode="typed", answer_text="x")
    store.save_review(a.id, note="Good start", author="Sam")
    first, second = store.save_review(a.id, note="Mention tuning", author="Sam").notes
    edited = store.edit_note(first.id, "  Good start: mention *tuning*  ", author="Kim")
    assert [(n.id, n.text, n.author) for n in edited.notes] == [
        (first.id, "Good start: mention *tuning*", "Kim"),
        (second.id, "Mention tuning", "Sam"),
    ]
    assert edited.notes[0].created_at == first.created_at  # its place among the notes stays
    assert store.attempt(a.id) == edited
    assert "Kim: Good start: mention \\*tuning\\*" in export_markdown([edited])
    (row,) = csv.DictReader(io.StringIO(export_csv([edited])))
    assert row["notes"] == "Kim: Good start: mention *tuning* | Sam: Mention tuning"


def test_deleting_a_note_removes_only_that_note(store: Store) -> None:
    a = store.add_attempt("Ana", question(), answer_mode="typed", answer_text="x")
    b = store.add_attempt("Ana", question("other-1"), answer_mode="typed", answer_text="y")
    store.save_review(a.id, note="Good start", author="Sam")
    kept = store.save_review(a.id, note="Mention tuning", author="Sam").notes[1]
    (elsewhere,) = store.save_review(b.id, note="Good start", author="Sam").notes
    gone = store.attempt(a.id).notes[0]
    left = store.delete_note(gone.id, author="Kim")
    assert left.notes == (kept,)
    assert store.attempt(b.id).notes == (elsewhere,)
    assert "Good start" not in export_markdown([left])
    (row,) = csv.DictReader(io.StringIO(export_csv([left])))
    assert row["notes"] == "Sam: Mention tuning"
    with pytest.raises(NotFoundError, match=f"No note with id {gone.id}."):
        store.delete_note(gone.id)


@pytest.mark.parametrize("change", ["edit", "delete"])
def test_an_unknown_note_is_not_found_and_changes_nothing(store: Store, change: str) -> None:
    a = store.add_attempt("Ana", question(), answer_mode="typed", answer_text="x")
    (note,) = store.save_review(a.id, note="Good start", author="Sam").notes
    with pytest.raises(NotFoundError, match="^No note with id 99.$"):
        store.edit_note(99, "lost", author="Sam") if change == "edit" else store.delete_note(99, author="Sam")
    assert store.attempt(a.id).notes == (note,)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_a_note_cannot_be_edited_to_nothing(store: Store, text: str) -> None:
    a = store.add_attempt("Ana", question(), answer_mode="typed", answer_text="x")
    (note,) = store.save_review(a.id, note="Good start", author="Sam").notes
    with pytest.raises(ValueError, match="^The note is empty.$"):
        store.edit_note(note.id, text, author="Kim")
    assert store.attempt(a.id).notes == (note,)


# --- exports --------------------------------------------------------------------------------------------


def _reviewed_attempts(store: Store) -> list:
    a = store.add_attempt(
        "Ana <b>", question(), answer_mode="typed", answer_text="<script>alert(1)</script> *bold*"
    )
    long_pauses = (Pause(10.0, 13.1, 3.1), Pause(20.0, 22.5, 2.5))
    store.set_result(a.id, score_of(coverage=50.0), delivery=delivery_of(120.0, long_pauses))
    store.save_review(
        a.id,
        note="# not a heading [link](http://x) `code`",
        key_points={1: "partial"},
        coverage=70,
        author="Sam",
    )
    b = store.add_attempt("Ana <b>", question("q-2"), answer_mode="audio", audio=WAV)
    store.set_failed(b.id, "=cmd|' /C calc'!A0")
    return store.attempts(candidate="Ana <b>")


def test_markdown_export_keeps_user_text_literal(store: Store) -> None:
    text = export_markdown(_reviewed_attempts(store))
    assert "\\<script>alert(1)\\</script>" in text and "(Ana \\<b>)" in text  # no HTML tag, as it reads
    assert "*bold*" not in text and "\\*bold\\*" in text
    assert "\n# not" not in text and "Sam: # not a heading" in text  # only a line's first # makes one
    assert "[link]" not in text and "`code`" not in text
    assert "Coverage: 50 (automatic); 70 (coach by Sam)" in text
    assert "**missed**: point 1 (coach: **partial**, Sam)" in text
    assert "Explain bias-variance-1?" in text
    pace = "You spoke at 120 words per minute: a comfortable pace."
    assert "- Pace: 120 words per minute, comfortable" in text
    assert f"- {pace}" in text  # the sentence as of today
    assert "pace windows" not in text  # only scalar metrics and the feedback sentences
    assert "Not scored (failed" in text


def test_markdown_export_counts_the_long_pauses_and_gives_the_longest(store: Store) -> None:
    text = export_markdown(_reviewed_attempts(store))
    assert "- Long pauses (over 2 s): 2, the longest 3.1 s" in text
    assert "long pause: 2.0" not in text  # the threshold is no finding
    quiet = store.add_attempt("Bo", question(), answer_mode="audio", audio=WAV)
    store.set_result(quiet.id, score_of(), delivery=delivery_of())
    assert "- Long pauses (over 2 s): none" in export_markdown(store.attempts(candidate="Bo"))


def test_markdown_export_escapes_only_what_markdown_would_read(store: Store) -> None:
    answer = "It's 5:30 & we pay $5 - e.g. snake_case = 1+1, a > b (see #3)\n-5 degrees: 100% sure"
    a = store.add_attempt("Ana-María O'Neil", question(), answer_mode="typed", answer_text=answer)
    store.set_result(a.id, score_of(), delivery=delivery_of())
    store.save_review(a.id, note="Good: 90% sure, C# & SQL", author="Sam (coach)")
    text = export_markdown(store.attempts(), title="Interview practice: Ana-María O'Neil")
    assert "# Interview practice: Ana-María O'Neil\n" in text
    assert "## bias-variance-1 (Ana-María O'Neil)" in text
    assert (
        "> It's 5:30 & we pay $5 - e.g. snake_case = 1+1, a > b (see #3)\n> -5 degrees: 100% sure\n" in text
    )
    assert ", Sam (coach): Good: 90% sure, C# & SQL" in text
    assert "- You spoke at 120 words per minute: a comfortable pace." in text
    assert "\\" not in text  # nothing here needed a backslash


HOSTILE = [
    "![p](http://x/p.png)",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","click")',
    "[link](http://x) <img src=x onerror=alert(1)> <http://x> &amp;",
    "# heading\n1. item\n- item\n> quote\n    code\n===\n| a | b |\n|---|---|\n```\n*em* _em_ ~~del~~ `code`",
]


def test_hostile_text_stays_inert_in_the_markdown_export(store: Store) -> None:
    name = "![p](http://x/p.png) <b>Eve</b>"
    a = store.add_attempt(name, question(), answer_mode="typed", answer_text="\n".join(HOSTILE))
    store.set_result(a.id, score_of(), delivery=delivery_of())
    for hostile in HOSTILE:
        store.save_review(a.id, note=hostile, author=name)
    (attempt,) = store.attempts()
    text = export_markdown([attempt], title=f"Interview practice: {name}")
    assert "![p](" not in text and "!\\[p\\](http://x/p.png)" in text
    assert "<script>" not in text.replace("\\<script>", "") and "<img" not in text.replace("\\<img", "")
    assert '=HYPERLINK("http://x","click")' in text  # no formula in Markdown: kept as written

    markdown_it = pytest.importorskip("markdown_it")
    render = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render
    html = render(text)
    assert "![p](http://x/p.png)" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the same attempt with plain words in every field a user fills makes exactly the same elements
    plain = dataclasses.replace(
        attempt,
        candidate=dataclasses.replace(attempt.candidate, name="Eve"),
        answer_text="\n".join("plain words" for _ in HOSTILE),
        notes=tuple(dataclasses.replace(n, text="plain", author="Eve") for n in attempt.notes),
    )
    baseline = render(export_markdown([plain], title="Interview practice: Eve"))
    assert Counter(re.findall(r"<(\w+)", html)) == Counter(re.findall(r"<(\w+)", baseline))


def test_escape_markdown_neutralises_line_starts() -> None:
    assert escape_markdown("1. one\n- two\n    code\n> quote") == "1\\. one\n\\- two\ncode\n\\> quote"
    assert escape_markdown("12) x\n===\n+ y\na - b. c") == "12\\) x\n\\===\n\\+ y\na - b. c"
    assert escape_markdown("![img](javascript:x)") == "!\\[img\\](javascript\\:x)"
    assert escape_markdown("costs $5 & <tag>") == "costs \\$5 \\& \\<tag\\>"


def test_csv_export_parses_back_one_row_per_attempt(store: Store) -> None:
    attempts = _reviewed_attempts(store)
    rows = list(csv.DictReader(io.StringIO(export_csv(attempts))))
    assert len(rows) == len(attempts) == 2
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    failed, scored = rows
    assert scored["candidate"] == "Ana <b>"
    assert scored["answer_text"] == "<script>alert(1)</script> *bold*"
    assert (scored["coverage"], scored["coach_coverage"], scored["effective_coverage"]) == (
        "50.0",
        "70.0",
        "70.0",
    )
    assert scored["key_points"] == "covered; partial"
    assert (scored["covered"], scored["partial"], scored["missed"]) == ("1", "1", "0")
    assert scored["coach_overrides"] == "2=partial (Sam)"
    assert scored["notes"].startswith("Sam: # not a heading")
    assert failed["status"] == "failed" and failed["has_audio"] == "yes"
    assert failed["error"] == "'=cmd|' /C calc'!A0"  # not a formula when opened in a spreadsheet


def test_csv_export_gives_delivery_its_own_columns(store: Store) -> None:
    failed, scored = (
        {k: v for k, v in row.items() if k in DELIVERY_COLUMNS}
        for row in csv.DictReader(io.StringIO(export_csv(_reviewed_attempts(store))))
    )
    assert scored == {
        "wpm": "120.0",
        "pace": "comfortable",
        "fillers_per_100": "0.0",
        "long_pauses": "2",
        "longest_pause_seconds": "3.1",
    }
    assert failed == dict.fromkeys(DELIVERY_COLUMNS, "")  # no recording heard, nothing to measure
    assert "delivery" not in CSV_COLUMNS  # no JSON in a cell


DELIVERY_COLUMNS = ("wpm", "pace", "fillers_per_100", "long_pauses", "longest_pause_seconds")


@pytest.mark.parametrize(
    ("names", "session", "expected"),
    [
        (["Ana López / QA"], True, "ana-lopez-qa-2025-03-10"),
        (["Ana López / QA", "ana lópez / qa"], False, "ana-lopez-qa"),  # one candidate, however typed
        (["李雷"], True, "session-2025-03-10"),  # nothing left of the name: still a safe, dated name
        (["../../etc/passwd"], False, "etc-passwd"),
        (["Ana", "Bob"], False, "attempts"),
        ([], True, "attempts"),
    ],
)
def test_exports_are_named_safely_after_the_candidate_and_day(names, session, expected) -> None:
    from practice.storage import Attempt, Candidate, export_stem

    def attempt(name: str, day: int) -> Attempt:
        when = datetime(2025, 3, day, 23, 30, tzinfo=UTC)  # late in the day: the date is UTC's
        who = Candidate(1 if name.casefold() == names[0].casefold() else 2, name, when)
        fields = dict.fromkeys(("transcript", "score", "coverage", "delivery", "session_id", "error"))
        return Attempt(
            **fields, id=day, candidate=who, question_id="q", track="ml", level="basic", topic="t",
            created_at=when, answer_mode="typed", answer_text="", status="recorded", has_audio=False,
        )  # fmt: skip

    attempts = [attempt(name, 10 + i) for i, name in enumerate(names)]
    assert export_stem(attempts, session=session) == expected


# --- migrations -----------------------------------------------------------------------------------------


def test_opening_a_version_1_database_upgrades_it_and_keeps_rows(tmp_path: Path) -> None:
    engine = sa.create_engine(url(tmp_path))
    assert migrate(engine, target=1) == 1
    with engine.begin() as conn:  # rows as the version-1 app wrote them
        conn.exec_driver_sql(
            "INSERT INTO candidates (id, name, name_key, created_at) "
            "VALUES (1, 'Ana', 'ana', '2024-01-02 10:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO attempts (id, candidate_id, question_id, question, track, level, topic, created_at, "
            "answer_mode, answer_text, score, coverage, status, has_audio) VALUES (1, 1, 'q-1', 'Why?', "
            "'ml', 'basic', 'theory', '2024-01-02 10:05:00', 'audio', 'old answer', ?, 40.0, 'scored', 1)",
            (json.dumps(score_dict("q-1", 40.0)),),
        )
        conn.exec_driver_sql(
            "INSERT INTO recordings (attempt_id, mime, extension, size, data) "
            "VALUES (1, 'audio/wav', 'wav', ?, ?)",
            (len(WAV), WAV),
        )
    columns = {c["name"] for c in sa.inspect(engine).get_columns("attempts")}
    assert "coach_coverage" not in columns and not sa.inspect(engine).has_table("notes")
    engine.dispose()

    with open_store(url(tmp_path)) as store:
        assert schema_version(store.engine) == SCHEMA_VERSION
        [old] = store.attempts()
        assert (old.id, old.candidate.name, old.answer_text, old.coverage) == (1, "Ana", "old answer", 40.0)
        assert old.created_at == datetime(2024, 1, 2, 10, 5, tzinfo=UTC)
        assert old.coach_coverage is None and old.notes == ()
        assert store.audio(1) == (WAV, "audio/wav")
        store.save_review(1, note="reviewed after the upgrade")
        assert store.save_review(1, key_points={1: "covered"}).key_point_status(1) == "covered"
        assert store.candidate("ANA").id == 1
    with open_store(url(tmp_path)) as store:  # opening again is a no-op
        assert len(store.attempts()) == 1 and len(store.attempt(1).notes) == 1


def test_a_version_3_database_gains_quick_fire_rounds_and_keeps_its_sessions(empty_url: str) -> None:
    from practice.storage.schema import candidates_table, sessions_table

    engine = sa.create_engine(empty_url)
    assert migrate(engine, target=3) == 3
    with engine.begin() as conn:  # a session as the version-3 app wrote it (a round then: its link knew)
        conn.execute(sa.insert(candidates_table).values(id=1, name="Ana", name_key="ana", created_at=T0))
        conn.execute(sa.insert(sessions_table).values(id="s" * 32, candidate_id=1, started_at=T0))
    assert not sa.inspect(engine).has_table("quickfire_rounds")
    engine.dispose()

    with open_store(empty_url) as store:
        assert schema_version(store.engine) == SCHEMA_VERSION == 4
        inspector = sa.inspect(store.engine)
        for name in ("quickfire_rounds", "quickfire_clocks"):
            table = metadata.tables[name]
            assert {c["name"] for c in inspector.get_columns(name)} == set(table.c.keys()), name
        assert store.session_candidate("s" * 32) == "Ana"
        assert store.quick_fire_round("s" * 32) is None  # nothing stored says it was a round
        session = store.start_round("Ana", 45)
        store.start_clock(session, "q-1", T0)
        assert store.quick_fire_round(session) == RoundTiming(session, 45, (QuestionClock("q-1", T0),))
    with open_store(empty_url) as store:  # opening again is a no-op
        assert schema_version(store.engine) == 4 and store.quick_fire_round(session).seconds == 45


# Rows as versions before the typed codec wrote them: Assessment.to_dict() without its transcript and
# delivery (each point's time, the follow-up beside the points), and Delivery.to_dict() with its sentences.
OLD_SCORE = {
    "question_id": "bias-variance-1",
    "coverage": 58.3,
    "word_count": 9,
    "key_points": [
        {
            "text": "Bias is error from wrong assumptions",
            "status": "covered",
            "similarity": 0.7123,
            "score": 0.5012,
            "evidence": {"text": "wrong assumptions", "start": 8, "end": 25},
            "contradicted": False,
            "said_at": 1.0,
        },
        {
            "text": "Variance is sensitivity to data",
            "status": "missed",
            "similarity": 0.2,
            "score": 0.1,
            "evidence": {"text": "not sensitive", "start": 26, "end": 39},
            "contradicted": True,
            "said_at": None,
        },
        {
            "text": "Both trade off",
            "status": "partial",
            "similarity": 0.4,
            "score": 0.35,
            "evidence": None,
            "contradicted": False,
            "said_at": None,
        },
    ],
    "follow_up": "What makes a model sensitive to its training data?",
}
OLD_DELIVERY = {
    "duration": 32.0,
    "word_count": 60,
    "speaking_time": 30.0,
    "wpm": 120.0,
    "pace": "comfortable",
    "pace_windows": [{"start": 0.5, "end": 30.0, "word_count": 60, "wpm": 120.0, "band": "comfortable"}],
    "fillers": [{"text": "um", "index": 3, "start": 2.0, "end": 2.2}],
    "fillers_per_100": 1.67,
    "filler_counts": {"um": 1},
    "long_pause": 2.0,
    "long_pauses": [{"start": 10.0, "end": 13.1, "duration": 3.1}],
    "longest_pause": {"start": 10.0, "end": 13.1, "duration": 3.1},
    "time_to_first_word": 0.5,
    "top_words": [{"word": "bias", "count": 3}],
    "domain_terms_used": ["bias"],
    "domain_terms_missed": ["variance"],
    "feedback": ["Wording an older version wrote.", "Your longest pause was 3.1 s at 0:10."],
}


def _old_row(store: Store, score: object, delivery: object, transcript: dict | None = None) -> int:
    a = store.add_attempt("Ana", question(), answer_mode="audio", audio=WAV)
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(attempts_table)
            .where(attempts_table.c.id == a.id)
            .values(score=score, delivery=delivery, transcript=transcript, status="scored", coverage=58.3)
        )
    return a.id


def test_rows_in_the_old_json_shape_load_typed(store: Store) -> None:
    from practice.assess import follow_up, said_at

    spoken = transcript("bias is wrong assumptions not sensitive at all")
    attempt = store.attempt(_old_row(store, OLD_SCORE, OLD_DELIVERY, spoken.to_dict()))
    score = attempt.score
    assert isinstance(score, Score) and (score.question_id, score.coverage, score.word_count) == (
        "bias-variance-1",
        58.3,
        9,
    )
    first, second, third = score.key_points
    assert first == KeyPointResult(
        KeyPoint("Bias is error from wrong assumptions"),
        "covered",
        0.7123,
        0.5012,
        Evidence("wrong assumptions", 8, 25),
    )
    assert second.contradicted and second.evidence == Evidence("not sensitive", 26, 39)
    assert third.evidence is None and third.status == "partial"
    assert attempt.key_point_statuses() == ["covered", "missed", "partial"]
    assert follow_up(score) == "What makes a model sensitive to its training data?"  # as stored
    assert said_at(score, attempt.transcript) == [1.0, None, None]  # from the transcript, as stored

    delivery = attempt.delivery
    assert isinstance(delivery, Delivery)
    assert (delivery.wpm, delivery.pace, delivery.long_pause) == (120.0, "comfortable", 2.0)
    assert delivery.longest_pause == Pause(10.0, 13.1, 3.1) and len(delivery.long_pauses) == 1
    assert delivery.filler_counts == {"um": 1} and delivery.domain_terms_missed == ("variance",)
    # the coaching sentences are today's, worked out from the stored numbers, not the stored ones
    assert delivery.feedback() == [
        "You spoke at 120 words per minute: a comfortable pace.",
        "Your longest pause was 3.1 s at 0:10.",
    ]
    assert "older version" not in export_markdown([attempt])


def test_old_rows_missing_optional_fields_still_load(store: Store) -> None:
    from practice.assess import follow_up

    score = {
        "question_id": "bias-variance-1",
        "coverage": 50.0,
        "key_points": [{"text": "point 0", "status": "covered"}, {"text": "point 1", "status": "missed"}],
    }
    delivery = {"duration": 12.0, "word_count": 30, "feedback": ["An old sentence."]}
    attempt = store.attempt(_old_row(store, score, delivery))
    assert attempt.score == Score(
        "bias-variance-1",
        50.0,
        (
            KeyPointResult(KeyPoint("point 0"), "covered", 0.0, 0.0, None),
            KeyPointResult(KeyPoint("point 1"), "missed", 0.0, 0.0, None),
        ),
        word_count=0,
    )
    assert follow_up(attempt.score) is None and attempt.effective_coverage == 58.3
    assert attempt.delivery is not None and attempt.delivery.word_count == 30
    assert attempt.delivery.wpm is None and attempt.delivery.long_pauses == ()
    assert attempt.delivery.feedback() == []  # too short to tell a pace; nothing else to say


@pytest.mark.parametrize(
    ("score", "delivery"),
    [
        ({"coverage": 50.0, "key_points": "not a list"}, {"wpm": 120.0}),  # no duration or word count
        ({"question_id": "q", "coverage": 50.0, "key_points": [{"text": "p", "status": "great"}]}, []),
        ({"coverage": 50.0, "key_points": [{"text": "p", "status": "covered"}, {"status": "missed"}]}, None),
    ],
)
def test_a_damaged_score_or_delivery_does_not_hide_the_attempt(store: Store, score, delivery) -> None:
    attempt = store.attempt(_old_row(store, score, delivery))
    assert (attempt.status, attempt.coverage, attempt.score, attempt.delivery) == ("scored", 58.3, None, None)
    assert attempt.key_points == () and attempt.key_point_statuses() == []


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    with open_store(url(tmp_path)) as store, store.engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO schema_version VALUES ({SCHEMA_VERSION + 1}, '2030-01-01 00:00:00')"
        )
    with pytest.raises(StorageError, match="newer version"):
        open_store(url(tmp_path))


# --- concurrency ----------------------------------------------------------------------------------------


def _write_attempts(db_url: str, who: str, count: int) -> None:
    with open_store(db_url) as store:
        session = store.start_session(who)
        for i in range(count):
            a = store.add_attempt(
                who, question(f"q-{i % 5}"), answer_mode="audio", audio=WAV, session_id=session
            )
            store.set_result(a.id, score_of(f"q-{i % 5}", coverage=float(i)))


def test_two_threads_share_one_store(store: Store) -> None:
    errors: list[BaseException] = []

    def work(who: str) -> None:
        try:
            session = store.start_session(who)
            for i in range(50):
                a = store.add_attempt(who, question(), answer_mode="audio", audio=WAV, session_id=session)
                store.set_result(a.id, score_of(coverage=float(i)))
                store.attempts(candidate=who, limit=5)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("Ana", "Bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    attempts = store.attempts()
    assert len(attempts) == 100 and all(a.status == "scored" for a in attempts)
    assert {len(store.attempts(candidate=n)) for n in ("Ana", "Bob")} == {50}


def test_two_processes_write_to_one_new_sqlite_file(tmp_path: Path) -> None:
    db_url = url(tmp_path)  # not created yet: both processes also race to create the schema
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_attempts, args=(db_url, name, 50)) for name in ("Ana", "Bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    with open_store(db_url) as store:
        attempts = store.attempts()
        assert len(attempts) == 100
        assert {len(store.attempts(candidate=n)) for n in ("Ana", "Bob")} == {50}
        assert all(store.audio(a.id) == (WAV, "audio/wav") for a in attempts[:5])
        assert schema_version(store.engine) == SCHEMA_VERSION


def test_a_new_sqlite_file_another_connection_is_creating_is_waited_for(tmp_path: Path) -> None:
    # SQLite refuses the switch to WAL at once while another connection writes a new file: two processes
    # starting on one new file failed "database is locked" instead of waiting their busy timeout
    creating = sqlite3.connect(tmp_path / "practice.db", isolation_level=None, check_same_thread=False)
    creating.execute("BEGIN IMMEDIATE")
    creating.execute("CREATE TABLE other_process_schema (x)")
    done = threading.Timer(0.5, lambda: creating.execute("COMMIT"))
    done.start()
    try:
        with open_store(url(tmp_path)) as store:
            assert schema_version(store.engine) == SCHEMA_VERSION
    finally:
        done.join()
        creating.close()


# --- failures become StorageError -----------------------------------------------------------------------


def test_disk_full_is_a_clear_error_and_writes_nothing(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("fills a SQLite file to its page limit")
    ana = store.candidate("Ana")
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    @sa.event.listens_for(store.engine, "connect")
    def _cap_size(dbapi_conn, _record) -> None:  # SQLite's own "database or disk is full"
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + 1}")

    store.engine.dispose()
    with pytest.raises(StorageError) as caught:
        store.add_attempt(ana, question(), answer_mode="audio", audio=WAV * 50)
    assert str(caught.value) == "Could not save the attempt: the disk is full. Free some space and try again."
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError)
    sa.event.remove(store.engine, "connect", _cap_size)
    store.engine.dispose()
    assert store.attempts() == []  # nothing half-written; the caller retries with the data it kept
    assert store.add_attempt(ana, question(), answer_mode="audio", audio=WAV * 50).has_audio


def test_a_long_held_lock_is_a_clear_error_then_retry_works(tmp_path: Path) -> None:
    with open_store(url(tmp_path), busy_timeout=0.2) as store:
        other = sqlite3.connect(tmp_path / "practice.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError, match="busy with another session"):
            store.add_attempt("Ana", question(), answer_mode="typed", answer_text="kept by the caller")
        assert store.attempts() == []  # reads still work while another session writes
        other.execute("ROLLBACK")
        other.close()
        assert store.add_attempt("Ana", question(), answer_mode="typed", answer_text="kept by the caller").id


def test_unusable_locations_and_urls_are_clear_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="Could not create the data folder"):
        open_store(f"sqlite:///{blocker / 'sub' / 'practice.db'}")

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="damaged or is not a practice database"):
        open_store(f"sqlite:///{garbage}")
    assert garbage.read_bytes() == b"this is not sqlite" * 100  # left alone

    with pytest.raises(StorageError, match="not a database URL"):
        open_store("no scheme here")
    with pytest.raises(StorageError) as caught:
        open_store("postgresql+psycopg://coach:s3cret@127.0.0.1:1/practice")
    assert "s3cret" not in str(caught.value)
    assert "psycopg" in str(caught.value) or "could not be reached" in str(caught.value)
