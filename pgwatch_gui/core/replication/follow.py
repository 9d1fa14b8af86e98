"""Tables created after a `--schema` stream started: found, published, and said so.

A publication FOR TABLE names its tables once; a schema's new tables are not in it.
(FOR TABLES IN SCHEMA would take them in, but also tables without a replica identity,
whose every UPDATE and DELETE would then fail for the application.) So while a stream
of a schema runs, `SchemaFollower.check()` looks at the schema every few seconds on a
connection of its own, adds each new table that has a replica identity (and that the
role may publish) with ALTER PUBLICATION ... ADD TABLE, and returns what a marker row
says: the table is streamed from now on, and changes made before are not in the
stream; a new table without a replica identity is left out, with the fix.
"""

from __future__ import annotations

import dataclasses
import time

import psycopg
from psycopg import sql

from pgwatch_gui.core.replication.checks import PublishableTable, find_tables
from pgwatch_gui.core.replication.generated import GENERATED_SENT_FROM, generated_columns
from pgwatch_gui.core.replication.publication import Setup, primary_keys

FOLLOW_INTERVAL = 5.0  # seconds between two looks at the schema


def add_statement(setup: Setup, tables: list[PublishableTable]) -> sql.Composed:
    return sql.SQL("ALTER PUBLICATION {} ADD TABLE {}").format(
        sql.Identifier(setup.name),
        sql.SQL(", ").join(sql.Identifier(t.schema, t.name) for t in tables))


class SchemaFollower:
    """Keeps a created publication in step with its schema's tables."""

    def __init__(self, schema: str, setup: Setup, *, superuser: bool = False) -> None:
        self.schema = schema
        self.superuser = superuser
        # left out and said so (at the start, or here once): not said again
        self._told: set[tuple[str, str]] = {(t.schema, t.name) for t in setup.skipped}

    async def check(self, conn: psycopg.AsyncConnection, setup: Setup
                    ) -> tuple[Setup, list[str]]:
        """(the setup with the tables added, one line per table for a marker row). A
        table left out earlier is added once it has a replica identity."""
        published = {(t.schema, t.name) for t in setup.tables}
        found = await find_tables(conn, schema=self.schema)
        fresh = [t for t in found if (t.schema, t.name) not in published]
        add = [t for t in fresh if (t.owned or self.superuser) and t.identifies_rows]
        new = [t for t in fresh if t in add or (t.schema, t.name) not in self._told]
        if not new:
            return setup, []
        notes = []
        when = time.strftime("%H:%M:%S")
        if add:
            async with conn.transaction():
                await conn.execute(add_statement(setup, add))
            names = [(t.schema, t.name) for t in add]
            keys = {**setup.primary_keys, **await primary_keys(conn, names)}
            generated = dict(setup.generated)
            if not setup.publish_generated or conn.info.server_version < GENERATED_SENT_FROM:
                generated.update(await generated_columns(conn, names))
            setup = dataclasses.replace(setup, tables=(*setup.tables, *add),
                                        primary_keys=keys, generated=generated)
            notes += [f"table {t.qualified} was created after the stream started: its row "
                      f"changes are streamed from {when}; changes made before are not in "
                      "this stream" for t in add]
        for t in new:
            if t in add:
                continue
            self._told.add((t.schema, t.name))
            why = ("no replica identity, so UPDATE and DELETE on it would fail while "
                   "published; add a primary key or set REPLICA IDENTITY FULL"
                   if t.owned or self.superuser else
                   "only its owner or a superuser may publish it")
            notes.append(f"table {t.qualified} was created after the stream started and is "
                         f"left out: {why}")
        return setup, notes
