"""Coach review: every saved attempt, filtered; audio, transcript, scores; notes added, edited or deleted;
overrides; exports."""

from __future__ import annotations

import datetime as dt
from functools import partial

import streamlit as st

from practice import sessions
from practice.bank import LEVELS, UnknownQuestionError
from practice.markdown import escape_markdown
from practice.report import session_report
from practice.storage import (
    KEY_POINT_STATUSES,
    LOCAL_USER,
    NotFoundError,
    StorageError,
    access,
    export_csv,
    export_markdown,
    export_stem,
)
from views import login, widgets

bank, store = widgets.open_bank_and_store()
user = login.current_user()
st.title("Review attempts")

ALL = "All"
names = [c.name for c in access.visible_candidates(store, user)]  # and every list below only from these
if not names:
    st.info("No attempts yet: answers saved on the Practice page appear here.")
    st.stop()

row1 = st.columns(4)
wanted = st.session_state.get("candidate")
candidate = row1[0].selectbox(
    "Candidate", [ALL, *names], index=(names.index(wanted) + 1) if wanted in names else 0
)
track = row1[1].selectbox("Track", [ALL, *bank.tracks])
level = row1[2].selectbox("Level", [ALL, *LEVELS])
dates = row1[3].date_input("Dates (all if none)", value=(), max_value=dt.date.today() + dt.timedelta(days=1))
start, end = dates if isinstance(dates, tuple) and len(dates) == 2 else (None, None)

chosen = access.visible_attempts(
    store,
    user,
    candidate=None if candidate == ALL else candidate,
    track=None if track == ALL else track,
    level=None if level == ALL else level,
    since=start,
    until=end,
)
row2 = st.columns(2)
question_ids = sorted({a.question_id for a in chosen})
question_id = row2[0].selectbox("Question", [ALL, *question_ids])
session_ids = list(dict.fromkeys(a.session_id for a in chosen if a.session_id))
session_id = row2[1].selectbox(
    "Session",
    [ALL, *session_ids],
    format_func=lambda s: (
        s
        if s == ALL
        else next(
            f"{a.created_at.astimezone():%Y-%m-%d %H:%M} · {a.candidate.name}"
            for a in chosen
            if a.session_id == s
        )
    ),
)
chosen = [
    a
    for a in chosen
    if (question_id == ALL or a.question_id == question_id)
    and (session_id == ALL or a.session_id == session_id)
]

st.caption(f"{len(chosen)} attempt(s)")
if not chosen:
    st.stop()
exports = st.columns(3)
stem = export_stem(chosen, session=session_id != ALL)  # e.g. ana-lopez-2025-03-10: safe in any folder
label = "session" if session_id != ALL else (candidate if candidate != ALL else "attempts")
exports[0].download_button(
    "Export Markdown",
    export_markdown(chosen, title=f"Interview practice: {label}"),
    f"{stem}.md",
    "text/markdown",
)
exports[1].download_button("Export CSV", export_csv(chosen), f"{stem}.csv", "text/csv")
if session_id != ALL:  # made when clicked, not on every rerun
    exports[2].download_button(
        "Download PDF",
        partial(session_report, chosen[0].candidate.name, chosen),
        f"{stem}.pdf",
        "application/pdf",
        key="export-pdf",
        on_click="ignore",
    )

table = st.dataframe(
    widgets.attempt_rows(chosen),
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    width="stretch",
    key="attempts",
)
rows = table.selection.rows if table and table.selection else []
attempt = chosen[rows[0]] if rows else chosen[0]

st.divider()
st.subheader(f"{escape_markdown(attempt.candidate.name)} · {escape_markdown(attempt.question_id)}")
st.caption(
    f"{attempt.created_at.astimezone():%Y-%m-%d %H:%M} · {escape_markdown(attempt.level)} · "
    f"{escape_markdown(attempt.topic)} · {escape_markdown(attempt.answer_mode)}"
)
if attempt.question:
    st.markdown(f"**Question:** {escape_markdown(attempt.question)}")
if attempt.has_audio and (audio := store.audio(attempt.id)):
    widgets.play_recording(audio[0])
try:
    question = bank.get(attempt.question_id)
except UnknownQuestionError:
    question = None
widgets.show_attempt(attempt, question, reveal_model_answer=question is not None)
reviewer = access.can_review(store, user, attempt.candidate)  # a candidate reads the notes, adds none

if attempt.status != "scored" and question is not None and st.button("Score again"):
    if widgets.load_models():
        sessions.judge(
            store,
            attempt,
            question,
            scorer=widgets.scorer(),
            transcriber=widgets.transcriber(widgets.whisper_model()),
        )
        st.rerun()


def coach_name() -> str:
    """Who writes: the logged-in user; with logins off the review form's "Your name", as last saved."""
    state = st.session_state
    if user != LOCAL_USER:
        return user.name
    return str(state.get("coach-name") or "").strip() or state.get("coach") or "coach"


def change_note(note, change: str) -> None:
    """The note controls' callback: "edit", "delete" (asks first), "save", "confirm" (deletes) or "cancel"."""
    state = st.session_state
    state.pop("note-error", None)
    if not login.still_logged_in():
        return
    if change in ("edit", "delete"):
        state["note-changing"] = (note.id, change)
        if change == "edit":
            state[f"note-text-{note.id}"] = note.text
        return
    if change == "cancel":
        state.pop("note-changing", None)
        return
    try:
        if change == "save":
            store.edit_note(note.id, state[f"note-text-{note.id}"], author=coach_name())
        else:
            store.delete_note(note.id, author=coach_name())
    except (StorageError, NotFoundError, ValueError) as exc:  # the edit stays in its box to retry
        state["note-error"] = widgets.error_text(exc)
        if isinstance(exc, NotFoundError):  # another coach deleted it: nothing left to retry
            state.pop("note-changing", None)
    else:
        state.pop("note-changing", None)


