"""What speech-to-text hands on: words with times, so feedback can point into the recording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
class Transcript:
    words: tuple[Word, ...]
    duration: float  # seconds of audio, speech and silence
    model: str = ""
    language: str = "en"

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def is_empty(self) -> bool:
        return not self.words

    def time_at(self, char: int) -> float | None:
        """When the word holding character `char` of `text` was said (evidence offsets point into text)."""
        position = 0
        for word in self.words:
            position += len(word.text) + 1
            if char < position:
                return word.start
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        words = tuple(
            Word(str(w["text"]), float(w["start"]), float(w["end"]), float(w.get("probability", 1.0)))
            for w in data.get("words", [])
        )
        return cls(
            words=words,
            duration=float(data.get("duration", 0.0)),
            model=str(data.get("model", "")),
            language=str(data.get("language", "en")),
        )
