"""Every PRACTICE_* environment variable the app reads: its name, what it means and its default, in one place.

Each accessor reads the environment when it is called, never at import, so a variable set after start-up
(a test's monkeypatch, a wrapper script) is seen. An empty value counts as unset. An accessor returns None
where the default lives with the code that uses it (a bundled model, the shipped bank), and says which.

Only the standard library and platformdirs here: the store imports this, and the app's first page must not
wait for the models' libraries (tests/test_imports.py).

The bench's and training's own variables (PRACTICE_DATASETS_DIR, PRACTICE_SPEECH_DEV_DIR, PRACTICE_CHROMIUM,
PRACTICE_TEST_POSTGRES_URL) are not the app's and stay with them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

# Models and voices
EMBEDDING_MODEL_ENV_VAR = "PRACTICE_EMBEDDING_MODEL"
JUDGE_ENV_VAR = "PRACTICE_JUDGE_MODEL"
PRECISION_ENV_VAR = "PRACTICE_EMBEDDING_PRECISION"
WHISPER_MODEL_ENV_VAR = "PRACTICE_WHISPER_MODEL"
VOICE_ENV_VAR = "PRACTICE_VOICE"
# Files
CACHE_ENV_VAR = "PRACTICE_CACHE_DIR"
DATA_DIR_ENV_VAR = "PRACTICE_DATA_DIR"
DATABASE_URL_ENV_VAR = "PRACTICE_DATABASE_URL"
BANK_ENV_VAR = "PRACTICE_BANK_DIR"
COACH_BANK_ENV_VAR = "PRACTICE_COACH_BANK"
# A shared server
LOGIN_ENV_VAR = "PRACTICE_REQUIRE_LOGIN"

APP_DIR_NAME = "interview-practice"  # the per-user cache and data folders' name
DEFAULT_WHISPER_MODEL = "tiny.en"
DEFAULT_VOICE = "espeak"  # practice.speech_out.ESPEAK

_LOGIN_ON = frozenset({"1", "true", "yes", "on"})
_LOGIN_OFF = frozenset({"", "0", "false", "no", "off"})


def _raw(name: str, environ: Mapping[str, str] | None = None) -> str:
    return (os.environ if environ is None else environ).get(name, "")


# --- models and voices -------------------------------------------------------------------------------------


def embedding_model() -> str | None:
    """PRACTICE_EMBEDDING_MODEL: the sentence-embedding model, a folder or (online only) a hub name.

    None: the bundled all-MiniLM-L6-v2 (practice.offline.embedding_model_location)."""
    return _raw(EMBEDDING_MODEL_ENV_VAR) or None


def judge_model() -> str | None:
    """PRACTICE_JUDGE_MODEL: the key-point judge's folder. None: the one shipped in practice/scoring/judge."""
    return _raw(JUDGE_ENV_VAR) or None


def embedding_precision() -> str | None:
    """PRACTICE_EMBEDDING_PRECISION: "float32" or "bfloat16" for the embedding model and the judge.

    None: bfloat16 where the CPU computes it natively, else float32 (practice.scoring.embedding). The value
    is checked where a model is loaded."""
    return _raw(PRECISION_ENV_VAR) or None


def whisper_model() -> str:
    """PRACTICE_WHISPER_MODEL: the speech recogniser, "tiny.en" (default, bundled), "base" (bundled), a
    CTranslate2 folder or (online only) a hub name."""
    return _raw(WHISPER_MODEL_ENV_VAR) or DEFAULT_WHISPER_MODEL


def voice() -> str:
    """PRACTICE_VOICE: the voice questions are read in when none is chosen, "espeak" (default) or "piper"
    (natural); surrounding spaces are ignored."""
    return _raw(VOICE_ENV_VAR).strip() or DEFAULT_VOICE


# --- files -------------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """PRACTICE_CACHE_DIR: rebuildable files (spoken questions, the joined Whisper base). Default: the
    user's cache folder (platformdirs)."""
    return Path(_raw(CACHE_ENV_VAR) or platformdirs.user_cache_dir(APP_DIR_NAME))


def data_dir() -> Path:
    """PRACTICE_DATA_DIR: the SQLite database and the coach's questions. Default: the user's data folder
    (platformdirs)."""
    return Path(_raw(DATA_DIR_ENV_VAR) or platformdirs.user_data_dir(APP_DIR_NAME))


def database_url() -> str | None:
    """PRACTICE_DATABASE_URL: the attempts database, e.g. postgresql+psycopg://...; surrounding spaces are
    ignored. None: practice.db in `data_dir()` (practice.storage.engine.default_url)."""
    return _raw(DATABASE_URL_ENV_VAR).strip() or None


def bank_dir() -> Path | None:
    """PRACTICE_BANK_DIR: the question bank's folder ("~" expanded). None: the bank shipped with the app
    (practice.bank.packaged_bank_dir)."""
    raw = _raw(BANK_ENV_VAR)
    return Path(raw).expanduser() if raw else None


def coach_bank() -> Path | None:
    """PRACTICE_COACH_BANK: the file of the coach's own questions ("~" expanded, surrounding spaces ignored).
    None: coach-questions.yaml in `data_dir()` (practice.coach_bank.coach_bank_path)."""
    raw = _raw(COACH_BANK_ENV_VAR).strip()
    return Path(raw).expanduser() if raw else None


# --- a shared server ---------------------------------------------------------------------------------------


def login_required(environ: Mapping[str, str] | None = None) -> bool:
    """PRACTICE_REQUIRE_LOGIN: whether the app asks everyone to log in, 1/true/yes/on (any case, surrounding
    spaces ignored) or 0/false/no/off. Default: off.

    A value it cannot read is a ValueError (one sentence) rather than a guess either way: a server meant
    to be closed must not open because of a typo. `environ` stands in for the environment (tests).
    """
    raw = _raw(LOGIN_ENV_VAR, environ)
    value = raw.strip().lower()
    if value in _LOGIN_ON:
        return True
    if value in _LOGIN_OFF:
        return False
    raise ValueError(f"{LOGIN_ENV_VAR} must be 1 (logins on) or 0 (off), not '{raw[:20]}'.")
