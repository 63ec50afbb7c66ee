"""Filler words and phrases in an answer, from the recogniser's timed words.

Fillers are counted on whole, normalised words and phrases, so "also" is never "so" and "likely" never
"like". Hesitation sounds (um, uh, er, hmm, ...) always count. The ambiguous ones ("like", "you know",
"I mean", "kind of", "basically", "right?") count only where they cannot be doing real work in the
sentence, judged from the words around them and from the commas and short pauses that set them off:
a candidate forgives a coach that misses a filler far more readily than one that flags "models like BERT".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from practice.scoring.spoken import SpokenToken, SpokenWord
from practice.scoring.text import hesitation

BRIEF_PAUSE = 0.4  # a gap between words at least this long separates phrases the way a comma does

# Words after which "kind of" / "sort of" names a type ("which kind of model", "this sort of data").
_DETERMINERS = frozenset(
    "a an the this that these those what which whatever whichever any some every each no one another other "
    "same different my your our their its his her certain particular specific right wrong new main special "
    "first second last only all many several similar better best".split()
)
# Words after which "kind of" / "sort of" hedges what follows ("it's kind of slow", "it sort of works").
_HEDGE_LEAD = frozenset(
    "i we you they it he she it's that's there's i'm we're you're they're he's she's is was are were be been "
    "am just also still really and but so or because then would will can could should might may do does "
    "did i'd we'd you'd it'd i've we've i'll we'll it'll get gets got feel feels felt seem seems looks "
    "look".split()
)
# Words after which a "like" with a break after it is a filler ("it's like, ...", "and like, ..."); after
# anything else ("things like, um, BERT", "I'd like, well") it needs a break before it too.
_LIKE_LEAD = frozenset(
    "it's that's there's is was are were i'm we're you're they're he's she's and but so or because then yeah "
    "well".split()
)
# Words before "you know" that make it a real question or clause ("do you know", "as you know").
_YOU_KNOW_BLOCK = frozenset(
    "do did don't didn't if as what whether would will should could might may can let when unless".split()
)
_YOU_KNOW_NEXT = frozenset("so and but like".split())  # "you know so ..." - clearly not "you know X"
# Words after "I mean" that make "mean" a real verb ("I mean that ...", "I mean it", "I mean the ...").
_MEAN_BLOCK = frozenset(
    "that it this is was by to the a an what when something anything exactly you in as of".split()
)
# A clause starts after these as much as after a comma ("and I mean", "so basically").
_CLAUSE_JOINERS = frozenset("and but so or because well yeah then".split())
# Words before "right?" that make it a real question ("is that right?", "that's right?").
_RIGHT_BLOCK = frozenset("is that that's it it's am i'm was are you're we're the all not".split())
SENTENCE_ADVERBS = frozenset({"basically", "actually", "literally"})


@dataclass(frozen=True)
class Filler:
    """One filler, located so the UI can highlight it and play it back."""

    text: str  # normalised kind: "um", "you know", "kind of"
    index: int  # position of its (first) word in the word list as passed in
    start: float
    end: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "index": self.index,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
        }


def hard_filler(tokens: Sequence[str]) -> str | None:
    """The hesitation a whole word is ("Um," "uhh" "um-um"), or None if any part of it is a real word."""
    kinds = []
    for t in tokens:
        kind = hesitation(t)
        if kind is None:
            return None
        kinds.append(kind)
    return kinds[0] if kinds else None


def find_fillers(
    spoken: list[SpokenWord], tokens: list[SpokenToken], silences: Sequence[float]
) -> tuple[tuple[Filler, ...], set[int]]:
    """Fillers in order of speech, and the positions of the tokens they are made of; silences[k] is the
    silence in seconds between spoken[k] and spoken[k + 1].

    Soft fillers are judged on their neighbours with hesitations skipped ("which, um, kind of model" is
    still "which kind of"), and on breaks: a comma or full stop the recogniser wrote, a silent gap of
    BRIEF_PAUSE or more, or the start or end of the answer.
    """
    found: list[Filler] = []
    filler_tokens: set[int] = set()
    hard_words: set[int] = set()
    for k, s in enumerate(spoken):
        if (kind := hard_filler(s.tokens)) is not None:
            found.append(Filler(kind, s.index, s.start, s.end))
            hard_words.add(k)
    filler_tokens.update(t for t, tok in enumerate(tokens) if tok.word in hard_words)
    seq = [t for t, tok in enumerate(tokens) if tok.word not in hard_words]

    def text(i: int) -> str | None:
        return tokens[seq[i]].text if 0 <= i < len(seq) else None

    def brk(i: int) -> bool:
        """Whether a break comes just before seq[i] (hesitations in between do not count as one)."""
        if i <= 0 or i >= len(seq):
            return True
        return any(
            tokens[r].last_in_word
            and (spoken[tokens[r].word].punct_after or silences[tokens[r].word] >= BRIEF_PAUSE)
            for r in range(seq[i - 1], seq[i])
        )

    def adjacent(i: int) -> bool:
        return i + 1 < len(seq) and seq[i + 1] == seq[i] + 1

    def clause_start(i: int) -> bool:
        return brk(i) or text(i - 1) in _CLAUSE_JOINERS

    def soft(i: int) -> tuple[str, int] | None:
        """(kind, tokens spanned) when a soft filler starts at seq[i] and is used as one here."""
        w, prev, nxt = text(i), text(i - 1), text(i + 1)
        if w in ("kind", "sort") and nxt == "of" and adjacent(i):
            # a type after a determiner ("which kind of model"); a hedge after a pronoun, verb or conjunction
            if prev in _DETERMINERS:
                return None
            if prev in _HEDGE_LEAD or brk(i + 2) or text(i + 2) == "like":
                return f"{w} of", 2
            return None
        if w in ("kinda", "sorta"):
            return None if prev in _DETERMINERS else ("kind of" if w == "kinda" else "sort of", 1)
        if (w == "you" and nxt == "know" and adjacent(i)) or w == "y'know":
            # "do you know", "as you know", "you know the answer" are not fillers
            n = 1 if w == "y'know" else 2
            if prev in _YOU_KNOW_BLOCK and not brk(i):
                return None
            return ("you know", n) if brk(i + n) or text(i + n) in _YOU_KNOW_NEXT else None
        if w == "i" and nxt == "mean" and adjacent(i):
            # opening a clause ("..., I mean, ..."); "what I mean is", "I mean that" are not fillers
            if clause_start(i) and (brk(i + 2) or text(i + 2) not in _MEAN_BLOCK):
                return "i mean", 2
            return None
        if w == "like":
            # set off by a break after it, and by one before it or a lead-in such as "it's", "was", "and":
            # "it was like, slow" counts; "models like BERT", "I like", "things like, um, X" do not
            if i + 1 >= len(seq) or not brk(i + 1):
                return None
            if not (brk(i) or prev in _LIKE_LEAD):
                return None
            if "what" in (text(i - 1), text(i - 2), text(i - 3)):  # "I know what it's like."
                return None
            return "like", 1
        if w in SENTENCE_ADVERBS:
            # opening a clause ("Basically, ...", "so actually ..."); elsewhere they may mean something
            # ("what the model actually learns", "I mean that literally.")
            return (w, 1) if clause_start(i) else None
        if w == "right" and tokens[seq[i]].last_in_word and spoken[tokens[seq[i]].word].question:
            # a tag question ("..., right?"), not "is that right?"
            return ("right", 1) if brk(i) or prev not in _RIGHT_BLOCK else None
        return None

    i = 0
    while i < len(seq):
        hit = soft(i)
        if hit is None:
            i += 1
            continue
        kind, n = hit
        first, last = spoken[tokens[seq[i]].word], spoken[tokens[seq[i + n - 1]].word]
        found.append(Filler(kind, first.index, first.start, last.end))
        filler_tokens.update(seq[i : i + n])
        i += n
    found.sort(key=lambda f: (f.start, f.index))
    return tuple(found), filler_tokens
