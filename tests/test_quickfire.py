"""Quick-fire rounds with a fake scorer: choosing questions, the clock per answer, the round's one score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from practice import quickfire, sessions
from practice.bank import load_bank
from practice.scoring.coverage import CoverageScorer
from practice.storage import (
    LOCAL_USER,
    QuestionClock,
    Role,
    RoundTiming,
    StorageError,
    Store,
    User,
    open_store,
)
from tests.conftest import BANK, FakeEmbedder, write

QUICK = """track: quick
title: Quick
questions:
  - id: dropout
    level: basic
    topic: deep-learning
    kind: quick-fire
    question: What does dropout do?
    model_answer: It switches off random neurons in training. That reduces overfitting.
    key_points:
      - Switches off random neurons in training
      - Reduces overfitting
  - id: softmax
    level: basic
    topic: deep-learning
    kind: quick-fire
    question: Which output activation for many classes?
    model_answer: Softmax. It turns scores into probabilities that sum to one.
    key_points:
      - Softmax on the output layer
      - Turns scores into probabilities that sum to one
  - id: clipping
    level: advanced
    topic: optimization
    kind: quick-fire
    question: What is gradient clipping for?
    model_answer: It prevents exploding gradients by rescaling a large gradient.
"""
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def bank(tmp_path):
    write(tmp_path / "bank" / "quick.yaml", QUICK)
    return load_bank(write(tmp_path / "bank" / "mine.yaml", BANK).parent)


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as s:
        yield s


def answer(store, game, bank, text, now):
    """As the page does: save, judge with the same scorer as Practice, then tell the round."""
    question = bank.get(game.current)
    attempt = sessions.save(store, game.plan, question, text=text, mode="typed")
    outcome = sessions.judge(store, attempt, question, scorer=CoverageScorer(FakeEmbedder()))
    game.plan.update(outcome.attempt)
    game.answered(outcome.attempt, now)
    return outcome


def test_only_quick_fire_questions_are_offered_by_track_and_level(bank):
    assert [q.id for q in quickfire.questions(bank)] == ["dropout", "softmax", "clipping"]
    assert [q.id for q in quickfire.questions(bank, level="advanced")] == ["clipping"]
    assert quickfire.questions(bank, track="mine") == []
    assert quickfire.tracks(bank) == ["quick"]
    assert quickfire.levels(bank) == ["basic", "advanced"]
    chosen = quickfire.choose(bank, track="quick", level="basic", count=5, seed=3)
    assert sorted(q.id for q in chosen) == ["dropout", "softmax"]
    assert len(quickfire.choose(bank, count=2, seed=1)) == 2


@pytest.mark.parametrize(
    ("track", "level"), [("mine", quickfire.ANY), ("quick", "expert"), ("nope", quickfire.ANY)]
)
def test_no_match_is_one_sentence(bank, track, level):
    with pytest.raises(quickfire.RoundError, match=r"^No quick-fire questions match: choose another"):
        quickfire.choose(bank, track=track, level=level)


@pytest.mark.parametrize("seconds", [quickfire.MIN_SECONDS - 1, quickfire.MAX_SECONDS + 1])
def test_time_limit_out_of_range_is_refused(bank, store, seconds):
    with pytest.raises(quickfire.RoundError, match="time per answer must be 15 to 180 seconds"):
        quickfire.start(store, "Ada", quickfire.questions(bank), seconds=seconds)


def test_the_clock_starts_when_a_question_is_first_shown_and_a_rerun_keeps_it(bank, store):
    game = quickfire.start(store, "Ada", [bank.get("dropout")], seconds=30)
    game.start_clock(store, T0)
    game.start_clock(store, T0 + timedelta(seconds=20))  # the page drawn again
    assert game.seconds_left(T0 + timedelta(seconds=20)) == 10
    assert game.seconds_left(T0 + timedelta(seconds=40)) == -10


def test_a_round_stores_its_limit_at_the_start_and_each_clock_once(bank, store, monkeypatch):
    game = quickfire.start(store, "Ada", [bank.get("dropout"), bank.get("softmax")], seconds=30)
    assert store.quick_fire_round(game.plan.session_id) == RoundTiming(game.plan.session_id, 30, ())
    writes: list[str] = []
    real = Store.start_clock

    def counted(self, session_id, question_id, at=None):
        writes.append(question_id)
        return real(self, session_id, question_id, at)

    monkeypatch.setattr(Store, "start_clock", counted)
    for rerun in range(3):  # the page drawn three times: one write
        game.start_clock(store, T0 + timedelta(seconds=rerun))
    game.skip()
    game.start_clock(store, T0 + timedelta(seconds=5))
    game.start_clock(store, T0 + timedelta(seconds=6))
    assert writes == ["dropout", "softmax"]
    stored = store.quick_fire_round(game.plan.session_id)
    assert stored.clocks == (
        QuestionClock("dropout", T0),
        QuestionClock("softmax", T0 + timedelta(seconds=5)),
    )


def test_a_clock_another_tab_started_first_is_kept(bank, store):
    game = quickfire.start(store, "Ada", [bank.get("dropout")], seconds=30)
    store.start_clock(game.plan.session_id, "dropout", T0)  # shown in another tab first
    game.start_clock(store, T0 + timedelta(seconds=25))
    assert game.shown_at == {"dropout": T0} and game.seconds_left(T0 + timedelta(seconds=25)) == 5


def test_a_clock_that_cannot_be_stored_does_not_start(bank, store, monkeypatch):
    game = quickfire.start(store, "Ada", [bank.get("dropout")], seconds=30)

    def disk_full(*_args, **_kwargs):
        raise StorageError("Could not start the question's clock: the disk is full.")

    monkeypatch.setattr(Store, "start_clock", disk_full)
    with pytest.raises(StorageError, match="disk is full"):
        game.start_clock(store, T0)
    assert game.shown_at == {}


def test_a_round_saves_each_answer_and_gives_one_score_with_points_covered_and_missed(bank, store):
    chosen = [bank.get(q) for q in ("dropout", "softmax", "clipping")]
    game = quickfire.start(store, "Ada", chosen, seconds=30)
    game.start_clock(store, T0)
    first = answer(
        store, game, bank, "it switches off random neurons in training", T0 + timedelta(seconds=12)
    )
    assert first.error is None and game.current == "softmax"
    game.start_clock(store, T0 + timedelta(seconds=13))
    late = T0 + timedelta(seconds=13 + 30 + quickfire.GRACE_SECONDS + 1)
    answer(store, game, bank, "softmax turns scores into probabilities that sum to one", late)
    game.skip()
    assert game.finished

    summed = quickfire.result(game, bank)
    dropout, softmax, clipping = summed.questions
    assert dropout.covered == ("Switches off random neurons in training",)
    assert dropout.missed == ("Reduces overfitting",) and not dropout.late
    assert softmax.coverage == 100 and softmax.late
    assert clipping.coverage is None and clipping.skipped
    assert summed.score == pytest.approx((dropout.coverage + 100 + 0) / 3)  # the skipped one counts 0
    assert (summed.answered, summed.in_time) == (2, 1)
    saved = store.attempts(session_id=game.plan.session_id)
    assert sorted(a.question_id for a in saved) == ["dropout", "softmax"]  # saved as Practice saves them
    assert all(a.status == "scored" and a.answer_mode == "typed" for a in saved)


def test_an_answer_that_cannot_be_judged_leaves_the_question_open(bank, store):
    game = quickfire.start(store, "Ada", [bank.get("dropout")], seconds=30)
    game.start_clock(store, T0)
    question = bank.get("dropout")
    attempt = sessions.save(store, game.plan, question, text="   ", mode="typed")
    outcome = sessions.judge(store, attempt, question, scorer=CoverageScorer(FakeEmbedder()))
    game.answered(outcome.attempt, T0)
    assert outcome.error and game.current == "dropout"
    assert quickfire.result(game, bank).questions[0].coverage is None


def test_ending_early_counts_the_questions_not_reached_as_zero(bank, store):
    game = quickfire.start(store, "Ada", [bank.get("dropout"), bank.get("softmax")], seconds=30)
    answer(store, game, bank, "it switches off random neurons in training and reduces overfitting", T0)
    game.end()
    summed = quickfire.result(game, bank)
    assert game.finished and summed.questions[0].coverage == 100
    assert summed.score == 50 and not summed.questions[1].skipped


# --- a round in the page's address ---


def clock(at: datetime) -> str:
    """As an older link wrote a clock: milliseconds since 1970."""
    return str((at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1))


def played(bank, store) -> quickfire.Round:
    """Ada's round of three: dropout answered too late, softmax in time, clipping shown 10 s ago."""
    chosen = [bank.get(q) for q in ("dropout", "softmax", "clipping")]
    game = quickfire.start(store, "Ada", chosen, seconds=30)
    now = datetime.now(UTC)  # the answers are saved now: their clocks started before
    game.start_clock(store, now - timedelta(seconds=30 + quickfire.GRACE_SECONDS + 1))  # answered too late
    answer(store, game, bank, "it switches off random neurons in training", datetime.now(UTC))
    game.start_clock(store, now - timedelta(seconds=20))  # answered in time
    answer(store, game, bank, "softmax turns scores into probabilities that sum to one", datetime.now(UTC))
    game.start_clock(store, now - timedelta(seconds=10))
    return game


