"""The STAR structure of a behavioural answer on the Practice and Progress pages (AppTest, fake judge)."""

from __future__ import annotations

import pytest

import practice.scoring as scoring
from practice.markdown import escape_markdown
from practice.scoring.coverage import CoverageScorer
from practice.scoring.structure import ADVICE
from tests.conftest import FakeEmbedder, FakeJudge, write
from tests.test_app import app, env, page_text, start_practice, type_answer  # noqa: F401 (env: a fixture)

STORIES = """track: stories
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
"""
# Said with Markdown in it: the words that carried each part are shown as typed, never rendered.
NO_RESULT = (
    "At an online *retailer* our [forecast](http://x.example) broke before a sale. "
    "My job was to find the cause that week. I compared the data and retrained the model."
)


@pytest.fixture
def stories(env, tmp_path):  # noqa: F811 (env is the imported fixture)
    """The test bank plus a behavioural track, scored with the fake judge (which reads the structure)."""
    write(tmp_path / "bank" / "stories.yaml", STORIES)
    with scoring.scorer_in_use(CoverageScorer(FakeEmbedder(), judge=FakeJudge())):
        yield


def practise_story(answer: str):
    at = app()
    at.selectbox(key="setup-track").set_value("stories")
    at = start_practice(at.run(), topics=["teamwork"])
    assert not at.exception
    return type_answer(at, answer)


def test_a_behavioural_answer_shows_which_parts_it_had_with_their_words_and_what_to_add(stories):
    at = practise_story(NO_RESULT)
    assert not at.exception
    text = page_text(at)
    assert "**Structure:** Situation ✓ Task ✓ Action ✓ Result ✗" in text
    captions = [c.value for c in at.caption]
    situation = next(c for c in captions if c.startswith("Situation: "))
    assert escape_markdown("*retailer* our [forecast](http://x.example)") in situation
    assert any(c.startswith("Task: ") and "My job was" in c for c in captions)
    assert ADVICE["result"] in [i.value for i in at.info]


def test_a_technical_answer_shows_no_structure(stories):
    at = type_answer(start_practice(app()), "At my last job I was asked to hold data out from training.")
    assert not at.exception and "Coverage" in [m.label for m in at.metric]
    assert "Structure:" not in page_text(at)


def test_progress_names_the_part_most_often_missing_from_behavioural_answers(stories):
    practise_story(NO_RESULT)
    at = practise_story("At my last job I was asked to fix the forecast, so I retrained it.")
    at.switch_page("views/progress.py")
    at = at.run()
    assert not at.exception
    texts = [m.value for m in at.markdown]
    assert "#### Answer structure" in texts
    line = texts[texts.index("#### Answer structure") + 1]
    assert line.startswith("**Result** is the part") and "missing from 2 of 2" in line
    assert ADVICE["result"] in line
