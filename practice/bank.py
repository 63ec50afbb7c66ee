"""The question bank: YAML files, one per track, loaded and validated into plain dataclasses."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from practice import settings
from practice.files import MEGABYTE, FileReadError, read_text_limited

MAX_KEY_POINTS = 6
# A quick-fire question is answered in a sentence or two, so it looks for few points in a short answer.
QUICK_FIRE_MAX_KEY_POINTS = 3
QUICK_FIRE_MAX_ANSWER_WORDS = 60
MAX_FILE_BYTES = 10 * MEGABYTE  # the bundled bank's largest file is well under 1 MB


class Level(StrEnum):
    basic = "basic"
    intermediate = "intermediate"
    advanced = "advanced"
    expert = "expert"


class Kind(StrEnum):
    technical = "technical"
    behavioural = "behavioural"
    scenario = "scenario"
    quick_fire = "quick-fire"  # asked in a timed round (practice.quickfire), answered in a sentence or two


LEVELS: tuple[str, ...] = tuple(level.value for level in Level)  # in the order a candidate climbs them


@dataclass(frozen=True)
class KeyPoint:
    """One idea a strong answer must contain."""

    text: str
    terms: tuple[str, ...] = ()
    follow_up: str | None = None


@dataclass(frozen=True)
class ExampleAnswers:
    """The same story told twice: in plain words, and polished as a strong candidate would say it."""

    plain: str
    strong: str


@dataclass(frozen=True)
class Question:
    id: str
    track: str
    level: str
    topic: str
    kind: str
    question: str
    model_answer: str
    key_points: tuple[KeyPoint, ...]
    key_points_derived: bool = False
    examples: ExampleAnswers | None = None  # behavioural questions only (optional)


@dataclass(frozen=True)
class Track:
    slug: str
    title: str
    description: str
    source: Path


class BankError(Exception):
    """A bank folder or file that cannot be used; `problems` lists every issue found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


class UnknownQuestionError(KeyError):
    """A question id that is not in the bank."""

    def __init__(self, question_id: str, suggestions: list[str]):
        self.question_id = question_id
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"No question with id '{question_id}' in the bank{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


# --- schema (pydantic) ------------------------------------------------------------------------------------

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def _check_slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError("expected a slug of lowercase letters, digits and hyphens, like 'bias-variance-1'")
    return value


