from __future__ import annotations

import asyncio
import gc

import pytest


@pytest.fixture(autouse=True)
def _collect_in_the_main_thread():
    """After each UI test, collect its garbage here, in the main thread.

    A closed qasync loop keeps Qt timers registered until they fire (a cancelled sleep,
    a wait_for timeout); if Python's collector frees the loop's timer object later from a
    worker thread (asyncio.to_thread, an executor), ~QObject cannot unregister them and
    the next one to fire crashes the process (seen as a segfault in activateTimers).
    """
    yield
    gc.collect()


def _test_loop_class():
    import qasync

    class TestLoop(qasync.QSelectorEventLoop):
        """qasync's loop, but its last processEvents() runs with the loop still current.

        run_until_complete() ends with one more processEvents() after run_forever() has
        cleared the running loop, so a task step that Qt dispatches there runs without
        one: psycopg's waits then fail half-way and leave a connection busy ("another
        command is already in progress"). The app never meets this (its loop runs for its
        whole life); tests that drive the loop in pieces did, intermittently.
        """

        def run_forever(self):
            try:
                return super().run_forever()
            finally:
                asyncio.events._set_running_loop(self)

        def run_until_complete(self, future):
            try:
                return super().run_until_complete(future)
            finally:
                asyncio.events._set_running_loop(None)

    return TestLoop


@pytest.fixture
def qloop(qapp):
    """A qasync QSelectorEventLoop over the test's QApplication (what the app itself runs)."""
    loop = _test_loop_class()(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    finally:
        loop.close()
        asyncio.set_event_loop(None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """When the test body is done, its tasks end inside the loop.

    pytest-qt processes Qt events right after the test, outside the asyncio loop; a task
    still running (a listener, a refresh started by the test's last click) would be
    stepped there with no running loop and fail ("no running event loop"), which the
    loop-error guard would then blame on the test.
    """
    result = yield
    loop = item.funcargs.get("qloop") if hasattr(item, "funcargs") else None
    if loop is not None and not loop.is_closed():
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=5))
    return result
