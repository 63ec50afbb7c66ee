"""Streamlit pieces shared by the pages, kept beside them (the practice package has no Streamlit): models
and the database loaded once per process, and the feedback view used both right after an answer and on
the coach's review page.

Everything a user typed or said goes through `practice.markdown` before it is rendered.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

from practice import assess, coach_bank, jobs, models, scoring, sessions, settings, speech_in, speech_out
from practice.bank import Bank, ExampleAnswers, Question
from practice.early import EarlyTranscriber
from practice.markdown import Highlight, escape_markdown, highlighted
from practice.scoring.coverage import CoverageScorer
from practice.scoring.delivery import Delivery
from practice.sessions import Comparison
from practice.storage import Attempt, Store, open_store
from practice.transcript import clock, describe_corrections

if TYPE_CHECKING:
    import pandas as pd

STATUS_ICON = {"covered": "✅", "partial": "🟡", "missed": "❌"}
WHISPER_MODELS = ("tiny.en", "base")  # bundled (practice.speech_in.resolve_model)


# ------------------------------------------------------------------------ shared across browser sessions


@st.cache_resource(show_spinner="Loading the question bank…", max_entries=2)
def bank(coach_stamp: object = None) -> Bank:
    """With the coach's questions; a new stamp of their file (`coach_bank.stamp`) reloads it at once."""
    return coach_bank.load_with_coach(None)


@st.cache_resource(show_spinner="Opening the attempts database…")
def store() -> Store:
    return open_store()


@st.cache_resource(show_spinner=False)
def scorer() -> CoverageScorer:
    return scoring.default_scorer()


@st.cache_resource(show_spinner=False)
def transcriber(model: str) -> EarlyTranscriber:
    return EarlyTranscriber(speech_in.default_transcriber(model))


def transcribe_early(audio: bytes, limits: speech_in.AudioLimits) -> None:
    """Start transcribing a recording not submitted yet (practice.early), once Whisper is loaded: the
    page does not wait for the models here."""
    model = whisper_model()
    if models.progress(model).ready:
        transcriber(model).start(audio, limits)


def whisper_model() -> str:
    return st.session_state.get("whisper_model") or settings.whisper_model()


def load_models() -> bool:
    """The models, loading in the background since the first page (`practice.models`), waited for here
    with visible progress; False, with the reason on the page, if one could not be loaded."""
    model = whisper_model()
    progress = models.preload(model)
    if not progress.ready and progress.error is None:
        with st.status(f"Loading {progress.loading or 'the models'}…") as status:
            progress = models.wait(model)
            status.update(label="Models ready.", state="complete", expanded=False)
    if progress.error:
        st.error(escape_markdown(progress.error))
        return False
    return True


def models_for_judging(status: Any) -> tuple[str, str | None]:
    """The Whisper model to judge an answer with and, if the models could not be loaded, why; waits for
    them if they are still loading, saying so on `status` (an `st.status`)."""
    model = whisper_model()
    progress = models.progress(model)
    if not progress.ready and progress.error is None:
        status.update(label=f"Loading {progress.loading or 'the models'} (only after the app starts)…")
        progress = models.wait(model)
    return model, progress.error


# An answer is judged on a thread of its own, not in the page's run: a click or a reload stops the run at its
# next Streamlit call, and the judging must not stop with it (a 60 s answer would be transcribed again).
JudgingJob = jobs.Job[sessions.Stage, speech_in.TranscriptionProgress, sessions.Outcome]
WATCH_SECONDS = 0.2  # how often a page looks at the job it waits for


@st.cache_resource(show_spinner=False)
def judging() -> jobs.Jobs:
    """The answers being judged, by attempt id, for every browser session of this process."""
    return jobs.Jobs()


@dataclass(frozen=True)
class Judged:
    """A saved answer's outcome; `models_failed`: not judged, as the models could not be loaded (why in
    `outcome.error`; the attempt is saved as failed)."""

    outcome: sessions.Outcome
    models_failed: bool = False


