"""Decoding and checking recordings (no model), then transcription with the real bundled Whisper."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy.signal import resample_poly

from practice.speech_in import (
    BATCH_SIZE,
    FILLER_PROMPT,
    AudioLimits,
    ModelLoadError,
    NoSpeechError,
    Transcriber,
    TranscriptionError,
    TranscriptionProgress,
    _looks_looped,
    _unheard_gaps,
    decode,
    default_transcriber,
    whisper_base_dir,
)
from practice.speech_out import synthesize
from practice.transcript import Transcript, Word
from tests.audio import encode, noise, silence, tone, wav_samples
from tests.fake_whisper import FakeWhisperModel, whisper_with

ANSWER = (
    "Dropout randomly switches off a fraction of the neurons during training, so the network cannot "
    "rely on any single unit. At inference time every unit is kept and the activations are scaled."
)


@pytest.mark.parametrize(
    ("fmt", "codec", "rate", "channels"),
    [
        ("wav", "pcm_s16le", 16_000, 1),
        ("wav", "pcm_s16le", 44_100, 2),
        ("wav", "pcm_f32le", 48_000, 1),
        ("webm", "libopus", 48_000, 1),
        ("ogg", "libopus", 48_000, 2),
        ("mp3", "libmp3lame", 44_100, 1),
        ("mp4", "aac", 44_100, 1),  # .m4a
        ("flac", "flac", 22_050, 1),
    ],
)
def test_browser_and_phone_formats_decode_to_16k_mono(fmt, codec, rate, channels):
    samples = decode(encode(tone(3.0, rate), rate, fmt, codec, channels))
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size / 16_000 - 3.0) < 0.1
    assert 0.15 < np.abs(samples).max() < 0.45  # the tone survives resampling and downmixing (ffmpeg: -3 dB)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The recording is empty"),
        (b"this is just some text, not a recording " * 50, "not audio that can be read"),
        (bytes(range(256)) * 40, "not audio that can be read"),
    ],
)
def test_unreadable_input_gets_one_clear_sentence(data, message):
    with pytest.raises(TranscriptionError, match=message) as err:
        decode(data)
    assert str(err.value).count(". ") == 0 and str(err.value).endswith(".")


def test_image_file_is_rejected_as_having_no_sound(tmp_path):
    png = encode_png()
    with pytest.raises(TranscriptionError, match="no sound|not audio"):
        decode(png)


def encode_png() -> bytes:
    import io

    import av as _av

    buf = io.BytesIO()
    with _av.open(buf, "w", format="image2pipe") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "rgb24"
        frame = _av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def test_cut_off_recordings_are_reported():
    wav = encode(tone(10.0))
    with pytest.raises(TranscriptionError, match="cut off"):
        decode(wav[: len(wav) // 3])
    webm = encode(tone(10.0, 48_000), 48_000, "webm", "libopus")
    with pytest.raises(TranscriptionError, match="cut off|damaged"):
        decode(webm[: len(webm) // 2])


def test_length_limits():
    with pytest.raises(TranscriptionError, match=r"only 0\.5 s long"):
        decode(encode(tone(0.5)))
    with pytest.raises(TranscriptionError, match="0:10 long, over the 0:05 limit"):
        decode(encode(tone(10.0)), AudioLimits(max_seconds=5))
    assert decode(encode(tone(10.0)), AudioLimits(max_seconds=20)).size == 160_000


def test_unreadable_path(tmp_path):
    with pytest.raises(TranscriptionError, match="Could not read"):
        decode(tmp_path / "missing.wav")


def timed(text: str) -> Transcript:
    return Transcript(tuple(Word(w, i * 0.3, i * 0.3 + 0.25) for i, w in enumerate(text.split())), 60.0)


def test_whisper_loops_are_recognised_but_hesitation_is_not():
    assert _looks_looped(timed("so dropout " + "Word. " * 8), 30.0)
    assert _looks_looped(timed("we use " + "the model " * 8), 30.0)
    assert _looks_looped(timed("a " * 60), 10.0)  # 6 words a second
    assert not _looks_looped(timed("um um um um um um um um um so dropout zeroes units"), 30.0)
    assert not _looks_looped(timed("very very very good " + "idea " * 6), 30.0)


# ------------------------------------------------------------- progress, with a stand-in Whisper model

THIRTY_SECONDS = np.zeros(30 * 16_000, np.float32)
STRETCHES = [
    (0.4, 10.0, "dropout switches off"),
    (10.0, 20.0, "a fraction of units"),
    (20.0, 27.0, "at random"),
]


def test_progress_is_the_share_of_the_recording_written_so_far_reported_as_whisper_goes(monkeypatch):
    model = FakeWhisperModel([STRETCHES], duration=30.0)
    transcriber = whisper_with(monkeypatch, model)
    transcript = transcriber.transcribe(
        THIRTY_SECONDS, on_progress=lambda p: model.events.append((p.percent, p.again))
    )
    # reported between stretches, before Whisper writes the next one: the page shows it while it waits
    assert model.events == [
        "transcribe",
        (0, False),
        ("segment", 0),
        (33, False),
        ("segment", 1),
        (66, False),
        ("segment", 2),
        (90, False),
        (100, False),  # the rest is silence
    ]
    assert transcript.text == "dropout switches off a fraction of units at random"
    assert transcript.words[3].start == 10.0 and transcript.duration == 30.0


def test_a_second_pass_reports_its_progress_again_from_the_start(monkeypatch):
    looped = [(0.0, 5.0, "word " * 12)]  # the filler prompt sent Whisper into a loop: a pass without it
    model = FakeWhisperModel([looped, STRETCHES], duration=30.0)
    reported: list[tuple[int, bool]] = []
    transcript = whisper_with(monkeypatch, model, filler_prompt=True).transcribe(
        THIRTY_SECONDS, on_progress=lambda p: reported.append((p.percent, p.again))
    )
    assert reported == [
        (0, False),
        (16, False),
        (100, False),
        (0, True),
        (33, True),
        (66, True),
        (90, True),
        (100, True),
    ]
    assert transcript.text.startswith("dropout")


def test_speech_the_prompted_pass_skipped_is_transcribed_alone_and_spliced_in_by_time(monkeypatch):
    import faster_whisper.vad

    speech = [{"start": 0, "end": 30 * 16_000}]
    monkeypatch.setattr(faster_whisper.vad, "get_speech_timestamps", lambda *_: speech)
    skipping = [(0.4, 5.0, "dropout switches off"), (20.0, 27.0, "at random")]  # 5-20 s unheard
    # the clip from 4 to 21 s (1 s into the heard words either side), in its own time
    clip = [(0.0, 1.0, "switches"), (1.0, 2.0, "off"), (2.0, 10.0, "a fraction of units"), (16.0, 17.0, "at")]
    model = FakeWhisperModel([skipping, clip], duration=None)
    reported: list[tuple[int, bool]] = []
    transcript = whisper_with(monkeypatch, model, filler_prompt=True).transcribe(
        THIRTY_SECONDS, on_progress=lambda p: reported.append((p.percent, p.again))
    )
    # "switches" and "at" are centred outside the gap; "off" is centred in it but repeats the word before
    assert transcript.text == "dropout switches off a fraction of units at random"
    assert [w.start for w in transcript.words][3:7] == [6.0, 8.0, 10.0, 12.0]
    # the second pass, without the prompt, hears only the gap and a second either side of it
    assert model.calls == [(30.0, FILLER_PROMPT), (17.0, None)]
    assert reported[-7:] == [
        (100, False),
        (0, True),
        (5, True),
        (11, True),
        (58, True),
        (100, True),
        (100, True),
    ]


def test_a_stretch_whisper_repeated_itself_in_is_decoded_again_alone_and_its_words_replaced(monkeypatch):
    # batched decoding has no temperature fallback: Whisper base wrote 33 "uh"s for the 6 said in a clip
    uh_loop = (10.0, 20.0, "uh " * 33, 5.8)  # its text's compression ratio
    repeating = [(0.4, 10.0, "dropout switches off"), uh_loop, (20.0, 27.0, "at random")]
    clip = [(1.0, 11.0, "a fraction of units")]  # 9 to 21 s, in its own time
    model = FakeWhisperModel([repeating, clip], duration=None)
    transcript = whisper_with(monkeypatch, model).transcribe(THIRTY_SECONDS)
    assert transcript.text == "dropout switches off a fraction of units at random"
    assert [w.start for w in transcript.words][3:5] == [10.0, 12.5]
    # the stretch and a second either side, alone, by the unbatched decoder, which has the fallback
    assert model.calls == [(30.0, None), (12.0, None)] and model.batch_sizes == [BATCH_SIZE, None]


def test_a_pause_or_speech_near_a_word_is_no_gap(monkeypatch):
    import faster_whisper.vad

    speech = [{"start": 0, "end": 5 * 16_000}, {"start": 20 * 16_000, "end": 27 * 16_000}]
    monkeypatch.setattr(faster_whisper.vad, "get_speech_timestamps", lambda *_: speech)
    heard = Transcript(words=(Word("dropout", 0.4, 4.6), Word("random", 20.2, 26.8)), duration=30.0)
    assert _unheard_gaps(heard, THIRTY_SECONDS) == []  # 5-20 s is silence
    assert _unheard_gaps(Transcript(words=heard.words[:1], duration=30.0), THIRTY_SECONDS) == [(4.6, 30.0)]
    short = Transcript(words=(heard.words[0], Word("random", 23.0, 26.8)), duration=30.0)
    assert _unheard_gaps(short, THIRTY_SECONDS) == []  # 20-22.5 s: too short to be skipped speech


def test_a_progress_callback_that_raises_stops_the_transcription(monkeypatch):
    class Stopped(Exception):
        pass

    def stop_at_a_third(progress: TranscriptionProgress) -> None:
        if progress.percent >= 33:
            raise Stopped

    model = FakeWhisperModel([STRETCHES], duration=30.0)
    with pytest.raises(Stopped):
        whisper_with(monkeypatch, model).transcribe(THIRTY_SECONDS, on_progress=stop_at_a_third)
    assert model.events == ["transcribe", ("segment", 0)]  # Whisper was not asked for the rest


def test_transcription_without_a_progress_callback_is_unchanged(monkeypatch):
    model = FakeWhisperModel([STRETCHES], duration=30.0)
    transcript = whisper_with(monkeypatch, model).transcribe(THIRTY_SECONDS)
    assert transcript.text == "dropout switches off a fraction of units at random"


@pytest.mark.parametrize(
    ("seconds", "duration", "percent"),
    [
        (0.0, 30.0, 0),
        (14.9, 30.0, 49),
        (29.9, 30.0, 99),
        (30.0, 30.0, 100),
        (44.8125625, 44.8125625, 100),
        (30.4, 30.0, 100),
        (0.0, 0.0, 100),
    ],
)
def test_progress_percent_is_rounded_down_and_bounded(seconds, duration, percent):
    assert TranscriptionProgress(seconds, duration).percent == percent


# ------------------------------------------------------------------------------- with the real models


@pytest.fixture(scope="module")
def spoken_answer() -> bytes:
    return synthesize(ANSWER, rate=165)


@pytest.mark.models
def test_bundled_model_transcribes_speech_with_word_times(spoken_answer):
    transcript = default_transcriber().transcribe(spoken_answer)
    text = transcript.text.lower()
    assert transcript.model == "tiny.en"
    for word in ("training", "network", "inference", "unit"):
        assert word in text
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    assert all(w.end >= w.start for w in transcript.words)
    assert transcript.words[-1].end <= transcript.duration + 0.5


@pytest.mark.models
def test_speech_left_without_words_is_recognised_as_skipped(spoken_answer):
    samples = decode(spoken_answer)
    transcript = default_transcriber().transcribe(samples)
    assert _unheard_gaps(transcript, samples) == []
    late = tuple(w for w in transcript.words if w.start > 5.0)  # as when the prompt made Whisper skip
    skipped = Transcript(words=late, duration=transcript.duration)
    gaps = _unheard_gaps(skipped, samples)
    assert gaps == [(0.0, late[0].start)]
    filled = default_transcriber()._fill(skipped, samples, gaps, None).text.lower()
    assert "a fraction of the neurons" in filled and "cannot rely on" in filled  # nothing lost or doubled
    # a pause is not skipped speech: the same words with 5 s of silence in the middle
    pause = np.concatenate([samples[: 3 * 16_000], np.zeros(5 * 16_000, np.float32), samples[3 * 16_000 :]])
    shifted = tuple(
        Word(w.text, w.start + 5.0, w.end + 5.0) if w.start >= 3.0 else w for w in transcript.words
    )
    assert _unheard_gaps(Transcript(words=shifted, duration=transcript.duration + 5.0), pause) == []


@pytest.mark.models
def test_stereo_48k_webm_speech_is_transcribed(spoken_answer):
    samples, rate = wav_samples(spoken_answer)
    assert rate == 22_050  # espeak-ng's rate; Opus needs 48 kHz, as browsers record it
    webm = encode(resample_poly(samples, 320, 147), 48_000, "webm", "libopus", channels=2)
    assert "inference" in default_transcriber().transcribe(webm).text.lower()


@pytest.mark.models
@pytest.mark.parametrize("sound", [silence(5.0), noise(5.0)], ids=["silence", "noise"])
def test_silence_and_noise_are_no_speech_not_invented_text(sound):
    with pytest.raises(NoSpeechError, match="No speech was heard"):
        default_transcriber().transcribe(encode(sound))


@pytest.mark.models
def test_one_model_shared_by_threads(spoken_answer):
    transcriber = default_transcriber()
    assert default_transcriber() is transcriber
    with ThreadPoolExecutor(3) as pool:
        texts = list(pool.map(lambda _: transcriber.transcribe(spoken_answer).text, range(3)))
    assert len(set(texts)) == 1


@pytest.mark.models
def test_whisper_base_is_joined_from_its_two_packages(spoken_answer, tmp_path, monkeypatch):
    monkeypatch.setenv("PRACTICE_CACHE_DIR", str(tmp_path))
    folder = whisper_base_dir()
    assert (folder / "model.bin").stat().st_size > 140_000_000
    before = (folder / "model.bin").stat().st_mtime_ns
    assert whisper_base_dir() == folder and (folder / "model.bin").stat().st_mtime_ns == before  # joined once
    transcript = default_transcriber("base").transcribe(spoken_answer)
    assert transcript.model == "base" and "inference" in transcript.text.lower()


@pytest.mark.models
def test_spoken_eval_answers_score_close_to_typed():
    """espeak-ng reads eval answers; their transcripts' coverage stays near the typed answers' coverage."""
    from bench.evalset import load_eval_set
    from practice.assess import assess_audio
    from practice.bank import load_bank
    from practice.scoring import default_scorer

    wanted = {
        "amd-conflicting-metrics-precision-recall--partial",
        "amd-supervised-vs-unsupervised-examples--strong",
        "amd-optimizing-for-strict-latency--partial",
    }
    answers = [a for a in load_eval_set(load_bank(None)) if a.id in wanted]
    assert len(answers) == len(wanted)
    drift = []
    for answer in answers:
        typed = default_scorer().score(answer.question, answer.answer).coverage
        spoken = assess_audio(answer.question, synthesize(answer.answer)).score.coverage
        drift.append(abs(spoken - typed))
    assert sum(drift) / len(drift) <= 15, drift  # bench/speech.py measures the mean on 40 answers


def test_an_unwritable_cache_is_a_model_load_error(tmp_path, monkeypatch):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("PRACTICE_CACHE_DIR", str(blocked))
    with pytest.raises(ModelLoadError, match="Could not prepare the speech model 'base'"):
        Transcriber("base")
