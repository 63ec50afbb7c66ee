"""The Streamlit pages under AppTest with faked models (typed answers, a fake recogniser) and a temp DB."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.elements.lib.mutable_status_container import StatusContainer
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext, get_script_run_ctx
from streamlit.testing.v1 import AppTest

import practice.scoring as scoring
from practice import jobs, models, sessions, speech_in, storage
from practice.bank import load_bank, make_question
from practice.markdown import escape_markdown
from practice.offline import ModelLoadError
from practice.scoring.coverage import CoverageScorer
from practice.storage import StorageError, open_store
from tests.audio import encode, silence, tone
from tests.conftest import BANK, OTHER_TRACK, FakeEmbedder, FakeTranscriber, write
from tests.fake_whisper import FakeWhisperModel, whisper_with
from views import widgets

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 30
CLICK_LANDS = 10  # seconds a test waits for a click's run to reach the page's judging (well under 1)
HOSTILE = "<b>bold</b> *stars* [link](http://example.com) :red[red] $x$"
ANSWER_WAV = encode(tone(2.0))  # real audio: a recording is kept as what it decodes as
SILENT_WAV = encode(silence(2.0))


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A one-track bank, an empty database, and fake models, for each test."""
    write(tmp_path / "bank" / "mine.yaml", BANK)
    monkeypatch.setenv("PRACTICE_BANK_DIR", str(tmp_path / "bank"))
    monkeypatch.setenv("PRACTICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PRACTICE_CACHE_DIR", str(tmp_path / "cache"))
    recogniser = FakeTranscriber("data held out from training and um used to tune hyperparameters")
    monkeypatch.setattr(speech_in, "default_transcriber", lambda model=None, **_: recogniser)
    # the pages' background loader, with nothing to load: it must not outlive the fakes above
    monkeypatch.setattr(models, "LOADER", models.Loader(load_speech=lambda _: None, load_scorer=lambda: None))
    st.cache_resource.clear()
    with scoring.scorer_in_use(CoverageScorer(FakeEmbedder())):
        yield recogniser
    st.cache_resource.clear()


@pytest.fixture
def bank(env):
    return load_bank(None)


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def start_practice(
    at: AppTest, name: str = "Ada", count: int = 1, topics=("evaluation",), hide=False
) -> AppTest:
    at.text_input[0].input(name)
    at.multiselect[0].set_value(list(topics))
    at.number_input[0].set_value(count)
    if hide:
        at.checkbox[0].check()
    at.button[0].click()  # the form's Start button
    return at.run()


def plan(at: AppTest):
    return at.session_state["plan"]


def type_answer(at: AppTest, text: str) -> AppTest:
    at.text_area[0].input(text)
    next(b for b in at.button if b.label == "Submit answer").click()
    return at.run()


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def record(at: AppTest, wav: bytes = ANSWER_WAV) -> AppTest:
    """Record an answer through the page's recorder, listen back, and submit it."""
    at.audio_input[0].set_value(("answer.wav", wav, "audio/wav"))
    at = at.run()
    return at.button(key="answer-submit").click().run()


def page_text(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption, *at.subheader, *at.info, *at.warning])


def test_practice_reads_the_question_aloud_and_scores_a_typed_answer(env, bank):
    at = start_practice(app())
    assert not at.exception
    assert "Question 1 of 1" in at.caption[0].value
    assert len(at.get("audio")) == 1  # the question, read aloud
    question = bank.get(plan(at).current)
    assert at.subheader[0].value == question.question
    at = type_answer(at, question.model_answer)
    assert not at.exception
    assert at.metric[0].label == "Coverage" and at.metric[0].value == "100/100"
    text = page_text(at)
    assert "✅" in text and ":green-background[" in text and "Model answer" in [e.label for e in at.expander]
    with open_store() as store:
        saved = store.attempts(candidate="ada")
    assert len(saved) == 1 and saved[0].status == "scored" and saved[0].answer_mode == "typed"


def test_spoken_answer_shows_transcript_times_and_delivery(env, bank):
    env.text = "the model memorises noise in the training data um so it does badly on new data"
    at = record(start_practice(app(), topics=["generalisation"]))  # one question: overfitting
    assert not at.exception
    text = page_text(at)
    assert "#### Transcript" in text and "said at 0:" in text
    assert [m.label for m in at.metric][:2] == ["Coverage", "Pace"]
    assert "Fillers: um (0:" in text
    assert len(at.get("audio")) == 2  # the question and the recording
    with open_store() as store:
        (saved,) = store.attempts()
        assert saved.answer_mode == "audio" and store.audio(saved.id)[0] == ANSWER_WAV


def test_a_recording_is_transcribed_while_it_is_listened_back_to_and_not_again_once_submitted(env, bank):
    at = start_practice(app(), topics=["generalisation"])
    at.audio_input[0].set_value(("answer.wav", ANSWER_WAV, "audio/wav"))
    at = at.run()
    assert at.button(key="answer-submit") and env.calls_seen.wait(10)  # before Submit
    at = at.button(key="answer-submit").click().run()
    assert not at.exception and "#### Transcript" in page_text(at)
    assert env.calls == 1


