"""A write never fails because of a pgwatch trigger: big rows, odd channels, stale columns."""

from __future__ import annotations

import psycopg
import pytest

from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.core.trigger_helpers import call, install, listen, nothing_more, received


@pytest.fixture
def docs(db):
    db.execute("CREATE TABLE docs (id int PRIMARY KEY, owner int, body text, note text)")
    return db


@pytest.mark.parametrize("mode", ["row", "diff"])
def test_a_20kb_row_inserts_and_updates_and_says_truncated(docs, pg_dsn, mode):
    install(pg_dsn, TriggerSpec("public", "docs", channel="docs", payload=mode,
                                events=("insert", "update", "delete")))
    listen(docs, "docs")
    big = "é" * 10_000  # 20,000 bytes in UTF-8
    docs.execute("INSERT INTO docs VALUES (7, 1, %s, 'n')", (big,))
    docs.execute("UPDATE docs SET body = body || 'x'")
    docs.execute("UPDATE docs SET note = 'small change'")  # diff is small, row is not
    docs.execute("DELETE FROM docs")
    got = [p for _, p in received(docs, 4)]
    assert docs.execute("SELECT count(*) FROM docs").fetchone()[0] == 0
    for p in got:
        assert p["key"] == {"id": 7}
    ins, upd_body, upd_note, dele = got
    for p in (ins, upd_body, dele):
        assert p["truncated"] is True
        assert "row" not in p and "old" not in p
    assert ins["op"] == "INSERT" and upd_body["op"] == "UPDATE" and dele["op"] == "DELETE"
    if mode == "diff":
        assert "truncated" not in upd_note and upd_note["row"] == {"note": "small change"}
    else:
        assert upd_note["truncated"] is True


def test_payload_just_under_and_at_the_limit(docs, pg_dsn):
    install(pg_dsn, TriggerSpec("public", "docs", channel="docs", payload="row",
                                events=("insert",)))
    listen(docs, "docs")
    docs.execute("INSERT INTO docs VALUES (1, 1, '', NULL)")
    (_, small), = received(docs, 1)
    import json
    base = len(json.dumps(small, separators=(",", ":")).encode())
    # ts/txid lengths vary a little from row to row; aim at both sides of 8,000 bytes
    docs.execute("INSERT INTO docs VALUES (2, 1, %s, NULL)", ("a" * (7999 - base - 40),))
    docs.execute("INSERT INTO docs VALUES (3, 1, %s, NULL)", ("a" * (8000 - base + 5),))
    (_, under), (_, over) = received(docs, 2)
    assert "truncated" not in under and len(under["row"]["body"]) > 7000
    assert over["truncated"] is True and over["key"] == {"id": 3}


def test_even_the_key_too_big_sends_a_minimal_envelope(db, pg_dsn):
    db.execute("CREATE TABLE wide_key (a text, b text, c text, d text, PRIMARY KEY (a, b, c, d))")
    install(pg_dsn, TriggerSpec("public", "wide_key", channel="wk", payload="keys"))
    listen(db, "wk")
    part = "k" * 2400  # four of these fit a btree index entry (compressible) but not a payload
    db.execute("INSERT INTO wide_key VALUES (%s, %s, %s, %s)", (part, part, part, part))
    (_, p), = received(db, 1)
    assert p["truncated"] is True and p["key"] is None and p["op"] == "INSERT"


def test_per_row_channels_with_null_and_too_long_values(docs, pg_dsn):
    db = docs
    db.execute("ALTER TABLE docs ADD COLUMN tag text")
    install(pg_dsn, TriggerSpec("public", "docs", channel="user_", channel_column="owner",
                                payload="keys"))
    install(pg_dsn, TriggerSpec("public", "docs", channel="tag:", channel_column="tag",
                                payload="keys"))  # changes the trigger: now per tag
    listen(db, "tag:red", "tag:", "user_1")
    db.execute("INSERT INTO docs (id, owner, tag) VALUES (1, 1, 'red')")
    db.execute("INSERT INTO docs (id, owner, tag) VALUES (2, 1, NULL)")
    db.execute("INSERT INTO docs (id, owner, tag) VALUES (3, 1, %s)", ("ü" * 40,))
    chans = [(c, p["key"]["id"]) for c, p in received(db, 3)]
    assert chans == [("tag:red", 1), ("tag:", 2), ("tag:", 3)]
    nothing_more(db)