def render_note(note) -> None:
    """One note: its text, or the box editing it, or the question whether to delete it; and its buttons."""
    changing = st.session_state.get("note-changing")
    if changing == (note.id, "edit"):
        st.text_area("Edit the note", key=f"note-text-{note.id}")
        buttons = [
            ("Save note", f"note-save-{note.id}", "save"),
            ("Cancel", f"note-cancel-{note.id}", "cancel"),
        ]
    else:
        st.markdown(
            f"> {escape_markdown(note.text)}  \n— {escape_markdown(note.author)}, "
            f"{note.created_at.astimezone():%Y-%m-%d %H:%M}"
        )
        if changing == (note.id, "delete"):
            st.warning("Delete this note? This cannot be undone.")
            buttons = [
                ("Yes, delete it", f"note-confirm-{note.id}", "confirm"),
                ("Keep it", f"note-cancel-{note.id}", "cancel"),
            ]
        else:
            buttons = [
                ("Edit", f"note-edit-{note.id}", "edit"),
                ("Delete", f"note-delete-{note.id}", "delete"),
            ]
    for column, (label, key, change) in zip(st.columns(8), buttons if reviewer else [], strict=False):
        column.button(label, key=key, on_click=change_note, args=(note, change))


def save_correction(attempt, question) -> None:
    """The correction's callback: the attempt is scored again from the coach's words, the words heard kept."""
    state = st.session_state
    if not login.still_logged_in():
        return
    try:
        sessions.correct(
            store,
            attempt,
            question,
            state[f"review-correct-{attempt.id}"],
            by=coach_name(),
            scorer=widgets.scorer(),
        )
    except (sessions.CorrectionError, StorageError) as exc:  # the attempt stays as it was
        state["correct-error"] = widgets.error_text(exc)


if reviewer and attempt.transcript is not None and question is not None:
    with st.expander("Correct the transcript"):
        st.session_state.setdefault(f"review-correct-{attempt.id}", attempt.answer_text)
        st.text_area("What the candidate said", key=f"review-correct-{attempt.id}", height=150)
        st.button(
            "Save and score again",
            key=f"review-correct-save-{attempt.id}",
            on_click=save_correction,
            args=(attempt, question),
        )
        if error := st.session_state.pop("correct-error", None):
            st.error(escape_markdown(error))

st.markdown("#### Coach")
for note in attempt.notes:
    render_note(note)
if error := st.session_state.pop("note-error", None):
    st.error(escape_markdown(error))
if not reviewer:
    if not attempt.notes:
        st.caption("No notes from a coach on this attempt yet.")
    st.stop()
AUTO = "automatic"


def save_review(attempt) -> None:
    """The form's callback: one transaction; on success the note box empties, on failure it keeps the note."""
    state = st.session_state
    if not login.still_logged_in():
        return
    who = state["coach"] = user.name if user != LOCAL_USER else state["coach-name"].strip() or "coach"
    changed = {}
    for i in range(len(attempt.key_points)):
        wanted = state[f"kp-{attempt.id}-{i}"]
        wanted = None if wanted == AUTO else wanted
        current = attempt.override(i)
        if (None if current is None else current.status) != wanted:
            changed[i] = wanted
    note = state[f"note-{attempt.id}"]
    review = {"note": note if note.strip() else None, "key_points": changed, "author": who}
    override = state[f"override-{attempt.id}"]
    if override or attempt.coach_coverage is not None:  # else the saved coverage stays as it is
        review["coverage"] = state[f"coverage-{attempt.id}"] if override else None
    try:
        store.save_review(attempt.id, **review)  # an error saves none of it
    except (StorageError, ValueError) as exc:
        state["review-error"] = widgets.error_text(exc)
    else:
        state[f"note-{attempt.id}"] = ""


st.session_state.setdefault("coach-name", st.session_state.get("coach", "coach"))
with st.form(f"coach-{attempt.id}"):
    if user == LOCAL_USER:  # with logins on, the note is signed with the login's name
        st.text_input("Your name", key="coach-name")
    for i, point in enumerate(attempt.key_points):
        current = attempt.override(i)
        st.selectbox(
            f"{i + 1}. {escape_markdown(point.key_point.text)} (automatic: {point.status})",
            [AUTO, *KEY_POINT_STATUSES],
            index=0 if current is None else 1 + KEY_POINT_STATUSES.index(current.status),
            key=f"kp-{attempt.id}-{i}",
        )
    st.checkbox(
        "Override the coverage score", value=attempt.coach_coverage is not None, key=f"override-{attempt.id}"
    )
    st.number_input(
        "Coach's coverage",
        0.0,
        100.0,
        float(attempt.coach_coverage or attempt.coverage or 0),
        step=5.0,
        key=f"coverage-{attempt.id}",
    )
    st.text_area("Add a note", key=f"note-{attempt.id}")
    st.form_submit_button("Save review", type="primary", on_click=save_review, args=(attempt,))
if error := st.session_state.pop("review-error", None):
    st.error(escape_markdown(error))
