"""An answer's windows and their evidence for each key point: the terms, the formula and the judge's say.

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

A window that inverts the point (an antonym of one of its words, or its comparison turned
round) is not evidence for it.

The judge's reading of the windows (`practice/scoring/coverage.py` runs it) moves or vetoes the evidence
(`judged`); the windows it reads are chosen here too (`shortlist`, `support_windows`, `nearest_support`).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import cast

import numpy as np

from practice.bank import KeyPoint
from practice.scoring.config import ScoringConfig
from practice.scoring.judge import CONTRADICTS, STATES
from practice.scoring.text import (
    ANTONYMS,
    Token,
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

NEGATION_REACH = 3  # a "not" up to this many words before a window still negates it ("i never use ...")


class EmptyAnswerError(ValueError):
    """The answer has no words to score."""


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
class Prepared:
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


def span_texts(spans: list[tuple[int, int]], prep: Prepared) -> list[str]:
    return [" ".join(prep.words[a:b]) for a, b in spans]


def prepare(answer: str, sizes: tuple[int, ...], support: tuple[int, int] = (0, 1)) -> Prepared:
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
    return Prepared(
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


def occurs(phrase: tuple[str, ...], prep: Prepared, bounds: np.ndarray) -> np.ndarray:
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


def lexical_evidence(
    point: KeyPoint, question_stems: set[str], prep: Prepared, w_q: float, bounds: np.ndarray | None = None
) -> np.ndarray:
    """Per window (the evidence windows, or [start, end) rows of bounds), 0-1: the share of the point's
    words found (question words count w_q), averaged with the share of its terms found (two suffice)
    when it has terms."""
    bounds = prep.bounds if bounds is None else bounds
    point_stems = content_stems(point.text)
    frac = np.zeros(len(bounds))
    if point_stems:
        weights = np.array([w_q if s in question_stems else 1.0 for s in point_stems])
        frac = np.stack([occurs((s,), prep, bounds) for s in point_stems], axis=1) @ weights / weights.sum()
    terms = [t for t in (phrase_stems(term) for term in point.terms) if not set(t) <= question_stems]
    if terms:
        hits = np.sum([occurs(t, prep, bounds) for t in terms], axis=0)
        frac = 0.5 * frac + 0.5 * np.minimum(1.0, hits / min(2, len(terms)))
    return frac.astype(np.float32)


def rivalry(similarity: np.ndarray) -> np.ndarray:
    """Per point and window: how much more similar the window is to the closest other point (negative
    where this point is the closest)."""
    if len(similarity) < 2:
        return np.zeros_like(similarity)
    top = np.sort(similarity, axis=0)
    best_other = np.where(similarity >= top[-1], top[-2], top[-1])
    return best_other - similarity


def contradictions(point: KeyPoint, prep: Prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
