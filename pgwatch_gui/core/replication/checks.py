"""Whether this server and role can stream row changes, and a one-line fix when not.

Asked before anything is created: `wal_level`, the REPLICATION privilege (or the
cloud's role for it), free replication slots and WAL senders, a hot standby older
than PostgreSQL 16. The same reasons are recognised in the server's own errors,
for when something changes between the check and the start.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from pgwatch_gui.core.pg.connection import one_line
from pgwatch_gui.core.pg.names import qualified, quote_ident


class ReplicationRefused(Exception):
    """This server or role cannot stream changes; str() is one line naming the fix."""


# Roles that stand for REPLICATION on hosted servers (Amazon RDS and Aurora).
CLOUD_REPLICATION_ROLES = ("rds_replication",)

_FACTS_SQL = """
SELECT current_setting('wal_level'),
       current_setting('server_version_num')::int,
       pg_is_in_recovery(),
       current_user,
       r.rolsuper,
       r.rolreplication,
       (SELECT string_agg(g.rolname, ',') FROM pg_roles g
         WHERE g.rolname = ANY(%s) AND pg_has_role(current_user, g.oid, 'member')),
       current_setting('max_replication_slots')::int,
       (SELECT count(*) FROM pg_replication_slots)::int,
       current_setting('max_wal_senders')::int,
       (SELECT count(*) FROM pg_stat_replication)::int
  FROM pg_roles r WHERE r.rolname = current_user
"""


@dataclass(frozen=True)
class ReplicationFacts:
    wal_level: str
    version: int  # server_version_num
    in_recovery: bool
    user: str
    superuser: bool
    replication: bool  # the role's REPLICATION attribute
    cloud_role: str | None  # membership that grants it on a hosted server
    max_slots: int
    used_slots: int
    max_senders: int
    used_senders: int

    @property
    def may_replicate(self) -> bool:
        return self.superuser or self.replication or bool(self.cloud_role)


def gather_facts_sql() -> tuple[str, tuple]:
    return _FACTS_SQL, (list(CLOUD_REPLICATION_ROLES),)


async def gather_facts(conn: psycopg.AsyncConnection) -> ReplicationFacts:
    query, params = gather_facts_sql()
    row = await (await conn.execute(query, params)).fetchone()
    assert row is not None
    return ReplicationFacts(*row)


def wal_level_fix(level: str) -> str:
    return (f"wal_level is {level!r} and logical decoding needs 'logical': run "
            "ALTER SYSTEM SET wal_level = logical and restart the server (Amazon RDS/Aurora: "
            "rds.logical_replication = 1 in the parameter group; Cloud SQL: the flag "
            "cloudsql.logical_decoding = on; Azure: wal_level = logical in server parameters)")


def privilege_fix(user: str) -> str:
    role = quote_ident(user) if user else "<role>"
    return (f"role {user!r} may not stream changes: a superuser must run ALTER ROLE {role} "
            f"WITH REPLICATION (Amazon RDS/Aurora: GRANT rds_replication TO {role})")


def slots_fix(max_slots: int | None) -> str:
    limit = f" ({max_slots})" if max_slots is not None else ""
    return (f"all replication slots{limit} are in use: drop an unused one "
            "(SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
            "NOT active) or raise max_replication_slots and restart the server")


def senders_fix(max_senders: int | None) -> str:
    limit = f" ({max_senders})" if max_senders is not None else ""
    if max_senders == 0:
        return ("max_wal_senders is 0, so the server accepts no replication connection: "
                "raise it (e.g. 10) and restart the server")
    return (f"all WAL senders{limit} are busy: stop another replication client or raise "
            "max_wal_senders and restart the server")


STANDBY_FIX = ("this server is a hot standby, and logical decoding on a standby needs "
               "PostgreSQL 16 or newer: connect to the primary")


STANDBY_PUBLICATION_FIX = (
    "this server is a hot standby, where no publication can be created: create one on the "
    "primary (CREATE PUBLICATION ... FOR TABLE ...) and give its name (--publication)")


def refusal(f: ReplicationFacts, *, creates_publication: bool = False) -> str | None:
    """Why streaming cannot work here, as one line naming the fix; None when it can."""
    if f.in_recovery and f.version < 160000:
        return STANDBY_FIX
    if f.in_recovery and creates_publication:
        return STANDBY_PUBLICATION_FIX
    if f.wal_level != "logical":
        return wal_level_fix(f.wal_level)
    if not f.may_replicate:
        return privilege_fix(f.user)
    if f.max_senders == 0:
        return senders_fix(0)
    if f.used_slots >= f.max_slots:
        return slots_fix(f.max_slots)
    if f.used_senders >= f.max_senders:
        return senders_fix(f.max_senders)
    return None


def explain(exc: BaseException) -> str:
    """A server error met while starting to stream -> one line, naming the fix if known."""
    text = one_line(exc)
    low = text.lower()
    if "wal_level" in low and "logical" in low:
        return wal_level_fix("replica")
    if ("permission denied to start wal sender" in low
            or "must be superuser or replication role" in low
            or "replication attribute" in low):
        return privilege_fix(_user_of(exc))
    if "replication slots are in use" in low:
        return slots_fix(None)
    if "max_wal_senders" in low:
        return senders_fix(0 if "currently 0" in low else None)
    if "logical decoding" in low and ("standby" in low or "in recovery" in low):
        return STANDBY_FIX
    return text


def _user_of(exc: BaseException) -> str:
    pgconn = getattr(exc, "pgconn", None)
    user = getattr(pgconn, "user", None) if pgconn is not None else None
    return user.decode() if isinstance(user, bytes) else ""


# ---- tables and replica identity --------------------------------------------------

_TABLES_SQL = """
SELECT n.nspname, c.relname, c.relreplident::text,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
       pg_has_role(c.relowner, 'USAGE'), c.relkind::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
   AND (NOT c.relispartition OR %s)
   AND {where}
 ORDER BY 1, 2
"""


@dataclass(frozen=True)
class PublishableTable:
    schema: str
    name: str
    identity: str  # d, f, i, n
    has_primary_key: bool
    owned: bool  # the role may add it to a publication
    kind: str = "r"  # r: a table, p: a partitioned table (its partitions publish as it)

    @property
    def qualified(self) -> str:
        return qualified(self.schema, self.name)

    @property
    def identifies_rows(self) -> bool:
        """UPDATE and DELETE can be published (else they fail for every writer)."""
        return self.identity in ("f", "i") or (self.identity == "d" and self.has_primary_key)


def identity_fix(tables: list[PublishableTable]) -> str:
    names = ", ".join(t.qualified for t in tables[:5]) + (" ..." if len(tables) > 5 else "")
    first = tables[0].qualified
    return (f"{names}: no replica identity, so UPDATE and DELETE on it would fail for every "
            f"writer while it is published; add a primary key, or run ALTER TABLE {first} "
            "REPLICA IDENTITY FULL (every UPDATE/DELETE then writes the whole old row to WAL)")


async def find_tables(conn: psycopg.AsyncConnection, *, tables: list[tuple[str, str]] | None = None,
                      schema: str | None = None) -> list[PublishableTable]:
    """The named tables, the tables of a schema, or (neither) every table in the database."""
    if tables:
        where = "(n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
        params: tuple = (True, [s for s, _ in tables], [t for _, t in tables])
    elif schema is not None:  # partitions come with their partitioned table
        where, params = "n.nspname = %s", (False, schema)
    else:
        where, params = "true", (False,)
    cur = await conn.execute(_TABLES_SQL.replace("{where}", where), params)
    return [PublishableTable(*r) for r in await cur.fetchall()]
