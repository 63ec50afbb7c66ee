from __future__ import annotations

from practice.markdown import Highlight, escape_markdown, highlighted


def test_user_text_cannot_make_markup():
    raw = "<script>alert(1)</script> *bold* [link](http://x) $x^2$ :red[red] # no heading"
    escaped = escape_markdown(raw)
    for ch in "<>*[]$:":
        assert ch not in escaped.replace(f"\\{ch}", "")
    assert escape_markdown("# title").startswith("\\#")


def test_highlights_mark_evidence_with_labels_and_escape_the_rest():
    text = "we keep a <holdout> set and tune hyperparameters on it"
    md = highlighted(text, [Highlight(10, 23, "1 · 0:02"), Highlight(28, 48, "2 · 0:04")])
    assert md == (
        "we keep a :green-background[\\<holdout\\> set] **\\[1 · 0\\:02\\]** and "
        ":green-background[tune hyperparameters] **\\[2 · 0\\:04\\]** on it"
    )


def test_overlapping_highlights_merge_and_bad_spans_are_ignored():
    text = "dropout zeroes random activations during training"
    md = highlighted(text, [Highlight(0, 20, "1"), Highlight(8, 33, "2"), Highlight(40, 30, "3")])
    assert md.count("green-background") == 1 and "**\\[1, 2\\]**" in md
    assert highlighted(text, []) == text
