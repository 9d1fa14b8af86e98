"""The journal on disk: round trip, queries, retention, damaged and newer files, two writers."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from pgwatch_gui.core.filtering.engine import FilterSpec
from pgwatch_gui.core.journal import store
from pgwatch_gui.core.journal.blocks import insert_events
from pgwatch_gui.core.journal.reader import JournalReader
from pgwatch_gui.core.journal.store import (
    FORMAT_VERSION,
    JournalError,
    Retention,
    enforce_retention,
    open_journal,
    used_bytes,
)
from pgwatch_gui.core.journal.writer import JournalWriter
from pgwatch_gui.core.stream.events import KIND_GAP, Event, new_event
from tests.conftest import REPO_ROOT


def env(i: int, *, table="orders", op="UPDATE", ts=None, profile="shop", channel="orders",
        row=None) -> Event:
    payload = json.dumps({"v": 1, "op": op, "schema": "public", "table": table,
                          "key": {"id": i % 10}, "row": row or {"id": i % 10, "n": i}})
    return new_event(i, time.time() if ts is None else ts, profile, channel, 4000 + i, payload)


@pytest.fixture
def jpath(tmp_path):
    return tmp_path / "journal.sqlite3"


def write_all(path, events, **kw) -> JournalWriter:
    kw.setdefault("retention", Retention(max_age=1e12))  # the tests' times are long past
    w = JournalWriter(path, **kw).start()
    for a in range(0, len(events), 100):
        w.submit(events[a:a + 100])
    assert w.flush(20)
    w.close()
    return w


def test_round_trip_keeps_what_was_received(jpath):
    odd = [
        new_event(1, 100.5, "shop", "Order Events", 42, "plain text, not JSON"),
        new_event(2, 101.0, "shop", "orders", 43, "", own=True),
        new_event(3, 102.0, "shop", "orders", 44, "lone \ud800 surrogate \udfff"),
        new_event(4, 103.0, "ünï", "ch", 45, "x" * 7999),
        Event(5, 104.0, "shop", "", 0, "connection lost", kind=KIND_GAP),
    ]
    w = write_all(jpath, odd)
    assert w.written == 5 and w.dropped == 0 and w.error is None
    with JournalReader(jpath) as r:
        back = list(r.events())
    assert [(e.received_at, e.profile, e.channel, e.pid, e.payload, e.kind, e.own, e.size)
            for e in back] == [
        (e.received_at, e.profile, e.channel, e.pid, e.payload, e.kind, e.own, e.size)
        for e in odd]
    assert back[2].size == len("lone \ud800 surrogate \udfff".encode("utf-8", "surrogatepass"))


def test_queries_by_time_profile_limit_and_filter(jpath):
    evs = [env(i, ts=1000.0 + i, profile="shop" if i % 2 else "crm",
               op=("INSERT", "UPDATE", "DELETE")[i % 3]) for i in range(100)]
    evs.insert(51, Event(0, 1050.5, "shop", "", 0, "gap here", kind=KIND_GAP))
    write_all(jpath, evs)
    with JournalReader(jpath) as r:
        assert len(list(r.events())) == 101
        got = list(r.events(since=1010, until=1020))
        assert [e.received_at for e in got] == [1000.0 + i for i in range(10, 20)]
        assert {e.profile for e in r.events(profile="crm")} == {"crm"}
        last = list(r.events(limit=5))
        assert [e.received_at for e in last] == [1095.0, 1096.0, 1097.0, 1098.0, 1099.0]
        spec = FilterSpec(ops=frozenset({"DELETE"}), fields="key.id = 2")
        deletes = [e for e in r.events(spec=spec) if not e.is_gap]
        assert deletes and all(e.op == "DELETE" and e.key == {"id": 2} for e in deletes)
        # A gap marker concerns every row after it: filters never hide it.
        assert any(e.is_gap for e in r.events(spec=spec))
        found = r.events(spec=FilterSpec(text='"n": 42'))
        assert [e.received_at for e in found if not e.is_gap] == [1042.0]


def test_pages_go_back_with_the_filter(jpath):
    write_all(jpath, [env(i, ts=1000.0 + i, channel="a" if i % 4 else "b")
                      for i in range(1000)])
    spec = FilterSpec(channels=frozenset({"b"}))
    with JournalReader(jpath) as r:
        seen = []
        before = r.last_id_before(1900.0)
        while True:
            page = r.page_before(before, 60, spec=spec)
            seen[:0] = page.events
            if page.before_id is None:
                break
            before = page.before_id
    assert [e.received_at for e in seen] == [1000.0 + i for i in range(0, 900, 4)]


def test_retention_by_age(jpath):
    now = time.time()
    old = [env(i, ts=now - 8 * 86400 + i) for i in range(50)]
    new = [env(i, ts=now - 3600 + i) for i in range(50, 80)]
    write_all(jpath, old)
    write_all(jpath, new)
    conn, _ = open_journal(jpath)
    assert enforce_retention(conn, Retention(max_age=7 * 86400), now=now) == 1  # a block
    conn.close()
    with JournalReader(jpath) as r:
        assert [e.received_at for e in r.events()] == [e.received_at for e in new]


def test_retention_by_size_keeps_the_newest_and_gives_space_back(jpath):
    evs = [new_event(i, 1000.0 + i, "p", "c", 1, f'{{"i": {i}, "pad": "{os.urandom(1500).hex()}"}}')
           for i in range(3000)]  # ~9 MB that zlib cannot shrink much
    conn, _ = open_journal(jpath)
    for a in range(0, 3000, 30):  # 100 blocks, as a writer makes them
        insert_events(conn, evs[a:a + 30])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = jpath.stat().st_size
    limit = 2 * 1024 * 1024
    enforce_retention(conn, Retention(max_bytes=limit, max_age=1e12), now=5000.0)
    assert used_bytes(conn) <= limit
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert jpath.stat().st_size < before / 2
    conn.close()
    with JournalReader(jpath) as r:
        kept = [e.received_at for e in r.events()]
    assert kept[-1] == 1000.0 + 2999 and 700 < len(kept) < 1400  # ~1.5 KB each, zipped
    assert kept == [1000.0 + i for i in range(3000 - len(kept), 3000)]


def test_writer_applies_retention_on_its_own(jpath):
    now = time.time()
    write_all(jpath, [env(i, ts=now - 30 * 86400) for i in range(20)])
    write_all(jpath, [env(99)])  # a block of its own: retention deletes whole blocks
    w2 = JournalWriter(jpath, retention=Retention(max_age=86400), retention_interval=0.01)
    w2.start()
    time.sleep(0.3)
    w2.close()
    with JournalReader(jpath) as r:
        assert r.summary()["events"] == 1


def test_damaged_file_is_moved_aside_never_fatal(jpath):
    jpath.write_bytes(b"this is not a database at all" * 100)
    problems = []
    w = write_all(jpath, [env(1), env(2)], on_problem=problems.append)
    assert w.written == 2
    assert any("damaged" in p for p in problems)
    aside = list(jpath.parent.glob("journal.sqlite3.bad-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    with JournalReader(jpath) as r:
        assert r.summary()["events"] == 2


def test_newer_format_is_moved_aside(jpath):
    conn = sqlite3.connect(jpath)
    conn.execute("CREATE TABLE future(x)")
    conn.execute(f"PRAGMA user_version={FORMAT_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(JournalError, match="newer"):
        JournalReader(jpath)
    conn, problems = open_journal(jpath)
    conn.close()
    assert problems and "newer" in problems[0]
    assert list(jpath.parent.glob("journal.sqlite3.newer-*"))


def test_damage_while_running_starts_a_new_journal(jpath):
    problems = []
    w = JournalWriter(jpath, on_problem=problems.append).start()
    w.submit([env(1)])
    assert w.flush()
    # Something scribbles over the file while the window runs.
    with open(jpath, "r+b") as f:
        f.seek(0)
        f.write(b"\0" * 4096 * 4)
    w.submit([env(2)])
    w.submit([env(3)])
    assert w.flush()
    w.close()
    assert w.alive is False
    with JournalReader(jpath) as r:
        got = [e.pid for e in r.events()]
    assert 4003 in got


CHILD = """
import sys, time, json
sys.path.insert(0, {root!r})
from pgwatch_gui.core.stream.events import new_event
from pgwatch_gui.core.journal.writer import JournalWriter
w = JournalWriter({path!r}, interval=0.01).start()
for i in range(2000):
    w.submit([new_event(i, time.time(), {name!r}, "c", i, json.dumps({{"w": {name!r}, "i": i}}))])
    if i % 50 == 0:
        time.sleep(0.002)
