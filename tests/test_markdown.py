from __future__ import annotations

import pytest

from practice.markdown import Highlight, escape_markdown, highlighted, literal_inline, literal_lines


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It's 5:30 & costs $5 - a > b, snake_case, C#", "It's 5:30 & costs $5 - a > b, snake_case, C#"),
        ("  two\nlines  ", "two lines"),
        ("*em* _em_ `code` ~~del~~", "\\*em\\* \\_em\\_ \\`code\\` \\~\\~del\\~\\~"),
        ("![p](http://x/p.png)", "!\\[p\\](http://x/p.png)"),
        ("<script>x</script> <http://x> a < b", "\\<script>x\\</script> \\<http://x> a < b"),
        ("&amp; &#60; fish & chips", "\\&amp; \\&#60; fish & chips"),
        ("a \\ b \\* c\\", "a \\ b \\\\\\* c\\\\"),
        ("Ana #", "Ana \\#"),
    ],
)
def test_literal_inline_escapes_only_markup(text, expected):
    assert literal_inline(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. one\n12) two\n- three\n+ four", ["1\\. one", "12\\) two", "\\- three", "\\+ four"]),
        ("# h\n> q\n    code\n===\n---", ["\\# h", "\\> q", "code", "\\===", "\\---"]),
        ("| a | b |\n|---|---|", ["\\| a \\| b \\|", "\\|---\\|---\\|"]),
        ("-5 degrees\n#hashtag\n=HYPERLINK(1)\n1.5 s", ["-5 degrees", "#hashtag", "=HYPERLINK(1)", "1.5 s"]),
        ("a\r\n\r\nb", ["a", "", "b"]),
    ],
)
def test_literal_lines_escape_what_would_start_a_block(text, expected):
    assert literal_lines(text) == expected
