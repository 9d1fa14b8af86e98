"""`pgwatch-gui changes --format envelope` (each change's envelope alone, one per line) and
`--fields` (as `listen` takes it), against a real wal_level=logical server."""

from __future__ import annotations

import io
import json

from pgwatch_gui.cli.output import LinePrinter
from pgwatch_gui.core.stream.chunks import ChangeChunk
from pgwatch_gui.core.stream.events import KIND_CHANGE, KIND_GAP, Event
from tests.cli.test_changes_cli import start_changes
from tests.conftest import run_cli
from tests.core.replication.streams import (
    execute,
    slots_and_publications,
    wait_published,
)

WORK = [
    "INSERT INTO t VALUES (1, 'new', '{\"n\": 1.000000000000000000001, \"n\": 2}'), "
    "(2, 'say \"hi\"', NULL)",
    "UPDATE t SET status = 'paid' WHERE id = 1",
    "DELETE FROM t WHERE id = 2",
]


def test_envelope_lines_are_the_payloads_of_the_jsonl_lines_byte_for_byte(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY, status text, doc json)")
    common = ("--dsn", logical_dsn, "--table", "t", "--timeout", "60")
    lean, _ = start_changes(*common, "--count", "4", "--format", "envelope")
    full, _ = start_changes(*common, "--count", "4")
    picked, _ = start_changes(*common, "--count", "1", "--format", "envelope", "--op", "DELETE")
    execute(logical_dsn, WORK)
    outs = {}
    for name, p in (("lean", lean), ("full", full), ("picked", picked)):
        outs[name], err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    payloads = [json.loads(x)["payload"] for x in outs["full"].splitlines()]
    assert outs["lean"].splitlines() == payloads  # the same JSON text, byte for byte
    envelopes = [json.loads(x) for x in outs["lean"].splitlines()]
    assert [(e["op"], e["key"]) for e in envelopes] == [
        ("INSERT", {"id": 1}), ("INSERT", {"id": 2}), ("UPDATE", {"id": 1}),
        ("DELETE", {"id": 2})]
    assert '"doc":{"n": 1.000000000000000000001, "n": 2}' in outs["lean"]  # exact
    assert envelopes[1]["row"]["status"] == 'say "hi"'
    assert outs["picked"].splitlines() == payloads[3:]  # a filter keeps envelopes
    assert slots_and_publications(logical_dsn) == ([], [])


def test_fields_choose_the_jsonl_fields_and_belong_to_jsonl(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY, status text, doc json)")
    p, _ = start_changes("--dsn", logical_dsn, "--table", "t", "--count", "2",
                         "--timeout", "60", "--fields", "seq, op,key")
    execute(logical_dsn, WORK[:1])
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert out.splitlines() == ['{"seq":1,"op":"INSERT","key":{"id":1}}',
                                '{"seq":2,"op":"INSERT","key":{"id":2}}']
    for bad in (("--fields", "op", "--format", "envelope"), ("--fields", "nope")):
        r = run_cli("changes", "--dsn", logical_dsn, *bad, "--timeout", "1")
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "Traceback" not in r.stderr


def test_a_new_table_of_the_schema_is_said_on_stderr_not_among_the_envelopes(logical_dsn):
    execute(logical_dsn, ["CREATE SCHEMA shop", "CREATE TABLE shop.first (id int PRIMARY KEY)"])
    p, _ = start_changes("--dsn", logical_dsn, "--schema", "shop", "--count", "1",
                         "--timeout", "60", "--format", "envelope")
    execute(logical_dsn, "CREATE TABLE shop.later (id bigint PRIMARY KEY)")
    wait_published(logical_dsn, "later")
    execute(logical_dsn, "INSERT INTO shop.later VALUES (12345678901234567)")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    (line,) = out.splitlines()
    assert json.loads(line)["key"] == {"id": 12345678901234567}
    assert "pgwatch-gui: table shop.later was created after the stream" in err


def test_the_printer_writes_envelopes_from_chunks_and_events_alike(capsys):
    envs = [b'{"v":1,"op":"INSERT","key":{"id":%d}}' % i for i in range(3)]
    chunk = ChangeChunk(1.0, 1, [(e, "INSERT", "s", "t", b"{}") for e in envs], "", "pub")
    gap = Event(4, 1.0, "", "", 0, "a note", kind=KIND_GAP)
    out = io.StringIO()
    printer = LinePrinter("envelope", count=3, kind=KIND_CHANGE, out=out)
    assert printer.print_batch([chunk.head(2), gap, *chunk.events()[2:]]) is True
    assert out.getvalue() == "".join(e.decode() + "\n" for e in envs)
    assert capsys.readouterr().err == "pgwatch-gui: a note\n"
