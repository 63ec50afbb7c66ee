"""practice.settings: every PRACTICE_* variable's default, override and parsing, read when asked."""

from __future__ import annotations

import re
from pathlib import Path

import platformdirs
import pytest

from practice import settings, speech_out
from tests.test_imports import HEAVY, ROOT, loaded_after

ALL = (
    settings.EMBEDDING_MODEL_ENV_VAR,
    settings.JUDGE_ENV_VAR,
    settings.PRECISION_ENV_VAR,
    settings.WHISPER_MODEL_ENV_VAR,
    settings.VOICE_ENV_VAR,
    settings.CACHE_ENV_VAR,
    settings.DATA_DIR_ENV_VAR,
    settings.DATABASE_URL_ENV_VAR,
    settings.BANK_ENV_VAR,
    settings.COACH_BANK_ENV_VAR,
    settings.LOGIN_ENV_VAR,
)


@pytest.fixture
def clean(monkeypatch):
    """No PRACTICE_* variable set (the suite's own coach's-questions file included)."""
    for name in ALL:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_each_variable_is_named_once():
    assert len(set(ALL)) == len(ALL)
    assert all(name.startswith("PRACTICE_") for name in ALL)


def test_the_defaults(clean):
    assert settings.embedding_model() is None  # the bundled model
    assert settings.judge_model() is None  # the shipped judge
    assert settings.embedding_precision() is None  # chosen by the CPU
    assert settings.whisper_model() == "tiny.en"
    assert settings.voice() == speech_out.ESPEAK
    assert settings.cache_dir() == Path(platformdirs.user_cache_dir("interview-practice"))
    assert settings.data_dir() == Path(platformdirs.user_data_dir("interview-practice"))
    assert settings.database_url() is None  # SQLite in the data folder
    assert settings.bank_dir() is None  # the shipped bank
    assert settings.coach_bank() is None  # beside the database
    assert settings.login_required() is False


def test_the_environment_overrides_every_default(clean, tmp_path):
    values = {
        settings.EMBEDDING_MODEL_ENV_VAR: str(tmp_path / "minilm"),
        settings.JUDGE_ENV_VAR: str(tmp_path / "judge"),
        settings.PRECISION_ENV_VAR: "float32",
        settings.WHISPER_MODEL_ENV_VAR: "base",
        settings.VOICE_ENV_VAR: "piper",
        settings.CACHE_ENV_VAR: str(tmp_path / "cache"),
        settings.DATA_DIR_ENV_VAR: str(tmp_path / "data"),
        settings.DATABASE_URL_ENV_VAR: "postgresql+psycopg://db.example/practice",
        settings.BANK_ENV_VAR: str(tmp_path / "bank"),
        settings.COACH_BANK_ENV_VAR: str(tmp_path / "coach.yaml"),
        settings.LOGIN_ENV_VAR: "1",
    }
    for name, value in values.items():
        clean.setenv(name, value)
    assert settings.embedding_model() == str(tmp_path / "minilm")
    assert settings.judge_model() == str(tmp_path / "judge")
    assert settings.embedding_precision() == "float32"
    assert settings.whisper_model() == "base"
    assert settings.voice() == "piper"
    assert settings.cache_dir() == tmp_path / "cache"
    assert settings.data_dir() == tmp_path / "data"
    assert settings.database_url() == "postgresql+psycopg://db.example/practice"
    assert settings.bank_dir() == tmp_path / "bank"
    assert settings.coach_bank() == tmp_path / "coach.yaml"
    assert settings.login_required() is True


