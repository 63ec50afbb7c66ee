from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from practice.scoring.embedding import encode_windows_separately
from practice.scoring.text import STOPWORDS, stem, words

os.environ.setdefault("HF_HUB_OFFLINE", "1")


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


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