assert w.flush(30)
w.close()
print(w.written, w.dropped, w.error)
"""


def test_two_writers_at_once(jpath):
    procs = [subprocess.Popen([sys.executable, "-c", CHILD.format(root=REPO_ROOT,
                                                                  path=str(jpath), name=n)],
                              stdout=subprocess.PIPE, text=True) for n in ("one", "two")]
    outs = [p.communicate(timeout=90)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outs == [["2000", "0", "None"]] * 2
    conn = sqlite3.connect(jpath)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    with JournalReader(jpath) as r:
        evs = list(r.events())
    by = {p: [json.loads(e.payload)["i"] for e in evs if e.profile == p] for p in ("one", "two")}
    assert by == {"one": list(range(2000)), "two": list(range(2000))}
    assert [e.seq for e in evs] == sorted({e.seq for e in evs})  # unique, increasing


def _lock_for(path, seconds: float) -> threading.Thread:
    """Another program holds an exclusive lock on a new (not yet WAL) file for a while."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA user_version=0")
    other.execute("BEGIN EXCLUSIVE")
    t = threading.Timer(seconds, lambda: (other.execute("COMMIT"), other.close()))
    t.start()
    return t


def test_open_waits_out_a_short_lock(jpath, monkeypatch):
    # CI: two programs opened a new journal at once and one got 'database is locked'.
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 50)
    t = _lock_for(jpath, 0.4)
    conn, problems = open_journal(jpath)
    conn.close()
    t.join()
    assert problems == []


