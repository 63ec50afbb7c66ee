"""A behavioural question's plain and strong example answers, side by side after an attempt (AppTest)."""

from __future__ import annotations

import pytest

from practice.markdown import escape_markdown
from practice.storage import open_store
from tests.conftest import write
from tests.test_app import app, env, start_practice, type_answer  # noqa: F401 (env: a fixture)

STORY = """track: stories
title: Stories
questions:
  - id: fixed-a-model
    level: basic
    topic: teamwork
    kind: behavioural
    question: Tell me about a time you fixed a model.
    model_answer: >-
      At a retailer our forecast broke before a sale. My job was to find the cause. I compared the data
      and retrained the model. In the end the error fell by half.
    examples:
      plain: Our forecast broke. I *fixed* it and it was better.
      strong: Before a sale our forecast broke; I traced it to stale data, retrained, and halved the error.
"""


@pytest.fixture
def stories(env, tmp_path):  # noqa: F811 (env is the imported fixture)
    write(tmp_path / "bank" / "stories.yaml", STORY)


def examples_after_an_answer(at):
    with open_store() as store:
        (attempt,) = store.attempts()
    return next((e for e in at.expander if e.key == f"examples-{attempt.id}"), None)


def test_a_behavioural_answer_shows_a_plain_and_a_strong_example_side_by_side(stories):
    at = app()
    at.selectbox(key="setup-track").set_value("stories")
    at = type_answer(start_practice(at.run(), topics=["teamwork"]), "I retrained the forecast model.")
    assert not at.exception
    shown = examples_after_an_answer(at)
    assert shown is not None and "plain and strong" in shown.label
    plain, strong = shown.columns
    assert [m.value for m in plain.markdown] == [
        "**Plain**",
        escape_markdown("Our forecast broke. I *fixed* it and it was better."),  # typed Markdown stays text
    ]
    assert [m.value for m in strong.markdown][0] == "**Strong**"
    assert "halved the error" in strong.markdown[1].value


def test_a_question_without_examples_shows_none(stories):
    at = type_answer(start_practice(app()), "data held out from training")
    assert not at.exception and "Coverage" in [m.label for m in at.metric]
    assert examples_after_an_answer(at) is None
    assert not any("plain and strong" in e.label for e in at.expander)
