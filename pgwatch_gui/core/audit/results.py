"""What an audit finds: counters per table, and each discrepancy with its evidence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pgwatch_gui.core.audit.matching import Difference
from pgwatch_gui.core.audit.records import Change, Notice, TableName, table_text
from pgwatch_gui.core.audit.values import plain

MISSING = "missing"  # a committed change without its notification
MISMATCHED = "mismatched"  # a notification whose values disagree with the committed row
UNEXPECTED = "unexpected"  # a notification without a committed change
GAP = "gap"  # a stream was interrupted: what happened meanwhile is not audited
KINDS = (MISSING, MISMATCHED, UNEXPECTED, GAP)


@dataclass
class Counts:
    matched: int = 0
    missing: int = 0
    mismatched: int = 0
    unexpected: int = 0
    waiting: int = 0  # changes read and not decided yet

    @property
    def changes(self) -> int:
        """Changes decided: matched, missing or mismatched."""
        return self.matched + self.missing + self.mismatched

    @property
    def clean(self) -> bool:
        return not (self.missing or self.mismatched)

    @classmethod
    def total(cls, counts: Iterable[Counts]) -> Counts:
        out = cls()
        for c in counts:
            out.matched += c.matched
            out.missing += c.missing
            out.mismatched += c.mismatched
            out.unexpected += c.unexpected
            out.waiting += c.waiting
        return out

    def as_dict(self) -> dict[str, int]:
        return {"changes": self.changes, "matched": self.matched, "missing": self.missing,
                "mismatched": self.mismatched, "unexpected": self.unexpected}


@dataclass(frozen=True)
class Discrepancy:
    kind: str
    table: TableName | None
    reason: str
    at: float = 0.0
    change: Change | None = None
    notice: Notice | None = None
    differences: tuple[Difference, ...] = field(default=())

    @property
    def table_text(self) -> str | None:
        return table_text(self.table)

    @property
    def op(self) -> str | None:
        if self.change is not None:
            return self.change.op
        return self.notice.op if self.notice is not None else None

    @property
    def key(self) -> Any:
        if self.change is not None:
            return self.change.key
        n = self.notice
        if n is None:
            return None
        if n.ident:
            return n.ident
        return n.scalar

    @property
    def txid(self) -> int | None:
        if self.change is not None and self.change.xid is not None:
            return self.change.xid
        return self.notice.txid if self.notice is not None else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON Lines record: what, where, why, and both sides as they were."""
        out: dict[str, Any] = {"kind": self.kind, "table": self.table_text, "op": self.op,
                               "key": self.key, "txid": self.txid, "reason": self.reason}
        c, n = self.change, self.notice
        if c is not None:
            out["committed"] = c.row
            if c.old is not None:
                out["committed_old"] = c.old
        if n is not None:
            out["channel"] = n.channel
            out["payload"] = n.payload
        if self.differences:
            out["differences"] = [{"column": d.column, "payload": d.payload,
                                   "committed": d.committed} for d in self.differences]
        return plain(out)
