"""Does a notification describe a change, and where do their values disagree?

`evidence(notice, change)` is None when the notification cannot be about the change
(another table, operation, transaction or key), else how much it says that it is:
the transaction (txid) counts most, then the key, the table and the operation. A
notification that says nothing (an empty payload) fits any change of its channel's
tables with evidence 0. `differences` lists the payload values that disagree with
the committed row; a fit with none is a match, a fit with some a mismatch.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pgwatch_gui.core.audit.records import Change, Notice, TableName, same_transaction
from pgwatch_gui.core.audit.values import same

TXID_WEIGHT = 8
KEY_WEIGHT = 4
TABLE_WEIGHT = 2
OP_WEIGHT = 1


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the payload disagrees with the committed change."""

    column: str  # a column; "old.<column>" for an UPDATE's old value; or a label below
    payload: Any
    committed: Any


OPERATION = "(operation)"
TRIGGER_ERROR = "(error)"


def names_table(notice: Notice, table: TableName) -> bool | None:
    """Whether the payload's table is `table`; None when the payload names none."""
    if notice.table is None:
        return None
    return notice.table == table[1] and (notice.schema is None or notice.schema == table[0])


def evidence(n: Notice, c: Change, channel_tables: Collection[TableName] | None = None, *,
             strict_op: bool = True) -> int | None:
    score = 0
    named = names_table(n, c.table)
    if named is False:
        return None
    if named:
        score += TABLE_WEIGHT
    elif channel_tables is not None and c.table not in channel_tables:
        return None
    if n.op is not None:
        if n.op == c.op:
            score += OP_WEIGHT
        elif strict_op:
            return None
    txn = same_transaction(n.txid, c.xid)
    if txn is False:
        return None
    if txn:
        score += TXID_WEIGHT
    ident = identity(n, c)
    if ident is None:
        return None
    return score + ident * KEY_WEIGHT


def identity(n: Notice, c: Change) -> int | None:
    """1: the payload names the change's row; 0: it names no row; None: another row."""
    if c.op == "TRUNCATE":
        return None if (n.ident or n.scalar is not None or n.row) else 0
    target = c.ident or {}
    if n.ident:
        compared = 0
        for col, value in n.ident.items():
            if col in target:
                committed = target[col]
            elif c.row and col in c.row:
                committed = c.row[col]
            elif len(n.ident) == 1 and c.key and len(c.key) == 1:
                committed = next(iter(c.key.values()))  # {"id": 7} for key order_id
            else:
                continue
            if not same(value, committed):
                return None
            compared += 1
        return 1 if compared else 0
    if n.scalar is not None:
        if not c.key:
            return 0
        return 1 if any(same(n.scalar, v) for v in c.key.values()) else None
    if n.row:
        common = [k for k in target if k in n.row and k not in c.unchanged]
        if not common:
            return 0
        return 1 if all(same(n.row[k], target[k]) for k in common) else None
    return 0


def differences(n: Notice, c: Change) -> list[Difference]:
    out: list[Difference] = []
    if n.op is not None and n.op != c.op:
        out.append(Difference(OPERATION, n.op, c.op))
    if n.error:
        out.append(Difference(TRIGGER_ERROR, n.error, None))
    if n.row and c.row:
        skip = c.unchanged
        for col, value in n.row.items():
            if col in c.row and col not in skip and not same(value, c.row[col]):
                out.append(Difference(col, value, c.row[col]))
    if n.old and c.old:
        for col, value in n.old.items():
            if col in c.old and not same(value, c.old[col]):
                out.append(Difference(f"old.{col}", value, c.old[col]))
    return out


def sends_old_row(n: Notice, c: Change) -> bool:
    """The payload's row is the UPDATE's old row (OLD sent where NEW was meant)."""
    if c.op != "UPDATE" or not n.row or not c.old:
        return False
    common = [k for k in n.row if k in c.old and k in (c.row or {})]
    changed = [k for k in common if not same(c.old[k], (c.row or {})[k])]
    return bool(changed) and all(same(n.row[k], c.old[k]) for k in common)
