"""Sentence embeddings behind a small protocol, so scoring logic can be tested with a fake."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from practice import settings
from practice.offline import ModelLoadError, embedding_model_location, keep_hub_offline, load_once

Span = tuple[int, int]  # [start, end) word indices


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...

    def encode_windows(self, items: Sequence[tuple[list[str], list[Span]]]) -> list[np.ndarray]:
        """For each (words, windows): one L2-normalised row per window of those words."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def encode_windows_separately(
    embedder: Embedder, items: Sequence[tuple[list[str], list[Span]]]
) -> list[np.ndarray]:
    """Embed each window as its own text: exact, but one model pass per window."""
    texts = [" ".join(words[a:b]) for words, spans in items for a, b in spans]
    vectors = embedder.encode(texts)
    out, offset = [], 0
    for _, spans in items:
        out.append(vectors[offset : offset + len(spans)])
        offset += len(spans)
    return out


def cpu_has_native_bf16() -> bool:
    """bfloat16 halves CPU inference time where the CPU computes it natively (AVX512-BF16, AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


class SentenceTransformerEmbedder:
    """A sentence-transformers model; safe to share across threads (inference only).

    Windows of an answer are embedded by "late chunking": the answer goes through the transformer
    once and each window is the mean of its words' contextual token vectors, which is what a
    mean-pooling model does for a whole text. That is several times cheaper than one pass per window,
    and on the eval set it matches key points at least as well. Models that do not mean-pool get one
    pass per window.
    """

    chunk_words = 120  # words per transformer pass; long answers are cut into overlapping chunks
    chunk_overlap = 32  # more than the longest window, so every window lies inside one chunk

    def __init__(self, location: str | None = None, device: str = "cpu", precision: str | None = None):
        keep_hub_offline()
        location = location or embedding_model_location()
        precision = (
            precision
            or settings.embedding_precision()
            or ("bfloat16" if device == "cpu" and cpu_has_native_bf16() else "float32")
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
        first, pooling = self._model[0], self._model[1] if len(self._model) > 1 else None
        self._late_chunking = (
            hasattr(first, "auto_model")
            and hasattr(first, "tokenizer")
            and getattr(pooling, "pooling_mode", None) == "mean"
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._model.get_sentence_embedding_dimension() or 0), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=64, convert_to_tensor=True, show_progress_bar=False
        )
        return _normalise(vectors.float().cpu().numpy())  # in float32: bfloat16 norms are off by ~1e-3

    def encode_windows(self, items: Sequence[tuple[list[str], list[Span]]]) -> list[np.ndarray]:
        if not self._late_chunking:
            return encode_windows_separately(self, items)
        import torch

        chunks: list[tuple[int, int, list[str]]] = []  # (item, first word, words)
        step = self.chunk_words - self.chunk_overlap
        for i, (words, _) in enumerate(items):
            starts = range(0, max(1, len(words) - self.chunk_overlap), step)
            chunks += [(i, s, words[s : s + self.chunk_words]) for s in starts]
        transformer: Any = self._model[0]  # a Transformer module: __init__ checked it has these attributes
        encoded = transformer.tokenizer(
            [c[2] for c in chunks],
            is_split_into_words=True,
            padding=True,
            truncation=True,
            max_length=self._model.max_seq_length,
            return_tensors="pt",
        )
        word_ids = [
            np.array([-1 if w is None else w for w in encoded.word_ids(j)]) for j in range(len(chunks))
        ]
        with torch.inference_mode():
            tokens = (
                transformer.auto_model(**encoded.to(self._model.device))
                .last_hidden_state.float()
                .cpu()
                .numpy()
            )
        by_item: dict[int, list[int]] = {}
        for j, (i, _, _) in enumerate(chunks):
            by_item.setdefault(i, []).append(j)
        out = []
        for i, (words, spans) in enumerate(items):
            rows = np.zeros((len(spans), tokens.shape[-1]), dtype=np.float32)
            missing = []
            for n, (a, b) in enumerate(spans):
                # the chunk in which this window sits furthest from an edge
                j = max(by_item[i], key=lambda j: min(a - chunks[j][1], chunks[j][1] + len(chunks[j][2]) - b))
                start = chunks[j][1]
                mask = (word_ids[j] >= a - start) & (word_ids[j] < b - start)
                if mask.any():
                    rows[n] = tokens[j][mask].mean(axis=0)
                else:  # the window's words were cut off by the token limit
                    missing.append(n)
            if missing:
                rows[missing] = self.encode([" ".join(words[a:b]) for a, b in (spans[n] for n in missing)])
            out.append(_normalise(rows))
        return out


@load_once
def default_embedder() -> SentenceTransformerEmbedder:
    """The bundled (or user-chosen) model, loaded once per process."""
    return SentenceTransformerEmbedder()
