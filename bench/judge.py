"""How well the judge alone tells covered from missed key points on eval/, beside the evidence formula.

    .venv/bin/python bench/judge.py

For every (eval answer, key point): the formula's best evidence, and the judge's highest probability that
one of the formula's three best windows states the point (or contradicts it). ROC AUC of each against
the labels, and the mean per answer style. Nothing is tuned here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evalset import load_eval_set  # noqa: E402
from practice.bank import load_bank  # noqa: E402
from practice.offline import keep_hub_offline  # noqa: E402
from practice.scoring import CoverageScorer, ScoringConfig  # noqa: E402
from practice.scoring.embedding import default_embedder  # noqa: E402
from practice.scoring.evidence import shortlist  # noqa: E402
from practice.scoring.judge import CONTRADICTS, STATES, default_judge  # noqa: E402

TOP = 3


def main() -> None:
    keep_hub_offline()
    answers = load_eval_set(load_bank())
    formula = ScoringConfig.formula()
    scorer = CoverageScorer(default_embedder(), formula)
    judge = default_judge()
    top = ScoringConfig(judge_shortlist=TOP, judge_floor=-np.inf)
    rows = []
    for a in answers:
        evidence = scorer.components(a.question, a.answer).combine(formula)
        picked = shortlist(evidence, top)
        texts = scorer.window_texts(a.answer)
        for k, point in enumerate(a.question.key_points):
            windows = np.nonzero(picked[k])[0]
            p = judge.judge([(point.text, texts[j]) for j in windows])
            rows.append(
                (
                    a.style,
                    k in a.covered,
                    k in a.contradicted,
                    evidence[k].max(),
                    *p[:, [STATES, CONTRADICTS]].max(0),
                )
            )
    style = np.array([r[0] for r in rows])
    gold, reversed_ = (np.array([r[i] for r in rows], dtype=bool) for i in (1, 2))
    evidence, states, contradicts = (np.array([r[i] for r in rows]) for i in (3, 4, 5))
    print(
        f"{len(answers)} eval answers, {len(rows)} key points; "
        f"the judge reads the formula's {TOP} best windows."
    )
    print(
        f"ROC AUC, covered vs not: formula evidence {roc_auc_score(gold, evidence):.3f}, "
        f"judge P(states) {roc_auc_score(gold, states):.3f}, "
        f"both (evidence + P(states)) {roc_auc_score(gold, evidence + states):.3f}"
    )
    print(
        f"ROC AUC, reversed vs not: judge P(contradicts) {roc_auc_score(reversed_, contradicts):.3f}; "
        f"reversed points with P(contradicts) > 0.5: {np.mean(contradicts[reversed_] > 0.5):.0%}, "
        f"covered points: {np.mean(contradicts[gold] > 0.5):.0%}"
    )
    print(
        "| style | key points | labelled covered | formula evidence | judge P(states) "
        "| judge P(contradicts) |"
    )
    print("|---|---|---|---|---|---|")
    for s in sorted(set(style)):
        m = style == s
        print(
            f"| {s} | {m.sum()} | {gold[m].mean():.2f} | {evidence[m].mean():.2f} | {states[m].mean():.2f} "
            f"| {contradicts[m].mean():.2f} |"
        )


if __name__ == "__main__":
    main()
