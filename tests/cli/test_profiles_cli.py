"""`pgwatch-gui profiles ...` and `--profile` in subprocesses, with a temporary keyring."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg
import pytest

from tests.conftest import cli_env, dsn_for, run_cli
from tests.keyring_backend import TempFileKeyring
from tests.pgroles import password_role

AWKWARD = "p@ss:w/rd%-Xy7"


@pytest.fixture
def home(tmp_path):
    """Environment for one test's CLI runs: its own config folder and keyring file."""
    env = {"PGWATCH_CONFIG_DIR": str(tmp_path / "config"),
           "PGWATCH_TEST_KEYRING_FILE": str(tmp_path / "keyring.json")}
    return env


def cli(home, *args, **kw):
    return run_cli(*args, **home, **kw)


def keyring_of(home) -> TempFileKeyring:
    return TempFileKeyring(home["PGWATCH_TEST_KEYRING_FILE"])


def config_bytes(home) -> bytes:
    from pathlib import Path

    return b"".join(p.read_bytes() for p in Path(home["PGWATCH_CONFIG_DIR"]).rglob("*")
                    if p.is_file())


def test_add_list_show_remove_without_leaking_the_password(home):
    r = cli(home, "profiles", "add", "prod", "--dsn",
            f"postgresql://bob:{AWKWARD}@db.example.com:6432/app?sslmode=require",
            "-c", "orders", "-c", "Order Events", "--auto-connect")
    assert r.returncode == 0, r.stderr
    assert AWKWARD not in r.stdout + r.stderr
    assert keyring_of(home).entries() == {"prod": AWKWARD}
    assert AWKWARD.encode() not in config_bytes(home)
    assert b"ss:w/rd" not in config_bytes(home)

    r = cli(home, "profiles", "list")
    assert r.returncode == 0 and "prod" in r.stdout and "bob@db.example.com:6432/app" in r.stdout
    assert "channels=orders,Order Events auto-connect" in r.stdout

    r = cli(home, "profiles", "show", "prod")
    assert r.returncode == 0, r.stderr
    assert "sslmode:" in r.stdout and "require" in r.stdout
    assert "password:         stored in the keyring" in r.stdout
    assert AWKWARD not in r.stdout and "ss:w/rd" not in r.stdout
    shown = json.loads(cli(home, "profiles", "show", "prod", "--json").stdout)
    assert shown["password_saved"] is True and "password" not in shown
    assert shown["channels"] == ["orders", "Order Events"]
    listed = json.loads(cli(home, "profiles", "list", "--json").stdout)
    assert [p["name"] for p in listed] == ["prod"]

    r = cli(home, "profiles", "add", "prod", "--dsn", "host=other")
    assert r.returncode == 2 and "exists already" in r.stderr
    assert cli(home, "profiles", "add", "prod", "--dsn", "host=other", "--replace").returncode == 0

    r = cli(home, "profiles", "remove", "prod")
    assert r.returncode == 0 and keyring_of(home).entries() == {}
    assert cli(home, "profiles", "list", "--json").stdout.strip() == "[]"


@pytest.mark.parametrize("args", [
    ("profiles", "show", "nope"), ("profiles", "remove", "nope"),
    ("listen", "--profile", "nope", "-c", "x"), ("notify", "--profile", "nope", "-c", "x"),
    ("--profile", "nope"),  # the window: refused before it opens
])
def test_unknown_profile_is_one_line_exit_2(home, args):
    r = cli(home, *args)
    assert r.returncode == 2
    assert r.stderr.strip() == "pgwatch-gui: error: no profile named 'nope' " \
                               "(see `pgwatch-gui profiles list`)"


def test_profile_and_dsn_exclude_each_other(home):
    r = cli(home, "listen", "--profile", "a", "--dsn", "host=x", "-c", "c")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "not allowed with" in r.stderr


NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def test_no_usable_keyring_puts_the_password_in_the_password_file(home, tmp_path):
    """Issue 21: it exited 0 and dropped the password. Now it goes where libpq finds it,
    and stderr says so (never the password itself)."""
    passfile = tmp_path / "pgpass"
    r = cli(home, "profiles", "add", "p", "--dsn", f"postgresql://u:{AWKWARD}@h:6432/db",
            PGPASSFILE=str(passfile), **NO_KEYRING)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("\n") == 1 and "no usable keyring" in r.stderr
    assert f"the password went to {passfile} (mode 0600, for h:6432:db:u)" in r.stderr
    assert AWKWARD not in r.stdout + r.stderr
    assert AWKWARD.encode() not in config_bytes(home)
    assert passfile.read_text() == "h:6432:db:u:p@ss\\:w/rd%-Xy7\n"
    assert oct(passfile.stat().st_mode & 0o777) == "0o600"


def test_password_stdin(home):
    r = cli(home, "profiles", "add", "p", "--dsn", "host=h user=u", "--password-stdin",
            input=AWKWARD + "\n")
    assert r.returncode == 0, r.stderr
    assert keyring_of(home).entries() == {"p": AWKWARD}


