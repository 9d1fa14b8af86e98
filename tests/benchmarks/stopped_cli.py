"""How bench_cli and bench_changes time a `pgwatch-gui` command: started writing into a
file, stopped (SIGSTOP) once ready while the workload is queued on the server, then timed
from SIGCONT to its exit, with the CPU it used meanwhile; the file must hold every line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cpu_now(pid: int) -> float:
    """CPU seconds process `pid` has used so far (the scheduler's own count)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def cli_env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def drain(args: list[str], out_path: Path, ready: Callable[[bytes], bool],
          fill: Callable[[], int]) -> tuple[int, float, float]:
    """(lines, seconds, CPU seconds) of `pgwatch-gui *args` draining what `fill()` queued
    (it returns how many lines that makes) once a line of its stderr is `ready`."""
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", *args], stdout=out,
                                stderr=subprocess.PIPE, env=cli_env(), cwd=str(ROOT))
        try:
            assert proc.stderr is not None
            while True:
                line = proc.stderr.readline()
                if not line:
                    raise RuntimeError(f"{args[0]} exited: {proc.wait()}")
                if ready(line):
                    break
            proc.send_signal(signal.SIGSTOP)
            n = fill()  # queued while the command does not read
            cpu0 = cpu_now(proc.pid)
            t0 = time.perf_counter()
            proc.send_signal(signal.SIGCONT)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - t0
            proc.returncode = rc = os.waitstatus_to_exitcode(status)
            err = proc.stderr.read().decode(errors="replace")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait()
    if rc != 0:
        raise RuntimeError(f"{args[0]} exited {rc}: {err.strip()}")
    with open(out_path, "rb") as f:
        got = sum(1 for _ in f)
    if got != n:
        raise RuntimeError(f"{args[0]} wrote {got} lines, expected {n}")
    return n, elapsed, usage.ru_utime + usage.ru_stime - cpu0
