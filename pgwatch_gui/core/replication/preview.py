"""What watching would do, before anything runs: for a dialog that shows the SQL first.

`preview` asks the server and plans the publication twice: as it is, and with
REPLICA IDENTITY FULL on the chosen tables (old rows in every UPDATE and DELETE, at
the cost of writing them to WAL). Either may be refused; the refusal is one line.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from pgwatch_gui.core.pg.connection import one_line
from pgwatch_gui.core.replication.checks import (
    ReplicationRefused,
    explain,
    gather_facts,
    refusal,
)
from pgwatch_gui.core.replication.publication import (
    Leftover,
    Setup,
    WatchPlan,
    existing_publications,
    leftovers,
    plan_setup,
)

IDENTITY_FULL_COST = (
    "REPLICA IDENTITY FULL makes every UPDATE and DELETE on the table write the whole old "
    "row to WAL (more WAL, disk and replication traffic on a busy table), and a replica "
    "without a key must scan for the row. It stays set after watching stops; undo it with "
    "ALTER TABLE ... REPLICA IDENTITY DEFAULT.")


@dataclass(frozen=True)
class Preview:
    plan: WatchPlan
    setup: Setup | None  # as the tables are; None when refused
    refused: str | None
    with_full: Setup | None  # with REPLICA IDENTITY FULL set first; None when refused
    refused_with_full: str | None = None
    leftovers: tuple[Leftover, ...] = ()  # publications of streams that ended uncleanly
    publications: tuple[str, ...] = ()  # existing ones (not this tool's), to use instead

    @property
    def can_start(self) -> bool:
        return self.setup is not None or self.with_full is not None


async def _plan(conn: psycopg.AsyncConnection, plan: WatchPlan, superuser: bool,
                identity_full: bool) -> tuple[Setup | None, str | None]:
    try:
        return await plan_setup(conn, plan, superuser=superuser,
                                identity_full=identity_full), None
    except ReplicationRefused as exc:
        return None, str(exc)
    except psycopg.Error as exc:
        return None, one_line(exc)


async def preview(conn: psycopg.AsyncConnection, plan: WatchPlan) -> Preview:
    try:
        facts = await gather_facts(conn)
    except psycopg.Error as exc:
        return Preview(plan, None, explain(exc), None, explain(exc))
    reason = refusal(facts, creates_publication=not plan.publication)
    if reason:
        return Preview(plan, None, reason, None, reason)
    left = tuple(await leftovers(conn))
    theirs = tuple(await existing_publications(conn))
    setup, refused = await _plan(conn, plan, facts.superuser, False)
    if plan.publication:
        return Preview(plan, setup, refused, None, "an existing publication is used as it is",
                       left, theirs)
    full, refused_full = await _plan(conn, plan, facts.superuser, True)
    if full is not None and not full.identity_full:
        full, refused_full = None, "every table already has REPLICA IDENTITY FULL"
    return Preview(plan, setup, refused, full, refused_full, left, theirs)
