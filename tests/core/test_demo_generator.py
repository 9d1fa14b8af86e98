"""The change generator: honours its rate (by counts), a live rate change, bounded tables."""

from __future__ import annotations

import asyncio

import pytest

from pgwatch_gui.core.demo.generator import (
    KEEP_NOTIFICATIONS,
    KEEP_ORDERS,
    MAX_RATE,
    ChangeGenerator,
    GeneratorError,
)
from pgwatch_gui.core.demo.schema import CHANNELS, ensure_schema
from pgwatch_gui.core.stream.listener import Listener


@pytest.fixture
def shop(pg_dsn):
    ensure_schema(pg_dsn)
    return pg_dsn


def test_rate_is_clamped():
    gen = ChangeGenerator("dbname=x", rate=1e9)
    assert gen.rate == MAX_RATE
    gen.rate = -5
    assert gen.rate == 0


def test_makes_exactly_the_changes_asked_for(shop, db):
    gen = ChangeGenerator(shop, rate=MAX_RATE, seed=7)
    made = asyncio.run(gen.run(max_changes=600, seconds=30))
    assert made == 600 == sum(gen.by_kind.values())
    assert gen.errors == 0
    # A mix: inserts, updates (and deletes once tables are big enough).
    kinds = {"order_insert", "order_advance", "customer_update", "product_update"}
    assert kinds <= set(gen.by_kind)
    orders, items = db.execute(
        "SELECT (SELECT count(*) FROM shop.orders), (SELECT count(*) FROM shop.order_items)"
    ).fetchone()
    assert orders == gen.by_kind["order_insert"] and items == gen.by_kind["item_insert"]


def test_rate_is_an_upper_bound_and_roughly_reached(shop):
    gen = ChangeGenerator(shop, rate=400, seed=1)

    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        made = await gen.run(seconds=1.5)
        return made, loop.time() - t0

    made, elapsed = asyncio.run(main())
    assert made <= 400 * elapsed + 1  # never ahead of the clock
    assert made >= 400 * 1.5 * 0.3  # and not far behind it, even on a slow machine


def test_rate_changes_while_running(shop):
    gen = ChangeGenerator(shop, rate=0)

    async def main():
        task = asyncio.ensure_future(gen.run())
        await asyncio.sleep(0.3)
        paused = gen.changes
        gen.rate = 2000
        while gen.changes < 200:
            await asyncio.sleep(0.05)
        gen.stop()
        await asyncio.wait_for(task, 5)
        return paused

    assert asyncio.run(main()) == 0
    assert gen.changes >= 200 and gen.ticks > 5


def test_stop_before_run_is_honoured(shop):
    gen = ChangeGenerator(shop, rate=MAX_RATE)
    gen.stop()
    assert asyncio.run(asyncio.wait_for(gen.run(), 10)) == 0


def test_every_change_reaches_a_listener(shop):
    got = []

    async def main():
        listener = Listener(shop, CHANNELS, on_batch=got.extend)
        listener.start()
        await listener.wait_listening(5)
        gen = ChangeGenerator(shop, rate=MAX_RATE, seed=3)
        await gen.run(max_changes=300, seconds=30)
        for _ in range(50):
            if len(got) >= 150:
                break
            await asyncio.sleep(0.05)
        await listener.stop()

    asyncio.run(main())
    channels = {e.channel for e in got}
    assert {"shop_orders", "shop_customers", "product_changes"} <= channels
    assert len(got) >= 150


def test_plan_keeps_tables_bounded():
    gen = ChangeGenerator("dbname=x", seed=1)
    gen._stats = (100, 1, 10, 10, 10, 48)  # small shop: nothing is deleted yet
    small = gen.plan(1000)
    assert small["order_delete"] == 0 and small["notification_delete"] == 0
    gen._stats = (100, 1, 30_000, 3 * KEEP_ORDERS, 2 * KEEP_NOTIFICATIONS, 48)
    big = gen.plan(1000)
    assert big["order_insert"] == 0 and big["order_delete"] > 0
    assert big["notification_delete"] > 0
    assert sum(big.values()) == 1000


def test_a_missing_schema_ends_the_run_with_a_reason(pg_dsn):
    gen = ChangeGenerator(pg_dsn, rate=1000)
    with pytest.raises(GeneratorError, match="shop"):
        asyncio.run(gen.run(seconds=5))


def test_an_unreachable_server_is_one_line(tmp_path):
    gen = ChangeGenerator(f"host={tmp_path} port=1 connect_timeout=2", rate=10)
    with pytest.raises(GeneratorError) as info:
        asyncio.run(gen.run(seconds=1))
    assert "\n" not in str(info.value)