Slug = Annotated[str, AfterValidator(_check_slug)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _KeyPointSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text
    terms: list[Text] = Field(default_factory=list)
    follow_up: Text | None = None


class _ExamplesSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plain: Text
    strong: Text


class _QuestionSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Slug
    level: Level
    topic: Slug
    kind: Kind = Kind.technical
    question: Text
    model_answer: Text
    key_points: list[_KeyPointSchema] | None = Field(default=None, min_length=1, max_length=MAX_KEY_POINTS)
    examples: _ExamplesSchema | None = None

    # Each check names its own field in the error (kind is validated first, being declared before them).
    @field_validator("model_answer")
    @classmethod
    def _quick_fire_answers_are_short(cls, value: str, info: ValidationInfo) -> str:
        length = len(value.split())
        if info.data.get("kind") is Kind.quick_fire and length > QUICK_FIRE_MAX_ANSWER_WORDS:
            raise ValueError(
                f"a quick-fire model answer is a sentence or two, at most {QUICK_FIRE_MAX_ANSWER_WORDS} "
                f"words, not {length}"
            )
        return value

    @field_validator("key_points")
    @classmethod
    def _quick_fire_has_few_points(cls, value: list[Any] | None, info: ValidationInfo) -> list[Any] | None:
        if info.data.get("kind") is Kind.quick_fire and value and len(value) > QUICK_FIRE_MAX_KEY_POINTS:
            raise ValueError(
                f"a quick-fire question has at most {QUICK_FIRE_MAX_KEY_POINTS} key points, not {len(value)}"
            )
        return value

    @field_validator("examples")
    @classmethod
    def _examples_are_for_stories(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        if value is not None and kind is not None and kind is not Kind.behavioural:
            raise ValueError(f"a plain and a strong example answer are for behavioural questions, not {kind}")
        return value

    @field_validator("key_points", mode="before")
    @classmethod
    def _plain_strings_are_key_points(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"text": item} if isinstance(item, str) else item for item in value]
        return value


class _TrackSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")
    track: Slug
    title: Text
    description: str = ""
    questions: list[_QuestionSchema] = Field(min_length=1)


# --- loading ----------------------------------------------------------------------------------------------


def packaged_bank_dir() -> Path:
    """The bank shipped with the app: beside the package in a checkout, inside it in a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "question_bank", here / "question_bank"):
        if candidate.is_dir():
            return candidate
    return here.parent / "question_bank"


def default_bank_dir() -> Path:
    return settings.bank_dir() or packaged_bank_dir()


def derive_key_points(model_answer: str) -> tuple[KeyPoint, ...]:
    """One key point per sentence of the model answer; longer answers are grouped into six."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", model_answer.strip()) if s.strip()]
    if len(sentences) <= MAX_KEY_POINTS:
        return tuple(KeyPoint(text=s) for s in sentences)
    groups: list[list[str]] = [[] for _ in range(MAX_KEY_POINTS)]
    for i, sentence in enumerate(sentences):
        groups[i * MAX_KEY_POINTS // len(sentences)].append(sentence)
    return tuple(KeyPoint(text=" ".join(g)) for g in groups)


def make_question(
    *,
    id: str,
    question: str,
    model_answer: str,
    key_points: Iterable[KeyPoint | str] | None = None,
    track: str = "ad-hoc",
    level: str = "intermediate",
    topic: str = "general",
    kind: str = "technical",
    examples: ExampleAnswers | None = None,
) -> Question:
    """A question built in code (ad-hoc grading, tests); key points are derived when none are given."""
    points = tuple(KeyPoint(text=k) if isinstance(k, str) else k for k in key_points or ())
    return Question(
        id=id,
        track=track,
        level=level,
        topic=topic,
        kind=kind,
        question=question,
        model_answer=model_answer,
        key_points=points or derive_key_points(model_answer),
        key_points_derived=not points,
        examples=examples,
    )


def _describe(error: ErrorDetails, raw: Any, path: Path) -> str:
    loc = list(error["loc"])
    where = f"{path}"
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
        index = loc[1]
        items = raw.get("questions") if isinstance(raw, dict) else None
        item = items[index] if isinstance(items, list) and index < len(items) else None
        qid = item.get("id") if isinstance(item, dict) else None
        where += f": question '{qid}'" if qid else f": question #{index + 1}"
        loc = loc[2:]
    field_name = ".".join(str(p) for p in loc) or "(whole entry)"
    got = error.get("input")
    got_text = "" if error["type"] == "missing" or isinstance(got, dict | list) else f" (got {got!r})"
    return f"{where}: field '{field_name}': {error['msg']}{got_text}"


_TOO_DEEP = "{path}: lists or mappings are nested too deeply inside each other to be a question bank"


def load_track_file(path: Path) -> tuple[Track, list[Question]]:
    """One bank file: its track and questions, or BankError naming the file, question and field."""
    try:
        # A symlink to /dev/zero or a FIFO named *.yaml would never finish reading: refused, one sentence.
        raw = yaml.safe_load(read_text_limited(path, MAX_FILE_BYTES))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise BankError([f"{path}{line}: not valid YAML: {problem}"]) from exc
    except FileReadError as exc:
        raise BankError([f"{path}: cannot be read: {exc.reason}"]) from exc
    except RecursionError as exc:
        raise BankError([_TOO_DEEP.format(path=path)]) from exc
    if isinstance(raw, list):  # a bare list of questions: the file name is the track
        raw = {"track": path.stem.lower(), "title": path.stem.replace("-", " ").title(), "questions": raw}
    if not isinstance(raw, dict):
        raise BankError([f"{path}: expected a mapping with 'track', 'title' and 'questions', or a list"])
    try:
        parsed = _TrackSchema.model_validate(raw)
    except ValidationError as exc:
        raise BankError([_describe(e, raw, path) for e in exc.errors()]) from exc
    except RecursionError as exc:
        raise BankError([_TOO_DEEP.format(path=path)]) from exc
    track = Track(parsed.track, parsed.title, parsed.description.strip(), path)
    return track, [_question(q, track.slug) for q in parsed.questions]


def _question(q: _QuestionSchema, track: str) -> Question:
    points = tuple(
        KeyPoint(k.text, tuple(t.lower() for t in k.terms), k.follow_up) for k in q.key_points or ()
    )
    return make_question(
        id=q.id,
        track=track,
        level=q.level.value,
        topic=q.topic,
        kind=q.kind.value,
        question=q.question,
        model_answer=q.model_answer,
        key_points=points,
        examples=ExampleAnswers(q.examples.plain, q.examples.strong) if q.examples else None,
    )


def validate_question(raw: Any, *, track: str) -> Question:
    """One question in a bank file's format (a mapping), checked by the same schema as a bank file.

    Raises pydantic's ValidationError; for questions written outside a bank folder (the coach's page)."""
    return _question(_QuestionSchema.model_validate(raw), track)


@dataclass
class Bank:
    """All tracks and questions of one bank folder."""

    directory: Path
    tracks: dict[str, Track] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions.values())

    def __len__(self) -> int:
        return len(self.questions)

    def get(self, question_id: str) -> Question:
        try:
            return self.questions[question_id]
        except KeyError:
            close = difflib.get_close_matches(question_id, list(self.questions), n=3, cutoff=0.5)
            raise UnknownQuestionError(question_id, close) from None

    def select(
        self, *, track: str | None = None, level: str | None = None, topics: Iterable[str] | None = None
    ) -> list[Question]:
        wanted = set(topics or ())
        return [
            q
            for q in self
            if (track is None or q.track == track)
            and (level is None or q.level == level)
            and (not wanted or q.topic in wanted)
        ]

    def topics(self, *, track: str | None = None, level: str | None = None) -> list[str]:
        """The topics of the questions of a track and level (of every one left as None)."""
        return sorted({q.topic for q in self.select(track=track, level=level)})


