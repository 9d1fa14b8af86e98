"""What the generated triggers send: every payload mode with every event, on a real server."""

from __future__ import annotations

import json

import pytest

from pgwatch_gui.core.stream.payloads import decode_payload
from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.core.trigger_helpers import install, listen, nothing_more, received

ENVELOPE_KEYS = {"v", "op", "schema", "table", "key", "txid", "seq", "ts"}


@pytest.fixture
def items(db):
    db.execute("CREATE TABLE items (id int PRIMARY KEY, name text, qty int, secret text)")
    return db


def _write_all(db):
    db.execute("INSERT INTO items VALUES (1, 'apple', 3, 's3cret')")
    db.execute("UPDATE items SET qty = 4 WHERE id = 1")
    db.execute("DELETE FROM items WHERE id = 1")
    db.execute("TRUNCATE items")


@pytest.mark.parametrize("mode", ["keys", "row", "diff"])
def test_every_mode_with_every_event(items, pg_dsn, mode):
    install(pg_dsn, TriggerSpec("public", "items", channel="items", payload=mode,
                                events=("insert", "update", "delete", "truncate"),
                                exclude=("secret",)))
    listen(items, "items")
    _write_all(items)
    (_, ins), (_, upd), (_, dele), (_, trunc) = received(items, 4)
    nothing_more(items)

    for p, op in ((ins, "INSERT"), (upd, "UPDATE"), (dele, "DELETE"), (trunc, "TRUNCATE")):
        assert p["v"] == 1 and p["op"] == op
        assert p["schema"] == "public" and p["table"] == "items"
        assert set(p) >= ENVELOPE_KEYS
        assert isinstance(p["txid"], int) and p["ts"][:4].isdigit() and "T" in p["ts"]
        assert "truncated" not in p and "error" not in p
        d = decode_payload(json.dumps(p))
        assert d.op == op and d.table == "items"
    assert ins["key"] == upd["key"] == dele["key"] == {"id": 1}
    assert trunc["key"] is None
    assert ins["txid"] != upd["txid"]

    full_new = {"id": 1, "name": "apple", "qty": 3}
    if mode == "keys":
        for p in (ins, upd, dele, trunc):
            assert set(p) == ENVELOPE_KEYS
    else:
        assert ins["row"] == full_new and "old" not in ins
        assert dele["old"] == {"id": 1, "name": "apple", "qty": 4} and "row" not in dele
        assert set(trunc) == ENVELOPE_KEYS
    if mode == "row":
        assert upd["row"] == {"id": 1, "name": "apple", "qty": 4}
        assert upd["old"] == full_new
        assert upd["changed"] == ["qty"]
    if mode == "diff":
        assert upd["row"] == {"qty": 4} and upd["old"] == {"qty": 3}
        assert upd["changed"] == ["qty"]


def test_key_order_follows_the_envelope(items, pg_dsn):
    install(pg_dsn, TriggerSpec("public", "items", channel="items", payload="row"))
    listen(items, "items")
    items.execute("INSERT INTO items VALUES (1, 'a', 1, 'x')")
    raw = next(items.notifies(timeout=3, stop_after=1)).payload
    assert raw.startswith('{"v":1,"op":"INSERT","schema":"public","table":"items","key":')
    assert list(json.loads(raw)) == ["v", "op", "schema", "table", "key", "row",
                                     "seq", "txid", "ts"]


def test_diff_with_no_change_and_with_nulls(items, pg_dsn):
    install(pg_dsn, TriggerSpec("public", "items", channel="items", payload="diff"))
    items.execute("INSERT INTO items VALUES (1, NULL, 1, NULL)")
    listen(items, "items")
    items.execute("UPDATE items SET qty = qty")
    items.execute("UPDATE items SET name = 'now set', secret = NULL")
    (_, same), (_, named) = received(items, 2)
    assert same["changed"] == [] and same["row"] == {} and same["old"] == {}
    assert named["changed"] == ["name"]
    assert named["row"] == {"name": "now set"} and named["old"] == {"name": None}


