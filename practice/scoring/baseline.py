"""The naive scorer the benchmark compares against: whole answer vs whole model answer / key point."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from practice.bank import Question
from practice.scoring.embedding import Embedder


def whole_answer_similarity(embedder: Embedder, items: Sequence[tuple[Question, str]]) -> np.ndarray:
    """Cosine between each answer and its model answer: the baseline's coverage (0-1)."""
    answers = embedder.encode([a for _, a in items])
    models = embedder.encode([q.model_answer for q, _ in items])
    return np.sum(answers * models, axis=1)


def whole_answer_point_similarity(embedder: Embedder, question: Question, answer: str) -> np.ndarray:
    """Cosine between the whole answer and each key point: the baseline's per-point evidence."""
    vectors = embedder.encode([answer] + [k.text for k in question.key_points])
    return vectors[1:] @ vectors[0]
