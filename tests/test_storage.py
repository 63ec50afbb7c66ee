from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from practice.bank import KeyPoint, Question
from practice.markdown import escape_markdown
from practice.storage import (
    CSV_COLUMNS,
    SCHEMA_VERSION,
    NotFoundError,
    StorageError,
    Store,
    export_csv,
    export_markdown,
    metadata,
    migrate,
    open_store,
    schema_version,
)
from practice.transcript import Transcript, Word

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def question(qid: str = "bias-variance-1", track: str = "ml", level: str = "basic", topic: str = "theory"):
    points = (KeyPoint("Bias is error from wrong assumptions"), KeyPoint("Variance is sensitivity to data"))
    return Question(qid, track, level, topic, "technical", f"Explain {qid}?", "model answer", points)


def score_dict(qid: str = "bias-variance-1", coverage: float = 50.0, statuses=("covered", "missed")) -> dict:
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


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="PRACTICE_TEST_POSTGRES_URL not set"),
        ),
    ]
)
def store(request, tmp_path: Path):
    if request.param == "sqlite":
        target = url(tmp_path)
    else:
        target = POSTGRES_URL
        engine = sa.create_engine(target)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    with open_store(target) as s:
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

    scored = store.set_result(c.id, score_dict(coverage=62.5), delivery={"words_per_minute": 131.0})
    assert scored.status == "scored" and scored.coverage == 62.5 and scored.error is None
    assert scored.delivery == {"words_per_minute": 131.0}
    assert not_scored(store) == [a.id, b.id]

    rescored = store.set_result(a.id, score_dict(coverage=80.0), coverage=75.0)
    assert (rescored.status, rescored.coverage, rescored.error) == ("scored", 75.0, None)
    assert rescored.transcript == spoken  # kept from the failed attempt
    assert not_scored(store) == [b.id]


def test_set_result_accepts_a_score_and_stores_plain_json(store: Store) -> None:
    import numpy as np

    from practice.scoring.coverage import Evidence, KeyPointResult, Score  # slow import: not at module level

    q = question()
    score = Score(
        q.id,
        coverage=50.0,
        key_points=(
            KeyPointResult(q.key_points[0], "covered", 0.7, 0.5, Evidence("bias is", 0, 7)),
            KeyPointResult(q.key_points[1], "missed", 0.1, 0.0, None),
        ),
        word_count=4,
    )
    a = store.add_attempt("Ana", q, answer_mode="typed", answer_text="bias is")
    saved = store.set_result(
        a.id, score, delivery={"wpm": np.float32(120.5), "pauses": np.array([1, 2]), "x": float("nan")}
    )
    assert saved.score == score.to_dict()
    assert saved.coverage == 50.0
    assert saved.delivery == {"wpm": 120.5, "pauses": [1, 2], "x": None}
    with pytest.raises(ValueError, match="0 to 100"):
        store.set_result(a.id, score_dict(), coverage=float("nan"))


# --- coach review ---------------------------------------------------------------------------------------


def test_notes_and_overrides_give_effective_status_and_coverage(store: Store) -> None:
    a = store.add_attempt("Ana", question(), answer_mode="typed", answer_text="x")
    with pytest.raises(ValueError, match="not been scored"):
        store.save_review(a.id, key_points={0: "covered"}, author="Sam")
    store.set_result(a.id, score_dict(coverage=50.0, statuses=("covered", "missed", "partial", "missed")))

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
    store.set_result(a.id, score_dict(coverage=50.0, statuses=("missed", "missed")))
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


# --- exports --------------------------------------------------------------------------------------------


def _reviewed_attempts(store: Store) -> list:
    a = store.add_attempt(
        "Ana <b>", question(), answer_mode="typed", answer_text="<script>alert(1)</script> *bold*"
    )
    delivery = {"words_per_minute": 120.0, "pace_windows": [{"wpm": 1}], "feedback": ["You spoke *fast*."]}
    store.set_result(a.id, score_dict(coverage=50.0), delivery=delivery)
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
    assert "<script>" not in text and "<b>" not in text
    assert "\\<script\\>" in text
    assert "*bold*" not in text and "\\*bold\\*" in text
    assert "\n# not" not in text and "\\# not a heading" in text
    assert "[link]" not in text and "`code`" not in text
    assert "Coverage: 50 (automatic); 70 (coach by Sam)" in text
    assert "**missed**: point 1 (coach: **partial**, Sam)" in text
    assert "Explain bias-variance-1?" in text
    assert "words per minute: 120.0" in text and "- You spoke \\*fast\\*." in text
    assert "pace windows" not in text  # only scalar metrics and the feedback sentences
    assert "Not scored (failed" in text


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
            store.set_result(a.id, score_dict(f"q-{i % 5}", coverage=float(i)))


def test_two_threads_share_one_store(store: Store) -> None:
    errors: list[BaseException] = []

    def work(who: str) -> None:
        try:
            session = store.start_session(who)
            for i in range(50):
                a = store.add_attempt(who, question(), answer_mode="audio", audio=WAV, session_id=session)
                store.set_result(a.id, score_dict(coverage=float(i)))
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
