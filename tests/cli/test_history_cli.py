"""`pgwatch-gui history`: the journal printed in `listen`'s format; survives a kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime

import psycopg
import pytest

from pgwatch_gui.core.journal.store import Retention
from pgwatch_gui.core.journal.writer import JournalWriter
from pgwatch_gui.core.stream.events import KIND_GAP, Event, new_event
from pgwatch_gui.core.stream.export import event_to_text
from pgwatch_gui.core.stream.jsonl import event_to_json
from tests.conftest import cli_env, run_cli


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def history(data_dir, *args: str):
    return run_cli("history", *args, PGWATCH_DATA_DIR=str(data_dir))


def fill(data_dir, events) -> None:
    w = JournalWriter(data_dir / "journal.sqlite3", retention=Retention(max_age=1e12)).start()
    w.submit(events)
    assert w.flush()
    w.close()


def sample(t0: float) -> list[Event]:
    evs = []
    for i in range(30):
        payload = json.dumps({"v": 1, "op": ("INSERT", "UPDATE")[i % 2], "schema": "public",
                              "table": "orders", "key": {"id": i % 4}})
        evs.append(new_event(i, t0 + i, "shop" if i % 3 else "crm", "orders", 500 + i, payload))
    evs.append(Event(0, t0 + 30.5, "shop", "", 0, "connection lost at ...", kind=KIND_GAP))
    evs.append(new_event(99, t0 + 31, "shop", "odd", 7, "line\nbreak \ud800"))
    return evs


def test_prints_the_journal_as_listen_does(data_dir):
    t0 = time.time() - 3600
    evs = sample(t0)
    fill(data_dir, evs)
    r = history(data_dir)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == len(evs)
    recs = [json.loads(x) for x in lines]
    want = [json.loads(event_to_json(e).replace("\\ud800", "\\\\ud800")) for e in evs[:-1]]
    for got, exp in zip(recs, want, strict=False):
        exp["seq"] = got["seq"]
        assert got == exp
    assert recs[-1]["payload"] == "line\nbreak \ud800" and recs[-1]["size"] == evs[-1].size
    assert [r["seq"] for r in recs] == sorted(r["seq"] for r in recs)

    text = history(data_dir, "--format", "text", "--limit", "3")
    assert text.stdout.splitlines()[0] == event_to_text(evs[-3])
    assert text.stdout.splitlines()[2].endswith("line\\nbreak \\ud800")

    lean = history(data_dir, "--fields", "channel,op,key", "--limit", "3")
    assert lean.stdout.splitlines() == ['{"channel":"orders","op":"UPDATE","key":{"id": 1}}',
                                        '{"channel":"","op":null,"key":null}',  # the gap
                                        '{"channel":"odd","op":null,"key":null}']
    wrong = history(data_dir, "--fields", "op", "--format", "text")
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1, wrong.stderr


def test_since_until_limit_profile(data_dir):
    t0 = time.time() - 3600
    fill(data_dir, sample(t0))

    def times(*args):
        r = history(data_dir, *args)
        assert r.returncode == 0, r.stderr
        return [json.loads(x)["received_at"] for x in r.stdout.splitlines()]

    iso = datetime.fromtimestamp(t0 + 10).astimezone().isoformat()
    iso_until = datetime.fromtimestamp(t0 + 15).isoformat()  # naive: local time
    got = times("--since", iso, "--until", iso_until)
    assert len(got) == 5
    assert len(times("--limit", "4")) == 4
    assert times("--since", "30m") == []
    assert len(times("--since", "2h")) == 32
    recs = [json.loads(x) for x in history(data_dir, "--profile", "crm").stdout.splitlines()]
    assert {r["profile"] for r in recs} == {"crm"} and len(recs) == 10


@pytest.mark.parametrize("buffered", [True, False])
def test_history_into_a_full_disk_ends_with_one_line_and_1(data_dir, buffered):
    """As listen and changes say it (cli.md, exit codes); before: a traceback."""
    fill(data_dir, sample(time.time() - 3600))
    env = {k: v for k, v in cli_env(PGWATCH_DATA_DIR=str(data_dir)).items()
           if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    with open("/dev/full", "w") as sink:
        r = subprocess.run([sys.executable, "-m", "pgwatch_gui", "history"], stdout=sink,
                           stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() == \
        "pgwatch-gui: error: cannot write the output: No space left on device"


def test_errors_are_one_line(data_dir):
    r = history(data_dir)
    assert r.returncode == 2 and "no journal" in r.stderr and len(r.stderr.splitlines()) == 1
    fill(data_dir, sample(time.time()))
    for args, words in ((("--since", "yesterday-ish"), "ISO 8601"),
                        (("--limit", "0"), "at least 1")):
        r = history(data_dir, *args)
        assert r.returncode == 2 and words in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_filter_flags(data_dir):
    fill(data_dir, sample(time.time() - 100))
    r = history(data_dir, "--op", "INSERT", "--where", "key.id = 2")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["kind"] for x in recs].count("gap") == 1  # a gap concerns every row after it
    recs = [x for x in recs if x["kind"] != "gap"]
    assert recs and all(x["op"] == "INSERT" and x["key"] == {"id": 2} for x in recs)
    chan = history(data_dir, "--channel", "odd", "--text", "BREAK", "--format", "text")
    assert chan.returncode == 0 and len(chan.stdout.splitlines()) == 2  # the gap and one
    r = history(data_dir, "--where", "key.id = = 2")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--where" in r.stderr


class Sender(threading.Thread):
    """Notifications i = 0, 1, ... every few ms; remembers when each one's commit returned."""

    def __init__(self, dsn: str, channel: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.channel = dsn, channel
        self.committed: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            i = 0
            while not self.stop.is_set():
                c.execute("SELECT pg_notify(%s, %s)", (self.channel, json.dumps({"i": i})))
                self.committed.append(time.time())
                i += 1
                time.sleep(0.003)


def test_kill_9_loses_at_most_the_last_half_second(pg_dsn, data_dir, tmp_path):
    env = cli_env(PGWATCH_DATA_DIR=str(data_dir), QT_QPA_PLATFORM="offscreen",
                  PGWATCH_CONFIG_DIR=str(tmp_path / "config"))
    gui = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", "--dsn", pg_dsn, "-c", "feed"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sender = Sender(pg_dsn, "feed")
    try:
        # The window is up and journalling once history shows something.
        deadline = time.time() + 60
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            while True:
                c.execute("SELECT pg_notify('feed', 'hello')")
                r = history(data_dir)
                if r.returncode == 0 and r.stdout.strip():
                    break
                assert gui.poll() is None, gui.stderr.read().decode()[-2000:]
                assert time.time() < deadline, "the window never journalled anything"
                time.sleep(0.3)
        sender.start()
        time.sleep(1.5)
        during = history(data_dir, "--since", "1m")  # works while the window writes
        assert during.returncode == 0 and len(during.stdout.splitlines()) > 50
        time.sleep(1.0)
        killed_at = time.time()
        os.kill(gui.pid, signal.SIGKILL)
        gui.wait(10)
    finally:
        sender.stop.set()
        if gui.poll() is None:
            gui.kill()
            gui.wait(10)
    sender.join(10)
    r = history(data_dir)
    assert r.returncode == 0, r.stderr
    got = {json.loads(rec["payload"])["i"] for rec in map(json.loads, r.stdout.splitlines())
           if rec["payload"].startswith("{")}
    due = [i for i, t in enumerate(sender.committed) if t <= killed_at - 0.5]
    assert len(due) > 100
    missing = [i for i in due if i not in got]
    lost = [t for i, t in enumerate(sender.committed) if i not in got and t <= killed_at]
    print(f"kill -9: {len(got)} kept; committed before the kill but lost: {len(lost)}, "
          f"the oldest {killed_at - min(lost, default=killed_at):.3f} s before the kill")
    assert not missing, f"{len(missing)} committed >= 0.5 s before the kill are missing"


def test_no_journal_flag_reaches_the_window(monkeypatch):
    from pgwatch_gui import cli
    from pgwatch_gui.cli import common
    from pgwatch_gui.ui.shell import app

    seen = {}
    monkeypatch.setattr(app, "run_gui", lambda conns, **kw: seen.update(kw) or 0)
    monkeypatch.setattr(common, "resolve_startup_connections", lambda args: [])
    assert cli.main(["--no-journal"]) == 0
    assert seen["journal"] is False
    assert cli.main([]) == 0
    assert seen["journal"] is True


# ---- --forget ------------------------------------------------------------------------------


def journal_bytes(data_dir) -> bytes:
    return b"".join((data_dir / f"journal.sqlite3{s}").read_bytes()
                    for s in ("", "-wal", "-shm") if (data_dir / f"journal.sqlite3{s}").exists())


def test_forget_a_profile_removes_its_bytes_from_disk(data_dir):
    t0 = time.time() - 3600
    evs = [new_event(i, t0 + i, "crm" if i % 2 else "shop", "orders", 1,
                     f"{'CRM-SECRET' if i % 2 else 'shop-row'}-{i:04d}-" + "x" * 40)
           for i in range(3000)]  # one busy write: plain text, crm and shop in each block
    fill(data_dir, evs)
    assert b"CRM-SECRET-0001" in journal_bytes(data_dir)
    r = history(data_dir, "--forget", "--profile", "crm")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Removed 1,500 events (connection 'crm'); the journal went from")
    assert b"CRM-SECRET" not in journal_bytes(data_dir)
    left = [json.loads(x) for x in history(data_dir).stdout.splitlines()]
    assert len(left) == 1500 and {x["profile"] for x in left} == {"shop"}


def test_forget_all_before_a_time_keeps_newer_events(data_dir):
    now = time.time()
    fill(data_dir, [new_event(i, now - 7200 + i, "shop", "c", 1, f"OLD-{i}") for i in range(50)]
         + [new_event(i, now - 60 + i, "crm", "c", 1, f"new-{i}") for i in range(5)])
    r = history(data_dir, "--forget", "--all", "--before", "1h")
    assert r.returncode == 0, r.stderr
    assert "Removed 50 events (every connection, received before" in r.stdout
    assert b"OLD-" not in journal_bytes(data_dir)
    assert [json.loads(x)["payload"] for x in history(data_dir).stdout.splitlines()] == \
        [f"new-{i}" for i in range(5)]


@pytest.mark.parametrize("args, says", [
    (("--forget",), "--forget needs --profile NAME (one connection) or --all"),
    (("--forget", "--all", "--profile", "x"), "--forget needs --profile NAME"),
    (("--forget", "--all", "--text", "x"), "--text cannot be used with it"),
    (("--forget", "--all", "--since", "1h"), "--since cannot be used with it"),
    (("--all",), "--all and --before go with --forget"),
    (("--forget", "--all", "--before", "yesterday"), "--before 'yesterday': give an ISO"),
])
def test_forget_refuses_what_it_cannot_do_in_one_line(data_dir, args, says):
    fill(data_dir, [new_event(1, time.time(), "shop", "c", 1, "kept")])
    r = history(data_dir, *args)
    assert r.returncode == 2
    assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert history(data_dir).stdout.count("kept") == 1


def test_forget_with_no_journal_says_so(data_dir):
    r = history(data_dir, "--forget", "--all")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("No journal at") and "nothing to forget" in r.stdout
