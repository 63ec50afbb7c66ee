"""The background model loader: the page never waits for Whisper and the scorer, and says where they are."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from practice import models
from practice.offline import ModelLoadError

ROOT = Path(__file__).resolve().parents[1]


class Gate:
    """A load that waits until it is opened, recording what it was asked for."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.calls: list[str] = []

    def speech(self, model: str) -> None:
        self.calls.append(model)
        assert self.open.wait(10)

    def scorer(self) -> None:
        self.calls.append("scorer")


def test_models_load_in_the_background_and_say_where_they_are():
    gate = Gate()
    loader = models.Loader(load_speech=gate.speech, load_scorer=gate.scorer)
    assert not loader.progress("tiny.en").started
    now = loader.preload("tiny.en")  # returns at once, while Whisper is still loading
    assert (now.loading, now.ready) == (models.SPEECH, False)
    assert loader.preload("tiny.en").loading == models.SPEECH and loader.wait("tiny.en", 0.05).loading
    gate.open.set()
    done = loader.wait("tiny.en", 10)
    assert done.ready and done.loading is None and done.error is None
    assert gate.calls == ["tiny.en", "scorer"]  # once, however often it was asked
    assert loader.preload("tiny.en").ready and gate.calls == ["tiny.en", "scorer"]


def test_a_model_that_cannot_be_loaded_is_one_sentence_and_is_tried_again():
    attempts: list[str] = []

    def speech(model: str) -> None:
        attempts.append(model)
        if len(attempts) == 1:
            raise ModelLoadError("Could not load the speech model 'tiny.en': no such folder.")

    loader = models.Loader(load_speech=speech, load_scorer=lambda: None)
    loader.preload("tiny.en")
    failed = loader.wait("tiny.en", 10)
    assert (
        failed.error
        == "A model could not be loaded: Could not load the speech model 'tiny.en': no such folder."
    )
    assert not failed.ready and failed.loading is None
    assert loader.wait(loader.preload("tiny.en").model, 10).ready and attempts == ["tiny.en", "tiny.en"]


def test_another_whisper_model_loads_on_its_own():
    loader = models.Loader(load_speech=lambda _: None, load_scorer=lambda: None)
    loader.preload("tiny.en")
    assert loader.wait("tiny.en", 10).ready and not loader.progress("base").started
    assert loader.wait(loader.preload("base").model, 10).ready


def test_openmp_is_told_to_wait_without_spinning_before_it_is_loaded():
    # OMP_DISPLAY_ENV makes libgomp print the settings it read when it was loaded (here by Whisper's
    # CTranslate2, after the storage package the app imports first). A thread waiting passively spins 0
    # times before it sleeps; by default 300,000.
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}

    def spins(code: str, **extra: str) -> str:
        shown = {**env, "OMP_DISPLAY_ENV": "VERBOSE", **extra}
        run = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=shown, capture_output=True, text=True
        )
        return (
            next(line for line in run.stderr.splitlines() if "GOMP_SPINCOUNT" in line).split("=")[1].strip()
        )

    assert spins("import ctranslate2") == "'300000'"  # libgomp's default
    assert spins("import practice.storage, ctranslate2") == "'0'"
    # a user's choice is kept
    assert spins("import practice.storage, ctranslate2", OMP_WAIT_POLICY="ACTIVE") != "'0'"


def test_warming_up_runs_each_model_once_on_a_tiny_input(monkeypatch):
    from practice import scoring, speech_in
    from practice.scoring.coverage import CoverageScorer
    from tests.conftest import FakeEmbedder, FakeTranscriber

    recogniser = FakeTranscriber(None)  # hears nothing in the warm-up noise: that is fine
    monkeypatch.setattr(speech_in, "default_transcriber", lambda model=None, **_: recogniser)
    embedder = FakeEmbedder()
    loader = models.Loader()
    with scoring.scorer_in_use(CoverageScorer(embedder)):
        assert loader.wait(loader.preload("tiny.en").model, 10).ready
    assert recogniser.calls == 1 and embedder.calls >= 1
