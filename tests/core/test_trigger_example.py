"""Example payloads follow the real envelope: compare with what a trigger sends."""

from __future__ import annotations

import pytest

from pgwatch_gui.core.triggers import catalog
from pgwatch_gui.core.triggers.example import example_payload
from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.core.trigger_helpers import call, install, listen, received


@pytest.mark.parametrize("mode", ["keys", "row", "diff"])
def test_example_has_the_shape_of_the_real_payload(db, pg_dsn, mode):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, name text, at timestamptz, pw text)")
    spec = TriggerSpec("public", "t", channel="t", payload=mode, exclude=("pw",),
                       events=("insert", "update", "delete", "truncate"))
    install(pg_dsn, spec)
    listen(db, "t")
    db.execute("INSERT INTO t VALUES (1, 'a', now(), 'x')")
    db.execute("UPDATE t SET name = 'b'")
    db.execute("DELETE FROM t")
    db.execute("TRUNCATE t")
    real = [p for _, p in received(db, 4)]
    info = call(pg_dsn, catalog.table_info, "public", "t")
    for p, op in zip(real, ("INSERT", "UPDATE", "DELETE", "TRUNCATE"), strict=True):
        ex = example_payload(spec, info.columns, info.key, op)
        assert list(ex) == list(p)
        for part in ("row", "old"):
            if part in p:
                assert set(ex[part]) == set(p[part])
        assert "pw" not in str(ex)
