"""TriggerSpec: what a pgwatch notify trigger on one table does, and its JSON form.

The spec is what the user chose; it is stored as JSON in COMMENT ON TRIGGER so that
the tool can list, show, change and remove what it installed. Checking a spec
against the table's real columns happens in `check_spec` (no database needed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from pgwatch_gui.core.pg.names import qualified
from pgwatch_gui.core.pg.notify import MAX_CHANNEL_BYTES, NotifyError, check_channel
from pgwatch_gui.core.triggers.when import when_problem

EVENTS = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
ROW_EVENTS = ("INSERT", "UPDATE", "DELETE")
PAYLOAD_MODES = ("keys", "row", "diff")
DEFAULT_EVENTS = ROW_EVENTS
DEFAULT_CHANNEL = "pgwatch"
TRIGGER_NAME = "pgwatch_notify"
TRUNCATE_TRIGGER_NAME = "pgwatch_notify_truncate"
TRIGGER_NAMES = (TRIGGER_NAME, TRUNCATE_TRIGGER_NAME)
SPEC_FORMAT = 1  # the "pgwatch" version number in the trigger comment


class SpecError(ValueError):
    """A spec that cannot be installed as it stands (the message says why)."""


def _tuple(values: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(values or ())


@dataclass(frozen=True)
class TriggerSpec:
    """A notify trigger on `schema.table`.

    channel: the fixed channel, or with `channel_column` the prefix of a per-row
    channel (prefix || value of that column). key_columns empty means the primary
    key, else the replica identity index.
    """

    schema: str
    table: str
    events: tuple[str, ...] = DEFAULT_EVENTS
    channel: str = DEFAULT_CHANNEL
    channel_column: str | None = None
    payload: str = "keys"
    exclude: tuple[str, ...] = ()
    when: str | None = None
    update_of: tuple[str, ...] = ()
    key_columns: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # Normalise: upper-case events in canonical order, tuples, no blank WHEN.
        events = {e.strip().upper() for e in self.events}
        object.__setattr__(self, "events", tuple(e for e in EVENTS if e in events)
                           + tuple(sorted(events - set(EVENTS))))
        for name in ("exclude", "update_of", "key_columns"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        when = (self.when or "").strip()
        object.__setattr__(self, "when", when or None)
        object.__setattr__(self, "channel_column", self.channel_column or None)

    @property
    def qualified_table(self) -> str:
        return qualified(self.schema, self.table)

    @property
    def row_events(self) -> tuple[str, ...]:
        return tuple(e for e in self.events if e in ROW_EVENTS)

    @property
    def per_row_channel(self) -> bool:
        return self.channel_column is not None

    def with_table(self, schema: str, table: str) -> TriggerSpec:
        return replace(self, schema=schema, table=table)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("events", "exclude", "update_of", "key_columns"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TriggerSpec:
        known = set(cls.__dataclass_fields__)
        kwargs = {k: v for k, v in d.items() if k in known}
        for k in ("events", "exclude", "update_of", "key_columns"):
            if k in kwargs:
                kwargs[k] = tuple(kwargs[k] or ())
        return cls(**kwargs)


def suggest_channel(table: str) -> str:
    """A channel named after the table: "Order Items" -> "order_items"."""
    name = "".join(c if c.isalnum() and c.isascii() else "_" for c in table.lower())
    name = "_".join(p for p in name.split("_") if p)
    return name[:MAX_CHANNEL_BYTES - 1] or DEFAULT_CHANNEL


def check_spec(spec: TriggerSpec, columns: Sequence[str], key: Sequence[str] = ()) -> None:
    """Raise SpecError when `spec` cannot be installed on a table with these columns.

    `key` is the table's own key (primary key or replica identity), used when the
    spec names no key columns.
    """
    if not spec.events:
        raise SpecError("choose at least one event (INSERT, UPDATE, DELETE, TRUNCATE)")
    unknown = [e for e in spec.events if e not in EVENTS]
    if unknown:
        raise SpecError(
            f"unknown event {unknown[0]!r}; choose from insert, update, delete, truncate")
    if spec.payload not in PAYLOAD_MODES:
        raise SpecError(f"unknown payload mode {spec.payload!r}; choose keys, row or diff")
    try:
        check_channel(spec.channel)
    except NotifyError as exc:
        what = "channel prefix" if spec.per_row_channel else "channel"
        raise SpecError(f"{what}: {exc}") from None
    where = f"table {spec.qualified_table}"
    have = set(columns)

    def need(cols: Iterable[str], what: str) -> None:
        for c in cols:
            if c not in have:
                raise SpecError(f"{what}: {where} has no column {c!r}")

    need(spec.exclude, "excluded column")
    need(spec.update_of, "UPDATE OF")
    need(spec.key_columns, "key column")
    if spec.channel_column is not None:
        need([spec.channel_column], "channel column")
        if spec.channel_column in spec.exclude:
            raise SpecError(
                f"column {spec.channel_column!r} is excluded, but its value would be "
                "visible in the channel name"
            )
        if len(spec.channel.encode()) >= MAX_CHANNEL_BYTES:
            raise SpecError("the channel prefix leaves no room for the column's value")
    keys = spec.key_columns or tuple(key)
    hidden = [k for k in keys if k in spec.exclude]
    if hidden:
        raise SpecError(
            f"column {hidden[0]!r} is a key column and every payload carries the key; "
            "choose other key columns or do not exclude it"
        )
    if spec.update_of and "UPDATE" not in spec.events:
        raise SpecError("UPDATE OF columns need the UPDATE event")
    if len(set(spec.update_of)) != len(spec.update_of):
        raise SpecError("UPDATE OF names a column twice")
    if spec.when and not spec.row_events:
        raise SpecError("a WHEN condition needs a row event (INSERT, UPDATE or DELETE)")
    if spec.when and "\x00" in spec.when:
        raise SpecError("the WHEN condition contains a NUL character")
    if spec.when and (problem := when_problem(spec.when)):
        raise SpecError(f"WHEN condition: {problem}")


@dataclass(frozen=True)
class Stored:
    """What COMMENT ON TRIGGER holds: the spec plus what was written into the function."""

    spec: TriggerSpec
    key: tuple[str, ...]
    columns: tuple[str, ...]
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"pgwatch": SPEC_FORMAT, "spec": self.spec.to_dict(), "key": list(self.key),
                "columns": list(self.columns), "version": self.version}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_comment(cls, text: str | None) -> Stored | None:
        """The stored spec, or None when the comment is not one of ours."""
        if not text or not text.lstrip().startswith("{"):
            return None
        try:
            d = json.loads(text)
            if not isinstance(d, dict) or d.get("pgwatch") != SPEC_FORMAT:
                return None
            return cls(TriggerSpec.from_dict(d["spec"]), tuple(d.get("key") or ()),
                       tuple(d.get("columns") or ()), str(d.get("version") or ""))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


@dataclass(frozen=True)
class FunctionMark:
    """What COMMENT ON FUNCTION holds for one of this tool's functions: the oid of the one
    table it was made for, and the stored spec (so a trigger that lost its own comment,
    such as one a detached partition kept, is still recognised)."""

    table_oid: int
    stored: Stored

    def to_json(self) -> str:
        return json.dumps({**self.stored.to_dict(), "table_oid": self.table_oid},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_comment(cls, text: str | None) -> FunctionMark | None:
        stored = Stored.from_comment(text)
        if stored is None:
            return None
        try:
            oid = json.loads(text or "")["table_oid"]
        except (ValueError, TypeError, KeyError):
            return None
        if not isinstance(oid, int) or isinstance(oid, bool) or oid <= 0:
            return None
        return cls(oid, stored)
