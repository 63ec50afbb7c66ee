"""The scorer on questions and answers it was never tuned on: public data sets, against the naive baseline.

    .venv/bin/python bench/unseen.py [--readme README.md] [--datasets DIR]
    .venv/bin/python bench/unseen.py --fit      # refit practice/scoring/matcher.json on training data
    .venv/bin/python bench/unseen.py --ceiling  # how far a classifier over the scorer's evidence gets

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

The learned matcher is fitted (`--fit`) on SemEval training answers and ArgKP train and dev only; its
regularisation is chosen by 5-fold cross-validation grouped by question. The test splits are never used
for fitting or for choosing thresholds.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import statistics
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, f1_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.readme import replace_block, verdict  # noqa: E402
from practice.bank import Question, load_bank, make_question  # noqa: E402
from practice.evalset import load_eval_set  # noqa: E402
from practice.offline import keep_hub_offline  # noqa: E402
from practice.scoring import CoverageScorer, ScoringConfig  # noqa: E402
from practice.scoring.coverage import EvidenceComponents  # noqa: E402
from practice.scoring.embedding import Embedder, default_embedder  # noqa: E402
from practice.scoring.matcher import FEATURES, MATCHER_FILE, Matcher  # noqa: E402

DATASETS_ENV_VAR = "PRACTICE_DATASETS_DIR"
DEFAULT_DATASETS = ROOT.parent / "shared" / "datasets"
SEMEVAL_ZIP = Path("semeval-2013-task7") / "semeval-3way.zip"
ARGKP_DIR = Path("argkp-2021")
SEMEVAL_SPLITS = {
    "sciEntsBank": ["test-unseen-answers", "test-unseen-questions", "test-unseen-domains"],
    "beetle": ["test-unseen-answers", "test-unseen-questions"],
}
CORPUS_NAMES = {"sciEntsBank": "SciEntsBank", "beetle": "Beetle"}
SHIPPED_ROW = "Coverage scorer, shipped default (formula + inversion rule + rivalry)"
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


# --- fitting the matcher ----------------------------------------------------------------------------------


@dataclass
class Bags:
    """Training bags for multiple-instance logistic regression: a bag is positive when any row is."""

    x: np.ndarray  # (rows, features)
    bag: np.ndarray  # (rows,) bag index
    y: np.ndarray  # (bags,) 0/1
    weight: np.ndarray  # (bags,)
    group: np.ndarray  # (bags,) question, for grouped cross-validation
    source: np.ndarray  # (bags,) data set name

    @staticmethod
    def concat(parts: list[Bags]) -> Bags:
        offsets = np.cumsum([0] + [len(p.y) for p in parts[:-1]])
        return Bags(
            np.concatenate([p.x for p in parts]),
            np.concatenate([p.bag + o for p, o in zip(parts, offsets, strict=True)]),
            np.concatenate([p.y for p in parts]),
            np.concatenate([p.weight for p in parts]),
            np.concatenate([p.group for p in parts]),
            np.concatenate([p.source for p in parts]),
        )

    def subset(self, keep: np.ndarray) -> Bags:
        index = np.full(len(self.y), -1)
        index[keep] = np.arange(int(keep.sum()))
        rows = keep[self.bag]
        return Bags(
            self.x[rows],
            index[self.bag[rows]],
            self.y[keep],
            self.weight[keep],
            self.group[keep],
            self.source[keep],
        )


def semeval_bags(
    items: list[Graded], parts: list[EvidenceComponents], cfg: ScoringConfig, source: str
) -> Bags:
    """One bag per answer: every (reference, window) pair; positive when the answer is correct."""
    x = [p.features(cfg).reshape(-1, len(FEATURES)) for p in parts]
    return Bags(
        np.concatenate(x),
        np.concatenate([[i] * len(f) for i, f in enumerate(x)]),
        np.array([g.correct for g in items], dtype=int),
        np.full(len(items), 1.0 / len(items)),
        np.array([g.question.id for g in items]),
        np.array([source] * len(items)),
    )


def argkp_bags(topics: list[ArgKPTopic], parts: list[list[EvidenceComponents]], cfg: ScoringConfig) -> Bags:
    """One bag per labelled (argument, key point) pair: the argument's windows."""
    x, bag, y, group = [], [], [], []
    for topic, per_arg in zip(topics, parts, strict=True):
        for (arg_id, _), p in zip(topic.arguments, per_arg, strict=True):
            f = p.features(cfg)
            for k, kp_id in enumerate(topic.kp_ids):
                label = topic.labels.get((arg_id, kp_id))
                if label is None:
                    continue
                x.append(f[k])
                bag += [len(y)] * len(f[k])
                y.append(label)
                group.append(topic.question.id)
    return Bags(
        np.concatenate(x),
        np.array(bag),
        np.array(y),
        np.full(len(y), 1.0 / len(y)),
        np.array(group),
        np.array(["argkp"] * len(y)),
    )


