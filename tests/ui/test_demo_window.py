"""`pgwatch-gui --demo`: the window connects to the embedded demo server and rows flow."""

from __future__ import annotations

import asyncio

from pgwatch_gui.ui.main_window import MainWindow


def test_demo_opens_listening_with_events(qloop, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("PGWATCH_DATA_DIR", str(tmp_path / "data"))
    from pgwatch_gui.ui.demo_session import start_demo

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
    ev = window.event_model.event(0)
    assert ev.profile == "Demo" and ev.table == "orders" and ev.op in {"INSERT", "UPDATE"}
