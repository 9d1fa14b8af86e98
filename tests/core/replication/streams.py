"""Running a ChangeSource in a test: collect its events while SQL runs elsewhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import psycopg

from pgwatch_gui.core.replication.publication import WatchPlan
from pgwatch_gui.core.replication.source import ChangeSource
from pgwatch_gui.core.stream.events import KIND_CHANGE


class Stream:
    def __init__(self, dsn: str, plan: WatchPlan | None = None, **kw) -> None:
        self.events: list = []
        self.statuses: list = []
        self.arrived = asyncio.Event()
        self.source = ChangeSource(dsn, plan, on_batch=self._on_batch,
                                   on_status=self.statuses.append, **kw)
        self.task: asyncio.Task | None = None

    def _on_batch(self, batch) -> None:
        self.events.extend(batch)
        self.arrived.set()

    def changes(self):
        return [e for e in self.events if e.kind == KIND_CHANGE]

    async def __aenter__(self) -> Stream:
        self.task = self.source.start()
        done, _ = await asyncio.wait(
            {self.task, asyncio.ensure_future(self.source.wait_streaming())},
            timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if self.task in done:
            raise AssertionError(f"stream ended: {self.source.status.describe()}")
        return self

    async def __aexit__(self, *exc) -> None:
        await self.source.stop()
        assert self.task is not None
        await self.task

    async def wait_for(self, n: int, timeout: float = 30) -> list:
        async def _wait():
            while len(self.changes()) < n:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(_wait(), timeout)
        return self.changes()


def execute(dsn: str, statements: Iterable[str] | str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        for stmt in [statements] if isinstance(statements, str) else statements:
            c.execute(stmt)


async def run_sql(dsn: str, statements: Iterable[str] | str) -> None:
    await asyncio.to_thread(execute, dsn, statements)


def slots_and_publications(dsn: str, wait: float = 10.0) -> tuple[list, list]:
    """Slots of this database and pgwatch publications, waiting for slots to go."""
    deadline = time.monotonic() + wait
    with psycopg.connect(dsn, autocommit=True) as c:
        while True:
            slots = c.execute("SELECT slot_name FROM pg_replication_slots "
                              "WHERE database = current_database()").fetchall()
            if not slots or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        pubs = c.execute("SELECT pubname FROM pg_publication").fetchall()
    return [r[0] for r in slots], [r[0] for r in pubs]


def wait_published(dsn: str, table: str, timeout: float = 30.0) -> None:
    """Until a running stream has added `table` (created after it started) to its
    publication: it looks every 5 s."""
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(dsn) as c:
            if c.execute("SELECT count(*) FROM pg_publication_tables WHERE tablename = %s",
                         (table,)).fetchone()[0]:
                return
        assert time.monotonic() < deadline, f"{table} was never published"
        time.sleep(0.2)
