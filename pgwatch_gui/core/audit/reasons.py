"""Why a change went without its notification, and what a discrepancy means, in words.

The audit knows each table's notify triggers (`TableFacts`, read from the catalog by
core/audit/plan.py): their events, WHEN condition, UPDATE OF columns and whether they
are enabled. A missing notification is explained by the first fact that accounts for
it (no trigger fires on the operation, a WHEN, a row too big for pg_notify), and
otherwise by what leaves no other trace: a session with
`session_replication_role = replica`, where ordinary triggers do not fire.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgwatch_gui.core.audit.matching import (
    OPERATION,
    TRIGGER_ERROR,
    Difference,
    sends_old_row,
)
from pgwatch_gui.core.audit.records import Change, Notice, TableName, table_text
from pgwatch_gui.core.audit.values import json_size
from pgwatch_gui.core.pg.notify import MAX_PAYLOAD_BYTES

MAX_SHOWN = 80  # longest value a reason quotes


@dataclass(frozen=True)
class TriggerFacts:
    """A notify trigger on an audited table, as far as the audit needs it."""

    name: str
    events: tuple[str, ...]  # INSERT, UPDATE, DELETE, TRUNCATE
    enabled: bool = True
    when: str | None = None
    update_of: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # fixed channels it sends on
    row_level: bool = True


@dataclass(frozen=True)
class TableFacts:
    name: TableName
    key: tuple[str, ...] = ()
    triggers: tuple[TriggerFacts, ...] = ()

    @property
    def text(self) -> str:
        return table_text(self.name) or ""


REPLICA_ROLE = ("written with session_replication_role = replica (pg_restore "
                "--disable-triggers, a logical replication subscriber, some bulk loaders and "
                "migration tools), where ordinary triggers do not fire")


def _triggers_on(facts: TableFacts | None, op: str) -> list[TriggerFacts]:
    if facts is None:
        return []
    return [t for t in facts.triggers if op in t.events]


def _names(triggers: list[TriggerFacts] | tuple[TriggerFacts, ...]) -> str:
    return ", ".join(t.name for t in triggers)


def missing_reason(c: Change, facts: TableFacts | None, *, merged_with: Change | None = None,
                   grace: float = 2.0) -> str:
    """Why no notification came for `c`: the likeliest cause the catalog shows."""
    table = table_text(c.table)
    if merged_with is not None:
        return (f"PostgreSQL delivers identical payloads sent on one channel in one "
                f"transaction once: this {c.op} sent the same payload as the "
                f"{merged_with.op} of the same row before it in transaction {c.xid}, so one "
                f"notification stands for both")
    if facts is not None and not facts.triggers:
        return f"no notify trigger found on {table}"
    firing = _triggers_on(facts, c.op)
    if facts is not None and not firing:
        what = "; ".join(f"{t.name} fires on {', '.join(t.events)} only"
                         for t in facts.triggers)
        return f"no notify trigger on {table} fires on {c.op} ({what})"
    enabled = [t for t in firing if t.enabled]
    if firing and not enabled:
        return f"the notify trigger {_names(firing)} is disabled"
    size = json_size(c.row) if c.row else 0
    if size > MAX_PAYLOAD_BYTES:
        return (f"the row is {size:,} bytes as JSON: pg_notify refuses a payload of "
                f"{MAX_PAYLOAD_BYTES + 1:,} bytes or more, and a trigger that catches that error "
                "sends nothing (one that does not makes the write fail instead)")
    hints = []
    if c.op == "UPDATE":
        narrow = [t for t in enabled if t.update_of]
        if narrow and len(narrow) == len(enabled):
            cols = ", ".join(narrow[0].update_of)
            hints.append(f"{narrow[0].name} fires only on UPDATE OF {cols}")
    when = [t for t in enabled if t.when]
    if when:
        hints.append(f"the WHEN ({_cut(when[0].when or '')}) of {when[0].name} skipped it")
    hints.append(REPLICA_ROLE)
    if facts is None:
        return (f"no notification for it within {grace:g} s on the channels listened to: "
                + ", or ".join(hints))
    return f"no notification within {grace:g} s: " + ", or ".join(hints)


def mismatch_reason(n: Notice, c: Change, diffs: list[Difference]) -> str:
    parts = []
    op = next((d for d in diffs if d.column == OPERATION), None)
    if op is not None:
        parts.append(f"the payload says {op.payload}, the committed change is an {c.op}")
    err = next((d for d in diffs if d.column == TRIGGER_ERROR), None)
    if err is not None:
        parts.append(f"the trigger sent an error instead of the row: {_cut(str(err.payload))}")
    values = [d for d in diffs if d.column not in (OPERATION, TRIGGER_ERROR)]
    if values and sends_old_row(n, c):
        parts.append("the payload carries the row as it was before the UPDATE (OLD where "
                     "NEW was meant)")
    elif values:
        shown = "; ".join(f"{d.column}: {_show(d.payload)} in the payload, {_show(d.committed)} "
                          "committed" for d in values[:3])
        more = f" (and {len(values) - 3} more)" if len(values) > 3 else ""
        hint = " (OLD sent for an UPDATE?)" if c.op == "UPDATE" and not c.old else ""
        parts.append(f"{len(values)} value(s) differ from the committed row{hint}: {shown}{more}")
    return "; ".join(parts) or "the payload disagrees with the committed change"


def unexpected_reason(n: Notice, table: TableName | None, candidates: list[TableName],
                      shared_with: tuple[str, ...] = (), grace: float = 2.0) -> str:
    if table is None and len(candidates) > 1:
        where = "; it could be about " + ", ".join(table_text(t) or "" for t in candidates)
    else:
        where = ""
    said = []
    if n.op:
        said.append(n.op)
    if n.ident:
        said.append(", ".join(f"{k}={_show(v)}" for k, v in n.ident.items()))
    elif n.scalar is not None:
        said.append(_show(n.scalar))
    if n.txid is not None:
        said.append(f"txid {n.txid}")
    about = f" ({' '.join(said)})" if said else ""
    text = (f"no committed row change matches this notification{about} within {grace:g} s: "
            "sent by an application or by hand (NOTIFY, pg_notify), or by a trigger whose "
            f"payload names another row or operation{where}")
    if shared_with and n.table is None:
        text += (f"; channel {n.channel!r} is also notified for tables not audited "
                 f"({', '.join(shared_with)}) and the payload does not name its table")
    return text


def _cut(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(_cut(value))
    return _cut(str(value))
