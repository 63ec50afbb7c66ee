"""Logins on, in real headless Chromium: two candidates and a coach see exactly what their roles allow.

The app is started with PRACTICE_REQUIRE_LOGIN=1 on a database seeded beforehand through the store (typed
answers, so no model is loaded): candidates Ana and Bob and an unassigned one, Dan, with an attempt each,
and the coach Cleo, assigned Ana and Bob. Ana and Bob log in in two browser contexts at the same time and
each sees only their own attempt on Review and Progress; Cleo sees both of hers and not Dan. Screenshots
go to test-artifacts/.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from practice.bank import load_bank
from practice.scoring.coverage import CoverageScorer
from practice.storage import Accounts, open_store
from tests.appserver import running_app
from tests.conftest import BANK, FakeEmbedder, write
from tests.test_e2e_browser import ARTIFACTS, CHROMIUM

pytestmark = pytest.mark.models  # a real browser and app server: with the slow tests, not the fast suite
playwright = pytest.importorskip("playwright.sync_api")

PASSWORD = "correct horse battery"
SAID = {  # what each candidate answered: words nobody else's page may show
    "Ana Lopez": ("validation-set", "held out from training anaword"),
    "Bob Stone": ("overfitting", "memorises noise bobword"),
    "Dan Unassigned": ("test-set", "unbiased final estimate danword"),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app with logins on, on a database holding the three candidates' attempts and four accounts."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("e2e-accounts")
    write(tmp / "bank" / "mine.yaml", BANK)
    db = tmp / "data" / "practice.db"
    db.parent.mkdir()
    bank = load_bank(tmp / "bank")
    scorer = CoverageScorer(FakeEmbedder())
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # the server rehashes at login
    with open_store(f"sqlite:///{db}") as store:
        for name, (question_id, text) in SAID.items():
            question = bank.get(question_id)
            when = datetime.now(UTC) - timedelta(days=1)
            attempt = store.add_attempt(
                name, question, answer_mode="typed", answer_text=text, created_at=when
            )
            store.set_result(attempt.id, scorer.score(question, text))
        accounts = Accounts(store, hasher=cheap)
        for name in SAID:
            accounts.add_user(name, "candidate", PASSWORD)
        accounts.add_user("Cleo", "coach", PASSWORD)
        accounts.assign("Cleo", "Ana Lopez")
        accounts.assign("Cleo", "Bob Stone")
    env = {
        **os.environ,
        "PRACTICE_REQUIRE_LOGIN": "1",
        "PRACTICE_BANK_DIR": str(tmp / "bank"),
        "PRACTICE_DATA_DIR": str(tmp / "data"),
        "PRACTICE_CACHE_DIR": str(tmp / "cache"),
        "PRACTICE_COACH_BANK": str(tmp / "coach-questions.yaml"),
        "HF_HUB_OFFLINE": "1",
    }
    with running_app(env, ARTIFACTS / "e2e-accounts-server.log") as url:
        yield url


def log_in(page, name: str) -> None:
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for(timeout=60_000)


def open_page(page, title: str, heading: str) -> None:
    page.get_by_role("link", name=title).click()
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)


def nav_links(page) -> list[str]:
    """The page names in the sidebar's navigation (each link also holds its icon)."""
    return [t.split("\n")[-1].strip() for t in page.locator("[data-testid=stSidebarNav] a").all_inner_texts()]


def candidate_options(page) -> list[str]:
    """The options of the Candidate box, as the browser lists them when it is opened."""
    page.get_by_test_id("stSelectbox").filter(has_text="Candidate").first.click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return [o.strip() for o in options]


def seen(page) -> str:
    """Everything the browser holds for the page: its text, attributes and the table's cells."""
    return page.content()


def test_two_candidates_and_a_coach_see_exactly_what_their_roles_allow(served):
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        ana, bob, cleo = (
            browser.new_context(viewport={"width": 1280, "height": 1400}).new_page() for _ in range(3)
        )
        ana.goto(f"{served}/review")  # nobody logged in: the login form and nothing else, at any address
        bob.goto(served)
        for page in (ana, bob):
            page.get_by_role("button", name="Log in").wait_for(timeout=60_000)
            assert "anaword" not in seen(page) and nav_links(page) == []
        log_in(ana, "Ana Lopez")
        ana.get_by_role("heading", name="Review attempts").wait_for(timeout=60_000)  # the page linked to
        log_in(bob, "Bob Stone")
        for page in (ana, bob):
            assert nav_links(page) == ["Practice", "Quick-fire", "Review", "Progress", "My data"]
        for page, name in ((ana, "Ana Lopez"), (bob, "Bob Stone")):
            question_id, _ = SAID[name]
            open_page(page, "Review", "Review attempts")
            page.get_by_role("heading", name=f"{name} · {question_id}").wait_for(timeout=60_000)
            mine = SAID[name][1].split()[-1]
            page.get_by_text(mine).first.wait_for(timeout=30_000)  # the page is streamed in: all of it
            assert candidate_options(page) == ["All", name]
            html = seen(page)
            others = [said.split()[-1] for other, (_, said) in SAID.items() if other != name]
            assert mine in html and not any(word in html for word in others), name
            assert not any(other in html for other in SAID if other != name), name
            assert page.get_by_role("button", name="Save review").count() == 0  # reads notes, adds none
            page.screenshot(
                path=ARTIFACTS / f"e2e-accounts-review-{name.split()[0].lower()}.png", full_page=True
            )
            open_page(page, "Progress", "Progress")
            page.get_by_text("Average coverage").wait_for(timeout=60_000)
            html = seen(page)
            assert not any(other in html for other in SAID if other != name), name

        cleo.goto(served)
        log_in(cleo, "Cleo")
        assert nav_links(cleo) == ["Review", "Progress", "Questions"]
        open_page(cleo, "Review", "Review attempts")
        cleo.get_by_text("2 attempt(s)").wait_for(timeout=60_000)
        assert candidate_options(cleo) == ["All", "Ana Lopez", "Bob Stone"]
        html = seen(cleo)
        assert "Dan Unassigned" not in html and "danword" not in html
        cleo.get_by_role("button", name="Save review").wait_for(timeout=30_000)  # she reviews them
        cleo.screenshot(path=ARTIFACTS / "e2e-accounts-review-coach.png", full_page=True)

        bob.get_by_role("button", name="Log out").click()
        bob.get_by_role("button", name="Log in").wait_for(timeout=60_000)
        assert "bobword" not in seen(bob) and nav_links(bob) == []
        browser.close()