def judge_saved(
    store: Store,
    attempt: Attempt,
    question: Question,
    *,
    audio: bytes | None,
    limits: speech_in.AudioLimits,
    status: Any,
    stage_lines: bool = False,
    saved_now: bool = False,
) -> Judged:
    """Transcribe and score a saved answer in the background, waiting for the models first if they are
    still loading; each stage and Whisper's progress shown on `status` (an `st.status`; each stage also as
    a line in it with `stage_lines`) until it is done. Raises what judging raised.

    A run stopped meanwhile stops watching, not judging: the next run to judge this attempt watches the same
    job, or, once it has finished, takes the attempt as it saved it. An attempt `saved_now` (on this run)
    cannot have been judged yet, so it is not read back first."""
    model, error = models_for_judging(status)
    if error:  # the answer stays saved, to be scored again from the Review page
        return Judged(sessions.Outcome(store.set_failed(attempt.id, error), None, error), models_failed=True)
    key = str(attempt.id)
    job: JudgingJob | None = judging().get(key)
    if job is None:
        saved = attempt if saved_now else store.attempt(attempt.id)  # as the last job (if any) left it
        if saved.status != "recorded":
            return Judged(sessions.Outcome(saved, None, saved.error))
        # Cached resources, so fetched here: the job's thread has no Streamlit script run to fetch them in.
        answer_scorer, recogniser = scorer(), transcriber(model)

        def work(job: JudgingJob) -> sessions.Outcome:  # no Streamlit call in here: it runs off the page
            return sessions.judge(
                store,
                saved,
                question,
                audio=audio,
                scorer=answer_scorer,
                transcriber=recogniser,
                limits=limits,
                on_stage=job.set_stage,
                on_progress=job.set_progress,
            )

        job = judging().run(key, work)
    return Judged(watch(job, status, stage_lines=stage_lines))


def watch(job: JudgingJob, status: Any, *, stage_lines: bool = False) -> sessions.Outcome:
    """A judging job's stages and progress on `status` as they come, as `sessions.judge` reports them; its
    outcome once it is done (or what it raised, raised here)."""
    show_progress = sessions.show_progress(lambda label: status.update(label=label))
    stages_shown, progress_shown = 0, None
    while True:
        done = job.wait(WATCH_SECONDS)
        report = job.report()
        for stage in report.stages[stages_shown:]:
            status.update(label=sessions.STAGE_LABELS[stage])
            if stage_lines:
                st.write(sessions.STAGE_LABELS[stage])
        stages_shown = len(report.stages)
        if report.progress is not None and report.progress is not progress_shown:
            progress_shown = report.progress
            show_progress(report.progress)
        if done:
            return job.result()
        # Streamlit acts on a click or a reload at the run's next call to it, reading session state
        # included: here, so one that came while nothing changed stops this run at once (the job carries on).
        _ = "judging" in st.session_state


def keep_in_address(params: dict[str, str]) -> None:
    """`params` as the page's query parameters (a session's or a round's link), so a reload or a reopened
    tab carries on with it; set only when they differ."""
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def model_status() -> None:
    """One line on the models loading in the background (nothing once they are ready); the page does
    not wait for them. Drawn with the page, not polled: a fragment rerunning every second swallowed
    clicks on the answer form's Submit button in Chromium."""
    progress = models.progress(whisper_model())
    if progress.error:
        st.error(escape_markdown(progress.error))
    elif not progress.ready:
        st.caption(f"⏳ Loading {progress.loading or 'the models'} in the background… you can carry on.")


def open_bank_and_store() -> tuple[Bank, Store]:
    """Both, or a one-sentence error on the page and a stop."""
    from practice.bank import BankError, default_bank_dir
    from practice.storage import StorageError

    try:
        return bank(coach_bank.stamp()), store()
    except BankError as exc:
        folder = str(default_bank_dir())  # file names only: no server paths in the browser
        problem = str(exc).replace(folder + os.sep, "").replace(folder, "the bank folder")
        problem = problem.replace(str(coach_bank.coach_bank_path()), coach_bank.FILE_NAME)
        st.error(escape_markdown(f"The question bank is invalid: {problem}"))
    except StorageError as exc:
        st.error(escape_markdown(error_text(exc)))
    st.stop()
    raise AssertionError("unreachable")


def error_text(exc: BaseException) -> str:
    """An error's sentence for the browser: a StorageError's without file paths or server addresses."""
    return str(getattr(exc, "public", None) or exc)


def play_recording(data: bytes, alt: str | None = None) -> None:
    """A saved recording, served only as the audio type its bytes decode as.

    Streamlit serves it from this app's own origin with the type given here, so a type a browser claimed
    (`text/html` for a page with a script in it) must never reach it; what does not decode as audio, e.g.
    saved under such a type by an older version, is not served at all.
    """
    try:
        kind = speech_in.audio_format(data)
    except speech_in.TranscriptionError:
        st.caption("The saved recording is not audio this app can play, so it is not shown.")
        return
    st.audio(data, format=kind.mime, alt=alt)


