"""The coach's own questions: one bank file in the app's data folder, apart from the shipped bank.

The file is in the bank's format (track `coach`, "Coach's questions"), so the bank loads it beside its own
folder (`load_with_coach`) under the same checks, and an export of it is a bank file `practice bank check`
accepts. Every change is checked by the bank's schema before anything is written, and the file is replaced
atomically, so it always loads. Ids may not repeat the bank's: a coach's question never hides a shipped one.

CSV import and export use one row per question: CSV_COLUMNS, key points in numbered columns (`key_point_1`,
`terms_1` as a comma list, `follow_up_1`, up to six); key point columns left empty are derived from the
model answer, as in a bank file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from practice import settings
from practice.bank import (
    MAX_FILE_BYTES,
    MAX_KEY_POINTS,
    Bank,
    BankError,
    KeyPoint,
    Question,
    load_bank,
    load_track_file,
    validate_question,
)
from practice.files import MEGABYTE, FileReadError, read_limited
from practice.storage import spreadsheet_text

FILE_NAME = "coach-questions.yaml"
TRACK = "coach"
TITLE = "Coach's questions"
DESCRIPTION = "Questions your coach wrote in the app."
MAX_IMPORT_BYTES = 2 * MEGABYTE
MAX_IMPORT_QUESTIONS = 1000  # YAML aliases can repeat one question a million times within the byte limit

QUESTION_COLUMNS = ("id", "level", "topic", "kind", "question", "model_answer")
POINT_COLUMNS = tuple(
    f"{name}_{i}" for i in range(1, MAX_KEY_POINTS + 1) for name in ("key_point", "terms", "follow_up")
)
CSV_COLUMNS = QUESTION_COLUMNS + POINT_COLUMNS
REQUIRED_COLUMNS = ("level", "topic", "question", "model_answer")  # an empty id is made from the question

# Two browser sessions saving at once would each write their own list and lose the other's question.
_WRITING = threading.Lock()
# Parsed questions by file, while its stamp stays the same: a page run parses no YAML (pure-Python parsing
# takes milliseconds a question; reading and hashing the file, microseconds).
_READ: dict[Path, tuple[str, list[Question]]] = {}


class CoachBankError(ValueError):
    """A change to the coach's questions that was refused; the message is one sentence."""


class QuestionGone(CoachBankError):
    """The question to change is not among the coach's any more (deleted in another window)."""


class ImportRefused(CoachBankError):
    """A file whose questions were not imported; `problems` has one sentence per bad row."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


@dataclass(frozen=True)
class Draft:
    """A question as the coach wrote it, before the bank's checks: an empty `id` is made from the question,
    no key points means they are derived from the model answer."""

    question: str
    model_answer: str
    level: str
    topic: str
    kind: str = "technical"
    id: str = ""
    key_points: tuple[KeyPoint, ...] = ()


@dataclass(frozen=True)
class Imported:
    """What an import did, by question id."""

    added: tuple[str, ...]
    replaced: tuple[str, ...]
    unchanged: tuple[str, ...]

    def summary(self) -> str:
        parts = [f"{len(self.added)} added"]
        if self.replaced:
            parts.append(f"{len(self.replaced)} replaced ({', '.join(self.replaced)})")
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} already the same")
        total = len(self.added) + len(self.replaced) + len(self.unchanged)
        return f"Imported {total} question{'s' if total != 1 else ''}: {', '.join(parts)}."


# --- where, and the merged bank ----------------------------------------------------------------------------


def coach_bank_path() -> Path:
    """`PRACTICE_COACH_BANK`, else coach-questions.yaml in the app's data folder (beside the database)."""
    return settings.coach_bank() or settings.data_dir() / FILE_NAME


def load_with_coach(directory: str | os.PathLike[str] | None = None, *, path: Path | None = None) -> Bank:
    """The bank of `directory` (default: the shipped one) with the coach's questions, when there are any.

    This is how practice, the app and the `practice` command load the bank; BankError names the file,
    question and field of a problem, or an id the coach's questions share with the bank."""
    path = path or coach_bank_path()
    return load_bank(directory, extra_files=[path] if os.path.lexists(path) else [])


