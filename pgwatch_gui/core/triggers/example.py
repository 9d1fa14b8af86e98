"""An example payload for a spec, built from the table's real columns (for previews).

The values are made up from each column's type; the shape (which keys appear for
which operation and mode, which columns are left out) is exactly what the generated
trigger sends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pgwatch_gui.core.triggers.body import sent_columns
from pgwatch_gui.core.triggers.spec import TriggerSpec

_TS = "2026-11-21T10:00:00.123456+00:00"


def sample_value(type_name: str, n: int = 42) -> Any:
    """A plausible JSON value for a column of this (format_type) type."""
    t = type_name.lower()
    if t.endswith("[]"):
        return [sample_value(t[:-2], n)]
    if t in ("smallint", "integer", "bigint") or t.startswith(("int", "serial", "bigserial")):
        return n
    if t.startswith(("numeric", "decimal")) or t in ("real", "double precision", "money"):
        return n + 0.5
    if t == "boolean":
        return True
    if t.startswith("timestamp") and "with time zone" in t:
        return _TS
    if t.startswith("timestamp"):
        return _TS[:26]
    if t == "date":
        return _TS[:10]
    if t.startswith("time"):
        return _TS[11:26]
    if t == "uuid":
        return "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    if t in ("json", "jsonb"):
        return {"example": True}
    if t == "bytea":
        return "\\x0102"
    if t == "interval":
        return "1 day"
    return "text"


def example_payload(spec: TriggerSpec, columns: Sequence[Any], key: Sequence[str] = (),
                    op: str = "UPDATE") -> dict[str, Any]:
    """The envelope `spec` would send for `op` on a table with these catalog columns."""
    keys = list(spec.key_columns or key)
    by_name = {c.name: c for c in columns}
    out_cols = sent_columns(spec, columns)
    new = {c.name: sample_value(c.type) for c in out_cols}
    changed = [c.name for c in out_cols if c.name not in keys][:1]
    old = dict(new)
    for name in changed:
        old[name] = sample_value(by_name[name].type, 41)
        if old[name] == new[name]:
            old[name] = "old text"
    payload: dict[str, Any] = {"v": 1, "op": op, "schema": spec.schema, "table": spec.table}
    if op == "TRUNCATE":
        payload["key"] = None
    else:
        payload["key"] = ({k: sample_value(by_name[k].type) for k in keys if k in by_name}
                          or None)
    if spec.payload != "keys" and op != "TRUNCATE":
        if op == "INSERT":
            payload["row"] = new
        elif op == "DELETE":
            payload["old"] = old
        elif spec.payload == "row":
            payload.update(row=new, old=old, changed=changed)
        else:
            payload.update(row={c: new[c] for c in changed}, old={c: old[c] for c in changed},
                           changed=changed)
    payload.update(seq=1, txid=123456, ts=_TS)
    return payload


def example_text(spec: TriggerSpec, columns: Sequence[Any], key: Sequence[str] = (),
                 op: str = "UPDATE") -> str:
    return json.dumps(example_payload(spec, columns, key, op), ensure_ascii=False, indent=2)
