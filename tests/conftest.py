from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from practice.scoring.embedding import encode_windows_separately
from practice.scoring.text import STOPWORDS, content_stems, negation_scope, stem, words
from practice.speech_in import NoSpeechError
from practice.transcript import Transcript, Word

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def own_coach_questions(tmp_path, monkeypatch):
    """Every test has its own coach's questions file (none until written), never the user's real one."""
    monkeypatch.setenv("PRACTICE_COACH_BANK", str(tmp_path / "coach-questions.yaml"))


class FakeEmbedder:
    """Bag of stemmed content words hashed into a vector: texts sharing words are similar, no model."""

    dim = 256

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in words(text):
                if w in STOPWORDS:
                    continue
                h = int(hashlib.md5(stem(w).encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out

    def encode_windows(self, items):
        return encode_windows_separately(self, items)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


class FakeJudge:
    """A strict reader with no model: a span states a point when it holds most of the point's content
    words, and contradicts it when it also negates them; otherwise it does not state it."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def judge(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        self.pairs += pairs
        out = np.zeros((len(pairs), 3), dtype=np.float32)  # not stated, states, contradicts
        for i, (point, span) in enumerate(pairs):
            wanted = set(content_stems(point))
            share = len(wanted & {stem(w) for w in words(span)}) / max(1, len(wanted))
            if share < 0.6:
                out[i] = (0.9, 0.05, 0.05)
            elif negation_scope(words(span), wanted):
                out[i] = (0.05, 0.05, 0.9)
            else:
                out[i] = (0.05, 0.9, 0.05)
        return out


@pytest.fixture
def fake_judge() -> FakeJudge:
    return FakeJudge()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# A small bank for the flow, CLI, app and grading tests.
BANK = """track: mine
title: Mine
questions:
  - id: validation-set
    level: basic
    topic: evaluation
    question: What is a validation set for?
    model_answer: A validation set is held out from training. It is used to tune hyperparameters.
    key_points:
      - text: Data held out from training
        follow_up: Where does the validation data come from?
      - text: Used to tune hyperparameters and choose models
        follow_up: What do you tune with it?
  - id: overfitting
    level: basic
    topic: generalisation
    question: What is overfitting?
    model_answer: The model memorises noise in the training data. It then does badly on new data.
  - id: test-set
    level: basic
    topic: evaluation
    question: Why keep a separate test set?
    model_answer: A test set gives an unbiased final estimate. It must not be used for tuning.
  - id: attention
    level: advanced
    topic: transformers
    question: What does attention compute?
    model_answer: Attention weighs every token by its relevance to the current one.
"""

# A second track, for what depends on the chosen track (the setup form's topics).
OTHER_TRACK = """track: other
title: Other
questions:
  - id: fair-model
    level: basic
    topic: ethics
    question: What makes a model fair?
    model_answer: A fair model treats comparable people alike. Its errors do not fall on one group.
"""


class FakeTranscriber:
    """Hears `text` (spaced 0.4 s a word from 0.5 s) whatever the audio, all at once (so it tells
    `on_progress` nothing); None hears nothing. A `practice.speech_in.Recogniser`."""

    def __init__(self, text: str | None):
        self.text = text
        self.calls = 0
        self.calls_seen = threading.Event()  # set once it has been asked to transcribe

    def transcribe(self, audio, limits=None, on_progress=None):
        self.calls += 1
        self.calls_seen.set()
        if self.text is None:
            raise NoSpeechError(
                "No speech was heard in the recording: check the microphone and answer again."
            )
        words = tuple(Word(w, 0.5 + i * 0.4, 0.8 + i * 0.4) for i, w in enumerate(self.text.split()))
        return Transcript(words, duration=words[-1].end + 0.5, model="fake")
