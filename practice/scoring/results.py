"""What scoring an answer yields: per key point covered / partial / missed with the words that show it,
and the answer's coverage."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from practice.bank import KeyPoint
from practice.scoring.structure import StructureReport

Status = Literal["covered", "partial", "missed"]


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
