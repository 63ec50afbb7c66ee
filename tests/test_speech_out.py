"""Text-to-speech through pyttsx3 and espeak-ng (real engine)."""

from __future__ import annotations

import io
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor

import pytest

from practice import speech_out
from practice.speech_out import SpeechError, synthesize


def duration(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as w:
        return w.getnframes() / w.getframerate()


def test_synthesize_returns_playable_wav(tmp_path):
    wav = synthesize("What is the difference between bias and variance?", cache=tmp_path)
    assert wav[:4] == b"RIFF"
    assert 1.0 < duration(wav) < 10.0


def test_each_text_voice_rate_is_synthesized_once(tmp_path, monkeypatch):
    first = synthesize("Explain dropout.", cache=tmp_path)
    monkeypatch.setattr(speech_out, "_engine", lambda: pytest.fail("engine used for a cached text"))
    assert synthesize("Explain   dropout.", cache=tmp_path) == first
    assert len(list(tmp_path.glob("*.wav"))) == 1


def test_rate_and_voice_change_the_audio(tmp_path):
    slow = synthesize("Explain gradient descent to a new colleague.", rate=120, cache=tmp_path)
    fast = synthesize("Explain gradient descent to a new colleague.", rate=260, cache=tmp_path)
    assert duration(slow) > duration(fast) * 1.4
    other = synthesize("Explain gradient descent to a new colleague.", voice="gmw/en-us", cache=tmp_path)
    assert len(list(tmp_path.glob("*.wav"))) == 3 and other != fast


def test_concurrent_calls_from_many_threads(tmp_path):
    """Unserialised, pyttsx3 aborts the whole process when two threads speak at once."""
    texts = [f"Question number {i}: what is a confusion matrix?" for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda t: synthesize(t, cache=tmp_path), texts * 2))
    assert all(duration(w) > 1.0 for w in results)
    assert len(list(tmp_path.glob("*.wav"))) == 8
    assert not list(tmp_path.glob("tmp*"))


def test_espeak_has_finished_calling_back_when_a_text_is_done(tmp_path, monkeypatch):
    """espeak-ng (pyttsx3's retrieval mode) synthesises in a thread of its own and calls back from it; the
    engine's loop ends at the last callback, which may still be running. The next text's engine replaces
    the callback that thread is inside: a crash (seen as a segmentation fault with piper alongside)."""
    from pyttsx3.drivers.espeak import EspeakDriver

    inside = threading.Event()
    synthesising = EspeakDriver._onSynth

    def lingering(driver, wav, numsamples, events):
        inside.set()
        try:
            return synthesising(driver, wav, numsamples, events)
        finally:
            time.sleep(0.05)  # the rest of a callback, slowed so the race is certain
            inside.clear()

    monkeypatch.setattr(EspeakDriver, "_onSynth", lingering)
    synthesize("Explain dropout in one sentence.", cache=tmp_path)
    assert not inside.is_set()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "   "}, "no text to speak"),
        ({"text": "hi", "rate": 20}, "Invalid speaking rate 20"),
        ({"text": "hi", "voice": "klingon-warrior"}, "Unknown voice 'klingon-warrior'"),
    ],
)
def test_bad_requests_raise_speech_error(tmp_path, kwargs, message):
    with pytest.raises(SpeechError, match=message):
        synthesize(cache=tmp_path, **kwargs)


def test_unwritable_cache_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SpeechError, match="Cannot write to the speech cache"):
        synthesize("hello there", cache=blocker / "speech")


def test_voices_lists_english():
    assert any("en" in v.id for v in speech_out.voices())