def test_silent_recording_is_kept_and_the_candidate_can_answer_again(env, bank):
    env.text = None  # the recogniser hears nothing
    at = record(start_practice(app()), SILENT_WAV)
    assert not at.exception
    assert "No speech was heard" in at.warning[0].value and "was saved" in at.warning[0].value
    assert len(at.audio_input) == 1  # a fresh recorder
    with open_store() as store:
        (saved,) = store.attempts()
        assert saved.status == "failed" and store.audio(saved.id)[0] == SILENT_WAV
    env.text = "data held out from training"
    at = record(at)
    assert at.metric[0].label == "Coverage"


def test_a_failed_save_keeps_the_answer_for_a_retry(env, bank, monkeypatch):
    at = start_practice(app())
    real = storage.Store.add_attempt
    monkeypatch.setattr(
        storage.Store,
        "add_attempt",
        lambda *a, **k: (_ for _ in ()).throw(StorageError("Could not save the attempt: the disk is full.")),
    )
    at = type_answer(at, "data held out from training")
    assert "the disk is full" in at.error[0].value and "kept here" in at.error[0].value
    assert at.session_state["pending"].text == "data held out from training"
    monkeypatch.setattr(storage.Store, "add_attempt", real)
    at = click(at, "Retry saving")
    assert not at.exception and at.metric[0].label == "Coverage"
    assert "pending" not in at.session_state


def test_retry_compares_with_the_previous_attempt_then_summary(env, bank):
    at = start_practice(app(), count=2, topics=["evaluation"])
    first = bank.get(plan(at).current)
    at = type_answer(at, "i am not sure")
    at = click(at, "Try again")
    at = type_answer(at, first.model_answer)
    assert at.metric[0].delta.startswith("+") and "since the last try" in at.metric[0].delta
    assert "Points gained:" in page_text(at)
    at = click(at, "Next question")
    assert "Question 2 of 2" in at.caption[0].value
    at = type_answer(at, "no idea")
    at = click(at, "Finish")
    assert at.title[0].value == "Session summary"
    rows = at.dataframe[0].value
    assert len(rows) == 2 and set(rows["attempts"]) == {2, 1}
    assert "Points most often missed" in page_text(at)


def test_the_practice_page_shows_each_answer_as_saved_without_reading_it_back(env, bank, monkeypatch):
    reads: list[int] = []
    real = storage.Store.attempt
    monkeypatch.setattr(storage.Store, "attempt", lambda self, i: reads.append(i) or real(self, i))
    at = start_practice(app())
    question = bank.get(plan(at).current)
    at = type_answer(at, "i am not sure")
    at = click(at, "Try again")
    at = type_answer(at, question.model_answer)
    assert not at.exception
    assert at.metric[0].value == "100/100" and "since the last try" in at.metric[0].delta
    assert reads == []  # the page keeps what answering returned instead of loading the attempts again


def test_hidden_question_text_and_empty_inputs(env):
    at = app()
    at.button[0].click()
    at = at.run()
    assert "Enter your name first" in at.error[0].value
    at = start_practice(at, hide=True)
    assert not at.subheader  # listen only
    at.toggle[0].set_value(True)
    at = at.run()
    assert at.subheader[0].value
    at = type_answer(at, "   ")
    assert "The answer is empty" in at.error[0].value


def seed(bank, when: datetime, name: str = "Ada", answers: dict[str, str] | None = None):
    scorer = CoverageScorer(FakeEmbedder())
    with open_store() as store:
        for qid, text in (answers or {}).items():
            question = bank.get(qid)
            attempt = store.add_attempt(
                name, question, answer_mode="typed", answer_text=text, created_at=when
            )
            store.set_result(attempt.id, scorer.score(question, text))


def test_setup_keeps_the_track_and_offers_only_its_topics(env, tmp_path):
    write(tmp_path / "bank" / "other.yaml", OTHER_TRACK)
    at = app()
    assert at.selectbox(key="setup-track").value == "mine"
    assert at.multiselect(key="setup-topics").options == ["evaluation", "generalisation"]  # Mine's basic ones
    at.selectbox(key="setup-level").select("advanced")
    at = at.run()
    assert at.multiselect(key="setup-topics").options == ["transformers"]
    at.selectbox(key="setup-level").select("basic")
    at.selectbox(key="setup-track").select("other")
    at = at.run()
    assert at.multiselect(key="setup-topics").options == ["ethics"]
    at = start_practice(at, topics=["ethics"])
    assert plan(at).question_ids == ["fair-model"]
    at = click(at, "End session")
    at = click(at, "Start another session")
    assert at.selectbox(key="setup-track").value == "other"  # the last choice, not the first track
    assert at.multiselect(key="setup-topics").options == ["ethics"]


def test_asking_for_more_questions_than_match_says_so(env):
    at = start_practice(app(), count=5, topics=["generalisation"])
    assert plan(at).question_ids == ["overfitting"]
    assert "Only 1 question matches track Mine, level basic, topic generalisation; starting with 1." in [
        i.value for i in at.info
    ]


def test_weak_questions_come_back(env, bank):
    seed(bank, datetime.now(UTC) - timedelta(days=2), answers={"validation-set": "no idea"})
    at = app()
    at.text_input[0].input("Ada")
    at.radio[0].set_value("My weak questions")
    at = click(at, "Start")
    assert plan(at).question_ids == ["validation-set"]


