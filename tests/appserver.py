"""The app served on a free local port, for the tests that drive it in a real browser."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import yaml

from practice.bank import Question
from practice.speech_out import synthesize
from tests.audio import encode, wav_samples

ROOT = Path(__file__).resolve().parent.parent
TRAILING_SILENCE = 3.0  # Chromium's fake microphone loops its file: stop recording inside this silence


def write_bank(
    path: Path, track: str, title: str, questions: Iterable[Question], *, level: str | None = None
) -> None:
    """A bank file of `questions` (at `level`, or each at its own) for an app under test to serve."""
    bank = {
        "track": track,
        "title": title,
        "questions": [
            {
                "id": q.id,
                "level": level or q.level,
                "topic": q.topic,
                "kind": q.kind,
                "question": q.question,
                "model_answer": q.model_answer,
                "key_points": [{"text": k.text, "terms": list(k.terms)} for k in q.key_points],
            }
            for q in questions
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(bank, sort_keys=False))


def fake_microphone(path: Path, text: str) -> float:
    """A WAV of espeak-ng saying `text`, after half a second and before TRAILING_SILENCE seconds of
    silence, for --use-file-for-fake-audio-capture; returns its length in seconds."""
    samples, rate = wav_samples(synthesize(text))
    padded = np.concatenate(
        [np.zeros(int(0.5 * rate), np.float32), samples, np.zeros(int(TRAILING_SILENCE * rate), np.float32)]
    )
    path.write_bytes(encode(padded, rate))
    return padded.size / rate


def settled(page, timeout: float = 60_000) -> None:
    """Wait until the page's script run has finished. A form submitted while the run that drew it was
    still going was seen to be dropped (Streamlit's form trigger did not reach the next run), so a test
    acts on a page only once it is drawn, as a person reading it would. The running indicator is no
    guide: it shows only after a run has gone on for a while."""
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(
    env: dict[str, str], log: Path, *, app: Path = ROOT, start_within: float = 60.0, append: bool = False
) -> Iterator[str]:
    """`streamlit run app.py` of the checkout `app` with `env`, its output in `log` (added to it with
    `append`); yields its URL once it answers."""
    log.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{free_port()}"
    with log.open("ab" if append else "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(app / "app.py"), "--server.headless", "true",
             "--server.port", url.rsplit(":", 1)[1], "--server.address", "127.0.0.1"],
            cwd=app,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + start_within
            while True:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the app did not start; see {log}") from None
                    time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
