"""The key-point judge: how the scorer uses it (fake judge, fast) and the trained model on real pairs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from practice.bank import KeyPoint, load_bank, make_question
from practice.scoring import CoverageScorer, ScoringConfig
from practice.scoring.evidence import judged, support_windows
from practice.scoring.judge import (
    JUDGE_DIR,
    LABELS,
    NOT_STATED,
    STATES,
    CrossEncoderJudge,
    as_spoken,
    default_judge,
)
from practice.scoring.text import words
from tests.conftest import FakeJudge

QUESTION = make_question(
    id="scaling",
    question="How do you scale features without leaking information?",
    model_answer="unused",
    key_points=[
        KeyPoint("Fit the scaler on the training split only"),
        KeyPoint("Apply the same fitted scaler to validation and test data"),
        KeyPoint("Put the scaler inside a pipeline for cross validation"),
    ],
)
STATED = (
    "first i split the data and fit the scaler on the training split only then i apply the same fitted "
    "scaler to the validation and test data"
)
REVERSED = "you do not fit the scaler on the training split only and that is fine"


# The fake embedder's evidence runs higher than the real model's: settings of its own scale.
FAKE = ScoringConfig(covered=0.8, partial=0.6, judge_weight=2.0, judge_contradiction=0.7, judge_support=0.0)


@pytest.fixture
def scorer(fake_embedder, fake_judge):
    return CoverageScorer(fake_embedder, FAKE, fake_judge)


def test_the_judge_credits_what_it_reads_as_stated(scorer):
    points = scorer.score(QUESTION, STATED).key_points
    assert [p.status for p in points] == ["covered", "covered", "missed"]
    assert not any(p.contradicted for p in points)


def test_a_point_the_judge_reads_as_reversed_is_missed_and_flagged(scorer, fake_embedder):
    formula_only = CoverageScorer(fake_embedder).score(QUESTION, REVERSED).key_points[0]
    assert formula_only.status != "missed"  # the words are all there: evidence alone credits it
    point = scorer.score(QUESTION, REVERSED).key_points[0]
    assert (point.status, point.contradicted) == ("missed", True)
    assert point.evidence is not None and "not fit the scaler" in point.evidence.text


def test_the_judge_reads_only_the_shortlist(fake_embedder, fake_judge):
    cfg = replace(FAKE, judge_shortlist=2)
    CoverageScorer(fake_embedder, cfg, fake_judge).score(QUESTION, STATED + " " + STATED.upper())
    assert 0 < len(fake_judge.pairs) <= 2 * len(QUESTION.key_points)


def test_a_point_without_evidence_is_not_judged(fake_embedder, fake_judge):
    CoverageScorer(fake_embedder, FAKE, fake_judge).score(QUESTION, "i like gardening and long walks")
    assert fake_judge.pairs == []


def test_evidence_is_the_shortest_judged_window_that_covers_the_point(scorer):
    padded = "we had many meetings about the roadmap and budgets that quarter " + STATED
    point = scorer.score(QUESTION, padded).key_points[0]
    assert point.status == "covered"
    assert len(words(point.evidence.text)) <= 12
    assert "roadmap" not in point.evidence.text


def test_a_point_the_judge_reads_as_stated_nowhere_is_missed():
    evidence = np.array([[0.6, 0.5, 0.1]])  # one point: the formula would credit its first window
    picked = np.array([[True, False, False]])  # the shortlist
    probabilities = np.zeros((1, 3, len(LABELS)))
    probabilities[0, :, NOT_STATED] = (0.05, 1.0, 1.0)
    probabilities[0, :, STATES] = (0.95, 0.0, 0.0)  # what the shortlist reads does not decide support
    cfg = ScoringConfig(judge_support=0.2)
    weak = np.array([0.1])  # the best any sentence window states it
    assert judged(evidence, picked, probabilities, cfg, weak)[0].max() < 0
    assert judged(evidence, picked, probabilities, replace(cfg, judge_support=0.0), weak)[0].max() == 0.6
    assert judged(evidence, picked, probabilities, cfg, np.array([0.3]))[0].max() == 0.6


def test_filler_cannot_move_the_support(fake_embedder, fake_judge):
    cfg = replace(FAKE, judge_support=0.5, judge_support_window=12)
    scorer = CoverageScorer(fake_embedder, cfg, fake_judge)
    filler = "I think that is really important. It is something I have seen in many teams. "
    alone = scorer.score(QUESTION, STATED)
    padded = scorer.score(QUESTION, filler * 3 + STATED + ". " + filler * 3)
    assert [p.status for p in padded.key_points] == [p.status for p in alone.key_points]
    # the point's words without its claim: the evidence credits it, the judge's support does not
    lenient = replace(cfg, judge_weight=0.0)
    vocabulary = "the scaler and its training"
    assert (
        CoverageScorer(fake_embedder, replace(lenient, judge_support=0.0), fake_judge)
        .score(QUESTION, vocabulary)
        .key_points[0]
        .status
        == "covered"
    )
    assert (
        CoverageScorer(fake_embedder, lenient, fake_judge).score(QUESTION, vocabulary).key_points[0].status
        == "missed"
    )


def test_support_windows_cover_every_word_and_ignore_punctuation_and_repeats(fake_embedder):
    scorer = CoverageScorer(fake_embedder, replace(FAKE, judge_support_window=12, judge_support_stride=4))
    typed = (
        "First, I split the data. Then I fit the scaler -- on the training split only; never on test rows!"
    )
    windows, similarity = scorer.support_windows(QUESTION, typed)
    assert all(len(w.split()) == 12 for w in windows) and windows[0].startswith("first")
    assert windows[-1].endswith("rows") and similarity.shape == (3, len(windows))
    covered = set().union(*(range(a, b) for a, b in support_windows(words(typed), 12, 4)))
    assert covered == set(range(len(words(typed))))
    assert scorer.support_windows(QUESTION, as_spoken(typed))[0] == windows
    assert scorer.support_windows(QUESTION, " ".join([typed] * 4))[0] == windows  # saying it again adds none
    assert scorer.support_windows(QUESTION, "Short answer.")[0] == ["short answer"]


def test_words_said_before_an_answer_do_not_move_its_support_windows():
    answer = words(
        "I would fit the scaler on the training split only, because statistics from validation or test rows "
        "would leak into training; then the same fitted scaler is applied to validation and test data, and "
        "in cross validation the scaler sits inside a pipeline so each fold refits it on its training part"
    )
    alone = [answer[a:b] for a, b in support_windows(answer, 24, 4)]
    assert 8 <= len(alone) <= 16  # about one start in four words, none more than eight apart
    for before in range(1, 9):  # any number of words said first
        padded = words("so to start with the weather was nice that week")[:before] + answer
        shifted = [padded[a:b] for a, b in support_windows(padded, 24, 4)]
        # every window that starts at or after the answer's first word-chosen start is read unchanged
        assert all(w in shifted for w in alone[1:]), before


class NeverStates(FakeJudge):
    """Reads every span as not stating the point (never a contradiction), and counts each call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def judge(self, pairs):
        self.calls += 1
        super().judge(pairs)
        return np.tile(np.float32([0.9, 0.05, 0.05]), (len(pairs), 1))


