"""The models an answer needs, loaded once per process in the background, so no page waits for them.

`preload(model)` starts loading Whisper `model` and the scorer on a daemon thread the first time it is
called for that model (later calls return at once, and a failed load is tried again); `progress(model)`
says what is loading, what is ready and what failed, for a page to show without waiting. The models
themselves are handed over by `practice.speech_in.default_transcriber` and `practice.scoring.default_scorer`
as before: each loads under its own lock, so a caller that arrives while the loader is still at work waits
for that load instead of starting a second one.

The loader also runs each model once on a tiny input: the first call pays for lazy set-up (the voice
activity filter, the judge, first-inference allocations), and it is better paid before the candidate
presses Stop than after. Heavy libraries are imported on the loader's thread, not the caller's.

`wait_without_spinning()` keeps OpenMP from spinning in a process that serves pages while it transcribes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

SPEECH = "speech recognition"
SCORING = "scoring models"


@dataclass(frozen=True)
class Progress:
    """Where loading one Whisper model and the scorer stands."""

    model: str
    loading: str | None = None  # SPEECH or SCORING while it loads
    speech_ready: bool = False
    scorer_ready: bool = False
    error: str | None = None  # one sentence when a model could not be loaded

    @property
    def ready(self) -> bool:
        return self.speech_ready and self.scorer_ready

    @property
    def started(self) -> bool:
        return self.loading is not None or self.ready or self.error is not None


class Loader:
    """Loads in the background and reports progress; thread-safe, one per process (`LOADER`).

    `load_speech(model)` and `load_scorer()` do the loading and warming up (see `_warm_speech`,
    `_warm_scorer`); tests pass fakes.
    """

    def __init__(
        self,
        load_speech: Callable[[str], object] | None = None,
        load_scorer: Callable[[], object] | None = None,
    ):
        self._load_speech = load_speech or _warm_speech
        self._load_scorer = load_scorer or _warm_scorer
        self._lock = threading.Lock()
        self._progress: dict[str, Progress] = {}
        self._threads: dict[str, threading.Thread] = {}

    def preload(self, model: str) -> Progress:
        """Start loading `model` and the scorer unless that is done or under way; returns at once."""
        with self._lock:
            now = self._progress.get(model, Progress(model))
            if now.started and now.error is None:
                return now
            now = Progress(model, loading=SPEECH)
            self._progress[model] = now
            thread = threading.Thread(target=self._run, args=(model,), name=f"preload-{model}", daemon=True)
            self._threads[model] = thread
        thread.start()
        return now

    def progress(self, model: str) -> Progress:
        with self._lock:
            return self._progress.get(model, Progress(model))

    def wait(self, model: str, timeout: float | None = None) -> Progress:
        """Until `model` and the scorer are loaded (or failed), at most `timeout` seconds."""
        with self._lock:
            thread = self._threads.get(model)
        if thread is not None:
            thread.join(timeout)
        return self.progress(model)

    def _update(self, model: str, **changes: object) -> None:
        with self._lock:
            now = self._progress.get(model, Progress(model))
            self._progress[model] = Progress(**{**now.__dict__, **changes})

    def _run(self, model: str) -> None:
        try:
            self._load_speech(model)
            self._update(model, speech_ready=True, loading=SCORING)
            self._load_scorer()
            self._update(model, scorer_ready=True, loading=None)
        except Exception as exc:  # ModelLoadError says which model and why; anything else is a bug
            from practice.offline import ModelLoadError

            log.exception("loading the models for %s failed", model)
            reason = str(exc) if isinstance(exc, ModelLoadError) else f"{exc.__class__.__name__}: {exc}"
            self._update(model, loading=None, error=f"A model could not be loaded: {reason}")


def wait_without_spinning() -> None:
    """Idle OpenMP threads sleep instead of spinning (OMP_WAIT_POLICY=PASSIVE), unless the user chose.

    Whisper's CTranslate2, scikit-learn and torch run on GNU OpenMP, whose threads by default spin at every
    barrier waiting for each other. In the app's server process on two busy cores (the browser, the
    server, other work) one of a pair is often off the CPU while the other spins: Whisper took 9-94 s
    on 27-62 s recordings there, 60-80% of the server's CPU in libgomp's wait loop (perf), against
    4-8 s for the same audio in a process of its own; waiting passively, 4-7 s (bench/README.md, "The
    app in a browser"). Each libgomp copy (torch's, CTranslate2's) reads the setting once, when it is
    loaded, so `practice/__init__.py` calls this before anything else.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _warm_speech(model: str) -> None:
    import numpy as np

    from practice.speech_in import SAMPLE_RATE, TranscriptionError, default_transcriber

    transcriber = default_transcriber(model)
    try:  # a second of quiet noise: sets up the voice activity filter and the model's first run
        noise = np.random.default_rng(0).standard_normal(SAMPLE_RATE).astype(np.float32) * 0.01
        transcriber.transcribe(noise)
    except TranscriptionError:
        pass


def _warm_scorer() -> None:
    from practice.bank import make_question
    from practice.scoring import default_scorer

    question = make_question(
        id="warm-up", question="What is a validation set?", model_answer="Data held out to tune a model."
    )
    default_scorer().score(question, "a validation set is data held out from training to tune the model")


LOADER = Loader()


def preload(model: str) -> Progress:
    """`LOADER.preload`: start loading Whisper `model` and the scorer in the background."""
    return LOADER.preload(model)


def progress(model: str) -> Progress:
    return LOADER.progress(model)


def wait(model: str, timeout: float | None = None) -> Progress:
    """`LOADER.wait`: until Whisper `model` and the scorer are loaded or failed."""
    return LOADER.wait(model, timeout)
