"""Sentence embeddings behind a small protocol, so scoring logic can be tested with a fake."""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from practice.offline import embedding_model_location, keep_hub_offline


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one L2-normalised row per text (float32, shape (len(texts), dim))."""
        ...


class ModelLoadError(RuntimeError):
    """The embedding model could not be loaded."""


PRECISION_ENV_VAR = "PRACTICE_EMBEDDING_PRECISION"


def cpu_has_native_bf16() -> bool:
    """bfloat16 halves CPU inference time where the CPU computes it natively (AVX512-BF16, AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


class SentenceTransformerEmbedder:
    """A sentence-transformers model; safe to share across threads (inference only)."""

    def __init__(self, location: str | None = None, device: str = "cpu", precision: str | None = None):
        keep_hub_offline()
        location = location or embedding_model_location()
        precision = precision or os.environ.get(PRECISION_ENV_VAR) or (
            "bfloat16" if device == "cpu" and cpu_has_native_bf16() else "float32"
        )
        if precision not in ("float32", "bfloat16"):
            raise ModelLoadError(f"Invalid precision '{precision}', expected one of: float32, bfloat16")
        try:
            import torch
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(location, device=device)
            if precision == "bfloat16":
                self._model.to(torch.bfloat16)
        except Exception as exc:  # missing folder, offline hub name, corrupt weights
            raise ModelLoadError(f"Could not load the embedding model '{location}': {exc}") from exc
        self.name = location
        self.precision = precision

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._model.get_sentence_embedding_dimension() or 0), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=64, convert_to_tensor=True, show_progress_bar=False)
        vectors = vectors.float().cpu().numpy()  # normalised in float32: bfloat16 norms are off by ~1e-3
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


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
