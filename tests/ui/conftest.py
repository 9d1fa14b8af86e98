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


@pytest.fixture
def qloop(qapp):
    """A qasync QSelectorEventLoop over the test's QApplication (what the app itself runs)."""
    import qasync

    loop = qasync.QSelectorEventLoop(qapp)
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
