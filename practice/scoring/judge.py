"""The key-point judge: a cross-encoder that reads a key point and a span of an answer together.

A bi-encoder compares two vectors made apart, so "same topic" and "same claim" look alike to it. The judge
reads both texts in one pass and says whether the span states the point, contradicts it, or does not
state it. Its weights are trained by this project (training/train_judge.py) from all-MiniLM-L6-v2 on
public training data and ship beside this module in `judge/`, with a model card.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from practice import settings
from practice.offline import ModelLoadError, keep_hub_offline, load_once

LABELS = ("not stated", "states", "contradicts")
NOT_STATED, STATES, CONTRADICTS = range(len(LABELS))  # positions in LABELS
JUDGE_DIR = Path(__file__).with_name("judge")


class Judge(Protocol):
    def judge(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """(key point, span) pairs -> (len(pairs), len(LABELS)) probabilities, rows summing to 1."""
        ...


class CrossEncoderJudge:
    """The trained cross-encoder; safe to share across threads (inference only)."""

    batch_size = 32

    def __init__(self, location: str | Path | None = None, precision: str | None = None):
        keep_hub_offline()
        location = str(location or settings.judge_model() or JUDGE_DIR)
        try:
            import torch
            from sentence_transformers import CrossEncoder

            from practice.scoring.embedding import cpu_has_native_bf16

            precision = (
                precision
                or settings.embedding_precision()
                or ("bfloat16" if cpu_has_native_bf16() else "float32")
            )
            self._model = CrossEncoder(
                location, device="cpu", max_length=128, model_kwargs={"dtype": torch.float32}
            )
            # stored in float16 to halve the file; CPUs compute float32 or bfloat16
            self._model.model.to(torch.bfloat16 if precision == "bfloat16" else torch.float32)
        except Exception as exc:  # missing folder, corrupt weights
            raise ModelLoadError(f"Could not load the key-point judge '{location}': {exc}") from exc
        labels = tuple(self._model.model.config.id2label[i] for i in range(len(LABELS)))
        if labels != LABELS:
            raise ModelLoadError(f"The key-point judge '{location}' has labels {labels}, expected {LABELS}")
        self.name = location
        self.precision = precision

    def judge(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        logits = self._model.predict(
            [[as_spoken(point), as_spoken(span)] for point, span in pairs],
            batch_size=self.batch_size,
            convert_to_numpy=True,
            show_progress_bar=False,
            activation_fn=None,
        ).astype(np.float32)
        logits = logits - logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)


def as_spoken(text: str) -> str:
    """Text as Whisper writes speech (no punctuation but apostrophes; the model is uncased anyway), so a
    typed answer and its transcript are judged alike: punctuation is not part of a claim."""
    return " ".join(re.sub(r"[^\w\s']", " ", text).split())


@load_once
def default_judge() -> CrossEncoderJudge:
    """The bundled judge, loaded once per process."""
    return CrossEncoderJudge()