def test_a_round_restored_from_its_link_carries_on_with_its_answers_clocks_and_lateness(bank, store):
    game = played(bank, store)
    params = quickfire.link(game)
    assert params == sessions.link(game.plan)  # the session and its questions: no time limit, no clocks

    restored = quickfire.restore(store, bank, params, user=LOCAL_USER)
    assert restored.plan.question_ids == ["dropout", "softmax", "clipping"]
    assert restored.current == "clipping" and restored.seconds == 30
    assert restored.plan.attempt_ids == game.plan.attempt_ids and restored.late == {"dropout"} == game.late
    assert restored.shown_at == game.shown_at
    assert 19 <= restored.seconds_left(datetime.now(UTC)) <= 20  # the clock runs on, not from the start
    assert quickfire.result(restored, bank) == quickfire.result(game, bank)
    assert quickfire.link(restored) == params


def test_the_limit_and_clocks_come_back_from_storage_not_from_the_round_in_memory(bank, store):
    game = played(bank, store)
    game.seconds = 180  # as if the page's copy were tampered with: only what was stored counts
    game.shown_at = {q: datetime.now(UTC) for q in game.shown_at}
    game.late.clear()
    restored = quickfire.restore(store, bank, quickfire.link(game), user=LOCAL_USER)
    stored = store.quick_fire_round(game.plan.session_id)
    assert restored.seconds == stored.seconds == 30
    assert restored.shown_at == {c.question_id: c.shown_at for c in stored.clocks}
    assert restored.late == {"dropout"}  # from the stored clock and the saved answer's time


