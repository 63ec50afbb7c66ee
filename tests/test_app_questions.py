"""The Questions page under AppTest: a coach writes, edits, deletes, imports and exports their questions,
and Practice offers a saved question at once. Same fakes and temporary folders as tests/test_app.py."""

from __future__ import annotations

import csv
import io

import pytest
import yaml
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from practice.bank import KeyPoint, load_bank
from practice.coach_bank import FILE_NAME, TRACK, CoachBank, Draft, coach_bank_path
from tests.test_app import app, env, page_text, type_answer  # noqa: F401 (env: the fixture these tests use)

pytestmark = pytest.mark.usefixtures("env")
ANSWER = "Recall is the share of real positives the model finds. It ignores false positives."


def questions_page(at: AppTest | None = None) -> AppTest:
    at = at or app()
    at.switch_page("views/questions.py")
    return at.run()


def write_question(at: AppTest, question: str, answer: str = ANSWER, topic: str = "metrics") -> AppTest:
    at.text_area(key="q-question").input(question)
    at.text_area(key="q-answer").input(answer)
    at.text_input(key="q-topic").input(topic)
    return at


def seed(*ids: str) -> None:
    coach = CoachBank(load_bank(None))
    for qid in ids:
        coach.save(
            Draft(f"Question {qid}?", ANSWER, "basic", "metrics", id=qid, key_points=(KeyPoint("Finds"),))
        )


def test_a_coach_writes_a_question_and_practice_offers_it_at_once():
    at = app()  # Practice has loaded (and cached) the bank before the question exists
    assert TRACK not in at.selectbox(key="setup-track").options
    at = write_question(questions_page(at), "What does <b>recall</b> measure?")
    at = at.button(key="q-propose").click().run()
    assert [at.text_input(key=f"kp-{i}-text").value for i in range(2)] == [
        "Recall is the share of real positives the model finds.",
        "It ignores false positives.",
    ]
    at.text_input(key="kp-0-terms").input("Sensitivity, TPR")
    at.text_input(key="kp-0-follow").input("What does recall leave out?")
    at.text_input(key="kp-1-text").input("Ignores false positives")
    at = at.button(key="q-save").click().run()
    assert not at.exception and not at.error
    (saved,) = at.success
    assert "Saved 'coach-what-does-b-recall-b-measure'" in saved.value
    shown = page_text(at)
    assert "What does \\<b\\>recall\\</b\\> measure?" in shown and "<b>" not in shown
    assert at.text_area(key="q-question").value == ""  # the form is ready for the next one
    (question,) = CoachBank(load_bank(None)).questions()
    assert question.key_points == (
        KeyPoint(
            "Recall is the share of real positives the model finds.",
            ("sensitivity", "tpr"),
            "What does recall leave out?",
        ),
        KeyPoint("Ignores false positives"),
    )

    at.switch_page("views/practice.py")
    at = at.run()
    at.selectbox(key="setup-track").set_value(TRACK)
    at = at.run()
    assert at.multiselect(key="setup-topics").options == ["metrics"]
    at.text_input(key="setup-name").input("Ada")
    at = at.button(key="setup-start").click().run()
    assert at.session_state["plan"].question_ids == [question.id]
    at = type_answer(at, ANSWER)
    assert not at.exception and at.metric[0].label == "Coverage"


def test_a_mistake_is_one_sentence_and_the_form_keeps_what_was_typed():
    at = write_question(questions_page(), "What is recall?", answer="   ")
    at = at.button(key="q-save").click().run()
    assert [e.value for e in at.error] == [
        "Not saved (question 'coach-what-is-recall')\\: field 'model\\_answer'\\: "
        "String should have at least 1 character."
    ]
    assert at.text_area(key="q-question").value == "What is recall?"
    at.text_input(key="q-id").input("overfitting")  # a question of the bank
    at.text_area(key="q-answer").input(ANSWER)
    at = at.button(key="q-save").click().run()
    assert [e.value for e in at.error] == [
        "Not saved\\: the id 'overfitting' is already a question of the bank\\: choose another id."
    ]
    at = at.button(key="q-propose").click().run()
    assert at.session_state["q-points"] == 2
    at.text_area(key="q-answer").input("")
    at = at.button(key="q-propose").click().run()
    assert [e.value for e in at.error] == [
        "Write the model answer first\\: the key points are proposed from it."
    ]
    assert not coach_bank_path().exists()


def test_a_coach_edits_and_deletes_a_question_after_confirming():
    seed("recall", "precision")
    at = questions_page()
    at = at.button(key="q-edit-recall").click().run()
    assert at.text_input(key="q-id").value == "recall" and at.text_input(key="kp-0-text").value == "Finds"
    assert "Edit recall" in [s.value for s in at.subheader]
    at.selectbox(key="q-level").set_value("expert")
    at = at.button(key="kp-0-remove").click().run()
    assert at.session_state["q-points"] == 0
    at = at.button(key="q-save").click().run()
    assert not at.error
    recall = CoachBank(load_bank(None)).get("recall")
    assert recall.level == "expert" and recall.key_points_derived
    assert "recall · expert · metrics · technical · key points: derived from the model answer" in page_text(
        at
    )

    at = at.button(key="q-delete-precision").click().run()
    assert any("Delete this question?" in w.value for w in at.warning)
    at = at.button(key="q-keep-precision").click().run()
    assert [q.id for q in CoachBank(load_bank(None)).questions()] == ["recall", "precision"]
    at = at.button(key="q-delete-precision").click().run()
    at = at.button(key="q-confirm-precision").click().run()
    assert [q.id for q in CoachBank(load_bank(None)).questions()] == ["recall"]
    assert "Question precision?" not in page_text(at)


