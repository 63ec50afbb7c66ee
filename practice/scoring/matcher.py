"""The learned matcher: a logistic model that turns a window's evidence terms into P(window states point).

The coefficients live in `matcher.json` beside this module. They are fitted offline by
`bench/unseen.py --fit` on public training data only (SemEval-2013 Task 7 SciEntsBank and Beetle training
answers, ArgKP-2021 train and dev), model selection split by question; nothing is trained at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MATCHER_FILE = Path(__file__).with_name("matcher.json")

# The evidence terms the model reads, in order (computed by EvidenceComponents.features).
FEATURES = (
    "similarity",  # cosine(point, window)
    "topic_free",  # the same cosine with the question's direction removed from both
    "to_question",  # cosine(window, question)
    "question_excess",  # how much closer the window is to the question than to the point
    "point_to_question",  # cosine(point, question): points that restate the question are weak evidence
    "lexical",  # share of the point's words and terms in the window, question words discounted
    "lexical_x_similarity",  # shared words count more when the window is also close in meaning
    "negated",  # a negation in the window scoped to the point's words, or missing where the point has one
    "negated_anywhere",  # the window and the point differ in negation anywhere in the window
    "inverted",  # an antonym of a point word, or the point's comparison the other way round
    "log_length",  # log of the window's word count
)


@dataclass(frozen=True)
class Matcher:
    """w . features + b per window; the evidence is its logistic."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    note: str = ""

    def __post_init__(self) -> None:
        if self.features != FEATURES:
            raise ValueError(f"matcher features {self.features} do not match the scorer's {FEATURES}")
        if len(self.coef) != len(self.features):
            raise ValueError("one coefficient per feature expected")

    def probability(self, features: np.ndarray) -> np.ndarray:
        """features: (..., len(FEATURES)) -> (...) probabilities."""
        z = features @ np.asarray(self.coef, dtype=features.dtype) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "note": self.note,
                    "intercept": round(self.intercept, 6),
                    "coef": {f: round(c, 6) for f, c in zip(self.features, self.coef, strict=True)},
                },
                indent=2,
            )
            + "\n"
        )

    @classmethod
    def from_json(cls, text: str) -> Matcher:
        data = json.loads(text)
        coef = data["coef"]
        return cls(
            tuple(coef), tuple(float(v) for v in coef.values()), float(data["intercept"]), data["note"]
        )


@lru_cache(maxsize=1)
def default_matcher() -> Matcher:
    return Matcher.from_json(MATCHER_FILE.read_text(encoding="utf-8"))
