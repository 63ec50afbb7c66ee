from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_app_loads_the_bank():
    at = AppTest.from_file(APP).run()
    assert not at.exception
    assert "questions in 4 tracks" in at.markdown[0].value


def test_app_explains_an_invalid_bank(tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text("track: [")
    monkeypatch.setenv("PRACTICE_BANK_DIR", str(tmp_path))
    at = AppTest.from_file(APP).run()
    assert not at.exception
    assert "could not be loaded" in at.error[0].value
