"""The suite's warning filters (pyproject.toml): a deprecation fails a test unless a model or browser library
raised it inside its own code."""

from __future__ import annotations

import warnings

import pytest

CATEGORIES = [DeprecationWarning, FutureWarning]


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize(
    "module", ["practice.scoring.judge", "views.widgets", "tests.test_settings", "app", "streamlit.runtime"]
)
def test_a_deprecation_elsewhere_fails(module, category):
    with pytest.raises(category):
        warnings.warn_explicit("deprecated", category, "somewhere.py", 1, module=module)


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize(
    "module", ["torch.nn.modules.module", "transformers", "sentence_transformers.util", "faster_whisper"]
)
def test_a_deprecation_inside_a_model_library_is_theirs(module, category):
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn_explicit("deprecated", category, "somewhere.py", 1, module=module)
    assert caught == []


def test_a_name_that_only_starts_like_one_is_not_theirs():
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("deprecated", DeprecationWarning, "somewhere.py", 1, module="torchlike")
