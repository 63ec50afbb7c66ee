"""The scorer on questions and answers it was never tuned on: public data sets, against the naive baseline.

    .venv/bin/python bench/unseen.py [--readme bench/README.md] [--datasets DIR]

Data is read in place from ../shared/datasets/ (or --datasets / PRACTICE_DATASETS_DIR), never copied:

* SemEval-2013 Task 7 (semeval-3way.zip; CC-BY-SA), SciEntsBank and Beetle. Each question becomes an
  ad-hoc question whose key points are its reference answers; a student answer is graded correct when any
  reference answer is covered (its best evidence over references and answer windows reaches the
  threshold). 2-way labels: "correct" vs the rest. One threshold per method is chosen on the training
  split of the same corpus (best macro-F1) and applied unchanged to the test splits. The 3-way label
  "contradictory" gives the contradiction rate: the share of contradicting answers graded correct.
* ArgKP-2021 (IBM, CDLA-Sharing 1.0): key-point matching on its test set. Each argument is scored against
  the key points of its topic and stance (the topic is the question); evaluated as in the KPA-2021 shared
  task, track 1: each argument's best key point, the top half of those pairs by score per topic and
  stance, average precision with undecided pairs as no match (strict) or as match (relaxed), averaged
  over topic and stance.

The key-point judge learnt from SemEval's and ArgKP's training data (training/train_judge.py); the test
splits are never used for training or for choosing thresholds.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, f1_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.readme import replace_block, verdict  # noqa: E402
from practice.bank import Question, make_question  # noqa: E402
from practice.offline import keep_hub_offline  # noqa: E402
from practice.scoring import CoverageScorer, ScoringConfig  # noqa: E402
from practice.scoring.embedding import Embedder, default_embedder  # noqa: E402
from practice.scoring.evidence import EvidenceComponents  # noqa: E402
from practice.scoring.judge import default_judge  # noqa: E402

DATASETS_ENV_VAR = "PRACTICE_DATASETS_DIR"
DEFAULT_DATASETS = ROOT.parent / "shared" / "datasets"
SEMEVAL_ZIP = Path("semeval-2013-task7") / "semeval-3way.zip"
ARGKP_DIR = Path("argkp-2021")
SEMEVAL_SPLITS = {
    "sciEntsBank": ["test-unseen-answers", "test-unseen-questions", "test-unseen-domains"],
    "beetle": ["test-unseen-answers", "test-unseen-questions"],
}
CORPUS_NAMES = {"sciEntsBank": "SciEntsBank", "beetle": "Beetle"}
FORMULA_ROW = "Evidence formula alone (the scorer before the judge)"
SHIPPED_ROW = "Formula + the judge's veto and support (shipped default)"
FORMULA_AS_SHIPPED = "Evidence formula alone, at its eval/ threshold"
JUDGE_AS_SHIPPED = "Formula + the judge's veto and support, at its eval/ threshold (as shipped)"
# Published KPA-2021 track-1 test results (mAP strict / relaxed), as reported by the teams themselves.
PUBLISHED_ARGKP = [
    (
        "Enigma, final leaderboard entry (github.com/manavkapadnis/Enigma_ArgMining)",
        0.872,
        0.966,
    ),
    ("a DeBERTa-based matcher (its authors' README, test set)", 0.7035, 0.8857),
]
BATCH = 64


# --- data -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Graded:
    """One student answer to a SemEval question."""

    corpus: str
    split: str  # "train" or a test split name
    question: Question
    answer: str
    accuracy: str  # 3-way: correct | contradictory | incorrect

    @property
    def correct(self) -> bool:
        return self.accuracy == "correct"


def datasets_dir(flag: Path | None) -> Path:
    return flag or Path(os.environ.get(DATASETS_ENV_VAR) or DEFAULT_DATASETS)


def load_semeval(zip_path: Path) -> list[Graded]:
    """Every 3-way-labelled student answer in the zip, read in memory."""
    out: list[Graded] = []
    with zipfile.ZipFile(zip_path) as z:
        for name in sorted(z.namelist()):
            parts = name.split("/")
            if not name.endswith(".xml") or "3way" not in parts:
                continue
            corpus = next(c for c in SEMEVAL_SPLITS if c in parts)
            split = "train" if parts[0] == "training" else parts[-2]
            root = ET.fromstring(z.read(name))
            refs = [
                " ".join(r.text.split())
                for r in root.iter("referenceAnswer")
                if r.text and r.text.strip() and r.get("category") != "KEYWORD"
            ]
            text = " ".join((root.findtext("questionText") or "").split())
            question = make_question(
                id=f"{corpus}-{root.get('id')}",
                question=text,
                model_answer=" ".join(refs),
                key_points=list(dict.fromkeys(refs)),
                topic=root.get("module") or "general",
            )
            for s in root.iter("studentAnswer"):
                answer = " ".join((s.text or "").split())
                if re.search(r"[A-Za-z0-9]", answer):
                    out.append(Graded(corpus, split, question, answer, s.get("accuracy", "")))
    return out


@dataclass(frozen=True)
class ArgKPTopic:
    """The arguments of one topic and stance, with its key points as one ad-hoc question."""

    split: str
    question: Question
    kp_ids: tuple[str, ...]
    arguments: tuple[tuple[str, str], ...]  # (arg_id, text)
    labels: dict[tuple[str, str], int]  # (arg_id, kp_id) -> 0/1; pairs not in it are undecided


def load_argkp(directory: Path) -> list[ArgKPTopic]:
    def rows(path: Path) -> list[dict[str, str]]:
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))

    out = []
    for split, folder in (("train", "kpm_data"), ("dev", "kpm_data"), ("test", "test_data")):
        args = rows(directory / folder / f"arguments_{split}.csv")
        kps = rows(directory / folder / f"key_points_{split}.csv")
        labels = {
            (r["arg_id"], r["key_point_id"]): int(r["label"])
            for r in rows(directory / folder / f"labels_{split}.csv")
        }
        groups: dict[tuple[str, str], list] = defaultdict(list)
        for k in kps:
            groups[(k["topic"], k["stance"])].append(k)
        for (topic, stance), points in sorted(groups.items()):
            members = tuple(
                (a["arg_id"], a["argument"]) for a in args if (a["topic"], a["stance"]) == (topic, stance)
            )
            question = make_question(
                id=f"argkp-{split}-{points[0]['key_point_id']}",
                question=topic,
                model_answer=" ".join(k["key_point"] for k in points),
                key_points=[k["key_point"] for k in points],
            )
            out.append(ArgKPTopic(split, question, tuple(k["key_point_id"] for k in points), members, labels))
    return out


# --- scoring ----------------------------------------------------------------------------------------------


def components(scorer: CoverageScorer, items: Sequence[tuple[Question, str]]) -> list[EvidenceComponents]:
    out: list[EvidenceComponents] = []
    for i in range(0, len(items), BATCH):
        out += scorer.components_many(items[i : i + BATCH])
    return out


def point_scores(parts: list[EvidenceComponents], cfg: ScoringConfig) -> list[np.ndarray]:
    """Per answer: each key point's evidence (its best window)."""
    return [p.combine(cfg).max(axis=1) for p in parts]