def test_review_filters_plays_and_records_the_coachs_review(env, bank):
    seed(bank, datetime.now(UTC), answers={"validation-set": "data held out from training " + HOSTILE})
    seed(bank, datetime.now(UTC), name="Bob", answers={"overfitting": "memorises noise"})
    at = app()
    at.switch_page("views/review.py")
    at = at.run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 2
    at.selectbox[0].select("Ada")
    at = at.run()
    assert list(at.dataframe[0].value["candidate"]) == ["Ada"]
    shown = page_text(at)
    assert "<b>" not in shown and "bold\\</b\\>" in shown and "\\*stars\\*" in shown and "\\:red\\[" in shown
    assert {b.label for b in at.get("download_button")} == {"Export Markdown", "Export CSV"}
    # the coach marks point 2 covered, sets the score and leaves a note with markup in it
    at.selectbox(key="kp-1-1").select("covered")
    at.checkbox[0].check()
    at.number_input[0].set_value(90.0)
    at.text_area[0].input("Good start. <i>Mention tuning</i>")
    at = click(at, "Save review")
    assert not at.exception
    with open_store() as store:
        (attempt,) = store.attempts(candidate="Ada")
    assert attempt.coach_coverage == 90 and attempt.key_point_status(1) == "covered"
    assert attempt.notes[0].text == "Good start. <i>Mention tuning</i>"
    shown = page_text(at)
    assert "coach (coach): **90**" in shown and "\\<i\\>Mention tuning\\</i\\>" in shown


def test_a_saved_note_leaves_the_box_and_is_not_saved_twice(env, bank):
    seed(bank, datetime.now(UTC), answers={"validation-set": "data held out from training"})
    at = app()
    at.switch_page("views/review.py")
    at = at.run()
    at.text_area(key="note-1").input("Mention tuning")
    at = click(at, "Save review")
    assert at.text_area(key="note-1").value == ""
    at = click(at, "Save review")
    with open_store() as store:
        (attempt,) = store.attempts()
    assert [n.text for n in attempt.notes] == ["Mention tuning"]


def test_a_review_that_cannot_be_saved_keeps_the_note_in_its_box(env, bank, monkeypatch):
    seed(bank, datetime.now(UTC), answers={"validation-set": "data held out from training"})
    at = app()
    at.switch_page("views/review.py")
    at = at.run()

    def refuse(*_args, **_kwargs):
        raise StorageError("Could not save the review: the database is locked.")

    monkeypatch.setattr(storage.Store, "save_review", refuse)
    at.text_area(key="note-1").input("Mention tuning")
    at = click(at, "Save review")
    assert at.text_area(key="note-1").value == "Mention tuning"
    assert any("database is locked" in e.value for e in at.error)


def review_with_notes(bank, *notes: str) -> AppTest:
    """The Review page of one attempt with these coach notes (ids 1, 2, ...)."""
    seed(bank, datetime.now(UTC), answers={"validation-set": "data held out from training"})
    with open_store() as store:
        for note in notes:
            store.save_review(1, note=note, author="Sam")
    at = app()
    at.switch_page("views/review.py")
    return at.run()


def test_a_coach_edits_a_note_and_sees_the_new_text(env, bank):
    at = review_with_notes(bank, "Mention tuning", "Good start")
    at = at.button(key="note-edit-1").click().run()
    assert at.text_area(key="note-text-1").value == "Mention tuning"
    at.text_area(key="note-text-1").input("Mention tuning <b>and</b> the test set")
    at = at.button(key="note-save-1").click().run()
    assert not at.exception and not at.error
    shown = page_text(at)
    assert "Mention tuning \\<b\\>and\\</b\\> the test set" in shown and "<b>" not in shown
    assert "> Good start" in shown
    with open_store() as store:
        (attempt,) = store.attempts()
    assert [n.text for n in attempt.notes] == ["Mention tuning <b>and</b> the test set", "Good start"]


def test_an_empty_edit_is_refused_and_stays_in_its_box(env, bank):
    at = review_with_notes(bank, "Mention tuning")
    at = at.button(key="note-edit-1").click().run()
    at.text_area(key="note-text-1").input("   ")
    at = at.button(key="note-save-1").click().run()
    assert [e.value for e in at.error] == ["The note is empty."]
    assert at.text_area(key="note-text-1").value == "   "
    at = at.button(key="note-cancel-1").click().run()
    assert "> Mention tuning" in page_text(at) and not at.error


