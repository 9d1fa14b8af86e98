"""Issue 23: `listen` writes its lines straight from libpq's notifications; `--fields`
chooses the fields (the lean `channel,payload`), and the lines are what they were."""

from __future__ import annotations

import json

import psycopg

from pgwatch_gui.core.stream.jsonl import FIELDS
from tests.cli.test_listen_notify import start_listen
from tests.conftest import run_cli


def _burst(dsn: str, channel: str, n: int) -> list[str]:
    payloads = [json.dumps({"v": 1, "op": "INSERT", "schema": "public", "table": "t",
                            "key": {"id": i}, "note": "a \"quoted\"\nline é"}) for i in range(n)]
    with psycopg.connect(dsn) as c:  # one transaction: delivered in one read
        for p in payloads:
            c.execute("SELECT pg_notify(%s, %s)", (channel, p))
    return payloads


def test_lean_lines_hold_channel_and_payload_only(pg_dsn):
    p = start_listen("--dsn", pg_dsn, "-c", "lean", "--count", "5", "--timeout", "30",
                     "--fields", "channel, payload")
    payloads = _burst(pg_dsn, "lean", 5)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    lines = out.splitlines()
    assert [json.loads(x) for x in lines] == [{"channel": "lean", "payload": x} for x in payloads]
    assert lines[0] == json.dumps({"channel": "lean", "payload": payloads[0]},
                                  ensure_ascii=False, separators=(",", ":"))


def test_count_stops_inside_one_read_and_every_field_is_there(pg_dsn):
    p = start_listen("--dsn", pg_dsn, "-c", "many", "--count", "3", "--timeout", "30")
    _burst(pg_dsn, "many", 10)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    recs = [json.loads(x) for x in out.splitlines()]
    assert len(recs) == 3 and [tuple(r) for r in recs] == [FIELDS] * 3
    assert [(r["op"], r["table"], r["key"], r["kind"], r["own"]) for r in recs] == [
        ("INSERT", "t", {"id": i}, "notify", False) for i in range(3)]
    assert [r["seq"] for r in recs] == [recs[0]["seq"] + i for i in range(3)]


def test_fields_with_a_filter(pg_dsn):
    p = start_listen("--dsn", pg_dsn, "-c", "flt", "--count", "1", "--timeout", "30",
                     "--fields", "key,op", "--where", "key.id = 7")
    _burst(pg_dsn, "flt", 10)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert out.splitlines() == ['{"key":{"id": 7},"op":"INSERT"}']  # the payload's own key


def test_bad_fields_are_one_line():
    r = run_cli("listen", "--dsn", "postgresql://nobody@127.0.0.1:1/x", "-c", "a",
                "--fields", "channel,chanel")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "unknown field 'chanel'; choose from " + ", ".join(FIELDS) in r.stderr
    r = run_cli("listen", "--dsn", "postgresql://nobody@127.0.0.1:1/x", "-c", "a",
                "--fields", "channel", "--format", "text")
    assert r.returncode == 2
    assert "--fields chooses the fields of --format jsonl" in r.stderr
