"""The practice flow: which questions to ask, answering one (saved first, then judged), retries, summary.

The app holds a `Plan` per browser session and calls `answer()` for each reply; everything here works
without Streamlit, so the flow is tested with a fake scorer and no microphone.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from practice import progress
from practice.assess import Assessment, assess_text, assess_transcript
from practice.bank import Bank, Question
from practice.scoring.coverage import CoverageScorer
from practice.scoring.evidence import EmptyAnswerError
from practice.speech_in import (
    DEFAULT_LIMITS,
    AudioLimits,
    ProgressCallback,
    Recogniser,
    TranscriptionError,
    TranscriptionProgress,
    audio_format,
    default_transcriber,
)
from practice.storage import AnswerMode, Attempt, Store, User, access

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """One sitting: the questions in order and where the candidate is."""

    candidate: str
    session_id: str
    question_ids: list[str]
    position: int = 0
    # per question, its attempts in order, each as `answer()` last saved it (the page shows them from here)
    tries: dict[str, list[Attempt]] = field(default_factory=dict)
    note: str | None = None  # one sentence shown with the first question, e.g. from shortfall_note()
    skipped: list[str] = field(default_factory=list)  # question ids passed over with Skip, in order

    @property
    def attempt_ids(self) -> dict[str, list[int]]:
        return {qid: [a.id for a in attempts] for qid, attempts in self.tries.items()}

    @property
    def current(self) -> str | None:
        return self.question_ids[self.position] if self.position < len(self.question_ids) else None

    @property
    def finished(self) -> bool:
        return self.position >= len(self.question_ids)

    @property
    def answered(self) -> list[str]:
        """Question ids with a scored attempt (a failed one still waits for an answer), in plan order."""
        return [q for q in self.question_ids if any(a.status == "scored" for a in self.tries.get(q, []))]

    @property
    def unanswered(self) -> list[str]:
        """Question ids neither answered nor skipped, in plan order."""
        done = set(self.answered) | set(self.skipped)
        return [q for q in self.question_ids if q not in done]

    def update(self, attempt: Attempt) -> None:
        """Put an attempt saved again (e.g. corrected by `correct`) in place of the one in `tries`."""
        tries = self.tries.get(attempt.question_id, [])
        for i, saved in enumerate(tries):
            if saved.id == attempt.id:
                tries[i] = attempt

    def advance(self) -> None:
        self.position = min(self.position + 1, len(self.question_ids))

    def skip(self) -> None:
        """Past the current question without saving anything; it is listed as skipped."""
        if self.current is not None and self.current not in self.skipped:
            self.skipped.append(self.current)
        self.advance()

    def end(self) -> None:
        self.position = len(self.question_ids)

    def ended_early_note(self) -> str | None:
        """One sentence when the session ended with questions neither answered nor skipped."""
        if not self.finished or not self.unanswered:
            return None
        if not self.answered:
            return "The session ended before any question was answered."
        numbers = [str(self.question_ids.index(q) + 1) for q in self.unanswered]
        which = (
            f"questions {', '.join(numbers[:-1])} and {numbers[-1]}"
            if len(numbers) > 1
            else f"question {numbers[0]}"
        )
        return f"The session ended with {which} of {len(self.question_ids)} unanswered."


def choose_questions(
    bank: Bank,
    *,
    track: str | None,
    level: str | None,
    topics: Sequence[str] = (),
    count: int = 5,
    seed: int | None = None,
) -> list[Question]:
    """A random selection, spread over topics so five questions are not all about one thing."""
    pool = bank.select(track=track, level=level, topics=list(topics) or None)
    rng = random.Random(seed)
    by_topic: dict[str, list[Question]] = {}
    for question in rng.sample(pool, len(pool)):
        by_topic.setdefault(question.topic, []).append(question)
    chosen: list[Question] = []
    while len(chosen) < min(count, len(pool)):
        for group in by_topic.values():
            if group and len(chosen) < count:
                chosen.append(group.pop())
    return chosen


def shortfall_note(
    asked: int, found: int, *, track: str, level: str | None, topics: Sequence[str] = ()
) -> str | None:
    """One sentence when fewer questions match than were asked for (None when enough, or none, match)."""
    if found >= asked or found == 0:
        return None
    matches = "question matches" if found == 1 else "questions match"
    where = f"track {track}" + (f", level {level}" if level else "")
    if topics:
        where += f", topic{'s' if len(topics) > 1 else ''} {' or '.join(topics)}"
    return f"Only {found} {matches} {where}; starting with {found}."


def weak_questions(
    bank: Bank, attempts: Sequence[Attempt], *, count: int | None = 5, now: datetime | None = None
) -> list[Question]:
    """Due weak questions first (see progress.REVIEW_RULE), all of them if `count` is None; questions no
    longer in the bank are skipped."""
    due = progress.weak_queue(attempts, now or datetime.now(UTC))
    ids = [d.question_id for d in due]
    return [bank.questions[i] for i in ids if i in bank.questions][:count]


def start(store: Store, candidate: str, questions: Sequence[Question], note: str | None = None) -> Plan:
    who = store.candidate(candidate)
    return Plan(who.name, store.start_session(who), [q.id for q in questions], note=note)


# --- a session in the page's address, so a reload or a reopened tab carries on with it ---------------


class RestoreError(ValueError):
    """A session link that cannot be resumed; the message is one sentence for the page."""


def link(plan: Plan) -> dict[str, str]:
    """The query parameters that resume `plan` (see `restore`): its id, question order, skips, end."""
    params = {"session": plan.session_id, "q": ",".join(plan.question_ids)}
    if plan.skipped:
        params["skip"] = ",".join(plan.skipped)
    if plan.finished:
        params["end"] = "1"
    return params


def restore(store: Store, bank: Bank, params: Mapping[str, str], *, user: User) -> Plan:
    """The plan a `link()` describes, with its saved attempts, on the first question neither answered nor
    skipped, or with an answer saved but not judged (or finished, if it was ended). The session must exist
    in `store`; one `user` may not open is refused as if it did not. Every value is checked: RestoreError
    otherwise."""
    session_id = params.get("session", "")
    order = [q for q in params.get("q", "").split(",") if q]
    skipped = [q for q in params.get("skip", "").split(",") if q]
    if not order or len(set(order)) != len(order) or not set(skipped) <= set(order):
        raise RestoreError("This page's link does not describe a practice session: start a new one below.")
    unknown = [q for q in order if q not in bank.questions]
    if unknown:
        raise RestoreError(
            f"The question bank no longer has question {unknown[0]} of that session: start a new one below."
        )
    candidate = store.session_candidate(session_id) if 0 < len(session_id) <= 36 else None
    if candidate is None or not access.can_open_session(store, user, session_id):
        raise RestoreError("That practice session was not found: start a new one below.")
    attempts = store.attempts(session_id=session_id)
    if any(a.question_id not in order for a in attempts):
        raise RestoreError("This page's link does not match the saved session: start a new one below.")
    tries: dict[str, list[Attempt]] = {}
    for a in sorted(attempts, key=lambda a: (a.created_at, a.id)):
        tries.setdefault(a.question_id, []).append(a)
    plan = Plan(candidate, session_id, order, tries=tries, skipped=skipped)
    plan.position = len(order) if params.get("end") == "1" else _first_open(plan)
    return plan


def _first_open(plan: Plan) -> int:
    """The first question neither answered nor skipped, or whose last answer was saved but not judged
    (judging it was cut short: the page judges it on arrival)."""
    unjudged = {q for q, tries in plan.tries.items() if tries and tries[-1].status == "recorded"}
    open_ = set(plan.unanswered) | unjudged
    return next((i for i, q in enumerate(plan.question_ids) if q in open_), len(plan.question_ids))


@dataclass(frozen=True)
class Outcome:
    """What one answer led to. `attempt` is always saved; `error` says why there is no assessment."""

    attempt: Attempt
    assessment: Assessment | None
    error: str | None = None


Stage = Literal["transcribing", "scoring"]
STAGE_LABELS: dict[Stage, str] = {
    "transcribing": "Transcribing your recording…",
    "scoring": "Scoring your answer against the key points…",
}


def transcribing_label(progress: TranscriptionProgress) -> str:
    """The transcribing stage's label with how much is done: 'Transcribing your recording… 45%'."""
    again = " again" if progress.again else ""  # Whisper lost its place: a second pass
    return f"Transcribing your recording{again}… {progress.percent}%"


