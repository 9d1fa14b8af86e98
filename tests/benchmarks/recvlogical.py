"""`pgwatch-gui changes` against pg_recvlogical with test_decoding, for bench_changes.py.

Both receivers drain the same queued row changes into a file, one after the other:

- pg_recvlogical (C, Debian's /usr/bin/pg_recvlogical, the reference): a logical slot
  with test_decoding is made first, the workload runs, then `pg_recvlogical --start
  --endpos <the WAL position after the workload> -f file` decodes and writes it all and
  exits; timed from its start to its exit, its CPU from its rusage.
- `python -m pgwatch_gui changes --table public.orders --count N` with stdout on a file:
  once it streams it is stopped (SIGSTOP), the workload runs, and the clock runs from
  SIGCONT to its exit after N lines; its CPU from its schedstat at SIGCONT to its rusage.

The workloads: one transaction of `rows` rows (`INSERT ... SELECT`), and `small`
transactions of `per` rows each (a DO block that commits after each). The rate is rows
per second of drain; both walsenders decode the WAL as their client reads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg
from psycopg import conninfo as _ci

from tests.benchmarks.stopped_cli import drain

RECVLOGICAL = shutil.which("pg_recvlogical") or "/usr/bin/pg_recvlogical"

INSERT = ("INSERT INTO orders SELECT g, 'customer ' || (g %% 97), "
          "(ARRAY['new','paid','packed','shipped'])[g %% 4 + 1], round((g %% 1000) * 1.37, 2), "
          "now() FROM generate_series(%s::bigint, %s::bigint) g")
SMALL = """DO $$ BEGIN FOR t IN 0..{small} - 1 LOOP
  INSERT INTO orders SELECT g, 'customer ' || (g % 97),
    (ARRAY['new','paid','packed','shipped'])[g % 4 + 1], round((g % 1000) * 1.37, 2), now()
    FROM generate_series({first} + t * {per}, {first} + t * {per} + {per} - 1) g;
  COMMIT;
END LOOP; END $$"""


def workload(dsn: str, shape: str, first: int, rows: int, small: int, per: int) -> int:
    """Run it; the number of row changes it made."""
    with psycopg.connect(dsn, autocommit=True) as c:
        if shape == "one":
            c.execute(INSERT, (first, first + rows - 1))
            return rows
        c.execute(SMALL.format(small=small, per=per, first=first))
        return small * per


def recvlogical(dsn: str, out: Path, run) -> tuple[int, float, float]:
    """(rows, seconds, CPU seconds) of pg_recvlogical draining what `run()` writes."""
    slot = f"bench_td_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (slot,))
    try:
        rows = run()
        with psycopg.connect(dsn, autocommit=True) as c:
            end = c.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
        args = [RECVLOGICAL, "-d", _libpq_string(dsn), "--slot", slot, "--start",
                "--endpos", end, "--no-loop", "-f", str(out)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"pg_recvlogical failed: {err.strip()}")
    finally:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    with open(out, "rb") as f:
        got = sum(1 for line in f if line.startswith(b"table "))
    if got != rows:
        raise RuntimeError(f"pg_recvlogical wrote {got} rows, expected {rows}")
    return rows, elapsed, usage.ru_utime + usage.ru_stime


def _libpq_string(dsn: str) -> str:
    """The DSN as a key=value string (pg_recvlogical 15 reads URIs too, but not every form)."""
    return _ci.make_conninfo(dsn)


def changes_cli(dsn: str, out: Path, run, count: int, args: list[str]) -> tuple[int, float, float]:
    """(rows, seconds, CPU seconds) of `pgwatch-gui changes` draining what `run()` writes."""
    return drain(["changes", "--dsn", dsn, "--table", "public.orders", "--count", str(count),
                  *args], out, lambda line: b"streaming" in line, run)


def compare(dsn: str, out_dir: Path, *, rows: int, small: int, per: int, runs: int,
            variants: dict[str, list[str]] | None = None) -> dict:
    """pg_recvlogical and each variant of `changes` (name -> its extra arguments),
    `runs` times each, interleaved, for both workloads."""
    variants = variants or {"jsonl": []}
    result: dict = {}
    first = 100_000_000
    for shape, n in (("one", rows), ("small", small * per)):
        ref: list = []
        cli: dict[str, list] = {v: [] for v in variants}

        def run(shape=shape):
            nonlocal first
            first += rows + small * per
            return workload(dsn, shape, first, rows, small, per)

        for k in range(runs):
            ref.append(recvlogical(dsn, out_dir / f"td-{shape}{k}.txt", run))  # it appends
            _truncate(dsn)
            for name, args in variants.items():
                cli[name].append(changes_cli(dsn, out_dir / f"cli-{name}-{shape}{k}.jsonl", run,
                                             n, args))
                _truncate(dsn)
        ref_rate = max(r / s for r, s, _ in ref)
        ref_cpu = min(c for _, _, c in ref)
        result[shape] = {"rows": n, "recvlogical_per_s": round(ref_rate),
                         "recvlogical_cpu_s": round(ref_cpu, 3),
                         "recvlogical_runs": [round(r / s) for r, s, _ in ref]}
        print(f"[{shape}: {n:,} rows] pg_recvlogical (test_decoding): "
              + ", ".join(f"{r / s:,.0f}/s ({c:.2f} s CPU)" for r, s, c in ref), flush=True)
        for name, got in cli.items():
            cli_rate = max(r / s for r, s, _ in got)
            cli_cpu = min(c for _, _, c in got)
            result[shape][name] = {
                "rows_per_s_ratio": round(cli_rate / ref_rate, 3),
                "cpu_ratio": round(cli_cpu / ref_cpu, 2),
                "changes_per_s": round(cli_rate), "changes_cpu_s": round(cli_cpu, 3),
                "changes_runs": [round(r / s) for r, s, _ in got],
            }
            print(f"[{shape}: {n:,} rows] changes --format {name} > file: "
                  + ", ".join(f"{r / s:,.0f}/s ({c:.2f} s CPU)" for r, s, c in got)
                  + f"; rows/s {result[shape][name]['rows_per_s_ratio']:.3f}x, "
                  f"client CPU {result[shape][name]['cpu_ratio']:.2f}x", flush=True)
    return result


def _truncate(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("TRUNCATE orders")
