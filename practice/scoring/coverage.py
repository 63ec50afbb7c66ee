"""Key-point coverage: which ideas of the model answer a candidate's answer contains, and where.

Each key point is matched against overlapping word windows of the answer rather than against the whole
answer, so one strong sentence counts even inside a long reply and padding cannot dilute or inflate it.
A window's evidence for a point combines:

* semantic similarity (sentence embeddings) between the point and the window, with the question's own
  direction removed from both, so that merely talking about the question's topic is not evidence,
* minus a penalty when the window is closer to the question than to the point (reading the question back),
* plus lexical evidence: the point's content words and its listed terms found in the window, with words
  that already stand in the question discounted,
* minus a penalty when the window negates or inverts the point ("does not", "lower" for "higher",
  "B is bigger than A" for "A is bigger than B"),
* minus a penalty when the window is clearly closer to another key point of the question: a span that
  states "recall" well is evidence for the recall point, not for its neighbour "precision".

A key point is a short summary ("permutation importance ranks features overall"); candidates rarely say it
that way, but they often say what the model answer says about it ("shuffle a column and see how much the
score drops"). So each point's vector is blended with its anchor: the window of the model answer that
states it best, with the question's direction taken out of it. A point the model answer contains word
for word (derived points, one-sentence reference answers) has no anchor: it already is its own words.

A window that inverts the point (an antonym of one of its words, or its comparison turned
round) is not evidence for it.

A bi-encoder cannot tell "same topic" from "same claim", so for every point with some evidence, the few
windows with the most evidence are read together with the point by the judge (`practice/scoring/judge.py`,
a cross-encoder trained for this). A point it reads as contradicted in any of them is missed and reported
as contradicted. A point the evidence credits also needs the judge to read it as stated on one of the
answer's windows nearest the point (`judge_support`), so an answer that only uses a point's words loses it.
Its probability that a window states the point can also move the evidence (`judge_weight`), which the
defaults leave off.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

import numpy as np

from practice.bank import KeyPoint, Question
from practice.scoring.embedding import Embedder
from practice.scoring.judge import CONTRADICTS, LABELS, STATES, Judge
from practice.scoring.structure import StructureReport
from practice.scoring.text import (
    ANTONYMS,
    Token,
    contains_phrase,
    content_stems,
    hesitation,
    is_negated,
    negation_scope,
    phrase_stems,
    repeated_runs,
    stem,
    swapped_comparison,
    tokenize,
    windows,
    words,
)

Status = Literal["covered", "partial", "missed"]
NEGATION_REACH = 3  # a "not" up to this many words before a window still negates it ("i never use ...")


class EmptyAnswerError(ValueError):
    """The answer has no words to score."""


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
    # evidence: saying the opposite is not credit. 1.0 leaves only the formula's contradiction_penalty
    # (the scorer before issue 5).
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


@dataclass(frozen=True)
class Evidence:
    """The part of the answer that covers a key point, by character offsets into the answer."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class KeyPointResult:
    key_point: KeyPoint
    status: Status
    similarity: float  # embedding cosine between the point and its best window
    score: float  # the combined evidence score the decision is made on
    evidence: Evidence | None
    contradicted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.key_point.text,
            "status": self.status,
            "similarity": round(self.similarity, 4),
            "score": round(self.score, 4),
            "evidence": asdict(self.evidence) if self.evidence else None,
            "contradicted": self.contradicted,
        }


@dataclass(frozen=True)
class Score:
    question_id: str
    coverage: float  # 0-100
    key_points: tuple[KeyPointResult, ...]
    word_count: int
    structure: StructureReport | None = None  # behavioural questions: the STAR parts (practice.assess)

    def by_status(self, status: Status) -> list[KeyPointResult]:
        return [k for k in self.key_points if k.status == status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "question_id": self.question_id,
            "coverage": round(self.coverage, 1),
            "word_count": self.word_count,
            "key_points": [k.to_dict() for k in self.key_points],
        }


def credit(evidence: np.ndarray, cfg: ScoringConfig) -> np.ndarray:
    """Per key point: 0 below the partial threshold, 1 at the covered threshold, linear in between."""
    return np.clip((evidence - cfg.partial) / (cfg.covered - cfg.partial), 0.0, 1.0)