def fit_matcher(bags: Bags, c: float, start: np.ndarray, rounds: int = 6) -> Matcher:
    """Multiple-instance logistic regression: fit on each bag's best row, re-pick the best rows, repeat."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = bags.x.mean(axis=0), bags.x.std(axis=0) + 1e-6
    z = (bags.x - mean) / scale
    logit = start
    matcher = None
    for _ in range(rounds):
        best = _best_rows(bags.bag, logit, len(bags.y))
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(z[best], bags.y, sample_weight=bags.weight * len(bags.y))
        coef = model.coef_[0] / scale
        intercept = float(model.intercept_[0] - coef @ mean)
        matcher = Matcher(FEATURES, tuple(float(v) for v in coef), intercept)
        logit = bags.x @ coef + intercept
    assert matcher is not None
    return matcher


def _best_rows(bag: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    order = np.lexsort((-value, bag))  # by bag, best first
    first = np.ones(len(order), bool)
    first[1:] = bag[order][1:] != bag[order][:-1]
    best = order[first]
    assert len(best) == n
    return best


def bag_scores(bags: Bags, matcher: Matcher) -> np.ndarray:
    p = matcher.probability(bags.x)
    out = np.full(len(bags.y), -np.inf)
    np.maximum.at(out, bags.bag, p)
    return out


def cross_validate(
    bags: Bags, start: np.ndarray, cs: Sequence[float], folds: int = 5
) -> dict[float, dict[str, float]]:
    """Per C: mean over held-out question folds of each source's average precision."""
    from sklearn.model_selection import GroupKFold

    result: dict[float, dict[str, float]] = {}
    for c in cs:
        per_source: dict[str, list[float]] = defaultdict(list)
        for train, _ in GroupKFold(folds).split(bags.y, groups=bags.group):
            mask = np.zeros(len(bags.y), bool)
            mask[train] = True
            matcher = fit_matcher(bags.subset(mask), c, start[mask[bags.bag]])
            held = bags.subset(~mask)
            scores = bag_scores(held, matcher)
            for source in np.unique(held.source):
                s = held.source == source
                per_source[source].append(average_precision_score(held.y[s], scores[s]))
        result[c] = {k: float(np.mean(v)) for k, v in per_source.items()}
    return result


# --- the run ----------------------------------------------------------------------------------------------


