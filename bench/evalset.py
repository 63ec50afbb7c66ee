"""The hand-labelled evaluation answers in eval/answers/, checked against the bank they refer to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from practice.bank import Bank, Question

Style = Literal[
    "strong", "paraphrase", "partial", "weak", "off-topic", "parrot", "contradiction", "asr", "vocabulary"
]


class _LabelSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    question_id: str
    style: Style
    answer: str = Field(min_length=1)
    covered: list[int]
    contradicted: list[int] = Field(default_factory=list)


@dataclass(frozen=True)
class LabelledAnswer:
    id: str
    question: Question
    style: str
    answer: str
    covered: frozenset[int]
    contradicted: frozenset[int] = frozenset()  # points the answer states the opposite of; always missed

    @property
    def labels(self) -> list[bool]:
        return [i in self.covered for i in range(len(self.question.key_points))]

    @property
    def covered_fraction(self) -> float:
        return len(self.covered) / len(self.question.key_points)


class EvalSetError(ValueError):
    """An evaluation file that does not match its schema or the bank."""


def default_eval_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "eval" / "answers"


def load_eval_set(bank: Bank, directory: Path | None = None) -> list[LabelledAnswer]:
    directory = directory or default_eval_dir()
    adapter = TypeAdapter(list[_LabelSchema])
    out: list[LabelledAnswer] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yaml")):
        try:
            rows = adapter.validate_python(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, ValidationError) as exc:
            raise EvalSetError(f"{path}: {exc}") from exc
        for row in rows:
            if row.id in seen:
                raise EvalSetError(f"{path}: duplicate answer id '{row.id}'")
            seen.add(row.id)
            if row.question_id not in bank.questions:
                raise EvalSetError(f"{path}: '{row.id}' names unknown question '{row.question_id}'")
            question = bank.questions[row.question_id]
            bad = [i for i in [*row.covered, *row.contradicted] if not 0 <= i < len(question.key_points)]
            if bad:
                raise EvalSetError(f"{path}: '{row.id}' labels key point(s) {bad} that do not exist")
            both = sorted(set(row.covered) & set(row.contradicted))
            if both:
                raise EvalSetError(
                    f"{path}: '{row.id}' labels key point(s) {both} as both covered and contradicted"
                )
            out.append(
                LabelledAnswer(
                    row.id,
                    question,
                    row.style,
                    row.answer.strip(),
                    frozenset(row.covered),
                    frozenset(row.contradicted),
                )
            )
    return out


def question_folds(answers: list[LabelledAnswer], k: int = 4, salt: str = "eval-fold") -> np.ndarray:
    """A stable fold number (0..k-1) per answer, by a hash of its question id.

    All answers to one question share a fold, so tuning on the other folds never sees that question.
    """
    return np.array(
        [hashlib.sha256(f"{salt}:{a.question.id}".encode()).digest()[0] % k for a in answers], dtype=int
    )