def test_per_row_channel_reaches_each_user(docs, pg_dsn):
    install(pg_dsn, TriggerSpec("public", "docs", channel="user_notifications_",
                                channel_column="owner", payload="row",
                                events=("insert", "update", "delete", "truncate")))
    listen(docs, "user_notifications_41", "user_notifications_42", "user_notifications_")
    docs.execute("INSERT INTO docs VALUES (1, 41, 'a'), (2, 42, 'b')")
    docs.execute("UPDATE docs SET owner = 42 WHERE id = 1")
    docs.execute("DELETE FROM docs WHERE id = 2")
    docs.execute("TRUNCATE docs")
    got = [(c, p["op"], (p["key"] or {}).get("id")) for c, p in received(docs, 5)]
    assert got == [("user_notifications_41", "INSERT", 1), ("user_notifications_42", "INSERT", 2),
                   ("user_notifications_42", "UPDATE", 1), ("user_notifications_42", "DELETE", 2),
                   ("user_notifications_", "TRUNCATE", None)]


def test_a_dropped_or_renamed_column_never_breaks_a_write(docs, pg_dsn):
    install(pg_dsn, TriggerSpec("public", "docs", channel="docs", payload="row"))
    listen(docs, "docs")
    docs.execute("ALTER TABLE docs DROP COLUMN note")
    docs.execute("INSERT INTO docs (id, owner, body) VALUES (1, 1, 'still works')")
    docs.execute("ALTER TABLE docs RENAME COLUMN body TO text_body")
    docs.execute("UPDATE docs SET owner = 2")
    assert docs.execute("SELECT owner FROM docs").fetchone()[0] == 2
    (_, ins), (_, upd) = received(docs, 2)
    for p, op in ((ins, "INSERT"), (upd, "UPDATE")):
        assert p["op"] == op and p["table"] == "docs" and p["key"] is None
        assert p["error"].startswith("42703") and "has no field" in p["error"]


def test_excluded_columns_never_appear(db, pg_dsn):
    db.execute("CREATE TABLE users (id int PRIMARY KEY, email text, password_hash text, "
               "avatar bytea)")
    for mode in ("keys", "row", "diff"):
        install(pg_dsn, TriggerSpec("public", "users", channel="users", payload=mode,
                                    exclude=("password_hash", "avatar"),
                                    events=("insert", "update", "delete", "truncate")))
        listen(db, "users")
        db.execute("INSERT INTO users VALUES (1, 'a@b', 'HASH-XYZ', '\\xdeadbeef')")
        db.execute("UPDATE users SET password_hash = 'HASH-NEW', avatar = NULL")
        db.execute("UPDATE users SET email = 'c@d', password_hash = 'HASH-3'")
        db.execute("DELETE FROM users")
        db.execute("TRUNCATE users")
        for _, p in received(db, 5):
            text = str(p)
            assert "HASH" not in text and "deadbeef" not in text
            assert "password_hash" not in text and "avatar" not in text
        db.execute("UNLISTEN *")


