"""Which STAR parts a behavioural answer has, measured on eval/structure/ beside a keyword baseline.

    .venv/bin/python bench/structure.py [--readme bench/README.md]

Cross-validated by question, leaving one question out: each answer is read with the per-part thresholds
chosen on the other questions' answers only (the eval set has 12 questions, which `question_folds`' hash
splits 8/9/4/31 into 4 folds). The table pools these held-out decisions. The judge's weights never see
eval/structure/. The thresholds the reader ships are the ones chosen on all answers; they are printed so
StructureConfig can be checked against them. With --readme, the table replaces the block
between the bench:structure markers.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evalset import LabelledStructure, load_eval_set, load_structure_set  # noqa: E402
from bench.readme import replace_block  # noqa: E402
from practice.bank import load_bank  # noqa: E402
from practice.offline import keep_hub_offline  # noqa: E402
from practice.scoring.judge import Judge, default_judge  # noqa: E402
from practice.scoring.structure import (  # noqa: E402
    COMPONENTS,
    TITLES,
    StructureConfig,
    StructureReader,
    Window,
)

THRESHOLDS = np.round(np.arange(0.02, 1.01, 0.01), 2)
# Questions that ask for a story; their model answers (another author's, written as complete answers)
# are a rough check of how the reader does on phrasing eval/structure/ does not have.
STORY_QUESTION = re.compile(
    r"^(tell me about|describe a|walk me through a|give me an example|think of a time|can you share a time|"
    r"have you ever)",
    re.I,
)


@dataclass(frozen=True)
class Read:
    """One answer read once by the judge: its windows, and per part and window P(states) and how often its
    cue words stand there."""

    windows: list[Window]
    states: np.ndarray
    cues: np.ndarray
    seconds: float
    words: int

    def best(self, k: int, weight: float | None) -> tuple[float, int]:
        """The part's best window and its score; weight None: cue words alone (the baseline)."""
        if not self.windows:
            return 0.0, -1
        score = self.cues[k].astype(float) if weight is None else self.states[k] + weight * self.cues[k]
        j = int(np.argmax(score))
        return float(score[j]), j


def read_all(reader: StructureReader, texts: Sequence[str]) -> list[Read]:
    out = []
    for text in texts:
        start = time.perf_counter()
        windows, states, cues = reader.probabilities(text)
        out.append(Read(windows, states, cues, time.perf_counter() - start, len(text.split())))
    return out


def f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp, fp, fn = np.sum(pred & gold), np.sum(pred & ~gold), np.sum(~pred & gold)
    return float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0


def scores(reads: list[Read], weight: float | None) -> np.ndarray:
    """(answers, parts): each part's best window score."""
    return np.array([[r.best(k, weight)[0] for k in range(len(COMPONENTS))] for r in reads])


