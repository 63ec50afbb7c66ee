"""The practice page as a candidate meets it, timed in real headless Chromium with the fake microphone.

    .venv/bin/python bench/browser.py [--lengths 30 60] [--app DIR] [--json OUT] [--readme bench/README.md]

For each answer length a fresh server is started (so the first answer is a cold one) and Chromium's fake
microphone plays a WAV of the bank question's model answer read by espeak-ng, cut to about that length.
Timed, as the candidate sees them:

* page to something on screen, and to the setup form ("Your name" usable), on the first visit after the
  server starts (cold) and on a second visit (warm);
* Start to the recorder ready (the Record button shown);
* Stop to the full feedback ("Try again" shown), on the first answer after the server started (cold) and
  on the next one (warm). Where the page asks to listen back first, "Submit this answer" is clicked as soon
  as it shows, and the time includes it;
* on a third answer, Submit to the full feedback when the candidate listens back for LISTEN_BACK seconds
  before submitting, as the page asks (the app may use that time);
* whether the recorder said "An error has occurred" after Stop;
* beside them, the command line on the same audio: `practice score --audio` in a new process (models
  loaded on the way) and `assess_audio` with the models already loaded (median of 3).

`--app DIR` times another checkout of this project (e.g. an older commit unpacked with `git archive`) with
this project's venv. Times depend on the machine's load, printed beside them. With --readme, the table
replaces the block between the bench:browser markers in that file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.readme import replace_block, verdict  # noqa: E402
from practice.bank import load_bank  # noqa: E402
from practice.speech_out import synthesize  # noqa: E402
from tests.appserver import running_app, write_bank  # noqa: E402
from tests.audio import encode, wav_samples  # noqa: E402

CHROMIUM = os.environ.get("PRACTICE_CHROMIUM", "/usr/bin/chromium")
QUESTION = "amd-neural-network-in-simple-terms"
LEAD, TAIL = 0.5, 4.0  # seconds of silence before the answer and after it (Stop is pressed in the tail)
RECORDER_ERROR = "An error has occurred"
TIMEOUT_MS = 300_000
LISTEN_BACK = 5.0  # seconds the third answer is listened back to before it is submitted
# The targets on this machine, quiet.
TARGETS = {"on_screen": 1.0, "form": 5.0, "feedback_warm_60": 5.0, "feedback_cold_60": 8.0}


@dataclass
class Run:
    seconds: float  # length of speech recorded (without the silence around it)
    on_screen_cold: float = 0.0
    form_cold: float = 0.0
    on_screen_warm: float = 0.0
    form_warm: float = 0.0
    recorder_ready: float = 0.0
    feedback_cold: float = 0.0
    feedback_warm: float = 0.0
    feedback_listened: float = 0.0  # Submit to feedback, the answer listened back to first
    submit_shown_cold: float | None = None  # Stop to the listen-back Submit button, where there is one
    recorder_errors: int = 0
    cli_cold: float = 0.0
    cli_warm: float = 0.0
    load_before: tuple[float, ...] = ()
    load_after: tuple[float, ...] = ()
    notes: list[str] = field(default_factory=list)


def answer_audio(seconds: float, folder: Path) -> tuple[Path, float]:
    """The model answer's first sentences read by espeak-ng, as close to `seconds` as whole sentences
    allow (at most 3 s over), with silence around it; returns the file and the speech's length."""
    answer = load_bank(None).get(QUESTION).model_answer
    sentences = [s.strip() + "." for s in answer.split(". ") if s.strip()]
    best: tuple[np.ndarray, int] | None = None
    for n in range(1, len(sentences) + 1):
        samples, rate = wav_samples(synthesize(" ".join(sentences[:n])))
        if best is not None and samples.size / rate > seconds + 3:
            break
        best = (samples, rate)
    assert best is not None
    samples, rate = best
    speech = samples.size / rate
    if speech > seconds + 3:  # one sentence too long: cut it
        samples, speech = samples[: int((seconds + 3) * rate)], seconds + 3
    padded = np.concatenate(
        [np.zeros(int(LEAD * rate), np.float32), samples, np.zeros(int(TAIL * rate), np.float32)]
    )
    path = folder / f"answer-{seconds:g}s.wav"
    path.write_bytes(encode(padded, rate))
    return path, speech