def test_a_when_that_fails_never_fails_the_write(db, pg_dsn):
    """The issue's case: NEW.status::int > 0 on a text column holding 'shipped'. The
    condition is evaluated inside the guarded function: an error is reported in the
    payload, the UPDATE goes on."""
    db.execute("CREATE TABLE orders (id int PRIMARY KEY, status text, total int)")
    db.execute("INSERT INTO orders VALUES (1, 'shipped', 1), (2, '5', 1), (3, '0', 1)")
    plan = install(pg_dsn, TriggerSpec("public", "orders", channel="o",
                                       events=("update", "insert"),
                                       when="NEW.status::int > 0"))
    assert "NEW.status::int > 0" in plan.sql  # the preview shows where it is evaluated
    listen(db, "o")
    db.execute("UPDATE orders SET total = 2 WHERE id = 1")
    db.execute("UPDATE orders SET total = 2 WHERE id = 3")  # false: nothing sent
    db.execute("UPDATE orders SET total = 2 WHERE id = 2")
    db.execute("INSERT INTO orders VALUES (4, 'new', 1)")
    assert db.execute("SELECT sum(total) FROM orders").fetchone()[0] == 7
    (_, failed), (_, sent), (_, ins) = received(db, 3)
    assert failed["op"] == "UPDATE" and failed["key"] is None
    assert failed["error"].startswith("22P02: invalid input syntax for type integer")
    assert sent["key"] == {"id": 2} and "error" not in sent
    assert ins["op"] == "INSERT" and ins["error"].startswith("22P02")
    nothing_more(db)


def test_a_when_error_on_every_row_of_a_bulk_update(db, pg_dsn):
    db.execute("CREATE TABLE orders (id int PRIMARY KEY, status text)")
    db.execute("INSERT INTO orders SELECT g, 'shipped' FROM generate_series(1, 500) g")
    install(pg_dsn, TriggerSpec("public", "orders", channel="o", events=("update",),
                                when="NEW.status::int > 0 AND OLD.id > 0"))
    listen(db, "o")
    db.execute("UPDATE orders SET status = 'paid'")
    assert db.execute("SELECT count(*) FROM orders WHERE status = 'paid'").fetchone()[0] == 500


def test_per_row_channel_stays_valid_when_the_payload_fails(docs, pg_dsn):
    """A too-long per-row channel, then an error building the payload (a dropped
    column): the error payload goes to the prefix, pg_notify never sees the long name."""
    db = docs
    db.execute("ALTER TABLE docs ADD COLUMN tag text")
    install(pg_dsn, TriggerSpec("public", "docs", channel="tag:", channel_column="tag",
                                payload="row"))
    db.execute("ALTER TABLE docs DROP COLUMN note")
    listen(db, "tag:", "tag:red")
    db.execute("INSERT INTO docs (id, owner, tag) VALUES (1, 1, %s)", ("ü" * 40,))
    db.execute("INSERT INTO docs (id, owner, tag) VALUES (2, 1, 'red')")
    assert db.execute("SELECT count(*) FROM docs").fetchone()[0] == 2
    (c1, p1), (c2, p2) = received(db, 2)
    assert c1 == "tag:" and p1["error"].startswith("42703")
    assert c2 == "tag:red" and p2["error"].startswith("42703")


def test_a_huge_row_is_never_turned_into_json(db, pg_dsn):
    """180 MB of control characters would make 1 GB of JSON (each is \\u0001): building it
    took ten seconds and ended in "out of memory". Text longer than a payload can be is
    measured (octet_length reads the stored size) and the payload is the key at once."""
    db.execute("CREATE TABLE huge (id int PRIMARY KEY, note text, body text)")
    install(pg_dsn, TriggerSpec("public", "huge", channel="h", payload="row"))
    listen(db, "h")
    db.execute("INSERT INTO huge VALUES (1, 'n', repeat(chr(1), 180000000))")
    db.execute("UPDATE huge SET note = 'm'")
    (_, ins), (_, upd) = received(db, 2, timeout=30)
    for p in (ins, upd):
        assert p["truncated"] is True and p["key"] == {"id": 1} and "error" not in p


ODD_TYPES = {
    "js_array": ("json[]", "ARRAY['{\"a\":1}'::json]", "ARRAY['{\"a\":2}'::json]"),
    "comp": ("pair", "ROW(1, '{\"x\":1}')::pair", "ROW(1, '{\"x\":2}')::pair"),
    "bx": ("box", "'(0,0),(1,1)'", "'(1,1),(2,2)'"),  # same area: = says equal
    "rng": ("int4range", "'[1,5)'", "'[2,5)'"),
    "mood": ("mood", "'sad'", "'happy'"),
    "money_": ("money", "1.5", "2.5"),
    "tsv": ("tsvector", "'a b'", "'a c'"),
    "dj": ("dom_json", "'{\"d\":1}'", "'{\"d\":2}'"),
    "inf": ("float8", "'Infinity'", "'-Infinity'"),
    "ts": ("timestamptz", "'infinity'", "'-infinity'"),
    "bits": ("bit varying", "B'101'", "B'1'"),
    "ip": ("inet", "'10.0.0.1/8'", "'::1'"),
    "pt": ("point", "'(1,2)'", "'(2,1)'"),
    "xid_": ("xid", "'5'", "'6'"),
}


