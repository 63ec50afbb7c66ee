from __future__ import annotations

import itertools
import json
import math

import pytest

from practice.scoring.delivery import PACE_PAUSE_CAP, Delivery, measure_delivery, pace_band
from practice.transcript import Word

SENTENCE = (
    "dropout randomly zeroes activations during training so the network cannot rely on single units".split()
)


def spoken(
    text: str, wpm: float = 140.0, start: float = 0.5, pause_after: dict[int, float] | None = None
) -> list[Word]:
    """Words as Whisper gives them, one every 60/wpm seconds, each filling its slot: no gap unless asked."""
    slot = 60.0 / wpm
    pauses = pause_after or {}
    out: list[Word] = []
    t = start
    for i, w in enumerate(text.split()):
        out.append(Word(w, t, t + slot))
        t += slot + pauses.get(i, 0.0)
    return out


def plain(n: int) -> str:
    """n words of an answer without fillers."""
    return " ".join(itertools.islice(itertools.cycle(SENTENCE), n))


def fillers(text: str, **kwargs: float) -> list[tuple[str, int]]:
    d = measure_delivery(spoken(text, **kwargs), 0.0)
    return [(f.text, f.index) for f in d.fillers]


def end_of(words: list[Word]) -> float:
    return max(w.end for w in words)


# --- pace ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "band"),
    [(90, "slow"), (112, "a bit slow"), (140, "comfortable"), (165, "a bit fast"), (190, "fast")],
)
def test_words_per_minute_and_band(rate, band):
    d = measure_delivery(spoken(plain(60), wpm=rate), 60.0)
    assert d.word_count == 60
    assert d.speaking_time == pytest.approx(60 * 60 / rate)
    assert d.wpm == pytest.approx(rate)
    assert d.pace == band


@pytest.mark.parametrize(
    ("wpm", "band"),
    [
        (104.4, "slow"),
        (105.0, "a bit slow"),
        (119.6, "comfortable"),  # shown as 120
        (160.0, "comfortable"),
        (160.6, "a bit fast"),
        (170.0, "a bit fast"),
        (170.6, "fast"),
    ],
)
def test_band_edges_follow_the_rounded_rate(wpm, band):
    assert pace_band(wpm) == band


def test_a_pause_is_speaking_time_up_to_a_cap():
    long = measure_delivery(spoken(plain(40), wpm=140, pause_after={19: 6.0}), 30.0)
    assert long.speaking_time == pytest.approx(40 * 60 / 140 + PACE_PAUSE_CAP)  # the rest is thinking time
    assert long.wpm == pytest.approx(40 * 60 / (40 * 60 / 140 + PACE_PAUSE_CAP))
    short = measure_delivery(spoken(plain(40), wpm=140, pause_after={19: 1.5}), 30.0)
    assert short.speaking_time == pytest.approx(40 * 60 / 140 + 1.5)
    assert short.wpm < 130


def test_too_little_speech_has_no_rate():
    assert measure_delivery(spoken(plain(4), wpm=60), 10.0).wpm is None  # 4 words over 4 s
    few_seconds = measure_delivery(spoken(plain(10), wpm=240), 10.0)  # 10 words in 2.5 s
    assert few_seconds.wpm is None
    assert few_seconds.pace is None
    assert few_seconds.feedback() == []


def test_pace_windows_show_a_rush_at_the_end():
    words = spoken(plain(60), wpm=130)
    words += spoken(plain(50), wpm=200, start=end_of(words))
    d = measure_delivery(words, end_of(words))
    assert d.pace == "comfortable"  # the average hides it
    assert [w.band for w in d.pace_windows] == ["comfortable", "fast"]
    assert d.pace_windows[0].wpm == pytest.approx(130, abs=3)
    assert d.pace_windows[-1].wpm > 170
    assert any("sped up towards the end" in line for line in d.feedback())


@pytest.mark.parametrize(("seconds", "n_windows"), [(10, 1), (25, 1), (31, 2), (45, 2), (52, 3), (60, 3)])
def test_pace_windows_tile_the_speech_and_merge_a_short_tail(seconds, n_windows):
    n = seconds * 2  # 120 wpm
    words = spoken(plain(n), wpm=120, start=1.0)
    d = measure_delivery(words, seconds + 5.0)
    windows = d.pace_windows
    assert len(windows) == n_windows
    assert windows[0].start == pytest.approx(1.0)
    assert windows[-1].end == pytest.approx(1.0 + seconds)
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))
    assert sum(w.word_count for w in windows) == n
    assert all(w.band == "comfortable" for w in windows)


