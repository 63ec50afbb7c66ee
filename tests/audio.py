"""Recordings made by the tests: tones and noise in any container PyAV can write, speech from espeak-ng."""

from __future__ import annotations

import io
import wave

import av
import numpy as np


def encode(
    samples: np.ndarray, rate: int = 16_000, fmt: str = "wav", codec: str = "pcm_s16le", channels: int = 1
) -> bytes:
    """Float samples in [-1, 1] to a file in memory, as a browser or phone would hand it over."""
    layout = "stereo" if channels == 2 else "mono"
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        interleaved = np.repeat(samples.astype(np.float32), channels).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(interleaved, format="flt", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def tone(seconds: float, rate: int = 16_000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def silence(seconds: float, rate: int = 16_000) -> np.ndarray:
    return np.zeros(int(seconds * rate), np.float32)


def noise(seconds: float, rate: int = 16_000, level: float = 0.05) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(int(seconds * rate)) * level).astype(np.float32)


def wav_samples(wav: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(wav)) as w:
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        return raw.astype(np.float32) / 32768, w.getframerate()
