from __future__ import annotations

from pathlib import Path

import pytest

from practice.bank import (
    LEVELS,
    BankError,
    UnknownQuestionError,
    derive_key_points,
    load_bank,
    packaged_bank_dir,
)
from practice.scoring.text import words
from tests.conftest import BANK, OTHER_TRACK, write

GOOD_QUESTION = """
  - id: my-q
    level: basic
    topic: fundamentals
    kind: technical
    question: What is a validation set for?
    model_answer: It is held out from training. It is used to tune choices. It estimates generalisation.
    key_points:
      - text: Held out from training
        terms: [held out]
      - Used to tune hyperparameters
      - Estimates performance on unseen data
"""


def make_bank(tmp_path: Path, body: str, name: str = "mine.yaml") -> Path:
    write(tmp_path / name, body)
    return tmp_path


@pytest.fixture(scope="module")
def shipped():
    return load_bank(packaged_bank_dir())


def test_shipped_bank_is_valid_and_complete(shipped):
    assert len(shipped) >= 150
    assert set(shipped.tracks) == {
        "ai-model-designer",
        "data-science-genai",
        "ml-scenarios",
        "behavioural-ml-engineer",
        "quick-fire",
    }
    for q in shipped:
        assert 3 <= len(q.key_points) <= 6, q.id
        assert not q.key_points_derived, q.id
        if q.kind == "quick-fire":  # a sentence or two
            assert len(q.key_points) == 3 and 20 <= len(words(q.model_answer)) <= 60, q.id
        else:
            assert 80 <= len(words(q.model_answer)) <= 200, (q.id, len(words(q.model_answer)))
    levels = {q.level for q in shipped.select(track="ai-model-designer")}
    assert levels == set(LEVELS)


def test_shipped_quick_fire_questions_are_their_own_track(shipped):
    quick = [q for q in shipped if q.kind == "quick-fire"]
    assert len(quick) >= 25
    assert {q.track for q in quick} == {"quick-fire"}
    assert shipped.select(track="quick-fire") == quick


def test_every_shipped_behavioural_question_has_examples(shipped):
    missing = [q.id for q in shipped if q.kind == "behavioural" and q.examples is None]
    assert not missing


def test_shipped_examples_tell_one_story_plainly_and_polished(shipped):
    with_examples = [q for q in shipped if q.examples is not None]
    for q in with_examples:
        assert q.kind == "behavioural", q.id
        plain, strong = len(words(q.examples.plain)), len(words(q.examples.strong))
        # the plain telling is the short, flat one; the strong one is a full spoken STAR answer
        assert 25 <= plain < strong <= 180, (q.id, plain, strong)


def test_shipped_key_points_are_distinct_within_a_question(shipped):
    for q in shipped:
        texts = [k.text.lower() for k in q.key_points]
        assert len(set(texts)) == len(texts), q.id


def test_select_filters_by_track_level_topic(shipped):
    picked = shipped.select(track="ai-model-designer", level="basic")
    assert picked and all(q.track == "ai-model-designer" and q.level == "basic" for q in picked)
    topic = picked[0].topic
    assert all(q.topic == topic for q in shipped.select(topics=[topic]))


def test_topics_are_those_of_the_chosen_track_and_level(tmp_path):
    write(tmp_path / "other.yaml", OTHER_TRACK)
    bank = load_bank(make_bank(tmp_path, BANK))
    assert bank.topics() == ["ethics", "evaluation", "generalisation", "transformers"]
    assert bank.topics(track="mine") == ["evaluation", "generalisation", "transformers"]
    assert bank.topics(track="mine", level="basic") == ["evaluation", "generalisation"]
    assert bank.topics(track="other", level="basic") == ["ethics"]
    assert bank.topics(track="other", level="advanced") == []


def test_unknown_id_suggests_close_ids(shipped):
    some = next(iter(shipped)).id
    with pytest.raises(UnknownQuestionError) as info:
        shipped.get(some[:-2])
    assert some in info.value.suggestions
    assert "did you mean" in str(info.value)


def test_custom_bank_loads_plain_string_key_points(tmp_path):
    bank = load_bank(make_bank(tmp_path, "track: mine\ntitle: Mine\nquestions:" + GOOD_QUESTION))
    q = bank.get("my-q")
    assert [k.text for k in q.key_points][1] == "Used to tune hyperparameters"
    assert q.key_points[0].terms == ("held out",)


def test_omitted_key_points_are_derived_from_the_model_answer(tmp_path):
    body = "track: mine\ntitle: Mine\nquestions:" + GOOD_QUESTION.split("    key_points:")[0]
    q = load_bank(make_bank(tmp_path, body)).get("my-q")
    assert q.key_points_derived
    assert [k.text for k in q.key_points] == [
        "It is held out from training.",
        "It is used to tune choices.",
        "It estimates generalisation.",
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("One sentence only.", 1),
        ("A. B. C.", 3),
        (" ".join(f"Sentence {i}." for i in range(13)), 6),
    ],
)
def test_derive_key_points_counts(answer, expected):
    points = derive_key_points(answer)
    assert len(points) == expected
    assert " ".join(p.text for p in points) == answer


