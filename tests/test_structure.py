"""STAR structure of behavioural answers: the reader with a fake judge, its report, and the labelled set."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench.evalset import EvalSetError, load_structure_set
from practice.assess import assess_text
from practice.bank import load_bank, make_question
from practice.scoring.coverage import CoverageScorer
from practice.scoring.results import Score
from practice.scoring.structure import (
    ADVICE,
    COMPONENTS,
    CUES,
    DESCRIPTIONS,
    Part,
    Span,
    StructureConfig,
    StructureReader,
    StructureReport,
    answer_windows,
    most_missing,
)
from practice.storage import codec, open_store
from tests.conftest import FakeJudge, write

# Statements the fake judge finds only in the words of their own part (it wants most content words).
WORDS = {
    "situation": ("retailer forecasting team",),
    "task": ("job find cause",),
    "action": ("compared distributions retrained",),
    "result": ("error fell percent",),
}
STORY = (
    "At an online retailer our forecasting team had a model that went wrong. "
    "My job was to find the cause quickly. "
    "I compared the feature distributions and retrained it. "
    "The error fell to eight percent."
)


def reader(judge=None, cue_weight=0.0, **thresholds) -> StructureReader:
    config = StructureConfig(
        window_sizes=(8,), cue_weight=cue_weight, **{c: 0.5 for c in COMPONENTS} | thresholds
    )
    return StructureReader(judge or FakeJudge(), config, WORDS)


def test_a_full_story_has_all_four_parts_with_their_words():
    report = reader().read(STORY)
    assert [p.present for p in report.parts] == [True] * 4
    assert report.line() == "Situation ✓ Task ✓ Action ✓ Result ✓" and report.advice() is None
    for part, words in zip(report.parts, ("retailer", "job", "compared", "error"), strict=True):
        assert words in part.evidence.text.lower()
        assert STORY[part.evidence.start : part.evidence.end] == part.evidence.text
        assert part.probability == pytest.approx(0.9)


def test_a_story_without_its_result_misses_only_the_result_and_says_what_to_add():
    report = reader().read(STORY.rsplit(".", 2)[0] + ".")
    assert report.missing == ["result"]
    assert report.line() == "Situation ✓ Task ✓ Action ✓ Result ✗"
    assert report.advice() == ADVICE["result"]
    assert report.part("result").evidence is None and report.part("result").probability < 0.5


def test_a_part_is_present_only_at_its_own_threshold():
    assert reader(action=0.95).read(STORY).missing == ["action"]


def test_a_parts_probability_is_the_mean_over_its_statements():
    two = {**WORDS, "task": ("job find cause", "unrelated words entirely")}
    report = StructureReader(FakeJudge(), reader().config, two).read(STORY)
    assert report.part("task").probability == pytest.approx((0.9 + 0.05) / 2)
    assert not report.part("task").present


class Fixed:
    """A judge giving every pair the same P(states)."""

    def __init__(self, p: float):
        self.p = p

    def judge(self, pairs):
        return np.tile([1 - self.p, self.p, 0.0], (len(pairs), 1)).astype(np.float32)


def test_the_words_a_part_is_said_in_lift_a_window_the_judge_half_supports():
    told = "We had a model and the data was odd. In the end the error went down a lot."
    assert reader(Fixed(0.3), cue_weight=0.0).read(told).part("result").present is False
    result = reader(Fixed(0.3), cue_weight=0.3).read(told).part("result")
    assert result.present and result.cue and result.probability == pytest.approx(0.3)
    assert "in the end" in result.evidence.text.lower()
    assert reader(Fixed(0.1), cue_weight=0.3).read(told).part("result").present is False


class Prefers:
    """A judge reading only spans with `word` as stating anything."""

    def __init__(self, word: str):
        self.word = word

    def judge(self, pairs):
        return np.array([[0.5, 0.5, 0.0] if self.word in span else [1.0, 0.0, 0.0] for _, span in pairs])


def test_the_evidence_is_the_window_with_most_of_the_parts_words_whatever_the_judge_prefers():
    told = (
        "Last year at an online shop our recommendation model got worse and nobody knew why at all. "
        "Then we compared the training data with last month's and found a broken feature in the logs."
    )
    situation = StructureReader(Prefers("broken"), StructureConfig(window_sizes=(12,))).read(told)
    assert situation.part("situation").evidence.text.startswith("Last year at an online shop")


@pytest.mark.parametrize(
    ("component", "said", "heard"),
    [
        ("situation", "last year at a small insurance broker we", True),
        ("situation", "at my previous job the team", True),
        ("situation", "overfitting is when the model memorises noise", False),
        ("task", "my job was to find the cause", True),
        ("task", "i was asked to give a talk", True),
        ("task", "the team shipped the model", False),
        ("action", "so i rebuilt the training set and retrained", True),
        ("action", "you should always use a validation set", False),
        ("result", "in the end the error went from twenty to eight", True),
        ("result", "the council adopted the random share", True),
        ("result", "we had a model for pricing", False),
    ],
)
def test_the_cue_words_of_each_part(component, said, heard):
    assert (CUES[component].search(said) is not None) is heard


def test_each_statement_is_read_against_every_window_once(fake_judge):
    windows = answer_windows(STORY, (8,))
    reader(fake_judge).read(STORY)
    assert len(fake_judge.pairs) == 4 * len(windows)
    assert {span for _, span in fake_judge.pairs} == {w.text for w in windows}


def test_hesitations_are_not_read_but_the_evidence_keeps_the_words_as_said():
    said = "um at an online retailer uh our forecasting team had a model"
    (window,) = answer_windows(said, (12,))
    assert window.text == "at an online retailer our forecasting team had a model"
    assert window.span == Span(said[3:], 3, len(said))


def test_an_answer_with_no_words_has_no_parts(fake_judge):
    report = reader(fake_judge).read("um ... uh")
    assert report.missing == list(COMPONENTS) and fake_judge.pairs == []


def test_the_shipped_reader_takes_a_part_from_its_words_or_from_a_judge_sure_of_it():
    plain = "There was a model and some data and then things were different."
    assert StructureReader(Fixed(0.99)).read(plain).missing == []
    assert StructureReader(Fixed(0.3)).read(plain).missing == list(COMPONENTS)
    worded = "At my last job I was asked to fix it, so I rebuilt it, and in the end it worked."
    assert StructureReader(Fixed(0.0)).read(worded).missing == []


def report(*missing: str) -> StructureReport:
    return StructureReport(tuple(Part(c, c not in missing, 0.5) for c in COMPONENTS))


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        ([], None),
        ([report()], None),
        ([report("result"), report("task", "result"), report("situation")], ("result", 2, 3)),
        ([report("task"), report("result")], ("task", 1, 2)),  # a tie: the part told first
    ],
)
def test_the_part_most_often_missing(reports, expected):
    assert most_missing(reports) == expected


# --- the labelled set in eval/structure/ -------------------------------------------------------------------


def test_the_labelled_set_loads_with_enough_answers_and_questions():
    answers = load_structure_set(load_bank(None))
    assert len(answers) >= 30 and len({a.question.id for a in answers}) >= 8
    assert all(a.question.kind == "behavioural" for a in answers)
    for k in range(len(COMPONENTS)):  # every part is both present and missing somewhere
        assert 0 < sum(a.labels[k] for a in answers) < len(answers)


SMALL_BANK = """track: mine
title: Mine
questions:
  - id: a-story
    level: basic
    topic: teamwork
    kind: behavioural
    question: Tell me about a time you fixed a model.
    model_answer: At a shop the model broke. I had to fix it. I retrained it. It worked again.
  - id: a-fact
    level: basic
    topic: evaluation
    question: What is a validation set for?
    model_answer: A validation set is held out from training to tune hyperparameters.