def stamp(path: Path | None = None) -> str | None:
    """A digest of the coach's questions file, None without one: a key for caches of what it holds.

    Its content, not its time and inode: two saves within one clock tick can reuse both."""
    try:
        return hashlib.blake2b(read_limited(path or coach_bank_path(), MAX_FILE_BYTES)).hexdigest()
    except FileReadError:
        return None


def suggest_id(question: str, taken: Collection[str]) -> str:
    """A slug from the question's first words, `coach-` in front, not one of `taken`."""
    words = re.findall(r"[a-z0-9]+", question.lower())[:8]
    base = ("coach-" + "-".join(words))[:72].rstrip("-")
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def parse_terms(text: str) -> tuple[str, ...]:
    """A comma list as the form and the CSV write terms: 'held out, validation set' -> two terms."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


# --- the coach's questions ---------------------------------------------------------------------------------


class CoachBank:
    """The coach's questions, kept in `path`; `bank` is the bank they join (its ids are taken)."""

    def __init__(self, bank: Bank, path: Path | None = None):
        self.bank = bank
        self.path = path or coach_bank_path()

    # reading

    def questions(self) -> list[Question]:
        """In the order they were added; CoachBankError when the file was damaged outside the app."""
        if not os.path.lexists(self.path):
            return []
        current = stamp(self.path)  # before reading: a file replaced meanwhile is read again next time
        cached = _READ.get(self.path)
        if cached is not None and current is not None and cached[0] == current:
            return list(cached[1])
        try:
            _track, questions = load_track_file(self.path)
        except BankError as exc:
            problem = str(exc).replace(str(self.path), FILE_NAME)  # no server path in the browser
            raise CoachBankError(
                f"Your questions file cannot be read, so nothing can be changed until it is fixed: {problem}"
            ) from exc
        if current is not None:
            _READ[self.path] = (current, questions)
        return list(questions)

    def get(self, question_id: str) -> Question:
        for q in self.questions():
            if q.id == question_id:
                return q
        raise QuestionGone(f"There is no question '{question_id}' among your questions any more.")

    def clashes(self) -> list[str]:
        """Ids of the coach's questions that the bank uses too (a bank updated after they were written)."""
        return [q.id for q in self.questions() if self._shipped(q.id)]

    # changing

    def save(self, draft: Draft, *, replacing: str | None = None) -> Question:
        """Add a question, or replace the one with id `replacing` (its id may change); one sentence on a
        mistake, naming the field, and then nothing is written."""
        with _WRITING:
            questions = self.questions()
            ids = [q.id for q in questions]
            if replacing is not None and replacing not in ids:
                raise QuestionGone(
                    f"The question '{replacing}' was deleted meanwhile (in another window?): "
                    "save again to add it as a new question."
                )
            others = [i for i in ids if i != replacing]
            question = self._check(
                _draft_raw(draft, taken=[*others, *self.bank.questions]), label="Not saved", others=others
            )
            if replacing is None:
                questions.append(question)
            else:
                questions[ids.index(replacing)] = question
            self._write(questions)
        return question

    def delete(self, question_id: str) -> None:
        """Remove one question; its attempts stay in the database (the Review page shows them)."""
        with _WRITING:
            questions = self.questions()
            kept = [q for q in questions if q.id != question_id]
            if len(kept) == len(questions):
                raise QuestionGone(f"There is no question '{question_id}' among your questions any more.")
            self._write(kept)

    def import_file(self, name: str, data: bytes) -> Imported:
        """Questions from a CSV (CSV_COLUMNS) or a YAML file in the bank's format. Every row is checked
        before any is saved: ImportRefused has one sentence per bad row, naming the row and field.
        A question whose id is already one of the coach's replaces it."""
        suffix = Path(name).suffix.lower()
        if suffix not in (".csv", ".yaml", ".yml"):
            raise CoachBankError("Import a .csv file or a .yaml file in the question bank's format.")
        if len(data) > MAX_IMPORT_BYTES:
            raise CoachBankError(f"The file is larger than the {MAX_IMPORT_BYTES // MEGABYTE} MB limit.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CoachBankError(
                "The file is not UTF-8 text: save it as UTF-8 and import it again."
            ) from None
        with _WRITING:
            questions = self.questions()
            mine = {q.id: q for q in questions}
            rows = _csv_rows(text) if suffix == ".csv" else _yaml_rows(text)
            if len(rows) > MAX_IMPORT_QUESTIONS:
                limit = f"import at most {MAX_IMPORT_QUESTIONS:,} at a time"
                raise CoachBankError(f"The file has {len(rows):,} questions: {limit}.")
            checked: dict[str, Question] = {}
            problems: list[str] = []
            for label, raw in rows:
                if isinstance(raw, _Bad):
                    problems.append(f"{label}: {raw}.")
                    continue
                if not str(raw.get("id") or "").strip():
                    taken = [*mine, *checked, *self.bank.questions]
                    raw = {**raw, "id": suggest_id(str(raw.get("question") or ""), taken)}
                try:
                    question = self._check(raw, label=label, others=[])
                except CoachBankError as exc:
                    problems.append(str(exc))
                    continue
                if question.id in checked:
                    problems.append(f"{label}: the id '{question.id}' is used by an earlier row too.")
                    continue
                checked[question.id] = question
            if problems:
                raise ImportRefused(problems)
            if not checked:
                raise CoachBankError("The file has no questions in it.")
            added = [i for i in checked if i not in mine]
            replaced = [i for i in checked if i in mine and mine[i] != checked[i]]
            unchanged = [i for i in checked if i in mine and mine[i] == checked[i]]
            self._write([checked.get(q.id, q) for q in questions] + [checked[i] for i in added])
        return Imported(tuple(added), tuple(replaced), tuple(unchanged))

    # exporting

    def export_yaml(self) -> str:
        """A bank file: it can be put in a bank folder, checked, and imported again."""
        return _dump(self.questions())

    def export_csv(self) -> str:
        """One row per question in CSV_COLUMNS; text a spreadsheet would run as a formula gets a ' first."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for q in self.questions():
            row = [q.id, q.level, q.topic, q.kind, q.question, q.model_answer]
            for i in range(MAX_KEY_POINTS):
                point = q.key_points[i] if i < len(q.key_points) and not q.key_points_derived else None
                row += [point.text, ", ".join(point.terms), point.follow_up or ""] if point else ["", "", ""]
            writer.writerow([spreadsheet_text(cell) for cell in row])
        return buffer.getvalue()

    # internals

    def _shipped(self, question_id: str) -> bool:
        return question_id in self.bank.questions and self.bank.questions[question_id].track != TRACK

    def _check(self, raw: Any, *, label: str, others: Iterable[str]) -> Question:
        """The bank's schema, then the ids: a shipped question's, or another of the coach's, are taken."""
        try:
            question = validate_question(raw, track=TRACK)
        except ValidationError as exc:
            raise CoachBankError(_sentence(label, raw, exc)) from None
        except RecursionError:
            raise CoachBankError(f"{label}: it is nested too deeply to be a question.") from None
        if self._shipped(question.id):
            raise CoachBankError(
                f"{label}: the id '{question.id}' is already a question of the bank: choose another id."
            )
        if question.id in others:
            raise CoachBankError(f"{label}: you already have a question with the id '{question.id}'.")
        return question

    def _write(self, questions: list[Question]) -> None:
        try:
            if not questions:  # a bank file needs one question at least: no questions, no file
                self.path.unlink(missing_ok=True)
            else:
                text = _dump(questions)
                _write_atomically(self.path, text)
                # What was written is what a read would parse; a file replaced since hashes differently.
                _READ[self.path] = (hashlib.blake2b(text.encode()).hexdigest(), list(questions))
        except OSError as exc:
            raise CoachBankError(f"Your questions could not be saved: {exc.strerror or exc}.") from exc


