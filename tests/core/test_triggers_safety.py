"""A write never fails because of a pgwatch trigger: big rows, odd channels, stale columns."""

from __future__ import annotations

import pytest

from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.core.trigger_helpers import install, listen, nothing_more, received


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
