"""What the app's first page imports: the store and the login gate must not wait for the models' libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from practice.scoring import text

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "torch", "sentence_transformers", "faster_whisper", "transformers", "ctranslate2")


def loaded_after(statement: str) -> dict[str, bool]:
    """Which of HEAVY (and numpy) a fresh interpreter has loaded after `statement`."""
    names = (*HEAVY, "numpy")
    probe = f"import json, sys\n{statement}\nprint(json.dumps({{m: m in sys.modules for m in {names!r}}}))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "statement",
    [
        "import practice.storage",
        "from practice.storage import Store, open_store, access, login_required",
        "import practice.scoring, practice.scoring.delivery, practice.scoring.text",
    ],
)
def test_the_store_loads_without_the_models_libraries(statement):
    loaded = loaded_after(statement)
    assert not any(loaded[m] for m in HEAVY), loaded
    assert not loaded["numpy"], "the store and the light scoring modules do not need numpy"


def test_the_scorer_still_loads_on_first_use():
    loaded = loaded_after("from practice.scoring import CoverageScorer, default_scorer")
    assert loaded["numpy"] and not loaded["torch"]  # the embedding model loads only when a scorer is made


def test_the_stop_words_are_scikit_learns():
    assert text.ENGLISH_STOP_WORDS == ENGLISH_STOP_WORDS