# --- formats -----------------------------------------------------------------------------------------------


def _draft_raw(draft: Draft, *, taken: Collection[str]) -> dict[str, Any]:
    """A draft in the bank file's format; key point rows left entirely empty are dropped."""
    points = [
        {"text": p.text, "terms": list(p.terms), "follow_up": p.follow_up or None}
        for p in draft.key_points
        if p.text.strip() or p.terms or (p.follow_up or "").strip()
    ]
    return {
        "id": draft.id.strip() or suggest_id(draft.question, taken),
        "level": draft.level,
        "topic": draft.topic.strip(),
        "kind": draft.kind,
        "question": draft.question,
        "model_answer": draft.model_answer,
        "key_points": points or None,
    }


def _raw(q: Question) -> dict[str, Any]:
    """A question as a bank file writes it; derived key points are left out, so they follow the answer."""
    raw: dict[str, Any] = {
        "id": q.id,
        "level": q.level,
        "topic": q.topic,
        "kind": q.kind,
        "question": q.question,
        "model_answer": q.model_answer,
    }
    if not q.key_points_derived:
        raw["key_points"] = [
            {"text": p.text}
            | ({"terms": list(p.terms)} if p.terms else {})
            | ({"follow_up": p.follow_up} if p.follow_up else {})
            for p in q.key_points
        ]
    return raw