def test_a_coach_deletes_a_note_after_confirming_and_it_leaves_page_and_export(env, bank, monkeypatch):
    exports: dict[str | None, bytes] = {}  # what the page offers to download, by file name
    real = MemoryMediaFileStorage.load_and_get_id

    def spy(self, data, mimetype, kind, filename=None):
        exports[filename] = data if isinstance(data, bytes) else str(data).encode()
        return real(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    at = review_with_notes(bank, "Mention tuning", "Good start")
    at = at.button(key="note-delete-1").click().run()
    assert any("Delete this note?" in w.value for w in at.warning)
    with open_store() as store:
        assert len(store.attempt(1).notes) == 2  # nothing is deleted before the confirmation
    at = at.button(key="note-cancel-1").click().run()
    assert "> Mention tuning" in page_text(at)
    at = at.button(key="note-delete-1").click().run()
    at = at.button(key="note-confirm-1").click().run()
    assert not at.exception and not at.error
    shown = page_text(at)
    assert "Mention tuning" not in shown and "> Good start" in shown
    with open_store() as store:
        (attempt,) = store.attempts()
    assert [n.text for n in attempt.notes] == ["Good start"]
    exports.clear()
    at = at.run()
    (markdown,) = [data.decode() for name, data in exports.items() if name and name.endswith(".md")]
    (csv_text,) = [data.decode() for name, data in exports.items() if name and name.endswith(".csv")]
    assert "Good start" in markdown and "Mention tuning" not in markdown
    assert "Good start" in csv_text and "Mention tuning" not in csv_text


def test_a_session_export_is_named_after_the_candidate_and_day(env, bank, monkeypatch):
    names: list[str | None] = []
    real = MemoryMediaFileStorage.load_and_get_id

    def spy(self, data, mimetype, kind, filename=None):
        names.append(filename)
        return real(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    when = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
    with open_store() as store:
        session = store.start_session("Ana López / QA")
        for qid in ("overfitting", "test-set"):
            store.add_attempt(
                "Ana López / QA", bank.get(qid), answer_mode="typed", session_id=session, created_at=when
            )
    at = app()
    at.switch_page("views/review.py")
    at = at.run()
    at.selectbox[4].set_value(session)  # the Session filter
    names.clear()
    at = at.run()
    assert not at.exception
    assert sorted(names) == ["ana-lopez-qa-2025-03-10.csv", "ana-lopez-qa-2025-03-10.md"]


def weak_list(at: AppTest) -> list[str]:
    """What the Progress page lists under "Weakest questions", one line per question, in order."""
    texts = [m.value for m in at.markdown]
    return texts[texts.index("#### Weakest questions") + 1 :]


def test_progress_lists_only_weak_questions_weakest_first_with_when_they_come_back(env, bank):
    now = datetime.now(UTC)
    for days_ago, text in ((6, "no idea"), (5, "no idea"), (4, bank.get("validation-set").model_answer)):
        seed(bank, now - timedelta(days=days_ago), answers={"validation-set": text})  # 0, 0, 100: mastered
    partly = "the model memorises noise in the training data"  # 70, nothing missed: back after 7 days
    seed(bank, now - timedelta(days=8), answers={"overfitting": partly})
    gone = make_question(id="gone", question=f"Why {HOSTILE}?", model_answer="Gradients follow the slope.")
    with open_store() as store:  # a question since removed from the bank: its wording was saved
        attempt = store.add_attempt("Ada", gone, answer_mode="typed", answer_text="no idea", created_at=now)
        store.set_result(attempt.id, CoverageScorer(FakeEmbedder()).score(gone, "no idea"))
    at = app()
    at.switch_page("views/progress.py")
    at = at.run()
    assert not at.exception
    lines = weak_list(at)
    assert len(lines) == 2  # not the mastered validation-set question, whatever its recent average
    tomorrow = (now + timedelta(days=1)).astimezone().date().isoformat()
    assert lines[0].startswith(f"**{escape_markdown(gone.question)}**") and "<b>" not in lines[0]
    assert f"comes back on {tomorrow}" in lines[0]
    assert lines[1].startswith("**What is overfitting?**") and "due now" in lines[1]


def test_practising_the_due_weak_questions_starts_a_session_of_exactly_those(env, bank):
    now = datetime.now(UTC)
    mastered = bank.get("validation-set").model_answer
    seed(bank, now - timedelta(days=3), answers={"overfitting": "no idea", "test-set": "no idea"})
    seed(bank, now - timedelta(days=3), answers={"validation-set": mastered})
    seed(bank, now, answers={"attention": "no idea"})  # weak, but not due before tomorrow
    at = app()
    at.switch_page("views/progress.py")
    at = at.run()
    practise = at.button(key="practise-weak")
    assert practise.label == "Practise my 2 weak question(s) due now"
    practise.click()
    at = at.run()
    assert not at.exception
    assert sorted(plan(at).question_ids) == ["overfitting", "test-set"] and plan(at).candidate == "Ada"
    assert "Question 1 of 2" in at.caption[0].value  # on the Practice page, asking the first


def test_progress_page_shows_levels_chart_and_weak_questions(env, bank):
    when = datetime.now(UTC) - timedelta(days=3)
    seed(
        bank,
        when,
        answers={
            "validation-set": "held out from training, tune hyperparameters",
            "overfitting": "no idea",
            "test-set": "unbiased final estimate",
        },
    )
    at = app()
    at.switch_page("views/progress.py")
    at = at.run()
    assert not at.exception
    assert [m.label for m in at.metric] == ["Attempts", "Questions", "Average coverage"]
    assert at.metric[0].value == "3"
    assert "Current level: **basic**" in at.info[0].value
    assert len(at.get("vega_lite_chart")) == 1
    assert weak_list(at)[0].startswith("**What is overfitting?**")
    practise = at.button(key="practise-weak")
    assert practise.label.endswith("weak question(s) due now")  # due: under 65 three days ago
    practise.click()
    at = at.run()
    assert not at.exception and "overfitting" in plan(at).question_ids  # on the Practice page


def test_an_invalid_bank_is_one_sentence(env, tmp_path, monkeypatch):
    write(tmp_path / "broken" / "bad.yaml", "track: [")
    monkeypatch.setenv("PRACTICE_BANK_DIR", str(tmp_path / "broken"))
    at = app()
    assert "The question bank is invalid" in at.error[0].value


def test_review_date_filter(env, bank):
    seed(bank, datetime.now(UTC) - timedelta(days=40), answers={"overfitting": "memorises noise"})
    seed(bank, datetime.now(UTC), answers={"test-set": "unbiased final estimate"})
    at = app()
    at.switch_page("views/review.py")
    at = at.run()
    assert "2 attempt(s)" in page_text(at)  # all dates until a range is picked
    today = datetime.now(UTC).date()
    at.date_input[0].set_value((today - timedelta(days=7), today))
    at = at.run()
    assert "1 attempt(s)" in page_text(at) and list(at.dataframe[0].value["question"]) == ["test-set"]


# --- a session kept in the address ---


def test_a_reload_resumes_the_session_from_the_address(env, bank):
    at = start_practice(app(), count=2, topics=["evaluation"])
    first, second = plan(at).question_ids
    at = type_answer(at, bank.get(first).model_answer)
    params = dict(at.query_params)
    assert params == {"session": plan(at).session_id, "q": f"{first},{second}"}
    reloaded = AppTest.from_file(APP, default_timeout=TIMEOUT)
    reloaded.query_params.update(params)
    reloaded = reloaded.run()  # a new browser session: nothing in its state
    assert not reloaded.exception
    assert "Question 2 of 2" in reloaded.caption[0].value and "Ada" in reloaded.caption[0].value
    resumed = plan(reloaded)
    assert resumed.current == second and [a.id for a in resumed.tries[first]] == plan(at).attempt_ids[first]
    reloaded = type_answer(reloaded, "no idea")
    reloaded = click(reloaded, "Finish")
    assert len(reloaded.dataframe[0].value) == 2 and reloaded.query_params["end"] == "1"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"session": "0" * 32, "q": "validation-set"}, "That practice session was not found"),
        ({"session": "0" * 32, "q": "<b>x</b>"}, "no longer has question"),
        ({"session": "0" * 32}, "does not describe a practice session"),
    ],
)
def test_a_session_link_that_cannot_be_resumed_is_one_sentence_and_the_setup_form(env, params, expected):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(params)
    at = at.run()
    assert not at.exception
    assert expected in at.info[0].value and at.text_input(key="setup-name")
    assert "plan" not in at.session_state and not at.query_params