def test_a_locked_journal_keeps_the_events_until_it_is_free(jpath, monkeypatch):
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(store, "OPEN_BUSY_WAIT", 0.0)
    problems = []
    t = _lock_for(jpath, 0.6)
    w = JournalWriter(jpath, interval=0.05, on_problem=problems.append,
                      retention=Retention(max_age=1e12)).start()
    w.submit([env(1), env(2), env(3)])
    assert w.flush(10)
    t.join()
    w.close()
    assert (w.written, w.dropped, w.error) == (3, 0, None)
    assert any("locked by another program" in p for p in problems)
    with JournalReader(jpath) as r:
        assert [e.pid for e in r.events()] == [4001, 4002, 4003]


def test_insert_in_one_transaction(jpath):
    conn, _ = open_journal(jpath)
    conn.execute("BEGIN")
    assert insert_events(conn, [env(i) for i in range(1234)]) == 1234
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM blocks").fetchone() == (0,)
    conn.close()


def test_a_damaged_block_is_skipped(jpath):
    write_all(jpath, [env(1)])
    write_all(jpath, [env(2)])
    write_all(jpath, [env(3)])
    conn = sqlite3.connect(jpath)
    conn.execute("UPDATE blocks SET meta = x'00112233' WHERE id = 2")
    conn.commit()
    conn.close()
    with JournalReader(jpath) as r:
        assert [e.pid for e in r.events()] == [4001, 4003]
        assert r.skipped == 1


def test_a_successor_writer_takes_over_what_was_queued(jpath):
    first = JournalWriter(jpath, retention=Retention(max_age=1e12))  # never started
    first.submit([env(1), env(2)])
    first.submit([env(i) for i in range(3, 203)])  # packed on submit
    second = JournalWriter(jpath, retention=Retention(max_age=1e12)).start()
    for item in first.take_pending():
        second.submit_packed(item)
    assert second.flush()
    second.close()
    with JournalReader(jpath) as r:
        assert [e.pid for e in r.events()] == [4000 + i for i in range(1, 203)]


def test_timeline_of_a_key_with_exact_numbers(jpath):
    """Issue 23: keys decode exactly (Decimal); the timeline's search took them to
    json.dumps and raised TypeError."""
    big = "12345678901234567890123456789012345678.5"
    payload = ('{"v":1,"op":"UPDATE","schema":"public","table":"big","key":{"id":%s},'
               '"row":{"id":%s,"n":%d}}')
    events = [new_event(i, time.time(), "shop", "big", 40, payload % (k, k, i))
              for i, k in enumerate([big, "2.5", big, "1e3"], 1)]
    write_all(jpath, events)
    from decimal import Decimal

    reader = JournalReader(jpath)
    try:
        def ns(key):
            return [json.loads(e.payload)["row"]["n"] for e in reader.timeline("public.big", key)]

        assert ns({"id": Decimal(big)}) == [1, 3]
        assert ns({"id": Decimal("1e3")}) == [4]
    finally:
        reader.close()


def test_the_writer_gives_a_bursts_memory_back_once_it_is_written(jpath, monkeypatch):
    """Issue 23: a burst's blocks are freed by the writer after the window's own trim at
    the end of the burst; RSS read 0.2 s later still held them (about 25 MB after
    500,000 events a second). The first write that leaves the queue empty trims the heap."""
    from pgwatch_gui.core.host import memory

    calls = []
    monkeypatch.setattr(memory, "malloc_trim", lambda: calls.append(1) or True)
    w = JournalWriter(jpath, interval=0.01, retention=Retention(max_age=1e12)).start()
    try:
        burst = [env(i) for i in range(20_000)]  # past TRIM_AFTER
        for a in range(0, len(burst), 1000):
            w.submit(burst[a:a + 1000])
        assert w.flush(20)
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls == [1]
        assert w.trims == 1
        w.submit([env(1)])  # a calm stream goes on: nothing more to give back
        assert w.flush(20)
        time.sleep(0.1)
        assert len(calls) == 1
    finally:
        w.close()


def test_a_burst_ending_in_one_large_write_gives_memory_back_at_once(jpath, monkeypatch):
    """bench_ingest read 186-194 MB 0.2 s after 1,000,000 events, 170 MB a moment later:
    the burst's last write was large (not calm), so the trim waited for the next wake-up
    and the checkpoint. It now follows the write that empties the queue."""
    from pgwatch_gui.core.host import memory

    calls = []
    monkeypatch.setattr(memory, "malloc_trim", lambda: calls.append(1) or True)
    w = JournalWriter(jpath, interval=3.0, retention=Retention(max_age=1e12)).start()
    try:
        burst = [env(i) for i in range(20_000)]
        for a in range(0, len(burst), 5000):
            w.submit(burst[a:a + 5000])
        assert w.flush(20)
        deadline = time.monotonic() + 0.5  # well before the next wake-up (3 s)
        while not calls and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls == [1]
    finally:
        w.close()