"""
ROW = """- id: a-story--full
  question_id: {question}
  style: full
  answer: At a shop the model broke.  I retrained it.
  situation: ["At a shop the model broke."]
  action: [{action}]
"""


@pytest.fixture
def small_bank(tmp_path):
    return load_bank(write(tmp_path / "bank" / "mine.yaml", SMALL_BANK).parent)


def test_a_labelled_answer_keeps_each_parts_words_as_offsets(small_bank, tmp_path):
    write(tmp_path / "eval" / "b.yaml", ROW.format(question="a-story", action='"I retrained\n    it"'))
    (answer,) = load_structure_set(small_bank, tmp_path / "eval")
    assert answer.answer == "At a shop the model broke. I retrained it."
    assert answer.labels == [True, False, True, False]
    ((start, end),) = answer.quotes["action"]
    assert answer.answer[start:end] == "I retrained it"


@pytest.mark.parametrize(
    ("question", "action", "message"),
    [
        ("a-fact", '"I retrained it"', "'a-fact', which is not behavioural"),
        ("nowhere", '"I retrained it"', "unknown question 'nowhere'"),
        ("a-story", '"I rebuilt it"', "quotes words for action that are not in its answer: 'I rebuilt it'"),
    ],
)
def test_a_labelled_answer_must_match_the_bank_and_its_own_words(
    small_bank, tmp_path, question, action, message
):
    write(tmp_path / "eval" / "b.yaml", ROW.format(question=question, action=action))
    with pytest.raises(EvalSetError, match=message):
        load_structure_set(small_bank, tmp_path / "eval")


# --- a behavioural answer's structure, from the scorer to the database and back ---------------------------

STORY_QUESTION = make_question(
    id="fixed-a-model",
    kind="behavioural",
    question="Tell me about a time you fixed a model.",
    model_answer="At a retailer the forecast broke. My job was to find the cause. I retrained it. It worked.",
)


@pytest.fixture
def judged_scorer(fake_embedder, fake_judge) -> CoverageScorer:
    return CoverageScorer(fake_embedder, judge=fake_judge)


def test_a_behavioural_answer_is_scored_with_its_structure_by_the_scorers_judge(judged_scorer, fake_judge):
    assessment = assess_text(STORY_QUESTION, STORY, judged_scorer)
    structure = assessment.score.structure
    assert structure is not None and [p.component for p in structure.parts] == list(COMPONENTS)
    assert any(point == DESCRIPTIONS["result"][0] for point, _ in fake_judge.pairs)
    assert [p["part"] for p in assessment.to_dict()["structure"]] == list(COMPONENTS)


def test_other_questions_and_a_scorer_without_a_judge_read_no_structure(judged_scorer, fake_embedder):
    technical = replace(STORY_QUESTION, kind="technical")
    assert assess_text(technical, STORY, judged_scorer).score.structure is None
    assert "structure" not in assess_text(technical, STORY, judged_scorer).to_dict()
    assert assess_text(STORY_QUESTION, STORY, CoverageScorer(fake_embedder)).score.structure is None


def test_the_structure_is_stored_with_the_attempt_and_read_back(tmp_path, judged_scorer):
    score = assess_text(STORY_QUESTION, STORY, judged_scorer).score
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        attempt = store.add_attempt("Ada", STORY_QUESTION, answer_mode="typed", answer_text=STORY)
        store.set_result(attempt.id, score)
        (saved,) = store.attempts(candidate="Ada")
    assert saved.score.structure == score.structure


def test_a_score_stored_before_structures_loads_without_one():
    old = {"question_id": "q", "coverage": 50.0, "word_count": 3, "key_points": []}
    assert codec.load_score(old) == Score("q", 50.0, (), 3)


def test_a_damaged_structure_is_dropped_and_the_score_kept():
    stored = codec.dump_score(Score("q", 50.0, (), 3, report("result")))
    assert codec.load_score(stored).structure == report("result")
    stored["structure"]["parts"] = stored["structure"]["parts"][:3]  # a part short
    assert codec.load_score(stored) == Score("q", 50.0, (), 3)
    stored["structure"] = "garbage"
    assert codec.load_score(stored) == Score("q", 50.0, (), 3)


# --- the real judge -----------------------------------------------------------------------------------------

CLEAR_STAR = (
    "Last spring at a travel booking startup, our hotel ranking model started showing sold-out rooms at the "
    "top of the results. My job was to find out why before the summer peak. I compared the training data "
    "with the live listings and found that availability was updated only once a day, so I added an hourly "
    "availability feature and retrained the model. As a result, clicks on sold-out rooms dropped by "
    "seventy percent and bookings went up four percent in the first month."
)
WITHOUT_RESULT = CLEAR_STAR.split(" As a result")[0]


@pytest.mark.models
def test_the_real_judge_finds_all_four_parts_of_a_clear_story_and_misses_a_result_left_out():
    from practice.scoring.judge import default_judge

    reader = StructureReader(default_judge())
    full = reader.read(CLEAR_STAR)
    assert full.missing == [], full
    assert "sold-out rooms dropped" in full.part("result").evidence.text
    assert reader.read(WITHOUT_RESULT).missing == ["result"]
