"""The recogniser's timed words as the delivery report reads them: the words with usable times, in time
order, each split into normalised tokens and marked with the punctuation written after it."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from practice.scoring.text import words as split_words
from practice.transcript import Word

_PUNCT_END = re.compile(r"[,.;:!?…\-–—]['\"”’)]*$")


@dataclass(frozen=True)
class SpokenWord:
    """A recognised word with usable times and its normalised tokens ("Um-um," -> ["um", "um"])."""

    index: int  # in the list as passed in
    start: float
    end: float
    tokens: tuple[str, ...]
    punct_after: bool  # written with a comma, full stop, ... after it
    question: bool  # written with a question mark after it


@dataclass(frozen=True)
class SpokenToken:
    text: str
    word: int  # position in the sorted word list
    last_in_word: bool


def spoken_words(words: Sequence[Word]) -> list[SpokenWord]:
    """Words with text, in time order, with times clamped: recognisers emit overlaps and end < start."""
    out: list[SpokenWord] = []
    for i, w in enumerate(words):
        tokens = tuple(split_words(w.text))
        if not tokens or not (math.isfinite(w.start) and math.isfinite(w.end)):
            continue
        start = max(0.0, w.start)
        written = w.text.strip()
        out.append(
            SpokenWord(
                i,
                start,
                max(start, w.end),
                tokens,
                punct_after=bool(_PUNCT_END.search(written)),
                question=bool(re.search(r"\?['\"”’)]*$", written)),
            )
        )
    out.sort(key=lambda s: (s.start, s.end, s.index))
    return out


def spoken_tokens(spoken: list[SpokenWord]) -> list[SpokenToken]:
    return [
        SpokenToken(text, k, j == len(s.tokens) - 1)
        for k, s in enumerate(spoken)
        for j, text in enumerate(s.tokens)
    ]