def one_question_bank(folder: Path) -> Path:
    write_bank(
        folder / "bank" / "bench.yaml", "bench", "Bench", [load_bank(None).get(QUESTION)], level="basic"
    )
    return folder / "bank"


def open_page(context, url: str) -> tuple[object, float, float]:
    """A new page at `url`: seconds to something on screen, and to the setup form."""
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.locator(
        "[data-testid=stMain] :is(h1, p, label, [data-testid=stSpinner], [data-testid=stStatusWidget])"
    ).first.wait_for(state="visible", timeout=TIMEOUT_MS)
    on_screen = time.perf_counter() - start
    page.get_by_role("textbox", name="Your name").wait_for(state="visible", timeout=TIMEOUT_MS)
    return page, on_screen, time.perf_counter() - start


def record_answer(page, seconds: float, run: Run, *, cold: bool = False, listen: float = 0.0) -> float:
    """Record through the fake microphone; seconds from Stop to the full feedback, or with `listen`
    (seconds listening back before submitting) from Submit to it."""
    page.get_by_role("button", name="Record").click()
    page.wait_for_timeout(int((LEAD + seconds + 1.0) * 1000))
    page.get_by_role("button", name="Stop recording").click()
    stopped = time.perf_counter()
    submit = page.get_by_role("button", name="Submit this answer")
    again = page.get_by_role("button", name="Try again")
    submit.or_(again).first.wait_for(timeout=TIMEOUT_MS)
    if submit.count():
        if cold:
            run.submit_shown_cold = time.perf_counter() - stopped
        page.wait_for_timeout(int(listen * 1000))
        stopped = time.perf_counter() if listen else stopped
        submit.click()
    again.wait_for(timeout=TIMEOUT_MS)
    took = time.perf_counter() - stopped
    run.recorder_errors += page.get_by_text(RECORDER_ERROR).count()
    return took


def browser_run(app: Path, mic: Path, seconds: float, folder: Path, env: dict[str, str], run: Run) -> None:
    from playwright.sync_api import sync_playwright

    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with running_app(env, folder / "server.log", app=app, append=True) as url:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
            context = browser.new_context(viewport={"width": 1280, "height": 1400})
            page, run.on_screen_cold, run.form_cold = open_page(context, url)
            page.get_by_role("textbox", name="Your name").fill("Bench Candidate")
            page.get_by_test_id("stSelectbox").filter(has_text="Level").click()
            page.get_by_role("option", name="basic", exact=True).click()
            page.get_by_role("button", name="Start").click()
            started = time.perf_counter()
            page.get_by_role("button", name="Record").wait_for(timeout=TIMEOUT_MS)
            run.recorder_ready = time.perf_counter() - started
            run.feedback_cold = record_answer(page, seconds, run, cold=True)
            page.get_by_role("button", name="Try again").click()
            page.get_by_role("button", name="Record").wait_for(timeout=TIMEOUT_MS)
            run.feedback_warm = record_answer(page, seconds, run)
            page.screenshot(path=folder / f"feedback-{seconds:.0f}s.png", full_page=True)
            page.get_by_role("button", name="Try again").click()
            page.get_by_role("button", name="Record").wait_for(timeout=TIMEOUT_MS)
            run.feedback_listened = record_answer(page, seconds, run, listen=LISTEN_BACK)
            second, run.on_screen_warm, run.form_warm = open_page(context, url)
            second.close()
            browser.close()


def cli_times(app: Path, mic: Path, env: dict[str, str]) -> tuple[float, float]:
    """`practice score --audio` in a new process, and `assess_audio` warm (median of 3), in `app`'s code."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import sys; from practice.cli import main; main(sys.argv[1:])",
         "score", "--question", QUESTION, "--audio", str(mic)],
        cwd=app, env=env, check=True, capture_output=True,
    )  # fmt: skip
    cold = time.perf_counter() - start
    code = f"""
