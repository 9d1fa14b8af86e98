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
