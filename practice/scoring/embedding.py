"""Sentence embeddings behind a small protocol, so scoring logic can be tested with a fake."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from practice.offline import embedding_model_location, keep_hub_offline


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one L2-normalised row per text (float32, shape (len(texts), dim))."""
        ...


class ModelLoadError(RuntimeError):
    """The embedding model could not be loaded."""


class SentenceTransformerEmbedder:
    """A sentence-transformers model; safe to share across threads (inference only)."""

    def __init__(self, location: str | None = None, device: str = "cpu"):
        keep_hub_offline()
        location = location or embedding_model_location()
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(location, device=device)
        except Exception as exc:  # missing folder, offline hub name, corrupt weights
            raise ModelLoadError(f"Could not load the embedding model '{location}': {exc}") from exc
        self.name = location

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._model.get_sentence_embedding_dimension() or 0), dtype=np.float32)
        return self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32, copy=False)


class CachedEmbedder:
    """Remembers embeddings of texts that recur (key points, questions) so each is computed once."""

    def __init__(self, inner: Embedder, max_items: int = 50_000):
        self.inner = inner
        self.max_items = max_items
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self.inner.encode(missing), strict=True))
            with self._lock:
                for text in missing:
                    self._cache[text] = found[text]
                while len(self._cache) > self.max_items:
                    self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])


_default: SentenceTransformerEmbedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> SentenceTransformerEmbedder:
    """The bundled (or user-chosen) model, loaded once per process."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SentenceTransformerEmbedder()
        return _default