@pytest.mark.parametrize("mode", ["row", "diff"])
def test_odd_types_are_sent_without_an_error(db, pg_dsn, mode):
    db.execute("CREATE TYPE pair AS (n int, j json)")
    db.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")
    db.execute("CREATE DOMAIN dom_json AS json")
    cols = ", ".join(f"{name} {typ}" for name, (typ, _, _) in ODD_TYPES.items())
    db.execute(f"CREATE TABLE odd (id int PRIMARY KEY, {cols})")
    install(pg_dsn, TriggerSpec("public", "odd", channel="odd", payload=mode,
                                events=("insert", "update", "delete")))
    listen(db, "odd")
    names = ", ".join(ODD_TYPES)
    db.execute(f"INSERT INTO odd (id, {names}) VALUES (1, "
               + ", ".join(v for _, v, _ in ODD_TYPES.values()) + ")")
    db.execute("UPDATE odd SET " + ", ".join(f"{n} = {v}" for n, (_, _, v) in
                                             ODD_TYPES.items()))
    db.execute("DELETE FROM odd")
    got = [p for _, p in received(db, 3)]
    for p in got:
        assert "error" not in p, p
    assert sorted(got[1]["changed"]) == sorted(ODD_TYPES)
    assert got[1]["row"]["inf"] == "-Infinity" and got[1]["row"]["mood"] == "happy"


def test_a_virtual_generated_column(db, pg_dsn):
    """PostgreSQL 18 never computes a virtual generated column for a trigger (NEW.b is
    NULL): the payload leaves it out rather than say null, and the plan says so."""
    virtual = db.info.server_version >= 180000
    kind = "VIRTUAL" if virtual else "STORED"
    db.execute(f"CREATE TABLE g (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) "
               f"{kind})")
    plan = install(pg_dsn, TriggerSpec("public", "g", channel="g", payload="row"))
    listen(db, "g")
    db.execute("INSERT INTO g (id, a) VALUES (1, 2)")
    db.execute("UPDATE g SET a = 3")
    (_, ins), (_, upd) = received(db, 2)
    assert "error" not in ins and "error" not in upd
    (inst,) = call(pg_dsn, triggers.list_installed)
    assert inst.problems == ()
    if virtual:
        assert any("virtual generated column 'b'" in n for n in plan.notes)
        assert ins["row"] == {"id": 1, "a": 2} and upd["changed"] == ["a"]
        with pytest.raises(triggers.TriggerError, match="virtual generated"):
            install(pg_dsn, TriggerSpec("public", "g", channel="g_", channel_column="b"))
    else:
        assert ins["row"] == {"id": 1, "a": 2, "b": 4} and upd["changed"] == ["a", "b"]


def test_the_writers_statement_timeout_is_never_swallowed(db, pg_dsn):
    """A cancel is the writer's own decision: the guard (EXCEPTION WHEN OTHERS, which
    does not catch query_canceled) never turns it into a payload and a committed row."""
    db.execute("CREATE TABLE t (id int PRIMARY KEY, body text)")
    install(pg_dsn, TriggerSpec("public", "t", channel="t", payload="row",
                                when="pg_sleep(0.2) IS NOT NULL OR NEW.id > 0",
                                events=("insert",)))
    db.execute("SET statement_timeout = '50ms'")
    with pytest.raises(psycopg.errors.QueryCanceled):
        db.execute("INSERT INTO t VALUES (1, 'x')")
    db.execute("RESET statement_timeout")
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 0
