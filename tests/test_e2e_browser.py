"""End to end in real headless Chromium: the app on the bundled models, a spoken answer through the fake mic.

Chromium's fake microphone plays a WAV that espeak-ng made from a good answer; `st.audio_input` records
it, the candidate submits it after the recording, Whisper transcribes it and the feedback shows; the
candidate corrects a word of the transcript and sees it scored again. A second browser session practises
at the same time, and a third reloads the page mid-session (it resumes on the same question), skips a
question and reloads at the end (the summary lists the skip). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from practice.bank import load_bank
from practice.storage import open_store
from tests.appserver import ROOT, TRAILING_SILENCE, fake_microphone, running_app, settled, write_bank

pytestmark = pytest.mark.models
playwright = pytest.importorskip("playwright.sync_api")

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("PRACTICE_CHROMIUM", "/usr/bin/chromium")
QUESTION = "amd-neural-network-in-simple-terms"  # topic deep-learning
OTHER = "amd-explain-ml-to-a-child"  # topic fundamentals, so a session can be made of either or both
GOOD_ANSWER = (
    "A neural network is made of layers of simple connected units, loosely inspired by neurons in the brain. "
    "Each unit takes a weighted sum of its inputs and applies a nonlinear activation such as relu. "
    "The network learns by adjusting its weights with backpropagation and gradient descent to reduce the "
    "loss. It learns useful features straight from raw data, so nobody has to hand craft them, and that "
    "is why it powers image recognition, speech and large language models."
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on a one-question bank (so the question is known) and an empty database."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("e2e")
    questions = [load_bank(None).get(q) for q in (QUESTION, OTHER)]
    write_bank(tmp / "bank" / "e2e.yaml", "e2e", "End to end", questions, level="basic")
    mic = tmp / "answer.wav"
    seconds = fake_microphone(mic, GOOD_ANSWER)
    env = {
        **os.environ,
        "PRACTICE_BANK_DIR": str(tmp / "bank"),
        "PRACTICE_DATA_DIR": str(tmp / "data"),
        "PRACTICE_CACHE_DIR": str(tmp / "cache"),
        "HF_HUB_OFFLINE": "1",
    }
    with running_app(env, ARTIFACTS / "e2e-server.log") as url:
        yield {"url": url, "mic": mic, "seconds": seconds, "db": tmp / "data" / "practice.db"}


def test_spoken_answer_end_to_end_with_a_second_session_at_the_same_time(served):
    ARTIFACTS.mkdir(exist_ok=True)
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={served['mic']}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        speaker = browser.new_context(viewport={"width": 1280, "height": 1600}).new_page()
        typist = browser.new_context(viewport={"width": 1280, "height": 1600}).new_page()
        for page, name in ((speaker, "Eve Speaker"), (typist, "Tom Typist")):
            page.goto(served["url"])
            page.get_by_role("textbox", name="Your name").fill(name)
            page.get_by_test_id("stSelectbox").filter(has_text="Level").click()
            page.get_by_role("option", name="basic", exact=True).click()  # the level of the bank's question
            page.get_by_test_id("stMultiSelect").filter(has_text="Topics").click()
            page.get_by_role("option", name="deep-learning", exact=True).click()  # only QUESTION
            page.keyboard.press("Escape")
            page.get_by_role("button", name="Start").click()

        # the question is read aloud and shown; the models load with visible progress
        speaker.wait_for_selector("[data-testid=stAudioInput]", timeout=120_000)
        speaker.locator("audio").first.wait_for(state="attached", timeout=30_000)
        assert "what is a neural network" in speaker.get_by_role("heading").all_inner_texts()[0].lower()
        speaker.screenshot(path=ARTIFACTS / "e2e-1-question.png", full_page=True)

        # record through the fake microphone; meanwhile the other session types its answer
        speaker.get_by_role("button", name="Record").click()
        typist.wait_for_selector("[data-testid=stAudioInput]", timeout=120_000)
        settled(typist)
        typist.get_by_role("tab", name="Type").click()
        typist.get_by_role("textbox", name="Type your answer").fill(
            "It is a model. <b>Not sure</b> about more."
        )
        typist.get_by_role("button", name="Submit answer").click()
        speaker.wait_for_timeout(int((served["seconds"] - TRAILING_SILENCE + 1.0) * 1000))
        speaker.get_by_role("button", name="Stop recording").click()
        speaker.get_by_role("button", name="Submit this answer").click()  # after listening back, or not

        speaker.get_by_text("Coverage", exact=True).first.wait_for(timeout=120_000)
        speaker.get_by_role("button", name="Try again").wait_for(timeout=30_000)  # the feedback is all there
        speaker.screenshot(path=ARTIFACTS / "e2e-2-feedback.png", full_page=True)
        coverage = speaker.locator("[data-testid=stMetricValue]").first.inner_text()
        assert int(coverage.split("/")[0]) >= 50, coverage
        body = speaker.locator("section.main, [data-testid=stMain]").first.inner_text().lower()
        assert "transcript" in body and "backpropagation" in body and "said at 0:" in body
        assert "question" in body and "your answer" in body  # the two players, labelled

        # a word corrected by hand: scored again from the corrected words, the change shown
        settled(speaker)
        speaker.get_by_text("Correct the transcript").click()
        box = speaker.get_by_role("textbox", name="Transcript")
        heard = box.input_value()  # Whisper's words differ from run to run: add to them, whatever they are
        box.fill(f"{heard} Backpropagation uses the chain rule.")
        speaker.get_by_role("button", name="Save and score again").click()  # the box commits as it blurs
        try:
            speaker.get_by_text("Scored again from your corrected transcript").wait_for(timeout=60_000)
        except playwright.TimeoutError:
            speaker.screenshot(path=ARTIFACTS / "e2e-2b-failed.png", full_page=True)
            raise
        speaker.get_by_text("Corrected: “Backpropagation uses the chain rule.” added.").wait_for(
            timeout=30_000
        )
        speaker.screenshot(path=ARTIFACTS / "e2e-2b-corrected.png", full_page=True)

        typist.get_by_text("Coverage", exact=True).first.wait_for(timeout=120_000)
        typist.get_by_role("button", name="Try again").wait_for(timeout=30_000)
        typist.screenshot(path=ARTIFACTS / "e2e-3-typed-session.png", full_page=True)
        typed_body = typist.locator("[data-testid=stMain]").first.inner_text()
        assert "<b>Not sure</b>" in typed_body  # shown as typed, not rendered as HTML
        assert typist.locator("[data-testid=stMain] b", has_text="Not sure").count() == 0

        # the attempt is on the review page
        speaker.get_by_role("link", name="Review").click()
        speaker.get_by_role("heading", name=f"Eve Speaker · {QUESTION}").wait_for(timeout=60_000)
        # Streamlit streams the page in element by element: wait for the player, do not count too early
        speaker.locator("audio").first.wait_for(state="attached", timeout=30_000)
        speaker.screenshot(path=ARTIFACTS / "e2e-4-review.png", full_page=True)

        # a third session, on a phone-sized screen: a reload resumes it on the same question, Skip moves
        # on, a reload at the end shows the summary with the skip
        rita = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
        rita.goto(served["url"])
        rita.get_by_role("textbox", name="Your name").fill("Rita Reload")
        rita.get_by_test_id("stSelectbox").filter(has_text="Level").click()
        rita.get_by_role("option", name="basic", exact=True).click()
        rita.get_by_role("button", name="Start").click()
        rita.get_by_text("Question 1 of 2").wait_for(timeout=60_000)
        first = rita.get_by_role("heading", level=3).first.inner_text()
        assert "session=" in rita.url
        end = rita.locator("[data-testid=stMain]").get_by_role("button", name="End session")
        end.scroll_into_view_if_needed()
        assert end.is_visible()  # in the page: the sidebar is folded away on a phone
        rita.screenshot(path=ARTIFACTS / "e2e-5-phone.png", full_page=True)
        rita.reload()
        rita.get_by_text("Question 1 of 2").wait_for(timeout=60_000)
        assert rita.get_by_role("heading", level=3).first.inner_text() == first  # resumed, not a new form
        settled(rita)
        rita.get_by_role("button", name="Skip").click()
        rita.get_by_text("Question 2 of 2").wait_for(timeout=60_000)
        # the other question, drawn anew (not the last one's form, still on screen a moment)
        playwright.expect(rita.get_by_role("heading", level=3).first).not_to_have_text(first, timeout=60_000)
        settled(rita)
        rita.get_by_role("tab", name="Type").click()
        rita.get_by_role("textbox", name="Type your answer").fill("I would explain it with examples.")
        rita.get_by_role("button", name="Submit answer").click()
        try:
            rita.get_by_role("button", name="Finish").wait_for(timeout=120_000)
        except playwright.TimeoutError:
            rita.screenshot(path=ARTIFACTS / "e2e-5-failed.png", full_page=True)
            raise
        rita.reload()
        rita.get_by_role("heading", name="Session summary").wait_for(timeout=60_000)
        rita.locator("[data-testid=stDataFrame]").wait_for(timeout=30_000)  # the two questions, one skipped
        assert "skip=" in rita.url and "end=1" in rita.url
        rita.screenshot(path=ARTIFACTS / "e2e-5-reloaded-summary.png", full_page=True)
        browser.close()

    with open_store(f"sqlite:///{served['db']}") as store:
        by_name = {a.candidate.name: a for a in store.attempts()}
    assert set(by_name) == {"Eve Speaker", "Tom Typist", "Rita Reload"}
    assert by_name["Eve Speaker"].answer_mode == "audio" and by_name["Eve Speaker"].status == "scored"
    spoken = by_name["Eve Speaker"].transcript
    assert (
        spoken.original is not None and "chain rule" in spoken.text and "chain rule" not in spoken.heard.text
    )
    assert by_name["Tom Typist"].answer_mode == "typed" and by_name["Tom Typist"].transcript is None
    assert by_name["Eve Speaker"].session_id != by_name["Tom Typist"].session_id
