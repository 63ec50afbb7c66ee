"""The coach's own questions (practice.coach_bank): saved under the bank's checks, merged with the bank,
imported and exported, and practised and graded like the bank's own."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading

import pytest
import yaml
from click.testing import CliRunner

import practice.scoring as scoring
from practice import coach_bank, sessions
from practice.bank import BankError, KeyPoint, load_bank, packaged_bank_dir
from practice.cli import main
from practice.coach_bank import (
    FILE_NAME,
    TRACK,
    CoachBank,
    CoachBankError,
    Draft,
    ImportRefused,
    QuestionGone,
    coach_bank_path,
    load_with_coach,
)
from practice.grading import grade_file
from practice.scoring.coverage import CoverageScorer
from tests.conftest import BANK, OTHER_TRACK, FakeEmbedder, write

ANSWER = "A confusion matrix counts predictions against true labels. It shows the false positives."


def draft(**changes) -> Draft:
    fields = {
        "question": "What does a confusion matrix show?",
        "model_answer": ANSWER,
        "level": "basic",
        "topic": "evaluation",
        "key_points": (
            KeyPoint("Counts predictions against true labels", ("table", "labels"), "Which counts?"),
        ),
    }
    return Draft(**(fields | changes))


@pytest.fixture
def bank_dir(tmp_path):
    return write(tmp_path / "bank" / "mine.yaml", BANK).parent


@pytest.fixture
def coach(bank_dir):
    """The coach's questions beside the small test bank, in this test's own file (tests/conftest.py)."""
    return CoachBank(load_bank(bank_dir))


def csv_bytes(*rows: dict[str, str]) -> bytes:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


ROW = {
    "question": "Why use k-fold?",
    "model_answer": "It reuses data.",
    "level": "basic",
    "topic": "evaluation",
}


# --- where ------------------------------------------------------------------------------------------------


def test_the_file_lives_in_the_data_folder_unless_named(tmp_path, monkeypatch):
    monkeypatch.delenv("PRACTICE_COACH_BANK")
    monkeypatch.setenv("PRACTICE_DATA_DIR", str(tmp_path / "data"))
    assert coach_bank_path() == tmp_path / "data" / FILE_NAME
    monkeypatch.setenv("PRACTICE_COACH_BANK", str(tmp_path / "elsewhere.yaml"))
    assert coach_bank_path() == tmp_path / "elsewhere.yaml"


# --- add, edit, delete --------------------------------------------------------------------------------------


def test_add_edit_delete_round_trip(coach, bank_dir):
    saved = coach.save(draft())
    assert saved.id == "coach-what-does-a-confusion-matrix-show" and saved.track == TRACK
    assert saved.key_points == (
        KeyPoint("Counts predictions against true labels", ("table", "labels"), "Which counts?"),
    )
    assert load_with_coach(bank_dir).get(saved.id) == saved

    edited = coach.save(draft(id="confusion", level="intermediate", key_points=()), replacing=saved.id)
    assert [q.id for q in coach.questions()] == ["confusion"]
    assert edited.level == "intermediate" and edited.key_points_derived  # derived, as in a bank file
    assert [p.text for p in edited.key_points] == [
        "A confusion matrix counts predictions against true labels.",
        "It shows the false positives.",
    ]
    assert "key_points" not in yaml.safe_load(coach_bank_path().read_text())["questions"][0]

    coach.save(draft(question="What is recall?"))
    coach.delete("confusion")
    assert [q.question for q in coach.questions()] == ["What is recall?"]
    coach.delete("coach-what-is-recall")
    assert not coach_bank_path().exists()  # a bank file needs a question: none, no file
    assert len(load_with_coach(bank_dir)) == len(load_bank(bank_dir))


def test_empty_key_point_rows_are_dropped_and_terms_lowercased(coach):
    saved = coach.save(draft(key_points=(KeyPoint("Uses a Table", ("TP", "FP")), KeyPoint("", (), ""))))
    assert saved.key_points == (KeyPoint("Uses a Table", ("tp", "fp")),)


def test_editing_or_deleting_a_question_that_is_gone_says_so(coach):
    with pytest.raises(QuestionGone, match="^The question 'gone' was deleted meanwhile"):
        coach.save(draft(), replacing="gone")
    with pytest.raises(QuestionGone, match="^There is no question 'gone' among your questions"):
        coach.delete("gone")
    assert not coach_bank_path().exists()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"model_answer": "  "},
            "Not saved (question 'coach-what-does-a-confusion-matrix-show'): field 'model_answer': "
            "String should have at least 1 character.",
        ),
        (
            {"level": "hard"},
            "Not saved (question 'coach-what-does-a-confusion-matrix-show'): field 'level': Input should be "
            "'basic', 'intermediate', 'advanced' or 'expert' (got 'hard').",
        ),
        (
            {"id": "My Question"},
            "Not saved: field 'id': expected a slug of lowercase letters, digits and hyphens, like "
            "'bias-variance-1' (got 'My Question').",
        ),
        (
            {"key_points": (KeyPoint("Fine"), KeyPoint("", ("orphan",)))},
            "Not saved (question 'coach-what-does-a-confusion-matrix-show'): key point 2, field 'text': "
            "String should have at least 1 character.",
        ),
        (
            {"key_points": tuple(KeyPoint(f"Point {i}") for i in range(7))},
            "Not saved (question 'coach-what-does-a-confusion-matrix-show'): field 'key_points': List should "
            "have at most 6 items after validation, not 7.",
        ),
    ],
)
def test_a_mistake_is_one_sentence_naming_the_field_and_nothing_is_written(coach, changes, expected):
    with pytest.raises(CoachBankError) as caught:
        coach.save(draft(**changes))
    assert str(caught.value) == expected
    assert not coach_bank_path().exists()


# --- collisions ---------------------------------------------------------------------------------------------


def test_an_id_of_the_bank_or_of_another_own_question_is_refused(coach):
    with pytest.raises(CoachBankError) as caught:
        coach.save(draft(id="overfitting"))
    assert (
        str(caught.value)
        == "Not saved: the id 'overfitting' is already a question of the bank: choose another id."
    )
    coach.save(draft(id="mine"))
    other = coach.save(draft(question="What is precision?"))
    with pytest.raises(CoachBankError, match="^Not saved: you already have a question with the id 'mine'.$"):
        coach.save(draft(id="mine"), replacing=other.id)
    assert [q.id for q in coach.questions()] == ["mine", other.id]


def test_an_id_the_bank_took_later_is_one_sentence_when_loading_and_listed_as_a_clash(coach, bank_dir):
    coach.save(draft(id="precision"))
    write(bank_dir / "more.yaml", OTHER_TRACK.replace("id: fair-model", "id: precision"))  # an update
    with pytest.raises(BankError) as caught:
        load_with_coach(bank_dir)
    assert caught.value.problems == [
        f"{coach_bank_path()}: question 'precision': duplicate id, already used in {bank_dir / 'more.yaml'}"
    ]
    assert CoachBank(load_bank(bank_dir)).clashes() == ["precision"]


def test_the_shipped_bank_is_never_written(tmp_path):
    shipped = packaged_bank_dir()

    def fingerprint():
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(shipped.iterdir())}

    before = fingerprint()
    coach = CoachBank(load_bank(shipped))
    saved = coach.save(draft())
    coach.import_file("more.yaml", coach.export_yaml().replace(saved.id, "coach-second").encode())
    coach.save(draft(level="expert"), replacing=saved.id)
    coach.delete("coach-second")
    assert fingerprint() == before
    assert coach_bank_path().parent == tmp_path  # the coach's file, not the shipped folder
    merged = load_with_coach(shipped)
    assert len(merged) == len(load_bank(shipped)) + 1 and merged.tracks[TRACK].source == coach_bank_path()


# --- the file -----------------------------------------------------------------------------------------------


def test_a_failed_write_keeps_the_old_file_and_is_one_sentence(coach, monkeypatch):
    coach.save(draft())
    before = coach_bank_path().read_bytes()

    def full_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(coach_bank.os, "replace", full_disk)
    with pytest.raises(CoachBankError) as caught:
        coach.save(draft(question="What is recall?"))
    assert str(caught.value) == "Your questions could not be saved: No space left on device."
    assert coach_bank_path().read_bytes() == before
    assert [p.name for p in coach_bank_path().parent.iterdir() if p.name.startswith(".")] == []


def test_a_file_damaged_by_hand_is_named_without_its_folder_and_never_overwritten(coach):
    coach_bank_path().write_text("track: coach\ntitle: T\nquestions:\n  - id: x\n    level: hard\n")
    with pytest.raises(CoachBankError) as caught:
        coach.questions()
    message = str(caught.value)
    assert message.startswith(
        "Your questions file cannot be read, so nothing can be changed until it is fixed: "
    )
    assert (
        f"{FILE_NAME}: question 'x': field 'level'" in message
        and str(coach_bank_path().parent) not in message
    )
    with pytest.raises(CoachBankError):
        coach.save(draft())
    assert "level: hard" in coach_bank_path().read_text()


def test_the_stamp_changes_with_each_save(coach):
    assert coach_bank.stamp() is None
    coach.save(draft())
    first = coach_bank.stamp()
    coach.save(draft(question="What is recall?"))
    assert first is not None and coach_bank.stamp() != first


def test_the_file_is_parsed_only_when_changed_from_elsewhere(coach, monkeypatch):
    reads = []
    real = coach_bank.load_track_file
    monkeypatch.setattr(coach_bank, "load_track_file", lambda path: reads.append(path) or real(path))
    coach.save(draft(key_points=(KeyPoint("Uses a  Table ", ("TP",)),)))
    coach.save(draft(question="  What is\nrecall?  ", key_points=()))
    saved = coach.questions()
    assert saved == coach.questions() == CoachBank(coach.bank).questions() and reads == []
    coach_bank._READ.clear()
    assert (
        CoachBank(coach.bank).questions() == saved and len(reads) == 1
    )  # what a save keeps is what it wrote
    coach_bank_path().write_text(coach_bank_path().read_text().replace("level: basic", "level: expert"))
    assert {q.level for q in coach.questions()} == {"expert"} and len(reads) == 2


def test_saves_from_several_sessions_at_once_all_land(coach):
    start = threading.Barrier(8)

    def save(i: int) -> None:
        start.wait()
        coach.save(draft(question=f"Question number {i}?"))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(coach.questions()) == 8


# --- import -------------------------------------------------------------------------------------------------


def test_csv_import_adds_questions_with_key_points_terms_and_follow_ups(coach):
    data = csv_bytes(
        ROW
        | {
            "id": "k-fold",
            "key_point_1": "Every row is used for testing once",
            "terms_1": "Folds, k-fold",
            "follow_up_1": "How many folds?",
            "key_point_2": "Averages the scores",
        },
        ROW | {"question": "What is a baseline?", "kind": "scenario"},
    )
    result = coach.import_file("questions.csv", data)
    assert result.summary() == "Imported 2 questions: 2 added."
    k_fold, baseline = coach.questions()
    assert k_fold.key_points == (
        KeyPoint("Every row is used for testing once", ("folds", "k-fold"), "How many folds?"),
        KeyPoint("Averages the scores"),
    )
    assert (
        baseline.id == "coach-what-is-a-baseline"
        and baseline.kind == "scenario"
        and baseline.key_points_derived
    )


def test_an_import_with_bad_rows_saves_none_and_names_each_row_and_field(coach):
    coach.save(draft(id="mine"))
    before = coach_bank_path().read_bytes()
    data = (
        csv_bytes(
            ROW | {"id": "good"},
            ROW | {"id": "bad-level", "level": "hard"},
            ROW | {"id": "overfitting"},
            ROW | {"id": "good"},
            ROW | {"id": "no-text", "terms_1": "orphan"},
        )
        + b"a,b,c,d,e,f,g\n"
    )
    with pytest.raises(ImportRefused) as caught:
        coach.import_file("questions.csv", data)
    assert caught.value.problems == [
        "Row 3 (question 'bad-level'): field 'level': Input should be 'basic', 'intermediate', 'advanced' or "
        "'expert' (got 'hard').",
        "Row 4: the id 'overfitting' is already a question of the bank: choose another id.",
        "Row 5: the id 'good' is used by an earlier row too.",
        "Row 6 (question 'no-text'): key point 1, field 'text': String should have at least 1 character.",
        "Row 7: it has 7 values for 6 columns.",
    ]
    assert coach_bank_path().read_bytes() == before


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("q.txt", b"x", "Import a .csv file or a .yaml file in the question bank's format."),
        ("q.csv", b"\xff\xfe", "The file is not UTF-8 text: save it as UTF-8 and import it again."),
        ("q.csv", b"", "The file is empty: the first row must name the columns."),
        (
            "q.csv",
            b"question,model_answer,level\n",
            "The file has no 'topic' column; level, topic, question, model_answer are needed.",
        ),
        (
            "q.csv",
            b"question,answer\n",
            "The column 'answer' is not one this import knows: use id, level, topic, kind, question, "
            "model_answer, and key_point_N, terms_N and follow_up_N for N from 1 to 6.",
        ),
        ("q.csv", b"question,model_answer,level,topic\n\n", "The file has no questions in it."),
        (
            "q.yaml",
            b"questions: [a: 1\n",
            "The file is not valid YAML at line 2: expected ',' or ']', but got '<stream end>'.",
        ),
        (
            "q.yaml",
            b"just text",
            "The file is not in the question bank's format: it needs a list of questions.",
        ),
        ("q.csv", b"x" * (coach_bank.MAX_IMPORT_BYTES + 1), "The file is larger than the 2 MB limit."),
        (
            "q.yaml",
            b"q: &q {id: x}\nquestions: [" + b"*q, " * 1001 + b"]",
            "The file has 1,001 questions: import at most 1,000 at a time.",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_is_one_sentence(coach, name, data, expected):
    with pytest.raises(CoachBankError) as caught:
        coach.import_file(name, data)
    assert str(caught.value) == expected


THEIRS = """track: theirs
title: Theirs
questions:
  - id: validation
    level: intermediate
    topic: evaluation
    question: What is a validation set for?
    model_answer: It is held out from training. It tunes hyperparameters.
  - id: leakage
    level: advanced
    topic: data
    question: What is data leakage?
    model_answer: Information from the test set reaches training.
    key_points: [Test information reaches training]
