"""How an answer was said, from the recogniser's timed words: pace, fillers, pauses and word choice.

Everything here is a pure function of a word list, so it is tested without any model. Which words are
fillers is decided in `practice/scoring/fillers.py`; this module counts them in the report.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from practice.scoring.fillers import SENTENCE_ADVERBS, Filler, find_fillers, hard_filler
from practice.scoring.spoken import SpokenToken, SpokenWord, spoken_tokens, spoken_words
from practice.scoring.text import NEGATORS, STOPWORDS, stem
from practice.scoring.text import words as split_words
from practice.transcript import Word, clock

Band = Literal["slow", "a bit slow", "comfortable", "a bit fast", "fast"]

MIN_WORDS_FOR_PACE = 5  # fewer words than this, or less speech than the next, and a rate means nothing
MIN_SECONDS_FOR_PACE = 3.0
# A pause counts towards pace up to this long: a phrase or sentence break is part of how fast someone talks,
# the rest of a longer silence is thinking time (reported with the pauses, not as a slow pace).
PACE_PAUSE_CAP = 2.0
SLOW_START = 3.0  # thinking time before the first word that is worth mentioning
NOTICEABLE_FILLERS_PER_100 = 2.0  # below this rate fillers go unnoticed in conversation
MIN_FILLERS_TO_MENTION = 2
TOP_WORDS = 8
MIN_TOP_WORD_COUNT = 2  # a word said once is not one the candidate leans on

_NOT_TOP_WORDS = SENTENCE_ADVERBS | {"kinda", "sorta", "y'know"}


@dataclass(frozen=True)
class Pause:
    start: float  # end of the word before
    end: float  # start of the word after
    duration: float

    def to_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "duration": round(self.duration, 3)}


@dataclass(frozen=True)
class PaceWindow:
    """Pace over one stretch of the answer, so a rush at the end shows even when the average is fine."""

    start: float
    end: float
    word_count: int
    wpm: float | None
    band: Band | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "word_count": self.word_count,
            "wpm": _round_or_none(self.wpm, 1),
            "band": self.band,
        }


@dataclass(frozen=True)
class WordCount:
    word: str  # the surface form said most often among those sharing a stem
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.word, "count": self.count}


@dataclass(frozen=True)
class Delivery:
    duration: float  # seconds of recording, at least up to the last word
    word_count: int
    speaking_time: float  # first word to last, each pause counted up to PACE_PAUSE_CAP
    wpm: float | None
    pace: Band | None
    pace_windows: tuple[PaceWindow, ...]
    fillers: tuple[Filler, ...]
    fillers_per_100: float
    long_pauses: tuple[Pause, ...]
    longest_pause: Pause | None  # between any two words, however short
    time_to_first_word: float | None
    top_words: tuple[WordCount, ...]
    domain_terms_used: tuple[str, ...]
    domain_terms_missed: tuple[str, ...]
    long_pause: float  # the threshold the long pauses were picked with

    @property
    def filler_counts(self) -> dict[str, int]:
        """Count per kind, most frequent first (ties in order of first use)."""
        return dict(Counter(f.text for f in self.fillers).most_common())

    def feedback(self) -> list[str]:
        """A few calm, specific sentences; things that went fine get no line, except a comfortable pace."""
        lines: list[str] = []
        if self.wpm is not None and self.pace is not None:
            lines.append(_PACE_LINES[self.pace].format(wpm=round(self.wpm)))
            last = self.pace_windows[-1] if len(self.pace_windows) > 1 else None
            if last is not None and last.band == "fast" and self.pace != "fast" and last.wpm is not None:
                lines.append(
                    f"You sped up towards the end: {round(last.wpm)} words per minute from "
                    f"{clock(last.start)}. Keep the last point as steady as the first."
                )
        n = len(self.fillers)
        if n >= MIN_FILLERS_TO_MENTION and self.fillers_per_100 >= NOTICEABLE_FILLERS_PER_100:
            lines.append(
                f"You used {n} fillers ({self.fillers_per_100:.1f} per 100 words), {self._filler_kinds()}. "
                "A short silent pause works just as well."
            )
        if self.long_pauses and self.longest_pause is not None:
            p = self.longest_pause
            if len(self.long_pauses) == 1:
                lines.append(f"Your longest pause was {p.duration:.1f} s at {clock(p.start)}.")
            else:
                lines.append(
                    f"You paused for more than {self.long_pause:g} s {len(self.long_pauses)} times; "
                    f"the longest was {p.duration:.1f} s at {clock(p.start)}."
                )
        if self.time_to_first_word is not None and self.time_to_first_word > SLOW_START:
            lines.append(
                f"You took {self.time_to_first_word:.1f} s before your first word. "
                'Saying "let me think about that for a moment" fills the silence.'
            )
        return lines

    def _filler_kinds(self) -> str:
        """Which fillers to work on: the one or two that recur, else a few examples."""
        counts = list(self.filler_counts.items())
        (top, n_top), rest = counts[0], counts[1:]
        if not rest:
            return f'all "{top}"'
        if n_top * 2 > len(self.fillers):
            return f'mostly "{top}"'
        if n_top >= 2:
            recurring = [f'"{kind}"' for kind, n in counts[:2] if n >= 2]
            return "most often " + " and ".join(recurring)
        names = [f'"{kind}"' for kind, _ in counts[:3]]
        return "such as " + ", ".join(names[:-1]) + " and " + names[-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration": round(self.duration, 3),
            "word_count": self.word_count,
            "speaking_time": round(self.speaking_time, 3),
            "wpm": _round_or_none(self.wpm, 1),
            "pace": self.pace,
            "pace_windows": [w.to_dict() for w in self.pace_windows],
            "fillers": [f.to_dict() for f in self.fillers],
            "fillers_per_100": round(self.fillers_per_100, 2),
            "filler_counts": self.filler_counts,
            "long_pause": self.long_pause,
            "long_pauses": [p.to_dict() for p in self.long_pauses],
            "longest_pause": self.longest_pause.to_dict() if self.longest_pause else None,
            "time_to_first_word": _round_or_none(self.time_to_first_word, 3),
            "top_words": [w.to_dict() for w in self.top_words],
            "domain_terms_used": list(self.domain_terms_used),
            "domain_terms_missed": list(self.domain_terms_missed),
            "feedback": self.feedback(),
        }


_PACE_LINES: dict[str, str] = {
    "slow": "You spoke at {wpm} words per minute: slow. Joining your phrases up a little will keep the "
    "answer moving.",
    "a bit slow": "You spoke at {wpm} words per minute: a bit slow. A slightly quicker pace will sound more "
    "assured.",
    "comfortable": "You spoke at {wpm} words per minute: a comfortable pace.",
    "a bit fast": "You spoke at {wpm} words per minute: a bit fast. Easing off slightly will help the "
    "interviewer follow.",
    "fast": "You spoke at {wpm} words per minute: fast. Slow down so the interviewer can follow.",
}


def pace_band(wpm: float) -> Band:
    """Bands on the rounded rate, so "160 words per minute" is never called "a bit fast"."""
    r = round(wpm)
    if r < 105:
        return "slow"
    if r < 120:
        return "a bit slow"
    if r <= 160:
        return "comfortable"
    if r <= 170:
        return "a bit fast"
    return "fast"


def words_per_minute(word_count: int, seconds: float) -> float | None:
    if word_count < MIN_WORDS_FOR_PACE or seconds < MIN_SECONDS_FOR_PACE:
        return None
    return word_count * 60.0 / seconds


def measure_delivery(
    words: Sequence[Word],
    duration: float,
    domain_terms: Sequence[str] = (),
    *,
    long_pause: float = 2.0,
    window_seconds: float = 20.0,
) -> Delivery:
    """Pace, fillers, pauses and word choice of one answer, from the recogniser's timed words."""
    if not long_pause > 0 or not window_seconds > 0:
        raise ValueError("long_pause and window_seconds must be positive")
    spoken = spoken_words(words)
    ends = _running_max_ends(spoken)
    last_end = ends[-1] if ends else 0.0
    duration = max(duration if math.isfinite(duration) else 0.0, last_end)

    # gaps[k] is the silence between word k and word k + 1; overlapping words leave an empty one
    gaps = [
        Pause(min(ends[k - 1], spoken[k].start), spoken[k].start, max(0.0, spoken[k].start - ends[k - 1]))
        for k in range(1, len(spoken))
    ]
    long_gaps = tuple(g for g in gaps if g.duration > long_pause)
    first_start = spoken[0].start if spoken else 0.0
    # Pauses count up to a cap, not all-or-nothing past a threshold, so one pause can't flip the pace verdict.
    thinking = _thinking_time(gaps)
    speaking_time = max(0.0, last_end - first_start - sum(b - a for a, b in thinking)) if spoken else 0.0
    wpm = words_per_minute(len(spoken), speaking_time)

    tokens = spoken_tokens(spoken)
    fillers, filler_tokens = find_fillers(spoken, tokens, [g.duration for g in gaps])
    used, missed = _domain_terms(tokens, domain_terms)

    return Delivery(
        duration=duration,
        word_count=len(spoken),
        speaking_time=speaking_time,
        wpm=wpm,
        pace=pace_band(wpm) if wpm is not None else None,
        pace_windows=_pace_windows(spoken, ends, thinking, window_seconds),
        fillers=fillers,
        fillers_per_100=100.0 * len(fillers) / len(spoken) if spoken else 0.0,
        long_pauses=long_gaps,
        longest_pause=max(gaps, key=lambda g: g.duration) if gaps else None,
        time_to_first_word=first_start if spoken else None,
        top_words=_top_words(tokens, filler_tokens),
        domain_terms_used=used,
        domain_terms_missed=missed,
        long_pause=long_pause,
    )