@dataclass(frozen=True)
class EvidenceComponents:
    """Per key point (rows) and answer window (columns): the terms the evidence score is made of."""

    similarity: np.ndarray  # cosine(point, window)
    point_to_question: np.ndarray  # cosine(point, question), one per point
    to_question: np.ndarray  # cosine(window, question): (windows,), or (points, windows) when stacked
    lexical: np.ndarray  # 0-1 share of the point's words and terms found in the window
    negated: np.ndarray  # bool: a negation scoped to the point's words, or one the point has is missing
    negated_anywhere: np.ndarray  # bool: window (and the 3 words before it) and point differ in negation
    inverted: np.ndarray  # bool: an antonym of a point word, or the point's comparison turned around
    length: np.ndarray  # words per window: (windows,), or (points, windows) when stacked
    rivalry: np.ndarray  # cosine(closest other point, window) - cosine(point, window); < 0: this point leads

    @property
    def contradicted(self) -> np.ndarray:
        """The window negates or inverts the point (what the report flags)."""
        return self.negated_anywhere | self.inverted

    def topic_free_similarity(self, share: float) -> np.ndarray:
        """Cosine after removing `share` of the question's direction from point and window.

        Point and window both "talk about the question"; that shared topic says nothing about whether
        the window holds the point's idea. With b = share, for unit vectors p, w, q:
        cos(p - b(p.q)q, w - b(w.q)q) = (p.w - c pq wq) / sqrt((1 - c pq^2)(1 - c wq^2)), c = 2b - b^2.
        """
        c = 2 * share - share**2
        pq = self.point_to_question[:, None]
        wq = np.atleast_2d(self.to_question)
        return (self.similarity - c * pq * wq) / np.sqrt(np.maximum((1 - c * pq**2) * (1 - c * wq**2), 1e-6))

    def combine(self, cfg: ScoringConfig) -> np.ndarray:
        """Per point and window, the evidence score the decision is made on."""
        similarity = self.topic_free_similarity(cfg.question_projection)
        # a shared word alone is not evidence: lexical evidence fades in as the window nears the point
        about_the_point = np.clip((self.similarity - cfg.lexical_gate) / 0.1 + 0.5, 0.0, 1.0)
        evidence = (
            similarity
            - cfg.question_penalty * np.maximum(0.0, np.atleast_2d(self.to_question) - self.similarity)
            + cfg.lexical_weight * self.lexical * about_the_point
            - cfg.contradiction_penalty * self.contradicted
            - cfg.rivalry_weight * np.maximum(0.0, self.rivalry - cfg.rivalry_margin)
        )
        if cfg.inverted_factor == 1.0:
            return evidence
        return np.where(self.inverted, np.minimum(evidence, cfg.inverted_factor * evidence), evidence)


def shortlist(evidence: np.ndarray, cfg: ScoringConfig, valid: np.ndarray | None = None) -> np.ndarray:
    """Per point and window: whether the judge reads it (the point's top windows, if it has evidence)."""
    if valid is not None:
        evidence = np.where(valid, evidence, -np.inf)
    k = min(cfg.judge_shortlist, evidence.shape[1])
    top = np.argsort(-evidence, axis=1, kind="stable")[:, :k]
    picked = np.zeros(evidence.shape, dtype=bool)
    np.put_along_axis(picked, top, True, axis=1)
    floor = min(cfg.judge_floor, cfg.partial)
    return picked & (evidence.max(axis=1, keepdims=True) >= floor) & np.isfinite(evidence)


def nearest_support(nearness: np.ndarray, cfg: ScoringConfig) -> np.ndarray:
    """Per point (rows of nearness, points x support windows), its judge_support_shortlist nearest support
    windows' columns, nearest first."""
    return np.argsort(-nearness, axis=1, kind="stable")[:, : cfg.judge_support_shortlist]


def support_shortlist(nearness: np.ndarray, cfg: ScoringConfig) -> np.ndarray:
    """Per point and support window (points x windows): whether the judge reads it (`nearest_support`)."""
    nearest = np.zeros(nearness.shape, dtype=bool)
    np.put_along_axis(nearest, nearest_support(nearness, cfg), True, axis=1)
    return nearest