def judged_scores(scorer: CoverageScorer, items: Sequence[tuple[Question, str]]) -> list[np.ndarray]:
    """Per answer: each key point's evidence after the judge (what the shipped scorer decides on)."""
    out: list[np.ndarray] = []
    for i in range(0, len(items), BATCH):
        out += [np.array([p.score for p in s.key_points]) for s in scorer.score_many(items[i : i + BATCH])]
    return out


def baseline_point_scores(embedder: Embedder, items: Sequence[tuple[Question, str]]) -> list[np.ndarray]:
    """Whole answer vs each key point, plain cosine."""
    answers = embedder.encode([a for _, a in items])
    texts = sorted({k.text for q, _ in items for k in q.key_points})
    vectors = dict(zip(texts, embedder.encode(texts), strict=True))
    return [np.array([vectors[k.text] @ answers[i] for k in q.key_points]) for i, (q, _) in enumerate(items)]


def best_threshold(scores: np.ndarray, gold: np.ndarray) -> float:
    candidates = np.unique(np.quantile(scores, np.linspace(0.01, 0.99, 197)))
    return float(max(candidates, key=lambda t: f1_score(gold, scores >= t, average="macro")))


def macro_f1(scores: np.ndarray, gold: np.ndarray, threshold: float) -> float:
    return float(f1_score(gold, scores >= threshold, average="macro"))