# --- skipping a question; ending a session early ---


def test_skip_moves_on_without_saving_and_the_summary_lists_it_as_skipped(env, bank):
    at = start_practice(app(), count=2, topics=["evaluation"])
    first, _ = plan(at).question_ids
    at.button(key="skip").click()
    at = at.run()
    assert not at.exception and "Question 2 of 2" in at.caption[0].value
    assert at.query_params["skip"] == first
    with open_store() as store:
        assert store.attempts() == []
    at = type_answer(at, "no idea")
    at = click(at, "Finish")
    rows = at.dataframe[0].value
    assert list(rows["skipped"]) == ["", "skipped"] and list(rows["attempts"]) == [1, 0]
    assert rows["question"][1] == bank.get(first).question


def test_ending_on_an_unanswered_question_says_so(env, bank):
    at = start_practice(app(), count=2, topics=["evaluation"])
    at.button(key="end-session").click()
    at = at.run()
    assert not at.exception and at.title[0].value == "Session summary"
    assert at.info[0].value == "The session ended before any question was answered."
    assert not at.dataframe
    at.button(key="start-another").click()
    at = at.run()
    assert at.text_input(key="setup-name") and not at.query_params


def test_ending_after_an_answer_names_the_questions_left_unanswered(env, bank):
    at = start_practice(app(), count=2, topics=["evaluation"])
    at = type_answer(at, "no idea")
    at.button(key="end-session").click()
    at = at.run()
    assert at.info[0].value == "The session ended with question 2 of 2 unanswered."
    assert len(at.dataframe[0].value) == 1


# --- correcting a spoken answer's transcript ---


def test_a_corrected_transcript_is_scored_again_with_the_change_shown(env, bank):
    env.text = "the model memorises noise in the training data"  # the recogniser missed the end
    at = record(start_practice(app(), topics=["generalisation"]))
    assert at.metric[0].value == "70/100"
    assert at.text_area(key="correct-text").value == env.text
    at.text_area(key="correct-text").input(
        "the model memorises noise in the training data so it does <i>badly</i> on new data"
    )
    at = at.button(key="correct-save").click().run()
    assert not at.exception and not at.error
    assert at.metric[0].value == "100/100"
    assert "Scored again from your corrected transcript: 70 → 100." in [s.value for s in at.success]
    shown = page_text(at)
    assert escape_markdown("Corrected: “so it does <i>badly</i> on new data” added.") in shown
    assert "<i>" not in shown.replace("\\<i\\>", "")
    assert len(at.get("audio")) == 2  # the recording is still there
    with open_store() as store:
        (saved,) = store.attempts()
    assert saved.answer_text.endswith("<i>badly</i> on new data") and saved.transcript.heard.text == env.text
    assert plan(at).tries["overfitting"] == [saved]


