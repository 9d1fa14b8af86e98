"""`profiles add --ssh ...`, and `listen`, `notify`, `trigger` with a --profile that tunnels,
as a user runs them: real processes, a real sshd, the real server behind it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_env, run_cli
from tests.keyring_backend import TempFileKeyring
from tests.ssh_server import write_key

PASSPHRASE = "correct horse: battery@staple"


@pytest.fixture
def home(tmp_path, ssh_home):
    return {"PGWATCH_CONFIG_DIR": str(tmp_path / "config"),
            "PGWATCH_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
            "HOME": str(ssh_home)}


def cli(home, *args, **kw):
    return run_cli(*args, **home, **kw)


def config_text(home) -> str:
    return "".join(p.read_text() for p in Path(home["PGWATCH_CONFIG_DIR"]).rglob("*.json"))


def add_profile(home, sshd, dsn, *extra, name="far", **kw):
    r = cli(home, "profiles", "add", name, "--dsn", dsn, "-c", "jobs", "--ssh", sshd.target,
            "--ssh-key", str(sshd.user_key_path), *extra, **kw)
    assert r.returncode == 0, r.stderr
    return r


def trust(home, sshd):
    (Path(home["HOME"]) / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())


def test_add_show_list_keep_the_passphrase_out(home, sshd, pg_tcp_dsn, tmp_path):
    locked = tmp_path / "locked_key"
    write_key(locked, passphrase=PASSPHRASE)
    r = cli(home, "profiles", "add", "far", "--dsn", "host=db.internal dbname=app",
            "--ssh", "deploy@bastion.example.com:2222", "--ssh-key", str(locked),
            "--ssh-passphrase-stdin", input=PASSPHRASE + "\n")
    assert r.returncode == 0, r.stderr
    assert "via ssh deploy@bastion.example.com:2222" in r.stdout
    assert PASSPHRASE not in config_text(home)
    assert json.loads(config_text(home))["format"] == 2
    entries = TempFileKeyring(home["PGWATCH_TEST_KEYRING_FILE"]).entries()
    assert entries == {"far": PASSPHRASE}

    show = cli(home, "profiles", "show", "far")
    assert show.returncode == 0, show.stderr
    assert "ssh:" in show.stdout and "deploy@bastion.example.com:2222" in show.stdout
    assert f"key {locked}" in show.stdout and "stored in the keyring" in show.stdout
    assert PASSPHRASE not in show.stdout
    data = json.loads(cli(home, "profiles", "show", "far", "--json").stdout)
    assert (data["ssh_host"], data["ssh_port"], data["ssh_user"]) == (
        "bastion.example.com", 2222, "deploy")
    assert data["ssh_secret_saved"] is True and PASSPHRASE not in json.dumps(data)
    assert "via ssh" in cli(home, "profiles", "list").stdout


def test_listen_notify_trigger_go_through_the_tunnel(home, sshd, pg_tcp_dsn):
    add_profile(home, sshd, pg_tcp_dsn)
    trust(home, sshd)
    env = cli_env(**home)
    p = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", "listen", "--profile", "far",
                          "--count", "1", "--timeout", "30"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = p.stderr.readline()
    assert line.startswith("listening on jobs"), line + p.stderr.read()
    r = cli(home, "notify", "--profile", "far", "-c", "jobs", "-p", "through the bastion")
    assert r.returncode == 0, r.stderr
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert json.loads(out)["payload"] == "through the bastion"
    r = cli(home, "trigger", "list", "--profile", "far")
    assert r.returncode == 0, r.stderr


def test_changed_host_key_exits_2_with_one_line(home, sshd, pg_tcp_dsn, tmp_path):
    add_profile(home, sshd, pg_tcp_dsn)
    other = write_key(tmp_path / "impostor")
    line = " ".join(other.export_public_key("openssh").decode().split()[:2])
    (Path(home["HOME"]) / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{sshd.port} {line}\n")
    for args in (["notify", "--profile", "far", "-c", "jobs"],
                 ["listen", "--profile", "far", "--timeout", "5"],
                 ["profiles", "trust-host-key", "far", "--fingerprint",
                  sshd.host_key_fingerprint()]):
        r = cli(home, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and "host key" in r.stderr, r.stderr
    assert line in (Path(home["HOME"]) / ".ssh" / "known_hosts").read_text()


def test_unknown_host_key_is_trusted_only_with_its_fingerprint(home, sshd, pg_tcp_dsn):
    add_profile(home, sshd, pg_tcp_dsn)
    fp = sshd.host_key_fingerprint()
    r = cli(home, "notify", "--profile", "far", "-c", "jobs")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "unknown host key" in r.stderr and fp in r.stderr
    r = cli(home, "profiles", "trust-host-key", "far", "--fingerprint", "SHA256:nope")
    assert r.returncode == 2 and "nothing recorded" in r.stderr
    r = cli(home, "profiles", "trust-host-key", "far", "--fingerprint", fp)
    assert r.returncode == 0, r.stderr
    assert cli(home, "notify", "--profile", "far", "-c", "jobs").returncode == 0


def test_wrong_key_exits_2_with_one_line(home, sshd, pg_tcp_dsn, tmp_path):
    stranger = tmp_path / "stranger"
    write_key(stranger)
    r = cli(home, "profiles", "add", "far", "--dsn", pg_tcp_dsn, "--ssh", sshd.target,
            "--ssh-key", str(stranger))
    assert r.returncode == 0, r.stderr
    trust(home, sshd)
    r = cli(home, "notify", "--profile", "far", "-c", "jobs")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "SSH login" in r.stderr and "refused" in r.stderr


FIXTURES = Path(__file__).parent.parent / "core" / "import_fixtures"


@pytest.mark.parametrize("command, fixture, expected, skipped", [
    ("import-pgadmin", "pgadmin_servers.json",
     {"Production (via bastion)", "Staging", "Local service"}, ["Broken port"]),
    ("import-dbeaver", "dbeaver_data_sources.json", {"orders-prod", "analytics"},
     ["legacy-mysql", "weird-url"]),
])
def test_import_from_pgadmin_and_dbeaver(home, command, fixture, expected, skipped):
    r = cli(home, "profiles", command, str(FIXTURES / fixture))
    assert r.returncode == 0, r.stderr
    for name in skipped:
        assert f"not imported: {name}" in r.stdout
    listed = json.loads(cli(home, "profiles", "list", "--json").stdout)
    assert {p["name"] for p in listed} == expected
    text = config_text(home)
    for secret in ("s3cret", "an4lyst-pw", "tunnel-pw"):
        assert secret not in text and secret not in r.stdout
    again = cli(home, "profiles", command, str(FIXTURES / fixture))
    assert again.returncode == 0 and again.stdout.count("a profile of that name exists") == len(
        expected)


def test_import_secrets_go_to_the_keyring(home):
    r = cli(home, "profiles", "import-dbeaver", str(FIXTURES / "dbeaver_data_sources.json"))
    assert r.returncode == 0, r.stderr
    kr = TempFileKeyring(home["PGWATCH_TEST_KEYRING_FILE"])
    raw = kr._read()
    assert raw == {"pgwatch-gui\x00analytics": "an4lyst-pw",
                   "pgwatch-gui-ssh\x00analytics": "tunnel-pw"}


def test_import_of_a_wrong_file_is_one_line(home, tmp_path):
    bad = tmp_path / "servers.json"
    bad.write_text('{"connections": {}}')
    r = cli(home, "profiles", "import-pgadmin", str(bad))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "pgAdmin" in r.stderr


def test_listen_survives_an_ssh_server_restart(home, sshd, pg_tcp_dsn):
    add_profile(home, sshd, pg_tcp_dsn)
    trust(home, sshd)
    p = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", "listen", "--profile", "far",
                          "--count", "2", "--timeout", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=cli_env(**home))
    try:
        assert p.stderr.readline().startswith("listening on jobs")
        assert cli(home, "notify", "--profile", "far", "-c", "jobs", "-p", "one").returncode == 0
        sshd.restart()
        while True:  # it says it lost the connection, then that it listens again
            line = p.stderr.readline()
            assert line, p.stderr.read()
            if line.startswith("listening on jobs"):
                break
        r = cli(home, "notify", "--profile", "far", "-c", "jobs", "-p", "two")
        assert r.returncode == 0, r.stderr
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, err
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r.get("payload") for r in rows if r.get("kind", "notify") == "notify"] == [
        "one", "two"]
    assert any(r.get("kind") == "gap" for r in rows)


def test_replacing_a_profile_without_its_tunnel_forgets_the_ssh_secret(home):
    r = cli(home, "profiles", "add", "far", "--dsn", "host=db", "--ssh", "me@bastion",
            "--ssh-password-stdin", input="tunnel-secret\n")
    assert r.returncode == 0, r.stderr
    assert TempFileKeyring(home["PGWATCH_TEST_KEYRING_FILE"]).entries() == {"far": "tunnel-secret"}
    r = cli(home, "profiles", "add", "far", "--dsn", "host=db", "--replace")
    assert r.returncode == 0, r.stderr
    assert TempFileKeyring(home["PGWATCH_TEST_KEYRING_FILE"]).entries() == {}
    assert json.loads(config_text(home))["format"] == 1
