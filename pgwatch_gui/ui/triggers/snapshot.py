"""What one refresh of the Tables dock read, and how a table's row shows it."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from pgwatch_gui.core.triggers import catalog, functions
from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.catalog import TableSummary, TriggerInfo
from pgwatch_gui.core.triggers.functions import Leftover

OURS = QColor("#1a7f37")
OTHER = QColor("#9a6700")


class Snapshot:
    """What one refresh read: tables, our triggers, other notify triggers, and the
    functions of ours that no trigger uses any more (leftovers)."""

    def __init__(self, tables: list[TableSummary], installed: list[triggers.Installed],
                 others: list[TriggerInfo], leftovers: list[Leftover] | None = None) -> None:
        self.tables = tables
        self.installed = {(i.schema, i.table): i for i in installed}
        self.others: dict[tuple[str, str], list[TriggerInfo]] = {}
        for t in others:
            self.others.setdefault((t.schema, t.table), []).append(t)
        self.leftovers = list(leftovers or ())


async def read_snapshot(conn) -> Snapshot:
    return Snapshot(await catalog.list_tables(conn), await triggers.list_installed(conn),
                    await catalog.notify_triggers(conn), await functions.leftovers(conn))


LEFTOVER_TIP = ("A function pgwatch-gui generated for a table, which no trigger uses any more "
                "(the table or its trigger was dropped). Remove all... drops it.")


def add_leftovers(tree: QTreeWidget, snapshot: Snapshot, role: int) -> QTreeWidgetItem | None:
    """A last top-level row listing the leftover functions, in amber; None when there are
    none. Its rows hold ("leftover", oid) under `role` (never a table to act on)."""
    if not snapshot.leftovers:
        return None
    n = len(snapshot.leftovers)
    top = QTreeWidgetItem(tree, [f"⚠ Leftover functions ({n})", "", "Remove all... drops them"])
    top.setData(0, role, ("leftovers",))
    top.setToolTip(0, LEFTOVER_TIP)
    for col in (0, 2):
        top.setForeground(col, QBrush(OTHER))
    for f in snapshot.leftovers:
        item = QTreeWidgetItem(top, [f.table, "", f"{f.reason} · {f.function}"])
        item.setData(0, role, ("leftover", f.oid))
        item.setForeground(2, QBrush(OTHER))
        item.setToolTip(0, f"{f.function}\n{LEFTOVER_TIP}")
        item.setToolTip(2, f"{f.function}: {f.reason}")
    top.setExpanded(True)
    return top


def mark(item: QTreeWidgetItem, t: TableSummary, snapshot: Snapshot) -> None:
    """The Notifies column of a table's row: our trigger (green), hand-written ones (amber)."""
    parts, tips = [], []
    inst = snapshot.installed.get((t.schema, t.name))
    if inst is not None:
        s = inst.spec
        chan = f"{s.channel}<{s.channel_column}>" if s.per_row_channel else s.channel
        n = inst.partitions
        reach = f", and its {n} partition{'s' if n > 1 else ''}" if n else ""
        parts.append(f"● pgwatch → {chan} ({s.payload}{reach and f', +{n} partitions'})")
        tips.append(f"pgwatch trigger: {', '.join(s.events)} → channel {chan}, "
                    f"payload {s.payload}{reach}" + "".join(f"\n⚠ {p}" for p in inst.problems))
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
    """Estimated rows, short: 950, 12k, 1.2M; ? when never analysed."""
    if n is None:
        return "?"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n // 1000}k"
    return str(n)
