"""Forgetting history really removes it: rows deleted, mixed blocks written again without
the forgotten events, the file compacted and the -wal emptied, so a unique payload string
is found in the journal's bytes before and nowhere after."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest

from pgwatch_gui.core.journal.blocks import insert_events
from pgwatch_gui.core.journal.forget import aside_files, forget_file
from pgwatch_gui.core.journal.reader import JournalReader
from pgwatch_gui.core.journal.store import Retention, open_journal
from pgwatch_gui.core.journal.writer import JournalWriter
from pgwatch_gui.core.stream.events import KIND_GAP, Event, new_event


def on_disk(path) -> bytes:
    """The journal's bytes as another user would read them: the file and its sidecars."""
    out = b""
    for suffix in ("", "-wal", "-shm"):
        p = path.with_name(path.name + suffix)
        if p.exists():
            out += p.read_bytes()
    return out


def read_all(path) -> list[Event]:
    with JournalReader(path) as r:
        return list(r.events())


@pytest.fixture
def jpath(tmp_path):
    return tmp_path / "journal.sqlite3"


def marked(n, marker, profile="shop", t0=None, step=0.001):
    t0 = time.time() if t0 is None else t0
    return [new_event(i, t0 + i * step, profile, "orders", 7,
                      f'{{"secret": "{marker}-{i}", "pad": "{"x" * 50}"}}')
            for i in range(n)]


def test_forget_all_in_the_running_writer_leaves_no_payload_byte(jpath):
    marker = f"SECRET-{uuid.uuid4().hex}"
    w = JournalWriter(jpath, retention=Retention(max_age=1e12)).start()
    try:
        w.submit(marked(3000, marker))  # a busy batch: stored as plain text
        assert w.flush(10)
        assert marker.encode() in on_disk(jpath)  # the test would see them
        done = w.forget(everything=True).result(20)
        assert done.events == 3000 and done.wal_emptied
        assert marker.encode() not in on_disk(jpath)
        assert jpath.with_name(jpath.name + "-wal").stat().st_size == 0
        assert done.bytes_after < done.bytes_before
        assert "Removed 3,000 events (every connection)" in done.line()
        # The writer goes on writing after it.
        w.submit([new_event(1, time.time(), "shop", "orders", 1, "after")])
        assert w.flush(10)
    finally:
        w.close()
    assert [e.payload for e in read_all(jpath)] == ["after"]


def test_what_is_queued_when_asked_is_forgotten_too(jpath):
    """The writer writes its queue first, then forgets: nothing received before the
    question comes back afterwards."""
    marker = f"QUEUED-{uuid.uuid4().hex}"
    w = JournalWriter(jpath, interval=5.0).start()  # a slow writer: the batch waits
    try:
        w.submit(marked(10, marker))
        done = w.forget(everything=True).result(20)
        assert done.events == 10
        assert w.flush(10)
    finally:
        w.close()
    assert read_all(jpath) == []
    assert marker.encode() not in on_disk(jpath)


def test_one_connection_out_of_mixed_blocks(jpath):
    gone, kept = f"GONE-{uuid.uuid4().hex}", f"KEPT-{uuid.uuid4().hex}"
    t0 = time.time()
    mixed = []
    for i in range(200):  # one write that mixes two connections: profile NULL blocks
        mixed += marked(1, gone, "sales", t0 + i)
        mixed += marked(1, kept, "shop", t0 + i + 0.5)
    mixed[5] = Event(0, t0 + 3, "shop", "", 0, "connection lost", kind=KIND_GAP)
    mixed[7] = new_event(0, t0 + 4, "shop", "orders", 1, f"{kept}-own", own=True)
    conn, _ = open_journal(jpath)
    insert_events(conn, mixed, compress=False)
    conn.close()
    before = [e for e in read_all(jpath) if e.profile == "shop"]
    done = forget_file(jpath, profile="sales")
    assert done.events == 200 and done.rewritten >= 1
    data = on_disk(jpath)
    assert gone.encode() not in data
    after = read_all(jpath)
    assert [(e.received_at, e.profile, e.payload, e.kind, e.own) for e in after] == \
        [(e.received_at, e.profile, e.payload, e.kind, e.own) for e in before]


def test_before_a_time_splits_the_block_that_straddles_it(jpath):
    t0 = 1_000_000.0
    old, new = f"OLD-{uuid.uuid4().hex}", f"NEW-{uuid.uuid4().hex}"
    conn, _ = open_journal(jpath)
    insert_events(conn, marked(100, old, t0=t0, step=1) + marked(100, new, t0=t0 + 100,
                                                                    step=1), compress=False)
    insert_events(conn, marked(50, new, t0=t0 + 500, step=1), compress=False)
    conn.close()
    done = forget_file(jpath, before=t0 + 100)
    assert done.events == 100
    assert old.encode() not in on_disk(jpath)
    left = read_all(jpath)
    assert len(left) == 150 and all(e.received_at >= t0 + 100 for e in left)


def test_forget_everything_deletes_journals_moved_aside(jpath):
    conn, _ = open_journal(jpath)
    insert_events(conn, marked(5, "x"))
    conn.close()
    for name in ("journal.sqlite3.bad-20260101-000000", "journal.sqlite3.bad-20260101-000000-wal",
                 "journal.sqlite3.newer-20260102-000000"):
        (jpath.parent / name).write_bytes(b"old payloads")
    kept = forget_file(jpath, profile="shop")
    assert len(aside_files(jpath)) == 3 and kept.removed_files == []
    done = forget_file(jpath, everything=True)
    assert aside_files(jpath) == []
    assert {p.name for p in done.removed_files} == {"journal.sqlite3.bad-20260101-000000",
                                                    "journal.sqlite3.newer-20260102-000000"}


def test_forget_while_another_program_writes(jpath):
    """The CLI forgets while a window's writer keeps writing: SQLite's locks order them."""
    w = JournalWriter(jpath).start()
    try:
        w.submit(marked(500, "early", t0=time.time() - 60))
        assert w.flush(10)
        done = forget_file(jpath, before=time.time() - 30)
        w.submit(marked(5, "late"))
        assert w.flush(10)
    finally:
        w.close()
    assert done.events == 500
    assert [e.payload.split('"')[3] for e in read_all(jpath)] == [f"late-{i}" for i in range(5)]


def test_a_damaged_block_that_may_hold_them_is_deleted(jpath):
    conn, _ = open_journal(jpath)
    insert_events(conn, marked(3, "a", profile="a") + marked(3, "b", profile="b"))
    conn.execute("UPDATE blocks SET meta = x'00'")
    conn.close()
    done = forget_file(jpath, profile="a")
    assert done.damaged == 1
    with sqlite3.connect(jpath) as c:
        assert c.execute("SELECT count(*) FROM blocks").fetchone()[0] == 0
