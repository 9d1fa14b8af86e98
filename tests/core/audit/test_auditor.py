"""The matching engine on synthetic changes and notifications: no database, no clock."""

from __future__ import annotations

import json

import pytest

from pgwatch_gui.core.audit.auditor import Auditor
from pgwatch_gui.core.audit.reasons import TableFacts, TriggerFacts
from pgwatch_gui.core.audit.records import Change, notice_from_payload
from pgwatch_gui.core.audit.results import MISMATCHED, MISSING, UNEXPECTED

ORDERS = ("public", "orders")
ITEMS = ("public", "items")
ALL_ROWS = TriggerFacts("notify_orders", ("INSERT", "UPDATE", "DELETE"), channels=("orders",))


def auditor(*triggers: TriggerFacts, tables=(ORDERS,), **kw) -> Auditor:
    facts = [TableFacts(t, ("id",), triggers or (ALL_ROWS,)) for t in tables]
    return Auditor(facts, channel_tables=kw.pop("channel_tables", {"orders": tables}), **kw)


def change(op: str, id_: int, at: float = 0.0, *, xid: int = 700, table=ORDERS, row=None,
           old=None, commit: float | None = None) -> Change:
    row = {"id": id_, "status": "new"} if row is None else row
    return Change(0, at, table, op, {"id": id_}, row if op != "DELETE" else {"id": id_},
                  old, xid, commit if commit is not None else at - 0.01)


def envelope(op: str, id_: int, *, txid=700, row=None, table="orders", **extra) -> str:
    env = {"v": 1, "op": op, "schema": "public", "table": table, "key": {"id": id_},
           "txid": txid, "ts": "2026-01-01T00:00:00+00:00", **extra}
    if row is not None:
        env["row" if op != "DELETE" else "old"] = row
    return json.dumps(env)


def notice(payload: str, at: float = 0.0, channel: str = "orders"):
    return notice_from_payload(payload, at=at, channel=channel)


def test_each_change_matched_to_its_notification_in_either_order():
    a = auditor()
    a.add_notice(notice(envelope("INSERT", 1), at=1.0))  # the notification first
    a.add_change(change("INSERT", 1, at=1.1))
    a.add_change(change("UPDATE", 1, at=2.0, xid=701))  # the change first
    a.add_notice(notice(envelope("UPDATE", 1, txid=701), at=2.05))
    assert a.expire(now=100) == []
    assert a.counts[ORDERS].as_dict() == {"changes": 2, "matched": 2, "missing": 0,
                                          "mismatched": 0, "unexpected": 0}
    assert a.clean


def test_a_missing_notification_waits_out_the_grace_then_names_the_cause():
    a = auditor(TriggerFacts("notify_orders", ("INSERT",)))
    a.add_change(change("UPDATE", 3, at=10.0))
    assert a.expire(now=11.0) == []  # within the window: the other side may still come
    assert a.counts[ORDERS].waiting == 1
    (d,) = a.expire(now=12.5)
    assert d.kind == MISSING and d.op == "UPDATE" and d.key == {"id": 3}
    assert "fires on INSERT only" in d.reason
    assert not a.clean and a.counts[ORDERS].missing == 1 and a.counts[ORDERS].waiting == 0


def test_a_notification_that_arrives_late_within_the_window_still_matches():
    a = auditor()
    a.add_change(change("INSERT", 1, at=10.0))
    a.add_notice(notice(envelope("INSERT", 1), at=11.9))
    assert a.expire(now=20) == [] and a.counts[ORDERS].matched == 1


def test_old_row_sent_for_an_update_is_mismatched_with_the_columns():
    a = auditor()
    # {table, action, data} with OLD where NEW was meant
    payload = json.dumps({"table": "orders", "action": "UPDATE",
                          "data": {"id": 5, "status": "new"}})
    a.add_notice(notice(payload, at=1.0))
    a.add_change(change("UPDATE", 5, at=1.01, row={"id": 5, "status": "paid"}))
    assert a.counts[ORDERS].matched == 0  # fits, but the values disagree: not at once
    (d,) = a.expire(now=4.0)
    assert d.kind == MISMATCHED and d.notice is not None and d.change is not None
    assert [(x.column, x.payload, x.committed) for x in d.differences] == [
        ("status", "new", "paid")]
    assert "OLD sent for an UPDATE?" in d.reason and "'new' in the payload" in d.reason
    rec = d.to_dict()
    assert rec["committed"] == {"id": 5, "status": "paid"} and rec["payload"] == payload


