"""Quick-fire: a timed round of short questions, each read aloud and answered in a sentence or two; one
score at the end. The round's logic is `practice.quickfire`; answers are saved and judged as on Practice
(views.answering)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import streamlit as st

from practice import models, quickfire, sessions
from practice.markdown import escape_markdown
from practice.speech_in import AudioLimits
from practice.storage import Attempt, Role, StorageError
from views import answering, login, widgets

bank, store = widgets.open_bank_and_store()
models.preload(widgets.whisper_model())  # loading while the candidate chooses, as on Practice
user = login.current_user()
state = st.session_state
ROUND = "qf-round"
ANSWERS = answering.Answers(
    pending="qf-pending",
    problem="qf-problem",
    fresh="qf-fresh",
    recorder="qf-rec-",
    typed_form="qf-typed-",
    typed_text="qf-text-",
    typed_submit="qf-typed-submit-",
    submit="qf-submit",
    retry_saving="qf-retry-saving",
    text_height=100,
    refused_label="The answer was not saved.",
)
# A quick-fire answer is a sentence or two: a recording over two minutes is not one.
LIMITS = AudioLimits(max_seconds=120)


def now() -> datetime:
    return datetime.now(UTC)


def setup() -> None:
    st.title("Quick-fire round")
    st.caption(
        "Short questions read aloud, one after another: answer each in a sentence or two before its clock "
        "runs out. One score at the end, with the points each answer covered and missed."
    )
    widgets.model_status()
    tracks = quickfire.tracks(bank)
    if not tracks:
        st.info("The question bank has no quick-fire questions.")
        return
    if user.role is Role.CANDIDATE:  # logged in: their own name, never another candidate's
        name = user.name
        st.caption(f"Practising as {escape_markdown(name)}")
    else:
        name = st.text_input("Your name", value=state.get("candidate", ""), key="qf-name")
    track = st.selectbox(
        "Track",
        [quickfire.ANY, *tracks],
        format_func=lambda t: "Any" if t == quickfire.ANY else bank.tracks[t].title,
        key="qf-track",
    )
    level = st.selectbox(
        "Level",
        [quickfire.ANY, *quickfire.levels(bank, track)],
        format_func=lambda v: "Any" if v == quickfire.ANY else v,
        key="qf-level",
    )
    count = st.number_input("Questions", 1, quickfire.MAX_COUNT, quickfire.DEFAULT_COUNT, key="qf-count")
    seconds = st.slider(
        "Seconds per answer",
        quickfire.MIN_SECONDS,
        quickfire.MAX_SECONDS,
        quickfire.DEFAULT_SECONDS,
        5,
        key="qf-seconds",
    )
    if not st.button("Start the round", type="primary", key="qf-start"):
        return
    if not name.strip():
        st.error("Enter your name first: your answers are saved under it.")
        return
    try:
        chosen = quickfire.choose(bank, track=track, level=level, count=int(count))
        state[ROUND] = quickfire.start(store, name, chosen, seconds=int(seconds))
    except (quickfire.RoundError, StorageError, ValueError) as exc:
        st.error(escape_markdown(widgets.error_text(exc)))
        return
    state["candidate"] = name.strip()
    st.rerun()


def countdown(key: str, seconds_left: float) -> None:
    """The time left for this answer, counting down in the browser (no server round trips); red at zero."""
    left = max(0, int(seconds_left))
    st.iframe(  # our own HTML, no user text in it
        f"""<!-- {key} --><div id="t" style="font:1.1rem sans-serif;color:#555">Time left {left} s</div>
