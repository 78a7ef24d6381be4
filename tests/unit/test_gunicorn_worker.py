"""The gunicorn worker's pool lends a thread while one of its threads waits on a run."""

from __future__ import annotations

import threading

from src.flask_app.gunicorn_worker import CompensatingThreadPool

WAIT = 30  # a bound on waiting for events, never an assertion on speed


def test_a_waiting_thread_does_not_hold_the_pool() -> None:
    pool = CompensatingThreadPool(1)
    release = threading.Event()

    def wait_on_run() -> str:
        with pool.waiting():
            release.wait(WAIT)
        return "run"

    try:
        slow = pool.submit(wait_on_run)
        quick = pool.submit(lambda: "health")
        assert quick.result(WAIT) == "health"
        assert not slow.done()
    finally:
        release.set()
    assert slow.result(WAIT) == "run"
    pool.shutdown()


def test_without_a_wait_hint_the_pool_keeps_its_size() -> None:
    pool = CompensatingThreadPool(1)
    release = threading.Event()
    slow = pool.submit(lambda: release.wait(WAIT))
    queued = pool.submit(lambda: "after")
    try:
        assert not queued.done()  # one thread, busy: the second task waits for it
    finally:
        release.set()
    assert slow.result(WAIT) is True and queued.result(WAIT) == "after"
    pool.shutdown()


def test_an_exception_reaches_the_future() -> None:
    pool = CompensatingThreadPool(2)

    def fail() -> None:
        raise ValueError("boom")

    error = pool.submit(fail).exception(WAIT)
    assert isinstance(error, ValueError)
    pool.shutdown()
