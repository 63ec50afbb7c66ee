"""Transcribing a recording while the candidate listens back to it, before they submit it.

Whisper is most of the wait between submitting a spoken answer and its feedback. The page has the
recording as soon as the candidate stops, and asks them to listen back before submitting: `start` begins
transcribing it then, in the background, and when the answer is submitted and judged, `transcribe` on
the same recording takes that transcript (waiting for the rest of it if need be) instead of starting
over. A recording that is discarded instead costs one unused transcription.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from practice.jobs import Job
from practice.speech_in import (
    DEFAULT_LIMITS,
    AudioLimits,
    ProgressCallback,
    Recogniser,
    TranscriptionProgress,
)
from practice.transcript import Transcript

EarlyRun = Job[str, TranscriptionProgress, Transcript]  # no stages: its progress is Whisper's

WAIT_STEP = 0.25  # seconds between looks at an early run's progress, to pass it on while waiting for it


class EarlyTranscriber:
    """A `Recogniser` that can start on a recording before it is submitted. Thread-safe: one per process
    and model, shared by every session.

    It keeps the runs of the last `keep` recordings started and not yet used; an older one is dropped
    (its transcript is then made again if that recording is submitted after all)."""

    def __init__(self, recogniser: Recogniser, keep: int = 4) -> None:
        self._recogniser = recogniser
        self._keep = keep
        self._runs: OrderedDict[tuple[bytes, AudioLimits], EarlyRun] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, audio: bytes, limits: AudioLimits = DEFAULT_LIMITS) -> None:
        """Begin transcribing `audio` in the background, unless it is already being (or was) transcribed."""
        key = (hashlib.sha256(audio).digest(), limits)
        with self._lock:
            if key in self._runs:
                return
            run = self._runs[key] = EarlyRun("early-transcription")
            while len(self._runs) > self._keep:
                self._runs.popitem(last=False)
        # What it raises is raised again when this recording is submitted (`transcribe`).
        run.start(lambda job: self._recogniser.transcribe(audio, limits=limits, on_progress=job.set_progress))

    def transcribe(
        self,
        audio: bytes,
        *,
        limits: AudioLimits = DEFAULT_LIMITS,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """The transcript of `audio`: from its early run if one was started (raising what that run raised),
        else transcribed now. An early run is used once: a second call transcribes again."""
        with self._lock:
            run = self._runs.pop((hashlib.sha256(audio).digest(), limits), None)
        if run is None:
            return self._recogniser.transcribe(audio, limits=limits, on_progress=on_progress)
        shown = None
        while not run.wait(WAIT_STEP):
            progress = run.report().progress
            if on_progress is not None and progress is not None and progress is not shown:
                shown = progress
                on_progress(shown)
        return run.result()
