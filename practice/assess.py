"""One answer, typed or spoken, to the feedback a candidate sees: coverage, transcript, delivery.

The CLI, the app and batch grading all go through here, so an answer is judged the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from practice.bank import Question
from practice.scoring import default_scorer
from practice.scoring.coverage import CoverageScorer
from practice.scoring.delivery import Delivery, measure_delivery
from practice.scoring.results import Score
from practice.scoring.structure import StructureReader
from practice.speech_in import DEFAULT_LIMITS, AudioLimits, Transcriber, default_transcriber
from practice.transcript import Transcript


@dataclass(frozen=True)
class Assessment:
    question: Question
    answer_text: str  # typed, or the transcript's text
    score: Score
    transcript: Transcript | None = None  # None for a typed answer
    delivery: Delivery | None = None

    def said_at(self) -> list[float | None]:
        return said_at(self.score, self.transcript)

    def follow_up(self) -> str | None:
        return follow_up(self.score)

    def to_dict(self) -> dict[str, Any]:
        """What `practice score --json` prints."""
        data = self.score.to_dict()
        for point, when in zip(data["key_points"], self.said_at(), strict=True):
            point["said_at"] = None if when is None else round(when, 2)
        data["follow_up"] = self.follow_up()
        if self.score.structure is not None:
            data["structure"] = [
                {
                    "part": p.component,
                    "present": p.present,
                    "probability": p.probability,
                    "evidence": None if p.evidence is None else p.evidence.text,
                }
                for p in self.score.structure.parts
            ]
        if self.transcript is not None:
            data["transcript"] = self.transcript.to_dict()
        if self.delivery is not None:
            data["delivery"] = self.delivery.to_dict()
        return data


def said_at(score: Score, transcript: Transcript | None) -> list[float | None]:
    """Per key point, the second of the recording where its evidence starts (None if typed or missed)."""
    if transcript is None:
        return [None] * len(score.key_points)
    return [
        transcript.time_at(p.evidence.start) if p.evidence and p.status != "missed" else None
        for p in score.key_points
    ]


def follow_up(score: Score) -> str | None:
    """The bank's follow-up question for the first missed (else partial) point, if it has one."""
    for wanted in ("missed", "partial"):
        for point in score.key_points:
            if point.status == wanted and point.key_point.follow_up:
                return point.key_point.follow_up
    return None


def domain_terms(question: Question) -> list[str]:
    """The vocabulary a good answer tends to use: the key points' listed terms, once each."""
    return list(dict.fromkeys(term for point in question.key_points for term in point.terms))


def score_answer(question: Question, text: str, scorer: CoverageScorer | None = None) -> Score:
    """The coverage score; for a behavioural question also which STAR parts the answer has (Situation,
    Task, Action, Result), read by the scorer's own judge (a scorer without one reads no structure)."""
    scorer = scorer or default_scorer()
    score = scorer.score(question, text)
    if question.kind != "behavioural" or scorer.judge is None:
        return score
    return replace(score, structure=StructureReader(scorer.judge).read(text))


def assess_text(question: Question, text: str, scorer: CoverageScorer | None = None) -> Assessment:
    return Assessment(question, text, score_answer(question, text, scorer))


def assess_transcript(
    question: Question, transcript: Transcript, scorer: CoverageScorer | None = None
) -> Assessment:
    """Scoring a transcript already made, e.g. re-scoring a saved attempt.

    A transcript corrected by hand is scored on its corrected words, but how it was said (pace, pauses,
    fillers) is measured on the words heard, which are the audio's; only the domain terms used are read
    from the corrected words, since they are words, not timing.
    """
    score = score_answer(question, transcript.text, scorer)
    terms = domain_terms(question)
    heard = transcript.heard
    delivery = measure_delivery(heard.words, heard.duration, terms)
    if transcript.original is not None:
        meant = measure_delivery(transcript.words, heard.duration, terms)
        delivery = replace(
            delivery, domain_terms_used=meant.domain_terms_used, domain_terms_missed=meant.domain_terms_missed
        )
    return Assessment(question, transcript.text, score, transcript, delivery)


def assess_audio(
    question: Question,
    audio: bytes | str | Path,
    *,
    transcriber: Transcriber | None = None,
    scorer: CoverageScorer | None = None,
    limits: AudioLimits = DEFAULT_LIMITS,
) -> Assessment:
    """Raises TranscriptionError (one sentence for the candidate) for audio that cannot be used."""
    transcript = (transcriber or default_transcriber()).transcribe(audio, limits=limits)
    return assess_transcript(question, transcript, scorer)
