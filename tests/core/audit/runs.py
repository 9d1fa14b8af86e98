"""Running an AuditSession in a test: start it, write while it audits, end it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from pgwatch_gui.core.audit.plan import AuditPlan, plan_audit
from pgwatch_gui.core.audit.results import Discrepancy
from pgwatch_gui.core.audit.session import AUDITING, AuditOutcome, AuditSession
from pgwatch_gui.core.pg.connection import connect
from tests.core.replication.streams import run_sql


async def plan_for(dsn: str, tables: Sequence[tuple[str | None, str]],
                   channels: Sequence[str] = ()) -> AuditPlan:
    async with await connect(dsn) as conn:
        return await plan_audit(conn, tables, channels)


class Run:
    def __init__(self, outcome: AuditOutcome, found: list[Discrepancy], plan: AuditPlan):
        self.outcome, self.found, self.plan = outcome, found, plan

    def kinds(self, table: str | None = None) -> list[tuple]:
        return sorted((d.kind, d.op, str(d.key)) for d in self.found
                      if table is None or d.table_text == table)

    def counts(self, table: tuple[str, str] = ("public", "t")) -> dict:
        return self.outcome.counts[table].as_dict()

    def one(self, kind: str) -> Discrepancy:
        (d,) = [d for d in self.found if d.kind == kind]
        return d


def audit(dsn: str, tables: Sequence[tuple[str | None, str]],
          statements: Iterable[str] | str, *, changes: int, channels: Sequence[str] = (),
          grace: float = 0.5, during=None) -> Run:
    """Audit `tables` while `statements` run; end once `changes` row changes were read."""

    async def main() -> Run:
        plan = await plan_for(dsn, tables, channels)
        assert plan.refused is None, plan.refused
        found: list[Discrepancy] = []
        session = AuditSession(dsn, plan, plan.setup(), grace=grace, on_found=found.extend)
        task = asyncio.ensure_future(session.run())
        while session.state != AUDITING:
            assert not task.done(), session.outcome.error or session.detail
            await asyncio.sleep(0.02)
        await run_sql(dsn, statements)
        if during is not None:
            await asyncio.to_thread(during)
        for _ in range(1500):
            if session.changes_read >= changes or task.done():
                break
            await asyncio.sleep(0.02)
        assert session.changes_read == changes, (session.changes_read, changes)
        session.stop()
        outcome = await task
        assert outcome.error is None, outcome.error
        return Run(outcome, found, plan)

    return asyncio.run(main())
