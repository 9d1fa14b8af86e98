"""An audit as lines: JSON Lines for CI jobs, text for people.

JSON Lines: one object per discrepancy (`Discrepancy.to_dict`), then one summary per
table: `{"summary": true, "table": "public.orders", "changes": N, "matched": N,
"missing": N, "mismatched": N, "unexpected": N}` (and one with `"table": null` for
unexpected notifications that name no audited table, when there are any).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from pgwatch_gui.core.audit.records import TableName, table_text
from pgwatch_gui.core.audit.results import Counts, Discrepancy
from pgwatch_gui.core.audit.values import plain
from pgwatch_gui.core.stream.events import format_key
from pgwatch_gui.core.stream.payload_view import compact, parse_exact, pretty
from pgwatch_gui.core.stream.safe_text import strict_json, visible

COLUMNS = ("changes", "matched", "missing", "mismatched", "unexpected")


def discrepancy_line(d: Discrepancy, fmt: str) -> str:
    if fmt == "jsonl":
        return strict_json(d.to_dict())
    clock = time.strftime("%H:%M:%S", time.localtime(d.at)) if d.at else "--:--:--"
    key = d.key
    key_text = format_key(key) if isinstance(key, dict) else ("" if key is None else str(key))
    where = " ".join(x for x in (d.table_text or "?", d.op or "", key_text) if x)
    txid = f" (txid {d.txid})" if d.txid is not None else ""
    return visible(f"{clock}  {d.kind.upper():<10}  {where}{txid}: {d.reason}")


def summary_lines(counts: Mapping[TableName, Counts], unattributed: Counts, fmt: str
                  ) -> list[str]:
    rows: list[tuple[str | None, Counts]] = [(table_text(t), c) for t, c in counts.items()]
    if unattributed.unexpected:
        rows.append((None, unattributed))
    if fmt == "jsonl":
        return [strict_json({"summary": True, "table": name, **c.as_dict()})
                for name, c in rows]
    width = max([len("table"), *(len(visible(n or "(no table)")) for n, _ in rows)])
    out = [f"{'table':<{width}}  " + "  ".join(f"{h:>10}" for h in COLUMNS)]
    for name, c in rows:
        values = c.as_dict()
        out.append(f"{visible(name or '(no table)'):<{width}}  "
                   + "  ".join(f"{values[h]:>10}" for h in COLUMNS))
    return out


def verdict(counts: Mapping[TableName, Counts], unattributed: Counts) -> str:
    """One line: what the exit status says."""
    total = Counts.total([*counts.values(), unattributed])
    if total.clean:
        extra = f" ({total.unexpected} unexpected notification(s))" if total.unexpected else ""
        return f"every change matched its notification: {total.matched} of {total.changes}{extra}"
    return (f"{total.missing} missing, {total.mismatched} mismatched of {total.changes} "
            f"change(s); {total.unexpected} unexpected notification(s)")


def sides(d: Discrepancy) -> tuple[str, str, str]:
    """(the committed change, the notification, how they differ), as text to show side
    by side: the row as the stream gave it, the payload exactly as it was sent."""
    c, n = d.change, d.notice
    if c is not None:
        head = f"-- committed {c.op} of {table_text(c.table)}"
        head += f", transaction {c.xid}" if c.xid is not None else ""
        body = {"row" if c.op != "DELETE" else "old": c.row}
        if c.old is not None:
            body["old"] = c.old
        if c.unchanged:
            body["unchanged_toast"] = sorted(c.unchanged)
        committed = f"{head}\n{pretty(plain(body))}\n"
    else:
        committed = "-- no committed row change matches this notification\n"
    if n is not None:
        try:
            shown = pretty(parse_exact(n.payload))
        except (ValueError, RecursionError):
            shown = n.payload
        size = len(n.payload.encode("utf-8", "replace"))
        notified = f"-- notification on {n.channel!r} ({size:,} bytes, pid {n.pid})\n{shown}\n"
    else:
        notified = "-- no notification for this change\n"
    why = d.reason
    if len(d.differences) > 3:  # the reason names three; all of them here
        why += "\n" + "\n".join(f"{x.column}: {compact(x.payload)} in the payload, "
                                 f"{compact(x.committed)} committed" for x in d.differences)
    return committed, notified, why
