"""The practice flow with a fake scorer and a fake recogniser: saved first, then judged; retries; summary."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from practice import sessions
from practice.assess import assess_transcript, follow_up, said_at
from practice.bank import KeyPoint, load_bank, make_question
from practice.scoring.coverage import CoverageScorer
from practice.storage import LOCAL_USER, export_csv, export_markdown, open_store
from tests.audio import encode, tone
from tests.conftest import BANK, FakeEmbedder, FakeTranscriber, write
from tests.fake_whisper import FakeWhisperModel, whisper_with

WAV = encode(tone(2.0))  # real audio: a recording is kept as what it decodes as


@pytest.fixture
def bank(tmp_path):
    return load_bank(write(tmp_path / "bank" / "mine.yaml", BANK).parent)


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as s:
        yield s


@pytest.fixture
def scorer():
    return CoverageScorer(FakeEmbedder())


def test_questions_are_spread_over_topics_and_respect_filters(bank):
    chosen = sessions.choose_questions(bank, track="mine", level="basic", count=2, seed=1)
    assert len(chosen) == 2 and {q.topic for q in chosen} == {"evaluation", "generalisation"}
    assert len(sessions.choose_questions(bank, track="mine", level="basic", count=10)) == 3
    only = sessions.choose_questions(bank, track="mine", level=None, topics=["transformers"], count=5)
    assert [q.id for q in only] == ["attention"]


def test_typed_answer_is_saved_then_scored(bank, store, scorer):
    question = bank.get("validation-set")
    plan = sessions.start(store, "  Ada ", [question, bank.get("overfitting")])
    assert plan.candidate == "Ada" and plan.current == "validation-set"
    outcome = sessions.answer(store, plan, question, text="data held out from training", scorer=scorer)
    assert outcome.error is None and outcome.attempt.status == "scored"
    assert outcome.assessment.score.key_points[0].status == "covered"
    assert outcome.assessment.follow_up() == "What do you tune with it?"
    saved = store.attempts(candidate="ada")
    assert [a.id for a in saved] == [outcome.attempt.id] and saved[0].session_id == plan.session_id
    assert saved[0].score == outcome.assessment.score  # typed, as the scorer made it
    assert follow_up(saved[0].score) == "What do you tune with it?"
    plan.advance()
    plan.advance()
    assert plan.finished and plan.current is None


def test_spoken_answer_keeps_transcript_and_delivery(bank, store, scorer):
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    recogniser = FakeTranscriber("data held out from training used to tune hyperparameters")
    outcome = sessions.answer(store, plan, question, audio=WAV, scorer=scorer, transcriber=recogniser)
    attempt = store.attempt(outcome.attempt.id)
    assert attempt.status == "scored" and attempt.answer_mode == "audio"
    assert attempt.transcript.words[0].text == "data" and attempt.delivery.word_count == 9
    assert attempt.delivery == outcome.assessment.delivery
    assert said_at(attempt.score, attempt.transcript)[0] == pytest.approx(0.5)
    assert store.audio(attempt.id) == (WAV, "audio/wav")


def test_silent_recording_is_kept_and_can_be_rescored(bank, store, scorer):
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    outcome = sessions.answer(store, plan, question, audio=WAV, transcriber=FakeTranscriber(None))
    assert outcome.assessment is None and outcome.error.startswith("No speech was heard")
    assert outcome.attempt.status == "failed" and store.audio(outcome.attempt.id) is not None
    # later, with a recogniser that hears it: the saved audio is used, no new attempt is made
    recogniser = FakeTranscriber("data held out from training")
    again = sessions.judge(
        store, store.attempt(outcome.attempt.id), question, scorer=scorer, transcriber=recogniser
    )
    assert again.attempt.status == "scored" and recogniser.calls == 1
    assert [a.status for a in store.attempts()] == ["scored"]


def test_saved_transcript_is_not_transcribed_again(bank, store, scorer):
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    attempt = store.add_attempt("Ada", question, answer_mode="audio", audio=b"x", session_id=plan.session_id)
    store.set_transcript(attempt.id, FakeTranscriber("data held out from training").transcribe(b""))
    recogniser = FakeTranscriber("something else")
    outcome = sessions.judge(
        store, store.attempt(attempt.id), question, scorer=scorer, transcriber=recogniser
    )
    assert recogniser.calls == 0 and outcome.assessment.answer_text == "data held out from training"


def test_retry_comparison_names_points_gained_and_lost(bank, store, scorer):
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    first = sessions.answer(store, plan, question, text="data held out from training", scorer=scorer).attempt
    second = sessions.answer(
        store, plan, question, text="we tune hyperparameters and choose models with it", scorer=scorer
    ).attempt
    change = sessions.compare(first, second)
    assert change.gained == ["Used to tune hyperparameters and choose models"]
    assert change.lost == ["Data held out from training"]
    assert plan.attempt_ids["validation-set"] == [first.id, second.id]
    assert plan.tries["validation-set"] == [first, second] == [store.attempt(a.id) for a in (first, second)]


def test_summary_has_best_last_and_most_missed(bank, store, scorer):
    q1, q2 = bank.get("validation-set"), bank.get("overfitting")
    plan = sessions.start(store, "Ada", [q1, q2])
    sessions.answer(store, plan, q1, text="i am not sure", scorer=scorer)
    sessions.answer(
        store, plan, q1, text="data held out from training, used to tune hyperparameters", scorer=scorer
    )
    sessions.answer(store, plan, q2, text="no idea at all", scorer=scorer)
    summary = sessions.summarize(store.attempts(session_id=plan.session_id))
    rows = {r.question_id: r for r in summary.questions}
    assert rows["validation-set"].attempts == 2 and rows["validation-set"].best == 100
    assert rows["validation-set"].last == 100 and rows["overfitting"].best == 0
    assert summary.most_missed[0][1] == 1 and summary.average == 50


def test_weak_questions_come_back_when_due(bank, store, scorer):
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    sessions.answer(store, plan, question, text="i do not know", scorer=scorer)
    attempts = store.attempts(candidate="Ada")
    now = datetime.now(UTC)
    assert sessions.weak_questions(bank, attempts, now=now) == []  # missed today: due again tomorrow
    assert [q.id for q in sessions.weak_questions(bank, attempts, now=now + timedelta(days=2))] == [
        question.id
    ]


def test_answer_needs_exactly_one_of_text_or_audio(bank, store):
    plan = sessions.start(store, "Ada", [])
    with pytest.raises(ValueError):
        sessions.answer(store, plan, bank.get("overfitting"))


def test_a_scorer_crash_keeps_the_answer_for_rescoring(bank, store, scorer, monkeypatch):
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    monkeypatch.setattr(scorer, "score", lambda *a: 1 / 0)
    outcome = sessions.answer(store, plan, question, text="data held out from training", scorer=scorer)
    assert outcome.assessment is None and "Scoring failed (ZeroDivisionError)" in outcome.error
    assert [a.id for a in store.attempts() if a.status != "scored"] == [outcome.attempt.id]
    monkeypatch.undo()
    again = sessions.judge(
        store, store.attempt(outcome.attempt.id), question, scorer=CoverageScorer(FakeEmbedder())
    )
    assert again.attempt.status == "scored" and again.attempt.answer_text == "data held out from training"


# --- choosing a session's questions: every due weak question, and one sentence when fewer match ---


def answered(store, bank, when: datetime, answers: dict[str, str]) -> None:
    scorer = CoverageScorer(FakeEmbedder())
    for qid, text in answers.items():
        question = bank.get(qid)
        attempt = store.add_attempt("Ada", question, answer_mode="typed", answer_text=text, created_at=when)
        store.set_result(attempt.id, scorer.score(question, text))


def test_a_weak_session_can_hold_every_due_weak_question(bank, store):
    now = datetime.now(UTC)
    mastered = bank.get("test-set").model_answer
    answered(store, bank, now - timedelta(days=3), {"validation-set": "no idea", "overfitting": "no idea"})
    answered(store, bank, now - timedelta(days=3), {"test-set": mastered})
    answered(store, bank, now, {"attention": "no idea"})  # weak, but due tomorrow
    attempts = store.attempts(candidate="Ada")
    due = sessions.weak_questions(bank, attempts, count=None, now=now)
    assert sorted(q.id for q in due) == ["overfitting", "validation-set"]
    assert sessions.weak_questions(bank, attempts, count=1, now=now) == due[:1]


@pytest.mark.parametrize(
    ("asked", "found", "topics", "expected"),
    [
        (
            5,
            1,
            ["generalisation"],
            "Only 1 question matches track Mine, level basic, topic generalisation; starting with 1.",
        ),
        (
            5,
            2,
            ["evaluation"],
            "Only 2 questions match track Mine, level basic, topic evaluation; starting with 2.",
        ),
        (5, 3, [], "Only 3 questions match track Mine, level basic; starting with 3."),
        (
            9,
            3,
            ["evaluation", "generalisation"],
            "Only 3 questions match track Mine, level basic, topics "
            "evaluation or generalisation; starting with 3.",
        ),
        (2, 2, ["evaluation"], None),  # as many as asked: nothing to say
        (5, 0, ["evaluation"], None),  # none at all: the page says that in its own words
    ],
)
def test_fewer_matches_than_asked_is_said_in_one_sentence(
    asked: int, found: int, topics: list[str], expected: str | None
) -> None:
    assert sessions.shortfall_note(asked, found, track="Mine", level="basic", topics=topics) == expected


# --- a session kept in the page's address: restored with its attempts; skipping; ending early ---


def three(bank):
    return [bank.get(q) for q in ("validation-set", "overfitting", "test-set")]


def test_a_link_restores_the_plan_on_the_first_question_neither_answered_nor_skipped(bank, store, scorer):
    q1, q2, q3 = three(bank)
    plan = sessions.start(store, "Ada", [q1, q2, q3])
    sessions.answer(store, plan, q1, text="i am not sure", scorer=scorer)
    sessions.answer(store, plan, q1, text="data held out from training", scorer=scorer)
    plan.advance()
    plan.skip()
    params = sessions.link(plan)
    assert params == {
        "session": plan.session_id,
        "q": "validation-set,overfitting,test-set",
        "skip": "overfitting",
    }
    restored = sessions.restore(store, bank, params, user=LOCAL_USER)
    assert restored.candidate == "Ada" and restored.session_id == plan.session_id
    assert restored.question_ids == plan.question_ids and restored.skipped == ["overfitting"]
    assert restored.tries == plan.tries and restored.current == "test-set"
    assert sessions.link(restored) == params


def test_a_restored_plan_stays_on_a_question_whose_answer_failed(bank, store, scorer):
    q1, q2, _ = three(bank)
    plan = sessions.start(store, "Ada", [q1, q2])
    sessions.answer(store, plan, q1, audio=WAV, transcriber=FakeTranscriber(None), scorer=scorer)
    restored = sessions.restore(store, bank, sessions.link(plan), user=LOCAL_USER)
    assert restored.current == "validation-set" and restored.tries["validation-set"][0].status == "failed"


def test_an_ended_session_is_restored_ended(bank, store, scorer):
    q1, q2, _ = three(bank)
    plan = sessions.start(store, "Ada", [q1, q2])
    sessions.answer(store, plan, q1, text="data held out from training", scorer=scorer)
    plan.end()
    assert sessions.link(plan)["end"] == "1"
    assert sessions.restore(store, bank, sessions.link(plan), user=LOCAL_USER).finished


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"q": ""}, "does not describe a practice session"),
        ({"q": "validation-set,validation-set"}, "does not describe a practice session"),
        ({"skip": "attention"}, "does not describe a practice session"),
        ({"q": "validation-set,no-such-question"}, "no longer has question no-such-question"),
        ({"session": "0" * 32}, "That practice session was not found"),
        ({"session": "x" * 5000}, "That practice session was not found"),
        ({"session": ""}, "That practice session was not found"),
        ({"q": "overfitting"}, "does not match the saved session"),  # its answer is to another question
    ],
)
def test_a_link_that_cannot_be_resumed_is_one_sentence(bank, store, scorer, change, expected):
    q1, q2, _ = three(bank)
    plan = sessions.start(store, "Ada", [q1, q2])
    sessions.answer(store, plan, q1, text="data held out from training", scorer=scorer)
    with pytest.raises(sessions.RestoreError, match=expected) as caught:
        sessions.restore(store, bank, {**sessions.link(plan), **change}, user=LOCAL_USER)
    assert str(caught.value).count(".") == 1 and str(caught.value).endswith("start a new one below.")


def test_a_session_with_no_saved_answer_yet_resumes_on_its_first_question(bank, store):
    plan = sessions.start(store, "Ada", three(bank))
    restored = sessions.restore(store, bank, sessions.link(plan), user=LOCAL_USER)
    assert (restored.candidate, restored.question_ids, restored.position) == ("Ada", plan.question_ids, 0)


def test_skip_moves_on_without_saving_and_the_summary_marks_it(bank, store, scorer):
    q1, q2, q3 = three(bank)
    plan = sessions.start(store, "Ada", [q1, q2, q3])
    plan.skip()
    assert plan.current == "overfitting" and plan.skipped == ["validation-set"] and store.attempts() == []
    sessions.answer(store, plan, q2, text="no idea at all", scorer=scorer)
    plan.advance()
    plan.skip()
    assert plan.finished and plan.ended_early_note() is None
    summary = sessions.summarize(store.attempts(session_id=plan.session_id), [q1, q3])
    assert [(r.question_id, r.attempts, r.skipped) for r in summary.questions] == [
        ("overfitting", 1, False),
        ("validation-set", 0, True),
        ("test-set", 0, True),
    ]
    assert summary.average == 0


def test_ending_on_an_unanswered_question_is_one_sentence(bank, store, scorer):
    q1, q2, q3 = three(bank)
    plan = sessions.start(store, "Ada", [q1, q2])
    plan.end()
    assert plan.ended_early_note() == "The session ended before any question was answered."
    plan = sessions.start(store, "Ada", [q1, q2, q3])
    sessions.answer(store, plan, q1, text="data held out from training", scorer=scorer)
    plan.advance()
    plan.end()
    assert plan.ended_early_note() == "The session ended with questions 2 and 3 of 3 unanswered."
    plan.skipped.append("overfitting")
    assert plan.ended_early_note() == "The session ended with question 3 of 3 unanswered."


# --- a transcript corrected by hand: scored again from the words meant, the words heard kept ---


def misheard(bank, store, scorer, heard="beta help doubt from raining and used to tune hyperparameters"):
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    outcome = sessions.answer(
        store, plan, question, audio=WAV, scorer=scorer, transcriber=FakeTranscriber(heard)
    )
    return plan, question, outcome.attempt


def test_a_corrected_transcript_is_scored_again_and_the_words_heard_are_kept(bank, store, scorer):
    plan, question, before = misheard(bank, store, scorer)
    meant = "data held out from training and used to tune hyperparameters and to choose models"
    outcome = sessions.correct(store, before, question, meant, scorer=scorer)
    after = store.attempt(before.id)
    assert after == outcome.attempt and after.status == "scored"
    assert after.answer_text == meant and after.transcript.text == meant
    assert after.transcript.heard.text == before.transcript.text and after.transcript.corrected_by == "Ada"
    assert after.coverage > before.coverage
    assert after.score == scorer.score(question, meant)  # the same scorer, the same question
    assert store.audio(after.id) == (WAV, "audio/wav")  # the recording stays
    # how it was said is the audio's (10 words heard, not the 13 written): the same pace, pauses and fillers
    was, now = before.delivery, after.delivery
    assert now.word_count == was.word_count == 10
    assert (now.pace, now.fillers, now.long_pauses) == (was.pace, was.fillers, was.long_pauses)
    assert now.wpm == pytest.approx(was.wpm)
    assert now.longest_pause.duration == pytest.approx(was.longest_pause.duration)
    plan.update(outcome.attempt)
    assert plan.tries[question.id] == [after]


def test_a_corrected_attempt_scored_again_later_stays_corrected(bank, store, scorer):
    _, question, before = misheard(bank, store, scorer)
    meant = "data held out from training and used to tune hyperparameters"
    corrected = sessions.correct(store, before, question, meant, scorer=scorer).attempt
    recogniser = FakeTranscriber("something else")
    again = sessions.judge(store, corrected, question, scorer=scorer, transcriber=recogniser)
    assert recogniser.calls == 0 and again.attempt.answer_text == meant
    assert again.attempt.coverage == corrected.coverage and again.attempt.delivery == corrected.delivery


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("   ", "The corrected transcript is empty"),
        ("beta help doubt from raining and used to tune hyperparameters", "Nothing was changed"),
        ("word " * (sessions.MAX_CORRECTION_WORDS + 1), r"too long \(3001 words; at most 3000\)"),
        ("um uh", "has no words to score"),
    ],
)
def test_a_correction_that_cannot_be_used_is_one_sentence_and_changes_nothing(
    bank, store, scorer, text, expected
):
    _, question, before = misheard(bank, store, scorer)
    with pytest.raises(sessions.CorrectionError, match=expected):
        sessions.correct(store, before, question, text, scorer=scorer)
    assert store.attempt(before.id) == before


def test_a_typed_answer_has_no_transcript_to_correct(bank, store, scorer):
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    typed = sessions.answer(store, plan, question, text="data held out", scorer=scorer).attempt
    with pytest.raises(sessions.CorrectionError, match="Only a spoken answer"):
        sessions.correct(store, typed, question, "data held out from training", scorer=scorer)


def test_a_scorer_crash_on_a_correction_leaves_the_attempt_as_it_was(bank, store, scorer, monkeypatch):
    _, question, before = misheard(bank, store, scorer)
    monkeypatch.setattr(scorer, "score", lambda *a: 1 / 0)
    with pytest.raises(sessions.CorrectionError, match=r"failed \(ZeroDivisionError\); nothing was changed"):
        sessions.correct(store, before, question, "data held out from training", scorer=scorer)
    assert store.attempt(before.id) == before


def test_exports_show_the_corrected_words_and_the_words_heard_once(bank, store, scorer):
    _, question, before = misheard(bank, store, scorer, heard="beta help doubt from raining")
    sessions.correct(store, before, question, "data held out from training", scorer=scorer)
    markdown = export_markdown(store.attempts())
    assert "> data held out from training" in markdown and markdown.count("First heard as") == 1
    assert (
        "Corrected: beta help doubt → data held out; raining → training. By Ada. "
        "First heard as: beta help doubt from raining"
    ) in markdown
    (row,) = csv.DictReader(io.StringIO(export_csv(store.attempts())))
    assert row["answer_text"] == "data held out from training"
    assert row["transcript_heard"] == "beta help doubt from raining"


def test_domain_terms_are_read_from_the_corrected_words_and_pace_from_the_words_heard(scorer):
    question = make_question(
        id="pr",
        question="Precision or recall?",
        model_answer="Recall counts the positives found.",
        key_points=[KeyPoint(text="Recall counts the positives found", terms=("recall",))],
    )
    heard = FakeTranscriber("um the recoil counts positives found").transcribe(b"")
    corrected = heard.corrected("the recall counts the positives found")
    assert assess_transcript(question, heard, scorer).delivery.domain_terms_used == ()
    delivery = assess_transcript(question, corrected, scorer).delivery
    assert delivery.domain_terms_used == ("recall",)
    assert (delivery.word_count, len(delivery.fillers)) == (6, 1)  # the words heard, with their "um"


def test_judging_says_each_stage_as_it_begins(bank, store, scorer):
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    stages: list[str] = []
    heard = FakeTranscriber("data held out from training")
    sessions.answer(
        store, plan, question, audio=WAV, scorer=scorer, transcriber=heard, on_stage=stages.append
    )
    assert stages == ["transcribing", "scoring"]
    stages.clear()
    sessions.answer(store, plan, question, text="data held out", scorer=scorer, on_stage=stages.append)
    assert stages == ["scoring"]  # nothing to transcribe
    saved = sessions.save(store, plan, question, text="data held out from training")
    assert saved.status == "recorded" and plan.tries[question.id][-1] == saved  # saved, not judged yet


def test_a_restored_plan_stops_on_an_answer_saved_but_not_judged(bank, store, scorer):
    q1, q2, _ = three(bank)
    plan = sessions.start(store, "Ada", [q1, q2])
    sessions.answer(store, plan, q1, text="data held out from training", scorer=scorer)
    sessions.answer(store, plan, q2, text="memorises noise", scorer=scorer)
    sessions.save(store, plan, q1, text="held out data, used to tune hyperparameters")  # a retry cut short
    restored = sessions.restore(store, bank, sessions.link(plan), user=LOCAL_USER)
    assert restored.current == "validation-set" and restored.tries["validation-set"][-1].status == "recorded"


def test_judging_reports_how_much_of_the_recording_is_transcribed(bank, store, scorer, monkeypatch):
    stretches = [(0.5, 1.0, "data held out"), (1.0, 1.6, "from training")]
    whisper = whisper_with(monkeypatch, FakeWhisperModel([stretches], duration=2.0))
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    reported: list[int] = []
    outcome = sessions.answer(
        store,
        plan,
        question,
        audio=WAV,
        scorer=scorer,
        transcriber=whisper,
        on_progress=lambda p: reported.append(p.percent),
    )
    assert reported == [0, 50, 80, 100] and outcome.attempt.status == "scored"
    assert outcome.attempt.transcript.text == "data held out from training"
    # another recogniser (a test's stand-in) gives only the words, and judging goes on as before
    reported.clear()
    heard = FakeTranscriber("data held out from training")
    outcome = sessions.answer(
        store, plan, question, audio=WAV, scorer=scorer, transcriber=heard, on_progress=reported.append
    )
    assert reported == [] and outcome.attempt.status == "scored"
