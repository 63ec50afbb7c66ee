"""Questions: a coach writes their own questions (key points proposed from the model answer, then edited),
imports and exports them. They join the bank at once as the track "Coach's questions"."""

from __future__ import annotations

import streamlit as st

from practice import coach_bank
from practice.bank import (
    LEVELS,
    MAX_KEY_POINTS,
    Bank,
    BankError,
    KeyPoint,
    Kind,
    Question,
    derive_key_points,
    load_bank,
)
from practice.coach_bank import CoachBank, CoachBankError, Draft, ImportRefused, QuestionGone
from practice.files import MEGABYTE
from practice.markdown import escape_markdown

KINDS = tuple(kind.value for kind in Kind)
SHOWN_PROBLEMS = 20  # of a bad import, one a line
FORM = {"q-question": "", "q-answer": "", "q-level": LEVELS[0], "q-topic": "", "q-kind": KINDS[0], "q-id": ""}


@st.cache_resource(show_spinner="Loading the question bank…")
def shipped_bank() -> Bank:
    """The bank without the coach's questions: their ids are taken, and it loads even when theirs do not."""
    return load_bank(None)


try:
    coach = CoachBank(shipped_bank())
except BankError:
    st.error("The question bank is invalid: `practice bank check` names the problem.")
    st.stop()
state = st.session_state
for key, value in FORM.items():
    state.setdefault(key, value)
state.setdefault("q-points", 0)
state.setdefault("q-editing", None)


# ------------------------------------------------------------------------------------------- callbacks


def flash(kind: str, text: str) -> None:
    """A message shown once, on the run after the callback."""
    state["q-message"] = (kind, text)


def fill_points(points: tuple[KeyPoint, ...]) -> None:
    for i, point in enumerate(points):
        state[f"kp-{i}-text"] = point.text
        state[f"kp-{i}-terms"] = ", ".join(point.terms)
        state[f"kp-{i}-follow"] = point.follow_up or ""
    state["q-points"] = len(points)


def propose() -> None:
    points = derive_key_points(state["q-answer"])  # as the bank does when a file leaves them out
    if not points:
        flash("error", "Write the model answer first: the key points are proposed from it.")
        return
    fill_points(points)


def add_point() -> None:
    fill_points((*typed_points(), KeyPoint("")))


def remove_point(index: int) -> None:
    points = typed_points()
    fill_points(points[:index] + points[index + 1 :])


def typed_points() -> tuple[KeyPoint, ...]:
    return tuple(
        KeyPoint(
            state.get(f"kp-{i}-text", ""),
            coach_bank.parse_terms(state.get(f"kp-{i}-terms", "")),
            state.get(f"kp-{i}-follow", ""),
        )
        for i in range(state["q-points"])
    )


def clear_form() -> None:
    state.update(FORM)
    fill_points(())
    state["q-editing"] = None


def edit(question: Question) -> None:
    state.update(
        {
            "q-question": question.question,
            "q-answer": question.model_answer,
            "q-level": question.level,
            "q-topic": question.topic,
            "q-kind": question.kind,
            "q-id": question.id,
            "q-editing": question.id,
        }
    )
    fill_points(() if question.key_points_derived else question.key_points)


def save() -> None:
    draft = Draft(
        question=state["q-question"],
        model_answer=state["q-answer"],
        level=state["q-level"],
        topic=state["q-topic"],
        kind=state["q-kind"],
        id=state["q-id"],
        key_points=typed_points(),
    )
    try:
        saved = coach.save(draft, replacing=state["q-editing"])
    except CoachBankError as exc:  # the form keeps what was typed, to correct it
        flash("error", str(exc))
        if isinstance(exc, QuestionGone):
            state["q-editing"] = None  # the next save adds it
        return
    clear_form()
    flash(
        "success",
        f"Saved '{saved.id}'. Candidates find it on the Practice page: track {coach_bank.TITLE}, "
        f"level {saved.level}, topic {saved.topic}.",
    )


def ask_delete(question_id: str | None) -> None:
    """Delete asks first (None: the coach kept the question)."""
    state["q-deleting"] = question_id


def delete(question_id: str) -> None:
    state["q-deleting"] = None
    try:
        coach.delete(question_id)
    except CoachBankError as exc:
        flash("error", str(exc))
        return
    if state["q-editing"] == question_id:
        clear_form()
    flash("success", f"Deleted '{question_id}'. Its attempts stay on the Review page.")


def import_file() -> None:
    uploaded = state.get("q-import-file")
    if uploaded is None:
        flash("error", "Choose a CSV or YAML file to import first.")
        return
    try:
        flash("success", coach.import_file(uploaded.name, uploaded.getvalue()).summary())
    except ImportRefused as exc:
        shown = exc.problems[:SHOWN_PROBLEMS]
        more = [f"… and {len(exc.problems) - len(shown)} more."] if len(exc.problems) > len(shown) else []
        flash(
            "error",
            "\n".join(["Nothing was imported. Correct these rows and import it again:", *shown, *more]),
        )
    except CoachBankError as exc:
        flash("error", f"Nothing was imported. {exc}")


