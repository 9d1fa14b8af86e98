"""When the SSH server dies mid-stream, `listen` and `changes` say the tunnel is down and
name the bastion, never a refused connection to the tunnel's local end (issue 21); they
come back by themselves once it returns."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from psycopg import conninfo as _ci

from tests.conftest import cli_env, run_cli
from tests.core.replication.streams import execute, slots_and_publications
from tests.ssh_server import TcpToUnix


@pytest.fixture
def home(tmp_path, ssh_home):
    return {"PGWATCH_CONFIG_DIR": str(tmp_path / "config"),
            "PGWATCH_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
            "HOME": str(ssh_home)}


def add_profile(home, sshd, dsn: str, *extra: str) -> None:
    r = run_cli("profiles", "add", "far", "--dsn", dsn, "--ssh", sshd.target, "--ssh-key",
                str(sshd.user_key_path), *extra, **home)
    assert r.returncode == 0, r.stderr
    (Path(home["HOME"]) / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())


def start(home, *args: str) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=cli_env(**home))
    os.set_blocking(p.stderr.fileno(), True)
    return p


def read_until(p: subprocess.Popen, needle: str, timeout: float = 30) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = p.stderr.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} never came: {''.join(lines)}")


def local_end_refused(text: str, sshd_port: int) -> bool:
    """'connection to server at "127.0.0.1", port N failed' for a port that is not sshd's."""
    return any(int(port) != sshd_port
               for port in re.findall(r'"127\.0\.0\.1", port (\d+)', text))


def test_listen_names_the_tunnel_when_sshd_dies_and_comes_back(home, sshd, pg_tcp_dsn):
    add_profile(home, sshd, pg_tcp_dsn, "-c", "jobs")
    p = start(home, "listen", "--profile", "far", "--timeout", "40")
    try:
        read_until(p, "listening on jobs")
        sshd.stop()
        said = read_until(p, "not reachable")  # a reconnect that asked the tunnel again
        text = "".join(said)
        assert f"the SSH tunnel via {sshd.user}@127.0.0.1:{sshd.port} is down" in said[0], text
        assert f"the SSH tunnel via {sshd.user}@127.0.0.1:{sshd.port} is down: SSH server " \
            "not reachable" in said[-1]
        assert not local_end_refused(text, sshd.port), text
        assert "Connection refused Is the server running" not in text
        sshd.start()
        read_until(p, "listening on jobs")
        r = run_cli("notify", "--profile", "far", "-c", "jobs", "-p", "back", **home)
        assert r.returncode == 0, r.stderr
        p.send_signal(15)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    lines = [json.loads(x) for x in out.splitlines()]
    gap = next(x for x in lines if x["kind"] == "gap")
    assert "the SSH tunnel via" in gap["payload"] and "is down" in gap["payload"]
    assert lines[-1]["payload"] == "back"
    assert not local_end_refused(err, sshd.port), err


@pytest.fixture
def logical_tcp_dsn(logical_dsn):
    params = _ci.conninfo_to_dict(logical_dsn)
    host = params.get("host") or "/tmp"
    if not host.startswith("/"):
        yield logical_dsn
        return
    relay = TcpToUnix(os.path.join(host, f".s.PGSQL.{params.get('port') or 5432}")).start()
    yield _ci.make_conninfo(logical_dsn, host="localhost", port=str(relay.port),
                            sslmode="disable", gssencmode="disable")
    relay.stop()


def test_changes_names_the_tunnel_when_sshd_dies(home, sshd, logical_tcp_dsn, logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    add_profile(home, sshd, logical_tcp_dsn)
    p = start(home, "changes", "--profile", "far", "--table", "t", "--timeout", "40")
    try:
        read_until(p, "streaming")
        sshd.stop()
        said = read_until(p, "not reachable")
        text = "".join(said)
        assert f"the SSH tunnel via {sshd.user}@127.0.0.1:{sshd.port} is down" in text, text
        assert not local_end_refused(text, sshd.port), text
        p.send_signal(15)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    # The publication cannot be dropped through a dead tunnel: said, exit 1, and the next
    # run finds it a leftover at once (its maker is gone).
    assert p.returncode == 1, err
    assert "could not drop publication" in err and "listed for removal" in err, err
    _, pubs = slots_and_publications(logical_dsn)
    r = run_cli("changes", "--dsn", logical_dsn, "--drop-leftovers")
    assert r.returncode == 0 and all(f"dropped publication {x}" in r.stderr for x in pubs)
