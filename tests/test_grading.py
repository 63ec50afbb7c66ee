"""Batch grading with a fake scorer and recogniser: columns kept, bad rows reported, resume, audio rows."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

import practice.scoring as scoring
from practice import grading, speech_in
from practice.bank import load_bank
from practice.cli import main
from practice.grading import grade_file
from practice.grading_rows import GradingError
from practice.scoring.coverage import CoverageScorer
from tests.audio import encode, tone
from tests.conftest import BANK, FakeEmbedder, FakeTranscriber, write


class DecodingTranscriber(FakeTranscriber):
    """Reads and checks the recording as the real one does, then 'hears' the fixed text."""

    def transcribe(self, audio, limits=speech_in.DEFAULT_LIMITS):
        speech_in.decode(audio, limits)
        return super().transcribe(audio, limits)


class CountingScorer(CoverageScorer):
    def __init__(self, fail_after: int | None = None):
        super().__init__(FakeEmbedder())
        self.answers = 0
        self.fail_after = fail_after

    def score_many(self, items):
        if self.fail_after is not None and self.answers >= self.fail_after:
            raise KeyboardInterrupt  # the coach presses Ctrl-C
        self.answers += len(items)
        return super().score_many(items)


@pytest.fixture
def bank(tmp_path):
    return load_bank(write(tmp_path / "bank" / "mine.yaml", BANK).parent)


def write_csv(path, rows):
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def run(inp, out, bank, scorer=None, transcriber=None, **kw):
    scorer = scorer or CountingScorer()
    return grade_file(
        inp,
        out,
        bank=bank,
        scorer=lambda: scorer,
        transcriber=lambda: transcriber or FakeTranscriber("x"),
        **kw,
    )


def test_typed_csv_keeps_columns_and_reports_bad_rows_by_line(tmp_path, bank):
    inp = write_csv(
        tmp_path / "day.csv",
        [
            {"candidate": "Ada", "question_id": "validation-set", "answer": "data held out from training"},
            {"candidate": "Bob", "question_id": "validaton-set", "answer": "something"},
            {"candidate": "Cy", "question_id": "overfitting", "answer": "   "},
            {"candidate": "Di", "question_id": "test-set", "answer": "um uh"},
        ],
    )
    summary = run(inp, tmp_path / "out.csv", bank)
    assert summary.total == 4 and summary.graded == 4
    errors = [f.error for f in summary.failed]
    assert errors == [
        "line 3: No question with id 'validaton-set' in the bank; did you mean validation-set?",
        "line 4: the answer is empty (give `answer` text or an `audio` path).",
        "line 5: The answer has no words to score.",
    ]
    rows = read_csv(tmp_path / "out.csv")
    assert [r["candidate"] for r in rows] == ["Ada", "Bob", "Cy", "Di"]  # input order, input columns kept
    ada = rows[0]
    assert ada["status"] == "ok" and float(ada["coverage"]) == 50.0 and ada["covered"] == "1"
    points = json.loads(ada["key_points"])
    assert [p["status"] for p in points] == ["covered", "missed"] and ada["transcript"] == ""
    assert rows[1]["status"] == "error" and "did you mean" in rows[1]["error"]


def test_jsonl_with_ad_hoc_questions_and_a_broken_line(tmp_path, bank):
    lines = [
        {
            "question": "What is a p-value?",
            "model_answer": "The chance of data this extreme if the null is true.",
            "answer": "chance of data this extreme when the null is true",
        },
        {
            "question": "Define recall.",
            "model_answer": "Recall is found positives over all positives.",
            "key_points": ["found positives over all positives", "also called sensitivity"],
            "answer": "it is also called sensitivity",
        },
    ]
    text = json.dumps(lines[0]) + "\n\n{not json\n" + json.dumps(lines[1]) + "\n"
    inp = write(tmp_path / "adhoc.jsonl", text)
    summary = run(inp, tmp_path / "out.jsonl", bank)
    assert [f.error.split(":")[0] for f in summary.failed] == ["line 3"]
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["line"] for r in out] == [1, 3, 4]
    first, broken, second = out
    assert len(first["key_points"]) == 1 and first["key_points"][0]["status"] == "covered"  # one sentence
    assert first["question_id"].startswith("adhoc-") and broken["status"] == "error"
    assert [p["status"] for p in second["key_points"]] == ["missed", "covered"]


def test_rerun_skips_graded_rows_retries_failed_and_regrades_changed(tmp_path, bank):
    rows = [{"question_id": "validation-set", "answer": f"data held out from training {i}"} for i in range(5)]
    rows[3]["question_id"] = "nope"
    inp = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "out.csv"
    run(inp, out, bank)
    rows[3]["question_id"] = "overfitting"  # the coach fixes the bad row
    rows[4]["answer"] = "a different answer"  # and edits another
    write_csv(inp, rows)
    scorer = CountingScorer()
    summary = run(inp, out, bank, scorer=scorer)
    assert summary.skipped == 3 and summary.graded == 2 and not summary.failed and scorer.answers == 2
    result = read_csv(out)
    assert len(result) == 5 and {r["status"] for r in result} == {"ok"}
    assert result[4]["answer"] == "a different answer"


def test_an_interrupted_run_keeps_what_was_graded(tmp_path, bank, monkeypatch):
    monkeypatch.setattr(grading, "TYPED_BATCH", 4)
    inp = write_csv(
        tmp_path / "in.csv", [{"question_id": "overfitting", "answer": f"noise {i}"} for i in range(10)]
    )
    out = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        run(inp, out, bank, scorer=CountingScorer(fail_after=4))
    assert len(read_csv(out)) == 4
    scorer = CountingScorer()
    assert run(inp, out, bank, scorer=scorer).skipped == 4 and scorer.answers == 6
    assert [r["line"] for r in read_csv(out)] == [str(i) for i in range(2, 12)]


def test_audio_rows_relative_paths_and_bad_recordings(tmp_path, bank):
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "ada.wav").write_bytes(encode(tone(2.0)))
    (tmp_path / "rec" / "empty.webm").write_bytes(b"")
    inp = write_csv(
        tmp_path / "day.csv",
        [
            {"candidate": "Ada", "question_id": "validation-set", "audio": "rec/ada.wav"},
            {"candidate": "Bob", "question_id": "validation-set", "audio": "rec/empty.webm"},
            {"candidate": "Cy", "question_id": "validation-set", "audio": "rec/missing.wav"},
        ],
    )
    heard = DecodingTranscriber("data held out from training um used to tune hyperparameters")
    summary = run(inp, tmp_path / "out.csv", bank, transcriber=heard)
    rows = read_csv(tmp_path / "out.csv")
    assert rows[0]["status"] == "ok" and rows[0]["transcript"].startswith("data held out")
    assert float(rows[0]["wpm"]) > 0 and rows[0]["fillers"] == "1" and rows[0]["time_to_first_word"] == "0.5"
    assert [f.error for f in summary.failed] == [
        "line 3: The recording is empty: record your answer again.",
        f"line 4: Could not read {tmp_path / 'rec' / 'missing.wav'}: No such file or directory.",
    ]


def test_unusable_files_are_one_sentence(tmp_path, bank):
    with pytest.raises(GradingError, match="use a .csv or .jsonl"):
        run(write(tmp_path / "in.xlsx", "x"), tmp_path / "out.csv", bank)
    with pytest.raises(GradingError, match="Cannot read"):
        run(tmp_path / "missing.csv", tmp_path / "out.csv", bank)
    with pytest.raises(GradingError, match="is empty"):
        run(write(tmp_path / "empty.csv", ""), tmp_path / "out.csv", bank)
    with pytest.raises(GradingError, match="use a .csv or .jsonl"):
        run(write_csv(tmp_path / "in.csv", [{"answer": "x"}]), tmp_path / "out.txt", bank)


def test_cli_grade_exit_status_and_messages(tmp_path, bank, monkeypatch):
    monkeypatch.setattr(speech_in, "Transcriber", lambda *a, **k: FakeTranscriber("x"))
    with scoring.scorer_in_use(CoverageScorer(FakeEmbedder())):
        runner = CliRunner()
        good = write_csv(tmp_path / "good.csv", [{"question_id": "overfitting", "answer": "memorises noise"}])
        args = ["grade", str(good), "-o", str(tmp_path / "out.jsonl"), "--bank", str(tmp_path / "bank")]
        result = runner.invoke(main, args)
        assert result.exit_code == 0 and "Graded 1 of 1 rows" in result.stderr
        bad = write_csv(tmp_path / "bad.csv", [{"question_id": "nope", "answer": "x"}])
        result = runner.invoke(
            main, ["grade", str(bad), "-o", str(tmp_path / "o.csv"), "--bank", str(tmp_path / "bank")]
        )
        assert result.exit_code == 1 and "Failed line 2: No question with id 'nope'" in result.stderr
        result = runner.invoke(main, ["grade", str(tmp_path / "none.csv"), "-o", str(tmp_path / "o.csv")])
        assert result.exit_code == 2 and result.stderr.startswith("Error: Cannot read")
