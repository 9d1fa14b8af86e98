"""Issue 23: `listen` keeps numbers exactly, in its lines and in its filters."""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg

from tests.cli.test_listen_notify import start_listen

BIG = "12345678901234567890123456789012345678.5"
INT40 = "1234567890123456789012345678901234567890"


def _send(dsn: str, keys: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        for k in keys:  # what the trigger of a numeric(40,1) key sends
            c.execute("SELECT pg_notify('big', %s)",
                      (f'{{"v":1,"op":"INSERT","schema":"public","table":"big",'
                       f'"key":{{"id":{k}}},"row":{{"id":{k}}}}}',))


def test_the_key_keeps_every_digit(pg_dsn):
    p = start_listen("--dsn", pg_dsn, "-c", "big", "--count", "2", "--timeout", "30")
    _send(pg_dsn, [BIG, INT40])
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    keys = [json.loads(x, parse_float=Decimal)["key"]["id"] for x in out.splitlines()]
    assert keys == [Decimal(BIG), int(INT40)]
    assert f'"key":{{"id":{BIG}}}' in out


def test_a_filter_on_a_forty_digit_key_matches(pg_dsn):
    p = start_listen("--dsn", pg_dsn, "-c", "big", "--count", "2", "--timeout", "30",
                     "--where", f"key.id = {BIG} or key.id = {INT40}")
    _send(pg_dsn, ["12345678901234567890123456789012345678", BIG, "1", INT40])
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert [str(json.loads(x, parse_float=Decimal)["key"]["id"]) for x in out.splitlines()] \
        == [BIG, INT40]