def _running_max_ends(spoken: list[SpokenWord]) -> list[float]:
    """End of speech so far at each word; a word swallowed by an earlier, longer one leaves no gap."""
    ends: list[float] = []
    for s in spoken:
        ends.append(max(s.end, ends[-1]) if ends else s.end)
    return ends


def _thinking_time(gaps: list[Pause]) -> list[tuple[float, float]]:
    """The stretches of silence left out of speaking time: each pause beyond its first PACE_PAUSE_CAP s."""
    return [(g.start + PACE_PAUSE_CAP, g.end) for g in gaps if g.duration > PACE_PAUSE_CAP]


def _pace_windows(
    spoken: list[SpokenWord], ends: list[float], thinking: list[tuple[float, float]], window_seconds: float
) -> tuple[PaceWindow, ...]:
    """Consecutive windows from the first word to the last; a final stub under half a window joins the one
    before, and pauses count as speaking time only up to PACE_PAUSE_CAP, as for the whole answer."""
    if not spoken:
        return ()
    t0, t1 = spoken[0].start, ends[-1]
    span = t1 - t0
    n = max(1, int(span // window_seconds))
    if span - n * window_seconds >= window_seconds / 2:
        n += 1
    bounds = [t0 + i * window_seconds for i in range(n)] + [t1]
    out: list[PaceWindow] = []
    for i in range(n):
        a, b = bounds[i], bounds[i + 1]
        last = i == n - 1
        count = sum(
            1 for s in spoken if a <= (s.start + s.end) / 2 < b or (last and (s.start + s.end) / 2 >= b)
        )
        silent = sum(max(0.0, min(b, end) - max(a, start)) for start, end in thinking)
        wpm = words_per_minute(count, max(0.0, b - a - silent))
        out.append(PaceWindow(a, b, count, wpm, pace_band(wpm) if wpm is not None else None))
    return tuple(out)


def _top_words(tokens: list[SpokenToken], filler_tokens: set[int]) -> tuple[WordCount, ...]:
    """Content words said at least twice, grouped by stem ("model", "models") and shown as said most often."""
    by_stem: dict[str, Counter[str]] = {}
    for t, tok in enumerate(tokens):
        w = tok.text
        if t in filler_tokens or not _is_content(w):
            continue
        by_stem.setdefault(stem(w), Counter())[w] += 1
    ranked = sorted(by_stem.values(), key=lambda c: -sum(c.values()))  # stable: ties keep first-said order
    return tuple(
        WordCount(forms.most_common(1)[0][0], total)
        for forms in ranked[:TOP_WORDS]
        if (total := sum(forms.values())) >= MIN_TOP_WORD_COUNT
    )


def _is_content(w: str) -> bool:
    if w in STOPWORDS or w in NEGATORS or w in _NOT_TOP_WORDS or len(w) < 2 or w.isdigit():
        return False
    if "'" in w:  # contractions of stop words ("it's", "don't") carry no more than the stop word
        return not (w.endswith("n't") or w.split("'")[0] in STOPWORDS)
    return hard_filler((w,)) is None


def _domain_terms(
    tokens: list[SpokenToken], domain_terms: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Terms said whole: all their words, in order and adjacent, ignoring case, punctuation and hesitations.

    A hyphen is a space ("batch-norm" is "batch norm"), a possessive is the word ("ReLU's") and the last
    word may be plural or singular ("learning rates"). No stems and no dropped stop words, so "one-class"
    needs "one class" (not "multi-class" or "one of the classes") and "regularization" is not "regular".
    """
    said = [_bare(tok.text) for tok in tokens if hard_filler((tok.text,)) is None]
    used: list[str] = []
    missed: list[str] = []
    for term in dict.fromkeys(t.strip() for t in domain_terms):
        phrase = [_bare(w) for w in split_words(term)]
        if not phrase:
            continue
        (used if _says(said, phrase) else missed).append(term)
    return tuple(used), tuple(missed)


def _bare(word: str) -> str:
    return word[:-2] if word.endswith("'s") else word


def _says(said: list[str], phrase: list[str]) -> bool:
    *head, last = phrase
    n = len(phrase)
    return any(
        said[i : i + n - 1] == head and _same_noun(said[i + n - 1], last) for i in range(len(said) - n + 1)
    )


def _same_noun(a: str, b: str) -> bool:
    """The same word, or one the plural of the other ("rate" / "rates", "class" / "classes")."""
    return a == b or b in _plurals(a) or a in _plurals(b)


def _plurals(word: str) -> set[str]:
    if len(word) < 3:  # "it" / "its", "i" / "is" are different words
        return set()
    out = {word + "s", word + "es"}
    if word.endswith("y"):
        out.add(word[:-1] + "ies")
    return out - _NOT_PLURALS


_NOT_PLURALS = frozenset({"news"})  # "the good news" does not use the term "new"


def _round_or_none(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)
