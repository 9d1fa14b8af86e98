"""Change stream benchmark: `pgwatch-gui changes` against pg_recvlogical, and row changes
through the replication slot against the notify path.

Run on its own (it is not part of the test suite):

    python tests/benchmarks/bench_changes.py [--parts cli,window] [--cli-rows 200000]
        [--small 2000] [--per 10] [--runs 3] [--formats jsonl,envelope] [--rows 100000]
        [--rounds 5] [--core]

Part `cli` (issue 23's target: at least 0.8 of pg_recvlogical's rows/s): the command
line against Debian's pg_recvlogical with test_decoding, both draining the same queued
changes into a file: one transaction of --cli-rows rows, and --small transactions of
--per rows each; the best of --runs each, interleaved (tests/benchmarks/recvlogical.py
says how), for each `changes --format` in --formats: `jsonl` (the default line, as
`listen` writes it) and `envelope` (each change's envelope alone, the lean line).
`rows_per_s_ratio` = changes / pg_recvlogical, `cpu_ratio` = their client CPU seconds
(changes / pg_recvlogical).

Part `window` (the pipelines):

Uses PGWATCH_TEST_LOGICAL_DSN when set (wal_level=logical, a superuser), else starts an
embedded PostgreSQL with wal_level=logical in a temporary folder.

The same table, the same rows (`INSERT ... SELECT` of --rows rows in one transaction,
sent by a separate connection), one path after the other so the two never share the
two cores:

1. notify: this tool's own trigger (payload mode `row`) on the table, a listener.
2. changes: no trigger; a change stream on a temporary pgoutput slot.

By default both are decoded and shown: connections of the main window's hub (offscreen),
through the event model into the shown table, as in the app; `--core` feeds the core
Listener and ChangeSource straight to the consumer instead. The consumer touches what the
event table shows of every row (op, table, key), so the notify path pays its JSON decode
and the change path its envelope. The rate is rows / (time of the last row received -
time the INSERT returned); both paths start delivering only at commit. Then `--rounds`
bulk INSERTs run back to back while the change stream keeps up: the slot's lag
(pg_current_wal_lsn() - confirmed_flush_lsn) is sampled every 0.2 s, and must come back
to near zero after the last round.

Each phase prints a line; the last line is one JSON object with "targets": {name: met}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from pgwatch_gui.core.replication.publication import WatchPlan  # noqa: E402
from pgwatch_gui.core.replication.source import ChangeSource  # noqa: E402
from pgwatch_gui.core.stream.events import KIND_CHANGE, KIND_NOTIFY  # noqa: E402
from pgwatch_gui.core.stream.listener import Listener  # noqa: E402
from pgwatch_gui.core.triggers import manage as triggers  # noqa: E402
from pgwatch_gui.core.triggers.spec import TriggerSpec  # noqa: E402
from tests.scratch import scratch_dir  # noqa: E402

TABLE = ("CREATE TABLE orders (id bigint PRIMARY KEY, customer text, status text, "
         "total numeric(12, 2), placed timestamptz)")
INSERT = ("INSERT INTO orders SELECT g, 'customer ' || (g %% 97), "
          "(ARRAY['new','paid','packed','shipped'])[g %% 4 + 1], round((g %% 1000) * 1.37, 2), "
          "now() FROM generate_series(%s::bigint, %s::bigint) g")


class Counter:
    """The consumer: what the table needs of every event, and when the n-th arrived."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.n = 0
        self.last = 0.0
        self.reached = asyncio.Event()
        self.target = 0

    def on_batch(self, batch: list) -> None:
        for ev in batch:
            if ev.kind == self.kind:
                _ = ev.op, ev.qualified_table, ev.key
                self.n += 1
        self.last = time.perf_counter()
        if self.n >= self.target:
            self.reached.set()


def bulk(dsn: str, first: int, count: int) -> float:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(INSERT, (first, first + count - 1))
    return time.perf_counter()


async def timed_insert(counter: Counter, dsn: str, first: int, rows: int) -> dict:
    counter.target = counter.n + rows
    counter.reached.clear()
    t0 = time.perf_counter()
    committed = await asyncio.to_thread(bulk, dsn, first, rows)
    await asyncio.wait_for(counter.reached.wait(), 600)
    return {"insert_s": committed - t0, "after_commit_s": counter.last - committed,
            "rate": rows / max(counter.last - committed, 1e-9)}


