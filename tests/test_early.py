"""practice.early: a recording transcribed while the candidate listens back, used once it is submitted."""

from __future__ import annotations

import threading

import pytest

from practice.early import EarlyTranscriber
from practice.speech_in import AudioLimits, TranscriptionError, TranscriptionProgress
from practice.transcript import Transcript, Word

WAIT = 10.0


class FakeRecogniser:
    """Counts its calls; each returns the audio's bytes as one word, after `release` is set."""

    def __init__(self, *, fails: bool = False) -> None:
        self.calls: list[bytes] = []
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()
        self.fails = fails

    def transcribe(self, audio: bytes, *, limits=None, on_progress=None) -> Transcript:
        self.calls.append(audio)
        if on_progress is not None:
            on_progress(TranscriptionProgress(seconds=1.0, duration=2.0))
        self.started.set()
        assert self.release.wait(WAIT)
        if self.fails:
            raise TranscriptionError("No speech was heard in the recording.")
        return Transcript(words=(Word(audio.decode(), 0.0, 1.0),), duration=2.0)


def test_a_recording_started_early_is_transcribed_once_and_its_transcript_used():
    inner = FakeRecogniser()
    early = EarlyTranscriber(inner)
    early.start(b"one")
    early.start(b"one")  # the page draws again while it listens back: still one run
    assert early.transcribe(b"one").text == "one"
    assert inner.calls == [b"one"]


def test_a_recording_not_started_early_or_used_already_is_transcribed_on_submit():
    inner = FakeRecogniser()
    early = EarlyTranscriber(inner)
    assert early.transcribe(b"two").text == "two"
    early.start(b"three")
    early.transcribe(b"three")
    early.transcribe(b"three")  # judged again (e.g. re-scored): its early run was used up
    assert inner.calls == [b"two", b"three", b"three"]


def test_other_limits_are_another_transcription():
    inner = FakeRecogniser()
    early = EarlyTranscriber(inner)
    early.start(b"one", AudioLimits(max_seconds=60))
    early.transcribe(b"one", limits=AudioLimits(max_seconds=120))
    assert inner.calls == [b"one", b"one"]


def test_waiting_for_an_early_run_passes_its_progress_on():
    inner = FakeRecogniser()
    inner.release.clear()
    early = EarlyTranscriber(inner)
    early.start(b"one")
    assert inner.started.wait(WAIT)
    seen: list[TranscriptionProgress] = []
    threading.Timer(0.6, inner.release.set).start()
    assert early.transcribe(b"one", on_progress=seen.append).text == "one"
    assert seen == [TranscriptionProgress(seconds=1.0, duration=2.0)]


def test_what_the_early_run_raised_is_raised_on_submit():
    early = EarlyTranscriber(FakeRecogniser(fails=True))
    early.start(b"silence")
    with pytest.raises(TranscriptionError, match="No speech"):
        early.transcribe(b"silence")


def test_only_the_last_recordings_are_kept():
    inner = FakeRecogniser()
    early = EarlyTranscriber(inner, keep=2)
    for audio in (b"a", b"b", b"c"):
        early.start(audio)
    for audio in (b"a", b"b", b"c"):
        early.transcribe(audio)
    assert sorted(inner.calls) == [b"a", b"a", b"b", b"c"]  # "a" was dropped, so made again
