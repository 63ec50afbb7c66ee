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
from practice.scoring.judge import Judge, default_judge

__all__ = [
    "CoverageScorer",
    "Embedder",
    "EmptyAnswerError",
    "Evidence",
    "Judge",
    "KeyPointResult",
    "ModelLoadError",
    "Score",
    "ScoringConfig",
    "default_scorer",
]

_scorer: CoverageScorer | None = None
_lock = threading.Lock()


def default_scorer() -> CoverageScorer:
    """One scorer on the bundled embedding model and judge per process, loaded on first use."""
    global _scorer
    with _lock:
        if _scorer is None:
            _scorer = CoverageScorer(default_embedder(), judge=default_judge())
        return _scorer