def test_bare_list_file_uses_file_name_as_track(tmp_path):
    bank = load_bank(
        make_bank(
            tmp_path, GOOD_QUESTION.replace("\n  - ", "\n- ").replace("\n    ", "\n  "), "coach-set.yaml"
        )
    )
    assert bank.get("my-q").track == "coach-set"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda s: s.replace("level: basic", "level: hard"),
            "question 'my-q': field 'level': Input should be 'basic'",
        ),
        (
            lambda s: s.replace("    question: What is a validation set for?\n", ""),
            "question 'my-q': field 'question': Field required",
        ),
        (
            lambda s: s.replace("id: my-q", "id: My Q!"),
            "question 'My Q!': field 'id': Value error, expected a slug",
        ),
        (lambda s: s.replace("- id: my-q\n    level", "- level"), "question #1: field 'id': Field required"),
        (lambda s: s.replace("kind: technical", "kind: chat"), "field 'kind'"),
        (lambda s: s + "    colour: blue\n", "field 'colour': Extra inputs are not permitted"),
        (
            lambda s: s.replace(
                "      - Used to tune hyperparameters\n", "      - Used to tune hyperparameters\n" * 6
            ),
            "field 'key_points'",
        ),
    ],
)
def test_malformed_question_names_file_id_and_field(tmp_path, mutate, expected):
    root = make_bank(tmp_path, "track: mine\ntitle: Mine\nquestions:" + mutate(GOOD_QUESTION))
    with pytest.raises(BankError) as info:
        load_bank(root)
    message = str(info.value)
    assert "mine.yaml" in message
    assert expected in message


QUICK = """
  - id: quick-q
    level: basic
    topic: deep-learning
    kind: quick-fire
    question: What does dropout do?
    model_answer: It switches off random neurons while training, which reduces overfitting.
    key_points:
      - Switches off random neurons while training
      - Reduces overfitting
"""

EXAMPLES = """    examples:
      plain: I fixed the model. It was better after.
      strong: I traced the drop to a broken feature, fixed it, and accuracy recovered by five points.
"""


def test_quick_fire_and_examples_load_as_their_own_fields(tmp_path):
    story = GOOD_QUESTION.replace("kind: technical", "kind: behavioural") + EXAMPLES
    bank = load_bank(make_bank(tmp_path, "track: mine\ntitle: Mine\nquestions:" + QUICK + story))
    assert bank.get("quick-q").kind == "quick-fire" and len(bank.get("quick-q").key_points) == 2
    assert bank.get("quick-q").examples is None
    examples = bank.get("my-q").examples
    assert examples.plain == "I fixed the model. It was better after."
    assert examples.strong.startswith("I traced the drop")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            QUICK + "      - Keeps every neuron at inference\n      - Acts like an ensemble\n",
            "question 'quick-q': field 'key_points': Value error, a quick-fire question has at most 3 key "
            "points, not 4",
        ),
        (
            QUICK.replace("which reduces overfitting.", "which reduces overfitting" + " again" * 60 + "."),
            "question 'quick-q': field 'model_answer': Value error, a quick-fire model answer is a sentence "
            "or two, at most 60 words, not 70",
        ),
        (
            GOOD_QUESTION + EXAMPLES,
            "question 'my-q': field 'examples': Value error, a plain and a strong example answer are for "
            "behavioural questions, not technical",
        ),
        (
            GOOD_QUESTION.replace("kind: technical", "kind: behavioural")
            + EXAMPLES.replace("      strong:", "      polished:"),
            "question 'my-q': field 'examples.strong': Field required",
        ),
    ],
)
def test_quick_fire_and_examples_are_checked(tmp_path, body, expected):
    with pytest.raises(BankError) as info:
        load_bank(make_bank(tmp_path, "track: mine\ntitle: Mine\nquestions:" + body))
    assert expected in str(info.value)


def test_invalid_yaml_names_the_line(tmp_path):
    root = make_bank(tmp_path, "track: mine\ntitle: [unclosed\nquestions: []\n")
    with pytest.raises(BankError, match=r"mine.yaml line \d+: not valid YAML"):
        load_bank(root)


def test_duplicate_ids_across_files_are_rejected(tmp_path):
    write(tmp_path / "a.yaml", "track: a\ntitle: A\nquestions:" + GOOD_QUESTION)
    write(tmp_path / "b.yaml", "track: b\ntitle: B\nquestions:" + GOOD_QUESTION)
    with pytest.raises(BankError, match=r"b.yaml: question 'my-q': duplicate id, already used in .*a.yaml"):
        load_bank(tmp_path)


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: p / "missing", "no such bank folder"),
        (lambda p: p, "no .yaml files"),
        (lambda p: write(p / "x.yaml", "just a string").parent, "expected a mapping"),
        (lambda p: write(p / "x.yaml", "track: x\ntitle: X\nquestions: []\n").parent, "field 'questions'"),
        (lambda p: (write(p / "x.yaml", "").write_bytes(b"\xff\xfe\x00bad"), p)[1], "cannot be read"),
    ],
)
def test_unusable_bank_folders(tmp_path, setup, expected):
    with pytest.raises(BankError, match=expected):
        load_bank(setup(tmp_path))


def test_every_problem_is_reported(tmp_path):
    write(tmp_path / "a.yaml", "track: a\ntitle: A\nquestions:" + GOOD_QUESTION.replace("basic", "hard"))
    write(
        tmp_path / "b.yaml",
        "track: b\ntitle: B\nquestions:" + GOOD_QUESTION.replace("fundamentals", "Bad Topic"),
    )
    with pytest.raises(BankError) as info:
        load_bank(tmp_path)
    assert len(info.value.problems) == 2


def test_env_var_points_at_a_custom_bank(tmp_path, monkeypatch):
    make_bank(tmp_path, "track: mine\ntitle: Mine\nquestions:" + GOOD_QUESTION)
    monkeypatch.setenv("PRACTICE_BANK_DIR", str(tmp_path))
    assert list(load_bank().questions) == ["my-q"]