class _Dumper(yaml.SafeDumper):
    """Text with line breaks as a block (`|`), as a person writes a bank file, not in escaped quotes."""


_Dumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    ),
)


def _dump(questions: list[Question]) -> str:
    document = {
        "track": TRACK,
        "title": TITLE,
        "description": DESCRIPTION,
        "questions": [_raw(q) for q in questions],
    }
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the file, then rename over it: a crash or a full disk leaves the old file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sentence(label: str, raw: Any, exc: ValidationError) -> str:
    """The first problem pydantic found, as '<label>: question '<id>', <field>: <what is wrong>.'."""
    error = exc.errors()[0]
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "key_points" and isinstance(loc[1], int):
        rest = ".".join(str(p) for p in loc[2:])
        field = f"key point {loc[1] + 1}" + (f", field '{rest}'" if rest else "")
    else:
        field = f"field '{'.'.join(str(p) for p in loc)}'" if loc else "the question"
    qid = raw.get("id") if isinstance(raw, Mapping) else None
    who = f" (question '{qid}')" if isinstance(qid, str) and qid.strip() and field != "field 'id'" else ""
    got = error.get("input")
    shown = f" (got {got!r})" if isinstance(got, str | int | float) and str(got).strip() else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{label}{who}: {field}: {message}{shown}."


class _Bad(str):
    """A row that is not a question at all, and why."""


def _unquote(cell: str) -> str:
    """A cell as it was before the CSV export's formula guard put a ' in front."""
    return cell[1:] if cell.startswith("'") and spreadsheet_text(cell[1:]) == cell else cell


def _csv_rows(text: str) -> list[tuple[str, dict[str, Any] | _Bad]]:
    """(label, question in the bank file's format) per data row that is not empty."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise CoachBankError(f"The file cannot be read as CSV: {exc}.") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise CoachBankError("The file is empty: the first row must name the columns.")
    header = [cell.strip().lower() for cell in rows[0]]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise CoachBankError(
            f"The column '{unknown[0]}' is not one this import knows: use {', '.join(QUESTION_COLUMNS)}, "
            f"and key_point_N, terms_N and follow_up_N for N from 1 to {MAX_KEY_POINTS}."
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CoachBankError(
            f"The file has no '{missing[0]}' column; {', '.join(REQUIRED_COLUMNS)} are needed."
        )
    out: list[tuple[str, dict[str, Any] | _Bad]] = []
    for number, cells in enumerate(rows[1:], start=2):
        label = f"Row {number}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            out.append((label, _Bad(f"it has {len(cells)} values for {len(header)} columns")))
            continue
        row = {c: _unquote(v).strip() for c, v in zip(header, cells, strict=False)}
        points = []
        for i in range(1, MAX_KEY_POINTS + 1):
            text_, terms, follow_up = (row.get(f"{n}_{i}", "") for n in ("key_point", "terms", "follow_up"))
            if text_ or terms or follow_up:
                points.append(
                    {"text": text_, "terms": list(parse_terms(terms)), "follow_up": follow_up or None}
                )
        raw = {c: row.get(c, "") for c in QUESTION_COLUMNS if c != "kind" or row.get("kind")}
        out.append((label, raw | {"key_points": points or None}))
    return out


def _yaml_rows(text: str) -> list[tuple[str, dict[str, Any] | _Bad]]:
    """(label, question) per question of a bank file (a track mapping or a bare list); its track is not
    kept: imported questions join the coach's."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CoachBankError(
            f"The file is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}."
        ) from None
    except RecursionError:
        raise CoachBankError("The file is nested too deeply to be a question bank.") from None
    items = document.get("questions") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise CoachBankError("The file is not in the question bank's format: it needs a list of questions.")
    not_one = _Bad("it is not a question (a mapping with id, level, topic, question and model_answer)")
    return [(f"Question {i}", item if isinstance(item, dict) else not_one) for i, item in enumerate(items, 1)]