def load_bank(directory: str | os.PathLike[str] | None = None, *, extra_files: Iterable[Path] = ()) -> Bank:
    """Load and validate every *.yaml/*.yml file of a bank folder; raise BankError listing all problems.

    `extra_files` (bank files kept elsewhere: the coach's questions) join it under the same checks, so
    their ids and tracks may not repeat the folder's."""
    root = Path(directory).expanduser() if directory is not None else default_bank_dir()
    if not root.is_dir():
        raise BankError([f"{root}: no such bank folder"])
    files = sorted([*root.glob("*.yaml"), *root.glob("*.yml")])
    if not files:
        raise BankError([f"{root}: no .yaml files in this bank folder"])
    bank = Bank(directory=root)
    problems: list[str] = []
    seen_in: dict[str, Path] = {}
    for path in [*files, *extra_files]:
        try:
            track, questions = load_track_file(path)
        except BankError as exc:
            problems.extend(exc.problems)
            continue
        if track.slug in bank.tracks:
            problems.append(
                f"{path}: track '{track.slug}' is also defined in {bank.tracks[track.slug].source}"
            )
            continue
        bank.tracks[track.slug] = track
        for q in questions:
            if q.id in seen_in:
                problems.append(f"{path}: question '{q.id}': duplicate id, already used in {seen_in[q.id]}")
                continue
            seen_in[q.id] = path
            bank.questions[q.id] = q
    if problems:
        raise BankError(problems)
    return bank
