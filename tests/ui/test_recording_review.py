"""Open recording, then Resume: the live rows come back exactly, the rows that waited come
after them, and no recorded row stays among them (they used to mix, live rows lost)."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from pgwatch_gui.core.stream.events import new_event
from pgwatch_gui.core.stream.export import EventWriter
from tests.ui.windows import shown_window

SHOTS = os.environ.get("PGWATCH_SHOTS", "/tmp/shots/issue22")


def live(i: int, t: float = 1_800_000_000.0):
    return new_event(i, t + i, "shop", "orders", 10, f'{{"live": {i}}}')


def write_recording(path, n: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = EventWriter(f, "jsonl")
        w.write([new_event(i, 1_700_000_000.0 + i, "archive", "old", 1, f'{{"rec": {i}}}')
                 for i in range(n)])


def test_resume_after_a_recording_restores_the_live_rows_exactly(qtbot, qloop, tmp_path):
    w = shown_window(qtbot, tmp_path, (1280, 720))
    scr, model = w.event_screen, w.event_model
    try:
        model.append_events([live(i) for i in range(5)])
        before = model.all_events()
        path = tmp_path / "rec.jsonl"
        write_recording(path, 3)
        qloop.run_until_complete(scr.open_recording(str(path)))
        assert [e.payload for e in model.all_events()] == [f'{{"rec": {i}}}' for i in range(3)]
        assert model.paused and scr.action_pause.text() == "Resume"
        assert scr.status.counts.text().startswith("3 shown")
        assert "Resume (F8) to go back to the live rows" in w.statusBar().currentMessage()
        model.append_events([live(i) for i in range(5, 8)])  # arrive meanwhile: they wait
        assert model.rowCount() == 3
        os.makedirs(SHOTS, exist_ok=True)
        w.grab().save(os.path.join(SHOTS, "recording-open-1280.png"))
        scr.action_pause.trigger()  # Resume
        assert not model.paused
        after = model.all_events()
        assert after[:5] == before  # the very same Events, in order
        assert [e.payload for e in after[5:]] == [f'{{"live": {i}}}' for i in range(5, 8)]
        assert not any(e.profile == "archive" for e in after)
        assert scr.recording is None and scr.table.follow
    finally:
        qloop.run_until_complete(w.shutdown())


def test_a_recording_opened_with_no_connection_never_mixes_with_later_rows(
        qtbot, qloop, tmp_path):
    w = shown_window(qtbot, tmp_path, (1280, 720))
    scr, model = w.event_screen, w.event_model
    try:
        path = tmp_path / "rec.jsonl"
        write_recording(path, 4)
        qloop.run_until_complete(scr.open_recording(str(path)))
        qloop.run_until_complete(scr.open_recording(str(path)))  # a second one: still one aside
        model.append_events([live(1)])  # a connection opened later delivers
        assert {e.profile for e in model.all_events()} == {"archive"}
        qtbot.keyClick(scr.table, Qt.Key.Key_F8)  # Resume
        assert [e.payload for e in model.all_events()] == ['{"live": 1}']
    finally:
        qloop.run_until_complete(w.shutdown())
