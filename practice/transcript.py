"""What speech-to-text hands on: words with times, so feedback can point into the recording.

A transcript the candidate (or a coach) corrected by hand keeps the recogniser's words as `original`; its
own words are the corrected ones, each timed from the word it replaces (`Transcript.corrected`), so the
feedback still points into the recording.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

MAX_CORRECTIONS_SHOWN = 8


def clock(seconds: float) -> str:
    """A moment in (or length of) a recording as m:ss, whole seconds: 0:31."""
    s = int(max(0.0, seconds))
    return f"{s // 60}:{s % 60:02d}"


@dataclass(frozen=True)
class Word:
    text: str  # as Whisper wrote it, without surrounding spaces ("Dropout," "um")
    start: float  # seconds from the start of the recording
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Correction:
    """One change between the words heard and the words meant; either side may be empty."""

    heard: str
    meant: str

    def __str__(self) -> str:
        if not self.meant:
            return f"“{self.heard}” removed"
        if not self.heard:
            return f"“{self.meant}” added"
        return f"{self.heard} → {self.meant}"


@dataclass(frozen=True)
class Transcript:
    words: tuple[Word, ...]
    duration: float  # seconds of audio, speech and silence
    model: str = ""
    language: str = "en"
    original: Transcript | None = None  # the recogniser's words, when these were corrected by hand
    corrected_by: str = ""  # who corrected them ("" when not corrected)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def is_empty(self) -> bool:
        return not self.words

    @property
    def heard(self) -> Transcript:
        """The words as the recogniser heard them: the original if corrected, else these."""
        return self.original or self

    def time_at(self, char: int) -> float | None:
        """When the word holding character `char` of `text` was said (evidence offsets point into text)."""
        position = 0
        for word in self.words:
            position += len(word.text) + 1
            if char < position:
                return word.start
        return None

    def corrected(self, text: str, by: str = "") -> Transcript:
        """These words replaced by `text` (split on whitespace), the recogniser's kept as `original`.

        Each corrected word is timed from what it stands for in the words heard: a word kept keeps its
        time, replacements share the span of the words they replace, an added word sits where it was
        added. Correcting again starts from the words heard, not from the last correction.
        """
        heard = self.heard
        new = text.split()
        old = heard.words
        matcher = difflib.SequenceMatcher(None, [_key(w.text) for w in old], [_key(w) for w in new], False)
        words: list[Word] = []
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                words += [Word(new[j1 + k], w.start, w.end, w.probability) for k, w in enumerate(old[i1:i2])]
            elif j2 > j1:
                if i2 > i1:
                    start, end = old[i1].start, old[i2 - 1].end
                else:  # added between two words heard: at the end of the one before
                    start = end = old[i1 - 1].end if i1 > 0 else (old[0].start if old else 0.0)
                step = (end - start) / (j2 - j1)
                words += [Word(w, start + k * step, start + (k + 1) * step) for k, w in enumerate(new[j1:j2])]
        return Transcript(tuple(words), heard.duration, heard.model, heard.language, heard, by)

    def corrections(self) -> list[Correction]:
        """What was changed by hand, in order; empty when the words are the recogniser's."""
        if self.original is None:
            return []
        old = [w.text for w in self.original.words]
        new = [w.text for w in self.words]
        matcher = difflib.SequenceMatcher(None, [_key(w) for w in old], [_key(w) for w in new], False)
        return [
            Correction(" ".join(old[i1:i2]), " ".join(new[j1:j2]))
            for op, i1, i2, j1, j2 in matcher.get_opcodes()
            if op != "equal"
        ]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "duration": round(self.duration, 3),
            "model": self.model,
            "language": self.language,
            "words": [
                {
                    "text": w.text,
                    "start": round(w.start, 3),
                    "end": round(w.end, 3),
                    "probability": round(w.probability, 3),
                }
                for w in self.words
            ],
        }
        if self.original is not None:
            data["original"] = self.original.to_dict()
            data["corrected_by"] = self.corrected_by
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        """A transcript as `to_dict` wrote it; one written before corrections existed has no `original`."""
        words = tuple(
            Word(str(w["text"]), float(w["start"]), float(w["end"]), float(w.get("probability", 1.0)))
            for w in data.get("words", [])
        )
        original = data.get("original")
        return cls(
            words=words,
            duration=float(data.get("duration", 0.0)),
            model=str(data.get("model", "")),
            language=str(data.get("language", "en")),
            # the words heard are never themselves a correction: one level, however the JSON was written
            original=cls.from_dict({**original, "original": None}) if isinstance(original, dict) else None,
            corrected_by=str(data.get("corrected_by") or "") if isinstance(original, dict) else "",
        )


def describe_corrections(transcript: Transcript, limit: int = MAX_CORRECTIONS_SHOWN) -> str:
    """What was corrected by hand in one sentence ("Corrected: recoil → recall; “um” removed."), the first
    `limit` changes and how many more; "" when the transcript is as the recogniser heard it."""
    if transcript.original is None:
        return ""
    corrections = transcript.corrections()
    if not corrections:
        return "Corrected: spelling or punctuation only."
    shown = "; ".join(str(c) for c in corrections[:limit])
    more = len(corrections) - limit
    return f"Corrected: {shown}" + (f" and {more} more" if more > 0 else "") + "."


def _key(word: str) -> str:
    """A word as compared when aligning: lowercase letters and digits ("Recall," is "recall")."""
    return "".join(c for c in word.lower() if c.isalnum()) or word
