"""Choosing a session's questions: every due weak question, and one sentence when fewer match than asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from practice import sessions
from practice.bank import load_bank
from practice.scoring.coverage import CoverageScorer
from practice.storage import open_store
from tests.conftest import BANK, FakeEmbedder, write


@pytest.fixture
def bank(tmp_path):
    return load_bank(write(tmp_path / "bank" / "mine.yaml", BANK).parent)


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as s:
        yield s


def answered(store, bank, when: datetime, answers: dict[str, str]) -> None:
    scorer = CoverageScorer(FakeEmbedder())
    for qid, text in answers.items():
        question = bank.get(qid)
        attempt = store.add_attempt("Ada", question, answer_mode="typed", answer_text=text, created_at=when)
        store.set_result(attempt.id, scorer.score(question, text))


def test_a_weak_session_can_hold_every_due_weak_question(bank, store):
    now = datetime.now(UTC)
    mastered = bank.get("test-set").model_answer
    answered(store, bank, now - timedelta(days=3), {"validation-set": "no idea", "overfitting": "no idea"})
    answered(store, bank, now - timedelta(days=3), {"test-set": mastered})
    answered(store, bank, now, {"attention": "no idea"})  # weak, but due tomorrow
    attempts = store.attempts(candidate="Ada")
    due = sessions.weak_questions(bank, attempts, count=None, now=now)
    assert sorted(q.id for q in due) == ["overfitting", "validation-set"]
    assert sessions.weak_questions(bank, attempts, count=1, now=now) == due[:1]


@pytest.mark.parametrize(
    ("asked", "found", "topics", "expected"),
    [
        (
            5,
            1,
            ["generalisation"],
            "Only 1 question matches track Mine, level basic, topic generalisation; starting with 1.",
        ),
        (
            5,
            2,
            ["evaluation"],
            "Only 2 questions match track Mine, level basic, topic evaluation; starting with 2.",
        ),
        (5, 3, [], "Only 3 questions match track Mine, level basic; starting with 3."),
        (
            9,
            3,
            ["evaluation", "generalisation"],
            "Only 3 questions match track Mine, level basic, topics "
            "evaluation or generalisation; starting with 3.",
        ),
        (2, 2, ["evaluation"], None),  # as many as asked: nothing to say
        (5, 0, ["evaluation"], None),  # none at all: the page says that in its own words
    ],
)
def test_fewer_matches_than_asked_is_said_in_one_sentence(
    asked: int, found: int, topics: list[str], expected: str | None
) -> None:
    assert sessions.shortfall_note(asked, found, track="Mine", level="basic", topics=topics) == expected
