"""Timed words; a transcript corrected by hand: times carried over, the changes named, stored both ways."""

from __future__ import annotations

import pytest

from practice.storage import codec
from practice.transcript import Correction, Transcript, Word, describe_corrections


def heard(text: str, start: float = 0.5, step: float = 0.4) -> Transcript:
    words = tuple(Word(w, start + i * step, start + i * step + 0.3, 0.8) for i, w in enumerate(text.split()))
    return Transcript(words, duration=10.0, model="tiny.en")


def test_a_corrected_word_takes_the_time_of_the_word_it_replaces():
    original = heard("precision and recoil trade off")
    fixed = original.corrected("precision and recall trade off", by="Ada")
    assert fixed.text == "precision and recall trade off"
    assert [(w.start, w.end) for w in fixed.words] == [(w.start, w.end) for w in original.words]
    assert fixed.words[0].probability == 0.8 and fixed.words[2].probability == 1.0  # the candidate's word
    assert fixed.original == original and fixed.heard == original and fixed.corrected_by == "Ada"
    assert (fixed.duration, fixed.model) == (10.0, "tiny.en")
    assert fixed.corrections() == [Correction("recoil", "recall")]
    assert describe_corrections(fixed) == "Corrected: recoil → recall."


def test_words_split_added_and_removed_are_timed_inside_what_was_heard():
    original = heard("um the hyper parameters are tuned")
    fixed = original.corrected("the hyperparameters are tuned on validation data")
    by_text = {w.text: w for w in fixed.words}
    joined = by_text["hyperparameters"]  # two words heard, one meant: their whole span
    assert (joined.start, joined.end) == (original.words[2].start, original.words[3].end)
    added = by_text["validation"]  # after the last word heard: at its end
    assert added.start == added.end == original.words[-1].end
    assert [str(c) for c in fixed.corrections()] == [
        "“um” removed",
        "hyper parameters → hyperparameters",
        "“on validation data” added",
    ]
    assert fixed.time_at(fixed.text.index("hyperparameters")) == original.words[2].start


def test_correcting_again_starts_from_the_words_heard():
    original = heard("the recoil is low")
    twice = original.corrected("the recall is lower").corrected("the recall is low")
    assert twice.original == original and twice.original.original is None
    assert twice.corrections() == [Correction("recoil", "recall")]


@pytest.mark.parametrize(
    ("meant", "expected"),
    [
        ("The recoil, is low.", "Corrected: spelling or punctuation only."),
        (
            "a b c d e f g h i j",
            "Corrected: the recoil is low → a b c d e f g h i j.",
        ),
    ],
)
def test_the_changes_in_one_sentence(meant, expected):
    assert describe_corrections(heard("the recoil is low").corrected(meant)) == expected


def test_many_changes_are_counted_not_listed():
    original = heard(" ".join(f"w{i} x" for i in range(12)))
    fixed = original.corrected(" ".join(f"v{i} x" for i in range(12)))
    assert len(fixed.corrections()) == 12
    assert describe_corrections(fixed).endswith("w7 → v7 and 4 more.")
    assert describe_corrections(original) == ""  # as heard: nothing to say


def test_a_corrected_transcript_is_stored_with_the_words_heard_and_old_rows_still_load():
    original = heard("precision and recoil")
    fixed = original.corrected("precision and recall", by="Ada")
    stored = codec.dump_transcript(fixed)
    assert stored["text"] == "precision and recall" and stored["original"]["text"] == "precision and recoil"
    assert codec.load_transcript(stored) == fixed
    old_row = codec.dump_transcript(original)  # as written before corrections existed
    assert "original" not in old_row and codec.load_transcript(old_row) == original
    # words heard nested deeper than one level (never written) are read as one level
    nested = {**stored, "original": {**stored["original"], "original": stored}}
    assert codec.load_transcript(nested) == fixed


def test_damaged_words_heard_leave_the_corrected_transcript_shown():
    stored = codec.dump_transcript(heard("precision and recoil").corrected("precision and recall"))
    stored["original"] = {"words": [{"text": "x"}]}  # no times
    loaded = codec.load_transcript(stored)
    assert loaded.text == "precision and recall" and loaded.original is None
