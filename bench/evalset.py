"""The hand-labelled evaluation answers in eval/answers/, checked against the bank they refer to."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from practice.bank import Bank, Question
from practice.scoring.structure import COMPONENTS, Component

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


# --- behavioural answers labelled per STAR part (eval/structure/, see its README) -----------------------

StructureStyle = Literal[
    "full", "no-result", "no-situation", "no-task", "no-action", "actions-only", "rambling", "asr", "weak"
]


class _StructureSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    question_id: str
    style: StructureStyle
    answer: str = Field(min_length=1)
    # per part, the words that carry it, verbatim; none: the part is missing
    situation: list[str] = Field(default_factory=list)
    task: list[str] = Field(default_factory=list)
    action: list[str] = Field(default_factory=list)
    result: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class LabelledStructure:
    id: str
    question: Question
    style: str
    answer: str  # with runs of whitespace made one space, so the quotes' offsets point into it
    quotes: dict[Component, tuple[tuple[int, int], ...]]  # per part, [start, end) of each quote in answer

    def present(self, component: Component) -> bool:
        return bool(self.quotes[component])

    @property
    def labels(self) -> list[bool]:
        """Per part, in COMPONENTS order: whether the answer has it."""
        return [self.present(c) for c in COMPONENTS]


def default_structure_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "eval" / "structure"


def load_structure_set(bank: Bank, directory: Path | None = None) -> list[LabelledStructure]:
    """The labelled behavioural answers; EvalSetError names the file and answer of any mistake: a question
    that is not in the bank or not behavioural, a quote that is not in its answer, a repeated id."""
    out: list[LabelledStructure] = []
    for path, row, question in _rows(_StructureSchema, bank, directory or default_structure_dir()):
        if question.kind != "behavioural":
            raise EvalSetError(f"{path}: '{row.id}' answers '{question.id}', which is not behavioural")
        answer = " ".join(row.answer.split())
        quotes: dict[Component, tuple[tuple[int, int], ...]] = {}
        for component in COMPONENTS:
            spans = []
            for quote in getattr(row, component):
                quote = " ".join(quote.split())
                start = answer.find(quote) if quote else -1
                if start < 0:
                    raise EvalSetError(
                        f"{path}: '{row.id}' quotes words for {component} that are not in its answer: "
                        f"'{quote}'"
                    )
                spans.append((start, start + len(quote)))
            quotes[component] = tuple(spans)
        out.append(LabelledStructure(row.id, question, row.style, answer, quotes))
    return out


def load_eval_set(bank: Bank, directory: Path | None = None) -> list[LabelledAnswer]:
    out: list[LabelledAnswer] = []
    for path, row, question in _rows(_LabelSchema, bank, directory or default_eval_dir()):
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


_Row = TypeVar("_Row", _LabelSchema, _StructureSchema)


def _rows(schema: type[_Row], bank: Bank, directory: Path) -> Iterator[tuple[Path, _Row, Question]]:
    """Each labelled answer of the YAML files in `directory`, checked against `schema`, with its question;
    EvalSetError names the file and answer of a schema mistake, a repeated id or an unknown question."""
    adapter = TypeAdapter(list[schema])
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
            yield path, row, bank.questions[row.question_id]


def question_folds(
    answers: Sequence[LabelledAnswer | LabelledStructure], k: int = 4, salt: str = "eval-fold"
) -> np.ndarray:
    """A stable fold number (0..k-1) per answer, by a hash of its question id.

    All answers to one question share a fold, so tuning on the other folds never sees that question.
    """
    return np.array(
        [hashlib.sha256(f"{salt}:{a.question.id}".encode()).digest()[0] % k for a in answers], dtype=int
    )
