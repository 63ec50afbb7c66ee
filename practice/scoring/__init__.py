"""Scoring an answer for coverage of a question's key points.

The scorer's names load on first use (PEP 562), so importing a light module of the package, such as
`practice.scoring.delivery` or `practice.scoring.text`, does not load numpy, the embedder and the judge.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from practice.scoring.config import ScoringConfig
    from practice.scoring.coverage import CoverageScorer
    from practice.scoring.embedding import Embedder, ModelLoadError
    from practice.scoring.evidence import EmptyAnswerError
    from practice.scoring.judge import Judge
    from practice.scoring.results import Evidence, KeyPointResult, Score

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
    "scorer_in_use",
]

_LAZY = {
    "CoverageScorer": "practice.scoring.coverage",
    "EmptyAnswerError": "practice.scoring.evidence",
    "Evidence": "practice.scoring.results",
    "KeyPointResult": "practice.scoring.results",
    "Score": "practice.scoring.results",
    "ScoringConfig": "practice.scoring.config",
    "Embedder": "practice.scoring.embedding",
    "ModelLoadError": "practice.scoring.embedding",
    "default_embedder": "practice.scoring.embedding",
    "Judge": "practice.scoring.judge",
    "default_judge": "practice.scoring.judge",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # looked up once
    return value


_scorer: CoverageScorer | None = None
_lock = threading.Lock()


def default_scorer() -> CoverageScorer:
    """One scorer on the bundled embedding model and judge per process, loaded on first use."""
    from practice.scoring.coverage import CoverageScorer
    from practice.scoring.embedding import default_embedder
    from practice.scoring.judge import default_judge

    global _scorer
    with _lock:
        if _scorer is None:
            _scorer = CoverageScorer(default_embedder(), judge=default_judge())
        return _scorer


@contextmanager
def scorer_in_use(scorer: CoverageScorer) -> Iterator[CoverageScorer]:
    """`default_scorer()` gives `scorer` inside the block, then what it gave before. The pages, the command
    line and batch grading take the process's scorer from `default_scorer`, so this is how a test (or an
    embedder of the package) puts another scorer, e.g. one on a fake embedder, in place of the bundled one."""
    global _scorer
    with _lock:
        before, _scorer = _scorer, scorer
    try:
        yield scorer
    finally:
        with _lock:
            _scorer = before