def test_old_row_recognised_when_the_stream_has_the_old_row_too():
    a = auditor()
    a.add_notice(notice(json.dumps({"id": 5, "status": "new"}), at=1.0))  # row_to_json(OLD)
    a.add_change(change("UPDATE", 5, at=1.01, row={"id": 5, "status": "paid"},
                        old={"id": 5, "status": "new"}))
    (d,) = a.expire(now=4.0)
    assert d.kind == MISMATCHED and "before the UPDATE (OLD where NEW was meant)" in d.reason


def test_a_mismatching_notification_does_not_take_the_change_of_a_matching_one():
    a = auditor()
    a.add_change(change("UPDATE", 1, at=1.0, row={"id": 1, "status": "b"}))
    a.add_notice(notice(json.dumps({"id": 1, "status": "a"}), at=1.0))  # stale
    a.add_notice(notice(json.dumps({"id": 1, "status": "b"}), at=1.01))  # exact
    assert a.counts[ORDERS].matched == 1
    (d,) = a.expire(now=10)
    assert d.kind == UNEXPECTED  # the stale one, with no change left for it


def test_unexpected_notification_and_notifications_of_tables_not_audited():
    a = auditor()
    a.add_notice(notice(envelope("INSERT", 9, table="customers"), at=1.0))  # not audited
    a.add_notice(notice(envelope("INSERT", 8), at=1.0))
    (d,) = a.expire(now=5)
    assert d.kind == UNEXPECTED and d.table == ORDERS and "id=8" in d.reason
    assert a.ignored == 1 and a.counts[ORDERS].unexpected == 1
    assert a.clean  # unexpected notifications alone do not fail the audit


def test_txid_from_txid_current_matches_the_streams_32_bit_xid():
    a = auditor()
    epoch_txid = (3 << 32) | 700
    a.add_notice(notice(envelope("INSERT", 1, txid=epoch_txid), at=1.0))
    a.add_change(change("INSERT", 1, at=1.0, xid=700))
    assert a.counts[ORDERS].matched == 1


def test_the_transaction_decides_between_two_changes_of_one_row():
    a = auditor()
    a.add_change(change("UPDATE", 1, at=1.0, xid=700))
    a.add_change(change("UPDATE", 1, at=1.0, xid=701))
    a.add_notice(notice(envelope("UPDATE", 1, txid=701), at=1.0))
    (d,) = a.expire(now=10)
    assert d.kind == MISSING and d.change.xid == 700


def test_identical_payloads_merged_by_the_server_are_named_in_the_reason():
    a = auditor()
    # two UPDATEs of row 1 in one transaction; keys-only payloads are identical and
    # PostgreSQL delivers one notification for both
    a.add_change(change("UPDATE", 1, at=1.0))
    a.add_change(change("UPDATE", 1, at=1.0))
    a.add_notice(notice(envelope("UPDATE", 1), at=1.0))
    (d,) = a.expire(now=10)
    assert d.kind == MISSING and "identical payloads" in d.reason and "once" in d.reason


def test_operation_and_id_payload_matches_a_differently_named_key():
    facts = [TableFacts(ORDERS, ("order_id",), (ALL_ROWS,))]
    a = Auditor(facts, channel_tables={"orders": [ORDERS]})
    a.add_notice(notice('{"operation": "DELETE", "id": 12}', at=1.0))
    a.add_change(Change(0, 1.0, ORDERS, "DELETE", {"order_id": 12}, {"order_id": 12},
                        xid=5, commit_time=0.99))
    a.add_notice(notice("42", at=2.0))  # a bare id, as pg_notify('orders', NEW.id::text)
    a.add_change(Change(0, 2.0, ORDERS, "INSERT", {"order_id": 42},
                        {"order_id": 42, "x": 1}, xid=6, commit_time=1.99))
    assert a.counts[ORDERS].matched == 2