def show_progress(show: Callable[[str], None]) -> ProgressCallback:
    """An `on_progress` for `judge` that calls `show` with the transcribing stage's label each time it
    changes: Whisper reports every stretch it writes, many of them within the same percent."""
    last = [""]

    def report(progress: TranscriptionProgress) -> None:
        label = transcribing_label(progress)
        if label != last[0]:
            last[0] = label
            show(label)

    return report


@dataclass(frozen=True)
class Submission:
    """An answer sent but not saved yet: typed text, or a recording or upload (`audio`), from one round of
    a question on the page (its recorder, uploader and form). Saving an answer ends the round, so a copy
    of the submission that turns up later (a second click) belongs to a round that is over."""

    round: str
    mode: AnswerMode
    text: str | None = None
    audio: bytes | None = None


def answer(
    store: Store,
    plan: Plan,
    question: Question,
    *,
    text: str | None = None,
    audio: bytes | None = None,
    mode: AnswerMode | None = None,
    scorer: CoverageScorer | None = None,
    transcriber: Recogniser | None = None,
    limits: AudioLimits = DEFAULT_LIMITS,
    on_stage: Callable[[Stage], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> Outcome:
    """Save the answer (`save`), then transcribe and score it (`judge`). StorageError means nothing was
    saved: keep the input. RefusedRecordingError as for `save`."""
    attempt = save(store, plan, question, text=text, audio=audio, mode=mode, limits=limits)
    outcome = judge(
        store,
        attempt,
        question,
        audio=audio,
        scorer=scorer,
        transcriber=transcriber,
        limits=limits,
        on_stage=on_stage,
        on_progress=on_progress,
    )
    plan.update(outcome.attempt)
    return outcome


def save(
    store: Store,
    plan: Plan,
    question: Question,
    *,
    text: str | None = None,
    audio: bytes | None = None,
    mode: AnswerMode | None = None,
    limits: AudioLimits = DEFAULT_LIMITS,
) -> Attempt:
    """Save an answer, not yet judged, and add it to the plan's tries. StorageError: nothing was saved.

    A recording is kept as the audio type its bytes decode as, whatever type the browser claimed (a
    "recording" claimed as audio but holding HTML must never be served back as HTML). What is not audio, or
    is over the length or size limit, is refused before anything is saved: RefusedRecordingError.
    """
    if (text is None) == (audio is None):
        raise ValueError("Give either text or audio.")
    kind = audio_format(audio, limits) if audio is not None else None
    attempt = store.add_attempt(
        plan.candidate,
        question,
        answer_mode=mode or ("typed" if audio is None else "audio"),
        answer_text=text or "",
        audio=audio,
        audio_mime=kind.mime if kind else "audio/wav",
        session_id=plan.session_id,
    )
    plan.tries.setdefault(question.id, []).append(attempt)
    return attempt


def judge(
    store: Store,
    attempt: Attempt,
    question: Question,
    *,
    audio: bytes | None = None,
    scorer: CoverageScorer | None = None,
    transcriber: Recogniser | None = None,
    limits: AudioLimits = DEFAULT_LIMITS,
    on_stage: Callable[[Stage], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> Outcome:
    """Transcribe (once: a saved transcript is reused) and score a saved attempt; also re-scores failures.

    `on_stage` is told as each stage begins ("transcribing" only when there is audio to transcribe), so a
    page can say what is happening while it waits; `on_progress`, while transcribing, how much of the
    recording Whisper has done (`Transcriber.transcribe`).
    """
    stage = on_stage or (lambda _stage: None)
    transcript = attempt.transcript
    try:
        if transcript is None and attempt.has_audio:
            stage("transcribing")
            if audio is None:
                saved = store.audio(attempt.id)
                audio = saved[0] if saved else b""
            recogniser = transcriber or default_transcriber()
            transcript = recogniser.transcribe(audio, limits=limits, on_progress=on_progress)
            attempt = store.set_transcript(attempt.id, transcript)
        stage("scoring")
        if transcript is not None:
            assessment = assess_transcript(question, transcript, scorer)
        else:
            assessment = assess_text(question, attempt.answer_text, scorer)
    except (TranscriptionError, EmptyAnswerError) as exc:
        return Outcome(store.set_failed(attempt.id, str(exc)), None, str(exc))
    except Exception as exc:  # a bug or a model failure: the saved answer must survive it
        log.exception("scoring attempt %s failed", attempt.id)
        reason = f"Scoring failed ({exc.__class__.__name__}); your answer is saved and can be scored again."
        return Outcome(store.set_failed(attempt.id, reason), None, reason)
    saved_attempt = store.set_result(attempt.id, assessment.score, delivery=assessment.delivery)
    return Outcome(saved_attempt, assessment)


class CorrectionError(ValueError):
    """A transcript correction that cannot be used; the message is one sentence for the page."""


MAX_CORRECTION_WORDS = 3000  # ten minutes of fast speech; more is not a correction of one answer


def correct(
    store: Store,
    attempt: Attempt,
    question: Question,
    text: str,
    *,
    by: str | None = None,
    scorer: CoverageScorer | None = None,
) -> Outcome:
    """Re-score a spoken attempt from its transcript as corrected by hand (`by`, the candidate by default).

    The words first heard stay in the saved transcript (`Transcript.original`, kept across corrections)
    and the recording stays too; the score is made again from the corrected words by the same scorer,
    while pace, pauses and fillers stay as the audio gave them (see `assess_transcript`). CorrectionError
    (one sentence) when there is nothing to correct or the text cannot be scored: the attempt is then left
    as it was, as it is on a StorageError.
    """
    transcript = attempt.transcript
    if transcript is None:
        raise CorrectionError("Only a spoken answer's transcript can be corrected: answer again instead.")
    if attempt.question_id != question.id:
        raise ValueError(f"Attempt {attempt.id} answers {attempt.question_id}, not {question.id}.")
    words = text.split()
    if not words:
        raise CorrectionError("The corrected transcript is empty: write the words you said, then save.")
    if len(words) > MAX_CORRECTION_WORDS:
        raise CorrectionError(
            f"The corrected transcript is too long ({len(words)} words; at most {MAX_CORRECTION_WORDS}): "
            "correct the words that were misheard, not the whole answer."
        )
    if words == [w.text for w in transcript.words]:
        raise CorrectionError("Nothing was changed: edit the words that were misheard, then save.")
    corrected = transcript.corrected(" ".join(words), by=by or attempt.candidate.name)
    try:
        assessment = assess_transcript(question, corrected, scorer)
    except EmptyAnswerError as exc:
        raise CorrectionError(
            "The corrected transcript has no words to score: write the words you said, then save."
        ) from exc
    except Exception as exc:  # a bug or a model failure: the attempt stays as it was saved
        log.exception("re-scoring attempt %s from its corrected transcript failed", attempt.id)
        raise CorrectionError(
            f"Scoring the corrected transcript failed ({exc.__class__.__name__}); nothing was changed."
        ) from exc
    saved = store.set_result(attempt.id, assessment.score, transcript=corrected, delivery=assessment.delivery)
    return Outcome(saved, assessment)


@dataclass(frozen=True)
class Comparison:
    """A retry against the attempt before it on the same question."""

    coverage_change: float
    gained: list[str]  # key points covered now and not before
    lost: list[str]


def compare(before: Attempt, after: Attempt) -> Comparison | None:
    if before.effective_coverage is None or after.effective_coverage is None:
        return None
    texts = [p.key_point.text for p in after.key_points]
    old, new = before.key_point_statuses(), after.key_point_statuses()
    gained = [t for t, o, n in zip(texts, old, new, strict=False) if n == "covered" and o != "covered"]
    lost = [t for t, o, n in zip(texts, old, new, strict=False) if o == "covered" and n != "covered"]
    return Comparison(after.effective_coverage - before.effective_coverage, gained, lost)


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    question: str
    attempts: int
    best: float | None
    last: float | None
    skipped: bool = False  # passed over with Skip (it may hold a recording that was not heard)


@dataclass(frozen=True)
class Summary:
    questions: list[QuestionResult]
    most_missed: list[tuple[str, int]]  # (key point, times missed), most often first

    @property
    def average(self) -> float | None:
        best = [q.best for q in self.questions if q.best is not None]
        return sum(best) / len(best) if best else None


def summarize(attempts: Sequence[Attempt], skipped: Sequence[Question] = ()) -> Summary:
    """The end-of-session view: each question's best and last coverage, and the points most often missed;
    `skipped` questions are marked so, listed after the answered ones when they have no attempt."""
    by_question: dict[str, list[Attempt]] = {}
    for a in sorted(attempts, key=lambda a: a.created_at):
        by_question.setdefault(a.question_id, []).append(a)
    rows = []
    missed: Counter[str] = Counter()
    for qid, group in by_question.items():
        scores = [a.effective_coverage for a in group if a.effective_coverage is not None]
        rows.append(
            QuestionResult(
                qid, group[-1].question, len(group), max(scores, default=None), scores[-1] if scores else None
            )
        )
        for a in group:
            for point, status in zip(a.key_points, a.key_point_statuses(), strict=False):
                if status == "missed":
                    missed[point.key_point.text] += 1
    skipped_ids = {q.id for q in skipped}
    rows = [replace(r, skipped=r.question_id in skipped_ids) for r in rows]
    rows += [
        QuestionResult(q.id, q.question, 0, None, None, True) for q in skipped if q.id not in by_question
    ]
    return Summary(rows, missed.most_common(5))
