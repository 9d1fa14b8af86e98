"""Issue 23, what an outside oracle found in row changes: json/jsonb re-encoded, STORED
generated columns dropped, numerics, and tables created after a `--schema` stream began.

Run against the suite's logical server (PostgreSQL 18, embedded) and, with
PGWATCH_TEST_LOGICAL_DSN pointing at it, Debian's PostgreSQL 15
(tools/second_server.sh)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import psycopg

from pgwatch_gui.core.replication.publication import WatchPlan
from pgwatch_gui.core.stream.events import KIND_GAP
from tests.core.replication.streams import Stream, execute, run_sql

JSON_TEXT = '{"a": 1.000000000000000000001, "a": 2, "b": 1e400, "c": [1, {"d": -0.0}]}'


def _strict(text: str):
    def refuse(name):
        raise AssertionError(f"not JSON: {name}")
    return json.loads(text, parse_float=Decimal, parse_constant=refuse)


def _version(dsn: str) -> int:
    with psycopg.connect(dsn) as c:
        return c.info.server_version


def test_json_values_are_the_servers_text(logical_dsn):
    execute(logical_dsn, "CREATE TABLE docs (id int PRIMARY KEY, j json, jb jsonb, "
                         "n numeric, big numeric(60, 0))")
    digits = "1234567890123456789012345678901234567890"

    async def main():
        async with Stream(logical_dsn, WatchPlan(tables=(("public", "docs"),))) as s:
            await run_sql(logical_dsn, [
                f"INSERT INTO docs VALUES (1, '{JSON_TEXT}', '{JSON_TEXT}', "
                f"1.000000000000000000001, {digits})",
                "UPDATE docs SET j = '[]' WHERE id = 1"])
            return await s.wait_for(2)

    ins, upd = asyncio.run(main())
    with psycopg.connect(logical_dsn) as c:  # what the server itself writes for jsonb
        jb_text = c.execute(f"SELECT '{JSON_TEXT}'::jsonb::text").fetchone()[0]
    payload = ins.payload
    assert f'"j":{JSON_TEXT}' in payload  # json: duplicates, digits and 1e400 as written
    assert f'"jb":{jb_text}' in payload
    assert "Infinity" not in payload
    env = _strict(payload)
    assert env["row"]["n"] == "1.000000000000000000001"  # numeric: the server's text
    assert env["row"]["big"] == digits
    assert env["row"]["jb"]["a"] == 2 and env["row"]["jb"]["b"] == Decimal("1e400")
    assert _strict(upd.payload)["row"]["j"] == []
    # the filter sees them exactly
    assert ins.decoded.value["row"]["jb"]["c"][1]["d"] == Decimal("-0.0")


def test_stored_generated_columns_are_sent_or_named(logical_dsn):
    execute(logical_dsn, "CREATE TABLE priced (id int PRIMARY KEY, net numeric, "
                         "gross numeric GENERATED ALWAYS AS (net * 1.2) STORED, note text)")

    async def main():
        async with Stream(logical_dsn, WatchPlan(tables=(("public", "priced"),))) as s:
            await run_sql(logical_dsn, ["INSERT INTO priced (id, net, note) VALUES (1, 10, 'x')",
                                        "UPDATE priced SET net = 20 WHERE id = 1"])
            return s.source.setup, await s.wait_for(2)

    setup, (ins, upd) = asyncio.run(main())
    rows = [_strict(e.payload) for e in (ins, upd)]
    if _version(logical_dsn) >= 180000:  # published: publish_generated_columns = stored
        assert "publish_generated_columns = stored" in setup.sql_text()
        assert [r["row"]["gross"] for r in rows] == ["12.0", "24.0"]
        assert all("generated_missing" not in r for r in rows)
    else:  # pgoutput before 18 does not send them: named, never guessed
        assert all("gross" not in r["row"] and r["generated_missing"] == ["gross"]
                   for r in rows)
        assert rows[0]["row"] == {"id": 1, "net": "10", "note": "x"}


def test_tables_created_after_a_schema_stream_began(logical_dsn):
    execute(logical_dsn, ["CREATE SCHEMA shop", "CREATE TABLE shop.orders (id int PRIMARY KEY)"])

    async def main():
        async with Stream(logical_dsn, WatchPlan(schema="shop"), follow_interval=0.2) as s:
            await run_sql(logical_dsn, [
                "CREATE TABLE shop.later (id int PRIMARY KEY, v text)",
                "CREATE TABLE shop.loose (v text)"])
            await _wait_for_notes(s, 2)
            await run_sql(logical_dsn, ["INSERT INTO shop.later VALUES (1, 'new')",
                                        "INSERT INTO shop.loose VALUES ('not published')",
                                        "UPDATE shop.loose SET v = 'and this works'",
                                        "INSERT INTO shop.orders VALUES (7)"])
            changes = await s.wait_for(2)
            tables = [t.name for t in s.source.setup.tables]
            await run_sql(logical_dsn, ["ALTER TABLE shop.loose REPLICA IDENTITY FULL"])
            await _wait_for_notes(s, 3)
            await run_sql(logical_dsn, ["DELETE FROM shop.loose"])
            return s.events, changes, tables, await s.wait_for(3)

    events, (later, orders), tables, (*_, loose) = asyncio.run(main())
    notes = [e.payload for e in events if e.kind == KIND_GAP]
    assert "table shop.later was created after the stream started: its row changes are " \
           "streamed from" in notes[0] or "table shop.later" in notes[1]
    assert any("shop.loose was created after the stream started and is left out: no "
               "replica identity" in n for n in notes[:2])
    assert "table shop.loose" in notes[2] and "streamed from" in notes[2]
    assert (later.table, later.key, orders.table) == ("later", {"id": 1}, "orders")
    assert tables == ["orders", "later"]
    assert loose.op == "DELETE" and loose.table == "loose"


async def _wait_for_notes(s: Stream, n: int, timeout: float = 20) -> None:
    async def wait():
        while sum(e.kind == KIND_GAP for e in s.events) < n:
            s.arrived.clear()
            await s.arrived.wait()
    await asyncio.wait_for(wait(), timeout)