def test_an_import_with_a_bad_row_imports_nothing_and_names_the_row():
    header = "id,level,topic,question,model_answer,key_point_1,terms_1\n"
    bad = (
        header + 'a,basic,metrics,What is A?,A is a.,Says A,"a, alpha"\nb,hard,metrics,What is B?,B is b.,,\n'
    )
    at = questions_page()
    at.file_uploader(key="q-import-file").set_value(("mine.csv", bad.encode(), "text/csv"))
    at = at.button(key="q-import").click().run()
    assert [e.value for e in at.error] == [
        "Nothing was imported. Correct these rows and import it again\\:  \n"
        "Row 3 (question 'b')\\: field 'level'\\: Input should be 'basic', 'intermediate', 'advanced' or "
        "'expert' (got 'hard')."
    ]
    assert not coach_bank_path().exists()
    at.file_uploader(key="q-import-file").set_value(
        ("mine.csv", bad.replace("hard", "basic").encode(), "text/csv")
    )
    at = at.button(key="q-import").click().run()
    assert [s.value for s in at.success] == ["Imported 2 questions\\: 2 added."]
    assert [q.id for q in CoachBank(load_bank(None)).questions()] == ["a", "b"]
    assert "a · basic · metrics · technical · key points: 1" in page_text(at)


def test_export_offers_yaml_and_csv_of_the_questions(monkeypatch):
    exports: dict[str | None, bytes] = {}
    real = MemoryMediaFileStorage.load_and_get_id

    def spy(self, data, mimetype, kind, filename=None):
        exports[filename] = data if isinstance(data, bytes) else str(data).encode()
        return real(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    at = questions_page()
    assert at.download_button(key="q-export-yaml").disabled  # nothing to export yet
    seed("recall")
    at = at.run()
    assert not at.download_button(key="q-export-yaml").disabled
    document = yaml.safe_load(exports["coach-questions.yaml"])
    assert document["track"] == TRACK and [q["id"] for q in document["questions"]] == ["recall"]
    (row,) = csv.DictReader(io.StringIO(exports["coach-questions.csv"].decode()))
    assert row["id"] == "recall" and row["key_point_1"] == "Finds"


def test_a_damaged_file_is_one_sentence_without_the_server_folder():
    seed("recall")
    coach_bank_path().write_text(coach_bank_path().read_text().replace("level: basic", "level: hard"))
    folder = str(coach_bank_path().parent)
    at = questions_page()
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("Your questions file cannot be read") and FILE_NAME in error.value
    assert folder not in error.value
    at.switch_page("views/practice.py")
    at = at.run()
    (error,) = at.error
    assert error.value.startswith("The question bank is invalid\\: coach-questions.yaml\\: question 'recall'")
    assert folder not in error.value


def test_a_question_deleted_in_another_window_while_edited_is_kept_by_saving_again():
    seed("recall")
    at = questions_page()
    at = at.button(key="q-edit-recall").click().run()
    at.text_area(key="q-question").input("What does recall count?")
    CoachBank(load_bank(None)).delete("recall")  # another coach, elsewhere
    at = at.button(key="q-save").click().run()
    assert [e.value for e in at.error] == [
        "The question 'recall' was deleted meanwhile (in another window?)\\: save again to add it as a new "
        "question."
    ]
    assert at.text_area(key="q-question").value == "What does recall count?"
    at = at.button(key="q-save").click().run()
    assert not at.error
    assert [q.question for q in CoachBank(load_bank(None)).questions()] == ["What does recall count?"]


def test_a_long_list_of_bad_rows_is_cut_short():
    rows = "".join(f"q{i},hard,metrics,What is {i}?,It is.\n" for i in range(25))
    at = questions_page()
    data = ("id,level,topic,question,model_answer\n" + rows).encode()
    at.file_uploader(key="q-import-file").set_value(("bad.csv", data, "text/csv"))
    at = at.button(key="q-import").click().run()
    (error,) = at.error
    lines = error.value.split("  \n")
    assert len(lines) == 1 + 20 + 1 and lines[1].startswith("Row 2 (question 'q0')")
    assert lines[-1] == "… and 5 more."


def test_a_question_deleted_during_a_session_is_skipped_not_a_crash():
    seed("recall", "precision")
    at = app()
    at.selectbox(key="setup-track").set_value(TRACK)
    at = at.run()
    at.text_input(key="setup-name").input("Ada")
    at.number_input(key="setup-count").set_value(2)
    at = at.button(key="setup-start").click().run()
    current = at.session_state["plan"].current
    CoachBank(load_bank(None)).delete(current)
    at = at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        f"Question {current} was deleted from the bank meanwhile: skip it."
    ]
    at = at.button(key="skip-deleted").click().run()
    assert not at.exception and at.session_state["plan"].skipped == [current]