<script>const end=Date.now()+{left}*1000,t=document.getElementById("t");
const tick=()=>{{const s=Math.max(0,Math.ceil((end-Date.now())/1000));
t.textContent=s>0?"Time left "+s+" s":"Time is up: submit what you have, or skip";
if(s===0)t.style.color="#c00"}};tick();setInterval(tick,250)
</script>""",
        height=32,
    )


def ask(game: quickfire.Round) -> None:
    if game.current not in bank.questions:  # a coach deleted it on the Questions page meanwhile
        st.warning(f"Question {escape_markdown(str(game.current))} was deleted from the bank: skip it.")
        st.button("Skip", key="qf-skip", on_click=game.skip)
        return
    question = bank.get(game.current)
    plan = game.plan
    st.caption(
        f"Quick-fire {plan.position + 1} of {len(plan.question_ids)} · {escape_markdown(question.level)} · "
        f"{escape_markdown(question.topic)} · {escape_markdown(plan.candidate)}"
    )
    audio = widgets.question_audio(question)
    first_time = question.id not in game.shown_at
    try:  # stored, so a reload runs the clock on rather than starting it again
        game.start_clock(store, now())
    except StorageError as exc:  # no question on screen without its clock started
        st.error(escape_markdown(widgets.error_text(exc)))
        st.button("Try again", key="qf-clock-retry")
        return
    if audio:
        st.audio(audio, format="audio/wav", autoplay=first_time, alt="The question, read aloud")
    st.subheader(escape_markdown(question.question))
    round_key = ANSWERS.round_key(plan, question)
    submission = ANSWERS.pending_answer(round_key)
    countdown(round_key, game.seconds_left(now()))
    if problem := state.pop(ANSWERS.problem, None):
        st.warning(escape_markdown(problem))
    widgets.model_status()

    given = ANSWERS.tabs(round_key, LIMITS)
    if given.recorded and submission is None:
        ANSWERS.submit_button(round_key)
    skip, end = st.columns(2)
    skip.button("Skip", key="qf-skip", on_click=game.skip, width="stretch")
    end.button("End the round", key="qf-end", on_click=game.end, width="stretch")

    after = functools.partial(answered, game)
    latest = plan.tries.get(question.id, [None])[-1]
    if latest is not None and latest.status == "recorded":  # saved, judging (or cut short by a server stop)
        ANSWERS.resume(store, plan, question, latest, limits=LIMITS, after=after)
    if submission is None:
        submission = ANSWERS.typed_answer(given, round_key)
    if submission is not None:
        ANSWERS.judge(store, plan, question, submission, limits=LIMITS, after=after)


def answered(game: quickfire.Round, judged: widgets.Judged, attempt: Attempt) -> None:
    """On to the next question once scored; its clock stopped when the answer was saved, not after it was
    transcribed."""
    outcome = judged.outcome
    if judged.models_failed:  # the answer stays saved, to be scored again from the Review page
        state[ANSWERS.problem] = outcome.error
        return
    if outcome.error is not None:  # e.g. nothing heard: saved, and the question stays to answer again
        state[ANSWERS.problem] = f"{outcome.error} Your answer was saved; answer again."
    game.answered(outcome.attempt, attempt.created_at)


def summary(game: quickfire.Round) -> None:
    st.title("Quick-fire result")
    summed = quickfire.result(game, bank)
    total = len(summed.questions)
    st.metric("Round score", f"{summed.score:.0f}/100")
    st.caption(
        f"{summed.answered} of {total} answered, {summed.in_time} within {game.seconds} s; a question "
        "not answered counts 0."
    )
    for i, row in enumerate(summed.questions, start=1):
        if row.coverage is None:
            how = "skipped" if row.skipped else "not answered"
        else:
            how = f"{row.coverage:.0f}/100" + (" · over time" if row.late else "")
        st.markdown(f"**{i}. {escape_markdown(row.question)}** · {how}")
        for icon, texts in (("✅", row.covered), ("🟡", row.partial), ("❌", row.missed)):
            for text in texts:
                st.markdown(f"- {icon} {escape_markdown(text)}")
        if row.question_id in bank.questions:
            with st.expander("Model answer"):
                st.markdown(escape_markdown(bank.questions[row.question_id].model_answer))
    st.button("Start another round", type="primary", key="qf-again", on_click=another_round)


def another_round() -> None:
    state.pop(ROUND, None)
    st.query_params.clear()


if ROUND not in state and "session" in st.query_params:
    params = st.query_params.to_dict()
    try:
        state[ROUND] = quickfire.restore(store, bank, params, user=user)
        state["candidate"] = state[ROUND].plan.candidate
    except quickfire.NotARoundError:  # a Practice session's link: opened there, not turned into a round
        st.switch_page("views/practice.py", query_params=params)
    except sessions.RestoreError as exc:
        st.info(escape_markdown(str(exc)))
        st.query_params.clear()
game = state.get(ROUND)
if game is None:
    setup()
else:
    widgets.keep_in_address(quickfire.link(game))
    if game.finished:
        summary(game)
    else:
        ask(game)