import statistics, time
from practice.assess import assess_audio
from practice.bank import load_bank
from practice.scoring import default_scorer
from practice.speech_in import default_transcriber
question = load_bank(None).get({QUESTION!r})
data = open({str(mic)!r}, "rb").read()
assess_audio(question, data, transcriber=default_transcriber(), scorer=default_scorer())
times = []
for _ in range(3):
    start = time.perf_counter()
    assess_audio(question, data, transcriber=default_transcriber(), scorer=default_scorer())
    times.append(time.perf_counter() - start)
print(statistics.median(times))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=app, env=env, check=True, capture_output=True)
    return cold, float(out.stdout.decode().strip().splitlines()[-1])


def table(runs: list[Run], label: str) -> str:
    lines = [
        f"{label}; load average (1 min) at the start and end of each run in the last column.",
        "",
        "| answer | page: on screen / form, cold | warm | Start to recorder | Stop to feedback, "
        f"first answer (cold) | next answer (warm) | Submit to feedback, {LISTEN_BACK:g} s listened back | "
        "CLI, new process / models loaded | recorder errors | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        load = f"{r.load_before[0]:.1f} -> {r.load_after[0]:.1f}"
        lines.append(
            f"| {r.seconds:.0f} s | {r.on_screen_cold:.1f} / {r.form_cold:.1f} s | {r.on_screen_warm:.1f} / "
            f"{r.form_warm:.1f} s | {r.recorder_ready:.1f} s | {r.feedback_cold:.1f} s | "
            f"{r.feedback_warm:.1f} s | {r.feedback_listened:.1f} s | "
            f"{r.cli_cold:.1f} / {r.cli_warm:.1f} s | {r.recorder_errors} | {load} |"
        )
    sixty = [r for r in runs if r.seconds >= 45]
    if sixty:
        r, t = sixty[-1], TARGETS
        lines += [
            "",
            f"Targets (a quiet machine): something on screen within {t['on_screen']:g} s "
            f"({r.on_screen_cold:.1f} s cold: {verdict(r.on_screen_cold <= t['on_screen'])}), the form "
            f"within {t['form']:g} s ({r.form_cold:.1f} s: {verdict(r.form_cold <= t['form'])}); "
            f"Stop to feedback for a 60 s answer <= {t['feedback_warm_60']:g} s warm "
            f"({r.feedback_warm:.1f} s: {verdict(r.feedback_warm <= t['feedback_warm_60'])}) and "
            f"<= {t['feedback_cold_60']:g} s on the first answer after a server start "
            f"({r.feedback_cold:.1f} s: {verdict(r.feedback_cold <= t['feedback_cold_60'])}).",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lengths", type=float, nargs="+", default=[30.0, 60.0], help="answer seconds")
    parser.add_argument("--app", type=Path, default=ROOT, help="the checkout to time (default: this one)")
    parser.add_argument("--label", default="", help="what is timed, for the table's first line")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--readme", type=Path, help="replace the bench:browser block of this file")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or PRACTICE_CHROMIUM)")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        folder = Path(tmp)
        bank = one_question_bank(folder)
        for seconds in args.lengths:
            mic, speech = answer_audio(seconds, folder)
            run = Run(seconds=speech, load_before=os.getloadavg())
            data = folder / f"data-{seconds:g}"
            env = {
                **os.environ,
                "PRACTICE_BANK_DIR": str(bank),
                "PRACTICE_DATA_DIR": str(data),
                "PRACTICE_CACHE_DIR": str(folder / "cache"),
                "HF_HUB_OFFLINE": "1",
            }
            browser_run(args.app.resolve(), mic, speech, folder, env, run)
            run.cli_cold, run.cli_warm = cli_times(args.app.resolve(), mic, env)
            run.load_after = os.getloadavg()
            runs.append(run)
            print(json.dumps(asdict(run)), flush=True)
        shots = sorted(folder.glob("*.png"))
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        for shot in [*shots, folder / "server.log"]:
            (artifacts / f"bench-{shot.name}").write_bytes(shot.read_bytes())
    label = args.label or f"`bench/browser.py` on this 2-core machine, {time.strftime('%Y-%m-%d')}"
    text = table(runs, label)
    print(text)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2))
    if args.readme:
        replace_block(args.readme, "browser", text)


if __name__ == "__main__":
    main()
