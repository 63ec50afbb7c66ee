"""One list of hesitation sounds (text.hesitation): what the scorer drops from a window is what the delivery
report counts as a hesitation filler.

bench/speech.py counts the fillers whose kind is in HESITATIONS as the hesitations a recogniser kept; that
is every hesitation sound the delivery report counts and none of its soft fillers ("you know").
"""

from __future__ import annotations

from practice.scoring.delivery import measure_delivery
from practice.scoring.text import HESITATIONS, hesitation, tokenize
from practice.transcript import Word

# Every spelling of a hesitation the delivery report folds, stretched or not.
SOUNDS = "um ummm uh uhh uhm uhmm er errr erm hmm hmmm mm mmm ah ahh eh ehh mhm"
# Soft fillers the delivery report counts where they do no work in the sentence.
SOFT = "it was, like, slow and I mean, basically, the loss, you know, explodes, it's kind of bad, right?"


def kinds(text: str) -> list[str]:
    words = [Word(w, 0.4 * i, 0.4 * i + 0.3) for i, w in enumerate(text.split())]
    return [f.text for f in measure_delivery(words, 0.0).fillers]


def test_every_hesitation_the_delivery_report_counts_is_one_of_the_scorers():
    found = kinds(SOUNDS)
    assert len(found) == len(SOUNDS.split())
    assert set(found) == HESITATIONS


def test_no_soft_filler_is_a_hesitation():
    found = kinds(SOFT)
    assert {"like", "i mean", "basically", "you know", "kind of", "right"} <= set(found)
    assert not set(found) & HESITATIONS


def test_the_scorer_drops_every_spelling_the_delivery_report_counts():
    answer = SOUNDS + " overfitting"
    assert [t.text for t in tokenize(answer) if hesitation(t.text) is None] == ["overfitting"]
    assert hesitation("ummm") == "um" and hesitation("mhm") == "mhm"
    assert hesitation("umbrella") is None and hesitation("her") is None and hesitation("m") is None