def threshold(values: np.ndarray, gold: np.ndarray) -> float:
    """The threshold with the best F1; of several equally good, the middle one."""
    f = np.array([f1(values >= t, gold) for t in THRESHOLDS])
    ties = THRESHOLDS[f >= f.max() - 1e-9]
    return float(ties[len(ties) // 2])


def choose(reads: list[Read], gold: np.ndarray, weight: float) -> StructureConfig:
    """Per-part thresholds chosen on these answers, for windows scored P(states) + weight * cue words."""
    values = scores(reads, weight)
    cuts = {c: threshold(values[:, k], gold[:, k]) for k, c in enumerate(COMPONENTS)}
    return replace(StructureConfig(), cue_weight=weight, **cuts)


def decide(reads: list[Read], cfg: StructureConfig | None) -> tuple[np.ndarray, np.ndarray]:
    """(answers, parts) present, and the window chosen as evidence; cfg None: the keyword baseline."""
    present = np.zeros((len(reads), len(COMPONENTS)), dtype=bool)
    chosen = np.full(present.shape, -1)
    for i, r in enumerate(reads):
        for k, c in enumerate(COMPONENTS):
            value, j = r.best(k, None if cfg is None else cfg.cue_weight)
            present[i, k] = value >= (0.5 if cfg is None else cfg.threshold(c))
            chosen[i, k] = j
    return present, chosen


def cross_validate(
    reads: list[Read], gold: np.ndarray, groups: np.ndarray, weight: float
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out decisions and evidence windows, each question's answers read with thresholds chosen on the
    other questions' answers."""
    present = np.zeros(gold.shape, dtype=bool)
    chosen = np.zeros(gold.shape, dtype=int)
    for g in np.unique(groups):
        train = groups != g
        cfg = choose([r for r, t in zip(reads, train, strict=True) if t], gold[train], weight)
        p, c = decide([r for r, t in zip(reads, train, strict=True) if not t], cfg)
        present[~train], chosen[~train] = p, c
    return present, chosen


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def evidence_rates(
    reads: list[Read], answers: list[LabelledStructure], present: np.ndarray, chosen: np.ndarray
) -> tuple[list[float], list[float]]:
    """Per part, over answers that have it and where it was found: the share whose evidence window
    overlaps the words labelled for that part, and the share whose window overlaps another part's words
    more (the judge taking, say, the task for the situation)."""
    own, other = [], []
    for k, c in enumerate(COMPONENTS):
        hits, swaps = [], []
        for i, a in enumerate(answers):
            if not (present[i, k] and a.present(c)):
                continue
            span = reads[i].windows[chosen[i, k]].span
            window = (span.start, span.end)
            cover = {d: sum(_overlap(window, q) for q in a.quotes[d]) for d in COMPONENTS}
            hits.append(cover[c] > 0)
            swaps.append(max(cover[d] for d in COMPONENTS if d != c) > cover[c])
        own.append(float(np.mean(hits)) if hits else float("nan"))
        other.append(float(np.mean(swaps)) if swaps else float("nan"))
    return own, other


def _pct(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{100 * value:.0f}%"


def table_rows(name: str, present: np.ndarray, gold: np.ndarray) -> list[str]:
    rows = []
    for k, c in enumerate(COMPONENTS):
        p, g = present[:, k], gold[:, k]
        tp = np.sum(p & g)
        precision = tp / max(1, np.sum(p))
        recall = tp / max(1, np.sum(g))
        accuracy = np.mean(p == g)
        rows.append(
            f"| {name} | {TITLES[c]} | {precision:.2f} | {recall:.2f} | {f1(p, g):.2f} | {accuracy:.2f} |"
        )
    return rows


def main(judge: Judge | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readme", type=Path, help="rewrite the bench:structure block of this file")
    args = parser.parse_args()
    keep_hub_offline()
    bank = load_bank()
    answers = load_structure_set(bank)
    gold = np.array([a.labels for a in answers])
    questions = sorted({a.question.id for a in answers})
    groups = np.array([questions.index(a.question.id) for a in answers])
    shipped = StructureConfig()
    judge = judge or default_judge()
    reader = StructureReader(judge, shipped)
    reads = read_all(reader, [a.answer for a in answers])

    on_all = choose(reads, gold, shipped.cue_weight)
    shipped_present = decide(reads, shipped)[0]
    # (name, cue weight; None: the cue words alone)
    variants = (
        ("Keyword cues alone (baseline)", None),
        ("Judge alone", 0.0),
        ("Judge + cue words weighted 0.5 (not shipped: see below)", 0.5),
        ("Cue words, or the judge sure of the part (shipped)", shipped.cue_weight),
    )
    methods = []
    for name, weight in variants:
        if weight is None:
            methods.append((name, *decide(reads, None), None))
        else:
            methods.append((name, *cross_validate(reads, gold, groups, weight), choose(reads, gold, weight)))

    # Outside the labelled set: the bank's story model answers (another author; complete answers, so
    # finding a part there is mostly right) and strong answers to technical questions (no story at all,
    # so every part found there is a false alarm).
    models = [
        q.model_answer
        for q in bank.questions.values()
        if q.kind == "behavioural" and STORY_QUESTION.search(q.question)
    ]
    technical = [
        a.answer for a in load_eval_set(bank) if a.question.kind == "technical" and a.style == "strong"
    ]
    outside = {
        name: read_all(reader, texts) for name, texts in (("models", models), ("technical", technical))
    }

    ms = sorted(1000 * r.seconds for r in reads)
    pairs = statistics.mean(len(r.windows) * sum(len(s) for s in reader.descriptions.values()) for r in reads)
    lines = [
        f"Eval set: {len(answers)} hand-written behavioural answers to {len(questions)} questions "
        f"(`eval/structure/`), each part labelled present or missing with the words that carry it: "
        + ", ".join(f"{TITLES[c]} present in {int(gold[:, k].sum())}" for k, c in enumerate(COMPONENTS))
        + ". Leave-one-question-out: each answer is read with thresholds chosen on the other questions' "
        "answers.",
        "",
        "| method (held-out questions) | part | precision | recall | F1 | accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for name, present, _, _ in methods:
        lines += table_rows(name, present, gold)
    lines += [
        "",
        "Evidence: of the parts found that the answer has, the share whose window holds words labelled for "
        "that part / the share whose window holds more of another part's words:",
        "",
        "| method | " + " | ".join(TITLES[c] for c in COMPONENTS) + " |",
        "|---|---|---|---|---|",
    ]
    for name, present, chosen, _ in methods:
        own, other = evidence_rates(reads, answers, present, chosen)
        cells = " | ".join(f"{_pct(o)} / {_pct(x)}" for o, x in zip(own, other, strict=True))
        lines.append(f"| {name} | {cells} |")
    lines += [
        "",
        f"Outside the labelled set, settings chosen on all of it: parts found in the bank's {len(models)} "
        f"story model answers (another author, written as complete answers: roughly recall) / in "
        f"{len(technical)} strong answers to technical questions (explanations, no story: false alarms):",
        "",
        "| method | " + " | ".join(TITLES[c] for c in COMPONENTS) + " |",
        "|---|---|---|---|---|",
    ]
    for name, _, _, cfg in methods:
        found = {key: decide(value, cfg)[0].mean(axis=0) for key, value in outside.items()}
        cells = " | ".join(
            f"{_pct(m)} / {_pct(t)}" for m, t in zip(found["models"], found["technical"], strict=True)
        )
        lines.append(f"| {name} | {cells} |")
    tuned = ", ".join(f"{c}={on_all.threshold(c):.2f}" for c in COMPONENTS)
    lines += [
        "",
        f"Chosen on all {len(answers)} answers and shipped (StructureConfig): "
        f"cue_weight={on_all.cue_weight}, thresholds {tuned}. "
        + (
            "The shipped config matches."
            if shipped == on_all
            else f"**The shipped config differs** ({shipped}); on all answers it scores accuracy "
            + ", ".join(
                f"{TITLES[c]} {np.mean(shipped_present[:, k] == gold[:, k]):.2f}"
                for k, c in enumerate(COMPONENTS)
            )
            + "."
        ),
        f"Speed, judge loaded ({getattr(judge, 'precision', 'unknown precision')}, {os.cpu_count()} cores): "
        f"{statistics.mean(ms):.0f} ms mean, {ms[int(0.95 * (len(ms) - 1))]:.0f} ms p95 to read one answer "
        f"(mean {statistics.mean(r.words for r in reads):.0f} words, {pairs:.0f} judge pairs).",
    ]
    table = "\n".join(lines)
    print(table)
    if args.readme:
        replace_block(args.readme, "structure", table)


if __name__ == "__main__":
    main()