def timing(
    scorer: CoverageScorer, items: Sequence[tuple[Question, str]], repeats: int = 3
) -> tuple[float, float, float]:
    """Median, p95 and mean ms to score one answer, warm (models loaded, every question's key points,
    question and anchors embedded once before timing)."""
    for q, a in {q.id: (q, a) for q, a in items}.values():
        scorer.score(q, a)
    times = []
    for _ in range(repeats):
        for q, a in items:
            start = time.perf_counter()
            scorer.score(q, a)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], statistics.mean(times)


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
        help="rewrite the bench:unseen block (with --ceiling: bench:ceiling) of this file",
    )
    parser.add_argument(
        "--fit", action="store_true", help=f"refit the learned matcher and write {MATCHER_FILE.name}"
    )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="train classifiers on SemEval's training answers over the scorer's evidence; report the tests",
    )
    args = parser.parse_args()
    keep_hub_offline()
    root = datasets_dir(args.datasets)
    semeval = load_semeval(root / SEMEVAL_ZIP)
    argkp = [t for t in load_argkp(root / ARGKP_DIR) if args.fit or t.split == "test"]
    embedder = default_embedder()
    learned_cfg = ScoringConfig.learned()
    scorer = CoverageScorer(embedder, ScoringConfig())
    print(
        f"scoring {len(semeval)} SemEval answers, {sum(len(t.arguments) for t in argkp)} ArgKP arguments",
        file=sys.stderr,
    )
    sem_parts = components(scorer, [(g.question, g.answer) for g in semeval])
    kp_items = [(t.question, a) for t in argkp for _, a in t.arguments]
    kp_flat = components(scorer, kp_items)
    kp_parts, i = [], 0
    for t in argkp:
        kp_parts.append(kp_flat[i : i + len(t.arguments)])
        i += len(t.arguments)

    if args.fit:
        fit(semeval, sem_parts, argkp, kp_parts, learned_cfg)
        return
    if args.ceiling:
        table = ceiling(semeval, sem_parts, ScoringConfig())
        print(table)
        if args.readme:
            replace_block(args.readme, "ceiling", table)
        return

    methods: dict[str, tuple[list[np.ndarray], list[list[np.ndarray]]]] = {}
    methods["Naive baseline: whole-answer cosine"] = (
        baseline_point_scores(embedder, [(g.question, g.answer) for g in semeval]),
        _split_back(baseline_point_scores(embedder, kp_items), argkp),
    )
    for name, cfg in (
        (
            "Coverage scorer before issue 5 (formula, no inversion rule)",
            ScoringConfig.formula(inverted_factor=1.0, rivalry_weight=0.0),
        ),
        ("Coverage scorer: formula + inversion rule", ScoringConfig.formula(rivalry_weight=0.0)),
        (SHIPPED_ROW, ScoringConfig()),
        ("Learned matcher (opt-in: ScoringConfig.learned())", learned_cfg),
    ):
        methods[name] = (point_scores(sem_parts, cfg), [point_scores(p, cfg) for p in kp_parts])
    table = report(semeval, argkp, methods, scorer, CoverageScorer(embedder, learned_cfg))
    print(table)
    if args.readme:
        replace_block(args.readme, "unseen", table)


def _split_back(flat: list[np.ndarray], topics: list[ArgKPTopic]) -> list[list[np.ndarray]]:
    out, i = [], 0
    for t in topics:
        out.append(flat[i : i + len(t.arguments)])
        i += len(t.arguments)
    return out


