"""Which parts of the STAR structure a behavioural answer has: Situation, Task, Action, Result.

Interviewers listen for a story in four parts. Each part has a short statement describing it ("I was
working at a company on a project with a team"); the key-point judge (`practice/scoring/judge.py`) reads
it against every window of the answer, as it reads a key point. The judge tells a story from talk about a
topic, but not well which part of the story a window is: alone, the window it picks for Action is more
often the result, and Situation and Task swap (bench/README.md). So a part is present when a window has
the words interviewers hear it in ("my job was", "I was asked to", "I built", "in the end", "went from"),
or when the judge reads the part's statement in a window with P(states) at least the part's threshold.
The evidence shown is the window with the most of those words (the judge breaks ties), else the judge's
best window.
The thresholds were chosen on eval/structure/ (bench/structure.py reports them cross-validated by
question); the judge never saw it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from practice.scoring.judge import STATES, Judge
from practice.scoring.text import hesitation, tokenize
from practice.scoring.text import windows as word_windows

Component = Literal["situation", "task", "action", "result"]
COMPONENTS: tuple[Component, ...] = ("situation", "task", "action", "result")
TITLES: dict[Component, str] = {c: c.capitalize() for c in COMPONENTS}

# What each part says, as statements the judge can find stated in a window of the answer. Each one is a
# judge pass per window; on eval/structure/ a second statement per part did not help (bench/README.md).
DESCRIPTIONS: dict[Component, tuple[str, ...]] = {
    "situation": ("I was working at a company on a project with a team",),
    "task": ("It was my job to solve the problem",),
    "action": ("I did the work myself to fix it",),
    "result": ("In the end the project succeeded",),
}

# The words each part is usually said in (lowercase, whole words).
CUES: dict[Component, re.Pattern[str]] = {
    "situation": re.compile(
        r"\b(?:at|in|on|for) (?:my|a|an|our|the|one) (?:[\w'-]+ ){0,3}?(?:company|startup|firm|bank|agency|"
        r"hospital|insurer|retailer|council|team|project|job|role|internship|client|lab|studio|operator|"
        r"group|chain|shop|school|university)\b|\b(?:last|this|that) (?:year|month|quarter|spring|summer|"
        r"autumn|fall|winter)\b|\b(?:years?|months?) ago\b|\bwhen i (?:joined|was|worked|started)\b"
    ),
    "task": re.compile(
        r"\bmy (?:job|task|role|goal|aim|part|responsibility|mandate)\b|\bi was (?:asked|responsible|tasked|"
        r"supposed|expected|given|in charge|leading|hired)\b|\bi (?:had|needed) to\b|\b(?:the|our) (?:goal|"
        r"aim|task|brief|target) was\b|\bi owned\b|\b(?:fell|was) (?:to|on) me\b"
    ),
    "action": re.compile(  # "I" and a verb in the past tense
        r"\bi (?:\w+ed|built|wrote|made|set|ran|took|drew|sat|led|found|chose|did|put|spent|got|rebuilt|"
        r"rewrote|began|brought|dug|broke|cut|kept|split|sent|told|met|held|gave|went)\b"
    ),
    "result": re.compile(
        r"\b(?:as a result|in the end|the result|resulted|ended up|turned out|went from|went live|since then|"
        r"after that)\b|\b(?:dropped|fell|rose|improved|increased|reduced|decreased|halved|doubled|saved|"
        r"launched|shipped|approved|adopted|renewed)\b"
    ),
}

# One sentence of advice per missing part, shown after a behavioural answer.
ADVICE: dict[Component, str] = {
    "situation": "Start by setting the scene: where you were, the team or project, and what was going on.",
    "task": "Say what you were responsible for or had to achieve, in a sentence of its own.",
    "action": "Walk through what you did yourself, step by step, saying “I”, not only “we”.",
    "result": "End with the result: what changed because of what you did, with a number if you have one.",
}


@dataclass(frozen=True)
class StructureConfig:
    """Windows read, the cues' weight and the threshold per part (chosen on eval/structure/, see
    bench/structure.py)."""

    window_sizes: tuple[int, ...] = (16,)
    # A window's score is P(states) + cue_weight per match of the part's cue words. At 1.0 (and thresholds
    # up to 1) the words alone make the part present; weighted 0.5, the thresholds eval/structure/ chose
    # turned on judge probabilities near zero, and a clear story lost its situation (bench/README.md).
    cue_weight: float = 1.0
    # The judge's P(states) that makes a part present without its cue words; Action's is so high because
    # the judge reads an action into most stories and explanations.
    situation: float = 0.74
    task: float = 0.48
    action: float = 0.95
    result: float = 0.64

    def threshold(self, component: Component) -> float:
        return float(getattr(self, component))


@dataclass(frozen=True)
class Span:
    """Words of the answer, by character offsets into it."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Part:
    """One STAR part of an answer: whether it is there, how sure the judge is, and the words that carry it."""

    component: Component
    present: bool
    probability: float  # on the best window: the judge's mean P(states) over the part's statements
    cue: bool = False  # the best window has words the part is usually said in
    evidence: Span | None = None  # the best window, when the part is present

    @property
    def title(self) -> str:
        return TITLES[self.component]