def test_an_empty_correction_is_one_sentence_and_keeps_the_attempt(env, bank):
    at = record(start_practice(app(), topics=["generalisation"]))
    at.text_area(key="correct-text").input("   ")
    at = at.button(key="correct-save").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        escape_markdown("The corrected transcript is empty: write the words you said, then save.")
    ]
    with open_store() as store:
        (saved,) = store.attempts()
    assert saved.transcript.original is None and saved.answer_text == env.text


def test_a_coach_corrects_a_transcript_on_review_and_the_words_heard_are_kept(env, bank):
    env.text = "the model memorises noise in the training data"
    record(start_practice(app(), topics=["generalisation"]))
    at = app()
    at.switch_page("views/review.py")
    at = at.run()
    with open_store() as store:
        (saved,) = store.attempts()
    box = f"review-correct-{saved.id}"
    assert at.text_area(key=box).value == env.text
    at.text_area(key=box).input(env.text + " so it does badly on new data")
    at = at.button(key=f"review-correct-save-{saved.id}").click().run()
    assert not at.exception and not at.error
    with open_store() as store:
        (after,) = store.attempts()
    assert after.transcript.heard.text == env.text and after.transcript.corrected_by == "coach"
    assert after.coverage > saved.coverage and after.has_audio
    at.text_area(key=box).input("  ")
    at = at.button(key=f"review-correct-save-{saved.id}").click().run()
    assert [e.value for e in at.error] == [
        escape_markdown("The corrected transcript is empty: write the words you said, then save.")
    ]


def test_a_typed_answer_has_no_transcript_box(env, bank):
    at = start_practice(app(), topics=["generalisation"])
    at = type_answer(at, "the model memorises noise")
    assert at.metric[0].label == "Coverage" and not at.text_area


# --- listening back before submitting; labelled players; the previous try kept in view ---


def test_a_recording_waits_for_submit_and_can_be_discarded_and_recorded_again(env, bank):
    at = start_practice(app(), topics=["generalisation"])
    at.audio_input[0].set_value(("answer.wav", ANSWER_WAV, "audio/wav"))
    at = at.run()
    assert not at.exception and not at.metric  # not scored: the candidate listens back first
    assert at.button(key="answer-submit") and at.button(key="answer-discard")
    with open_store() as store:
        assert store.attempts() == []
    at = at.button(key="answer-discard").click().run()
    assert at.audio_input[0].value is None and not [b for b in at.button if b.key == "answer-submit"]
    with open_store() as store:
        assert store.attempts() == []  # nothing of the discarded recording is kept
    at = record(at)
    assert at.metric[0].label == "Coverage"
    with open_store() as store:
        assert len(store.attempts()) == 1


def test_the_question_and_the_answer_players_are_labelled(env, bank):
    at = start_practice(app(), topics=["generalisation"])
    assert [c.value for c in at.caption if c.value.endswith("Question")] == ["🔊 Question"]
    at = record(at)
    captions = [c.value for c in at.caption]
    assert "🔊 Question" in captions and "🎙️ Your answer" in captions
    assert [a.proto.alt for a in at.get("audio")] == ["The question, read aloud", "Your recorded answer"]


def test_trying_again_keeps_the_previous_feedback_in_view(env, bank):
    at = start_practice(app(), topics=["generalisation"])
    at = type_answer(at, "i am not sure")
    at = at.button(key="try-again").click().run()
    (previous,) = [e for e in at.expander if e.label == "Previous try"]
    assert previous.metric[0].value == "0/100" and not previous.proto.expanded
    at = type_answer(at, bank.get("overfitting").model_answer)
    assert at.metric[0].value == "100/100"
    (previous,) = [e for e in at.expander if e.label == "Previous try"]
    assert previous.metric[0].value == "0/100" and "i am not sure" in "\n".join(
        m.value for m in previous.markdown
    )
    at = at.button(key="next").click().run()
    assert at.title[0].value == "Session summary"


# --- the models load in the background; the page shows where they are and never waits for them ---


def test_the_form_and_the_recorder_show_while_the_models_load(env, bank, monkeypatch):
    loaded = threading.Event()
    loader = models.Loader(load_speech=lambda _: loaded.wait(10), load_scorer=lambda: None)
    monkeypatch.setattr(models, "LOADER", loader)
    at = app()
    assert at.text_input(key="setup-name") and "⏳ Loading speech recognition" in page_text(at)
    at = start_practice(at, topics=["generalisation"])
    assert at.audio_input and "⏳ Loading speech recognition" in page_text(at)  # ready to record
    loaded.set()
    assert loader.wait("tiny.en", 10).ready
    at = type_answer(at, bank.get("overfitting").model_answer)
    assert not at.exception and at.metric[0].value == "100/100"
    assert "Loading" not in page_text(at)


def test_a_model_that_cannot_load_is_one_sentence_and_the_answer_is_kept(env, bank, monkeypatch):
    def fail(_model):
        raise ModelLoadError("Could not load the speech model 'tiny.en': no such folder.")

    monkeypatch.setattr(models, "LOADER", models.Loader(load_speech=fail, load_scorer=lambda: None))
    at = app()
    models.wait("tiny.en", 10)
    at = start_practice(at, topics=["generalisation"])
    reason = "A model could not be loaded: Could not load the speech model 'tiny.en': no such folder."
    assert escape_markdown(reason) in [e.value for e in at.error]
    at = type_answer(at, "the model memorises noise")
    assert not at.exception and any(escape_markdown(reason) in w.value for w in at.warning)
    with open_store() as store:
        (saved,) = store.attempts()
    assert (saved.status, saved.error, saved.answer_text) == ("failed", reason, "the model memorises noise")


