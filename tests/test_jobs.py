"""Background jobs (practice.jobs) with plain threads: one per key while it runs, its reports, result,
exception, and leaving the registry only after its work returned."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable

import pytest

from practice.jobs import Job, Jobs, Report

WAIT = 10  # seconds: a bound for the tests' waits, never reached when the code works


def blocked_work(release: threading.Event, result: str = "done", calls: list[str] | None = None):
    """Work that reports a stage, then waits for `release`, then returns `result`."""

    def work(job: Job[str, int, str]) -> str:
        if calls is not None:
            calls.append(job.key)
        job.set_stage("working")
        assert release.wait(WAIT)
        return result

    return work


def forgotten(job: Job[str, int, str]) -> Callable[[], bool]:
    """Whether, once the caller lets go of `job`, nothing holds it any more (the registry lets go on the
    job's own thread, just after the work returned)."""
    ref = weakref.ref(job)

    def check() -> bool:
        deadline = time.monotonic() + WAIT
        while ref() is not None and time.monotonic() < deadline:
            gc.collect()
            time.sleep(0.01)
        return ref() is None

    return check


def test_a_key_has_one_job_while_it_runs():
    jobs, release, calls = Jobs(), threading.Event(), []
    first = jobs.run("7", blocked_work(release, "first", calls))
    again = jobs.run("7", blocked_work(release, "second", calls))
    other = jobs.run("8", blocked_work(release, "other", calls))
    assert again is first and other is not first
    assert jobs.get("7") is first and jobs.get("8") is other and jobs.get("9") is None
    assert not first.wait(0.05) and not first.done
    with pytest.raises(RuntimeError, match="still running"):
        first.result()
    release.set()
    assert first.wait(WAIT) and other.wait(WAIT)
    assert (first.result(), other.result()) == ("first", "other")
    assert sorted(calls) == ["7", "8"]  # the second work for "7" never ran


def test_stages_and_progress_are_reported_in_order_and_a_new_stage_clears_the_progress():
    jobs, step, stepped = Jobs(), threading.Semaphore(0), threading.Semaphore(0)
    seen: list[Report[str, int]] = []

    def work(job: Job[str, int, None]) -> None:
        reports = (lambda: job.set_stage("one"), lambda: job.set_progress(40), lambda: job.set_stage("two"))
        for report in reports:  # one at a time, each read by the test before the next
            assert step.acquire(timeout=WAIT)
            report()
            stepped.release()

    job = jobs.run("k", work)
    assert job.report() == Report() and job.report().stages == ()
    for _ in range(3):
        step.release()
        assert stepped.acquire(timeout=WAIT)
        seen.append(job.report())
    assert seen == [Report(("one",), None), Report(("one",), 40), Report(("one", "two"), None)]
    assert seen[-1].stages[-1] == "two"
    assert job.wait(WAIT) and job.result() is None  # result() raises what the work raised: nothing here


def test_the_works_exception_is_passed_on_to_whoever_watches():
    jobs = Jobs()

    def fail(_job: Job[str, int, str]) -> str:
        raise ValueError("the model broke")

    job = jobs.run("k", fail)
    assert job.wait(WAIT)
    with pytest.raises(ValueError, match="the model broke") as raised:
        job.result()
    with pytest.raises(ValueError) as again:  # kept for every watcher, not only the first to ask
        job.result()
    assert again.value is raised.value


@pytest.mark.parametrize("fails", [False, True])
def test_a_job_leaves_the_registry_only_after_its_work_returned(fails):
    """Whoever finds no job must find what the work saved: it is saved before the work returns."""
    jobs, release, saved = Jobs(), threading.Event(), []
    seen_while_saving: list[Job[str, int, str] | None] = []

    def work(job: Job[str, int, str]) -> str:
        assert release.wait(WAIT)
        saved.append("score")
        seen_while_saving.append(jobs.get("k"))  # the work's last act: still registered
        if fails:
            raise RuntimeError("after saving")
        return "scored"

    job = jobs.run("k", work)
    release.set()
    assert job.wait(WAIT) and jobs.get("k") is None
    assert seen_while_saving == [job] and saved == ["score"]
    if fails:
        with pytest.raises(RuntimeError, match="after saving"):
            job.result()
    else:
        assert job.result() == "scored"


def test_the_registry_keeps_no_finished_job():
    jobs, release = Jobs(), threading.Event()
    job = jobs.run("k", blocked_work(release))
    is_forgotten = forgotten(job)
    release.set()
    assert job.wait(WAIT) and job.result() == "done"
    del job
    assert is_forgotten()


def test_a_key_whose_job_finished_runs_a_new_job():
    jobs = Jobs()
    first = jobs.run("k", lambda _job: 1)
    assert first.wait(WAIT)
    assert jobs.get("k") is None  # done: not running, even before it has left the registry
    second = jobs.run("k", lambda _job: 2)
    assert second is not first and second.wait(WAIT) and second.result() == 2
    assert first.result() == 1


def test_jobs_run_on_daemon_threads():
    jobs, release, threads = Jobs(), threading.Event(), []

    def work(_job: Job[str, int, None]) -> None:
        threads.append(threading.current_thread())
        assert release.wait(WAIT)

    job = jobs.run("k", work)
    release.set()
    assert job.wait(WAIT)
    assert threads[0] is not threading.main_thread() and threads[0].daemon