@dataclass(frozen=True)
class StructureReport:
    parts: tuple[Part, ...]  # one per part, in COMPONENTS order

    def __post_init__(self) -> None:
        if tuple(p.component for p in self.parts) != COMPONENTS:
            raise ValueError(f"A structure report has one part each of {', '.join(COMPONENTS)}, in order.")

    def part(self, component: Component) -> Part:
        return next(p for p in self.parts if p.component == component)

    @property
    def missing(self) -> list[Component]:
        return [p.component for p in self.parts if not p.present]

    def line(self) -> str:
        """'Situation ✓ Task ✓ Action ✓ Result ✗'."""
        return " ".join(f"{p.title} {'✓' if p.present else '✗'}" for p in self.parts)

    def advice(self) -> str | None:
        """One sentence for the first part missing, None when the answer has all four."""
        missing = self.missing
        return ADVICE[missing[0]] if missing else None


@dataclass(frozen=True)
class Window:
    text: str  # the window's words without hesitations, as the judge reads them
    span: Span  # where it stands in the answer


def answer_windows(answer: str, sizes: Sequence[int]) -> list[Window]:
    """The answer's overlapping word windows (stride half a window), hesitations left out."""
    tokens = [t for t in tokenize(answer) if hesitation(t.text) is None]
    out = []
    for a, b in word_windows(len(tokens), tuple(sizes)):
        start, end = tokens[a].start, tokens[b - 1].end
        text = " ".join(t.text for t in tokens[a:b])
        out.append(Window(text, Span(answer[start:end], start, end)))
    return out


@dataclass
class StructureReader:
    """Reads the STAR parts of answers with a judge; thread-safe if the judge is (it keeps no state)."""

    judge: Judge
    config: StructureConfig = field(default_factory=StructureConfig)
    descriptions: dict[Component, tuple[str, ...]] = field(default_factory=lambda: dict(DESCRIPTIONS))

    def probabilities(self, answer: str) -> tuple[list[Window], np.ndarray, np.ndarray]:
        """The windows and, per part and window, the mean P(states) over the part's statements and how many
        times the part's cue words stand in the window."""
        windows = answer_windows(answer, self.config.window_sizes)
        cues = np.array([[len(CUES[c].findall(w.text)) for w in windows] for c in COMPONENTS])
        if not windows:
            return windows, np.zeros((len(COMPONENTS), 0), dtype=np.float32), cues.reshape(len(COMPONENTS), 0)
        statements = [(c, s) for c in COMPONENTS for s in self.descriptions[c]]
        states = self.judge.judge([(s, w.text) for _, s in statements for w in windows])[:, STATES]
        states = states.reshape(len(statements), len(windows))
        owner = np.array([COMPONENTS.index(c) for c, _ in statements])
        return windows, np.stack([states[owner == k].mean(axis=0) for k in range(len(COMPONENTS))]), cues

    def read(self, answer: str) -> StructureReport:
        windows, probabilities, cues = self.probabilities(answer)
        parts = []
        for k, component in enumerate(COMPONENTS):
            if not windows:
                parts.append(Part(component, False, 0.0))
                continue
            evidence = probabilities[k] + self.config.cue_weight * cues[k]
            best = int(np.argmax(evidence))
            present = bool(evidence[best] >= self.config.threshold(component))
            parts.append(
                Part(
                    component,
                    present,
                    round(float(probabilities[k, best]), 4),
                    bool(cues[k, best] > 0),
                    windows[best].span if present else None,
                )
            )
        return StructureReport(tuple(parts))


def most_missing(reports: Iterable[StructureReport]) -> tuple[Component, int, int] | None:
    """The part missing from the most answers: (part, answers missing it, answers read); None when no
    answer was read or none misses a part. Ties go to the earlier part, as a story is told."""
    reports = list(reports)
    counts = Counter(c for r in reports for c in r.missing)
    if not counts:
        return None
    component = max(COMPONENTS, key=lambda c: (counts[c], -COMPONENTS.index(c)))
    return component, counts[component], len(reports)
