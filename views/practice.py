"""Practice: pick a level, hear each question, answer out loud (or upload, or type), get feedback."""

from __future__ import annotations

import streamlit as st

from practice import models, quickfire, sessions
from practice.bank import LEVELS, Question
from practice.markdown import escape_markdown
from practice.scoring.structure import StructureReport
from practice.speech_in import AudioLimits
from practice.storage import Attempt, Role, StorageError
from views import answering, login, widgets

bank, store = widgets.open_bank_and_store()
# Whisper and the scorer load in the background from the first page on: nothing here waits for them
# until an answer is judged, and by then they are usually ready.
models.preload(widgets.whisper_model())
user = login.current_user()
state = st.session_state
ANSWERS = answering.Answers(
    pending="pending",
    problem="refused",
    fresh="fresh",
    recorder="rec-",
    upload="up-",
    typed_form="typed-",
    typed_text="typed-text-",
    typed_submit="typed-submit-",
    submit="answer-submit",
    retry_saving="retry-saving",
    stage_lines=True,
)
# The setup choices kept between sessions (a widget's own state is dropped while a session runs).
state.setdefault("candidate", "")
state.setdefault("track", next(iter(bank.tracks)))
state.setdefault("level", LEVELS[0])
state.setdefault("speech_rate", 165)
state.setdefault(ANSWERS.fresh, 0)
# The session is kept in the address (sessions.link) too: a reload or a reopened tab carries on with it.
if "plan" not in state and "session" in st.query_params:
    params = st.query_params.to_dict()
    try:
        restored = sessions.restore(store, bank, params, user=user)
        if quickfire.is_round(store, restored.session_id):  # timed answers: the Quick-fire page resumes it
            st.switch_page("views/quickfire.py", query_params=params)
        state["plan"] = restored
        state["candidate"] = restored.candidate
    except sessions.RestoreError as exc:
        st.info(escape_markdown(str(exc)))
        st.query_params.clear()
if "plan" in state:
    widgets.keep_in_address(sessions.link(state["plan"]))


def setup() -> None:
    st.title("Practice")
    widgets.model_status()
    if user.role is Role.CANDIDATE:  # logged in: their own name, never another candidate's
        name = user.name
        st.caption(f"Practising as {escape_markdown(name)}")
    else:
        name = st.text_input(
            "Your name",
            value=state["candidate"],
            # Other candidates' names are not listed here: a tooltip renders Markdown, and they are theirs.
            help="A new name creates a profile; the same name again (in any case) carries on with it.",
            key="setup-name",
        )
    tracks = list(bank.tracks)
    track = st.selectbox(
        "Track",
        tracks,
        index=tracks.index(state["track"]) if state["track"] in tracks else 0,
        format_func=lambda t: bank.tracks[t].title,
        key="setup-track",
    )
    level = st.selectbox("Level", LEVELS, index=LEVELS.index(state["level"]), key="setup-level")
    state.update(track=track, level=level)
    topics = st.multiselect("Topics (all if none)", bank.topics(track=track, level=level), key="setup-topics")
    count = st.number_input("Questions", min_value=1, max_value=20, value=5, key="setup-count")
    mode = st.radio(
        "Questions to ask",
        ["New questions", "My weak questions"],
        horizontal=True,
        help="Weak questions: those whose last attempts missed key points, spaced out over days.",
        key="setup-mode",
    )
    hide = st.checkbox("Hide the question text (listen only, as in a real interview)", key="setup-hide")
    with st.expander("Voice and speech recognition"):
        voices = widgets.voice_names()
        voice = st.selectbox("Voice reading the questions", ["(default)", *voices], key="setup-voice")
        rate = st.slider(
            "Reading speed (words per minute)", 100, 240, state["speech_rate"], 5, key="setup-rate"
        )
        model = st.selectbox(
            "Speech recognition model",
            widgets.WHISPER_MODELS,
            index=widgets.WHISPER_MODELS.index(widgets.whisper_model())
            if widgets.whisper_model() in widgets.WHISPER_MODELS
            else 0,
            help="tiny.en is fastest; base is more accurate and a little slower.",
            key="setup-model",
        )
        max_minutes = st.slider("Longest answer (minutes)", 1, 10, 5, key="setup-minutes")
    if not st.button("Start", type="primary", key="setup-start"):
        return
    if not name.strip():
        st.error("Enter your name first: your attempts are saved under it.")
        return
    note = None
    if mode == "My weak questions":
        chosen = sessions.weak_questions(bank, store.attempts(candidate=name), count=int(count))
        if not chosen:
            st.info("No weak questions are due: every question you answered is mastered or not due yet.")
            return
    else:
        chosen = sessions.choose_questions(bank, track=track, level=level, topics=topics, count=int(count))
        if not chosen:
            st.warning("No questions match: choose another level or fewer topics.")
            return
        title = bank.tracks[track].title
        note = sessions.shortfall_note(int(count), len(chosen), track=title, level=level, topics=topics)
    try:
        state["plan"] = sessions.start(store, name, chosen, note=note)
    except (StorageError, ValueError) as exc:
        st.error(escape_markdown(widgets.error_text(exc)))
        return
    state.update(
        candidate=name.strip(),
        hide_text=hide,
        limits=AudioLimits(max_seconds=max_minutes * 60),
        voice=None if voice == "(default)" else voice,
        speech_rate=rate,
        whisper_model=model,
    )
    st.rerun()


