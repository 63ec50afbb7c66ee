"""The scorer on the real bundled embedding model, against the shipped bank and eval set."""

from __future__ import annotations

import re
import statistics

import pytest

from bench.evalset import load_eval_set
from practice.bank import load_bank
from practice.scoring import CoverageScorer, default_scorer

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.fixture(scope="module")
def scorer():
    return default_scorer()


@pytest.fixture(scope="module")
def eval_set(bank):
    return load_eval_set(bank)


def whisper_style(text: str) -> str:
    return re.sub(r"[^\w\s']", " ", text.lower())


def test_eval_set_is_big_and_broad_enough(eval_set):
    assert len(eval_set) >= 80
    assert len({a.question.id for a in eval_set}) >= 25
    assert {a.question.level for a in eval_set} == {"basic", "intermediate", "advanced", "expert"}
    assert len({a.question.track for a in eval_set}) == 4


def test_coverage_follows_answer_quality(scorer, eval_set):
    mean = {}
    for style in ("strong", "partial", "weak", "off-topic", "parrot"):
        answers = [a for a in eval_set if a.style == style]
        mean[style] = statistics.mean(scorer.score(a.question, a.answer).coverage for a in answers)
    assert mean["strong"] > mean["partial"] + 5
    assert mean["partial"] > max(mean["weak"], mean["off-topic"], mean["parrot"]) + 15
    assert max(mean["off-topic"], mean["parrot"]) < 15


def test_model_answers_cover_their_own_key_points(scorer, bank):
    coverages = [scorer.score(q, q.model_answer).coverage for q in bank]
    assert statistics.mean(coverages) >= 85


def test_reading_the_question_back_scores_low(scorer, bank):
    coverages = [
        scorer.score(q, f"{q.question} That is a great question. {q.question}").coverage for q in bank
    ]
    assert statistics.mean(coverages) < 15


def test_off_topic_but_fluent_answer_scores_near_zero(scorer, bank):
    recipe = (
        "To make a good sourdough you feed the starter the night before, mix flour water and salt, fold the "
        "dough every half hour, let it rise slowly in the fridge and bake it hot in a covered pot."
    )
    assert max(scorer.score(q, recipe).coverage for q in bank) < 15


def test_padding_and_repetition_do_not_raise_coverage(scorer, eval_set):
    filler = " I think that is really important and it is something I have seen in many teams over the years."
    rises_padded, rises_repeated = [], []
    for a in [x for x in eval_set if x.style in ("partial", "weak")]:
        base = scorer.score(a.question, a.answer).coverage
        padded = scorer.score(a.question, filler * 4 + " " + a.answer + filler * 4).coverage
        repeated = scorer.score(a.question, " ".join([a.answer] * 4)).coverage
        assert padded <= base + 20, a.id
        assert repeated <= base + 5, a.id
        rises_padded.append(padded - base)
        rises_repeated.append(repeated - base)
    assert statistics.mean(rises_padded) <= 3  # context shifts late-chunked windows a little
    assert statistics.mean(rises_repeated) <= 1


def test_transcript_style_scores_like_typed_text(scorer, eval_set):
    for a in [x for x in eval_set if x.style in ("strong", "partial")][:20]:
        typed = scorer.score(a.question, a.answer).coverage
        spoken = scorer.score(a.question, whisper_style(a.answer)).coverage
        assert abs(typed - spoken) <= 10, a.id


def test_evidence_points_into_the_answer(scorer, eval_set):
    a = next(x for x in eval_set if x.style == "strong")
    for result in scorer.score(a.question, a.answer).key_points:
        if result.evidence:
            assert a.answer[result.evidence.start : result.evidence.end] == result.evidence.text


def test_long_answers_are_scored_across_chunks(scorer, eval_set):
    """A covered point at the end of a long answer is still found (answers longer than one model pass)."""
    a = next(x for x in eval_set if x.style == "strong")
    filler = " ".join(["we also talked about the office and the coffee and the weather that week"] * 20)
    tail = scorer.score(a.question, filler + " " + a.answer)
    alone = scorer.score(a.question, a.answer)
    assert tail.coverage >= alone.coverage - 10


def test_the_judge_credits_fewer_reversed_points_and_vetoes_few_made_ones(scorer, eval_set):
    formula = CoverageScorer(scorer.embedder)  # the same evidence without the judge
    reversed_credited = {"formula": 0, "judge": 0}
    made, vetoed = 0, 0
    for a in [x for x in eval_set if x.style == "contradiction"]:
        alone, judged = formula.score(a.question, a.answer), scorer.score(a.question, a.answer)
        for i in a.contradicted:
            reversed_credited["formula"] += alone.key_points[i].status != "missed"
            reversed_credited["judge"] += judged.key_points[i].status != "missed"
        for i in a.covered:
            made += 1
            vetoed += alone.key_points[i].status != "missed" and judged.key_points[i].contradicted
    assert reversed_credited["judge"] < reversed_credited["formula"]
    assert vetoed <= 0.05 * made
