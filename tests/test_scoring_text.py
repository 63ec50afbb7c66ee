from __future__ import annotations

import pytest

from practice.scoring.text import (
    contains_phrase,
    content_stems,
    is_negated,
    phrase_stems,
    repeated_runs,
    stem,
    tokenize,
    windows,
)


def test_tokenize_keeps_offsets_into_the_original_text():
    text = "Well, I'd use L2 — and dropout!"
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["well", "i'd", "use", "l2", "and", "dropout"]
    assert all(text[t.start : t.end].lower() == t.text for t in tokens)


@pytest.mark.parametrize(
    ("n", "sizes", "expected_cover"),
    [(0, (10,), []), (3, (10, 20), [(0, 3)]), (25, (10,), None), (100, (10, 20), None)],
)
def test_windows_cover_every_word(n, sizes, expected_cover):
    spans = windows(n, sizes)
    if expected_cover is not None:
        assert spans == expected_cover
    covered = {i for a, b in spans for i in range(a, b)}
    assert covered == set(range(n))
    assert all(b - a <= max(sizes) for a, b in spans)


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("it does not generalise", True),
        ("it doesn't help", True),
        ("without labels", True),
        ("it helps a lot", False),
    ],
)
def test_is_negated(text, negated):
    assert is_negated(text.split()) is negated


def test_content_stems_drop_stop_words_and_merge_inflections():
    assert content_stems("The models were overfitting the training data") == [
        "model",
        "overfit",
        "train",
        "data",
    ]


def test_phrase_match_needs_adjacent_words_in_order():
    hay = [stem(w) for w in "we lowered the learning rate slowly".split()]
    assert contains_phrase(hay, phrase_stems("learning rate"))
    assert not contains_phrase(hay, phrase_stems("rate learning"))
    assert contains_phrase(hay, phrase_stems("lowering"))


def test_repeated_runs_marks_only_the_second_saying():
    said = "we used dropout and early stopping on the validation set".split()
    tokens = said + ["then"] + said
    repeats = repeated_runs(tokens)
    assert repeats == set(range(len(said) + 1, 2 * len(said) + 1))
    assert repeated_runs(said) == set()