def test_a_long_pause_inside_a_window_counts_only_up_to_the_cap():
    d = measure_delivery(spoken(plain(30), wpm=150, pause_after={14: 8.0}), 30.0)
    assert len(d.pace_windows) == 1
    assert d.pace_windows[0].wpm == pytest.approx(30 * 60 / (12 + PACE_PAUSE_CAP))
    assert d.pace_windows[0].wpm == pytest.approx(d.wpm)


def test_pace_moves_smoothly_as_one_pause_crosses_the_long_pause_threshold():
    # a tester saw 172 wpm "fast" and 158 wpm "comfortable" on one answer as a single pause crossed 2 s
    def rate(pause: float) -> Delivery:
        return measure_delivery(spoken(plain(65), wpm=172, pause_after={30: pause}), 40.0)

    under, over = rate(1.99), rate(2.01)
    assert under.wpm is not None and over.wpm is not None
    assert over.wpm == pytest.approx(under.wpm, abs=0.5)
    assert over.pace == under.pace
    assert over.pace_windows[0].wpm == pytest.approx(under.pace_windows[0].wpm, abs=0.5)
    rates = [rate(tenths / 10).wpm for tenths in range(0, 101)]
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(rates))  # a longer pause never makes you faster
    assert all(a - b < 1.0 for a, b in itertools.pairwise(rates))  # and 0.1 s more moves the rate a little


def test_the_long_pause_setting_does_not_change_the_pace():
    words = spoken(plain(65), wpm=172, pause_after={30: 1.5})
    ds = [measure_delivery(words, 40.0, long_pause=threshold) for threshold in (1.0, 2.0, 3.0)]
    assert len({d.wpm for d in ds}) == 1
    assert len({d.pace_windows[0].wpm for d in ds}) == 1


# --- fillers ------------------------------------------------------------------------------------------


def test_fillers_are_whole_words_with_their_positions():
    words = spoken("Um, so dropout is, you know, a regulariser. Uh. It also helps, likely.", start=2.0)
    d = measure_delivery(words, 10.0)
    assert [(f.text, f.index) for f in d.fillers] == [("um", 0), ("you know", 4), ("uh", 8)]
    assert [f.start for f in d.fillers] == [words[0].start, words[4].start, words[8].start]
    assert d.fillers[1].end == words[5].end  # the phrase spans both words
    assert d.filler_counts == {"um": 1, "you know": 1, "uh": 1}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ummm", "um"),
        ("Uhh,", "uh"),
        ("um-um", "um"),
        ("Hmm.", "hmm"),
        ("Er,", "er"),
        ("erm", "erm"),
        ("Uhm", "uhm"),
        ("mm", "mm"),
        ("Ah,", "ah"),
    ],
)
def test_hesitations_always_count_and_fold_into_their_base(text, kind):
    assert fillers(f"dropout {text} helps") == [(kind, 1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("it was, like, really slow", [("like", 2)]),
        ("it's like, slow to converge", [("like", 1)]),
        ("and like, the loss explodes", [("like", 1)]),
        ("it's kind of slow", [("kind of", 1)]),
        ("it sort of works", [("sort of", 1)]),
        ("it's kinda slow", [("kind of", 1)]),
        ("kind of like a cache", [("kind of", 0)]),
        ("I mean, the model overfits", [("i mean", 0)]),
        ("and I mean we could prune it", [("i mean", 1)]),
        ("Basically, we add noise", [("basically", 0)]),
        ("so basically we add noise", [("basically", 1)]),
        ("Actually, that is wrong", [("actually", 0)]),
        ("the gradient vanishes, right?", [("right", 3)]),
        ("the gradient vanishes right?", [("right", 3)]),
        ("you know so we clip it", [("you know", 0)]),
        ("the loss, you know, explodes", [("you know", 2)]),
    ],
)
def test_soft_fillers_counted_where_they_do_no_work(text, expected):
    assert fillers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "models like BERT are likely to overfit",
        "I like dropout for this",
        "I would like to add weight decay",
        "it looks like it converges",
        "something like that works",
        "which kind of model would you use",
        "this sort of data is noisy",
        "the kind of model matters",
        "kind of model matters less",
        "what I mean is the mean of the errors",
        "I mean that literally",
        "do you know the answer",
        "as you know, the loss is convex",
        "you know the answer already",
        "what the model actually learns is noise",
        "it literally memorises the labels",
        "is that right?",
        "that's right.",
        "so we also regularise",
        "I know what it's like, honestly",
    ],
)
def test_soft_fillers_not_counted_where_they_carry_meaning(text):
    assert fillers(text) == []


