"""The Quick-fire page under AppTest: a timed round of quick-fire questions, typed or recorded (fake
models), saved as attempts, one score at the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from practice import quickfire, sessions, storage
from practice.bank import load_bank
from practice.storage import StorageError, open_store
from practice.storage.schema import quickfire_clocks_table
from tests.conftest import write
from tests.test_app import (  # noqa: F401 (env: a fixture)
    ANSWER_WAV,
    APP,
    HOSTILE,
    TIMEOUT,
    app,
    arrives,
    click_again_when,
    env,
    saving_runs,
    status_shown,
    transcribed_once_submitted,
    whisper,
    widget_states_after_clicking,
)

DROPOUT_ANSWER = "it switches off random neurons in training"  # one of its two points
QUICK = """track: quick
title: Quick
questions:
  - id: dropout
    level: basic
    topic: deep-learning
    kind: quick-fire
    question: What does dropout do?
    model_answer: It switches off random neurons in training. That reduces overfitting.
    key_points:
      - Switches off random neurons in training
      - Reduces overfitting
  - id: clipping
    level: advanced
    topic: optimization
    kind: quick-fire
    question: What is gradient clipping for?
    model_answer: It prevents exploding gradients. It rescales a gradient whose norm is too large.
"""


@pytest.fixture
def quick(env, tmp_path):  # noqa: F811 (env is the imported fixture)
    """The test bank (no quick-fire questions) plus a quick-fire track; the fake recogniser hears a
    dropout answer."""
    write(tmp_path / "bank" / "quick.yaml", QUICK)
    env.text = "it switches off random neurons in training"
    return env


def page(params: dict[str, str] | None = None) -> AppTest:
    """The page in a new browser session; with `params`, opened at that address (a reload)."""
    at = app()  # switch_page needs the pages st.navigation registers on a first run
    at.query_params.update(params or {})
    at.switch_page("views/quickfire.py")
    at = at.run()
    assert not at.exception
    return at


def start(at: AppTest, *, name="Ada", level=quickfire.ANY, count=2, seconds=30) -> AppTest:
    at.text_input(key="qf-name").input(name)
    at.selectbox(key="qf-level").set_value(level)
    at.number_input(key="qf-count").set_value(count)
    at.slider(key="qf-seconds").set_value(seconds)
    at = at.button(key="qf-start").click().run()
    assert not at.exception
    return at


def game(at: AppTest) -> quickfire.Round:
    return at.session_state["qf-round"]


def backdate(at: AppTest, seconds: float) -> None:
    """Move the current question's clock `seconds` back, in the round on the page and as stored."""
    round_ = game(at)
    qid, session = round_.current, round_.plan.session_id
    round_.shown_at[qid] -= timedelta(seconds=seconds)
    c = quickfire_clocks_table
    with open_store() as store, store.engine.begin() as conn:
        conn.execute(
            sa.update(c)
            .where((c.c.session_id == session) & (c.c.question_id == qid))
            .values(shown_at=round_.shown_at[qid])
        )


def type_answer(at: AppTest, text: str) -> AppTest:
    at.text_area(key=f"qf-text-{round_key(at)}").input(text)
    return at.button(key=f"qf-typed-submit-{round_key(at)}").click().run()


def record(at: AppTest) -> AppTest:
    """Record an answer to the current question: the page offers it to submit (qf-submit)."""
    at.audio_input(key=f"qf-rec-{round_key(at)}").set_value(("answer.wav", ANSWER_WAV, "audio/wav"))
    return at.run()


def round_key(at: AppTest) -> str:
    plan = game(at).plan
    tries = len(plan.tries.get(plan.current, []))
    fresh = at.session_state["qf-fresh"] if "qf-fresh" in at.session_state else 0
    return f"{plan.session_id}-{plan.position}-{tries}-{fresh}"


def summary_text(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption])


def test_the_page_offers_any_track_and_level_of_the_quick_fire_questions(quick):
    at = page()
    assert at.title[0].value == "Quick-fire round"
    assert at.selectbox(key="qf-track").options == ["Any", "Quick"]  # not the track without quick-fire
    assert at.selectbox(key="qf-level").options == ["Any", "basic", "advanced"]


