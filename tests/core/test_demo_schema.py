"""The demo shop: created idempotently, with triggers in each payload mode."""

from __future__ import annotations

import json

import psycopg

from pgwatch_gui.core.demo.schema import CHANNELS, demo_ready, ensure_schema
from pgwatch_gui.core.stream.payloads import SHAPE_CHANGE, SHAPE_ENVELOPE, decode_payload


def _counts(db) -> tuple:
    return db.execute(
        "SELECT (SELECT count(*) FROM shop.products), (SELECT count(*) FROM shop.customers), "
        "(SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal), "
        "(SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        " WHERE n.nspname IN ('pgwatch', 'shop'))"
    ).fetchone()


def _drain(db) -> list:
    out = []
    for n in db.notifies(timeout=0.3):
        out.append(n)
    return out


def test_schema_is_idempotent(pg_dsn, db):
    ensure_schema(pg_dsn)
    first = _counts(db)
    assert first == (48, 200, 5, 5)
    ensure_schema(pg_dsn)
    ensure_schema(pg_dsn)
    assert _counts(db) == first
    assert demo_ready(db)


def test_existing_rows_are_kept(pg_dsn, db):
    ensure_schema(pg_dsn)
    db.execute("INSERT INTO shop.orders (customer_id) VALUES (7)")
    ensure_schema(pg_dsn)
    assert db.execute("SELECT count(*) FROM shop.orders").fetchone()[0] == 1


def test_each_trigger_sends_its_shape(pg_dsn, db):
    ensure_schema(pg_dsn)
    for ch in CHANNELS:
        db.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(ch)))
    with psycopg.connect(pg_dsn, autocommit=True) as w:
        w.execute("INSERT INTO shop.orders (customer_id) VALUES (1)")
        w.execute("UPDATE shop.orders SET status = 'paid'")
        w.execute("INSERT INTO shop.order_items (order_id, product_id, quantity, unit_price) "
                  "SELECT id, 1, 1, 9.5 FROM shop.orders")
        w.execute("UPDATE shop.customers SET city = 'Riga', password_hash = 'x' WHERE id = 2")
        w.execute("UPDATE shop.products SET stock = stock + 1 WHERE id = 3")
        w.execute("INSERT INTO shop.user_notifications (user_id, message, notification_type) "
                  "VALUES (1, 'hello', 'info'), (9, 'not listened to', 'info')")
        w.execute("DELETE FROM shop.order_items")
    got = {}
    for n in _drain(db):
        got.setdefault(n.channel, []).append(json.loads(n.payload))

    orders = got["shop_orders"]
    assert [p["op"] for p in orders] == ["INSERT", "UPDATE"]
    assert orders[1]["row"]["status"] == "paid" and orders[1]["old"]["status"] == "new"
    assert decode_payload(json.dumps(orders[0])).shape == SHAPE_ENVELOPE

    items = got["shop_order_items"]
    assert [p["op"] for p in items] == ["INSERT", "DELETE"]
    assert "row" not in items[0] and items[0]["key"] == {"id": 1}  # keys mode

    (cust,) = got["shop_customers"]  # diff mode, the password hash never leaves
    assert cust["changed"] == ["city"]
    assert cust["row"] == {"city": "Riga"} and cust["key"] == {"id": 2}
    assert "password_hash" not in json.dumps(cust)

    assert got["product_changes"] == [{"operation": "UPDATE", "record_id": 3}]
    decoded = decode_payload(json.dumps(got["product_changes"][0]))
    assert decoded.shape == SHAPE_CHANGE and decoded.key == {"id": 3}

    (note,) = got["user_notifications_1"]  # per-user channel
    assert note["row"]["message"] == "hello"
    assert "user_notifications_9" not in got


def test_a_huge_row_is_truncated_not_refused(pg_dsn, db):
    ensure_schema(pg_dsn)
    db.execute("LISTEN shop_customers")
    with psycopg.connect(pg_dsn, autocommit=True) as w:
        w.execute("UPDATE shop.customers SET name = repeat('x', 20000) WHERE id = 1")
    (n,) = _drain(db)
    payload = json.loads(n.payload)
    assert payload["truncated"] is True and payload["key"] == {"id": 1}
