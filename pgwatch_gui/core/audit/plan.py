"""What an audit covers, read before anything runs: tables, their notify triggers, the
channels to listen on, and the publication the change stream needs (its SQL first).

The channels default to those the tables' notify triggers send on: this tool's
triggers (from their stored spec) and hand-written ones (read from the function's
source by core/triggers/discovery.py). A channel built per row or computed cannot be
listened to ahead of time; it is named in a warning and must be given explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import psycopg

from pgwatch_gui.core.audit.reasons import TableFacts, TriggerFacts
from pgwatch_gui.core.audit.records import TableName, table_text
from pgwatch_gui.core.pg.connection import one_line
from pgwatch_gui.core.pg.notify import NotifyError, check_channel
from pgwatch_gui.core.replication.preview import Preview, preview
from pgwatch_gui.core.replication.publication import Setup, WatchPlan
from pgwatch_gui.core.triggers import catalog
from pgwatch_gui.core.triggers.catalog import CatalogError, TriggerInfo
from pgwatch_gui.core.triggers.discovery import FIXED

_WHEN = re.compile(
    r"\bFOR EACH (?:ROW|STATEMENT)\s+WHEN \((.*)\)\s+EXECUTE (?:FUNCTION|PROCEDURE)\b", re.S)
_UPDATE_OF = re.compile(r"\bUPDATE OF (.+?) (?:OR |ON )", re.S)


class AuditRefused(Exception):
    """The audit cannot run as asked; str() is one line saying why and what to do."""


@dataclass(frozen=True)
class AuditPlan:
    tables: tuple[TableFacts, ...]
    channels: tuple[str, ...]  # to LISTEN on
    channel_tables: dict[str, tuple[TableName, ...]] = field(default_factory=dict)
    shared: dict[str, tuple[str, ...]] = field(default_factory=dict)  # tables not audited
    warnings: tuple[str, ...] = ()
    preview: Preview | None = None  # the publication, as SQL, before it is created
    discovered: tuple[str, ...] = ()  # the channels the triggers send on

    @property
    def names(self) -> tuple[TableName, ...]:
        return tuple(t.name for t in self.tables)

    def describe(self) -> str:
        return ", ".join(t.text for t in self.tables)

    @property
    def refused(self) -> str | None:
        """Why the audit cannot start as planned (None: it can)."""
        if not self.channels:
            return (f"no notify trigger on {self.describe()} sends on a fixed channel: give "
                    "the channels to listen on (-c CHANNEL)")
        pv = self.preview
        if pv is not None and pv.setup is None:
            return pv.refused or "the change stream cannot start"
        return None

    def setup(self, identity_full: bool = False) -> Setup | None:
        pv = self.preview
        if pv is None:
            return None
        return pv.with_full if identity_full else pv.setup

    def with_channels(self, channels: Sequence[str]) -> AuditPlan:
        """The same plan listening on `channels` instead (each checked: NotifyError)."""
        chosen = tuple(dict.fromkeys(check_channel(c) for c in channels))
        return replace(self, channels=chosen)


def trigger_facts(t: TriggerInfo) -> TriggerFacts:
    spec = t.stored.spec if t.is_pgwatch and t.stored is not None else None
    if spec is not None:
        channels = () if spec.per_row_channel else (spec.channel,)
        when, update_of = spec.when, spec.update_of
    else:
        channels = tuple(c.name for c in t.channels if c.kind == FIXED)
        m = _WHEN.search(t.definition or "")
        when = _unwrap(m[1]) if m else None
        u = _UPDATE_OF.search(t.definition or "")
        update_of = tuple(c.strip() for c in u[1].split(",")) if u else ()
    return TriggerFacts(t.name, t.events, t.enabled, when, update_of, channels,
                        t.level == "ROW")


def _unwrap(text: str) -> str:
    """'(new.a > 0)' -> 'new.a > 0': pg_get_triggerdef wraps the condition once more."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, ch in enumerate(text):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i < len(text) - 1:
                return text  # '(a) AND (b)': not one wrapping pair
        return text[1:-1].strip()
    return text


def _unlistenable(t: TriggerInfo) -> list[str]:
    if t.is_pgwatch and t.stored is not None:
        s = t.stored.spec
        return [f"{s.channel}<{s.channel_column}>"] if s.per_row_channel else []
    return [c.describe() for c in t.channels if c.kind != FIXED]


async def plan_audit(conn: psycopg.AsyncConnection, tables: Sequence[tuple[str | None, str]],
                     channels: Sequence[str] = ()) -> AuditPlan:
    """Read what to audit; AuditRefused (one line) for a table that is not there."""
    if not tables:
        raise AuditRefused("give at least one table to audit (--table)")
    try:
        given = tuple(dict.fromkeys(check_channel(c) for c in channels))
    except NotifyError as exc:
        raise AuditRefused(str(exc)) from None
    facts: list[TableFacts] = []
    warnings: list[str] = []
    discovered: list[str] = []
    channel_tables: dict[str, list[TableName]] = {}
    try:
        for schema, name in tables:
            info = await catalog.table_info(conn, schema, name)
            if any(f.name == (info.schema, info.name) for f in facts):
                continue
            notifying = [t for t in info.triggers if t.is_pgwatch or t.notifies]
            found = tuple(trigger_facts(t) for t in notifying)
            facts.append(TableFacts((info.schema, info.name), info.key, found))
            for t, tf in zip(notifying, found, strict=True):
                for ch in tf.channels:
                    discovered.append(ch)
                    channel_tables.setdefault(ch, []).append((info.schema, info.name))
                for what in _unlistenable(t):
                    warnings.append(f"{info.qualified}: trigger {t.name} sends on {what}, a "
                                    "channel chosen per row: give the channels to listen on "
                                    "(-c)")
            if not notifying:
                warnings.append(f"{info.qualified} has no notify trigger: each of its changes "
                                "will be missing")
            if not info.key:
                warnings.append(f"{info.qualified} has no key: changes match notifications "
                                "on the whole row")
        shared = await _shared_channels(conn, {f.name for f in facts}, set(discovered) |
                                        set(given))
        pv = await preview(conn, WatchPlan(tables=tuple(f.name for f in facts)))
    except CatalogError as exc:
        raise AuditRefused(str(exc)) from None
    except psycopg.Error as exc:
        raise AuditRefused(one_line(exc)) from None
    return AuditPlan(
        tuple(facts), given or tuple(dict.fromkeys(discovered)),
        {ch: tuple(dict.fromkeys(ts)) for ch, ts in channel_tables.items()},
        shared, tuple(warnings), pv, tuple(dict.fromkeys(discovered)))


async def _shared_channels(conn: psycopg.AsyncConnection, audited: set[TableName],
                           channels: set[str]) -> dict[str, tuple[str, ...]]:
    """Channels that notify triggers of tables not audited send on too."""
    if not channels:
        return {}
    out: dict[str, list[str]] = {}
    for t in await catalog.list_triggers(conn):
        if (t.schema, t.table) in audited or not (t.is_pgwatch or t.notifies):
            continue
        for ch in trigger_facts(t).channels:
            if ch in channels:
                out.setdefault(ch, []).append(table_text((t.schema, t.table)) or "")
    return {ch: tuple(dict.fromkeys(ts)) for ch, ts in out.items()}