def test_a_type_stays_a_type_when_a_hesitation_follows():
    assert fillers("it is a kind of, um, ensemble") == [("um", 5)]
    assert fillers("this sort of, uh, data") == [("uh", 3)]
    assert fillers("it is kind of, um, an ensemble") == [("kind of", 2), ("um", 4)]


def test_like_before_a_hesitation_is_still_such_as():
    assert fillers("techniques like, um, dropout") == [("um", 2)]


def test_a_pause_sets_a_filler_off_like_a_comma():
    assert fillers("it was like really slow") == []
    assert fillers("it was like really slow", pause_after={2: 0.6}) == [("like", 2)]


def test_hesitations_do_not_make_a_word_a_filler_or_hide_a_determiner():
    assert fillers("the model um actually learns noise") == [("um", 2)]
    assert fillers("which, um, kind of model") == [("um", 1)]


def test_fillers_per_hundred_words():
    text = " ".join(
        f"{w} um" if i % 9 == 0 else w for i, w in enumerate(plain(45).split())
    )  # 5 fillers in 50 words
    d = measure_delivery(spoken(text), 30.0)
    assert d.word_count == 50
    assert len(d.fillers) == 5
    assert d.fillers_per_100 == pytest.approx(10.0)
    assert d.filler_counts == {"um": 5}


# --- pauses and the start -----------------------------------------------------------------------------


def test_long_pauses_listed_and_longest_pause():
    words = spoken(plain(20), wpm=120, pause_after={3: 2.5, 10: 4.2, 15: 1.0, 17: 2.0})
    d = measure_delivery(words, 40.0)
    assert [round(p.duration, 3) for p in d.long_pauses] == [2.5, 4.2]  # 2.0 exactly is not "longer than 2 s"
    assert d.long_pauses[1].start == pytest.approx(words[10].end)
    assert d.long_pauses[1].end == pytest.approx(words[11].start)
    assert d.longest_pause == d.long_pauses[1]
    assert "You paused for more than 2 s 2 times; the longest was 4.2 s at 0:" in " ".join(d.feedback())


def test_longest_pause_counts_short_pauses_too():
    d = measure_delivery(spoken(plain(10), pause_after={4: 1.2, 6: 0.3}), 10.0)
    assert d.long_pauses == ()
    assert d.longest_pause is not None
    assert d.longest_pause.duration == pytest.approx(1.2)
    assert not any("pause" in line for line in d.feedback())


def test_long_pause_threshold_is_configurable():
    d = measure_delivery(spoken(plain(10), pause_after={4: 1.2}), 10.0, long_pause=1.0)
    assert len(d.long_pauses) == 1
    assert d.feedback()[-1].startswith("Your longest pause was 1.2 s at 0:0")


def test_time_to_first_word():
    d = measure_delivery(spoken(plain(30), start=3.5), 20.0)
    assert d.time_to_first_word == pytest.approx(3.5)
    assert "You took 3.5 s before your first word." in " ".join(d.feedback())
    quick = measure_delivery(spoken(plain(30), start=0.8), 20.0)
    assert quick.time_to_first_word == pytest.approx(0.8)
    assert not any("first word" in line for line in quick.feedback())


# --- words --------------------------------------------------------------------------------------------


def test_top_content_words_group_forms_and_skip_stopwords_and_fillers():
    text = (
        "Um, the model overfits. Models overfit when a model memorises, um, noise. "
        "Dropout helps; dropout works because dropout, like, adds noise. It's not the model's noise, not um"
    )
    d = measure_delivery(spoken(text), 30.0)
    top = {w.word: w.count for w in d.top_words}
    assert top == {"model": 4, "noise": 3, "dropout": 3, "overfits": 2}
    assert [w.word for w in d.top_words][:1] == ["model"]


def test_top_words_at_most_eight():
    text = " ".join(
        f"{w} {w}" for w in "alpha beta gamma delta epsilon zeta theta kappa lambda sigma".split()
    )
    d = measure_delivery(spoken(text), 30.0)
    assert len(d.top_words) == 8
    assert [w.word for w in d.top_words][:2] == ["alpha", "beta"]  # ties keep the order they were said in


def test_domain_terms_used_and_missed():
    words = spoken("We tune the Learning rates, then add L2 and, um, batch norm layers.")
    terms = ["learning rate", "L2", "weight decay", "batch normalization", "Batch-Norm", "", "  "]
    d = measure_delivery(words, 10.0, terms)
    assert d.domain_terms_used == ("learning rate", "L2", "Batch-Norm")
    assert d.domain_terms_missed == ("weight decay", "batch normalization")