def ask(plan: sessions.Plan) -> None:
    if plan.current not in bank.questions:  # a coach deleted it on the Questions page during the session
        st.warning(
            f"Question {escape_markdown(str(plan.current))} was deleted from the bank meanwhile: skip it."
        )
        st.button("Skip", key="skip-deleted", on_click=skip, args=(plan,))
        return
    question = bank.get(plan.current)
    st.caption(
        f"Question {plan.position + 1} of {len(plan.question_ids)} · {escape_markdown(question.level)} · "
        f"{escape_markdown(question.topic)} · {escape_markdown(plan.candidate)}"
    )
    audio = widgets.question_audio(question)
    first_time = state.get("heard") != (plan.session_id, plan.position)
    if audio:
        st.caption("🔊 Question")
        st.audio(audio, format="audio/wav", autoplay=first_time, alt="The question, read aloud")
    state["heard"] = (plan.session_id, plan.position)
    if plan.note and plan.position == 0:
        st.info(escape_markdown(plan.note))
    if not state.get("hide_text") or st.toggle("Show the question", key=f"show-{plan.position}"):
        st.subheader(escape_markdown(question.question))

    tries = plan.tries.get(question.id, [])  # as saved when answered: no reading back on every rerun
    latest = tries[-1] if tries else None
    if latest is not None and latest.status == "recorded":
        ANSWERS.resume(store, plan, question, latest, limits=limits(), after=judged)
    elif latest is None or latest.status != "scored" or state.get("retry") == question.id:
        answer(plan, question, latest)
    else:
        feedback(plan, question, latest, tries[-2] if len(tries) > 1 else None)


def answer(plan: sessions.Plan, question: Question, latest: Attempt | None) -> None:
    """Record (listen back, then submit or discard), upload or type an answer; then judge it."""
    round_key = ANSWERS.round_key(plan, question)
    submission = ANSWERS.pending_answer(round_key)
    if refused := state.pop(ANSWERS.problem, None):
        st.error(escape_markdown(refused))
    elif latest is not None and latest.status == "failed":
        reason = escape_markdown(latest.error or "")
        st.warning(f"{reason} Your last recording was saved; answer again below.")
    elif latest is not None:  # trying again: the last feedback stays at hand
        with st.expander("Previous try"):
            previous_try(latest, question)
    widgets.answer_timer(round_key)
    widgets.model_status()
    given = ANSWERS.tabs(round_key, limits())
    if given.recorded and submission is None:
        st.caption("Listen back with the player above; then submit it, or discard it and record again.")
        send, discard = st.columns(2)
        with send:
            ANSWERS.submit_button(round_key, stretch=True)
        discard.button("Discard it", key="answer-discard", on_click=ANSWERS.renew, width="stretch")
    st.button("Skip", key="skip", on_click=skip, args=(plan,), help="On to the next question, unanswered.")

    if submission is None:
        submission = ANSWERS.typed_answer(given, round_key)
    if submission is not None:
        ANSWERS.judge(store, plan, question, submission, limits=limits(), after=judged)


def previous_try(attempt: Attempt, question: Question) -> None:
    widgets.show_attempt(attempt, question, reveal_model_answer=False)


def feedback(plan: sessions.Plan, question: Question, latest: Attempt, previous: Attempt | None) -> None:
    comparison = sessions.compare(previous, latest) if previous else None
    if latest.has_audio and (saved := store.audio(latest.id)):
        st.caption("🎙️ Your answer")
        widgets.play_recording(saved[0], alt="Your recorded answer")
    widgets.show_attempt(latest, question, comparison=comparison)
    if latest.score is not None and latest.score.structure is not None:  # a behavioural question
        structure(latest.score.structure)
    if latest.transcript is not None:
        correction(plan, latest, question)
    if previous is not None and previous.status == "scored":
        with st.expander("Previous try"):
            previous_try(previous, question)
    again, nxt = st.columns(2)
    again.button("Try again", key="try-again", on_click=try_again, args=(question.id,), width="stretch")
    nxt.button(
        "Next question" if plan.position + 1 < len(plan.question_ids) else "Finish",
        type="primary",
        key="next",
        on_click=next_question,
        args=(plan,),
        width="stretch",
    )


