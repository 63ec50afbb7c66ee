from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import practice.scoring as scoring
from practice.cli import main
from practice.scoring import CoverageScorer
from tests.conftest import BANK, FakeEmbedder, write


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def bank_dir(tmp_path):
    write(tmp_path / "bank" / "mine.yaml", BANK)
    return tmp_path / "bank"


@pytest.fixture
def fake_scorer():
    with scoring.scorer_in_use(CoverageScorer(FakeEmbedder())):
        yield


def test_bank_check_passes_on_the_shipped_bank(runner):
    result = runner.invoke(main, ["bank", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ")


def test_bank_check_reports_every_problem_and_exits_2(runner, tmp_path):
    write(tmp_path / "a.yaml", BANK.replace("level: basic", "level: hard"))
    write(tmp_path / "b.yaml", "track: [")
    result = runner.invoke(main, ["bank", "check", str(tmp_path)])
    assert result.exit_code == 2
    assert "a.yaml: question 'validation-set': field 'level'" in result.stderr
    assert "b.yaml line 1: not valid YAML" in result.stderr
    assert "Traceback" not in result.output


def test_bank_list_filters_and_prints_json(runner):
    result = runner.invoke(main, ["bank", "list", "--track", "ml-scenarios", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert rows and {r["track"] for r in rows} == {"ml-scenarios"}
    assert set(rows[0]) >= {"id", "level", "topic", "question", "key_points"}


def test_bank_list_by_level(runner):
    result = runner.invoke(main, ["bank", "list", "--level", "expert"])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines and all(" expert " in line for line in lines)


def test_bank_list_unknown_track(runner):
    result = runner.invoke(main, ["bank", "list", "--track", "nope"])
    assert result.exit_code == 2
    assert "Unknown track 'nope'" in result.stderr


def test_bank_env_var_is_used(runner, bank_dir, monkeypatch):
    monkeypatch.setenv("PRACTICE_BANK_DIR", str(bank_dir))
    result = runner.invoke(main, ["bank", "list", "--json"])
    assert [r["id"] for r in json.loads(result.stdout)] == [
        "validation-set",
        "overfitting",
        "test-set",
        "attention",
    ]


def test_score_json(runner, bank_dir, fake_scorer):
    answer = "it is data held out from training that we use to tune hyperparameters and choose models"
    result = runner.invoke(
        main, ["score", "--bank", str(bank_dir), "--question", "validation-set", "--text", answer, "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["question_id"] == "validation-set"
    assert 0 <= data["coverage"] <= 100
    assert [k["status"] for k in data["key_points"]][:2] == ["covered", "covered"]
    assert data["key_points"][0]["evidence"]["text"] in answer


def test_score_readable_report_from_file(runner, bank_dir, fake_scorer, tmp_path):
    answer_file = write(tmp_path / "answer.txt", "data held out from training")
    result = runner.invoke(
        main,
        ["score", "--bank", str(bank_dir), "--question", "validation-set", "--text-file", str(answer_file)],
    )
    assert result.exit_code == 0
    assert "Coverage:" in result.stdout
    assert "[x] covered  Data held out from training" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--question", "validation-sets", "--text", "x"],
            "No question with id 'validation-sets' in the bank; did you mean validation-set?",
        ),
        (["--question", "validation-set", "--text", "   "], "The answer is empty"),
        (["--question", "validation-set", "--text", "um uh"], "The answer has no words to score."),
        (
            ["--question", "validation-set", "--text-file", "/nonexistent/answer.txt"],
            "Cannot read the answer file",
        ),
        (["--question", "validation-set"], "exactly one of --text, --text-file or --audio"),
        (
            ["--question", "validation-set", "--text", "a", "--text-file", "b"],
            "exactly one of --text, --text-file or --audio",
        ),
        (["--question", "validation-set", "--text", "a", "--audio", "b.wav"], "exactly one of"),
    ],
)
def test_score_bad_input_is_one_line_and_exit_2(runner, bank_dir, fake_scorer, args, message):
    result = runner.invoke(main, ["score", "--bank", str(bank_dir), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_score_with_an_invalid_bank(runner, tmp_path):
    write(tmp_path / "bad.yaml", "track: x\ntitle: X\nquestions: []\n")
    result = runner.invoke(main, ["score", "--bank", str(tmp_path), "--question", "q", "--text", "a"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Invalid question bank:")


def test_score_binary_answer_file(runner, bank_dir, fake_scorer, tmp_path):
    bad = tmp_path / "answer.bin"
    bad.write_bytes(b"\xff\xfe\xfa\x00")
    result = runner.invoke(
        main, ["score", "--bank", str(bank_dir), "--question", "validation-set", "--text-file", str(bad)]
    )
    assert result.exit_code == 2
    assert "Cannot read the answer file" in result.stderr


QID = "sce-cnn-vs-transformer-image-task"


def test_speak_writes_a_wav(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("PRACTICE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "q.wav"
    result = runner.invoke(main, ["speak", "--question", "sce-cnn-vs-transformer-image-task", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"RIFF"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--question", "nope", "-o", "x.wav"], "No question with id 'nope'"),
        (["--question", QID, "-o", "x.wav", "--voice", "zz-none"], "Unknown voice"),
        (["--question", QID, "-o", "/nonexistent/dir/x.wav"], "Cannot write"),
    ],
)
def test_speak_errors(runner, tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("PRACTICE_CACHE_DIR", str(tmp_path / "cache"))
    result = runner.invoke(main, ["speak", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_voices_lists_some(runner):
    result = runner.invoke(main, ["voices"])
    assert result.exit_code == 0 and "en" in result.stdout


def test_bad_recordings_are_one_line_and_exit_2(runner, bank_dir, fake_scorer, tmp_path):
    empty = tmp_path / "empty.webm"
    empty.write_bytes(b"")
    not_audio = write(tmp_path / "notes.wav", "these are notes, not a recording\n" * 20)
    cases = [
        (["transcribe", str(empty)], "The recording is empty"),
        (["transcribe", str(not_audio)], "not audio that can be read"),
        (["transcribe", str(tmp_path / "missing.wav")], "Could not read"),
        (["score", "--bank", str(bank_dir), "--question", "validation-set", "--audio", str(empty)], "empty"),
    ]
    for args, message in cases:
        result = runner.invoke(main, args)
        assert result.exit_code == 2, args
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output


@pytest.mark.models
def test_transcribe_json_has_word_times_and_delivery(runner, tmp_path):
    from practice.speech_out import synthesize

    wav = tmp_path / "answer.wav"
    wav.write_bytes(synthesize("A validation set is held out from training to tune hyperparameters."))
    result = runner.invoke(main, ["transcribe", str(wav), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "validation" in data["text"].lower() and data["model"] == "tiny.en"
    assert data["words"][0]["start"] < data["words"][-1]["end"] <= data["duration"] + 0.5
    assert data["delivery"]["word_count"] == len(data["words"])


@pytest.mark.models
def test_score_audio_adds_transcript_and_delivery(runner, bank_dir, tmp_path):
    from practice.speech_out import synthesize

    wav = tmp_path / "answer.wav"
    wav.write_bytes(
        synthesize(
            "A validation set is data held out from training. We use it to tune hyperparameters and to "
            "choose between models, and it estimates how the model does on data it has not seen."
        )
    )
    args = ["score", "--bank", str(bank_dir), "--question", "validation-set", "--audio", str(wav)]
    result = runner.invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["coverage"] >= 60
    assert data["transcript"]["words"] and data["delivery"]["wpm"] > 100
    assert any(point["said_at"] is not None for point in data["key_points"])
    readable = runner.invoke(main, args)
    assert "Transcript (0:" in readable.stdout and "Delivery:" in readable.stdout


# --- accounts (practice users ...), export-candidate and delete-candidate ----------------------------------

PASSWORD = "correct horse battery"


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    """The app's database for the account commands: PRACTICE_DATABASE_URL, as on a shared server."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    monkeypatch.setenv("PRACTICE_DATABASE_URL", url)
    return url


def _accounts(url):
    from practice.storage import Accounts, open_store

    store = open_store(url)
    return store, Accounts(store)


def _add(runner, name, role, password=PASSWORD):
    result = runner.invoke(main, ["users", "add", name, "--role", role], input=f"{password}\n")
    assert result.exit_code == 0, result.output
    return result


def test_users_add_reads_the_password_from_standard_input_and_never_prints_it(runner, db_url):
    result = _add(runner, "Ana Lopez", "candidate")
    assert result.stderr == "Added Ana Lopez (candidate).\n"
    assert PASSWORD not in result.output
    store, accounts = _accounts(db_url)
    with store:
        assert accounts.authenticate("ana lopez", PASSWORD).role == "candidate"


@pytest.mark.parametrize(
    "args",
    [
        ["users", "add", "Bob", "--role", "coach", "--password", PASSWORD],
        ["users", "add", "Bob", PASSWORD, "--role", "coach"],
        ["users", "passwd", "Bob", PASSWORD],
    ],
)
def test_a_password_is_never_taken_from_the_command_line(runner, db_url, args):
    result = runner.invoke(main, args, input=f"{PASSWORD}\n")
    assert result.exit_code == 2
    assert "No such option" in result.stderr or "unexpected extra argument" in result.stderr
    store, accounts = _accounts(db_url)
    with store:
        assert accounts.users() == []


def test_users_add_on_a_terminal_asks_twice_without_echoing(runner, db_url, monkeypatch):
    from practice.cli import users

    monkeypatch.setattr(users, "_stdin_is_tty", lambda: True)
    result = runner.invoke(
        main, ["users", "add", "Cleo", "--role", "coach"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Password: " in result.output and "Repeat the password: " in result.output
    assert PASSWORD not in result.output

    typo = runner.invoke(main, ["users", "add", "Dan", "--role", "coach"], input=f"{PASSWORD}\n{PASSWORD}x\n")
    assert typo.exit_code != 0 and "do not match" in typo.output
    store, accounts = _accounts(db_url)
    with store:
        assert [u.name for u in accounts.users()] == ["Cleo"]


def test_users_list_shows_names_roles_and_assignments_but_no_hashes(runner, db_url):
    _add(runner, "Ana", "candidate")
    _add(runner, "Cleo", "coach")
    _add(runner, "Root", "admin")
    result = runner.invoke(main, ["users", "assign", "cleo", "ana"])
    assert result.exit_code == 0 and result.stderr == "cleo now reviews ana.\n"
    listed = runner.invoke(main, ["users", "list"])
    assert listed.exit_code == 0
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows == [["Ana", "candidate", "Cleo"], ["Cleo", "coach", "Ana"], ["Root", "admin"]]
    assert "argon2" not in listed.output and "$" not in listed.output


def test_users_passwd_unassign_and_remove(runner, db_url):
    _add(runner, "Ana", "candidate")
    _add(runner, "Cleo", "coach")
    assert runner.invoke(main, ["users", "assign", "Cleo", "Ana"]).exit_code == 0
    changed = runner.invoke(main, ["users", "passwd", "Ana"], input="a brand new password\n")
    assert changed.exit_code == 0 and changed.stderr == "Changed the password of Ana.\n"
    assert runner.invoke(main, ["users", "unassign", "Cleo", "Ana"]).exit_code == 0
    removed = runner.invoke(main, ["users", "remove", "Cleo"])
    assert removed.exit_code == 0 and removed.stderr == "Removed the account of Cleo (coach).\n"
    from practice.storage import AuthenticationError

    store, accounts = _accounts(db_url)
    with store:
        assert [u.name for u in accounts.users()] == ["Ana"]
        assert accounts.authenticate("Ana", "a brand new password").name == "Ana"
        with pytest.raises(AuthenticationError):
            accounts.authenticate("Ana", PASSWORD)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["users", "add", "Ana", "--role", "coach"],
            f"{PASSWORD}\n",
            "Error: There is already a user named Ana.",
        ),
        (["users", "add", "Bob", "--role", "coach"], "short\n", "Error: That password is too short"),
        (["users", "add", "Bob", "--role", "coach"], "", "Error: No password on standard input"),
        (
            ["users", "add", "   ", "--role", "coach"],
            f"{PASSWORD}\n",
            "Error: Enter a name: it cannot be empty.",
        ),
        (["users", "add", "Bob", "--role", "owner"], f"{PASSWORD}\n", "Invalid value for '--role'"),
        (["users", "passwd", "Nobody"], f"{PASSWORD}\n", "Error: No user named Nobody."),
        (["users", "assign", "Ana", "Ana"], "", "Error: Ana is a candidate, not a coach."),
        (["users", "remove", "Nobody"], "", "Error: No user named Nobody."),
        (["export-candidate", "Nobody", "-o", "x.zip"], "", "Error: No candidate named Nobody."),
        (["delete-candidate", "Nobody", "--yes"], "", "Error: No candidate named Nobody."),
    ],
)
def test_account_mistakes_are_one_line_and_exit_2(runner, db_url, args, stdin, message):
    _add(runner, "Ana", "candidate")
    result = runner.invoke(main, args, input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 or "Usage:" in result.stderr
    assert "Traceback" not in result.output and PASSWORD not in result.output


def test_a_broken_database_is_one_line_without_the_password(runner, monkeypatch):
    monkeypatch.setenv("PRACTICE_DATABASE_URL", "postgresql+psycopg://admin:s3cret@127.0.0.1:1/practice")
    result = runner.invoke(main, ["users", "list"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "s3cret" not in result.output


def test_export_and_delete_a_candidate(runner, db_url, tmp_path):
    import zipfile

    from practice.bank import KeyPoint, Question

    _add(runner, "Ana", "candidate")
    store, _ = _accounts(db_url)
    q = Question("q-1", "ml", "basic", "theory", "technical", "Why?", "model answer", (KeyPoint("a point"),))
    with store:
        attempt = store.add_attempt(
            "Ana", q, answer_mode="audio", audio=b"RIFF-recording", audio_mime="audio/wav"
        )
    out = tmp_path / "ana.zip"
    exported = runner.invoke(main, ["export-candidate", "ana", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    with zipfile.ZipFile(out) as zf:
        assert zf.read(f"recordings/{attempt.id}.wav") == b"RIFF-recording"
        assert "candidate.json" in zf.namelist()

    kept = runner.invoke(main, ["delete-candidate", "Ana"], input="n\n")
    assert kept.exit_code == 1  # asked, and not confirmed
    deleted = runner.invoke(main, ["delete-candidate", "Ana", "--yes"])
    assert deleted.exit_code == 0 and deleted.stderr == "Deleted Ana and 1 attempt(s).\n"
    store, accounts = _accounts(db_url)
    with store:
        assert store.attempts() == [] and accounts.users() == []
