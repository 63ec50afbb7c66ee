"""End to end in real headless Chromium: one quick-fire round on the bundled models.

The app serves a two-question quick-fire bank. The first question is answered through Chromium's fake
microphone (a WAV espeak-ng made from an answer that touches both questions, since the round's order is
random), the second is typed; the round ends with one score and both answers saved. Screenshots go to
test-artifacts/.
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
QUESTIONS = ("qf-dropout-effect", "qf-output-activation-multiclass")
SPOKEN = (
    "Dropout randomly switches off neurons at each training step, which reduces overfitting. "
    "For many classes the output layer uses softmax, which turns the scores into probabilities."
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("e2e-quickfire")
    shipped = load_bank(None)
    write_bank(
        tmp / "bank" / "e2e.yaml", "e2e-quick", "End to end quick-fire", (shipped.get(i) for i in QUESTIONS)
    )
    mic = tmp / "answer.wav"
    seconds = fake_microphone(mic, SPOKEN)
    env = {
        **os.environ,
        "PRACTICE_BANK_DIR": str(tmp / "bank"),
        "PRACTICE_DATA_DIR": str(tmp / "data"),
        "PRACTICE_CACHE_DIR": str(tmp / "cache"),
        "HF_HUB_OFFLINE": "1",
    }
    with running_app(env, ARTIFACTS / "e2e-quickfire-server.log") as url:
        yield {
            "url": url,
            "mic": mic,
            "seconds": seconds,
            "db": tmp / "data" / "practice.db",
            "bank": shipped,
        }


def test_one_quick_fire_round_spoken_then_typed_ends_with_one_score(served):
    ARTIFACTS.mkdir(exist_ok=True)
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={served['mic']}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_context(viewport={"width": 1280, "height": 1600}).new_page()
        page.goto(served["url"])
        page.get_by_role("link", name="Quick-fire").click()
        page.get_by_role("heading", name="Quick-fire round").wait_for(timeout=60_000)
        page.get_by_role("textbox", name="Your name").fill("Quinn Quick")
        page.get_by_role("button", name="Start the round").click()

        # the first question: read aloud, shown, its clock counting down; answered out loud
        page.get_by_text("Quick-fire 1 of 2").wait_for(timeout=60_000)
        page.wait_for_selector("[data-testid=stAudioInput]", timeout=60_000)
        page.locator("audio").first.wait_for(state="attached", timeout=30_000)
        clock = page.frame_locator("iframe").first.locator("#t")
        playwright.expect(clock).to_contain_text("Time left", timeout=30_000)
        page.screenshot(path=ARTIFACTS / "e2e-quickfire-1-question.png", full_page=True)
        first = page.get_by_role("heading", level=3).first.inner_text()
        page.get_by_role("button", name="Record").click()
        page.wait_for_timeout(int((served["seconds"] - TRAILING_SILENCE + 1.0) * 1000))
        page.get_by_role("button", name="Stop recording").click()
        page.get_by_role("button", name="Submit this answer").click()

        # transcribed and scored, then straight on to the second question, which is typed
        try:
            page.get_by_text("Quick-fire 2 of 2").wait_for(timeout=180_000)
        except playwright.TimeoutError:
            page.screenshot(path=ARTIFACTS / "e2e-quickfire-failed.png", full_page=True)
            raise
        playwright.expect(page.get_by_role("heading", level=3).first).not_to_have_text(first, timeout=60_000)
        second = page.get_by_role("heading", level=3).first.inner_text()
        question = next(q for q in served["bank"] if q.question.strip() == second.strip())
        settled(page)
        page.get_by_role("tab", name="Type").click()
        page.get_by_role("textbox", name="Type your answer").fill(question.model_answer)
        page.get_by_role("button", name="Submit answer").click()

        # one score for the round, and each answer's points
        try:
            page.get_by_role("heading", name="Quick-fire result").wait_for(timeout=120_000)
        except playwright.TimeoutError:
            page.screenshot(path=ARTIFACTS / "e2e-quickfire-failed.png", full_page=True)
            raise
        page.get_by_role("button", name="Start another round").wait_for(timeout=30_000)
        page.screenshot(path=ARTIFACTS / "e2e-quickfire-2-result.png", full_page=True)
        score = int(page.locator("[data-testid=stMetricValue]").first.inner_text().split("/")[0])
        body = page.locator("[data-testid=stMain]").first.inner_text()
        assert "2 of 2 answered" in body and "✅" in body
        assert score >= 50, body
        browser.close()

    with open_store(f"sqlite:///{served['db']}") as store:
        attempts = store.attempts()
    assert sorted(a.answer_mode for a in attempts) == ["audio", "typed"]
    assert all(a.status == "scored" and a.candidate.name == "Quinn Quick" for a in attempts)
    assert len({a.session_id for a in attempts}) == 1
    spoken = next(a for a in attempts if a.answer_mode == "audio")
    heard = spoken.transcript.text.lower()  # Whisper tiny hears "drop out", and varies: two sure words
    assert "overfitting" in heard and "softmax" in heard
