"""The PDF download buttons on Review (a session) and Progress (a candidate), found by key under AppTest."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from practice.scoring.coverage import CoverageScorer
from practice.storage import open_store
from tests.conftest import FakeEmbedder
from tests.test_app import app, bank, env, seed  # noqa: F401 (the page tests' fixtures: bank, fakes, temp DB)

NAME = "Zoë Ødegaard 😀"
NOTE = "Say *why* <b>early</b> stopping helps"


@pytest.fixture
def deferred(monkeypatch) -> dict[str, tuple[object, str | None]]:
    """What each download button made when clicked would be, by file name: (the callable, its mime type).

    The PDF buttons make their file only when clicked, so the page registers a callable instead of bytes.
    """
    made: dict[str, tuple[object, str | None]] = {}
    real = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        made[file_name or ""] = (data_callable, mimetype)
        return real(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return made


def pdf_button(at: AppTest, key: str):
    return next((b for b in at.get("download_button") if b.key == key), None)


def pdf_text(made, file_name: str) -> tuple[PdfReader, str]:
    make, mime = made[file_name]
    reader = PdfReader(io.BytesIO(make()))
    assert mime == "application/pdf"
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_review_offers_the_chosen_session_as_a_pdf(env, bank, deferred):  # noqa: F811
    when = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
    with open_store() as store:
        session = store.start_session(NAME)
        for i, qid in enumerate(("validation-set", "test-set")):
            question = bank.get(qid)
            a = store.add_attempt(
                NAME,
                question,
                answer_mode="typed",
                answer_text=question.model_answer,
                session_id=session,
                created_at=when + timedelta(minutes=i),
            )
            store.set_result(a.id, CoverageScorer(FakeEmbedder()).score(question, question.model_answer))
        store.save_review(a.id, note=NOTE, author="Sam")
    at = app()
    at.switch_page("views/review.py")
    at = at.run()
    assert not at.exception
    assert pdf_button(at, "export-pdf") is None  # no session chosen: nothing to make a session report of
    at.selectbox[4].set_value(session)  # the Session filter
    at = at.run()
    assert not at.exception
    button = pdf_button(at, "export-pdf")
    assert button is not None and button.label == "Download PDF"
    reader, text = pdf_text(deferred, "zoe-degaard-2025-03-10.pdf")  # named like the other exports
    assert f"Practice session: {NAME}" in text and len(reader.pages) <= 3
    assert bank.get("validation-set").question in text and bank.get("test-set").question in text
    assert "covered: Data held out from training" in text
    assert NOTE in text  # as typed: not Markdown, not HTML


def test_progress_offers_the_candidates_progress_as_a_pdf_with_its_chart(env, bank, deferred):  # noqa: F811
    now = datetime.now(UTC)
    seed(bank, now - timedelta(days=3), name=NAME, answers={"overfitting": "no idea"})
    seed(bank, now - timedelta(days=1), name=NAME, answers={"validation-set": "held out from training"})
    at = app()
    at.switch_page("views/progress.py")
    at = at.run()
    assert not at.exception
    assert pdf_button(at, "progress-pdf").label == "Download PDF"
    reader, text = pdf_text(deferred, "zoe-degaard-progress.pdf")
    assert f"Progress: {NAME}" in text and "Weakest questions" in text and "What is overfitting?" in text
    assert sum(len(page.images) for page in reader.pages) == 1  # coverage over time