def test_end_session_is_in_the_page_not_only_the_folded_sidebar(env, bank):
    at = start_practice(app(), count=2)
    assert at.main.button(key="end-session") and not [b for b in at.sidebar.button if b.key == "end-session"]


@pytest.mark.parametrize("reload", [False, True])
def test_an_answer_saved_but_not_judged_is_judged_on_the_next_run(env, bank, monkeypatch, reload):
    real = sessions.judge

    def cut_short(*_args, **_kwargs):  # as when a click, a reload or a stopped server cuts the run short
        raise RuntimeError("the run was stopped")

    at = type_answer(start_practice(app(), topics=["generalisation"]), "no idea")
    at = at.button(key="try-again").click().run()
    monkeypatch.setattr(sessions, "judge", cut_short)
    at = record(at)
    with open_store() as store:
        assert [a.status for a in store.attempts()] == ["recorded", "scored"]  # saved first
    monkeypatch.setattr(sessions, "judge", real)
    if reload:  # a new browser session from the address
        params = dict(at.query_params)
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.query_params.update(params)
    at = at.run()
    assert not at.exception and at.metric[0].label == "Coverage" and at.button(key="try-again")
    with open_store() as store:
        assert [a.status for a in store.attempts()] == ["scored", "scored"]  # the same, not a third one


# --- transcription shows how far it has got; an answer is saved once, whatever cuts the run short ---

STRETCHES = [
    (0.5, 1.0, "the model memorises noise"),
    (1.0, 1.6, "in the training data"),
]  # of a 2 s recording


def whisper(monkeypatch, before_segment=None) -> FakeWhisperModel:
    """The real Transcriber on a stand-in Whisper model, as the page's recogniser."""
    model = FakeWhisperModel([STRETCHES], duration=2.0, before_segment=before_segment)
    transcriber = whisper_with(monkeypatch, model)
    monkeypatch.setattr(speech_in, "default_transcriber", lambda model=None, **_: transcriber)
    return model


def saving_runs(monkeypatch) -> list[ScriptRunContext]:
    """The page runs that save an answer, as they save it. Whisper runs on the judging job's thread, outside
    any run: a test that stops the page from there stops the run that saved."""
    runs: list[ScriptRunContext] = []
    real_save = sessions.save

    def save(*args, **kwargs):
        runs.append(get_script_run_ctx())
        return real_save(*args, **kwargs)

    monkeypatch.setattr(sessions, "save", save)
    return runs


def status_shown(monkeypatch, label: str) -> tuple[threading.Event, list[str]]:
    """An event set once a page's st.status has been sent `label`, and the labels given to a status off the
    page's run (on a thread without a script run, Streamlit drops them without a word)."""
    shown, off_the_run = threading.Event(), []
    real_update = StatusContainer.update

    def update(self, **kwargs):
        if get_script_run_ctx(suppress_warning=True) is None:
            off_the_run.append(kwargs.get("label"))
        real_update(self, **kwargs)
        if kwargs.get("label") == label:
            shown.set()

    monkeypatch.setattr(StatusContainer, "update", update)
    return shown, off_the_run


def test_transcribing_shows_how_much_of_the_recording_is_done(env, bank, monkeypatch, caplog):
    runs = saving_runs(monkeypatch)
    half, off_the_run = status_shown(monkeypatch, "Transcribing your recording… 50%")
    stopped: list[int] = []

    def stop_on_the_second_stretch(i: int) -> None:  # the page as it stands while Whisper writes it
        if i == 1 and not stopped:
            stopped.append(i)
            assert half.wait(TIMEOUT)
            runs[-1].script_requests.request_stop()  # as a reload does: the run stops, the judging does not

    model = whisper(monkeypatch, stop_on_the_second_stretch)
    at = record(start_practice(app(), topics=["generalisation"]))
    (status,) = at.status
    assert status.label == "Transcribing your recording… 50%" and status.state == "running"
    assert "Transcribing your recording…" in [m.value for m in status.markdown]
    at = at.run()  # the answer was saved: judged on the next run, to the end
    assert not at.exception and at.metric[0].label == "Coverage"
    with open_store() as store:
        (saved,) = store.attempts()
    assert (
        saved.status == "scored" and saved.transcript.text == "the model memorises noise in the training data"
    )
    assert model.events.count("transcribe") == 1  # carried on, not started again
    # the judging job's thread has no script run: a Streamlit call there would be lost
    off_the_page = [r for r in caplog.records if r.threadName.startswith("job-")]
    assert off_the_run == [] and not [r for r in off_the_page if "ScriptRunContext" in r.message]