def test_terms_match_across_stop_words_and_punctuation():
    words = spoken("It is the trade-off between bias, and variance; also ReLU's.")
    d = measure_delivery(words, 10.0, ["trade-off between bias and variance", "ReLU", "variance bias"])
    assert d.domain_terms_used == ("trade-off between bias and variance", "ReLU")
    assert d.domain_terms_missed == ("variance bias",)


def test_multi_word_terms_need_the_words_together_and_in_order():
    d = measure_delivery(spoken("the rate of learning matters"), 5.0, ["learning rate", "rate"])
    assert d.domain_terms_used == ("rate",)
    assert d.domain_terms_missed == ("learning rate",)


def test_terms_match_whole_not_a_piece_of_a_phrase_or_hyphenated_word():
    # the tester's case: "one-class" was listed when only "class" was said ("one" was dropped as a stop word)
    said = "The minority class is small, so a multi-class model, next week, rather than out-of-time folds."
    terms = ["one-class", "out-of-fold", "next time", "my role", "multi-class", "minority class"]
    d = measure_delivery(spoken(said), 10.0, terms)
    assert d.domain_terms_used == ("multi-class", "minority class")
    assert d.domain_terms_missed == ("one-class", "out-of-fold", "next time", "my role")


def test_terms_match_whole_words_not_shared_stems():
    said = "A regular batch, normal layers and a general model that generalises."
    terms = ["regularization", "batch normalization", "generalization", "general model"]
    d = measure_delivery(spoken(said), 10.0, terms)
    assert d.domain_terms_used == ("general model",)
    assert d.domain_terms_missed == ("regularization", "batch normalization", "generalization")


@pytest.mark.parametrize(
    "said",
    ["a one-class SVM", "a One Class SVM", "the ONE-CLASS svms", "one, um, class SVM's", "one-class-SVM"],
)
def test_terms_match_across_case_hyphens_spaces_and_a_plural(said):
    d = measure_delivery(spoken(said), 5.0, ["one-class SVM", "One class", "one-class"])
    assert d.domain_terms_used == ("one-class SVM", "One class", "one-class")


def test_plurals_both_ways_but_not_words_that_only_look_like_one():
    said = spoken("Two GPUs and a few label, good news, its.")
    d = measure_delivery(said, 5.0, ["GPU", "few labels", "new", "it"])
    assert d.domain_terms_used == ("GPU", "few labels")
    assert d.domain_terms_missed == ("new", "it")


def test_a_term_is_not_matched_across_a_stop_word_it_does_not_have():
    d = measure_delivery(spoken("one of the class labels, the rate of learning"), 5.0, ["one-class", "class"])
    assert d.domain_terms_used == ("class",)
    assert d.domain_terms_missed == ("one-class",)


# --- edge cases ---------------------------------------------------------------------------------------


def test_no_words():
    d = measure_delivery([], 12.0, ["dropout"])
    assert d.word_count == 0
    assert d.speaking_time == 0.0
    assert d.wpm is None and d.pace is None
    assert d.pace_windows == ()
    assert d.fillers == () and d.fillers_per_100 == 0.0
    assert d.long_pauses == () and d.longest_pause is None
    assert d.time_to_first_word is None
    assert d.top_words == ()
    assert d.domain_terms_missed == ("dropout",)
    assert d.duration == 12.0
    assert d.feedback() == []


def test_one_word():
    d = measure_delivery([Word("Dropout.", 1.2, 1.7)], 3.0, ["dropout"])
    assert d.word_count == 1
    assert d.speaking_time == pytest.approx(0.5)
    assert d.wpm is None
    assert d.longest_pause is None
    assert d.time_to_first_word == pytest.approx(1.2)
    assert d.domain_terms_used == ("dropout",)
    assert len(d.pace_windows) == 1


def test_zero_and_negative_word_durations():
    words = [Word("dropout", 1.0, 1.0), Word("um", 2.0, 1.5), Word("helps", -0.5, -1.0), Word("a", 2.5, 2.9)]
    d = measure_delivery(words, 3.0)
    assert d.word_count == 4
    assert d.time_to_first_word == 0.0  # clamped to the start of the recording
    assert d.speaking_time == pytest.approx(2.9)
    assert [(f.text, f.index, f.start, f.end) for f in d.fillers] == [("um", 1, 2.0, 2.0)]
    assert d.longest_pause is not None and d.longest_pause.duration >= 0