def judged(
    evidence: np.ndarray,
    picked: np.ndarray,
    probabilities: np.ndarray,
    cfg: ScoringConfig,
    support: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The evidence after the judge, and per point and window whether the judge read a contradiction.

    probabilities: (points, windows, len(LABELS)), read where `picked` (the shortlist). A point the judge
    read is decided on its shortlisted windows only; the others keep their evidence (all below
    judge_floor). support: per point, the highest P(states) the judge read on the support windows nearest
    it (`CoverageScorer._read_support`); needed only for points the evidence credits.
    """
    states, contradicts = probabilities[..., STATES], probabilities[..., CONTRADICTS]
    opposite = picked & (contradicts >= cfg.judge_contradiction) & (contradicts > states)
    # saying the opposite anywhere on the shortlist outweighs a window that seems to state it: that window
    # is usually the same words read without their "not"
    denied = opposite.any(axis=1, keepdims=True)
    after = np.where(denied, -1.0, evidence + cfg.judge_weight * (states - 0.5))
    any_picked = picked.any(axis=1, keepdims=True)
    after = np.where(picked, after, np.where(any_picked, -1.0, evidence))
    if cfg.judge_support > 0 and support is not None:
        unsupported = (after.max(axis=1) >= cfg.partial) & (support < cfg.judge_support)
        after = np.where(unsupported[:, None], -1.0, after)
    return after, opposite


@dataclass
class _Prepared:
    """An answer cut into windows, ready to be embedded."""

    tokens: list[Token]
    spans: list[tuple[int, int]]  # [start, end) into tokens, hesitations included
    words: list[str]  # the answer's words without hesitations
    kept_tokens: list[int]  # where each of those words stands in tokens
    word_spans: list[tuple[int, int]]  # the same windows as [start, end) into words
    span_stems: list[list[str]]
    positions: dict[str, list[int]]  # stem -> where it stands in words
    bounds: np.ndarray  # word_spans as an (windows, 2) array
    span_negated: list[bool]
    span_reach: list[list[str]]  # a window's words and the NEGATION_REACH words before it
    support_spans: list[tuple[int, int]]  # the windows the judge's support is read on, into words


@dataclass
class _Draft:
    """One answer between its evidence and its score: what the judge has read of it so far."""

    question: Question
    answer: str
    prep: _Prepared
    parts: EvidenceComponents
    evidence: np.ndarray  # (points, windows), before the judge
    read: np.ndarray  # (points, windows): the shortlist the judge reads
    probabilities: np.ndarray  # (points, windows, len(LABELS)), filled where `read`
    support_vectors: np.ndarray
    support: np.ndarray | None = None  # per point: the best P(states) read on its nearest support windows


# How many of a point's nearest support windows are read before the next are: after the first, the next
# two, then the rest of judge_support_shortlist, each time only for points none has supported yet.
_SUPPORT_STEPS = (1, 3)


def _word_hash(word: str) -> int:
    """The same number for a word however it is typed or transcribed (case and punctuation ignored)."""
    return zlib.crc32(re.sub(r"[^\w']", "", word.lower()).encode())


def support_windows(kept: list[str], size: int, stride: int) -> list[tuple[int, int]]:
    """[start, end) windows of `size` of the answer's kept words (hesitations and repeated runs left out, as
    for the evidence; punctuation plays no part), starting at about one word in `stride`.

    Where a window starts is decided by the words themselves (a stable hash of the word there), not by
    its position: words said before the answer then cannot move the windows inside it, so the same
    sentence is read the same way wherever it stands. No two starts are more than twice the stride apart.
    """
    if not kept:
        return []
    starts, gap = [0], 2 * stride
    for i in range(1, max(1, len(kept) - size + 1)):
        if _word_hash(kept[i]) % stride == 0 or i - starts[-1] >= gap:
            starts.append(i)
    starts.append(max(0, len(kept) - size))
    return [(i, min(len(kept), i + size)) for i in sorted(set(starts))]


def _texts(spans: list[tuple[int, int]], prep: _Prepared) -> list[str]:
    return [" ".join(prep.words[a:b]) for a, b in spans]


def _prepare(answer: str, sizes: tuple[int, ...], support: tuple[int, int] = (0, 1)) -> _Prepared:
    """support: (words per support window, mean stride between their starts); a size of 0: none."""
    tokens = tokenize(answer)
    keep = [i for i, t in enumerate(tokens) if hesitation(t.text) is None]
    if not keep:
        raise EmptyAnswerError("The answer has no words to score.")
    repeats = repeated_runs([tokens[i].text for i in keep])  # saying it again adds nothing
    keep = [i for n, i in enumerate(keep) if n not in repeats]
    kept = [tokens[i].text for i in keep]
    word_spans = windows(len(kept), sizes)
    positions: dict[str, list[int]] = {}
    for i, w in enumerate(kept):
        positions.setdefault(stem(w), []).append(i)
    return _Prepared(
        tokens=tokens,
        spans=[(keep[a], keep[b - 1] + 1) for a, b in word_spans],
        words=kept,
        kept_tokens=keep,
        word_spans=word_spans,
        span_stems=[[stem(w) for w in kept[a:b]] for a, b in word_spans],
        positions=positions,
        bounds=np.array(word_spans, dtype=int).reshape(-1, 2),
        span_negated=[is_negated(kept[max(0, a - NEGATION_REACH) : b]) for a, b in word_spans],
        span_reach=[kept[max(0, a - NEGATION_REACH) : b] for a, b in word_spans],
        support_spans=support_windows(kept, *support) if support[0] else [],
    )


def _occurs(phrase: tuple[str, ...], prep: _Prepared, bounds: np.ndarray) -> np.ndarray:
    """Per window ([start, end) rows of bounds): whether the phrase's stems stand in it, in order and
    adjacent."""
    n = len(phrase)
    starts = [
        i
        for i in (prep.positions.get(phrase[0], []) if n else [])
        if all(i + m in prep.positions.get(phrase[m], ()) for m in range(1, n))
    ]
    if not starts:
        return np.zeros(len(bounds), dtype=bool)
    first = np.array(starts)[None, :]
    return cast(np.ndarray, ((first >= bounds[:, :1]) & (first + n <= bounds[:, 1:])).any(axis=1))


def _lexical_evidence(
    point: KeyPoint, question_stems: set[str], prep: _Prepared, w_q: float, bounds: np.ndarray | None = None
) -> np.ndarray:
    """Per window (the evidence windows, or [start, end) rows of bounds), 0-1: the share of the point's
    words found (question words count w_q), averaged with the share of its terms found (two suffice)
    when it has terms."""
    bounds = prep.bounds if bounds is None else bounds
    point_stems = content_stems(point.text)
    frac = np.zeros(len(bounds))
    if point_stems:
        weights = np.array([w_q if s in question_stems else 1.0 for s in point_stems])
        frac = np.stack([_occurs((s,), prep, bounds) for s in point_stems], axis=1) @ weights / weights.sum()
    terms = [t for t in (phrase_stems(term) for term in point.terms) if not set(t) <= question_stems]
    if terms:
        hits = np.sum([_occurs(t, prep, bounds) for t in terms], axis=0)
        frac = 0.5 * frac + 0.5 * np.minimum(1.0, hits / min(2, len(terms)))
    return frac.astype(np.float32)


def _rivalry(similarity: np.ndarray) -> np.ndarray:
    """Per point and window: how much more similar the window is to the closest other point (negative
    where this point is the closest)."""
    if len(similarity) < 2:
        return np.zeros_like(similarity)
    top = np.sort(similarity, axis=0)
    best_other = np.where(similarity >= top[-1], top[-2], top[-1])
    return best_other - similarity


def _contradictions(point: KeyPoint, prep: _Prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window: (negated, negated_anywhere, inverted), see EvidenceComponents."""
    point_words = words(point.text)
    point_negated = is_negated(point_words)
    point_stems = {stem(w) for w in point_words}
    targets = set(content_stems(point.text)).union(*(phrase_stems(t) for t in point.terms))
    opposites = set().union(*(ANTONYMS.get(s, frozenset()) for s in point_stems)) - point_stems
    n = len(prep.span_stems)
    negated, anywhere, inverted = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    for j, stems in enumerate(prep.span_stems):
        present = set(stems)
        anywhere[j] = prep.span_negated[j] != point_negated
        if point_negated:
            negated[j] = not prep.span_negated[j]
        else:
            negated[j] = negation_scope(prep.span_reach[j], targets)
        a, b = prep.word_spans[j]
        # a window may cut a comparison short ("a tree is deeper than a"): read it with a few words around
        around = prep.words[max(0, a - NEGATION_REACH) : b + NEGATION_REACH]
        swapped = swapped_comparison(point_words, around) if "than" in point_words else None
        if swapped is not None:
            inverted[j] = swapped
        else:
            inverted[j] = bool(opposites & present) and not (point_stems & ANTONYMS.keys() & present)
    return negated, anywhere, inverted


