"""Work that outlives the page run that started it: one background job per key, watched by whoever asks.

A Streamlit run is stopped by any click or reload in its browser tab, so work done inside it (judging an
answer) would be cut short and started again from nothing on the next run. `Jobs.run(key, work)` starts
`work(job)` on a daemon thread instead, unless a job with that key is already running, in which case that
job is returned: however many runs ask, the work is done once. The work reports its stage and progress
on its `Job` (`set_stage`, `set_progress`), and a run shows them (`report`) until it is done (`wait`,
`result`). Thread-safe: one `Jobs` per process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

S = TypeVar("S", bound=str)  # the stage names the work reports
P = TypeVar("P")  # what it reports as progress within a stage
R = TypeVar("R")  # its result


@dataclass(frozen=True)
class Report(Generic[S, P]):
    """What a job has reported so far: every stage begun, in order, and the progress of the last one."""

    stages: tuple[S, ...] = ()
    progress: P | None = None


class Job(Generic[S, P, R]):
    """One piece of work running in the background: what it reports, then its result or its exception."""

    def __init__(self, key: str):
        self.key = key
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._report: Report[S, P] = Report()
        self._result: R | None = None
        self._error: BaseException | None = None

    # called by the work, on its thread

    def set_stage(self, name: S) -> None:
        """A new stage has begun; the last stage's progress no longer applies."""
        with self._lock:
            self._report = Report((*self._report.stages, name), None)

    def set_progress(self, value: P) -> None:
        with self._lock:
            self._report = Report(self._report.stages, value)

    # called by whoever watches

    def report(self) -> Report[S, P]:
        """The stages and progress so far, read together (a progress belongs to the last stage in it)."""
        with self._lock:
            return self._report

    def wait(self, timeout: float | None = None) -> bool:
        """True once the work has returned or raised; False if `timeout` seconds passed first."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def result(self) -> R:
        """What the work returned; raises what it raised; RuntimeError while it is still running."""
        if not self._done.is_set():
            raise RuntimeError(f"Job {self.key} is still running.")
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]  # set whenever there is no error

    def start(self, work: Callable[[Job[S, P, R]], R], *, then: Callable[[], None] | None = None) -> None:
        """`work(self)` on a daemon thread (a server stopping does not wait for it); `then()` once this job
        is done, whether the work returned or raised."""
        threading.Thread(target=self._work, args=(work, then), name=f"job-{self.key}", daemon=True).start()

    def _work(self, work: Callable[[Job[S, P, R]], R], then: Callable[[], None] | None) -> None:
        try:
            result = work(self)
        except BaseException as exc:  # handed to whoever watches
            self._result, self._error = None, exc
        else:
            self._result, self._error = result, None
        finally:
            self._done.set()
            if then is not None:
                then()


class Jobs:
    """The running jobs, by key. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, Job[Any, Any, Any]] = {}

    def get(self, key: str) -> Job[Any, Any, Any] | None:
        """The job running under `key`, or None (a finished job is only its watchers' to read)."""
        with self._lock:
            job = self._running.get(key)
        return None if job is None or job.done else job

    def run(self, key: str, work: Callable[[Job[S, P, R]], R]) -> Job[S, P, R]:
        """`work(job)` on a daemon thread, unless a job under `key` is still running: then that job, and
        `work` is not started."""
        with self._lock:
            running = self._running.get(key)
            if running is not None and not running.done:
                return running
            job: Job[S, P, R] = Job(key)
            self._running[key] = job
        # A daemon: a server stopping does not wait for an answer being judged (it was saved first, and
        # is judged again when its page next opens).
        job.start(_logged(work), then=lambda: self._forget(job))
        return job

    def _forget(self, job: Job[Any, Any, Any]) -> None:
        # Only now, after the work returned (and the job is done, which `get` and `run` go by too): the
        # work saves what it did (the attempt's score) before returning, so whoever finds no job under
        # this key and reads the store sees it saved. Gone any sooner, a page could find neither the job
        # nor the score, and start the work again.
        with self._lock:
            if self._running.get(job.key) is job:
                del self._running[job.key]


def _logged(work: Callable[[Job[S, P, R]], R]) -> Callable[[Job[S, P, R]], R]:
    """`work`, with what it raises logged too, in case nobody watches its job any more."""

    def run(job: Job[S, P, R]) -> R:
        try:
            return work(job)
        except BaseException:
            log.exception("job %s failed", job.key)
            raise

    return run
