"""Batch grading throughput: 1,000 typed answers, and recordings against real time, on this machine.

    .venv/bin/python bench/grading.py [--typed 1000] [--recordings 8] [--readme bench/README.md]

Typed rows are eval answers (eval/answers) drawn at random with replacement; recordings are eval answers
spoken by espeak-ng. Both go through `practice.grading.grade_file`, as `practice grade` does, with the
models loaded before the clock starts (their load time is reported separately).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evalset import load_eval_set  # noqa: E402
from bench.readme import replace_block  # noqa: E402
from practice.bank import load_bank  # noqa: E402
from practice.grading import grade_file  # noqa: E402
from practice.offline import keep_hub_offline  # noqa: E402
from practice.scoring import default_scorer  # noqa: E402
from practice.speech_in import Transcriber  # noqa: E402
from practice.speech_out import synthesize  # noqa: E402


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def seconds_of(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as w:
        return w.getnframes() / w.getframerate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--typed", type=int, default=1000)
    parser.add_argument("--recordings", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args()
    keep_hub_offline()
    bank = load_bank(None)
    answers = load_eval_set(bank)
    rng = random.Random(7)

    started = time.perf_counter()
    scorer = default_scorer()
    scorer.score(answers[0].question, answers[0].answer)
    load_scorer = time.perf_counter() - started
    started = time.perf_counter()
    transcriber = Transcriber(cpu_threads=1 if args.workers > 1 else None, workers=args.workers)
    load_whisper = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def timed(name: str, rows: list[dict[str, str]]) -> float:
            write_rows(folder / f"{name}.csv", rows)
            started = time.perf_counter()
            summary = grade_file(
                folder / f"{name}.csv",
                folder / f"{name}-out.csv",
                bank=bank,
                scorer=lambda: scorer,
                transcriber=lambda: transcriber,
                workers=args.workers,
            )
            assert not summary.failed, summary.failed
            return time.perf_counter() - started

        typed = [rng.choice(answers) for _ in range(args.typed)]
        typed_seconds = timed("typed", [{"question_id": a.question.id, "answer": a.answer} for a in typed])

        spoken = rng.sample([a for a in answers if len(a.answer.split()) > 80], args.recordings)
        audio_seconds = 0.0
        rows = []
        for i, a in enumerate(spoken):
            wav = synthesize(a.answer)
            audio_seconds += seconds_of(wav)
            (folder / f"{i}.wav").write_bytes(wav)
            rows.append({"question_id": a.question.id, "audio": f"{i}.wav"})
        audio_wall = timed("audio", rows)

    load = os.getloadavg()[0]
    table = "\n".join(
        [
            "| batch grading (`practice grade`) | measured | target |",
            "|---|---|---|",
            f"| {args.typed} typed answers | {typed_seconds:.1f} s "
            f"({1000 * typed_seconds / args.typed:.0f} ms per answer) | <= 90 s |",
            f"| {args.recordings} recordings, {audio_seconds:.0f} s of speech, {args.workers} workers, "
            f"tiny.en | {audio_wall:.1f} s = **{audio_seconds / audio_wall:.1f}x real time** | >= 15x |",
            f"| model load before the run (not counted above) | scoring {load_scorer:.1f} s, Whisper "
            f"{load_whisper:.1f} s | |",
            "",
            f"_{os.cpu_count()} cores; load average {load:.1f} at the end of the run._",
        ]
    )
    print(table)
    if args.readme:
        replace_block(args.readme, "grading", table)


if __name__ == "__main__":
    main()
