"""Profiles from pgAdmin 4's servers.json and DBeaver's data-sources.json fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgwatch_gui.core.profiles.imports_tools import import_dbeaver, import_pgadmin
from pgwatch_gui.core.profiles.model import ProfileError
from pgwatch_gui.core.ssh.settings import AUTH_AGENT, AUTH_KEY, AUTH_PASSWORD

FIXTURES = Path(__file__).parent / "import_fixtures"


def by_name(result):
    return {i.profile.name: i for i in result.found}


def test_pgadmin_servers_json():
    result = import_pgadmin(FIXTURES / "pgadmin_servers.json")
    found = by_name(result)
    assert set(found) == {"Production (via bastion)", "Staging", "Local service"}
    assert len(result.skipped) == 1 and result.skipped[0].startswith("Broken port:")

    prod = found["Production (via bastion)"]
    p = prod.profile
    assert (p.host, p.port, p.dbname, p.user) == ("db.internal", 5432, "shop", "dba")
    assert (p.sslmode, p.connect_timeout, p.sslrootcert) == (
        "verify-full", 10, "/home/dba/.postgresql/root.crt")
    assert p.color == "#ff9900"
    assert (p.ssh_host, p.ssh_port, p.ssh_user, p.ssh_auth, p.ssh_key) == (
        "bastion.example.com", 2222, "deploy", AUTH_KEY, "/home/dba/.ssh/id_ed25519")
    assert prod.password is None and prod.ssh_secret is None
    assert any("Role 'shop_owner'" in n for n in prod.notes)

    staging = found["Staging"]
    s = staging.profile
    assert (s.host, s.port, s.sslmode) == ("staging.example.com", 6432, "require")
    assert (s.ssh_host, s.ssh_port, s.ssh_user, s.ssh_auth) == (
        "jump.example.com", None, "ops", AUTH_PASSWORD)
    # Passwords come back apart from the profile, for the keyring; never in it.
    assert staging.password == "staging-s3cret" and staging.ssh_secret == "jump-s3cret"
    assert "s3cret" not in repr(s.to_dict())
    assert "KerberosAuthentication not imported" in staging.notes

    assert found["Local service"].profile.service == "local_dev"


def test_dbeaver_data_sources_json():
    result = import_dbeaver(FIXTURES / "dbeaver_data_sources.json")
    found = by_name(result)
    assert set(found) == {"orders-prod", "analytics"}
    assert sorted(result.skipped) == [
        "legacy-mysql: not PostgreSQL (provider mysql)",
        "weird-url: JDBC URL 'jdbc:oracle:thin:@x:1521:y' not understood",
    ]
    orders = found["orders-prod"]
    o = orders.profile
    assert (o.host, o.port, o.dbname, o.user, o.sslmode) == (
        "10.0.3.17", 5432, "orders", "", "require")
    assert (o.ssh_host, o.ssh_port, o.ssh_auth, o.ssh_key) == (
        "bastion.example.com", None, AUTH_KEY, "/home/dev/.ssh/id_rsa")
    notes = " | ".join(orders.notes)
    assert "user name not in the file" in notes and "bootstrap" in notes
    assert "SSH user not in the file" in notes

    a = found["analytics"]
    assert (a.profile.host, a.profile.port, a.profile.dbname, a.profile.user) == (
        "analytics.example.com", 6543, "warehouse", "analyst")
    assert (a.profile.ssh_host, a.profile.ssh_port, a.profile.ssh_user, a.profile.ssh_auth) == (
        "jump.example.com", 2200, "tunnel", AUTH_PASSWORD)
    assert (a.password, a.ssh_secret) == ("an4lyst-pw", "tunnel-pw")
    assert "pw" not in repr(a.profile.to_dict())
    assert AUTH_AGENT not in (o.ssh_auth, a.profile.ssh_auth)


@pytest.mark.parametrize("reader", [import_pgadmin, import_dbeaver])
def test_wrong_files_are_one_clear_error(reader, tmp_path):
    bad = tmp_path / "x.json"
    for text in ("{not json", '{"something": "else"}', "[]"):
        bad.write_text(text)
        with pytest.raises(ProfileError) as info:
            reader(bad)
        assert "\n" not in str(info.value)
    with pytest.raises(ProfileError, match="cannot read"):
        reader(tmp_path / "missing.json")
