"""Questions read aloud: pyttsx3 (espeak-ng on Linux, SAPI5/NSSS elsewhere) to WAV bytes, cached on disk."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

from practice.offline import cache_root

SYNTHESIS_ATTEMPTS = 3
DEFAULT_RATE = 165  # words per minute: espeak's 200 is brisk for an interview question

# pyttsx3's engine is not re-entrant: two run loops at once abort the whole process ("double free or
# corruption"), which in Streamlit would kill the server for every user. One lock per process.
_ENGINE_LOCK = threading.Lock()


class SpeechError(RuntimeError):
    """Text could not be turned into speech."""


@dataclass(frozen=True)
class Voice:
    id: str
    name: str


def cache_dir() -> Path:
    return cache_root() / "speech"


def _engine():  # type: ignore[no-untyped-def]
    """A new pyttsx3 engine for every call. pyttsx3.init() hands back the last engine while it is still
    alive, and a reused espeak engine often ignores a new rate (15 of 25 slow/fast pairs came out the same
    length). An old engine may then be called back after it is collected, which only prints a traceback
    ("weakly-referenced object no longer exists")."""
    try:
        import pyttsx3

        return pyttsx3.Engine()
    except Exception as exc:  # no espeak-ng, no audio driver
        raise SpeechError(
            f"Text-to-speech is not available ({exc}); on Linux install espeak-ng "
            "(apt-get install espeak-ng)."
        ) from exc


def voices() -> list[Voice]:
    with _ENGINE_LOCK:
        return [Voice(v.id, v.name) for v in _engine().getProperty("voices")]


def _resolve_voice(engine, wanted: str) -> str:  # type: ignore[no-untyped-def]
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
    """WAV bytes of `text` spoken; each (text, voice, rate) is synthesized once and then read from disk."""
    text = " ".join(text.split())
    if not text:
        raise SpeechError("There is no text to speak.")
    if not 60 <= rate <= 400:
        raise SpeechError(f"Invalid speaking rate {rate}, expected 60 to 400 words per minute.")
    folder = cache or cache_dir()
    key = hashlib.sha256(f"{text}\0{voice or ''}\0{rate}".encode()).hexdigest()
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
        with _ENGINE_LOCK:
            engine = _engine()
            if voice:  # a new engine starts on its own default voice
                engine.setProperty("voice", _resolve_voice(engine, voice))
            engine.setProperty("rate", rate)
            # pyttsx3's espeak driver writes the file before adding the last chunk of samples, so now and
            # then a file comes out empty; saying it again fixes that. It also prints "Audio saved to".
            for _ in range(SYNTHESIS_ATTEMPTS):
                with contextlib.redirect_stdout(io.StringIO()):
                    engine.save_to_file(text, str(tmp))
                    engine.runAndWait()
                if _is_wav_with_audio(tmp):
                    break
            else:
                raise SpeechError("The speech engine produced no audio; try again or pick another voice.")
        os.replace(tmp, target)  # atomic: a reader never sees half a file
        return target.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)
