"""Scoring logic with a fake embedder (bag of words): fast, no model."""

from __future__ import annotations

import pytest

from practice.bank import KeyPoint, make_question
from practice.scoring import CoverageScorer, EmptyAnswerError, ScoringConfig

QUESTION = make_question(
    id="overfit",
    question="What is overfitting and how would you prevent it?",
    model_answer="unused",
    key_points=[
        KeyPoint("Model memorises noise in the training data", ("memorise", "noise")),
        KeyPoint("Regularisation such as dropout or weight decay", ("dropout", "weight decay", "l2")),
        KeyPoint("Early stopping when validation loss rises", ("early stopping", "validation loss")),
        KeyPoint("Collect more data or use augmentation", ("augmentation", "more data")),
    ],
)
FULL = (
    "when a model memorises the noise of its training data it stops generalising so i add dropout and weight "
    "decay as regularisation and i watch the validation loss and use early stopping once it rises "
    "and if i can "
    "i collect more data or use augmentation"
)


@pytest.fixture
def scorer(fake_embedder):
    return CoverageScorer(fake_embedder)


def statuses(score):
    return [k.status for k in score.key_points]


def test_complete_answer_covers_every_point(scorer):
    score = scorer.score(QUESTION, FULL)
    assert statuses(score) == ["covered"] * 4
    assert score.coverage == pytest.approx(100.0)


def test_evidence_is_the_span_of_the_answer_that_covers_the_point(scorer):
    answer = "Honestly? " + FULL
    score = scorer.score(QUESTION, answer)
    for result in score.key_points:
        ev = result.evidence
        assert ev is not None and answer[ev.start : ev.end] == ev.text
    assert "weight decay" in score.key_points[1].evidence.text
    assert "early stopping" in score.key_points[2].evidence.text


def test_off_topic_answer_scores_near_zero(scorer):
    answer = "kubernetes schedules containers across nodes and helm charts template the deployment manifests"
    score = scorer.score(QUESTION, answer)
    assert score.coverage < 10
    assert all(k.evidence is None for k in score.key_points)


def test_repeating_one_point_does_not_raise_coverage(scorer):
    once = scorer.score(QUESTION, "i would add dropout and weight decay as regularisation")
    many = scorer.score(QUESTION, " ".join(["i would add dropout and weight decay as regularisation"] * 8))
    assert statuses(once) == statuses(many) == ["missed", "covered", "missed", "missed"]
    assert many.coverage == pytest.approx(once.coverage, abs=1)


def test_padding_does_not_change_what_is_covered(scorer):
    padding = " and that is something i have thought about a great deal over the years in many teams" * 5
    plain = scorer.score(QUESTION, FULL)
    padded = scorer.score(QUESTION, padding + " " + FULL + padding)
    assert statuses(padded) == statuses(plain)


def test_reading_the_question_back_covers_nothing(scorer):
    answer = (
        "what is overfitting and how would you prevent overfitting that is a good question about overfitting"
    )
    assert scorer.score(QUESTION, answer).coverage < 10


def test_punctuation_and_case_do_not_matter(scorer):
    typed = "When a model memorises the noise of its training data, it stops generalising. I add dropout!"
    spoken = typed.lower().replace(",", "").replace(".", "").replace("!", "")
    assert (
        scorer.score(QUESTION, typed).to_dict()["coverage"]
        == scorer.score(QUESTION, spoken).to_dict()["coverage"]
    )


def test_negated_statement_is_not_credited(scorer):
    claim = "early stopping when validation loss rises is what i use"
    denial = "i never use early stopping when validation loss rises"
    assert scorer.score(QUESTION, claim).key_points[2].status == "covered"
    denied = scorer.score(QUESTION, denial).key_points[2]
    assert denied.contradicted
    assert denied.score < scorer.score(QUESTION, claim).key_points[2].score


