"""Answering a question, the same on Practice and Quick-fire: the Record (and Upload) and Type tabs, a
recording submitted once listened back to, then the answer saved and judged, each stage shown.

A click or a reload can cut a page's run short wherever it calls Streamlit (session state included). So an
answer sent stays pending in session state until it is saved, and a run cut short before then saves it on
the next. Saving it ends its round (`Answers.round_key`), so a copy left pending (a second click sent the
same answer again) belongs to a round that is over and is dropped: an answer is saved once. Judging goes on
in the background when a run stops (widgets.judge_saved); the next run watches it or takes its outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from practice import sessions
from practice.bank import Question
from practice.markdown import escape_markdown
from practice.speech_in import AudioLimits, RefusedRecordingError
from practice.storage import Attempt, StorageError, Store
from views import widgets

# What a page does once a saved answer is judged (the plan already holds the judged attempt), inside its
# status, before it is marked done; given the outcome and the attempt as it was saved.
AfterJudging = Callable[[widgets.Judged, Attempt], None]


@dataclass(frozen=True)
class Given:
    """What the answer tabs hold on this run: a recording (or upload) to submit; typed text, when its
    form was submitted."""

    recorded: bool
    typed: str | None


@dataclass(frozen=True)
class Answers:
    """One page's answers: the session-state keys it keeps them under, its widgets' keys (which its tests
    and the browser tests know) and how it shows them."""

    pending: str  # the answer sent and not saved yet (a sessions.Submission)
    problem: str  # why the last answer was not saved (or judged), for the page to show once
    fresh: str  # bumped for a fresh recorder and uploader (a discarded or refused recording)
    recorder: str  # key prefixes, each followed by the round key
    typed_form: str
    typed_text: str
    typed_submit: str
    submit: str
    retry_saving: str
    upload: str | None = None  # the Upload tab's prefix; no Upload tab without one
    text_height: int = 150
    refused_label: str = "The recording was not saved."
    stage_lines: bool = False  # "✓ Saved." and each judging stage as a line in the status too

    def round_key(self, plan: sessions.Plan, question: Question) -> str:
        """This round of the question: a new one once an answer is saved or a recording is thrown away."""
        tries = len(plan.tries.get(question.id, []))
        return f"{plan.session_id}-{plan.position}-{tries}-{st.session_state.get(self.fresh, 0)}"

    def pending_answer(self, round_key: str) -> sessions.Submission | None:
        """The answer sent in this round and not saved yet; a copy of one already saved (its round is
        over: a second click sent it again) is dropped."""
        submission: sessions.Submission | None = st.session_state.get(self.pending)
        if submission is not None and submission.round != round_key:
            del st.session_state[self.pending]
            return None
        return submission

    def renew(self) -> None:
        """A fresh recorder and uploader: the recording in them was discarded or refused, never saved."""
        st.session_state[self.fresh] = st.session_state.get(self.fresh, 0) + 1

    def tabs(self, round_key: str, limits: AudioLimits) -> Given:
        """🎙️ Record, 📁 Upload (if the page has it) and ⌨️ Type. A recording (or upload) is transcribed
        while the candidate listens back to it, so its feedback comes sooner once it is submitted."""
        names = ["🎙️ Record", "📁 Upload", "⌨️ Type"] if self.upload else ["🎙️ Record", "⌨️ Type"]
        tabs = st.tabs(names)
        with tabs[0]:
            recording = st.audio_input("Record your answer", key=f"{self.recorder}{round_key}")
        uploaded = None
        if self.upload:
            with tabs[1]:
                uploaded = st.file_uploader(
                    "A recording (WAV, WebM, OGG, MP3, M4A, FLAC)",
                    type=["wav", "webm", "ogg", "opus", "mp3", "m4a", "mp4", "flac"],
                    key=f"{self.upload}{round_key}",
                )
        with tabs[-1], st.form(f"{self.typed_form}{round_key}"):
            text_key = f"{self.typed_text}{round_key}"
            text = st.text_area("Type your answer", height=self.text_height, key=text_key)
            sent = st.form_submit_button("Submit answer", key=f"{self.typed_submit}{round_key}")
        if (heard := recording if recording is not None else uploaded) is not None:
            widgets.transcribe_early(heard.getvalue(), limits)
        return Given(recorded=recording is not None or uploaded is not None, typed=text if sent else None)

    def submit_button(self, round_key: str, *, stretch: bool = False) -> None:
        st.button(
            "Submit this answer",
            type="primary",
            key=self.submit,
            on_click=self.submit_recording,
            args=(round_key,),
            width="stretch" if stretch else "content",
        )

    def submit_recording(self, round_key: str) -> None:
        """The recording (or, with none, the upload) becomes this round's answer, judged on this run."""
        state = st.session_state
        recording = state.get(f"{self.recorder}{round_key}")
        uploaded = state.get(f"{self.upload}{round_key}") if self.upload else None
        # The browser's claimed type is not used: the recording is kept as what it decodes as.
        if recording is not None:
            state[self.pending] = sessions.Submission(round_key, "audio", audio=recording.getvalue())
        elif uploaded is not None:
            state[self.pending] = sessions.Submission(round_key, "upload", audio=uploaded.getvalue())

    def typed_answer(self, given: Given, round_key: str) -> sessions.Submission | None:
        """The typed answer, if its form was submitted; an empty one is refused on the page."""
        if given.typed is None:
            return None
        if not given.typed.strip():
            st.error("The answer is empty: type something, or record it instead.")
            return None
        return sessions.Submission(round_key, "typed", text=given.typed)

    def judge(
        self,
        store: Store,
        plan: sessions.Plan,
        question: Question,
        submission: sessions.Submission,
        *,
        limits: AudioLimits,
        after: AfterJudging,
    ) -> None:
        """Save first, then judge, each stage shown; if saving fails keep the answer pending and offer a
        retry, so nothing is lost. A refused recording (not audio, or over the limit) is not saved: the
        page shows why, with a fresh recorder."""
        state = st.session_state
        with st.status("Saving your answer…", expanded=True) as status:
            try:
                attempt = sessions.save(
                    store,
                    plan,
                    question,
                    text=submission.text,
                    audio=submission.audio,
                    mode=submission.mode,
                    limits=limits,
                )
            except RefusedRecordingError as exc:
                state.pop(self.pending, None)
                state[self.problem] = widgets.error_text(exc)
                self.renew()
                status.update(label=self.refused_label, state="error", expanded=False)
                attempt = None
            except StorageError as exc:
                state[self.pending] = submission  # a typed answer too, for Retry saving
                status.update(label="Your answer could not be saved.", state="error")
                st.error(
                    f"{escape_markdown(widgets.error_text(exc))} Your answer is kept here until it is saved."
                )
                st.button("Retry saving", type="primary", key=self.retry_saving)
                return
            if attempt is not None:
                state.pop(self.pending, None)
                if self.stage_lines:
                    st.write("✓ Saved.")
                self._judge_saved(
                    store, plan, question, attempt, status, submission.audio, limits, after, saved_now=True
                )
        st.rerun()  # the feedback or the next question, or the reason and a fresh recorder

    def resume(
        self,
        store: Store,
        plan: sessions.Plan,
        question: Question,
        attempt: Attempt,
        *,
        limits: AudioLimits,
        after: AfterJudging,
    ) -> None:
        """An answer saved but not judged yet: still being judged (a click or a reload stopped the run that
        watched it, not the judging) or cut short (a server stopped). Judged now, not asked for again."""
        with st.status("Your last answer was saved; judging it now…", expanded=True) as status:
            self._judge_saved(store, plan, question, attempt, status, None, limits, after, saved_now=False)
        st.rerun()

    def _judge_saved(
        self,
        store: Store,
        plan: sessions.Plan,
        question: Question,
        attempt: Attempt,
        status: Any,
        audio: bytes | None,
        limits: AudioLimits,
        after: AfterJudging,
        *,
        saved_now: bool,
    ) -> None:
        """widgets.judge_saved, then the plan takes the judged attempt and the page does what follows."""
        judged = widgets.judge_saved(
            store,
            attempt,
            question,
            audio=audio,
            limits=limits,
            status=status,
            stage_lines=self.stage_lines,
            saved_now=saved_now,
        )
        plan.update(judged.outcome.attempt)
        after(judged, attempt)
        status.update(label="Done.", state="complete", expanded=False)
