"""`pgwatch-gui --demo`: the window connects to the embedded demo server and rows flow."""

from __future__ import annotations

import asyncio

from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.scratch import scratch_dir


def test_demo_opens_listening_with_events(qloop, qtbot, monkeypatch):
    # Outside pytest's 0700 basetemp: the server runs as another system user under root.
    root = scratch_dir("pgwatch-demo-test-")
    monkeypatch.setenv("PGWATCH_DATA_DIR", root)
    from pgwatch_gui.ui.demo.session import start_demo

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()

    async def main():
        cleanup = await start_demo(window)
        assert cleanup is not None
        try:
            for _ in range(1000):
                if window.event_model.rowCount() >= 2:
                    break
                await asyncio.sleep(0.01)
        finally:
            await cleanup()
            await window.shutdown()

    qloop.run_until_complete(main())
    assert window.event_model.rowCount() >= 2
    from pgwatch_gui.core.demo.session import CHANNELS

    events = [window.event_model.event(i) for i in range(window.event_model.rowCount())]
    assert all(ev.profile == "Demo" and ev.channel in CHANNELS for ev in events)
    # The shop's tables (the hand-written product trigger does not say its table).
    assert {ev.table for ev in events} <= {"orders", "order_items", "customers",
                                           "user_notifications", None}
    assert all(ev.op in {"INSERT", "UPDATE", "DELETE"} for ev in events)