def report(
    semeval: list[Graded],
    argkp: list[ArgKPTopic],
    methods: dict[str, tuple[list[np.ndarray], list[list[np.ndarray]]]],
    scorer: CoverageScorer,
    learned: CoverageScorer,
) -> str:
    columns = [(c, s) for c, splits in SEMEVAL_SPLITS.items() for s in splits]
    header = " | ".join(f"{CORPUS_NAMES[c]} {s.removeprefix('test-')}" for c, s in columns)
    lines = [
        "SemEval-2013 Task 7, 2-way (correct vs not), macro-F1; one threshold per method and corpus, "
        "chosen on the corpus's training split. Contradiction rate: share of the test answers labelled "
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
        thresholds = {c: best_threshold(best[train_index[c]], gold[train_index[c]]) for c in SEMEVAL_SPLITS}
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
    bank = load_bank()
    answers = [(a.question, a.answer) for a in load_eval_set(bank)]
    t_shipped, t_learned = timing(scorer, answers), timing(learned, answers)
    lines += [
        f"Speed, one answer of the bank's eval set (mean {np.mean([len(a.split()) for _, a in answers]):.0f} "
        f"words), warm, {getattr(scorer.embedder, 'precision', '?')}, {os.cpu_count()} cores: shipped "
        f"{t_shipped[0]:.1f} ms median, {t_shipped[1]:.1f} ms p95 ({t_shipped[2]:.1f} ms mean); learned "
        f"matcher {t_learned[0]:.1f} ms median, {t_learned[1]:.1f} ms p95 ({t_learned[2]:.1f} ms mean).",
    ]
    return "\n".join(lines)


def fit(
    semeval: list[Graded],
    sem_parts: list[EvidenceComponents],
    argkp: list[ArgKPTopic],
    kp_parts: list[list[EvidenceComponents]],
    cfg: ScoringConfig,
) -> None:
    train = [i for i, g in enumerate(semeval) if g.split == "train"]
    bags = Bags.concat(
        [
            semeval_bags(
                [semeval[i] for i in train if semeval[i].corpus == c],
                [sem_parts[i] for i in train if semeval[i].corpus == c],
                cfg,
                c,
            )
            for c in SEMEVAL_SPLITS
        ]
        + [
            argkp_bags(
                [t for t in argkp if t.split != "test"],
                [p for t, p in zip(argkp, kp_parts, strict=True) if t.split != "test"],
                cfg,
            )
        ]
    )
    start = _formula_rows(bags, ScoringConfig.formula())
    cs = [0.003, 0.03, 0.3, 3.0]
    results = cross_validate(bags, start, cs)
    for c, r in results.items():
        print(
            f"C={c}: "
            + ", ".join(f"{k} AP {v:.3f}" for k, v in sorted(r.items()))
            + f"; mean {np.mean(list(r.values())):.3f}"
        )
    c = max(results, key=lambda c: np.mean(list(results[c].values())))
    matcher = replace(
        fit_matcher(bags, c, start),
        note=f"bench/unseen.py --fit: MIL logistic regression, C={c} (5-fold CV by question), on "
        f"SemEval-2013 SciEntsBank+Beetle train and ArgKP-2021 train+dev, {len(bags.y)} bags",
    )
    MATCHER_FILE.write_text(matcher.to_json(), encoding="utf-8")
    print(matcher.to_json())


def ceiling(semeval: list[Graded], parts: list[EvidenceComponents], cfg: ScoringConfig) -> str:
    """How far the scorer's evidence can go on SemEval with supervision: classifiers trained on the
    training answers of both corpora, over each answer's evidence terms, thresholds chosen on
    out-of-fold training predictions (folds by question), reported on the test splits.

    If a classifier that sees the labels of 8,900 training answers does no better than the hand formula
    on unseen questions, the limit is in what the embedding evidence carries, not in how it is weighed.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict

    rows = []
    for p in parts:
        evidence = p.combine(cfg)
        k, j = np.unravel_index(np.argmax(evidence), evidence.shape)
        best = evidence.max(axis=1)
        rows.append(np.concatenate([[best.max(), best.mean(), len(best)], p.features(cfg)[k, j]]))
    x = np.array(rows)
    gold = np.array([g.correct for g in semeval], dtype=int)
    corpus = np.array([g.corpus for g in semeval])
    split = np.array([g.split for g in semeval])
    train = split == "train"
    groups = np.array([g.question.id for g in semeval])[train]
    columns = [(c, s) for c, splits in SEMEVAL_SPLITS.items() for s in splits]
    lines = [
        "| classifier over the evidence terms | "
        + " | ".join(f"{CORPUS_NAMES[c]} {s.removeprefix('test-')}" for c, s in columns)
        + " |",
        "|---|" + "---|" * len(columns),
    ]
    in_corpus = {c: corpus[train] == c for c in SEMEVAL_SPLITS}

    def row(name: str, scores: np.ndarray, fitted: np.ndarray) -> str:
        """Macro-F1 per test split, thresholds chosen per corpus on `fitted` (scores of the training
        answers, in their order)."""
        thresholds = {c: best_threshold(fitted[m], gold[train][m]) for c, m in in_corpus.items()}
        cells = [
            macro_f1(scores[(corpus == c) & (split == s)], gold[(corpus == c) & (split == s)], thresholds[c])
            for c, s in columns
        ]
        return f"| {name} | {' | '.join(f'{v:.3f}' for v in cells)} |"

    # the shipped formula's best evidence, its thresholds chosen on the same training answers
    lines.append(row("none: the shipped hand formula, for comparison", x[:, 0], x[train, 0]))
    for name, make in (
        ("logistic regression", lambda: LogisticRegression(C=1.0, max_iter=3000)),
        (
            "gradient-boosted trees",
            lambda: HistGradientBoostingClassifier(
                max_iter=200, learning_rate=0.05, max_leaf_nodes=15, l2_regularization=1.0
            ),
        ),
    ):
        held = cross_val_predict(
            make(), x[train], gold[train], groups=groups, cv=GroupKFold(5), method="predict_proba"
        )[:, 1]
        lines.append(row(name, make().fit(x[train], gold[train]).predict_proba(x)[:, 1], held))
    return "\n".join(lines)


def _formula_rows(bags: Bags, formula: ScoringConfig) -> np.ndarray:
    """The hand formula's evidence per row, from the feature columns: where the iterations start."""
    f = {name: bags.x[:, i] for i, name in enumerate(FEATURES)}
    gate = np.clip((f["similarity"] - formula.lexical_gate) / 0.1 + 0.5, 0.0, 1.0)
    return (
        f["topic_free"]
        - formula.question_penalty * f["question_excess"]
        + formula.lexical_weight * f["lexical"] * gate
        - formula.contradiction_penalty * np.maximum(f["negated_anywhere"], f["inverted"])
    )


if __name__ == "__main__":
    main()