SUPPORTED = replace(
    FAKE, judge_weight=0.0, judge_support=0.5, judge_support_window=12, judge_support_stride=4
)
FILLER = "we also talked about the office and the coffee and the weather that week. "


def test_the_judge_reads_at_most_the_support_windows_nearest_each_credited_point(fake_embedder):
    answer = FILLER * 3 + STATED + ". " + FILLER * 3
    windows = len(CoverageScorer(fake_embedder, SUPPORTED).support_windows(QUESTION, answer)[0])
    read, credited = {}, {}
    for shortlist in (0, 2, 1000):  # 0: no support read
        judge = NeverStates()
        on = replace(SUPPORTED, judge_support_shortlist=shortlist, judge_support=0.5 if shortlist else 0.0)
        points = CoverageScorer(fake_embedder, on, judge).score(QUESTION, answer).key_points
        read[shortlist], credited[shortlist] = len(judge.pairs), sum(p.status != "missed" for p in points)
    assert credited[0] >= 2 and credited[2] == credited[1000] == 0  # the evidence credits; no support
    assert read[2] - read[0] == 2 * credited[0]  # two windows for each credited point
    assert read[1000] - read[0] == windows * credited[0]


def test_support_stops_at_the_first_window_that_states_the_point_with_the_same_verdict(
    fake_embedder, fake_judge
):
    """Reading a point's nearest windows first and the next ones only while none supports it gives the
    verdict of reading all judge_support_shortlist of them, with fewer judge passes."""
    answers = [FILLER * 3 + STATED + ". " + FILLER * 3, STATED, REVERSED, FILLER + "the scaler is fitted"]
    cfg = replace(SUPPORTED, judge_support_shortlist=6)
    plain = CoverageScorer(fake_embedder, replace(cfg, judge_support=0.0), fake_judge)
    for answer in answers:
        fake_judge.pairs.clear()
        got = CoverageScorer(fake_embedder, cfg, fake_judge).score(QUESTION, answer)
        texts, nearness = plain.support_windows(QUESTION, answer)
        expected = []
        for k, point in enumerate(plain.score(QUESTION, answer).key_points):
            nearest = np.argsort(-nearness[k], kind="stable")[:6]
            states = fake_judge.judge([(point.key_point.text, texts[j]) for j in nearest])[:, STATES]
            expected.append(point.status if point.status == "missed" or states.max() >= 0.5 else "missed")
        assert [p.status for p in got.key_points] == expected, answer
    long_answer = answers[0]
    fake_judge.pairs.clear()
    CoverageScorer(fake_embedder, replace(cfg, judge_support=0.0), fake_judge).score(QUESTION, long_answer)
    veto_only = len(fake_judge.pairs)
    fake_judge.pairs.clear()
    CoverageScorer(fake_embedder, cfg, fake_judge).score(QUESTION, long_answer)
    assert len(fake_judge.pairs) - veto_only < 2 * 6  # fewer than every nearest window of both points


