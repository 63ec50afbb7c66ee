"""Scorer accuracy and speed on the hand-labelled eval set, against the naive whole-answer baseline.

    .venv/bin/python bench/scoring.py [--readme README.md]

Questions are split in two halves by a hash of their id. Weights and thresholds are tuned on the tune
half only; the table reports the held-out half (questions never tuned on) and, for reference, all
answers. The learned matcher's weights come from public data (bench/unseen.py --fit), never from eval/;
only its two thresholds are chosen on the tune half. With --readme, the table replaces the block between
the bench:scoring markers in that file.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.readme import replace_block  # noqa: E402
from practice.bank import load_bank  # noqa: E402
from practice.evalset import LabelledAnswer, load_eval_set, split_by_question  # noqa: E402
from practice.offline import keep_hub_offline  # noqa: E402
from practice.scoring import CoverageScorer, ScoringConfig  # noqa: E402
from practice.scoring.baseline import whole_answer_point_similarity, whole_answer_similarity  # noqa: E402
from practice.scoring.coverage import EvidenceComponents, credit  # noqa: E402
from practice.scoring.embedding import default_embedder  # noqa: E402

GRID = {
    "question_projection": [0.0, 0.25, 0.5, 0.75, 1.0],
    "question_penalty": [0.0, 0.5, 1.0, 2.0],
    "lexical_weight": [0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0],
    "contradiction_penalty": [0.0, 0.1, 0.2, 0.3],
    "lexical_gate": [-1.0, 0.15, 0.25],
}
THRESHOLDS = np.round(np.arange(0.25, 0.90, 0.01), 2)
PROBABILITY_THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.01), 2)  # for the learned matcher
PARTIAL_MARGINS = [0.05, 0.08, 0.1, 0.15, 0.2]


def f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = float(np.sum(pred & gold))
    fp = float(np.sum(pred & ~gold))
    fn = float(np.sum(~pred & gold))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


class Prepared:
    """Evidence components of every (answer, key point) pair, padded into one array set for fast tuning."""

    def __init__(self, scorer: CoverageScorer, answers: list[LabelledAnswer]):
        parts = [scorer.components(a.question, a.answer) for a in answers]
        self.owner = np.concatenate([[i] * len(a.question.key_points) for i, a in enumerate(answers)])
        width = max(p.similarity.shape[1] for p in parts)
        rows = sum(p.similarity.shape[0] for p in parts)

        def grid(dtype=np.float32):
            return np.zeros((rows, width), dtype)

        sim, toq, lex, length = grid(), grid(), grid(), grid()
        negated, anywhere, inverted = grid(bool), grid(bool), grid(bool)
        self.valid = grid(bool)
        r = 0
        for p in parts:
            k, m = p.similarity.shape
            sim[r : r + k, :m] = p.similarity
            toq[r : r + k, :m] = p.to_question[None, :]
            lex[r : r + k, :m] = p.lexical
            negated[r : r + k, :m] = p.negated
            anywhere[r : r + k, :m] = p.negated_anywhere
            inverted[r : r + k, :m] = p.inverted
            length[r : r + k, :m] = p.length[None, :]
            self.valid[r : r + k, :m] = True
            r += k
        pq = np.concatenate([p.point_to_question for p in parts])
        # One component set whose rows are all key points; to_question and length vary by row here, so
        # they are kept 2-D and point_to_question broadcasts as a column.
        self.parts = EvidenceComponents(sim, pq, toq, lex, negated, anywhere, inverted, length)
        self.gold = np.concatenate([a.labels for a in answers]).astype(bool)
        self.fraction = np.array([a.covered_fraction for a in answers])

    def best(self, cfg: ScoringConfig) -> np.ndarray:
        return np.where(self.valid, self.parts.combine(cfg), -9.0).max(axis=1)

    def coverage(self, cfg: ScoringConfig) -> np.ndarray:
        return np.bincount(self.owner, weights=credit(self.best(cfg), cfg)) / np.bincount(self.owner) * 100

    def metrics(self, cfg: ScoringConfig) -> tuple[float, float]:
        return f1(self.best(cfg) >= cfg.covered, self.gold), float(
            spearmanr(self.coverage(cfg), self.fraction)[0]
        )


def tune(data: Prepared, base: ScoringConfig) -> ScoringConfig:
    """The formula: weights and thresholds; the learned matcher: its thresholds only."""
    best_cfg, best_f1 = base, -1.0
    grid = GRID if base.method == "formula" else {}
    thresholds = THRESHOLDS if base.method == "formula" else PROBABILITY_THRESHOLDS
    for values in itertools.product(*grid.values()):
        cfg = replace(base, **dict(zip(grid, values, strict=True)))
        best = data.best(cfg)
        preds = best[:, None] >= thresholds[None, :]
        scores = [f1(preds[:, j], data.gold) for j in range(len(thresholds))]
        j = int(np.argmax(scores))
        if scores[j] > best_f1 + 1e-9:
            best_f1, best_cfg = scores[j], replace(cfg, covered=float(thresholds[j]))
    rhos = []
    for margin in PARTIAL_MARGINS:
        cfg = replace(best_cfg, partial=round(best_cfg.covered - margin, 3))
        rhos.append((data.metrics(cfg)[1], cfg))
    return max(rhos, key=lambda r: r[0])[1]


def baseline(embedder, tune_set: list[LabelledAnswer], test_set: list[LabelledAnswer]) -> tuple[float, float]:
    def point_sims(answers):
        return np.concatenate(
            [whole_answer_point_similarity(embedder, a.question, a.answer) for a in answers]
        )

    tune_gold = np.concatenate([a.labels for a in tune_set]).astype(bool)
    tune_sims = point_sims(tune_set)
    t = max(THRESHOLDS, key=lambda t: f1(tune_sims >= t, tune_gold))
    test_gold = np.concatenate([a.labels for a in test_set]).astype(bool)
    test_f1 = f1(point_sims(test_set) >= t, test_gold)
    cover = whole_answer_similarity(embedder, [(a.question, a.answer) for a in test_set])
    rho = float(spearmanr(cover, [a.covered_fraction for a in test_set])[0])
    return test_f1, rho


def timing(scorer: CoverageScorer, answers: list[LabelledAnswer]) -> tuple[float, float, float]:
    for a in answers[:5]:
        scorer.score(a.question, a.answer)
    times = []
    for a in answers:
        start = time.perf_counter()
        scorer.score(a.question, a.answer)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    words = statistics.mean(len(a.answer.split()) for a in answers)
    return statistics.mean(times), times[int(0.95 * (len(times) - 1))], words


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readme", type=Path, help="rewrite the bench:scoring block of this file")
    args = parser.parse_args()
    keep_hub_offline()
    bank = load_bank()
    answers = load_eval_set(bank)
    tune_set, test_set = split_by_question(answers)
    embedder = default_embedder()
    shipped = ScoringConfig()  # the formula, with the inversion rule
    before = ScoringConfig.formula(inverted_factor=1.0)  # the formula before issue 5
    learned = ScoringConfig.learned()
    scorer = CoverageScorer(embedder, shipped)
    tune_data, test_data = Prepared(scorer, tune_set), Prepared(scorer, test_set)
    tuned = tune(tune_data, shipped)
    learned_tuned = tune(tune_data, learned)
    all_data = Prepared(scorer, answers)
    all_f1, all_rho = all_data.metrics(shipped)

    base_f1, base_rho = baseline(embedder, tune_set, test_set)
    rows = [
        ("Naive baseline: whole-answer cosine", base_f1, base_rho),
        ("Coverage scorer before issue 5 (formula, no inversion rule)", *test_data.metrics(before)),
        ("Coverage scorer, shipped defaults (formula + inversion rule)", *test_data.metrics(shipped)),
        ("Coverage scorer, formula tuned in this run on the tune half", *test_data.metrics(tuned)),
        ("Learned matcher (opt-in), shipped thresholds", *test_data.metrics(learned)),
        ("Learned matcher, thresholds tuned in this run on the tune half", *test_data.metrics(learned_tuned)),
    ]
    mean_ms, p95_ms, mean_words = timing(scorer, answers)
    n_q = lambda s: len({a.question.id for a in s})  # noqa: E731
    lines = [
        f"Eval set: {len(answers)} hand-labelled answers to {n_q(answers)} questions; tuned on "
        f"{len(tune_set)} answers ({n_q(tune_set)} questions), reported on the other {len(test_set)} answers "
        f"({n_q(test_set)} questions never tuned on).",
        "",
        "| scorer (held-out questions) | key-point F1 | Spearman (coverage vs labelled fraction) |",
        "|---|---|---|",
        *[f"| {name} | {f:.3f} | {r:.3f} |" for name, f, r in rows],
        "",
        f"All {len(answers)} answers, shipped defaults: F1 {all_f1:.3f}, Spearman {all_rho:.3f}.",
        f"Speed: {mean_ms:.1f} ms mean, {p95_ms:.1f} ms p95 to score one answer "
        f"(mean {mean_words:.0f} words), "
        f"models loaded, {embedder.precision} on this {os.cpu_count()}-core machine.",
        "",
        "Mean coverage by answer style (shipped defaults, all answers):",
        "",
        "| style | answers | mean coverage | mean labelled % |",
        "|---|---|---|---|",
    ]
    coverage = all_data.coverage(shipped)
    for style in sorted({a.style for a in answers}):
        idx = [i for i, a in enumerate(answers) if a.style == style]
        lines.append(
            f"| {style} | {len(idx)} | {np.mean(coverage[idx]):.0f} | "
            f"{100 * np.mean([answers[i].covered_fraction for i in idx]):.0f} |"
        )
    fields = ("covered", "partial", *GRID)
    lines += [
        "",
        "Tuned in this run: formula "
        + ", ".join(f"{k}={getattr(tuned, k)}" for k in fields)
        + f"; learned matcher covered={learned_tuned.covered}, partial={learned_tuned.partial}",
    ]
    table = "\n".join(lines)
    print(table)
    if args.readme:
        replace_block(args.readme, "scoring", table)


if __name__ == "__main__":
    main()