def test_a_round_reads_each_question_times_it_and_ends_with_one_score(quick):
    at = start(page())
    first = game(at).current
    assert "Quick-fire 1 of 2" in at.caption[0].value
    assert len(at.get("audio")) == 1  # read aloud, as on Practice
    assert first in game(at).shown_at and game(at).seconds == 30
    answers = {
        "dropout": "it switches off random neurons in training",  # one of its two points
        "clipping": "it prevents exploding gradients and rescales a gradient whose norm is too large",
    }
    at = type_answer(at, answers[first])
    assert not at.exception and "Quick-fire 2 of 2" in at.caption[0].value
    at = type_answer(at, answers[game(at).current])
    assert not at.exception
    assert at.title[0].value == "Quick-fire result"
    assert at.metric[0].label == "Round score" and at.metric[0].value == "75/100"  # (50 + 100) / 2
    text = summary_text(at)
    assert "2 of 2 answered, 2 within 30 s" in text
    assert "- ✅ Switches off random neurons in training" in text and "- ❌ Reduces overfitting" in text
    with open_store() as store:
        saved = store.attempts(session_id=game(at).plan.session_id)
    assert sorted(a.question_id for a in saved) == ["clipping", "dropout"]
    assert all(a.status == "scored" and a.candidate.name == "Ada" for a in saved)
    at = at.button(key="qf-again").click().run()
    assert at.title[0].value == "Quick-fire round"


def test_a_recorded_answer_is_transcribed_and_scored_like_practice(quick):
    at = start(page(), level="basic", count=1)
    at = record(at).button(key="qf-submit").click().run()
    assert not at.exception and at.metric[0].label == "Round score"
    assert at.metric[0].value == "50/100"
    assert quick.calls == 1
    with open_store() as store:
        (saved,) = store.attempts()
        assert saved.answer_mode == "audio" and store.audio(saved.id)[0] == ANSWER_WAV
        assert saved.transcript is not None


def test_nothing_heard_keeps_the_question_to_answer_again(quick):
    quick.text = None
    at = start(page(), level="basic", count=1)
    at = record(at).button(key="qf-submit").click().run()
    assert not at.exception
    assert "No speech was heard" in at.warning[0].value and game(at).current == "dropout"


def test_an_answer_after_the_limit_is_scored_and_marked_over_time(quick):
    at = start(page(), level="basic", count=1, seconds=15)
    backdate(at, 15 + quickfire.GRACE_SECONDS + 1)
    at = type_answer(at, "it switches off random neurons in training")
    assert "50/100 · over time" in summary_text(at)
    assert "1 of 1 answered, 0 within 15 s" in summary_text(at)


def test_skipping_and_ending_early_count_zero(quick):
    at = start(page(), count=2)
    at = at.button(key="qf-skip").click().run()
    assert "Quick-fire 2 of 2" in at.caption[0].value
    at = at.button(key="qf-end").click().run()
    assert at.metric[0].value == "0/100"
    text = summary_text(at)
    assert "· skipped" in text and "· not answered" in text and "0 of 2 answered" in text


def test_the_countdown_shows_the_time_left_for_the_answer(quick):
    at = start(page(), count=1, seconds=45)
    (clock,) = at.get("iframe")
    assert "Time left 45 s" in clock.proto.srcdoc or "Time left 44 s" in clock.proto.srcdoc


@pytest.mark.parametrize(
    ("name", "typed", "expected"),
    [
        ("", None, "Enter your name first"),
        ("Ada", "   ", "The answer is empty"),
    ],
)
def test_bad_input_is_one_sentence(quick, name, typed, expected):
    at = page()
    at.text_input(key="qf-name").input(name)
    at = at.button(key="qf-start").click().run()
    if typed is not None:
        at = type_answer(at, typed)
    assert not at.exception
    assert expected in at.error[0].value


def test_question_text_is_escaped(quick, tmp_path):
    write(tmp_path / "bank" / "quick.yaml", QUICK.replace("What does dropout do?", f"Dropout {HOSTILE}?"))
    at = start(page(), level="basic", count=1)
    assert "<b>" not in at.subheader[0].value and "\\*stars\\*" in at.subheader[0].value


def test_a_failed_save_keeps_the_recording_for_a_retry(quick, monkeypatch):
    at = record(start(page(), level="basic", count=1))
    real = storage.Store.add_attempt

    def disk_full(*_args, **_kwargs):
        raise StorageError("Could not save the attempt: the disk is full.")

    monkeypatch.setattr(storage.Store, "add_attempt", disk_full)
    at = at.button(key="qf-submit").click().run()
    assert not at.exception
    assert "the disk is full" in at.error[0].value and "kept here" in at.error[0].value
    assert not [b for b in at.button if b.key == "qf-submit"]  # it is sent: Retry saving, not Submit
    monkeypatch.setattr(storage.Store, "add_attempt", real)
    at = at.button(key="qf-retry-saving").click().run()
    assert not at.exception and at.metric[0].label == "Round score" and at.metric[0].value == "50/100"
    with open_store() as store:
        (saved,) = store.attempts()
        assert store.audio(saved.id)[0] == ANSWER_WAV
    assert "qf-pending" not in at.session_state