def structure(report: StructureReport) -> None:
    """Which STAR parts the answer had, the words that carried each, and what to add."""
    st.markdown(f"**Structure:** {report.line()}")
    for part in report.parts:
        if part.evidence is not None:
            st.caption(f"{part.title}: “{escape_markdown(part.evidence.text)}”")
    if advice := report.advice():
        st.info(advice)


def try_again(question_id: str) -> None:
    state["retry"] = question_id


def next_question(plan: sessions.Plan) -> None:
    plan.advance()
    state.pop("retry", None)


def correction(plan: sessions.Plan, attempt: Attempt, question: Question) -> None:
    """The transcript in a box to correct misheard words; saving scores the answer again from them."""
    if changed := state.pop("corrected", None):
        before, after = changed
        st.success(f"Scored again from your corrected transcript: {before:.0f} → {after:.0f}.")
    if state.get("correcting") != attempt.id:  # the box starts from this attempt's words
        state["correcting"] = attempt.id
        state["correct-text"] = attempt.answer_text
    error = state.pop("correct-error", None)
    with st.expander("Correct the transcript", expanded=error is not None):
        st.caption(
            "A word misheard? Change it here and the answer is scored again from your words; pace, "
            "pauses and fillers stay as recorded, and the words first heard are kept."
        )
        st.text_area("Transcript", key="correct-text", height=150)
        if error:
            st.error(escape_markdown(error))
        st.button(
            "Save and score again",
            key="correct-save",
            on_click=save_correction,
            args=(plan, attempt, question),
        )


def save_correction(plan: sessions.Plan, attempt: Attempt, question: Question) -> None:
    try:
        outcome = sessions.correct(
            store, attempt, question, state["correct-text"], by=plan.candidate, scorer=widgets.scorer()
        )
    except (sessions.CorrectionError, StorageError) as exc:  # the attempt stays as it was saved
        state["correct-error"] = widgets.error_text(exc)
        return
    plan.update(outcome.attempt)
    state["corrected"] = (attempt.effective_coverage or 0.0, outcome.attempt.effective_coverage or 0.0)


def skip(plan: sessions.Plan) -> None:
    plan.skip()
    # An unsaved answer belongs to the question skipped.
    for key in ("retry", ANSWERS.pending, ANSWERS.problem):
        state.pop(key, None)


def end(plan: sessions.Plan) -> None:
    plan.end()
    state.pop(ANSWERS.pending, None)


def start_another() -> None:
    state.pop("plan", None)
    st.query_params.clear()


def limits() -> AudioLimits:
    return state.get("limits", AudioLimits())


def judged(result: widgets.Judged, attempt: Attempt) -> None:
    """After an answer is judged (ANSWERS.judge and resume)."""
    if result.outcome.error is None:
        state.pop("retry", None)  # its feedback next, not the recorder again


def summary(plan: sessions.Plan) -> None:
    st.title("Session summary")
    if note := plan.ended_early_note():
        st.info(note)
    skipped = [bank.questions[q] for q in plan.skipped if q in bank.questions]
    result = sessions.summarize(store.attempts(session_id=plan.session_id), skipped)
    if result.average is not None:
        st.metric("Average best coverage", f"{result.average:.0f}/100")
    if result.questions:
        st.dataframe(
            [
                {
                    "question": r.question or r.question_id,
                    "attempts": r.attempts,
                    "best": None if r.best is None else round(r.best),
                    "last": None if r.last is None else round(r.last),
                    "skipped": "skipped" if r.skipped else "",
                }
                for r in result.questions
            ],
            hide_index=True,
            width="stretch",
        )
    if result.most_missed:
        st.markdown("**Points most often missed**")
        for text, times in result.most_missed:
            st.markdown(f"- {escape_markdown(text)} ({times}×)")
    st.button("Start another session", type="primary", key="start-another", on_click=start_another)


plan = state.get("plan")
if plan is None:
    setup()
elif plan.finished:
    summary(plan)
else:
    ask(plan)
    # In the page, not the sidebar: on a phone the sidebar is folded away.
    st.divider()
    st.button("End session", key="end-session", on_click=end, args=(plan,))
