"""User text (answers, notes, names) shown literally in Markdown, and transcripts with evidence highlighted.

Streamlit renders Markdown, so anything a user typed or said is escaped before it reaches the page or an
export: no HTML, links, emphasis, headings, lists or math can come from a user.
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
