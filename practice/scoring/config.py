"""The scorer's settings: the evidence formula's weights and thresholds, and how the judge is used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScoringConfig:
    """Decision thresholds and weights.

    The formula's weights and thresholds were tuned on eval/; the judge's settings are chosen on eval/
    on top of them (bench/scoring.py cross-validates the whole tuning by
    question and reports it on held-out questions). `ScoringConfig.formula()` is the evidence formula
    alone, with its own thresholds: what a scorer without a judge decides on.
    """

    covered: float = 0.40  # evidence at or above which a point is covered
    partial: float = 0.32  # at or above this (and below `covered`) a point is partial
    # A window that inverts the point (an antonym, the comparison turned round) keeps this share of its
    # evidence: saying the opposite is not credit. 1.0 leaves only the formula's contradiction_penalty.
    inverted_factor: float = 0.0
    # The formula's weights.
    lexical_weight: float = 1.5
    # Lexical evidence counts only in windows near the point: none below gate - 0.05, fully from gate + 0.05.
    lexical_gate: float = 0.2
    question_penalty: float = 1.0  # for windows closer to the question than to the point
    question_projection: float = 1.0  # share of the question's direction removed before comparing
    contradiction_penalty: float = 0.3
    question_word_weight: float = 0.25  # how much a key-point word that is also in the question counts
    window_sizes: tuple[int, ...] = (6, 12, 24)
    # The point's vector becomes point + anchor_weight * anchor (then normalised); 0 turns anchors off.
    anchor_weight: float = 1.0
    anchor_window: int = 12  # words per model-answer window an anchor is chosen from
    # A window whose cosine to another key point beats its cosine to this one by more than the margin
    # loses rivalry_weight times the excess (formula only). Tuning on eval/ prefers 1.5, but at 1.0
    # padding one partial answer with filler raised its coverage by 24 points (the test allows 20): 0.5.
    rivalry_weight: float = 0.5
    rivalry_margin: float = 0.1
    # The judge reads the judge_shortlist windows with the most evidence, for each point whose best
    # evidence reaches judge_floor (below it the point is missed whatever the judge would say). A judged
    # window's evidence becomes evidence + judge_weight * (P(states) - 0.5); one the judge reads as
    # contradicting the point (P(contradicts) >= judge_contradiction and above P(states)) is no evidence.
    judge_shortlist: int = 1
    judge_floor: float = 0.2
    # 0: the judge only vetoes. On eval/, letting P(states) move the evidence gained F1 only with a much
    # lower covered threshold, which credited off-topic, padded and vocabulary-only answers more.
    judge_weight: float = 0.0
    # The lowest P(contradicts) at which the judge vetoes no more than 5% of the points eval/'s
    # contradicting answers do make (tests/test_scoring_model.py); lower vetoes more reversals and more
    # made points with them.
    judge_contradiction: float = 0.93
    # A point the evidence credits keeps its credit only if the judge reads P(states) >= judge_support on
    # one of the judge_support_shortlist windows of the answer nearest it (`support_windows`: 24 kept
    # words, starting about every judge_support_stride words where the words themselves say, so words
    # said before an answer do not move them): a topic's vocabulary is not its claim. Held out on eval/,
    # this gate raised F1 and Spearman and cut the reversed points credited (bench/README.md); reading
    # more windows credits more made points and more reversed ones, and costs one judge pass each.
    judge_support: float = 0.5
    judge_support_window: int = 24
    judge_support_stride: int = 4
    judge_support_shortlist: int = 8

    @classmethod
    def formula(cls, **changes: Any) -> ScoringConfig:
        """The evidence formula alone (no judge), with its eval/-tuned thresholds."""
        return cls(**{"covered": 0.40, "partial": 0.32, **changes})
