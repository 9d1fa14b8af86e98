"""STORED generated columns in a change stream: pgoutput sends them only from PostgreSQL 18
on, with publish_generated_columns = stored (a publication this tool makes then has it);
before that, the envelope names them in `generated_missing` instead of guessing.

A publication with column lists (withheld.py) names the STORED generated columns in them
itself on 18 and later; before 18 a column list cannot name them.
"""

from __future__ import annotations

import psycopg

GENERATED_SENT_FROM = 180000  # PostgreSQL 18: publish_generated_columns


async def generated_columns(conn: psycopg.AsyncConnection, tables: list[tuple[str, str]]
                            ) -> dict[tuple[str, str], tuple[str, ...]]:
    """The STORED generated columns of these tables, in column order (none: no entry)."""
    if not tables:
        return {}
    cur = await conn.execute(
        """
        SELECT n.nspname, c.relname, array_agg(a.attname::text ORDER BY a.attnum)
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE a.attgenerated = 's' AND a.attnum > 0 AND NOT a.attisdropped
           AND (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
         GROUP BY 1, 2
        """, ([s for s, _ in tables], [t for _, t in tables]))
    return {(r[0], r[1]): tuple(r[2]) for r in await cur.fetchall()}


async def publishes_generated(conn: psycopg.AsyncConnection, name: str) -> bool:
    """Whether an existing publication sends STORED generated columns (18+)."""
    if conn.info.server_version < GENERATED_SENT_FROM:
        return False
    cur = await conn.execute("SELECT pubgencols::text FROM pg_publication WHERE pubname = %s",
                             (name,))
    row = await cur.fetchone()
    return bool(row) and row[0] == "s"