class CoreFace:
    """The core sources feeding the consumer directly (`--core`)."""

    def run(self, coro):
        return asyncio.run(coro)

    def close(self) -> None:
        pass

    async def open_notify(self, dsn: str, counter: Counter):
        listener = Listener(dsn, ["orders"], on_batch=counter.on_batch)
        task = listener.start()
        await listener.wait_listening(30)

        async def close() -> None:
            await listener.stop()
            await task

        return close

    async def open_changes(self, dsn: str, counter: Counter):
        source = ChangeSource(dsn, WatchPlan(tables=(("public", "orders"),)),
                              on_batch=counter.on_batch, status_interval=1.0)
        task = source.start()
        await source.wait_streaming(60)

        async def close() -> None:
            await source.stop()
            await task

        return source, close


class WindowFace:
    """Decoded and shown (the default): the main window, offscreen, on the qasync loop.

    Both sources are connections of the window's hub; their events go through the
    EventTableModel (100,000-row ring) into the shown table, following the newest
    row, as in the app. The consumer counts each batch after the model has it.
    """

    def __init__(self) -> None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
        tmp = scratch_dir("pgwatch-bench-")
        os.environ.setdefault("PGWATCH_CONFIG_DIR", os.path.join(tmp, "config"))
        os.environ.setdefault("PGWATCH_DATA_DIR", os.path.join(tmp, "data"))
        import qasync
        from PySide6.QtCore import QSettings

        from pgwatch_gui.ui.shell.app import make_app
        from pgwatch_gui.ui.shell.main_window import MainWindow

        self.app = make_app()
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        self.loop = qasync.QSelectorEventLoop(self.app)
        asyncio.set_event_loop(self.loop)
        self.window = MainWindow()
        self.window.resize(1400, 860)
        self.window.show()
        self.hub = self.window.hub
        self.counter: Counter | None = None
        self.hub.events_arrived.connect(self._arrived)  # after the model's own slot

    def _arrived(self, batch: list) -> None:
        if self.counter is not None:
            self.counter.on_batch(batch)

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.window.shutdown())
        self.window.close()
        self.loop.close()  # ends the executor threads of asyncio.to_thread

    async def open_notify(self, dsn: str, counter: Counter):
        self.counter = counter
        self.hub.open("notify", dsn, ["orders"])
        await self.hub.listener("notify").wait_listening(30)
        return lambda: self.hub.close("notify")

    async def open_changes(self, dsn: str, counter: Counter):
        from pgwatch_gui.core.replication.preview import preview

        self.counter = counter
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            setup = (await preview(conn, WatchPlan(tables=(("public", "orders"),)))).setup
        source = self.hub.open_changes("changes", dsn, setup)
        source.status_interval = 1.0
        await source.wait_streaming(60)
        return source, lambda: self.hub.close("changes")


async def notify_path(face, dsn: str, rows: int) -> dict:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        plan = await triggers.plan_install(conn, [TriggerSpec("public", "orders",
                                                              channel="orders", payload="row")])
        await triggers.execute(conn, plan)
    counter = Counter(KIND_NOTIFY)
    close = await face.open_notify(dsn, counter)
    result = await timed_insert(counter, dsn, 1, rows)
    await close()
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await triggers.execute(conn, await triggers.plan_remove_all(conn))
        await conn.execute("TRUNCATE orders")
    return result


def sample_lag(dsn: str, stop: threading.Event, out: list[int]) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        while not stop.is_set():
            row = c.execute("SELECT coalesce(max(pg_current_wal_lsn() - confirmed_flush_lsn), 0)"
                            "::bigint FROM pg_replication_slots "
                            "WHERE database = current_database()").fetchone()
            out.append(int(row[0]))
            time.sleep(0.2)