@pytest.mark.parametrize(
    "edit",
    [
        {"seconds": "180"},  # more time per answer
        {"shown": "{now},{now},{now}"},  # every clock restarted now
        {"seconds": "180", "shown": "{now}"},
        {"seconds": "9999", "shown": "1,2,3,4,5"},  # values an older link would have refused
        {"seconds": "abc", "shown": "-5"},
    ],
)
def test_a_link_with_an_edited_limit_or_clocks_restores_the_stored_ones(bank, store, edit):
    game = played(bank, store)
    now = clock(datetime.now(UTC))
    params = {**quickfire.link(game), **{k: v.replace("{now}", now) for k, v in edit.items()}}
    restored = quickfire.restore(store, bank, params, user=LOCAL_USER)
    assert restored.seconds == 30 and restored.shown_at == game.shown_at
    assert restored.late == {"dropout"}  # still late: the answer came after the stored clock's limit
    assert 19 <= restored.seconds_left(datetime.now(UTC)) <= 20
    assert quickfire.result(restored, bank).in_time == 1


def test_an_older_link_with_its_limit_and_clocks_still_opens(bank, store):
    game = played(bank, store)
    older = {
        **quickfire.link(game),
        "seconds": "30",
        "shown": ",".join(clock(game.shown_at[q]) for q in game.plan.question_ids),
    }
    restored = quickfire.restore(store, bank, older, user=LOCAL_USER)
    assert restored.current == "clipping" and restored.shown_at == game.shown_at


def test_an_ended_round_restores_ended_with_its_skips(bank, store):
    game = quickfire.start(store, "Ada", [bank.get("dropout"), bank.get("softmax")], seconds=30)
    game.start_clock(store, datetime.now(UTC))
    game.skip()
    game.end()
    params = quickfire.link(game)
    assert params["end"] == "1" and params["skip"] == "dropout"
    restored = quickfire.restore(store, bank, params, user=LOCAL_USER)
    assert restored.finished and quickfire.result(restored, bank) == quickfire.result(game, bank)
    assert [q.skipped for q in quickfire.result(restored, bank).questions] == [True, False]
    assert restored.shown_at == game.shown_at and "softmax" not in restored.shown_at


def test_a_practice_sessions_link_is_not_a_round(bank, store):
    plan = sessions.start(store, "Ada", [bank.get("dropout"), bank.get("softmax")])
    params = {**sessions.link(plan), "seconds": "30"}  # an address cannot make it one
    assert not quickfire.is_round(store, plan.session_id)
    with pytest.raises(quickfire.NotARoundError, match="^This page's link is to a practice session, not a"):
        quickfire.restore(store, bank, params, user=LOCAL_USER)
    assert store.quick_fire_round(plan.session_id) is None
    game = quickfire.start(store, "Ada", [bank.get("dropout")], seconds=30)
    assert quickfire.is_round(store, game.plan.session_id)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"session": "0" * 32}, "^That practice session was not found: start a new one below.$"),
        ({"session": None}, "^That practice session was not found"),
        ({"q": "dropout,nope"}, "^The question bank no longer has question nope of that session"),
        ({"q": "dropout,dropout"}, "^This page's link does not describe a practice session"),
    ],
)
def test_a_link_that_cannot_be_resumed_is_one_sentence(bank, store, change, message):
    game = quickfire.start(store, "Ada", [bank.get("dropout"), bank.get("softmax")], seconds=30)
    game.start_clock(store, T0)
    params = {k: v for k, v in {**quickfire.link(game), **change}.items() if v is not None}
    with pytest.raises(sessions.RestoreError, match=message):
        quickfire.restore(store, bank, params, user=LOCAL_USER)


def test_another_candidates_round_is_refused_as_if_unknown(bank, store):
    game = quickfire.start(store, "Ada", [bank.get("dropout")], seconds=30)
    params = quickfire.link(game)
    bob = User(id=2, name="Bob", role=Role.CANDIDATE, created_at=T0)
    with pytest.raises(sessions.RestoreError, match="^That practice session was not found"):
        quickfire.restore(store, bank, params, user=bob)
    ada = User(id=3, name="ada", role=Role.CANDIDATE, created_at=T0)
    assert quickfire.restore(store, bank, params, user=ada).current == "dropout"