def test_scoring_many_answers_calls_the_judge_once_per_step_not_once_per_answer(fake_embedder):
    answers = [FILLER + STATED, STATED, REVERSED, "kubernetes pods and the weather"] * 5
    judge = NeverStates()
    many = CoverageScorer(fake_embedder, SUPPORTED, judge).score_many([(QUESTION, a) for a in answers])
    assert judge.calls <= 4  # the shortlists, then at most three steps of support windows
    alone = [CoverageScorer(fake_embedder, SUPPORTED, NeverStates()).score(QUESTION, a) for a in answers]
    assert [s.to_dict() for s in many] == [s.to_dict() for s in alone]


def test_the_judge_reads_a_typed_answer_as_it_would_its_transcript():
    assert as_spoken("Fit it on the training split -- only; don't leak!") == (
        "Fit it on the training split only don't leak"
    )


def test_the_written_training_spans_stay_off_the_eval_questions():
    from training.train_judge import CONTRADICTS as C
    from training.train_judge import ROOT, written_pairs

    pairs = written_pairs(ROOT / "training" / "judge_spans", ROOT / "eval" / "answers")  # refuses eval/'s
    by_label = {label: sum(p.label == label for p in pairs) for label in (NOT_STATED, STATES, C)}
    assert len(pairs) > 2000 and len(set(by_label.values())) == 1  # two of each per key point


def test_the_judge_trains_on_listed_bank_questions_none_of_them_eval_questions():
    from training.train_judge import BANK_QUESTIONS, ROOT, _eval_questions, _listed

    listed, held_out = _listed(BANK_QUESTIONS), _eval_questions(ROOT / "eval" / "answers")
    assert listed and not listed & held_out
    assert listed <= set(load_bank().questions)  # a stale id would silently train on nothing


def test_without_a_judge_the_evidence_decides(fake_embedder):
    scorer = CoverageScorer(fake_embedder)
    assert scorer.judge is None and scorer.config == ScoringConfig.formula()


# --- the trained judge on real pairs ------------------------------------------------------------------


def test_the_trained_judge_ships_small_with_its_model_card():
    weights = JUDGE_DIR / "model.safetensors"
    assert weights.stat().st_size <= 50 * 1024 * 1024
    card = (JUDGE_DIR / "README.md").read_text(encoding="utf-8")
    for needed in ("all-MiniLM-L6-v2", "ArgKP", "SemEval", "training/train_judge.py", "licen"):
        assert needed in card


@pytest.mark.models
def test_the_trained_judge_on_real_pairs():
    judge = CrossEncoderJudge()
    point = "Fit the scaler on the training data only, so no information leaks from the test set"
    pairs = [
        (
            point,
            "the scaler should be fitted using only the training set so nothing leaks from the test data",
        ),
        (point, "fit the scaler on the full dataset before splitting, this cannot leak anything"),
        (point, "my favourite part of the job is presenting results to the product team"),
    ]
    p = judge.judge(pairs)
    assert p.shape == (3, len(LABELS)) and np.allclose(p.sum(axis=1), 1.0, atol=1e-4)
    assert [LABELS[i] for i in p.argmax(axis=1)] == ["states", "contradicts", "not stated"]


@pytest.mark.models
def test_the_default_scorer_credits_a_paraphrase_and_flags_a_reversal():
    from practice.bank import load_bank
    from practice.scoring import default_scorer

    scorer = default_scorer()
    assert scorer.judge is default_judge()
    question = load_bank().questions["dsg-overfitting-and-regularization"]
    points = [k.text for k in question.key_points]
    limits = next(i for i, t in enumerate(points) if t.startswith("Regularization limits"))
    penalties = next(i for i, t in enumerate(points) if t.startswith("L1 and L2"))
    paraphrase = (
        "to stop it i penalise large weights with an l2 term or switch off random units with dropout "
        "during training so the network cannot lean on any single feature"
    )
    reversal = (
        "regularization does not limit model complexity and it does not help the model generalise better"
    )
    assert scorer.score(question, paraphrase).key_points[penalties].status == "covered"
    said = scorer.score(question, reversal).key_points[limits]
    assert (said.status, said.contradicted) == ("missed", True)
    assert said.evidence is not None and "does not limit" in said.evidence.text
