from __future__ import annotations

import asyncio

import pytest


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


@pytest.fixture(autouse=True)
def _collect_qt_garbage_in_the_gui_thread():
    """Cyclic garbage that holds Qt objects must be freed here, in the GUI thread.

    Left to the collector, it is freed wherever the next collection happens to run:
    in a qasync executor thread, or inside pytest-qt's processEvents after the test,
    and the suite then crashed now and then (a segfault in 7 of 10 runs of tests/ui
    on main at f5f3024+; none in 10 with this fixture).
    """
    import gc

    yield
    gc.collect()
