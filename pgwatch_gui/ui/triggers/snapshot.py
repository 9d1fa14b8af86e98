"""What the Tables dock shows about a database: one catalog snapshot, and how a table's
row reads from it (estimated rows, the "Notifies" column and its tooltip)."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTreeWidgetItem

from pgwatch_gui.core.triggers import catalog
from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.catalog import TableSummary, TriggerInfo

OURS = QColor("#1a7f37")
OTHER = QColor("#9a6700")


class Snapshot:
    """What one refresh read: tables, our triggers, other notify triggers."""

    def __init__(self, tables: list[TableSummary], installed: list[triggers.Installed],
                 others: list[TriggerInfo]) -> None:
        self.tables = tables
        self.installed = {(i.schema, i.table): i for i in installed}
        self.others: dict[tuple[str, str], list[TriggerInfo]] = {}
        for t in others:
            self.others.setdefault((t.schema, t.table), []).append(t)


async def read_snapshot(conn) -> Snapshot:
    return Snapshot(await catalog.list_tables(conn), await triggers.list_installed(conn),
                    await catalog.notify_triggers(conn))


def mark(item: QTreeWidgetItem, t: TableSummary, snapshot: Snapshot) -> None:
    """The table's "Notifies" text, colour and tooltips."""
    parts, tips = [], []
    inst = snapshot.installed.get((t.schema, t.name))
    if inst is not None:
        s = inst.spec
        chan = f"{s.channel}<{s.channel_column}>" if s.per_row_channel else s.channel
        parts.append(f"● pgwatch → {chan} ({s.payload})")
        tips.append(f"pgwatch trigger: {', '.join(s.events)} → channel {chan}, "
                    f"payload {s.payload}" + "".join(f"\n⚠ {p}" for p in inst.problems))
        item.setForeground(2, QBrush(OURS))
    for o in snapshot.others.get((t.schema, t.name), []):
        chans = ", ".join(c.describe() for c in o.channels) or "?"
        parts.append(f"● {o.name} → {chans}")
        tips.append(f"hand-written trigger {o.name} ({o.function}): channels {chans}")
        if inst is None:
            item.setForeground(2, QBrush(OTHER))
    if inst is not None and inst.problems:
        parts[0] = "⚠ " + parts[0][2:]
    item.setText(2, "  ".join(parts))
    item.setToolTip(2, "\n".join(tips))
    item.setToolTip(0, f"{t.qualified} ({t.kind})")


def rows_text(n: int | None) -> str:
    if n is None:
        return "?"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n // 1000}k"
    return str(n)
