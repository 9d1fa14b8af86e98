"""Where waiting changes and notifications are found again, without scanning them all.

A bulk write of 20,000 rows is one transaction: 20,000 notifications with one txid, and
20,000 changes with one xid. Looking a counterpart up by transaction alone would compare
every change with every notification. So each waiting item is filed by table and by the
values of the row's key (`row_key`: the values only, as a set, since a payload may call the
key "id" where the table calls it "order_id"), by transaction, and by table; an item whose
key cannot be told (an empty payload, TRUNCATE) is filed as loose for its table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pgwatch_gui.core.audit.records import XID_MASK, Change, Notice, TableName
from pgwatch_gui.core.audit.values import norm

RowKey = frozenset
SCAN_LIMIT = 200  # the most items of one transaction looked through for an unkeyed match


def row_key(values: Iterable[Any]) -> RowKey | None:
    try:
        key = frozenset(norm(v) for v in values)
    except TypeError:  # something unhashable slipped through: no key, found by a scan
        return None
    return key or None


def change_key(c: Change) -> RowKey | None:
    """The change's key values (worked out once, kept on the change)."""
    if c.row_key is None and c.key:
        c.row_key = row_key(c.key.values())
    return c.row_key


def notice_key(n: Notice, key_columns: tuple[str, ...]) -> RowKey | None:
    """The key values a notification names for a table whose stream key is
    `key_columns` (every column of a table without a key)."""
    if n.ident:
        if key_columns and all(k in n.ident for k in key_columns):
            return row_key(n.ident[k] for k in key_columns)
        if key_columns and n.row and all(k in n.row for k in key_columns):
            return row_key(n.row[k] for k in key_columns)  # keyed on other columns
        return row_key(n.ident.values())
    if n.scalar is not None:
        return row_key((n.scalar,))
    if n.row:
        if key_columns:
            if all(k in n.row for k in key_columns):
                return row_key(n.row[k] for k in key_columns)
            return None
        return row_key(n.row.values())
    return None


class Waiting:
    """One side's waiting items (changes, or notifications), filed several ways."""

    def __init__(self) -> None:
        self.items: dict[int, Any] = {}  # id(item) -> item, in arrival order
        self.by_key: dict[tuple[TableName, RowKey], dict[int, Any]] = {}
        self.loose: dict[TableName, dict[int, Any]] = {}
        self.by_table: dict[TableName, dict[int, Any]] = {}
        self.by_xid: dict[int, dict[int, Any]] = {}
        self._filed: dict[int, list[tuple[dict, Any]]] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: object) -> bool:
        return id(item) in self.items

    def values(self) -> Iterator[Any]:
        return iter(list(self.items.values()))

    def add(self, item: Change | Notice, keys: dict[TableName, RowKey | None],
            xid: int | None) -> None:
        i = id(item)
        self.items[i] = item
        filed: list[tuple[dict, Any]] = []
        for table, key in keys.items():
            if key is None:
                filed.append((self.loose, table))
            else:
                filed.append((self.by_key, (table, key)))
            filed.append((self.by_table, table))
        if xid is not None:
            filed.append((self.by_xid, xid & XID_MASK))
        for container, k in filed:
            container.setdefault(k, {})[i] = item
        self._filed[i] = filed

    def remove(self, item: object) -> bool:
        i = id(item)
        if self.items.pop(i, None) is None:
            return False
        for container, k in self._filed.pop(i, ()):
            bucket = container.get(k)
            if bucket is not None:
                bucket.pop(i, None)
                if not bucket:
                    del container[k]
        return True

    def near(self, table: TableName, key: RowKey | None, xid: int | None) -> list[Any]:
        """The items that may be the counterpart of one with this table, key and
        transaction: the same key (and those whose key is unknown); without a key, the
        transaction's (or the table's); when none, the transaction's, whatever their key."""
        if key is not None:
            found = [*self.by_key.get((table, key), {}).values(),
                     *self.loose.get(table, {}).values()]
        else:
            in_table = self.by_table.get(table, {})
            in_txn = self.by_xid.get(xid & XID_MASK, {}) if xid is not None else None
            found = list((in_txn if in_txn is not None and len(in_txn) < len(in_table)
                          else in_table).values())
        if not found and xid is not None:
            # A key the other side names differently (a payload keyed on another column):
            # look through the transaction, unless it is a bulk write, where doing that for
            # every row would compare every row with every other.
            in_txn = self.by_xid.get(xid & XID_MASK, {})
            if len(in_txn) <= SCAN_LIMIT:
                found = list(in_txn.values())
        return found