def test_coverage_orders_answers_by_how_much_they_cover(scorer):
    half = "when a model memorises the noise of its training data i add dropout and weight decay"
    quarter = "i add dropout and weight decay"
    scores = [scorer.score(QUESTION, a).coverage for a in (FULL, half, quarter)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[1] > scores[2] > 0


@pytest.mark.parametrize("answer", ["", "   ", "um uh", "... !!"])
def test_answer_without_words_is_rejected(scorer, answer):
    with pytest.raises(EmptyAnswerError, match="no words"):
        scorer.score(QUESTION, answer)


def test_reference_texts_are_embedded_once(scorer, fake_embedder):
    scorer.score(QUESTION, FULL)
    first = fake_embedder.calls
    scorer.score(QUESTION, "dropout")
    assert fake_embedder.calls == first + 1  # only the answer's windows


def test_score_many_matches_score(scorer):
    answers = [FULL, "i add dropout", "kubernetes pods"]
    batched = scorer.score_many([(QUESTION, a) for a in answers])
    assert [s.to_dict() for s in batched] == [scorer.score(QUESTION, a).to_dict() for a in answers]


def test_derived_key_points_are_scored(scorer):
    q = make_question(
        id="q", question="What is a validation set?", model_answer="It is held out from training."
    )
    assert len(q.key_points) == 1
    assert scorer.score(q, "it is data held out from training").key_points[0].status == "covered"


def test_to_dict_has_the_documented_fields(scorer):
    data = scorer.score(QUESTION, FULL).to_dict()
    assert set(data) >= {"question_id", "coverage", "key_points"}
    assert set(data["key_points"][0]) >= {"text", "status", "similarity", "evidence"}


EXPLAIN = make_question(
    id="explain",
    question="How do you explain what a model has learned?",
    model_answer=(
        "For complex models I look at the whole dataset first. Permutation importance shows how much the "
        "score drops when one column is shuffled at random. For single decisions I use Shapley values."
    ),
    key_points=[
        KeyPoint("Global importance ranks features overall"),
        KeyPoint("SHAP explains an individual prediction"),
    ],
)


def test_a_point_is_also_matched_through_what_the_model_answer_says_about_it(fake_embedder):
    answer = "i shuffle one column at random and see how much the score drops"
    with_anchor = CoverageScorer(fake_embedder).score(EXPLAIN, answer).key_points[0]
    without = CoverageScorer(fake_embedder, ScoringConfig.formula(anchor_weight=0.0)).score(EXPLAIN, answer)
    assert without.key_points[0].status == "missed"
    assert with_anchor.status != "missed" and with_anchor.score > without.key_points[0].score + 0.2
    assert with_anchor.evidence is not None and "score drops" in with_anchor.evidence.text
    # the anchor is the point's own window: the other point does not borrow it
    assert CoverageScorer(fake_embedder).score(EXPLAIN, answer).key_points[1].status == "missed"


def test_points_the_model_answer_contains_word_for_word_have_no_anchor(fake_embedder):
    q = make_question(
        id="q",
        question="What is a validation set?",
        model_answer="It is held out from training. It is used to tune hyperparameters.",
    )
    answer = "we hold some data out and tune on it"
    anchored = CoverageScorer(fake_embedder).score(q, answer)
    plain = CoverageScorer(fake_embedder, ScoringConfig.formula(anchor_weight=0.0)).score(q, answer)
    assert anchored.to_dict() == plain.to_dict()


def test_model_answer_windows_are_embedded_once_per_question(fake_embedder):
    scorer = CoverageScorer(fake_embedder)
    scorer.score(EXPLAIN, "dropout")
    first = fake_embedder.calls
    scorer.score(EXPLAIN, "shapley values")
    assert fake_embedder.calls == first + 1  # only the answer's windows


METRICS = make_question(
    id="metrics",
    question="Which metrics would you use for a classifier?",
    model_answer="unused",
    key_points=[
        "Precision is the share of predicted positives that are truly positive",
        "Recall is the share of actual positives that the model catches",
        "ROC AUC measures ranking quality across thresholds",
    ],
)


def test_a_window_that_states_another_point_better_counts_less_for_this_one(fake_embedder):
    answer = "recall tells you what share of the actual positives the model manages to catch"
    parts = CoverageScorer(fake_embedder).components(METRICS, answer)
    assert (parts.rivalry[0] > 0).all()  # every window is closer to recall than to precision
    assert (parts.rivalry[1] <= 0).all()
    without, with_rivalry = (
        CoverageScorer(fake_embedder, ScoringConfig.formula(rivalry_weight=w, rivalry_margin=0.0))
        .score(METRICS, answer)
        .key_points
        for w in (0.0, 1.0)
    )
    assert with_rivalry[0].score < without[0].score - 0.05
    assert with_rivalry[1].score == pytest.approx(without[1].score)