def test_a_clock_that_cannot_be_stored_keeps_the_question_back_until_it_can(quick, monkeypatch):
    real = storage.Store.start_clock

    def disk_full(*_args, **_kwargs):
        raise StorageError("Could not start the question's clock: the disk is full.")

    monkeypatch.setattr(storage.Store, "start_clock", disk_full)
    at = start(page(), level="basic", count=1)
    assert "the disk is full" in at.error[0].value and not at.subheader and not at.get("iframe")
    assert game(at).shown_at == {}
    monkeypatch.setattr(storage.Store, "start_clock", real)
    at = at.button(key="qf-clock-retry").click().run()
    assert not at.exception and at.subheader[0].value == "What does dropout do?"
    with open_store() as store:
        stored = store.quick_fire_round(game(at).plan.session_id)
    assert stored.shown_at("dropout") == game(at).shown_at["dropout"]


def test_an_answer_saved_but_not_judged_is_judged_on_the_next_run(quick):
    """A click or reload that cut judging short: the saved answer is judged, not asked for again."""
    at = start(page(), level="basic", count=1)
    round_ = game(at)
    with open_store() as store:
        sessions.save(store, round_.plan, load_bank(None).get("dropout"), text=DROPOUT_ANSWER, mode="typed")
    at = at.run()
    assert not at.exception and at.title[0].value == "Quick-fire result"
    assert at.metric[0].value == "50/100"
    with open_store() as store:
        (saved,) = store.attempts()
    assert saved.status == "scored"


# --- transcription shows how far it has got; an answer is saved once, whatever cuts the run short ---


def test_transcribing_shows_how_much_of_the_recording_is_done(quick, monkeypatch):
    runs = saving_runs(monkeypatch)
    half, _ = status_shown(monkeypatch, "Transcribing your recording… 50%")
    stopped: list[int] = []

    def stop_on_the_second_stretch(i: int) -> None:  # the page as it stands while Whisper writes it
        if i == 1 and not stopped:
            stopped.append(i)
            assert half.wait(TIMEOUT)
            runs[-1].script_requests.request_stop()  # as a reload does: the run stops, the judging does not

    model = whisper(monkeypatch, stop_on_the_second_stretch)
    at = record(start(page(), level="basic", count=1)).button(key="qf-submit").click().run()
    (status,) = at.status
    assert status.label == "Transcribing your recording… 50%" and status.state == "running"
    at = at.run()  # the answer was saved: judged on the next run, to the end
    assert not at.exception and at.metric[0].label == "Round score"
    with open_store() as store:
        (saved,) = store.attempts()
    assert (
        saved.status == "scored" and saved.transcript.text == "the model memorises noise in the training data"
    )
    assert model.events.count("transcribe") == 1  # carried on, not started again


@pytest.mark.parametrize("when", ["before it is saved", "once it is saved", "while it is transcribed"])
def test_submit_clicked_again_while_the_answer_is_judged_saves_it_once(quick, monkeypatch, when):
    transcribed_once_submitted(monkeypatch)
    at = record(start(page(), count=2))
    first = game(at).current
    second_click = widget_states_after_clicking(at, "qf-submit")
    clicked, model = click_again_when(monkeypatch, when, second_click, "qf-fresh")
    at = at.run()  # the first click
    assert clicked == [when]
    assert not at.exception and "Quick-fire 2 of 2" in at.caption[0].value
    with open_store() as store:
        (saved,) = store.attempts()
        assert saved.question_id == first and saved.status == "scored"
        assert store.audio(saved.id)[0] == ANSWER_WAV
    assert model.events.count("transcribe") == 1  # the click stopped the page, not the transcription
    # the next question starts afresh: the second click's copy of the answer is not offered or saved again
    assert at.audio_input(key=f"qf-rec-{round_key(at)}").value is None
    assert not [b for b in at.button if b.key == "qf-submit"]
    at = at.button(key="qf-end").click().run()
    assert not at.exception and at.metric[0].label == "Round score"
    with open_store() as store:
        assert [a.id for a in store.attempts()] == [saved.id]


# --- a round kept in the address: a reload or a reopened tab carries on with it ---

ANSWERS = {
    "dropout": "it switches off random neurons in training",  # one of its two points
    "clipping": "it prevents exploding gradients and rescales a gradient whose norm is too large",
}


def test_a_reload_resumes_the_round_on_the_next_question_with_the_answer_counted(quick):
    at = start(page(), count=2)
    first, second = game(at).plan.question_ids
    at = type_answer(at, ANSWERS[first])
    params = dict(at.query_params)
    # the session and its questions: the time limit and clocks are stored, not in the address
    assert params == {"session": game(at).plan.session_id, "q": f"{first},{second}"}
    reloaded = page(params)  # a new browser session: nothing in its state
    assert "Quick-fire 2 of 2" in reloaded.caption[0].value and "Ada" in reloaded.caption[0].value
    resumed = game(reloaded)
    assert resumed.current == second and resumed.plan.attempt_ids == game(at).plan.attempt_ids
    assert resumed.shown_at == game(at).shown_at and resumed.seconds == 30  # the clock runs on
    reloaded = type_answer(reloaded, ANSWERS[second])
    assert not reloaded.exception and reloaded.title[0].value == "Quick-fire result"
    assert "2 of 2 answered, 2 within 30 s" in summary_text(reloaded)
    assert reloaded.query_params["end"] == "1"


