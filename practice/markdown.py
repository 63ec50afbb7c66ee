"""User text (answers, notes, names) shown literally in Markdown, and transcripts with evidence highlighted.

Streamlit renders Markdown, so anything a user typed or said is escaped before it reaches the page
(`escape_markdown`): no HTML, links, emphasis, headings, lists, math or coloured text can come from a user.
An export is a Markdown file read in other renderers (CommonMark, GitHub) or as plain text, so there
`literal_inline` and `literal_lines` escape only what those renderers would read as markup, and a coach
reading the file as text sees few backslashes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$&:])")  # markup, HTML, math, emoji
_MD_BLOCK_START = re.compile(r"^([-+=]|\d+(?=[.)]))")  # a list item, setext underline or numbered item


def escape_markdown(text: str) -> str:
    """User text shown literally in Markdown: no emphasis, links, headings, lists, math or HTML."""
    lines = []
    for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _MD_SPECIAL.sub(r"\\\1", line.strip())  # leading spaces would make a code block
        match = _MD_BLOCK_START.match(line)
        if match:
            line = f"\\{line}" if not match.group(0).isdigit() else f"{match.group(0)}\\{line[match.end() :]}"
        lines.append(line)
    return "\n".join(lines)


# What a CommonMark or GitHub renderer reads as markup anywhere in a line.
_FILE_SPECIAL = re.compile(
    r"\\(?=[!-/:-@\[-`{-~]|$)"  # a backslash that would escape the next character, or end the text
    r"|[`*\[\]~]"  # code, emphasis, links and images, strikethrough
    r"|(?<![^\W_])_|_(?![^\W_])"  # an underscore that is not inside a word (emphasis)
    r"|<(?=[A-Za-z/!?])"  # HTML, comments and <autolinks>
    r"|&(?=#?[0-9A-Za-z]+;)"  # an entity such as &amp; or &#60;
    r"|(?<!\S)#(?=#*$)"  # what would close a heading: " #" at the end
)
# What it reads as markup at the start of a line: headings, quotes, list items, setext underlines.
_FILE_LINE_START = re.compile(r"(#{1,6}|[+-])(?=[ \t]|$)|>|(=+|-+)$")
_FILE_NUMBERED = re.compile(r"\d{1,9}(?=[.)]([ \t]|$))")


def literal_inline(text: str) -> str:
    """User text on one line of a Markdown file (in a heading, a list item, after a label), shown as typed.

    Line breaks and runs of spaces become one space; only what would be read as markup is escaped.
    """
    return _FILE_SPECIAL.sub(r"\\\g<0>", " ".join(str(text).split()))


def literal_lines(text: str) -> list[str]:
    """User text as lines of a Markdown file (e.g. each after "> "), shown as typed, line breaks kept.

    Leading spaces (a code block) are dropped; a line that would start a heading, quote, list or table,
    or underline the line before it, is escaped as well.
    """
    lines = []
    for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _FILE_SPECIAL.sub(r"\\\g<0>", line.strip()).replace("|", "\\|")
        if _FILE_LINE_START.match(line):
            line = "\\" + line
        elif numbered := _FILE_NUMBERED.match(line):
            line = f"{numbered.group()}\\{line[numbered.end() :]}"
        lines.append(line)
    return lines


@dataclass(frozen=True)
class Highlight:
    start: int  # character offsets into the text
    end: int
    label: str  # e.g. "1 · 0:31": which key point, and when it was said


def highlighted(text: str, highlights: Sequence[Highlight], colour: str = "green") -> str:
    """Markdown of `text` with each highlight as a coloured background followed by its label.

    Overlapping highlights merge into one span carrying both labels.
    """
    spans: list[list] = []
    for h in sorted(highlights, key=lambda h: (h.start, h.end)):
        start, end = max(0, h.start), min(len(text), h.end)
        if end <= start:
            continue
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
            spans[-1][2].append(h.label)
        else:
            spans.append([start, end, [h.label]])
    out, position = [], 0
    for start, end, labels in spans:
        out.append(escape_markdown(" ".join(text[position:start].split())))
        marked = escape_markdown(" ".join(text[start:end].split()))
        out.append(f":{colour}-background[{marked}] **\\[{escape_markdown(', '.join(labels))}\\]**")
        position = end
    out.append(escape_markdown(" ".join(text[position:].split())))
    return " ".join(part for part in out if part)