def argkp_map(topics: Iterable[ArgKPTopic], scores: list[np.ndarray]) -> tuple[float, float]:
    """KPA-2021 track 1: best key point per argument, top 50% per topic and stance, AP strict / relaxed."""
    strict, relaxed = [], []
    for topic, per_arg in zip(topics, scores, strict=True):
        pairs = []
        for (arg_id, _), s in zip(topic.arguments, per_arg, strict=True):
            k = int(np.argmax(s))
            pairs.append((float(s[k]), topic.labels.get((arg_id, topic.kp_ids[k]))))
        pairs.sort(key=lambda p: -p[0])
        top = pairs[: int(len(pairs) * 0.5)]
        y_score = [p[0] for p in top]
        strict.append(average_precision_score([p[1] == 1 for p in top], y_score))
        relaxed.append(average_precision_score([p[1] != 0 for p in top], y_score))
    return float(np.mean(strict)), float(np.mean(relaxed))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--datasets",
        type=Path,
        help=f"folder of the public data sets (default ${DATASETS_ENV_VAR} or ../shared/datasets)",
    )
    parser.add_argument(
        "--readme",
        type=Path,
        help="rewrite the bench:unseen block of this file",
    )
    args = parser.parse_args()
    keep_hub_offline()
    root = datasets_dir(args.datasets)
    semeval = load_semeval(root / SEMEVAL_ZIP)
    argkp = [t for t in load_argkp(root / ARGKP_DIR) if t.split == "test"]
    embedder = default_embedder()
    scorer = CoverageScorer(embedder, ScoringConfig.formula())
    print(
        f"scoring {len(semeval)} SemEval answers, {sum(len(t.arguments) for t in argkp)} ArgKP arguments",
        file=sys.stderr,
    )
    sem_parts = components(scorer, [(g.question, g.answer) for g in semeval])
    kp_items = [(t.question, a) for t in argkp for _, a in t.arguments]
    kp_parts = _split_back(components(scorer, kp_items), argkp)

    methods: dict[str, tuple[list[np.ndarray], list[list[np.ndarray]]]] = {}
    methods["Naive baseline: whole-answer cosine"] = (
        baseline_point_scores(embedder, [(g.question, g.answer) for g in semeval]),
        _split_back(baseline_point_scores(embedder, kp_items), argkp),
    )
    formula = ScoringConfig.formula()
    methods[FORMULA_ROW] = (point_scores(sem_parts, formula), [point_scores(p, formula) for p in kp_parts])
    shipped = CoverageScorer(embedder, ScoringConfig(), default_judge())
    print(f"judging {len(semeval)} SemEval answers and the ArgKP test arguments", file=sys.stderr)
    methods[SHIPPED_ROW] = (
        judged_scores(shipped, [(g.question, g.answer) for g in semeval]),
        _split_back(judged_scores(shipped, kp_items), argkp),
    )
    # as the product decides: each at the covered threshold chosen on eval/, not on SemEval
    methods[FORMULA_AS_SHIPPED] = methods[FORMULA_ROW]
    methods[JUDGE_AS_SHIPPED] = methods[SHIPPED_ROW]
    fixed = {FORMULA_AS_SHIPPED: formula.covered, JUDGE_AS_SHIPPED: shipped.config.covered}
    table = report(semeval, argkp, methods, fixed)
    print(table)
    if args.readme:
        replace_block(args.readme, "unseen", table)


def _split_back(flat: list, topics: list[ArgKPTopic]) -> list[list]:
    out, i = [], 0
    for t in topics:
        out.append(flat[i : i + len(t.arguments)])
        i += len(t.arguments)
    return out


