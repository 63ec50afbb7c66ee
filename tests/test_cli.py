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
def fake_scorer(monkeypatch):
    monkeypatch.setattr(scoring, "_scorer", CoverageScorer(FakeEmbedder()))


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