def test_row_mode_types_stay_json_types(db, pg_dsn):
    db.execute("""CREATE TABLE typed (id bigint PRIMARY KEY, f float8, n numeric, b boolean,
                  j jsonb, js json, a int[], t timestamptz, u uuid, by bytea, p point)""")
    install(pg_dsn, TriggerSpec("public", "typed", channel="typed", payload="row"))
    listen(db, "typed")
    db.execute("""INSERT INTO typed VALUES (9007199254740993, 'NaN', 1.50, true, '{"x": [1]}',
                  '{"y":2}', '{1,2}', '2026-01-02 03:04:05+00', gen_random_uuid(), '\\x0102',
                  '(1,2)')""")
    db.execute("UPDATE typed SET js = '{\"y\":3}', p = '(2,3)', j = j")
    (_, ins), (_, upd) = received(db, 2)
    row = ins["row"]
    assert row["id"] == 9007199254740993 and row["n"] == 1.5 and row["b"] is True
    assert row["f"] == "NaN" and row["j"] == {"x": [1]} and row["js"] == {"y": 2}
    assert row["a"] == [1, 2] and row["by"] == "\\x0102"
    # json and point have no equality operator: compared as text, never an error
    assert upd["changed"] == ["js", "p"] and "error" not in upd


def test_identical_changes_in_one_transaction_are_all_delivered(db, pg_dsn):
    """PostgreSQL drops a notification identical (channel and payload) to one already
    queued in the same transaction: rows of a table without a key, two identical updates
    of one row, two TRUNCATEs. Each payload carries its own number in the transaction."""
    db.execute("CREATE TABLE logs (source text, line text)")
    db.execute("CREATE TABLE items (id int PRIMARY KEY, qty int)")
    db.execute("INSERT INTO items VALUES (1, 0)")
    install(pg_dsn, TriggerSpec("public", "logs", channel="c",
                                events=("insert", "update", "delete", "truncate")),
            TriggerSpec("public", "items", channel="c"))
    listen(db, "c")
    with db.transaction():
        db.execute("INSERT INTO logs VALUES ('app', 'same'), ('app', 'same'), ('app', 'same')")
        db.execute("UPDATE items SET qty = 1 WHERE id = 1")
        db.execute("UPDATE items SET qty = 1 WHERE id = 1")
        db.execute("TRUNCATE logs")
        db.execute("TRUNCATE logs")
        txid = db.execute("SELECT txid_current()").fetchone()[0]
    got = [p for _, p in received(db, 7)]
    nothing_more(db)
    assert [p["op"] for p in got] == ["INSERT"] * 3 + ["UPDATE"] * 2 + ["TRUNCATE"] * 2
    assert {p["txid"] for p in got} == {txid}
    seqs = [p["seq"] for p in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == 7  # one counter for the transaction
    db.execute("INSERT INTO logs VALUES ('app', 'next')")
    (_, nxt), = received(db, 1)
    assert nxt["seq"] == 1 and nxt["txid"] != txid  # a new transaction counts from 1


def test_the_counter_survives_errors_and_savepoints(db, pg_dsn):
    db.execute("CREATE TABLE logs (source text, line text, gone text)")
    install(pg_dsn, TriggerSpec("public", "logs", channel="c", payload="row",
                                events=("insert",)))
    db.execute("ALTER TABLE logs DROP COLUMN gone")  # every payload is an "error" one
    listen(db, "c")
    with db.transaction():
        db.execute("INSERT INTO logs VALUES ('a', 'x'), ('a', 'x')")
        try:
            with db.transaction():  # a savepoint rolled back: its notifications go too
                db.execute("INSERT INTO logs VALUES ('a', 'x')")
                raise RuntimeError
        except RuntimeError:
            pass
        db.execute("INSERT INTO logs VALUES ('a', 'x'), ('a', 'x')")
    got = [p for _, p in received(db, 4)]
    nothing_more(db)
    assert all(p["error"].startswith("42703") for p in got)
    assert len({p["seq"] for p in got}) == 4
    with db.transaction():  # the counter tampered with: the writes still go through
        db.execute("SET LOCAL pgwatch_gui.seq = 'not a number'")
        db.execute("INSERT INTO logs VALUES ('a', 'x'), ('a', 'x')")
    (_, first), (_, second) = received(db, 2)
    assert first["error"].startswith("22P02") and second["error"].startswith("42703")
    assert db.execute("SELECT count(*) FROM logs").fetchone()[0] == 6
