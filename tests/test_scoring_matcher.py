"""The learned matcher and the contradiction checks, with the fake embedder: fast, no model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from practice.bank import KeyPoint, make_question
from practice.scoring import CoverageScorer, ScoringConfig
from practice.scoring.matcher import FEATURES, Matcher, default_matcher
from practice.scoring.text import comparison, negation_scope, swapped_comparison, words

POINT = "a paperclip is softer than a penny"


@pytest.mark.parametrize(
    "window, swapped",
    [
        ("a penny is softer than a paperclip", True),  # sides turned round
        ("a paperclip is harder than a penny", True),  # opposite comparative
        ("the penny is harder than the paperclip", False),  # both: the same claim
        ("the paperclip is softer than the penny", False),  # the same claim
        ("i think paperclips are soft", None),  # no comparison to check
        ("a paperclip is bigger than a penny", None),  # another comparison
    ],
)
def test_swapped_comparison(window, swapped):
    assert swapped_comparison(words(POINT), words(window)) is swapped


def test_comparison_sides():
    assert comparison(words(POINT)) == (frozenset({"paperclip"}), "softer", frozenset({"penni"}))
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
        KeyPoint("A paperclip is softer than a penny"),
    ],
)


@pytest.fixture(params=["formula", "learned"])
def scorer(fake_embedder, request):
    config = ScoringConfig.formula() if request.param == "formula" else ScoringConfig.learned()
    return CoverageScorer(fake_embedder, config)


def flags(scorer, answer, point):
    parts = scorer.components(QUESTION, answer)
    best = int(np.argmax(parts.similarity[point]))
    return bool(parts.negated[point, best]), bool(parts.inverted[point, best])


def test_contradictions_are_flagged_in_the_matched_window(scorer):
    assert flags(scorer, "terminal 1 is separated from the positive terminal by a gap", 0) == (False, False)
    assert flags(scorer, "there is no gap between terminal 1 and the positive terminal", 0) == (True, False)
    assert flags(scorer, "a penny is softer than a paperclip", 1) == (False, True)
    assert flags(scorer, "the penny is harder than the paperclip", 1) == (False, False)


def test_contradicting_answers_are_not_covered(scorer):
    claim = scorer.score(QUESTION, "a paperclip is softer than a penny").key_points[1]
    for answer in ("a penny is softer than a paperclip", "a paperclip is harder than a penny"):
        result = scorer.score(QUESTION, answer).key_points[1]
        assert result.contradicted
        assert result.status != "covered"
        assert result.score < claim.score
    assert claim.status == "covered" and not claim.contradicted
    same = scorer.score(QUESTION, "the penny is harder than the paperclip").key_points[1]
    assert same.status == "covered" and not same.contradicted


def test_features_have_one_column_per_matcher_input(scorer):
    parts = scorer.components(QUESTION, "there is a gap so the terminals are not connected at all")
    features = parts.features(ScoringConfig())
    assert features.shape == (*parts.similarity.shape, len(FEATURES))
    column = dict(zip(FEATURES, np.moveaxis(features, -1, 0), strict=True))
    assert np.allclose(column["similarity"], parts.similarity)
    assert np.allclose(column["lexical_x_similarity"], parts.lexical * parts.similarity)
    assert np.allclose(column["log_length"], np.log(parts.length)[None, :])
    excess = np.maximum(0, parts.to_question[None, :] - parts.similarity)
    assert np.allclose(column["question_excess"], excess)


def test_bundled_matcher_reads_evidence_the_right_way_round():
    m = default_matcher()
    coef = dict(zip(m.features, m.coef, strict=True))
    assert coef["topic_free"] > 0 and coef["lexical"] > 0
    assert coef["negated"] < 0 and coef["inverted"] < 0 and coef["question_excess"] < 0
    assert "SemEval" in m.note and "ArgKP" in m.note


def test_matcher_round_trips_through_json_and_checks_its_features():
    m = default_matcher()
    again = Matcher.from_json(m.to_json())
    x = np.random.default_rng(0).normal(size=(5, len(FEATURES))).astype(np.float32)
    assert np.allclose(again.probability(x), m.probability(x), atol=1e-5)
    with pytest.raises(ValueError, match="do not match"):
        Matcher(("similarity",), (1.0,), 0.0)


def test_decision_follows_the_configured_matcher_and_thresholds(scorer, fake_embedder):
    answer = "terminal 1 is separated from the positive terminal by a gap"
    assert scorer.score(QUESTION, answer).key_points[0].status == "covered"
    zero = Matcher(FEATURES, (0.0,) * len(FEATURES), 0.0)  # every window: probability 0.5
    undecided = CoverageScorer(fake_embedder, ScoringConfig.learned(matcher=zero, covered=0.6, partial=0.4))
    result = undecided.score(QUESTION, answer)
    assert [k.status for k in result.key_points] == ["partial", "partial"]
    assert [k.score for k in result.key_points] == pytest.approx([0.5, 0.5])
    assert result.coverage == pytest.approx(50.0)


def test_the_default_is_the_formula_and_the_learned_matcher_is_opt_in():
    assert ScoringConfig() == ScoringConfig.formula()
    assert (ScoringConfig().method, ScoringConfig().covered, ScoringConfig().partial) == (
        "formula",
        0.40,
        0.32,
    )
    learned = ScoringConfig.learned()
    assert learned.method == "learned" and learned.partial < learned.covered
    assert replace(learned, covered=0.5).method == "learned"
    assert learned.resolved_matcher() is default_matcher()


def test_without_the_inversion_rule_only_the_penalty_remains(fake_embedder):
    old = CoverageScorer(fake_embedder, ScoringConfig.formula(inverted_factor=1.0))
    result = old.score(QUESTION, "a penny is softer than a paperclip").key_points[1]
    assert result.contradicted and result.status == "covered"  # what the scorer did before