def report(
    semeval: list[Graded],
    argkp: list[ArgKPTopic],
    methods: dict[str, tuple[list[np.ndarray], list[list[np.ndarray]]]],
    fixed: dict[str, float],
) -> str:
    """fixed: methods with a threshold of their own (chosen on eval/, as the product uses them); the others
    get one chosen on each corpus's training split."""
    columns = [(c, s) for c, splits in SEMEVAL_SPLITS.items() for s in splits]
    header = " | ".join(f"{CORPUS_NAMES[c]} {s.removeprefix('test-')}" for c, s in columns)
    lines = [
        "SemEval-2013 Task 7, 2-way (correct vs not), macro-F1; one threshold per method and corpus, "
        "chosen on the corpus's training split (the judge learnt from those training answers, which may "
        'flatter its threshold), or, in the rows "at its eval/ threshold", the covered threshold the product '
        "uses. "
        "Contradiction rate: "
        "share of the test answers labelled "
        '"contradictory" (3-way) that are graded correct (lower is better). ArgKP-2021 test: KPA-2021 '
        "track-1 mAP, strict / relaxed.",
        "",
        f"| method | {header} | contradictory graded correct: SciEntsBank / Beetle "
        "| ArgKP mAP strict / relaxed |",
        "|---|" + "---|" * (len(columns) + 2),
    ]
    train_index = {
        c: np.array([g.corpus == c and g.split == "train" for g in semeval]) for c in SEMEVAL_SPLITS
    }
    gold = np.array([g.correct for g in semeval])
    contra = np.array([g.accuracy == "contradictory" for g in semeval])
    shipped: list[tuple[str, float]] = []  # the shipped default's unseen-questions/domains F1, for the target
    for name, (sem_points, kp_points) in methods.items():
        best = np.array([s.max() for s in sem_points])
        cells, rates = [], []
        thresholds = {
            c: fixed[name] if name in fixed else best_threshold(best[train_index[c]], gold[train_index[c]])
            for c in SEMEVAL_SPLITS
        }
        for c, split in columns:
            idx = np.array([g.corpus == c and g.split == split for g in semeval])
            value = macro_f1(best[idx], gold[idx], thresholds[c])
            cells.append(f"{value:.3f}")
            if name == SHIPPED_ROW and split != "test-unseen-answers":
                shipped.append((f"{CORPUS_NAMES[c]} {split.removeprefix('test-')}", value))
        for c in SEMEVAL_SPLITS:
            idx = np.array([g.corpus == c and g.split != "train" for g in semeval]) & contra
            rates.append(f"{np.mean(best[idx] >= thresholds[c]):.2f}")
        test_topics = [(t, s) for t, s in zip(argkp, kp_points, strict=True) if t.split == "test"]
        strict, relaxed = argkp_map([t for t, _ in test_topics], [s for _, s in test_topics])
        lines.append(f"| {name} | {' | '.join(cells)} | {' / '.join(rates)} | {strict:.3f} / {relaxed:.3f} |")
    n_test = {c: sum(g.corpus == c and g.split != "train" for g in semeval) for c in SEMEVAL_SPLITS}
    n_contra = {
        c: sum(g.corpus == c and g.split != "train" and g.accuracy == "contradictory" for g in semeval)
        for c in SEMEVAL_SPLITS
    }
    lines += [
        "",
        "**Target** (macro-F1 >= 0.75 on each unseen-questions and unseen-domains split), shipped default: "
        + ", ".join(f"{split} {v:.3f} ({verdict(v >= 0.75)})" for split, v in shipped)
        + ".",
        "",
        "Test answers: "
        + ", ".join(f"{CORPUS_NAMES[c]} {n_test[c]} ({n_contra[c]} contradictory)" for c in SEMEVAL_SPLITS)
        + f"; ArgKP test {sum(len(t.arguments) for t in argkp if t.split == 'test')} arguments.",
        "Published KPA-2021 track-1 test results for comparison (fine-tuned transformers, from the teams' "
        "own reports): " + "; ".join(f"{name}: {s:.3f} / {r:.3f}" for name, s, r in PUBLISHED_ARGKP) + ".",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
