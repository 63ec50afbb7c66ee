"""The evidence formula's contradiction checks, with the fake embedder: fast, no model."""

from __future__ import annotations

import numpy as np
import pytest

from practice.bank import KeyPoint, make_question
from practice.scoring import CoverageScorer, ScoringConfig
from practice.scoring.text import comparison, negation_scope, swapped_comparison, words

POINT = "a forest is slower than a tree"


@pytest.mark.parametrize(
    "window, swapped",
    [
        ("a tree is slower than a forest", True),  # sides turned round
        ("a forest is faster than a tree", True),  # opposite comparative
        ("the tree is faster than the forest", False),  # both: the same claim
        ("the forest is slower than the tree", False),  # the same claim
        ("i think forests are slow", None),  # no comparison to check
        ("a forest is bigger than a tree", None),  # another comparison
    ],
)
def test_swapped_comparison(window, swapped):
    assert swapped_comparison(words(POINT), words(window)) is swapped


def test_comparison_sides():
    assert comparison(words(POINT)) == (frozenset({"forest"}), "slower", frozenset({"tree"}))
    assert comparison(words("than that")) is None


@pytest.mark.parametrize(
    "text, negated",
    [
        ("because there was no gap between them", True),
        ("the gap is there and it is not about the wires", False),  # "not" is about something else
        ("it doesn't have a gap", True),
        ("there is a gap", False),
    ],
)
def test_negation_is_scoped_to_the_points_words(text, negated):
    assert negation_scope(words(text), {"gap"}) is negated


QUESTION = make_question(
    id="bulb",
    question="Why did you get a voltage reading of 1.5 between terminal 1 and the positive terminal?",
    model_answer="unused",
    key_points=[
        KeyPoint("Terminal 1 is separated from the positive terminal by a gap"),
        KeyPoint("A forest is slower than a tree"),
    ],
)


@pytest.fixture
def scorer(fake_embedder):
    return CoverageScorer(fake_embedder)


def flags(scorer, answer, point):
    parts = scorer.components(QUESTION, answer)
    best = int(np.argmax(parts.similarity[point]))
    return bool(parts.negated[point, best]), bool(parts.inverted[point, best])


def test_contradictions_are_flagged_in_the_matched_window(scorer):
    assert flags(scorer, "terminal 1 is separated from the positive terminal by a gap", 0) == (False, False)
    assert flags(scorer, "there is no gap between terminal 1 and the positive terminal", 0) == (True, False)
    assert flags(scorer, "a tree is slower than a forest", 1) == (False, True)
    assert flags(scorer, "the tree is faster than the forest", 1) == (False, False)


def test_contradicting_answers_are_not_covered(scorer):
    claim = scorer.score(QUESTION, "a forest is slower than a tree").key_points[1]
    for answer in ("a tree is slower than a forest", "a forest is faster than a tree"):
        result = scorer.score(QUESTION, answer).key_points[1]
        assert result.contradicted
        assert result.status != "covered"
        assert result.score < claim.score
    assert claim.status == "covered" and not claim.contradicted
    same = scorer.score(QUESTION, "the tree is faster than the forest").key_points[1]
    assert same.status == "covered" and not same.contradicted


def test_without_the_inversion_rule_only_the_penalty_remains(fake_embedder):
    old = CoverageScorer(fake_embedder, ScoringConfig.formula(inverted_factor=1.0))
    result = old.score(QUESTION, "a tree is slower than a forest").key_points[1]
    assert result.contradicted and result.status == "covered"  # what the scorer did before