"""


def test_yaml_import_takes_a_bank_file_or_a_bare_list_and_replaces_own_ids(coach):
    coach.save(draft(id="validation"))
    result = coach.import_file("theirs.yaml", THEIRS.encode())
    assert result.summary() == "Imported 2 questions: 1 added, 1 replaced (validation)."
    validation, leakage = coach.questions()
    assert validation.level == "intermediate" and leakage.key_points == (
        KeyPoint("Test information reaches training"),
    )
    assert {validation.track, leakage.track} == {TRACK}  # the file's track is not kept
    with pytest.raises(ImportRefused) as caught:
        coach.import_file("list.yml", b"- id: a\n  level: basic\n- plain text\n")
    assert caught.value.problems == [
        "Question 1 (question 'a'): field 'topic': Field required.",
        "Question 2: it is not a question (a mapping with id, level, topic, question and model_answer).",
    ]


# --- export -------------------------------------------------------------------------------------------------


def test_exported_yaml_is_a_bank_file_and_csv_round_trips(coach, tmp_path):
    coach.save(draft())
    coach.save(draft(question="=HYPERLINK(1)?", model_answer="-1 is\nless than zero.", key_points=()))
    folder = tmp_path / "exported"
    write(folder / "coach.yaml", coach.export_yaml())
    assert list(load_bank(folder)) == coach.questions()
    rows = list(csv.DictReader(io.StringIO(coach.export_csv())))
    assert tuple(rows[0]) == coach_bank.CSV_COLUMNS
    assert rows[1]["question"] == "'=HYPERLINK(1)?" and rows[1]["key_point_1"] == ""  # derived: left empty
    assert rows[0]["terms_1"] == "table, labels" and rows[0]["follow_up_1"] == "Which counts?"
    before = coach.questions()
    result = coach.import_file("again.csv", coach.export_csv().encode())
    assert result.summary() == "Imported 2 questions: 0 added, 2 already the same."
    assert coach.questions() == before


# --- practised and graded at once --------------------------------------------------------------------------


def test_a_new_question_is_practisable_and_gradable_at_once(coach, bank_dir, tmp_path):
    saved = coach.save(draft(topic="metrics"))
    bank = load_with_coach(bank_dir)
    assert bank.topics(track=TRACK, level="basic") == ["metrics"]
    assert sessions.choose_questions(bank, track=TRACK, level="basic", topics=["metrics"], count=3) == [saved]

    answers = write(
        tmp_path / "answers.csv", f"question_id,answer\n{saved.id},it counts predictions against labels\n"
    )
    summary = grade_file(
        answers,
        tmp_path / "graded.csv",
        bank=bank,
        scorer=lambda: CoverageScorer(FakeEmbedder()),
        transcriber=lambda: pytest.fail("typed answers need no recogniser"),
    )
    assert summary.failed == [] and summary.graded == 1
    with (tmp_path / "graded.csv").open(newline="") as f:
        (row,) = csv.DictReader(f)
    assert row["status"] == "ok" and float(row["coverage"]) > 0


def test_the_practice_command_sees_the_coachs_questions(coach, bank_dir, tmp_path):
    saved = coach.save(draft())
    runner = CliRunner()
    listed = runner.invoke(main, ["bank", "list", "--bank", str(bank_dir), "--track", TRACK, "--json"])
    assert [r["id"] for r in json.loads(listed.stdout)] == [saved.id]
    checked = runner.invoke(main, ["bank", "check", str(bank_dir)])
    assert checked.exit_code == 0
    assert checked.stdout.strip().endswith(f"1 of them the coach's ({coach_bank_path()})")
    answers = write(tmp_path / "answers.csv", f"question_id,answer\n{saved.id},counts predictions\n")
    with scoring.scorer_in_use(CoverageScorer(FakeEmbedder())):
        graded = runner.invoke(
            main, ["grade", str(answers), "-o", str(tmp_path / "out.csv"), "--bank", str(bank_dir)]
        )
    assert graded.exit_code == 0 and "Graded 1 of 1 rows" in graded.stderr


def test_the_practice_command_names_a_clash_in_one_line(coach, bank_dir):
    coach.save(draft(id="clash"))
    bank_dir.joinpath("mine.yaml").write_text(BANK.replace("id: overfitting", "id: clash"))
    result = CliRunner().invoke(main, ["bank", "list", "--bank", str(bank_dir)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: Invalid question bank: {coach_bank_path()}: question 'clash': duplicate id, already used in "
        f"{bank_dir / 'mine.yaml'}\n"
    )