def test_an_answer_that_fails_while_judged_is_one_sentence_and_kept(env, bank, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("CUDA error at /opt/server/whisper.py")

    monkeypatch.setattr(env, "transcribe", broken)
    at = record(start_practice(app(), topics=["generalisation"]))
    assert not at.exception and len(at.audio_input) == 1  # a fresh recorder
    assert "Scoring failed (RuntimeError); your answer is saved" in at.warning[0].value
    assert "CUDA" not in page_text(at)
    with open_store() as store:
        (saved,) = store.attempts()
    assert saved.status == "failed" and store.audio(saved.id)[0] == ANSWER_WAV


def test_a_database_error_while_judging_is_one_sentence_and_the_next_run_judges_the_answer(
    env, bank, monkeypatch
):
    """Raised on the judging job's thread, shown by the run that watched it as the app shows any database
    error (app.py); the answer stays saved and is judged on the next run."""
    real = storage.Store.set_result

    def disk_full(*_args, **_kwargs):
        raise StorageError("Could not save the result: the disk is full.")

    monkeypatch.setattr(storage.Store, "set_result", disk_full)
    at = record(start_practice(app(), topics=["generalisation"]))
    assert not at.exception
    assert [e.value for e in at.error] == [escape_markdown("Could not save the result: the disk is full.")]
    monkeypatch.setattr(storage.Store, "set_result", real)
    at = at.run()
    assert not at.exception and at.metric[0].label == "Coverage"
    with open_store() as store:
        (saved,) = store.attempts()
    assert saved.status == "scored" and env.calls == 1  # its transcript was saved before the error


def widget_states_after_clicking(at: AppTest, key: str):
    """What the browser sends when the button `key`, as the page last drew it, is clicked."""
    at.button(key=key).click()
    return at._tree.get_widget_states()


def arrives(widget_states, ctx: ScriptRunContext | None = None) -> None:
    """A click from the browser arriving while the page runs (`ctx`, by default this thread's): Streamlit
    stops the run at its next call."""
    ctx = ctx or get_script_run_ctx()
    ctx.script_requests.request_rerun(
        RerunData(
            query_string=ctx.query_string, widget_states=widget_states, page_script_hash=ctx.page_script_hash
        )
    )


def click_again_when(
    monkeypatch, when: str, second_click, page_key: str
) -> tuple[list[str], FakeWhisperModel]:
    """During the next run, the second click (widget states) arrives once, at `when`: "before it is
    saved", "once it is saved" or "while it is transcribed". Before or once it is saved, the run stops
    for it where it next reads the page's session state key `page_key`; while it is transcribed (on the
    judging job's thread), the run watching the job stops for it, and Whisper waits for the run after the
    click to look for the job. Returns the moment it came, in a list, and the page's Whisper model."""
    clicked: list[str] = []
    looked_again = threading.Event()  # a run after the click looked for the answer's judging job
    runs = saving_runs(monkeypatch)

    def click_again(run: ScriptRunContext | None = None) -> None:
        if not clicked:
            clicked.append(when)
            arrives(second_click, run)

    real_save = sessions.save

    def save(*args, **kwargs):
        if when == "before it is saved":
            click_again()
            st.session_state.get(page_key)  # a Streamlit call: where the run stops for the click
        attempt = real_save(*args, **kwargs)
        if when == "once it is saved":
            click_again()
            st.session_state.get(page_key)
        return attempt

    real_get = jobs.Jobs.get

    def get(self, key):
        if clicked:
            looked_again.set()
        return real_get(self, key)

    def while_transcribed(_i: int) -> None:
        if when == "while it is transcribed" and not clicked:
            click_again(runs[-1])
            # bounded, so that a page judging inside its own run (never looking for a job) carries on too
            looked_again.wait(CLICK_LANDS)

    monkeypatch.setattr(sessions, "save", save)
    monkeypatch.setattr(jobs.Jobs, "get", get)
    return clicked, whisper(monkeypatch, while_transcribed)


def transcribed_once_submitted(monkeypatch) -> None:
    """Whisper starts on Submit, not while the recording is listened back to (as when Whisper was still
    loading then; test_a_recording_is_transcribed_while_it_is_listened_back_to... covers the other way),
    so a click can come while the submitted answer is transcribed."""
    monkeypatch.setattr(widgets, "transcribe_early", lambda audio, limits: None)


@pytest.mark.parametrize("when", ["before it is saved", "once it is saved", "while it is transcribed"])
def test_submit_clicked_again_while_the_answer_is_judged_saves_it_once(env, bank, monkeypatch, when):
    transcribed_once_submitted(monkeypatch)
    at = start_practice(app(), topics=["generalisation"])
    at.audio_input[0].set_value(("answer.wav", ANSWER_WAV, "audio/wav"))
    at = at.run()
    second_click = widget_states_after_clicking(at, "answer-submit")
    clicked, model = click_again_when(monkeypatch, when, second_click, "fresh")
    at = at.run()  # the first click
    assert clicked == [when]
    assert not at.exception and at.metric[0].label == "Coverage"
    with open_store() as store:
        (saved,) = store.attempts()
    assert saved.status == "scored" and store.audio(saved.id)[0] == ANSWER_WAV
    assert model.events.count("transcribe") == 1  # the click stopped the page, not the transcription
    at = at.button(key="try-again").click().run()  # a new round: nothing left over from the last one
    assert not at.exception and at.audio_input[0].value is None
    assert not [b for b in at.button if b.key == "answer-submit"]
    with open_store() as store:
        assert [a.id for a in store.attempts()] == [saved.id]
