"""The app served on a free local port, for the tests that drive it in a real browser."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