@pytest.mark.parametrize(
    ("name", "read"),
    [
        (settings.EMBEDDING_MODEL_ENV_VAR, settings.embedding_model),
        (settings.JUDGE_ENV_VAR, settings.judge_model),
        (settings.PRECISION_ENV_VAR, settings.embedding_precision),
        (settings.WHISPER_MODEL_ENV_VAR, settings.whisper_model),
        (settings.VOICE_ENV_VAR, settings.voice),
        (settings.CACHE_ENV_VAR, settings.cache_dir),
        (settings.DATA_DIR_ENV_VAR, settings.data_dir),
        (settings.DATABASE_URL_ENV_VAR, settings.database_url),
        (settings.BANK_ENV_VAR, settings.bank_dir),
        (settings.COACH_BANK_ENV_VAR, settings.coach_bank),
    ],
)
def test_each_is_read_when_asked_and_empty_means_unset(clean, name, read):
    default = read()
    clean.setenv(name, "first")
    first = read()
    clean.setenv(name, "second")  # after the first read: nothing was kept from it
    second = read()
    assert str(first).endswith("first") and str(second).endswith("second")
    clean.setenv(name, "")
    assert read() == default


def test_paths_expand_the_home_folder_and_some_values_ignore_spaces(clean):
    clean.setenv(settings.BANK_ENV_VAR, "~/bank")
    clean.setenv(settings.COACH_BANK_ENV_VAR, "  ~/coach.yaml  ")
    clean.setenv(settings.VOICE_ENV_VAR, " piper ")
    clean.setenv(settings.DATABASE_URL_ENV_VAR, " sqlite:///x.db \n")
    assert settings.bank_dir() == Path.home() / "bank"
    assert settings.coach_bank() == Path.home() / "coach.yaml"
    assert settings.voice() == "piper"
    assert settings.database_url() == "sqlite:///x.db"
    clean.setenv(settings.VOICE_ENV_VAR, "   ")
    clean.setenv(settings.DATABASE_URL_ENV_VAR, "   ")
    clean.setenv(settings.COACH_BANK_ENV_VAR, "   ")
    assert (settings.voice(), settings.database_url(), settings.coach_bank()) == ("espeak", None, None)


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "TRUE", " On ", "Yes\n"])
def test_logins_on(clean, value):
    clean.setenv(settings.LOGIN_ENV_VAR, value)
    assert settings.login_required() is True


@pytest.mark.parametrize("value", ["", "0", "false", "no", "off", "OFF", " False ", "  "])
def test_logins_off(clean, value):
    clean.setenv(settings.LOGIN_ENV_VAR, value)
    assert settings.login_required() is False


@pytest.mark.parametrize("value", ["ture", "2", "enabled", "y", "n", "t", "-1", "1 0"])
def test_an_unreadable_login_setting_is_refused_not_guessed(clean, value):
    clean.setenv(settings.LOGIN_ENV_VAR, value)
    with pytest.raises(ValueError) as refused:
        settings.login_required()
    assert str(refused.value) == f"PRACTICE_REQUIRE_LOGIN must be 1 (logins on) or 0 (off), not '{value}'."


def test_the_refusal_quotes_at_most_twenty_characters(clean):
    clean.setenv(settings.LOGIN_ENV_VAR, "x" * 500)
    with pytest.raises(ValueError) as refused:
        settings.login_required()
    assert str(refused.value).endswith(f"not '{'x' * 20}'.")


def test_a_given_environment_stands_in_for_the_real_one(clean):
    clean.setenv(settings.LOGIN_ENV_VAR, "1")
    assert settings.login_required({}) is False
    assert settings.login_required({settings.LOGIN_ENV_VAR: "on"}) is True


def test_settings_load_without_the_models_libraries():
    loaded = loaded_after("import practice.settings")
    assert not any(loaded[m] for m in HEAVY) and not loaded["numpy"], loaded


def test_no_other_app_module_names_a_variable():
    """Only practice/settings.py spells a PRACTICE_* name in quotes: the rest asks settings."""
    quoted = re.compile(r"""["']PRACTICE_[A-Z_]+["']""")
    sources = [*(ROOT / "practice").rglob("*.py"), *(ROOT / "views").glob("*.py"), ROOT / "app.py"]
    spelled = {
        str(path.relative_to(ROOT)): quoted.findall(path.read_text())
        for path in sources
        if path.name != "settings.py" or path.parent.name != "practice"
    }
    assert {path: names for path, names in spelled.items() if names} == {}