def test_rows_without_a_key_match_on_the_whole_row():
    facts = [TableFacts(ORDERS, (), (ALL_ROWS,))]
    a = Auditor(facts)
    row = {"note": "x", "at": "2026-11-30 10:00:00.5+00", "n": "12.50"}
    # REPLICA IDENTITY FULL without a key: the stream's key is the whole row
    a.add_change(Change(0, 1.0, ORDERS, "INSERT", dict(row), dict(row), xid=9))
    a.add_change(Change(0, 1.0, ORDERS, "INSERT", {**row, "note": "y"},
                        {**row, "note": "y"}, xid=9))
    # row_to_json(NEW) spells the timestamp and the numeric its own way
    a.add_notice(notice(json.dumps({"note": "y", "at": "2026-11-30T11:00:00.5+01:00",
                                    "n": 12.5}), at=1.0))
    assert a.counts[ORDERS].matched == 1
    (d,) = a.expire(now=10)
    assert d.kind == MISSING and d.change.row["note"] == "x"


def test_truncate_matches_only_a_truncate_notification():
    a = auditor(TriggerFacts("notify_orders", ("INSERT", "UPDATE", "DELETE")))
    a.add_change(Change(0, 1.0, ORDERS, "TRUNCATE", None, None, xid=3))
    a.add_notice(notice(envelope("INSERT", 1, txid=3), at=1.0))
    found = a.expire(now=10)
    assert sorted(d.kind for d in found) == [MISSING, UNEXPECTED]
    missing = next(d for d in found if d.kind == MISSING)
    assert "fires on TRUNCATE" in missing.reason or "TRUNCATE" in missing.reason


def test_notifications_wait_while_the_change_stream_is_behind():
    a = auditor()
    # Transaction 799 committed at t=0.5 with 2 rows, 800 at t=1 with 3 rows. Every
    # notification arrives at its commit; the stream delivers the rows for seconds after.
    for i in range(2):
        a.add_notice(notice(envelope("INSERT", i, txid=799), at=0.5))
    for i in range(3):
        a.add_notice(notice(envelope("INSERT", 10 + i, txid=800), at=1.0))
    a.add_change(change("INSERT", 0, at=1.5, xid=799, commit=0.49))
    a.add_change(change("INSERT", 1, at=2.5, xid=799, commit=0.49))
    # Grace is over for 800's notifications, but the stream is busy and has not yet
    # finished a transaction committed after them: they wait.
    assert a.expire(now=3.6) == []
    for i in range(3):
        a.add_change(change("INSERT", 10 + i, at=4.0 + i, xid=800, commit=0.99))
    assert a.expire(now=6.5) == [] and a.counts[ORDERS].matched == 5
    # A notification whose change never comes goes once a later transaction is read.
    a.add_notice(notice(envelope("INSERT", 50, txid=801), at=7.0))
    a.add_change(change("INSERT", 60, at=9.5, xid=802, commit=7.2))
    a.add_notice(notice(envelope("INSERT", 60, txid=802), at=9.5))
    assert a.expire(now=9.6) == []  # 802 is read but not known to be whole yet
    a.add_change(change("INSERT", 61, at=9.8, xid=803, commit=7.3))
    a.add_notice(notice(envelope("INSERT", 61, txid=803), at=9.8))
    (d,) = a.expire(now=9.9)
    assert d.kind == UNEXPECTED and d.notice.txid == 801


def test_a_quiet_stream_lets_waiting_notifications_go():
    a = auditor()
    a.add_change(change("INSERT", 1, at=1.0, xid=1))
    a.add_notice(notice(envelope("INSERT", 1, txid=1), at=1.0))
    a.add_notice(notice(envelope("INSERT", 2, txid=2), at=1.5))
    assert a.expire(now=3.0) == []  # the stream read a change 2 s ago: not quiet yet
    (d,) = a.expire(now=3.6)
    assert d.kind == UNEXPECTED


def test_after_the_cutoff_only_counterparts_are_taken():
    a = auditor()
    a.add_notice(notice(envelope("INSERT", 1), at=1.0))
    a.close(1.2)
    a.add_change(change("INSERT", 1, at=1.3))  # its change, read after the end: matched
    a.add_change(change("INSERT", 2, at=1.4, xid=701))  # a later write: left out
    assert a.expire(now=5.0) == []
    assert a.settled()
    assert a.finish() == []
    assert a.counts[ORDERS].as_dict()["changes"] == 1 and a.counts[ORDERS].waiting == 0


def test_payload_error_from_this_tools_trigger_is_a_mismatch():
    a = auditor()
    payload = json.dumps({"v": 1, "op": "UPDATE", "schema": "public", "table": "orders",
                          "key": None, "error": '42703: record "new" has no field "note"',
                          "txid": 700, "ts": "2026-01-01T00:00:00+00:00"})
    a.add_notice(notice(payload, at=1.0))
    a.add_change(change("UPDATE", 4, at=1.0))
    (d,) = a.expire(now=10)
    assert d.kind == MISMATCHED and 'has no field "note"' in d.reason