def test_unsorted_and_overlapping_timestamps():
    ordered = spoken("Um, dropout is, you know, a regulariser", pause_after={2: 3.0})
    shuffled = [ordered[i] for i in (5, 0, 3, 1, 6, 4, 2)]
    d = measure_delivery(shuffled, 20.0)
    assert [(f.text, f.index) for f in d.fillers] == [("um", 1), ("you know", 2)]  # indices into the input
    assert [f.start for f in d.fillers] == [ordered[0].start, ordered[3].start]
    assert len(d.long_pauses) == 1
    overlapping = [Word("dropout", 0.0, 2.0), Word("randomly", 0.5, 1.0), Word("zeroes", 1.5, 2.5)]
    o = measure_delivery(overlapping, 3.0)
    assert o.speaking_time == pytest.approx(2.5)
    assert o.longest_pause is not None and o.longest_pause.duration == 0.0
    assert o.long_pauses == ()


def test_duration_shorter_than_the_last_word():
    words = spoken(plain(10), start=0.0)
    d = measure_delivery(words, 1.0)
    assert d.duration == pytest.approx(end_of(words))
    assert measure_delivery(words, math.nan).duration == pytest.approx(end_of(words))


def test_punctuation_only_words_are_not_words():
    words = spoken("... dropout - helps ? , the network")
    d = measure_delivery(words, 10.0)
    assert d.word_count == 4
    assert d.time_to_first_word == pytest.approx(words[1].start)
    assert measure_delivery([Word("...", 0.0, 0.5)], 1.0).word_count == 0


def test_non_finite_times_are_ignored():
    d = measure_delivery([Word("dropout", math.nan, 1.0), Word("helps", 1.0, 1.4)], 2.0)
    assert d.word_count == 1


def test_empty_domain_terms():
    d = measure_delivery(spoken("dropout helps"), 2.0, [])
    assert d.domain_terms_used == () and d.domain_terms_missed == ()


@pytest.mark.parametrize(
    "kwargs", [{"long_pause": 0.0}, {"window_seconds": -1.0}, {"window_seconds": math.nan}]
)
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        measure_delivery(spoken("dropout helps"), 2.0, **kwargs)


# --- output -------------------------------------------------------------------------------------------


def _rich() -> Delivery:
    text = "Um, so basically dropout is, you know, a regulariser. " + plain(60) + " um, um uh um, um, right?"
    words = spoken(text, wpm=220, start=4.0, pause_after={20: 3.2, 40: 2.4})  # 184 wpm, pauses counted 2 s
    return measure_delivery(words, 60.0, ["dropout", "weight decay"])


def test_to_dict_is_json_and_plain():
    for d in (_rich(), measure_delivery([], 0.0)):
        data = json.loads(json.dumps(d.to_dict()))
        assert data["word_count"] == d.word_count
        assert data["feedback"] == d.feedback()
    data = _rich().to_dict()
    assert data["pace"] == "fast"
    assert data["filler_counts"] == {"um": 5, "basically": 1, "you know": 1, "uh": 1, "right": 1}
    assert data["fillers"][0] == {"text": "um", "index": 0, "start": 4.0, "end": round(4.0 + 60 / 220, 3)}
    assert data["domain_terms_used"] == ["dropout"]
    assert data["longest_pause"]["duration"] == 3.2


def test_feedback_is_specific():
    lines = _rich().feedback()
    assert lines[0] == "You spoke at 184 words per minute: fast. Slow down so the interviewer can follow."
    assert lines[1].startswith('You used 9 fillers (12.0 per 100 words), mostly "um".')
    assert lines[2] == "You paused for more than 2 s 2 times; the longest was 3.2 s at 0:09."
    assert lines[3].startswith("You took 4.0 s before your first word.")


def test_a_clean_comfortable_answer_gets_one_short_line():
    d = measure_delivery(spoken(plain(80), wpm=140, start=1.0), 40.0)
    assert d.feedback() == ["You spoke at 140 words per minute: a comfortable pace."]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("um, um, uh, dropout", 'mostly "um"'),
        ("um, um, uh, uh, like, dropout", 'most often "um" and "uh"'),
        ("um, um, uh, basically, dropout", 'most often "um"'),
        ("um, so basically, you know, dropout", 'such as "um", "basically" and "you know"'),
        ("um, um, dropout", 'all "um"'),
    ],
)
def test_feedback_names_the_fillers_to_work_on(text, kinds):
    lines = measure_delivery(spoken(text), 10.0).feedback()
    assert any(f"per 100 words), {kinds}." in line for line in lines), lines


def test_a_few_fillers_in_a_long_answer_go_unmentioned():
    d = measure_delivery(spoken("um " + plain(99), wpm=140, start=1.0), 60.0)
    assert len(d.fillers) == 1
    assert not any("filler" in line for line in d.feedback())