def test_an_ended_round_reloads_to_its_result_and_another_round_leaves_the_address(quick):
    at = start(page(), count=2, seconds=15)
    first = game(at).current
    backdate(at, 15 + quickfire.GRACE_SECONDS + 1)
    at = type_answer(at, ANSWERS[first]).button(key="qf-end").click().run()
    assert at.title[0].value == "Quick-fire result"
    reloaded = page(dict(at.query_params))
    assert reloaded.title[0].value == "Quick-fire result"
    assert reloaded.metric[0].value == at.metric[0].value
    text = summary_text(reloaded)
    assert text == summary_text(at) and "· over time" in text and "1 of 2 answered, 0 within 15 s" in text
    reloaded = reloaded.button(key="qf-again").click().run()
    assert reloaded.title[0].value == "Quick-fire round" and not reloaded.query_params


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"session": "0" * 32}, "That practice session was not found"),
        ({"q": "dropout,nope"}, "The question bank no longer has question nope of that session"),
        ({"q": "dropout,dropout"}, "This page's link does not describe a practice session"),
    ],
)
def test_a_link_that_cannot_be_resumed_is_one_sentence_and_the_setup_form(quick, change, expected):
    params = {**dict(start(page(), count=2).query_params), **change}
    at = page(params)
    assert expected in at.info[0].value and len(at.info) == 1
    assert at.text_input(key="qf-name") and at.button(key="qf-start")
    assert "qf-round" not in at.session_state and not at.query_params


def shown_ms(at: datetime) -> str:
    """A clock as older links carried it: milliseconds since 1970."""
    return str((at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1))


@pytest.mark.parametrize("edit", [{"seconds": "180"}, {"shown": "now"}, {"seconds": "180", "shown": "now"}])
def test_a_reload_with_an_edited_address_keeps_the_stored_limit_and_clock(quick, edit):
    at = start(page(), level="basic", count=1, seconds=15)
    backdate(at, 15 + quickfire.GRACE_SECONDS + 1)  # the answer is over time now
    now = shown_ms(datetime.now(UTC))
    params = {**dict(at.query_params), **{k: now if v == "now" else v for k, v in edit.items()}}
    reloaded = page(params)
    assert game(reloaded).seconds == 15 and game(reloaded).shown_at == game(at).shown_at
    (countdown,) = reloaded.get("iframe")
    assert "Time left 0 s" in countdown.proto.srcdoc  # the stored clock ran out; the edit gave no time
    assert set(reloaded.query_params) == {"session", "q"}  # the edited values are gone from the address
    reloaded = type_answer(reloaded, ANSWERS["dropout"])
    assert not reloaded.exception and "50/100 · over time" in summary_text(reloaded)
    assert "1 of 1 answered, 0 within 15 s" in summary_text(reloaded)


# --- a link opened on the other page: each page opens its own kind of session ---


def on_practice(params: dict[str, str]) -> AppTest:
    """The Practice page (the app's first) opened at that address in a new browser session."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(params)
    at = at.run()
    assert not at.exception
    return at


def test_a_rounds_link_opened_on_practice_resumes_the_round_on_quick_fire(quick):
    at = start(page(), count=2, seconds=15)
    first, second = game(at).plan.question_ids
    at = type_answer(at, ANSWERS[first])
    params = dict(at.query_params)
    opened = on_practice(params)
    assert "plan" not in opened.session_state  # not opened as a practice session
    assert "Quick-fire 2 of 2" in opened.caption[0].value
    resumed = game(opened)
    assert resumed.plan.session_id == game(at).plan.session_id and resumed.current == second
    assert resumed.seconds == 15 and resumed.shown_at == game(at).shown_at
    assert dict(opened.query_params) == params


def test_a_practice_sessions_link_opened_on_quick_fire_resumes_it_on_practice(quick):
    bank = load_bank(None)
    with open_store() as store:
        plan = sessions.start(store, "Ada", [bank.get("dropout"), bank.get("clipping")])
    params = {**sessions.link(plan), "seconds": "30"}  # an address cannot make it a round
    opened = page(params)
    assert (
        "qf-round" not in opened.session_state and opened.session_state["plan"].session_id == plan.session_id
    )
    assert "Question 1 of 2" in opened.caption[0].value
    assert dict(opened.query_params) == sessions.link(plan)
    with open_store() as store:
        assert store.quick_fire_round(plan.session_id) is None