def test_extra_payload_fields_are_ignored():
    a = auditor()
    a.add_notice(notice(envelope("INSERT", 1, row={"id": 1, "status": "new"}, seq=3,
                                 sequence=7, source="app"), at=1.0))
    a.add_change(change("INSERT", 1, at=1.0))
    assert a.counts[ORDERS].matched == 1


def test_an_empty_payload_on_the_tables_channel_matches_by_time():
    a = auditor()
    a.add_change(change("INSERT", 1, at=1.0))
    a.add_notice(notice("", at=1.0))
    assert a.counts[ORDERS].matched == 1


def test_a_shared_channel_notification_without_a_table_is_explained():
    a = auditor(tables=(ORDERS, ITEMS), channel_tables={"changes": (ORDERS, ITEMS)},
                shared={"changes": ("public.customers",)})
    a.add_notice(notice('{"operation": "INSERT", "id": 77}', at=1.0, channel="changes"))
    (d,) = a.expire(now=10)
    assert d.kind == UNEXPECTED and d.table is None
    assert "public.customers" in d.reason and "public.items" in d.reason
    assert a.unattributed.unexpected == 1


@pytest.fixture
def comparisons(monkeypatch) -> list[int]:
    """How many times the engine asks whether a notification fits a change."""
    from pgwatch_gui.core.audit import auditor as engine

    calls = [0]
    real = engine.evidence

    def counted(*args, **kw):
        calls[0] += 1
        return real(*args, **kw)

    monkeypatch.setattr(engine, "evidence", counted)
    return calls


def test_one_big_transaction_is_matched_without_comparing_everything_with_everything(
        comparisons):
    n = 2000
    a = auditor()
    for i in range(n):  # one transaction: every notification first, as at COMMIT
        a.add_notice(notice(envelope("INSERT", i), at=1.0))
    for i in range(n):
        a.add_change(change("INSERT", i, at=1.5))
    assert a.counts[ORDERS].matched == n
    assert comparisons[0] <= 2 * n  # by key, not n * n


def test_a_bulk_write_whose_payloads_name_other_rows_stays_linear(comparisons):
    n = 2000
    a = auditor()
    for i in range(n):
        a.add_change(change("INSERT", i, at=1.0))
    for i in range(n):  # a trigger that sends the wrong id for every row
        a.add_notice(notice(envelope("INSERT", 100_000 + i), at=1.0))
    found = a.expire(now=10)
    assert a.counts[ORDERS].missing == n and a.counts[ORDERS].unexpected == n
    assert len(found) == 2 * n and comparisons[0] <= 2 * n


def test_a_payload_keyed_on_another_column_matches_in_a_small_transaction():
    a = auditor()
    a.add_change(Change(0, 1.0, ORDERS, "INSERT", {"id": 1}, {"id": 1, "sku": "A-1"}, xid=9))
    a.add_notice(notice(json.dumps({"v": 1, "op": "INSERT", "schema": "public",
                                    "table": "orders", "key": {"sku": "A-1"}, "txid": 9}),
                        at=1.0))
    assert a.counts[ORDERS].matched == 1


def test_a_pause_inside_a_transaction_is_not_the_end_of_it():
    a = auditor()
    for i in range(3):
        a.add_notice(notice(envelope("INSERT", i), at=1.0))
    a.add_change(change("INSERT", 0, at=1.2))
    # The stream pauses mid-transaction (a spilled transaction read back from disk):
    # quiet for longer than the grace period, but it has not reached the Commit.
    assert a.expire(now=5.0, stream_busy=True) == []
    a.add_change(change("INSERT", 1, at=6.0))
    a.add_change(change("INSERT", 2, at=6.1))
    assert a.counts[ORDERS].matched == 3


def test_no_change_is_missing_while_notifications_wait_to_be_handed_over():
    a = auditor()
    a.add_change(change("INSERT", 1, at=1.0))
    assert a.expire(now=5.0, listener_busy=True) == []  # its notification may be queued
    a.add_notice(notice(envelope("INSERT", 1), at=5.1))
    assert a.expire(now=9.0) == [] and a.counts[ORDERS].matched == 1
