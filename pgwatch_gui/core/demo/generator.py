"""A change generator for the demo shop: a realistic mix of writes at a set rate.

Every tick (20 per second) it owes ``rate * elapsed`` changes and makes them in one
transaction with a handful of set-based statements (INSERT ... SELECT FROM unnest,
UPDATE ... WHERE id = ANY, DELETE ... LIMIT), so 5,000 changes per second cost a
few statements per tick, not 5,000 round trips. A change is one row written; every
row written fires a notify trigger. What it could not do in a tick it carries over,
up to half a second's worth, so a slow server lowers the achieved rate instead of
building an ever-growing debt.

Memory stays bounded: the generator keeps counters only, and the shop's tables stay
bounded too (old orders and notifications are deleted as new ones come in).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter

import psycopg

from pgwatch_gui.core.demo.schema import DEMO_USERS
from pgwatch_gui.core.pg.connection import connect, one_line

MAX_RATE = 5000
TICK = 0.05
KEEP_ORDERS = 5_000  # orders are deleted (oldest first) only above this many
KEEP_NOTIFICATIONS = 500
MAX_CUSTOMERS = 5_000
MAX_FAILED_TICKS = 20  # consecutive failing ticks (schema dropped...) end the run

# Kind of change -> weight, in rows. An order's life: insert, ~2 items, 3 status
# updates, then one delete that takes its items along.
MIX = {
    "order_insert": 8,
    "item_insert": 14,
    "order_advance": 22,
    "order_delete": 8,
    "product_update": 10,
    "customer_insert": 2,
    "customer_update": 14,
    "notification_insert": 12,
    "notification_delete": 10,
}
KINDS = tuple(MIX)
WEIGHTS = tuple(MIX.values())

CITIES = ("Lisbon", "Oslo", "Lyon", "Kraków", "Porto", "Turku", "Graz", "Ghent", "Bergen")
FIRST = ("Ada", "Bea", "Carl", "Dora", "Emil", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lia")
LAST = ("Berg", "Costa", "Dahl", "Evans", "Fox", "Gray", "Holm", "Ito", "Jansen", "Kovač")
MESSAGES = (
    ("order", "Your order #{n} has shipped"),
    ("order", "Your order #{n} was delivered"),
    ("message", "You have a new message from {name}"),
    ("task", "A task was assigned to you: review #{n}"),
    ("promo", "{pct}% off lamps this weekend"),
)

SQL = {
    "stats": """SELECT (SELECT max(id) FROM shop.customers), (SELECT min(id) FROM shop.orders),
        (SELECT max(id) FROM shop.orders), (SELECT count(*) FROM shop.orders),
        (SELECT count(*) FROM shop.user_notifications), (SELECT max(id) FROM shop.products)""",
    "customer_insert": """INSERT INTO shop.customers (name, email, city, password_hash)
        SELECT n, e, c, md5(e) FROM unnest(%s::text[], %s::text[], %s::text[]) AS v(n, e, c)""",
    "customer_update": """UPDATE shop.customers SET last_seen = now(),
        city = CASE WHEN random() < 0.15 THEN %s ELSE city END WHERE id = ANY(%s)""",
    "order_insert": """INSERT INTO shop.orders (customer_id, total)
        SELECT c, t FROM unnest(%s::bigint[], %s::numeric[]) AS v(c, t)
        WHERE EXISTS (SELECT 1 FROM shop.customers WHERE id = v.c)""",
    "item_insert": """INSERT INTO shop.order_items (order_id, product_id, quantity, unit_price)
        SELECT v.o, v.p, v.q, p.price FROM unnest(%s::bigint[], %s::int[], %s::int[]) AS v(o, p, q)
        JOIN shop.orders o ON o.id = v.o JOIN shop.products p ON p.id = v.p""",
    "order_advance": """UPDATE shop.orders SET updated_at = now(), status = CASE status
            WHEN 'new' THEN CASE WHEN random() < 0.05 THEN 'cancelled' ELSE 'paid' END
            WHEN 'paid' THEN 'shipped' WHEN 'shipped' THEN 'delivered' ELSE status END
        WHERE id IN (SELECT id FROM shop.orders WHERE status IN ('new', 'paid', 'shipped')
                     ORDER BY random() LIMIT %s)""",
    "order_delete": """WITH o AS (SELECT id FROM shop.orders ORDER BY id LIMIT %s),
        i AS (DELETE FROM shop.order_items WHERE order_id IN (SELECT id FROM o) RETURNING 1),
        d AS (DELETE FROM shop.orders WHERE id IN (SELECT id FROM o) RETURNING 1)
        SELECT (SELECT count(*) FROM i) + (SELECT count(*) FROM d)""",
    "product_update": """UPDATE shop.products
        SET stock = greatest(0, stock + (random() * 10)::int - 5) WHERE id = ANY(%s)""",
    "notification_insert": """INSERT INTO shop.user_notifications
        (user_id, message, notification_type)
        SELECT u, m, t FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(u, m, t)
        WHERE EXISTS (SELECT 1 FROM shop.customers WHERE id = v.u)""",
    "notification_delete": """DELETE FROM shop.user_notifications WHERE id IN
        (SELECT id FROM shop.user_notifications ORDER BY id LIMIT %s)""",
}


class GeneratorError(RuntimeError):
    """The generator cannot go on (one line, for the user)."""


class ChangeGenerator:
    """Write a realistic mix of changes to the demo shop at `rate` changes per second.

    `rate` may be changed while running (0 pauses). `run()` returns the number of
    changes made; `stop()` ends it after the current tick, or before it starts.
    """

    def __init__(self, conninfo: str, rate: float = 50, *, tick: float = TICK,
                 seed: int | None = None) -> None:
        self.conninfo = conninfo
        self.rate = rate
        self.tick = tick
        self._rng = random.Random(seed)
        self._stop = asyncio.Event()
        self.changes = 0
        self.ticks = 0
        self.errors = 0
        self.last_error = ""
        self.by_kind: Counter[str] = Counter()
        self.achieved_rate = 0.0
        self._stats: tuple = (None,) * 6
        self._stats_at = 0.0
        self.running = False

    @property
    def rate(self) -> float:
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        self._rate = float(min(MAX_RATE, max(0.0, value)))

    def stop(self) -> None:
        self._stop.set()

    async def run(self, seconds: float | None = None, max_changes: int | None = None) -> int:
        """Generate until stop(), `seconds` elapsed or `max_changes` made.

        A stop() that came before run() started ends it at once (a generator runs once).
        """
        loop = asyncio.get_running_loop()
        started = last = loop.time()
        owed = 0.0
        failed_ticks = 0
        window: list[tuple[float, int]] = []
        self.running = True
        try:
            conn = await connect(self.conninfo)
        except psycopg.Error as exc:
            self.running = False
            raise GeneratorError(one_line(exc)) from None
        try:
            async with conn:
                while not self._stop.is_set():
                    now = loop.time()
                    if seconds is not None and now - started >= seconds:
                        break
                    owed = min(owed + self._rate * (now - last), max(1.0, self._rate * 0.5))
                    last = now
                    n = int(owed)
                    if max_changes is not None:
                        n = min(n, max_changes - self.changes)
                    if n > 0:
                        try:
                            done = await self._write(conn, n)
                            failed_ticks = 0
                        except psycopg.OperationalError as exc:
                            raise GeneratorError(one_line(exc)) from None
                        except psycopg.Error as exc:
                            done = 0
                            self.errors += 1
                            self.last_error = one_line(exc)
                            failed_ticks += 1
                            if failed_ticks >= MAX_FAILED_TICKS:
                                raise GeneratorError(self.last_error) from None
                        owed -= done
                        self.changes += done
                    self.ticks += 1
                    window.append((now, self.changes))
                    while len(window) > 2 and now - window[0][0] > 1.0:
                        window.pop(0)
                    span = now - window[0][0]
                    self.achieved_rate = (self.changes - window[0][1]) / span if span else 0.0
                    if max_changes is not None and self.changes >= max_changes:
                        break
                    wait = self.tick - (loop.time() - now)
                    if seconds is not None:
                        wait = min(wait, started + seconds - loop.time())
                    if wait > 0:
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(self._stop.wait(), wait)
        finally:
            self.running = False
            self.achieved_rate = 0.0
        return self.changes

    # ---- one tick -----------------------------------------------------------------

    async def _refresh_stats(self, conn: psycopg.AsyncConnection) -> None:
        cur = await conn.execute(SQL["stats"])
        self._stats = await cur.fetchone() or (None,) * 6
        self._stats_at = time.monotonic()

    def plan(self, n: int) -> Counter[str]:
        """How many changes of each kind to make for `n` changes (tables kept bounded)."""
        cust_max, _omin, omax, ocount, ncount, _pmax = self._stats
        plan = Counter(self._rng.choices(KINDS, WEIGHTS, k=n))
        ocount = ocount or 0
        if ocount < KEEP_ORDERS:
            plan["order_insert"] += plan.pop("order_delete", 0)
        elif ocount > 2 * KEEP_ORDERS:
            plan["order_delete"] += plan.pop("order_insert", 0)
        if not omax:
            plan["order_insert"] += plan.pop("item_insert", 0)
        if (ncount or 0) < KEEP_NOTIFICATIONS:
            plan["notification_insert"] += plan.pop("notification_delete", 0)
        if (cust_max or 0) >= MAX_CUSTOMERS:
            plan["customer_update"] += plan.pop("customer_insert", 0)
        return +plan

    async def _write(self, conn: psycopg.AsyncConnection, n: int) -> int:
        if time.monotonic() - self._stats_at > 1.0 or self._stats[0] is None:
            await self._refresh_stats(conn)
        plan = self.plan(n)
        done = 0
        async with conn.transaction():
            for kind, k in plan.items():
                params = self._params(kind, k)
                cur = await conn.execute(SQL[kind], params)
                rows = (await cur.fetchone())[0] if kind == "order_delete" else cur.rowcount
                rows = max(0, rows or 0)
                self.by_kind[kind] += rows
                done += rows
        return done

    def _params(self, kind: str, k: int) -> tuple:
        r = self._rng
        cust_max, _omin, omax, _ocount, _ncount, pmax = self._stats
        cust_max = cust_max or 1
        if kind == "customer_insert":
            names = [f"{r.choice(FIRST)} {r.choice(LAST)}" for _ in range(k)]
            emails = [f"{n.lower().replace(' ', '.')}.{r.randrange(10**6)}@example.com"
                      for n in names]
            return names, emails, [r.choice(CITIES) for _ in range(k)]
        if kind == "customer_update":
            return r.choice(CITIES), [r.randint(1, cust_max) for _ in range(k)]
        if kind == "order_insert":
            return ([r.randint(1, cust_max) for _ in range(k)],
                    [round(r.uniform(5, 400), 2) for _ in range(k)])
        if kind == "item_insert":
            low = max(1, (omax or 1) - 50)
            return ([r.randint(low, omax or 1) for _ in range(k)],
                    [r.randint(1, pmax or 1) for _ in range(k)],
                    [r.randint(1, 4) for _ in range(k)])
        if kind in ("order_advance", "notification_delete"):
            return (k,)
        if kind == "order_delete":
            return (max(1, round(k / 3)),)  # an order takes ~2 items along
        if kind == "product_update":
            return ([r.randint(1, pmax or 1) for _ in range(k)],)
        if kind == "notification_insert":
            users = [r.choice(DEMO_USERS) if r.random() < 0.6 else r.randint(1, cust_max)
                     for _ in range(k)]
            kinds, texts = [], []
            for _ in range(k):
                t, m = r.choice(MESSAGES)
                kinds.append(t)
                texts.append(m.format(n=r.randint(1000, 99999), name=r.choice(FIRST),
                                      pct=r.choice((10, 15, 20, 30))))
            return users, texts, kinds
        raise KeyError(kind)