# ---------------------------------------------------------------------------------------------- question


@st.cache_resource(show_spinner=False)
def voice_names() -> list[str]:
    """The natural voice (piper, when installed) first, then the English espeak-ng voices (it has 130
    languages); every voice if none is English. Any of these names can be passed to `synthesize`."""
    try:
        names = [v.name for v in speech_out.voices()]
    except speech_out.SpeechError:
        return []
    english = [n for n in names if "english" in n.lower()]
    return english or names


def question_audio(question: Question) -> bytes | None:
    rate = int(st.session_state.get("speech_rate", speech_out.DEFAULT_RATE))
    try:
        return speech_out.synthesize(question.question, voice=st.session_state.get("voice"), rate=rate)
    except speech_out.SpeechError as exc:
        st.warning(f"The question cannot be read aloud: {exc}")
        return None


def answer_timer(key: str) -> None:
    """A running clock in the browser (no server round trips); restarts when `key` changes."""
    st.iframe(  # our own HTML, no user text in it
        f"""<!-- {key} --><div id="t" style="font:1rem sans-serif;color:#555">Answer time 0:00</div>
<script>const s=Date.now();setInterval(()=>{{const e=Math.floor((Date.now()-s)/1000);
const t="Answer time "+Math.floor(e/60)+":"+String(e%60).padStart(2,"0");
document.getElementById("t").textContent=t}},500)
</script>""",
        height=30,
    )


# ---------------------------------------------------------------------------------------------- feedback


def coverage_line(attempt: Attempt) -> str:
    """The coach's coverage beside the automatic one (for reviewed attempts)."""
    auto = "–" if attempt.coverage is None else f"{attempt.coverage:.0f}"
    if attempt.coach_coverage is not None:
        who = escape_markdown(attempt.coach_coverage_by or "coach")
        return f"coach ({who}): **{attempt.coach_coverage:.0f}**, automatic {auto}"
    return f"**{attempt.effective_coverage:.0f}** with the coach's key-point changes, automatic {auto}"


def show_attempt(
    attempt: Attempt,
    question: Question | None,
    *,
    comparison: Comparison | None = None,
    reveal_model_answer: bool = True,
) -> None:
    """Coverage, key points, transcript with evidence highlighted, delivery, follow-up, model answer."""
    if attempt.status != "scored":
        if attempt.error:
            st.warning(escape_markdown(attempt.error))
        else:
            st.info("This attempt has not been scored yet.")
        if attempt.answer_text:
            st.markdown(f"**Answer:** {escape_markdown(attempt.answer_text)}")
        return

    points = attempt.key_points
    said = assess.said_at(attempt.score, attempt.transcript) if attempt.score else []
    delta = None if comparison is None else f"{comparison.coverage_change:+.0f} since the last try"
    left, right = st.columns([1, 3])
    left.metric("Coverage", f"{attempt.effective_coverage:.0f}/100", delta=delta)
    if attempt.is_reviewed:
        right.markdown(f"Coverage: {coverage_line(attempt)}")
    if comparison is not None and (comparison.gained or comparison.lost):
        gained = "; ".join(escape_markdown(t) for t in comparison.gained) or "none"
        lost = "; ".join(escape_markdown(t) for t in comparison.lost) or "none"
        right.markdown(f"Points gained: {gained}  \nPoints lost: {lost}")

    st.markdown("#### Key points")
    statuses = [attempt.key_point_status(i) or p.status for i, p in enumerate(points)]
    for i, (point, status, when) in enumerate(zip(points, statuses, said, strict=True)):
        auto = point.status
        at = f" · said at {clock(when)}" if when is not None and status != "missed" else ""
        coach = f" · coach: **{status}** (automatic {auto})" if attempt.override(i) else ""
        opposite = " · **you said the opposite**" if point.contradicted and auto == "missed" else ""
        st.markdown(
            f"{STATUS_ICON.get(status, '')} **{i + 1}.** {escape_markdown(point.key_point.text)} "
            f"· {status}{opposite}{at}{coach}"
        )
        if point.evidence and (auto != "missed" or opposite):
            st.caption(f"“{escape_markdown(point.evidence.text)}”")

    st.markdown("#### Your answer" if attempt.transcript is None else "#### Transcript")
    marks = [
        Highlight(
            p.evidence.start,
            p.evidence.end,
            f"{i + 1}" + (f" · {clock(when)}" if when is not None else ""),
        )
        for i, (p, when) in enumerate(zip(points, said, strict=True))
        if p.evidence and statuses[i] != "missed"
    ]
    st.markdown(highlighted(attempt.answer_text, marks) or "_(empty)_")
    if attempt.transcript is not None and (corrected := describe_corrections(attempt.transcript)):
        st.caption(escape_markdown(corrected))

    if attempt.delivery:
        show_delivery(attempt.delivery)
    follow_up = assess.follow_up(attempt.score) if attempt.score else None
    if follow_up:
        st.info(f"**Follow-up question:** {escape_markdown(follow_up)}")
    if reveal_model_answer and question is not None:
        with st.expander("Model answer"):
            st.markdown(escape_markdown(question.model_answer))
        if question.examples is not None:
            show_examples(question.examples, key=f"examples-{attempt.id}")


