"""Word-level text handling that works the same on typed answers and on Whisper transcripts.

Nothing here relies on punctuation or case: a transcript is often one lowercase run-on sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)*", re.IGNORECASE)

# scikit-learn's ENGLISH_STOP_WORDS (the Glasgow IR group's list, BSD-3-Clause), word for word: importing
# it from scikit-learn loads scipy and pandas too, about a second before the app's first page could show.
# tests/test_imports.py checks the copy against scikit-learn's.
ENGLISH_STOP_WORDS = frozenset(
    """
    a about above across after afterwards again against all almost alone along already also although
    always am among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere
    are around as at back be became because become becomes becoming been before beforehand behind being
    below beside besides between beyond bill both bottom but by call can cannot cant co con could
    couldnt cry de describe detail do done down due during each eg eight either eleven else elsewhere
    empty enough etc even ever every everyone everything everywhere except few fifteen fifty fill find
    fire first five for former formerly forty found four from front full further get give go had has
    hasnt have he hence her here hereafter hereby herein hereupon hers herself him himself his how
    however hundred i ie if in inc indeed interest into is it its itself keep last latter latterly least
    less ltd made many may me meanwhile might mill mine more moreover most mostly move much must my
    myself name namely neither never nevertheless next nine no nobody none noone nor not nothing now
    nowhere of off often on once one only onto or other others otherwise our ours ourselves out over own
    part per perhaps please put rather re same see seem seemed seeming seems serious several she should
    show side since sincere six sixty so some somehow someone something sometime sometimes somewhere
    still such system take ten than that the their them themselves then thence there thereafter thereby
    therefore therein thereupon these they thick thin third this those though three through throughout
    thru thus to together too top toward towards twelve twenty two un under until up upon us very via
    was we well were what whatever when whence whenever where whereafter whereas whereby wherein
    whereupon wherever whether which while whither who whoever whole whom whose why will with within
    without would yet you your yours yourself yourselves
    """.split()
)

# Sounds that carry no content, by base form and the spellings that fold into it ("ummm", "uhh"): dropped
# before embedding so "um" does not dilute a span, and counted as fillers by the delivery report.
_HESITATION_FORMS = (
    ("uhm", r"u+h+m+"),
    ("um", r"u+m+"),
    ("uh", r"u+h+"),
    ("erm", r"e+r+m+"),
    ("er", r"e+r+"),
    ("eh", r"e+h+"),
    ("mhm", r"m+h+m+"),
    ("hmm", r"h+m+"),
    ("mm", r"m{2,}"),
    ("ah", r"a+h+"),
)
HESITATIONS = frozenset(base for base, _ in _HESITATION_FORMS)
_HESITATION = re.compile("|".join(f"(?P<{base}>{form})" for base, form in _HESITATION_FORMS))


def hesitation(token: str) -> str | None:
    """The base form of the hesitation sound a lowercase word is ("ummm" -> "um"), or None."""
    m = _HESITATION.fullmatch(token)
    return m.lastgroup if m else None


NEGATORS = frozenset(
    {"not", "no", "never", "none", "neither", "nor", "cannot", "without", "nothing", "nobody"}
)
STOPWORDS = frozenset(ENGLISH_STOP_WORDS - NEGATORS) | HESITATIONS | {"yeah", "okay", "ok", "like", "really"}

# Opposites that turn a statement into its contradiction ("increases variance" / "reduces variance"):
# general English and the vocabulary of ML answers, never words picked from a benchmark's answers.
_ANTONYM_PAIRS = [
    ("increase", "decrease"),
    ("increase", "reduce"),
    ("increase", "lower"),
    ("more", "less"),
    ("more", "fewer"),
    ("higher", "lower"),
    ("high", "low"),
    ("larger", "smaller"),
    ("large", "small"),
    ("bigger", "smaller"),
    ("faster", "slower"),
    ("better", "worse"),
    ("improve", "worsen"),
    ("improve", "hurt"),
    ("overfit", "underfit"),
    ("overfitting", "underfitting"),
    ("add", "remove"),
    ("before", "after"),
    ("always", "never"),
    ("supervised", "unsupervised"),
    ("labeled", "unlabeled"),
    ("labelled", "unlabelled"),
    ("easier", "harder"),
    ("simpler", "complex"),
    ("true", "false"),
    ("positive", "negative"),
    ("maximize", "minimize"),
    ("maximise", "minimise"),
    ("correct", "incorrect"),
    ("same", "different"),
    ("dependent", "independent"),
    ("linear", "nonlinear"),
    ("stable", "unstable"),
    ("biased", "unbiased"),
    ("sparse", "dense"),
    ("shallow", "deep"),
    ("accurate", "inaccurate"),
    ("valid", "invalid"),
    ("balanced", "imbalanced"),
    ("balanced", "unbalanced"),
    ("include", "exclude"),
    ("allow", "prevent"),
]

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word.lower().replace("’", "'")))


def _antonym_table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for a, b in _ANTONYM_PAIRS:
        table.setdefault(stem(a), set()).add(stem(b))
        table.setdefault(stem(b), set()).add(stem(a))
    return {k: frozenset(v) for k, v in table.items()}


ANTONYMS = _antonym_table()


@dataclass(frozen=True)
class Token:
    """A word of the answer: its normalised form and where it stands in the original text."""

    text: str
    start: int
    end: int

    @property
    def stem(self) -> str:
        return stem(self.text)


def tokenize(text: str) -> list[Token]:
    return [Token(m.group().lower().replace("’", "'"), m.start(), m.end()) for m in _WORD.finditer(text)]


def words(text: str) -> list[str]:
    return [t.text for t in tokenize(text)]


def is_negated(tokens: list[str]) -> bool:
    """Whether a run of words carries a negation ("not", "never", "doesn't", ...)."""
    return any(w in NEGATORS or w.endswith("n't") for w in tokens)


def negation_scope(tokens: list[str], targets: set[str], reach: int = 4) -> bool:
    """Whether a negator stands up to `reach` words before one of the target stems ("no gap", "not
    really connected"): a "not" elsewhere in the window says nothing about these words."""
    for i, w in enumerate(tokens):
        if w in NEGATORS or w.endswith("n't"):
            if any(stem(t) in targets for t in tokens[i + 1 : i + 1 + reach]):
                return True
    return False


def comparison(tokens: list[str]) -> tuple[frozenset[str], str, frozenset[str]] | None:
    """The two sides of an "A is <comparative> than B" statement as content stems, and the comparative.

    "a forest is slower than a tree" -> ({forest}, "slower", {tree}); None without "than".
    Only the few words next to "than" are taken: the subject within 5 words before it, the object within
    3 words after.
    """
    if "than" not in tokens:
        return None
    i = tokens.index("than")
    if i < 2:
        return None
    comparative = tokens[i - 1]
    if comparative in STOPWORDS - {"more", "less", "fewer"}:
        return None
    before = {stem(w) for w in tokens[max(0, i - 6) : i - 1] if w not in STOPWORDS and w not in NEGATORS}
    after = {stem(w) for w in tokens[i + 1 : i + 4] if w not in STOPWORDS and w not in NEGATORS}
    if not before or not after:
        return None
    return frozenset(before), stem(comparative), frozenset(after)


def swapped_comparison(point: list[str], window: list[str]) -> bool | None:
    """Whether the window compares the point's two sides the other way round ("a tree is slower than a
    forest" for "a forest is slower than a tree"); an opposite comparative on swapped sides says
    the same thing again ("a tree is faster than a forest"). None when either has no comparison."""
    p, w = comparison(point), comparison(window)
    if p is None or w is None:
        return None
    (p_before, p_cmp, p_after), (w_before, w_cmp, w_after) = p, w
    straight = bool(p_before & w_before) and bool(p_after & w_after)
    crossed = bool(p_before & w_after) and bool(p_after & w_before)
    if straight == crossed:  # neither, or an overlap too vague to say
        return None
    opposite = w_cmp in ANTONYMS.get(p_cmp, frozenset())
    same = w_cmp == p_cmp
    if not (same or opposite):
        return None
    return crossed != opposite


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning, in order, without repeats."""
    return list(dict.fromkeys(stem(w) for w in words(text) if w not in STOPWORDS and not w.endswith("n't")))


def phrase_stems(phrase: str) -> tuple[str, ...]:
    """A term's stems, stop words dropped ("the learning rate" -> ("learn", "rate"))."""
    stems = tuple(stem(w) for w in words(phrase) if w not in STOPWORDS)
    return stems or tuple(stem(w) for w in words(phrase))


def contains_phrase(haystack: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether the stems of a phrase occur in order and adjacent in a list of stems."""
    n = len(phrase)
    if n == 0:
        return False
    if n == 1:
        return phrase[0] in haystack
    return any(tuple(haystack[i : i + n]) == phrase for i in range(len(haystack) - n + 1))


def windows(n: int, sizes: tuple[int, ...], min_size: int = 4) -> list[tuple[int, int]]:
    """Overlapping [start, end) word windows of each size (stride half a window) covering n words."""
    if n == 0:
        return []
    spans: set[tuple[int, int]] = set()
    for size in sizes:
        if n <= size:
            spans.add((0, n))
            continue
        stride = max(1, size // 2)
        for start in range(0, n - size + 1, stride):
            spans.add((start, start + size))
        spans.add((n - size, n))
    if n < min_size:
        spans.add((0, n))
    return sorted(spans)


def repeated_runs(tokens: list[str], run: int = 8) -> set[int]:
    """Indices of words that repeat, verbatim, a run of `run` words said earlier in the same answer."""
    first_seen: dict[tuple[str, ...], int] = {}
    repeats: set[int] = set()
    for i in range(len(tokens) - run + 1):
        gram = tuple(tokens[i : i + run])
        if gram in first_seen and first_seen[gram] + run <= i:
            repeats.update(range(i, i + run))
        else:
            first_seen.setdefault(gram, i)
    return repeats