def test_add_from_env_and_import_services(home, tmp_path):
    r = cli(home, "profiles", "add", "envp", "--from-env", PGHOST="envhost", PGPORT="6000",
            PGDATABASE="envdb", PGUSER="envuser", PGPASSWORD=AWKWARD)
    assert r.returncode == 0, r.stderr
    assert keyring_of(home).entries() == {"envp": AWKWARD}
    conf = tmp_path / "svc.conf"
    conf.write_text("[reporting]\nhost=rep\n[envp]\nhost=dup\n")
    r = cli(home, "profiles", "import-services", PGSERVICEFILE=str(conf))
    assert r.returncode == 0, r.stderr
    assert "added profile 'reporting' (service=reporting)" in r.stdout
    assert "skipped 'envp'" in r.stdout
    names = [p["name"] for p in json.loads(cli(home, "profiles", "list", "--json").stdout)]
    assert names == ["envp", "reporting"]


def test_corrupt_file_warns_and_goes_on(home):
    from pathlib import Path

    cfg = Path(home["PGWATCH_CONFIG_DIR"])
    cfg.mkdir()
    (cfg / "profiles.json").write_text("{not json")
    r = cli(home, "profiles", "list")
    assert r.returncode == 0
    assert "pgwatch-gui: warning:" in r.stderr and "moved aside to profiles.json.bad-" in r.stderr
    assert any(".bad-" in p.name for p in cfg.iterdir())


def test_listen_and_notify_through_a_profile_with_a_keyring_password(home, pg_server, pg_dsn):
    dbname = psycopg.conninfo.conninfo_to_dict(pg_dsn)["dbname"]
    with password_role(pg_server, AWKWARD) as role:
        dsn = dsn_for(pg_server, dbname=dbname, user=role, password=AWKWARD)
        assert cli(home, "profiles", "add", "db", "--dsn", dsn, "-c", "Chan One").returncode == 0
        assert keyring_of(home).entries() == {"db": AWKWARD}
        proc = subprocess.Popen(
            [sys.executable, "-m", "pgwatch_gui", "listen", "--profile", "db", "--count", "1",
             "--timeout", "20"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(**home))
        try:
            line = proc.stderr.readline()  # "listening on Chan One" once LISTEN is done
            assert "listening on Chan One" in line, line + proc.stderr.read()
            r = cli(home, "notify", "--profile", "db", "-c", "Chan One", "-p", "hello")
            assert r.returncode == 0, r.stderr
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
        event = json.loads(out.splitlines()[0])
        assert event["payload"] == "hello" and event["profile"] == "db"
        assert AWKWARD not in out + err
        # without the keyring's password the server says so, in one line, password-free
        keyring_of(home).delete_password("pgwatch-gui", "db")
        r = cli(home, "notify", "--profile", "db", "-c", "x", "-p", "y")
        assert r.returncode == 2 and "no password supplied" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_password_stdin_without_a_keyring_reaches_the_server_through_pgpass(
        home, tmp_path, pg_server, pg_dsn):
    dbname = psycopg.conninfo.conninfo_to_dict(pg_dsn)["dbname"]
    home = {**home, "HOME": str(tmp_path / "home")}  # ~/.pgpass: this test's own
    (tmp_path / "home").mkdir()
    with password_role(pg_server, AWKWARD) as role:
        dsn = dsn_for(pg_server, dbname=dbname, user=role)
        r = cli(home, "profiles", "add", "db", "--dsn", dsn, "--password-stdin",
                input=AWKWARD + "\n", PGPASSFILE="", **NO_KEYRING)
        assert r.returncode == 0, r.stderr
        passfile = tmp_path / "home" / ".pgpass"
        assert "the password went to ~/.pgpass (mode 0600" in r.stderr
        r = cli(home, "notify", "--profile", "db", "-c", "x", "-p", "y", PGPASSFILE="",
                **NO_KEYRING)
        assert r.returncode == 0, r.stderr
        # and psql's way, without pgwatch-gui's help: libpq reads the same line
        with psycopg.connect(dsn, passfile=str(passfile)) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == role


def test_a_password_with_nowhere_to_go_exits_1_and_keeps_the_profile(home):
    r = cli(home, "profiles", "add", "p", "--dsn", "host=h user=u", "--password-stdin",
            input="pw\n", PGPASSFILE="/dev/null/pgpass", **NO_KEYRING)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "saved, but not its password" in r.stderr
    assert "pw" not in r.stderr.replace("password", "")
    assert [p["name"] for p in json.loads(cli(home, "profiles", "list", "--json").stdout)] \
        == ["p"]


def test_an_ssh_secret_without_a_keyring_is_refused_before_anything_is_saved(home, tmp_path):
    r = cli(home, "profiles", "add", "far", "--dsn", "host=db.internal",
            "--ssh", "me@bastion.example.com", "--ssh-password-stdin", input="s3cret\n",
            **NO_KEYRING)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "nothing saved" in r.stderr and "SSH" in r.stderr
    assert cli(home, "profiles", "list", "--json").stdout.strip() == "[]"


def test_import_without_a_keyring_says_where_each_password_went(home, tmp_path):
    from pathlib import Path

    fixture = Path(__file__).resolve().parent.parent / "core" / "import_fixtures" / \
        "pgadmin_servers.json"
    passfile = tmp_path / "pgpass"
    r = cli(home, "profiles", "import-pgadmin", str(fixture), PGPASSFILE=str(passfile),
            **NO_KEYRING)
    assert r.returncode == 1, r.stderr  # the SSH password had nowhere to go
    line = next(x for x in r.stdout.splitlines() if x.startswith("added profile 'Staging'"))
    assert f"password to {passfile}" in line
    assert "SSH secret not kept: no usable keyring" in line
    assert passfile.read_text() == "staging.example.com:*:postgres:app:staging-s3cret\n"
    assert "s3cret" not in r.stdout + r.stderr
