"""A stand-in for faster-whisper's WhisperModel inside the real `Transcriber`: segments yielded lazily, one
at a time, with their end times and words, and the recording's duration in the info, as faster-whisper does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from practice.speech_in import Transcriber

Segment = tuple[float, float, str] | tuple[float, float, str, float]  # start, end, words[, compression ratio]


class FakeWhisperModel:
    """Each call to `transcribe` is the next pass of `passes` (the last one repeats); `events` records the
    calls and each segment as it is produced, `calls` each call's seconds of audio and prompt,
    `batch_sizes` each call's batch size (None: decoded as faster-whisper's WhisperModel does, unbatched);
    `before_segment(i)` runs before segment i is produced. The duration reported is `duration`, or the
    audio's own when None."""

    def __init__(
        self,
        passes: Sequence[Sequence[Segment]],
        duration: float | None,
        before_segment: Callable[[int], None] | None = None,
    ):
        self.passes = [list(p) for p in passes]
        self.duration = duration
        self.before_segment = before_segment
        self.events: list[Any] = []
        self.calls: list[tuple[float, str | None]] = []
        self.batch_sizes: list[int | None] = []

    def transcribe(self, audio: Any, **options: Any) -> tuple[Any, SimpleNamespace]:
        calls = sum(1 for e in self.events if e == "transcribe")
        segments = self.passes[min(calls, len(self.passes) - 1)]
        self.events.append("transcribe")
        seconds = len(audio) / 16_000
        self.calls.append((seconds, options.get("initial_prompt")))
        self.batch_sizes.append(options.get("batch_size"))
        duration = seconds if self.duration is None else self.duration
        return self._segments(segments), SimpleNamespace(duration=duration, duration_after_vad=None)

    def _segments(self, segments: list[Segment]):
        for i, (start, end, text, *ratio) in enumerate(segments):
            if self.before_segment is not None:
                self.before_segment(i)
            self.events.append(("segment", i))
            said = text.split()
            step = (end - start) / max(len(said), 1)
            words = [
                SimpleNamespace(
                    word=f" {w}", start=start + k * step, end=start + (k + 1) * step, probability=0.9
                )
                for k, w in enumerate(said)
            ]
            yield SimpleNamespace(
                start=start, end=end, text=text, words=words, compression_ratio=ratio[0] if ratio else 1.0
            )


def whisper_with(monkeypatch: pytest.MonkeyPatch, model: FakeWhisperModel, **options: Any) -> Transcriber:
    """The real Transcriber, its Whisper model replaced by `model` (batched or not)."""
    import faster_whisper

    monkeypatch.setattr(faster_whisper, "WhisperModel", lambda *_args, **_kwargs: model)
    monkeypatch.setattr(faster_whisper, "BatchedInferencePipeline", lambda whisper: whisper)
    return Transcriber("tiny.en", **{"filler_prompt": False, **options})