# ------------------------------------------------------------------------------------------------- page

st.title("Questions")
st.caption(
    f"Your own questions. Each one joins the bank at once as the track “{coach_bank.TITLE}”: candidates "
    "practise it on the Practice page, and `practice grade` grades answers to it by its id."
)
if message := state.pop("q-message", None):
    kind, text = message
    lines = "  \n".join(escape_markdown(line) for line in text.split("\n"))  # one problem a line
    (st.success if kind == "success" else st.error)(lines)

try:
    mine = coach.questions()
except CoachBankError as exc:
    st.error(escape_markdown(str(exc)))
    st.stop()
for clash in coach.clashes():
    st.warning(
        escape_markdown(f"The bank now has a question '{clash}' too: edit yours and give it another id.")
    )

st.subheader("Your questions")
if not mine:
    st.info("No questions yet: write one below, or import a file.")
for question in mine:
    points = "derived from the model answer" if question.key_points_derived else f"{len(question.key_points)}"
    st.markdown(
        f"**{escape_markdown(question.question)}**  \n{escape_markdown(question.id)} · {question.level} · "
        f"{escape_markdown(question.topic)} · {question.kind} · key points: {points}"
    )
    if state.get("q-deleting") == question.id:
        st.warning("Delete this question? Its attempts stay, but it can no longer be practised.")
        first, second, *_ = st.columns(6)
        first.button("Yes, delete it", key=f"q-confirm-{question.id}", on_click=delete, args=(question.id,))
        second.button("Keep it", key=f"q-keep-{question.id}", on_click=ask_delete, args=(None,))
    else:
        first, second, *_ = st.columns(6)
        first.button("Edit", key=f"q-edit-{question.id}", on_click=edit, args=(question,))
        second.button("Delete", key=f"q-delete-{question.id}", on_click=ask_delete, args=(question.id,))

editing = state["q-editing"]
st.subheader(f"Edit {escape_markdown(editing)}" if editing else "New question")
st.text_area("Question, as it will be read aloud", key="q-question")
st.text_area("Model answer (80-200 words is best)", key="q-answer")
level, topic, kind, qid = st.columns(4)
level.selectbox("Level", LEVELS, key="q-level")
topic.text_input("Topic", key="q-topic", help="Lowercase words joined by hyphens, e.g. evaluation or mlops.")
kind.selectbox("Kind", KINDS, key="q-kind")
qid.text_input(
    "Id",
    key="q-id",
    help="Left empty, it is made from the question. Attempts are saved under it, so change it only "
    "before the question is practised.",
)

st.markdown("**Key points** (what a strong answer must contain; the scorer looks for each)")
st.button("Propose key points from the model answer", key="q-propose", on_click=propose)
for i in range(state["q-points"]):
    text, terms, follow, remove = st.columns([4, 3, 4, 1.5], vertical_alignment="bottom")
    text.text_input(f"Key point {i + 1}", key=f"kp-{i}-text")
    terms.text_input("Terms (comma list)", key=f"kp-{i}-terms", help="Words or phrases that show the point.")
    follow.text_input("Follow-up question", key=f"kp-{i}-follow", help="Asked when the point is missed.")
    remove.button("Remove", key=f"kp-{i}-remove", on_click=remove_point, args=(i,))
if not state["q-points"]:
    st.caption("None yet: without key points, each sentence of the model answer is one (at most six).")
st.button(
    "Add a key point", key="q-add-point", on_click=add_point, disabled=state["q-points"] >= MAX_KEY_POINTS
)
save_column, clear_column, _ = st.columns([2, 1, 5])
save_column.button("Save question", key="q-save", type="primary", on_click=save)
clear_column.button("Cancel" if editing else "Clear", key="q-clear", on_click=clear_form)

st.subheader("Import")
st.file_uploader(
    "A CSV or YAML file of questions",
    type=["csv", "yaml", "yml"],
    max_upload_size=coach_bank.MAX_IMPORT_BYTES // MEGABYTE,
    key="q-import-file",
    help="YAML in the question bank's format, or CSV with the columns "
    f"{', '.join(f'`{c}`' for c in coach_bank.QUESTION_COLUMNS)} and `key_point_1`, `terms_1`, `follow_up_1` "
    "… `key_point_6` (as the CSV export writes them). A question with one of your ids replaces it.",
)
st.button("Import", key="q-import", on_click=import_file)

st.subheader("Export")
yaml_column, csv_column, _ = st.columns([1, 1, 4])
yaml_column.download_button(
    "Download YAML",
    coach.export_yaml() if mine else "",
    file_name="coach-questions.yaml",
    mime="application/yaml",
    key="q-export-yaml",
    disabled=not mine,
)
csv_column.download_button(
    "Download CSV",
    coach.export_csv() if mine else "",
    file_name="coach-questions.csv",
    mime="text/csv",
    key="q-export-csv",
    disabled=not mine,
)