async def change_path(face, dsn: str, rows: int, rounds: int) -> dict:
    counter = Counter(KIND_CHANGE)
    source, close = await face.open_changes(dsn, counter)
    first = 10_000_000
    result = await timed_insert(counter, dsn, first, rows)
    lags: list[int] = []
    stop = threading.Event()
    sampler = threading.Thread(target=sample_lag, args=(dsn, stop, lags))
    sampler.start()
    t0 = time.perf_counter()
    for r in range(rounds):
        await timed_insert(counter, dsn, first + (r + 1) * rows, rows)
    sustained = rounds * rows / (time.perf_counter() - t0)
    await asyncio.sleep(2.5)  # a standby update (every 1 s here) reports the last commit
    stop.set()
    await asyncio.to_thread(sampler.join)
    result.update(sustained_rate=sustained, max_lag_bytes=max(lags or [0]),
                  final_lag_bytes=lags[-1] if lags else 0, dropped=source.dropped,
                  latency_s=source.status.latency)
    await close()
    return result


def pipelines(dsn: str, args) -> dict:
    """Part `window`: the notify path and the change stream through the app's pipeline."""
    face = CoreFace() if args.core else WindowFace()
    pipeline = "core" if args.core else "window"
    notify = face.run(notify_path(face, dsn, args.rows))
    print(f"[{pipeline}] notify path (trigger + listener): {notify['rate']:,.0f} rows/s "
          "after commit "
          f"({notify['after_commit_s']:.2f} s; the INSERT itself {notify['insert_s']:.2f} s)",
          flush=True)
    changes = face.run(change_path(face, dsn, args.rows, args.rounds))
    face.close()
    print(f"[{pipeline}] change stream (slot, no trigger): {changes['rate']:,.0f} rows/s "
          "after commit "
          f"({changes['after_commit_s']:.2f} s; the INSERT itself "
          f"{changes['insert_s']:.2f} s)", flush=True)
    print(f"sustained over {args.rounds} x {args.rows:,} rows: "
          f"{changes['sustained_rate']:,.0f} rows/s; slot lag max "
          f"{changes['max_lag_bytes'] / 1e6:.1f} MB, after {changes['final_lag_bytes']:,} B; "
          f"dropped {changes['dropped']}", flush=True)
    return {
        "pipeline": pipeline,
        "rows": args.rows,
        "notify_rate": round(notify["rate"]),
        "notify_insert_s": round(notify["insert_s"], 3),
        "change_rate": round(changes["rate"]),
        "change_insert_s": round(changes["insert_s"], 3),
        "ratio_change_to_notify": round(changes["rate"] / notify["rate"], 2),
        "sustained_change_rate": round(changes["sustained_rate"]),
        "max_lag_bytes": changes["max_lag_bytes"],
        "final_lag_bytes": changes["final_lag_bytes"],
        "dropped": changes["dropped"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--core", action="store_true",
                    help="the core sources only, no window (default: decoded and shown)")
    ap.add_argument("--parts", default="cli,window")
    ap.add_argument("--cli-rows", type=int, default=200_000)
    ap.add_argument("--small", type=int, default=2_000, help="small transactions")
    ap.add_argument("--per", type=int, default=10, help="rows per small transaction")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--formats", default="jsonl,envelope",
                    help="the `changes --format`s to time (the code under test may lack one)")
    args = ap.parse_args(argv)
    parts = args.parts.split(",")
    from tests.replication_server import drop_database, fresh_database, start_logical_server

    base = os.environ.get("PGWATCH_TEST_LOGICAL_DSN")
    cleanup = None
    if not base:
        base, cleanup = start_logical_server()
    dsn = fresh_database(base)
    out: dict = {"load_avg": [round(os.getloadavg()[0], 2)]}
    try:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(TABLE)
        if "cli" in parts:
            from tests.benchmarks.recvlogical import compare

            out_dir = Path(tempfile.mkdtemp(prefix="pgwatch-bench-changes-"))
            formats = args.formats.split(",")
            try:
                cli = compare(dsn, out_dir, rows=args.cli_rows, small=args.small,
                              per=args.per, runs=args.runs,
                              variants={f: ["--format", f] for f in formats})
            finally:
                shutil.rmtree(out_dir, ignore_errors=True)
            out["cli_vs_recvlogical"] = cli
            out.setdefault("targets", {}).update({
                f"{shape}.{f}.rows_per_s_ratio>=0.8": cli[shape][f]["rows_per_s_ratio"] >= 0.8
                for shape in cli for f in formats})
        if "window" in parts:
            out.update(pipelines(dsn, args))
        out["load_avg"].append(round(os.getloadavg()[0], 2))
        print(json.dumps(out), flush=True)
    finally:
        drop_database(base, dsn)
        if cleanup is not None:
            cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
