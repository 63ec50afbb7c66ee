"""Key-point coverage: which ideas of the model answer a candidate's answer contains, and where.

The answer's windows and their evidence for each point are made in `practice/scoring/evidence.py`; the
scorer here embeds them and the key points, and has the judge read the windows that matter.

A key point is a short summary ("permutation importance ranks features overall"); candidates rarely say it
that way, but they often say what the model answer says about it ("shuffle a column and see how much the
score drops"). So each point's vector is blended with its anchor: the window of the model answer that
states it best, with the question's direction taken out of it. A point the model answer contains word
for word (derived points, one-sentence reference answers) has no anchor: it already is its own words.

A bi-encoder cannot tell "same topic" from "same claim", so for every point with some evidence, the few
windows with the most evidence are read together with the point by the judge (`practice/scoring/judge.py`,
a cross-encoder trained for this). A point it reads as contradicted in any of them is missed and reported
as contradicted. A point the evidence credits also needs the judge to read it as stated on one of the
answer's windows nearest the point (`judge_support`), so an answer that only uses a point's words loses it.
Its probability that a window states the point can also move the evidence (`judge_weight`), which the
defaults leave off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from practice.bank import Question
from practice.scoring.config import ScoringConfig
from practice.scoring.embedding import Embedder
from practice.scoring.evidence import (
    NEGATION_REACH,
    EvidenceComponents,
    Prepared,
    contradictions,
    credit,
    judged,
    lexical_evidence,
    nearest_support,
    occurs,
    prepare,
    rivalry,
    shortlist,
    span_texts,
)
from practice.scoring.judge import LABELS, STATES, Judge
from practice.scoring.results import Evidence, KeyPointResult, Score, Status
from practice.scoring.text import contains_phrase, content_stems, words


@dataclass
class _Draft:
    """One answer between its evidence and its score: what the judge has read of it so far."""

    question: Question
    answer: str
    prep: Prepared
    parts: EvidenceComponents
    evidence: np.ndarray  # (points, windows), before the judge
    read: np.ndarray  # (points, windows): the shortlist the judge reads
    probabilities: np.ndarray  # (points, windows, len(LABELS)), filled where `read`
    support_vectors: np.ndarray
    support: np.ndarray | None = None  # per point: the best P(states) read on its nearest support windows


# How many of a point's nearest support windows are read before the next are: after the first, the next
# two, then the rest of judge_support_shortlist, each time only for points none has supported yet.
_SUPPORT_STEPS = (1, 3)


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
        """`components` for several answers with one batched embedding call (no support windows: the
        evidence terms do not read them)."""
        prepared = [prepare(answer, self.config.window_sizes) for _, answer in items]
        vectors = self._encode(prepared)
        return [
            self._components(question, prep, v[: len(prep.word_spans)])
            for (question, _), prep, v in zip(items, prepared, vectors, strict=True)
        ]

    def support_windows(self, question: Question, answer: str) -> tuple[list[str], np.ndarray]:
        """The windows the judge's support is read on, as it reads them, and how near each key point each
        of them is (`_nearness`): the judge reads a point's judge_support_shortlist nearest."""
        prep = self._prepare(answer)
        vectors = self.embedder.encode_windows([(prep.words, prep.support_spans)])[0]
        return span_texts(prep.support_spans, prep), self._nearness(question, prep, vectors)

    def _nearness(self, question: Question, prep: Prepared, vectors: np.ndarray) -> np.ndarray:
        """(points, support windows): cosine plus the share of the point's words and terms in the window.
        Cosine alone ranks windows that share the question's topic as high as those that make the point;
        the words rank those that name it higher."""
        bounds = np.array(prep.support_spans, dtype=int).reshape(-1, 2)
        question_stems, w_q = set(content_stems(question.question)), self.config.question_word_weight
        lexical = [lexical_evidence(k, question_stems, prep, w_q, bounds) for k in question.key_points]
        return self._point_vectors(question)[0] @ vectors.T + np.array(lexical, dtype=np.float32)

    def _prepare(self, answer: str) -> Prepared:
        cfg = self.config
        return prepare(answer, cfg.window_sizes, (cfg.judge_support_window, cfg.judge_support_stride))

    def _encode(self, prepared: list[Prepared]) -> list[np.ndarray]:
        """Each answer's window vectors, then its support windows' (pooled from the same model pass)."""
        return self.embedder.encode_windows([(p.words, p.word_spans + p.support_spans) for p in prepared])

    def _components(self, question: Question, prep: Prepared, spans: np.ndarray) -> EvidenceComponents:
        points = question.key_points
        point_vectors, question_vector = self._point_vectors(question)
        question_stems = set(content_stems(question.question))
        w_q = self.config.question_word_weight
        flags = [contradictions(k, prep) for k in points]
        negated, anywhere, inverted = (np.stack([f[i] for f in flags]) for i in range(3))
        similarity = point_vectors @ spans.T
        return EvidenceComponents(
            similarity=similarity,
            point_to_question=point_vectors @ question_vector,
            to_question=spans @ question_vector,
            lexical=np.stack([lexical_evidence(k, question_stems, prep, w_q) for k in points]),
            negated=negated,
            negated_anywhere=anywhere,
            inverted=inverted,
            length=np.array([b - a for a, b in prep.word_spans], dtype=np.float32),
            rivalry=rivalry(similarity),
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
        model = prepare(question.model_answer, (self.config.anchor_window,))
        vectors = self.embedder.encode_windows([(model.words, model.word_spans)])[0]
        anchors = np.zeros_like(points)
        for k, point in enumerate(question.key_points):
            if own[k]:
                continue
            point_stems = content_stems(point.text)
            shared = np.sum(
                [occurs((s,), model, model.bounds) for s in point_stems], axis=0, dtype=np.float32
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
        texts = [span_texts(d.prep.support_spans, d.prep) for d in drafts]
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
    def _window_text(answer: str, prep: Prepared, j: int) -> str:
        """The window with the few words before it: a "not" just before a window still negates it."""
        a, b = prep.word_spans[j]
        first = prep.kept_tokens[max(0, a - NEGATION_REACH)]
        return answer[prep.tokens[first].start : prep.tokens[prep.spans[j][1] - 1].end]

    def _draft(
        self, question: Question, answer: str, prep: Prepared, spans: np.ndarray, support_vectors: np.ndarray
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
    def _evidence(answer: str, prep: Prepared, j: int) -> Evidence:
        a, b = prep.spans[j]
        start, end = prep.tokens[a].start, prep.tokens[b - 1].end
        return Evidence(answer[start:end], start, end)
