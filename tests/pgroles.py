"""Roles for tests that need password authentication on the shared test server.

The embedded server trusts every local connection. `password_role` adds one pg_hba
line in front that asks the new role for a SCRAM password, reloads, and takes it out
again afterwards. Skipped where the hba file is not ours to edit. The line names the
role itself (a /regex role pattern needs PostgreSQL 16; the suite also runs on 15).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

HBA_LINE = "local all {role} scram-sha-256  # pgwatch-gui tests\n"


@contextlib.contextmanager
def password_role(server_dsn: str, password: str):
    """Yield the name of a new login role that must give `password` to connect."""
    name = f"pgw_pw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        hba = conn.execute("SHOW hba_file").fetchone()[0]
        if not (os.path.isfile(hba) and os.access(hba, os.W_OK)):
            pytest.skip("the test server's pg_hba.conf is not editable here")
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(name), sql.Literal(password)))
        original = Path(hba).read_text("utf-8")
        line = HBA_LINE.format(role=name)
        with open(hba, "w", encoding="utf-8") as fh:
            fh.write(line + original)
        conn.execute("SELECT pg_reload_conf()")
        try:
            yield name
        finally:
            with open(hba, "w", encoding="utf-8") as fh:
                fh.write(original)
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
