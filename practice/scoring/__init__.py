"""Scoring an answer for coverage of a question's key points."""

from __future__ import annotations

import threading

from practice.scoring.coverage import (
    CoverageScorer,
    EmptyAnswerError,
    Evidence,
    KeyPointResult,
    Score,
    ScoringConfig,
)
from practice.scoring.embedding import Embedder, ModelLoadError, default_embedder

__all__ = [
    "CoverageScorer",
    "Embedder",
    "EmptyAnswerError",
    "Evidence",
    "KeyPointResult",
    "ModelLoadError",
    "Score",
    "ScoringConfig",
    "default_scorer",
]

_scorer: CoverageScorer | None = None
_lock = threading.Lock()


def default_scorer() -> CoverageScorer:
    """One scorer on the bundled embedding model per process, loaded on first use."""
    global _scorer
    with _lock:
        if _scorer is None:
            _scorer = CoverageScorer(default_embedder())
        return _scorer