class CoverageScorer:
    """Scores answers against a question's key points. Thread-safe; share one per process."""

    def __init__(self, embedder: Embedder, config: ScoringConfig | None = None, judge: Judge | None = None):
        self.embedder = embedder
        self.config = config or ScoringConfig()
        self.judge = judge  # None: the evidence alone decides (research baselines, tests of the formula)
        self._anchored: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def score(self, question: Question, answer: str) -> Score:
        return self.score_many([(question, answer)])[0]

    def score_many(self, items: Sequence[tuple[Question, str]]) -> list[Score]:
        """Score several answers with one batched embedding call and one judge call per step (faster for
        batch grading: the judge's batches are fuller and it starts once, not once per answer)."""
        prepared = [self._prepare(answer) for _, answer in items]
        vectors = self._encode(prepared)
        drafts = [
            self._draft(question, answer, prep, v[: len(prep.word_spans)], v[len(prep.word_spans) :])
            for (question, answer), prep, v in zip(items, prepared, vectors, strict=True)
        ]
        if self.judge is not None:
            self._read_shortlists(drafts)
            if self.config.judge_support > 0:
                self._read_support(drafts)
        return [self._finish(d) for d in drafts]

    def components(self, question: Question, answer: str) -> EvidenceComponents:
        """The per-window evidence terms before weighting (used by the benchmark to tune the weights)."""
        return self.components_many([(question, answer)])[0]

    def components_many(self, items: Sequence[tuple[Question, str]]) -> list[EvidenceComponents]:
        """`components` for several answers with one batched embedding call."""
        prepared = [self._prepare(answer) for _, answer in items]
        vectors = self._encode(prepared)
        return [
            self._components(question, prep, v[: len(prep.word_spans)])
            for (question, _), prep, v in zip(items, prepared, vectors, strict=True)
        ]

    def support_windows(self, question: Question, answer: str) -> tuple[list[str], np.ndarray]:
        """The windows the judge's support is read on, as it reads them, and how near each key point each
        of them is (`_nearness`): the judge reads a point's judge_support_shortlist nearest."""
        prep = self._prepare(answer)
        vectors = self._encode([prep])[0][len(prep.word_spans) :]
        return _texts(prep.support_spans, prep), self._nearness(question, prep, vectors)

    def _nearness(self, question: Question, prep: _Prepared, vectors: np.ndarray) -> np.ndarray:
        """(points, support windows): cosine plus the share of the point's words and terms in the window.
        Cosine alone ranks windows that share the question's topic as high as those that make the point;
        the words rank those that name it higher."""
        bounds = np.array(prep.support_spans, dtype=int).reshape(-1, 2)
        question_stems, w_q = set(content_stems(question.question)), self.config.question_word_weight
        lexical = [_lexical_evidence(k, question_stems, prep, w_q, bounds) for k in question.key_points]
        return self._point_vectors(question)[0] @ vectors.T + np.array(lexical, dtype=np.float32)

    def _prepare(self, answer: str) -> _Prepared:
        cfg = self.config
        return _prepare(answer, cfg.window_sizes, (cfg.judge_support_window, cfg.judge_support_stride))

    def _encode(self, prepared: list[_Prepared]) -> list[np.ndarray]:
        """Each answer's window vectors, then its support windows' (pooled from the same model pass)."""
        return self.embedder.encode_windows([(p.words, p.word_spans + p.support_spans) for p in prepared])

    def _components(self, question: Question, prep: _Prepared, spans: np.ndarray) -> EvidenceComponents:
        points = question.key_points
        point_vectors, question_vector = self._point_vectors(question)
        question_stems = set(content_stems(question.question))
        w_q = self.config.question_word_weight
        flags = [_contradictions(k, prep) for k in points]
        negated, anywhere, inverted = (np.stack([f[i] for f in flags]) for i in range(3))
        similarity = point_vectors @ spans.T
        return EvidenceComponents(
            similarity=similarity,
            point_to_question=point_vectors @ question_vector,
            to_question=spans @ question_vector,
            lexical=np.stack([_lexical_evidence(k, question_stems, prep, w_q) for k in points]),
            negated=negated,
            negated_anywhere=anywhere,
            inverted=inverted,
            length=np.array([b - a for a, b in prep.word_spans], dtype=np.float32),
            rivalry=_rivalry(similarity),
        )

    def _point_vectors(self, question: Question) -> tuple[np.ndarray, np.ndarray]:
        """(key point vectors blended with their anchors, question vector); computed once per question."""
        key = (question.question, question.model_answer, tuple(k.text for k in question.key_points))
        with self._lock:
            found = self._anchored.get(key)
        if found is not None:
            return found
        refs = self.embedder.encode([k.text for k in question.key_points] + [question.question])
        points, question_vector = refs[:-1], refs[-1]
        anchors = self._anchors(question, points, question_vector)
        if anchors is not None:
            points = points + self.config.anchor_weight * anchors
            points = points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
        with self._lock:
            self._anchored[key] = (points, question_vector)
            while len(self._anchored) > 4096:
                self._anchored.popitem(last=False)
        return points, question_vector

    def _anchors(
        self, question: Question, points: np.ndarray, question_vector: np.ndarray
    ) -> np.ndarray | None:
        """Per key point, the model-answer window that states it best, without the question's direction.

        The window also speaks of the question's topic; left in, that topic would pull every point
        towards any answer that merely names it. A zero row: the point has no anchor.
        """
        if self.config.anchor_weight == 0:
            return None
        answer_words = words(question.model_answer)
        own = [contains_phrase(answer_words, tuple(words(k.text))) for k in question.key_points]
        if not answer_words or all(own):
            return None
        model = _prepare(question.model_answer, (self.config.anchor_window,))
        vectors = self.embedder.encode_windows([(model.words, model.word_spans)])[0]
        anchors = np.zeros_like(points)
        for k, point in enumerate(question.key_points):
            if own[k]:
                continue
            point_stems = content_stems(point.text)
            shared = np.sum(
                [_occurs((s,), model, model.bounds) for s in point_stems], axis=0, dtype=np.float32
            )
            # the point's own words break near-ties between windows that are about the same topic
            fit = vectors @ points[k] + 0.5 * shared / max(1, len(point_stems))
            anchor = vectors[int(np.argmax(fit))]
            anchor = anchor - (anchor @ question_vector) * question_vector
            anchors[k] = anchor / max(float(np.linalg.norm(anchor)), 1e-12)
        return anchors

    def _read_shortlists(self, drafts: list[_Draft]) -> None:
        """The judge's probabilities on each answer's shortlisted windows (`shortlist`), in one call."""
        assert self.judge is not None
        pairs, where = [], []
        for d in drafts:
            rows, cols = np.nonzero(d.read)
            texts = {j: self._window_text(d.answer, d.prep, j) for j in set(cols.tolist())}
            pairs += [
                (d.question.key_points[k].text, texts[j])
                for k, j in zip(rows.tolist(), cols.tolist(), strict=True)
            ]
            where.append((rows, cols))
        probabilities = self.judge.judge(pairs)
        start = 0
        for d, (rows, cols) in zip(drafts, where, strict=True):
            d.probabilities[rows, cols] = probabilities[start : start + len(rows)]
            start += len(rows)

    def _read_support(self, drafts: list[_Draft]) -> None:
        """Per answer and key point the evidence credits, whether the judge reads P(states) >= judge_support
        on one of the judge_support_shortlist support windows nearest the point (`nearest_support`).

        The nearest windows are read first and the next ones only for points not yet supported: most made
        points are supported by their nearest window, and the verdict (any window reaching the threshold)
        is the same as reading them all. Each step is one judge call over every answer.
        """
        assert self.judge is not None
        cfg = self.config
        ranked: list[dict[int, np.ndarray]] = []  # per draft: credited point -> its windows, nearest first
        support = [np.zeros(len(d.question.key_points), dtype=np.float32) for d in drafts]
        for d in drafts:
            credited = judged(d.evidence, d.read, d.probabilities, cfg)[0].max(axis=1) >= cfg.partial
            wanted = np.nonzero(credited)[0]
            if not len(wanted) or not d.prep.support_spans:
                ranked.append({})
                continue
            order = nearest_support(self._nearness(d.question, d.prep, d.support_vectors)[wanted], cfg)
            ranked.append(dict(zip(wanted.tolist(), order, strict=True)))
        texts = [_texts(d.prep.support_spans, d.prep) for d in drafts]
        start = 0
        for stop in (*_SUPPORT_STEPS, cfg.judge_support_shortlist):
            pairs, where = [], []
            for i, d in enumerate(drafts):
                for k, order in ranked[i].items():
                    if support[i][k] < cfg.judge_support:
                        pairs += [(d.question.key_points[k].text, texts[i][j]) for j in order[start:stop]]
                        where += [(i, k)] * len(order[start:stop])
            if not pairs:
                break
            for (i, k), p in zip(where, self.judge.judge(pairs)[:, STATES], strict=True):
                support[i][k] = max(support[i][k], p)
            start = stop
        for d, points in zip(drafts, support, strict=True):
            d.support = points

    def window_texts(self, answer: str) -> list[str]:
        """The answer's windows as the judge reads them, in the order of `components`' columns."""
        prep = self._prepare(answer)
        return [self._window_text(answer, prep, j) for j in range(len(prep.spans))]

    @staticmethod
    def _window_text(answer: str, prep: _Prepared, j: int) -> str:
        """The window with the few words before it: a "not" just before a window still negates it."""
        a, b = prep.word_spans[j]
        first = prep.kept_tokens[max(0, a - NEGATION_REACH)]
        return answer[prep.tokens[first].start : prep.tokens[prep.spans[j][1] - 1].end]

    def _draft(
        self, question: Question, answer: str, prep: _Prepared, spans: np.ndarray, support_vectors: np.ndarray
    ) -> _Draft:
        parts = self._components(question, prep, spans)
        evidence = parts.combine(self.config)
        read = (
            np.zeros(evidence.shape, dtype=bool) if self.judge is None else shortlist(evidence, self.config)
        )
        probabilities = np.zeros((*evidence.shape, len(LABELS)), dtype=np.float32)
        return _Draft(question, answer, prep, parts, evidence, read, probabilities, support_vectors)

    def _finish(self, d: _Draft) -> Score:
        cfg, question, answer, prep, parts = self.config, d.question, d.answer, d.prep, d.parts
        evidence, read = d.evidence, d.read
        if self.judge is not None:
            evidence, opposite = judged(evidence, read, d.probabilities, cfg, d.support)
        results = []
        for k, point in enumerate(question.key_points):
            best = int(np.argmax(evidence[k]))
            value = float(evidence[k, best])
            status: Status = (
                "covered" if value >= cfg.covered else "partial" if value >= cfg.partial else "missed"
            )
            if self.judge is None:  # the evidence formula's own flags, on the window that decided
                contradicted, shown = bool(parts.contradicted[k, best]), best if status != "missed" else None
            else:
                contradicted = bool(opposite[k].any())  # then the point is missed
                # the clause, not the paragraph: the shortest window the judge read that makes the decision
                candidates = (
                    opposite[k]
                    if contradicted
                    else read[k] & (evidence[k] >= (cfg.covered if status == "covered" else cfg.partial))
                )
                found: np.ndarray | list[int] = (
                    np.nonzero(candidates)[0] if contradicted or status != "missed" else []
                )
                shown = min(
                    found,
                    key=lambda j: (prep.word_spans[j][1] - prep.word_spans[j][0], -evidence[k, j]),
                    default=None,
                )
            results.append(
                KeyPointResult(
                    point,
                    status,
                    float(parts.similarity[k, best if shown is None else shown]),
                    value,
                    None if shown is None else self._evidence(answer, prep, int(shown)),
                    contradicted,
                )
            )
        points_credit = credit(np.array([r.score for r in results]), cfg)
        return Score(question.id, 100.0 * float(np.mean(points_credit)), tuple(results), len(prep.tokens))

    @staticmethod
    def _evidence(answer: str, prep: _Prepared, j: int) -> Evidence:
        a, b = prep.spans[j]
        start, end = prep.tokens[a].start, prep.tokens[b - 1].end
        return Evidence(answer[start:end], start, end)