def show_examples(examples: ExampleAnswers, *, key: str) -> None:
    """A behavioural question's story told plainly and polished, side by side: the same facts, so the
    difference is the telling (the candidate's own part, numbers, a result), not the story."""
    with st.expander("Example answers: plain and strong, side by side", key=key):
        plain, strong = st.columns(2)
        with plain.container(key=f"{key}-plain"):
            st.markdown("**Plain**")
            st.markdown(escape_markdown(examples.plain))
        with strong.container(key=f"{key}-strong"):
            st.markdown("**Strong**")
            st.markdown(escape_markdown(examples.strong))


def show_delivery(delivery: Delivery) -> None:
    st.markdown("#### How it was said")
    cols = st.columns(4)
    wpm = delivery.wpm
    cols[0].metric(
        "Pace", "–" if wpm is None else f"{wpm:.0f} wpm", help="120-160 words per minute is comfortable"
    )
    cols[0].caption(escape_markdown(delivery.pace or "too short to tell"))
    fillers = delivery.fillers
    cols[1].metric("Fillers", len(fillers), help="um, uh, you know, I mean, like, ...")
    cols[1].caption(f"{delivery.fillers_per_100:.1f} per 100 words")
    longest = delivery.longest_pause.duration if delivery.longest_pause else 0.0
    cols[2].metric("Longest pause", f"{longest:.1f} s")
    cols[2].caption(f"{len(delivery.long_pauses)} over {delivery.long_pause:g} s")
    first = delivery.time_to_first_word
    cols[3].metric("First word after", "–" if first is None else f"{first:.1f} s")
    for line in delivery.feedback():  # worked out now from the numbers: today's wording for every attempt
        st.markdown(f"- {escape_markdown(line)}")
    if fillers:
        said = ", ".join(f"{escape_markdown(f.text)} ({clock(f.start)})" for f in fillers[:20])
        st.caption(f"Fillers: {said}")
    windows = [w for w in delivery.pace_windows if w.wpm is not None]
    if len(windows) > 1:
        import altair as alt  # here, not at the top: the first page should not wait for it
        import pandas as pd

        frame = pd.DataFrame(
            {
                "from": [clock(w.start) for w in windows],
                "wpm": [w.wpm for w in windows],
                "band": [w.band for w in windows],
            }
        )
        chart = (
            alt.Chart(frame)
            .mark_bar()
            .encode(
                x=alt.X("from:N", sort=None, title="Part of the answer (start)"),
                y=alt.Y("wpm:Q", title="Words per minute"),
                color=alt.Color("band:N", title="Pace"),
                tooltip=["from", "wpm", "band"],
            )
            .properties(height=180)
        )
        st.altair_chart(chart, width="stretch")
    if delivery.domain_terms_used:
        st.caption(
            "Domain terms you used: " + ", ".join(escape_markdown(t) for t in delivery.domain_terms_used)
        )


def attempt_rows(attempts: Sequence[Attempt]) -> pd.DataFrame:
    """A table of attempts; Streamlit shows DataFrame cells as plain text."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "id": a.id,
                "when": a.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                "candidate": a.candidate.name,
                "question": a.question_id,
                "level": a.level,
                "coverage": None if a.effective_coverage is None else round(a.effective_coverage),
                "coach": "yes" if a.is_reviewed else "",
                "notes": len(a.notes),
                "status": a.status,
                "answer": a.answer_mode,
            }
            for a in attempts
        ]
    )
